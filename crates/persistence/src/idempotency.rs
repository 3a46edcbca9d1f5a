//! `Idempotency-Key`: the same key and body within 24 hours gets the first answer again
//! and writes nothing; the same key with another body is refused. The key's record is
//! written in the transaction of the write it guards, so that a crash leaves neither or
//! both, and it is kept in the database, so it holds across restarts and instances.

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use crate::entities::idempotency_keys;
use crate::{Database, PersistenceError, Result, now};

/// How long a key is remembered.
pub const TTL_HOURS: i64 = 24;

/// A key a caller sent with a request, and the hash of what it asked for (path and body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub caller: Uuid,
    pub key: String,
    pub request_hash: String,
}

/// The answer to a write, as sent and as stored for a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
}

/// The answer to send, and whether it is a replay of an earlier request's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub answer: Answer,
    pub replayed: bool,
}

/// What a stored key says about a new request with it.
enum Prior {
    /// None, or expired: the request runs.
    None,
    /// The same request: its answer.
    Answered(Answer),
}

/// Deletes the keys older than [`TTL_HOURS`] (their requests may run again), and returns
/// how many.
pub async fn purge_expired<C: ConnectionTrait>(conn: &C) -> Result<u64> {
    Ok(idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::CreatedAt.lt(now() - Duration::hours(TTL_HOURS)))
        .exec(conn)
        .await?
        .rows_affected)
}

async fn prior<C: ConnectionTrait>(tx: &C, key: &IdempotencyKey) -> Result<Prior> {
    let Some(row) = idempotency_keys::Entity::find_by_id((key.caller, key.key.clone()))
        .one(tx)
        .await?
    else {
        return Ok(Prior::None);
    };
    if row.created_at + Duration::hours(TTL_HOURS) <= now() {
        idempotency_keys::Entity::delete_by_id((key.caller, key.key.clone()))
            .exec(tx)
            .await?;
        return Ok(Prior::None);
    }
    if row.request_hash != key.request_hash {
        return Err(PersistenceError::KeyReused);
    }
    match (row.status, row.body) {
        (Some(status), Some(body)) => Ok(Prior::Answered(Answer {
            status: u16::try_from(status).map_err(|_| PersistenceError::Corrupt {
                table: "idempotency_keys",
                column: "status",
                value: status.to_string(),
            })?,
            body: crate::records::opened_json("idempotency_keys", "body", &body)?,
            location: row.location,
            etag: row.etag,
        })),
        // Written in the same transaction as its answer: never seen without it.
        _ => Err(PersistenceError::Corrupt {
            table: "idempotency_keys",
            column: "body",
            value: "null".into(),
        }),
    }
}

impl Database {
    /// Runs `work` in a write transaction and answers it with `render`, at most once per
    /// idempotency key: a key seen with the same request answers its stored answer and
    /// runs nothing; with another request it is [`PersistenceError::KeyReused`]. The key
    /// is claimed before `work` runs, so that a concurrent request with it waits, then
    /// replays; it is stored with its answer in the same transaction as the write.
    pub async fn write_once<T>(
        &self,
        key: Option<&IdempotencyKey>,
        mut work: impl AsyncFnMut(&DatabaseTransaction) -> Result<T>,
        render: impl Fn(&T) -> Result<Answer>,
    ) -> Result<Answered> {
        self.write(async |tx| {
            if let Some(k) = key {
                if let Prior::Answered(answer) = prior(tx, k).await? {
                    return Ok(Answered {
                        answer,
                        replayed: true,
                    });
                }
                claim(tx, k).await?;
            }
            let done = work(tx).await?;
            let answer = render(&done)?;
            if let Some(k) = key {
                store(tx, k, &answer).await?;
            }
            Ok(Answered {
                answer,
                replayed: false,
            })
        })
        .await
    }
}

/// Inserts the key without an answer. A second request with the key, in flight at the
/// same time, blocks on it (PostgreSQL) or queues behind the write lock (SQLite), then
/// finds the answer when its transaction runs again.
async fn claim<C: ConnectionTrait>(tx: &C, k: &IdempotencyKey) -> Result<()> {
    idempotency_keys::ActiveModel {
        caller_id: Set(k.caller),
        key: Set(k.key.clone()),
        request_hash: Set(k.request_hash.clone()),
        status: Set(None),
        body: Set(None),
        location: Set(None),
        etag: Set(None),
        created_at: Set(now()),
    }
    .insert(tx)
    .await?;
    Ok(())
}

async fn store<C: ConnectionTrait>(tx: &C, k: &IdempotencyKey, a: &Answer) -> Result<()> {
    idempotency_keys::ActiveModel {
        caller_id: Set(k.caller),
        key: Set(k.key.clone()),
        status: Set(Some(i32::from(a.status))),
        // Kept with phones and emails sealed when encrypted.
        body: Set(Some(crate::crypto::seal_json_text(&a.body))),
        location: Set(a.location.clone()),
        etag: Set(a.etag.clone()),
        ..Default::default()
    }
    .update(tx)
    .await?;
    Ok(())
}
