//! Field encryption over the stored data ([`crate::crypto`] seals one value): the
//! start-up check that every sealed value's key is at hand, and `sims encrypt-existing` /
//! `sims rotate-key`, which bring every phone and email (and every stored copy: audit
//! entries, outbox events, idempotent answers) under the current key.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use sims_domain::customer::duplicate_keys;
use sims_domain::values::{normalize_phone_digits, phone_digits};
use uuid::Uuid;

use crate::crypto::{self, SEALED};
use crate::entities::{audit_log, contacts, customers, idempotency_keys, webhook_events};
use crate::records::{opened, opened_json};
use crate::{Database, PersistenceError, Result};

/// The sealed columns.
const SEALED_COLUMNS: [(&str, &str); 4] = [
    ("customers", "phone"),
    ("customers", "email"),
    ("contacts", "phone"),
    ("contacts", "email"),
];

/// Refuses to serve a database whose sealed values this process cannot open: a key that
/// is missing or wrong is a start-up error, never garbage in answers.
pub async fn check_keys(db: &Database) -> std::result::Result<(), String> {
    let conn = db.conn();
    let known = crypto::known_key_ids();
    for (table, column) in SEALED_COLUMNS {
        // Key ids are the 8 characters after the prefix.
        let sql = format!(
            "SELECT DISTINCT substr({column}, {start}, 8) AS k FROM {table} WHERE {column} LIKE '{SEALED}%'",
            start = SEALED.len() + 1
        );
        let rows = conn
            .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .map_err(|e| e.to_string())?;
        for row in rows {
            let id: String = row.try_get("", "k").map_err(|e| e.to_string())?;
            if known.is_empty() {
                return Err(format!(
                    "{table}.{column} holds values encrypted under key {id}: set SIMS_ENCRYPTION__KEY to that key"
                ));
            }
            if !known.contains(&id.as_str()) {
                return Err(format!(
                    "{table}.{column} holds values encrypted under key {id}, which is neither SIMS_ENCRYPTION__KEY (key {}) nor one of SIMS_ENCRYPTION__OLD_KEYS: set the key they were written with",
                    crypto::current_key_id().unwrap_or("?")
                ));
            }
        }
    }
    Ok(())
}

/// What a re-encryption changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    pub customers: u64,
    pub contacts: u64,
    /// Audit entries, outbox events and stored idempotent answers.
    pub copies: u64,
}

const BATCH: u64 = 500;

/// The column still holds what was read.
fn unchanged<C: ColumnTrait>(column: C, read: Option<&str>) -> sea_orm::sea_query::SimpleExpr {
    match read {
        Some(v) => column.eq(v),
        None => column.is_null(),
    }
}

/// Whether a stored phone or email is not yet sealed under the current key.
fn stale(stored: Option<&str>) -> bool {
    stored.is_some_and(|s| crypto::key_id_of(s) != crypto::current_key_id())
}

/// Seals every customer's and contact's phone and email under the current key (values in
/// clear and values under old keys alike), with their search hashes, and every stored
/// copy; the records' versions do not change (what a client reads is the same). Batches
/// commit as they go: an interrupted run is finished by running it again. A row a server
/// changed since it was read is left as that server wrote it (a server with the key
/// seals what it writes), never overwritten with the older values.
pub async fn reseal(db: &Database) -> Result<Resealed> {
    if !crypto::enabled() {
        return Err(PersistenceError::Conflict(
            "SIMS_ENCRYPTION__KEY is not set: there is no key to encrypt under".into(),
        ));
    }
    let mut done = Resealed::default();
    let mut after = Uuid::nil();
    loop {
        let rows = customers::Entity::find()
            .filter(customers::Column::Id.gt(after))
            .order_by_asc(customers::Column::Id)
            .limit(BATCH)
            .all(db.conn())
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let todo: Vec<customers::Model> = rows
            .into_iter()
            .filter(|m| stale(m.phone.as_deref()) || stale(m.email.as_deref()))
            .collect();
        done.customers += db
            .write(async |tx| {
                let mut n = 0;
                for m in &todo {
                    let phone = opened("customers", "phone", m.phone.as_deref())?;
                    let email = opened("customers", "email", m.email.as_deref())?;
                    let keys = duplicate_keys(None, phone.as_deref(), email.as_deref());
                    n += customers::Entity::update_many()
                        .col_expr(
                            customers::Column::Phone,
                            crypto::seal(phone.as_deref()).into(),
                        )
                        .col_expr(
                            customers::Column::PhoneDigits,
                            Option::<String>::None.into(),
                        )
                        .col_expr(
                            customers::Column::PhoneNorm,
                            crypto::search_key(keys.phone).into(),
                        )
                        .col_expr(
                            customers::Column::Email,
                            crypto::seal(email.as_deref()).into(),
                        )
                        .col_expr(
                            customers::Column::EmailNorm,
                            crypto::search_key(keys.email).into(),
                        )
                        .filter(customers::Column::Id.eq(m.id))
                        .filter(unchanged(customers::Column::Phone, m.phone.as_deref()))
                        .filter(unchanged(customers::Column::Email, m.email.as_deref()))
                        .exec(tx)
                        .await?
                        .rows_affected;
                }
                Ok(n)
            })
            .await?;
    }
    let mut after = Uuid::nil();
    loop {
        let rows = contacts::Entity::find()
            .filter(contacts::Column::Id.gt(after))
            .order_by_asc(contacts::Column::Id)
            .limit(BATCH)
            .all(db.conn())
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let todo: Vec<contacts::Model> = rows
            .into_iter()
            .filter(|m| stale(m.phone.as_deref()) || stale(m.email.as_deref()))
            .collect();
        done.contacts += db
            .write(async |tx| {
                let mut n = 0;
                for m in &todo {
                    let phone = opened("contacts", "phone", m.phone.as_deref())?;
                    let email = opened("contacts", "email", m.email.as_deref())?;
                    let digits = phone
                        .as_deref()
                        .map(|p| normalize_phone_digits(&phone_digits(p)));
                    n += contacts::Entity::update_many()
                        .col_expr(
                            contacts::Column::Phone,
                            crypto::seal(phone.as_deref()).into(),
                        )
                        .col_expr(
                            contacts::Column::PhoneDigits,
                            crypto::search_key(digits).into(),
                        )
                        .col_expr(
                            contacts::Column::Email,
                            crypto::seal(email.as_deref()).into(),
                        )
                        .col_expr(
                            contacts::Column::EmailNorm,
                            crypto::search_key(email.map(|e| e.to_lowercase())).into(),
                        )
                        .filter(contacts::Column::Id.eq(m.id))
                        .filter(unchanged(contacts::Column::Phone, m.phone.as_deref()))
                        .filter(unchanged(contacts::Column::Email, m.email.as_deref()))
                        .exec(tx)
                        .await?
                        .rows_affected;
                }
                Ok(n)
            })
            .await?;
    }
    done.copies += reseal_audit(db).await?;
    done.copies += reseal_events(db).await?;
    done.copies += reseal_answers(db).await?;
    Ok(done)
}

/// JSON text with every phone and email sealed under the current key, when that changes it.
fn resealed(table: &'static str, column: &'static str, text: &str) -> Result<Option<String>> {
    if !crypto::json_text_is_stale(text) {
        return Ok(None);
    }
    let open = opened_json(table, column, text)?;
    Ok(Some(crypto::seal_json_text(&open)))
}

async fn reseal_audit(db: &Database) -> Result<u64> {
    let mut n = 0;
    let mut after = Uuid::nil();
    loop {
        let rows: Vec<(Uuid, String)> = audit_log::Entity::find()
            .select_only()
            .column(audit_log::Column::Id)
            .column(audit_log::Column::Changes)
            .filter(audit_log::Column::Id.gt(after))
            .order_by_asc(audit_log::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(db.conn())
            .await?;
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        let mut todo = Vec::new();
        for (id, changes) in rows {
            if let Some(sealed) = resealed("audit_log", "changes", &changes)? {
                todo.push((id, sealed));
            }
        }
        n += todo.len() as u64;
        db.write(async |tx| {
            for (id, changes) in &todo {
                audit_log::Entity::update_many()
                    .col_expr(audit_log::Column::Changes, changes.clone().into())
                    .filter(audit_log::Column::Id.eq(*id))
                    .exec(tx)
                    .await?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(n)
}

async fn reseal_events(db: &Database) -> Result<u64> {
    let rows: Vec<(Uuid, String)> = webhook_events::Entity::find()
        .select_only()
        .column(webhook_events::Column::Id)
        .column(webhook_events::Column::Body)
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut todo = Vec::new();
    for (id, body) in rows {
        if let Some(sealed) = resealed("webhook_events", "body", &body)? {
            todo.push((id, sealed));
        }
    }
    db.write(async |tx| {
        for (id, body) in &todo {
            webhook_events::Entity::update_many()
                .col_expr(webhook_events::Column::Body, body.clone().into())
                .filter(webhook_events::Column::Id.eq(*id))
                .exec(tx)
                .await?;
        }
        Ok(())
    })
    .await?;
    Ok(todo.len() as u64)
}

async fn reseal_answers(db: &Database) -> Result<u64> {
    let rows = idempotency_keys::Entity::find().all(db.conn()).await?;
    let mut todo = Vec::new();
    for m in rows {
        if let Some(body) = m.body.as_deref()
            && let Some(sealed) = resealed("idempotency_keys", "body", body)?
        {
            todo.push((m.caller_id, m.key, sealed));
        }
    }
    db.write(async |tx| {
        for (caller, key, body) in &todo {
            idempotency_keys::Entity::update_many()
                .col_expr(idempotency_keys::Column::Body, Some(body.clone()).into())
                .filter(idempotency_keys::Column::CallerId.eq(*caller))
                .filter(idempotency_keys::Column::Key.eq(key.clone()))
                .exec(tx)
                .await?;
        }
        Ok(())
    })
    .await?;
    Ok(todo.len() as u64)
}
