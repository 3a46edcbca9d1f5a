//! `Idempotency-Key`: the same key and body within 24 hours gets the first response
//! again and creates nothing; the same key with another body is refused. Kept in the
//! database, so it holds across restarts and instances.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::idempotency_keys;
use crate::{Database, Result, now};

/// How long a key is remembered.
pub const TTL_HOURS: i64 = 24;

/// What to do with a keyed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time: run it, then [`complete`] (or [`abandon`] on failure).
    Run,
    /// Seen with the same body: send this response again.
    Replay {
        status: u16,
        body: String,
        location: Option<String>,
        etag: Option<String>,
    },
    /// Seen with another body.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Claims `key` for `caller` and a request whose body hashes to `hash`.
pub async fn claim(db: &Database, caller: Uuid, key: &str, hash: &str) -> Result<Claim> {
    let tx = db.begin_write().await?;
    let current = idempotency_keys::Entity::find_by_id((caller, key.to_owned()))
        .one(&tx)
        .await?;
    let fresh = |at: chrono::DateTime<chrono::Utc>| at + Duration::hours(TTL_HOURS) > now();
    let outcome = match current {
        Some(row) if fresh(row.created_at) => {
            if row.request_hash != hash {
                Claim::Mismatch
            } else {
                match (row.status, row.body) {
                    (Some(status), Some(body)) => Claim::Replay {
                        status: u16::try_from(status).unwrap_or(200),
                        body,
                        location: row.location,
                        etag: row.etag,
                    },
                    _ => Claim::InProgress,
                }
            }
        }
        stale => {
            if stale.is_some() {
                idempotency_keys::Entity::delete_by_id((caller, key.to_owned()))
                    .exec(&tx)
                    .await?;
            }
            let inserted = idempotency_keys::ActiveModel {
                caller_id: Set(caller),
                key: Set(key.to_owned()),
                request_hash: Set(hash.to_owned()),
                status: Set(None),
                body: Set(None),
                location: Set(None),
                etag: Set(None),
                created_at: Set(now()),
            }
            .insert(&tx)
            .await;
            match inserted {
                Ok(_) => Claim::Run,
                // Another request took the key a moment ago.
                Err(_) => Claim::InProgress,
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Stores the response of a claimed key.
pub async fn complete(
    db: &Database,
    caller: Uuid,
    key: &str,
    status: u16,
    body: String,
    location: Option<String>,
    etag: Option<String>,
) -> Result<()> {
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::Status,
            sea_orm::sea_query::Expr::val(i32::from(status)),
        )
        .col_expr(
            idempotency_keys::Column::Body,
            sea_orm::sea_query::Expr::val(body),
        )
        .col_expr(
            idempotency_keys::Column::Location,
            sea_orm::sea_query::Expr::val(location),
        )
        .col_expr(
            idempotency_keys::Column::Etag,
            sea_orm::sea_query::Expr::val(etag),
        )
        .filter(idempotency_keys::Column::CallerId.eq(caller))
        .filter(idempotency_keys::Column::Key.eq(key))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Forgets a claimed key whose request failed, so that the client may retry with it.
pub async fn abandon(db: &Database, caller: Uuid, key: &str) -> Result<()> {
    idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::CallerId.eq(caller))
        .filter(idempotency_keys::Column::Key.eq(key))
        .filter(idempotency_keys::Column::Status.is_null())
        .exec(db.conn())
        .await?;
    Ok(())
}
