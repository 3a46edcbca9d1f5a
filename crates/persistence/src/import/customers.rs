//! Importing customers: repeats of a name, phone or email within the file or against
//! existing customers are refused unless duplicates are allowed; the importer owns them.

use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::customer::{Customer, DuplicateKeys, MAX_MATCHES};
use sims_domain::import::RowError;
use sims_domain::pool::OwnershipChange;
use uuid::Uuid;

use super::ImportTarget;
use crate::audit::{self, Change};
use crate::entities::{customer_events, customer_tags, customers};
use crate::reports::Sql;
use crate::{Actor, Result, crypto, now};

/// Every form a row's keys may be stored in (keyed hashes under each key when encrypted,
/// the values in clear): `(name, phones, emails)`.
fn stored_keys(c: &Customer) -> (Option<String>, Vec<String>, Vec<String>) {
    let DuplicateKeys { name, phone, email } = c.duplicate_keys();
    let forms = |v: Option<String>| v.map(|v| crypto::search_keys(&v)).unwrap_or_default();
    (name, forms(phone), forms(email))
}

/// Customers into the importer's own book.
#[derive(Debug, Clone, Copy)]
pub struct CustomerImport {
    /// Import rows that match existing customers or earlier rows anyway.
    pub allow_duplicate: bool,
}

/// Existing customers matching any of these normalised keys: `(id, name, phone, email)`
/// keys of each match, at most [`MAX_MATCHES`] per key. One query per key kind, each an
/// index lookup per key whatever the table's size or statistics: on PostgreSQL a join of
/// the keys to a lateral lookup (an `IN` list of 500 values on a column without fresh
/// statistics was planned as a scan of the whole table, so each import got slower than the
/// last); on SQLite an `IN` list, which it always answers from the index.
async fn matching_keys<C: ConnectionTrait>(
    conn: &C,
    names: Vec<String>,
    phones: Vec<String>,
    emails: Vec<String>,
) -> Result<Vec<(Uuid, String, Option<String>, Option<String>)>> {
    let mut out = Vec::new();
    for (column, values) in [
        ("name_norm", names),
        ("phone_norm", phones),
        ("email_norm", emails),
    ] {
        if values.is_empty() {
            continue;
        }
        let mut sql = Sql::new(conn.get_database_backend());
        if sql.pg() {
            sql.push("SELECT x.id, x.name_norm, x.phone_norm, x.email_norm FROM (VALUES ");
            for (i, v) in values.into_iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" }).bind(v).push(")");
            }
            sql.push(
                ") AS k(v) CROSS JOIN LATERAL (SELECT c.id, c.name_norm, c.phone_norm, c.email_norm \
                 FROM customers c WHERE c.",
            )
            .push(column)
            .push(" = k.v LIMIT ")
            .bind(MAX_MATCHES as i64)
            .push(") x");
        } else {
            sql.push(
                "SELECT c.id, c.name_norm, c.phone_norm, c.email_norm FROM customers c WHERE c.",
            )
            .push(column)
            .push(" IN ")
            .list(&values);
        }
        for row in sql.all(conn).await? {
            out.push((
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
                row.try_get_by_index(3)?,
            ));
        }
    }
    out.sort_by_key(|(id, ..)| *id);
    out.dedup_by_key(|(id, ..)| *id);
    Ok(out)
}

impl ImportTarget for CustomerImport {
    type Row = Customer;

    fn file_keys(&self, c: &Customer) -> Vec<(u8, String)> {
        if self.allow_duplicate {
            return vec![];
        }
        let k = c.duplicate_keys();
        [(0u8, k.name), (1, k.phone), (2, k.email)]
            .into_iter()
            .filter_map(|(kind, v)| v.map(|v| (kind, v)))
            .collect()
    }

    fn repeated(&self, line: u64, first: u64) -> RowError {
        let mut e = RowError::new(
            line,
            None,
            "duplicate_in_file",
            format!("repeats the name, phone or email of line {first}"),
        );
        e.duplicate_of_line = Some(first);
        e
    }

    async fn check<C: ConnectionTrait>(
        &self,
        conn: &C,
        _actor: &Actor,
        batch: &[(u64, Customer)],
    ) -> Result<Vec<RowError>> {
        if self.allow_duplicate {
            return Ok(vec![]);
        }
        let (mut names, mut phones, mut emails) = (vec![], vec![], vec![]);
        for (_, c) in batch {
            let (name, phone, email) = stored_keys(c);
            names.extend(name);
            phones.extend(phone);
            emails.extend(email);
        }
        let found = matching_keys(conn, names, phones, emails).await?;
        let mut problems = Vec::new();
        for (line, c) in batch {
            let (name, phone, email) = stored_keys(c);
            let ids: Vec<Uuid> = found
                .iter()
                .filter(|(_, n, p, e)| {
                    name.as_ref() == Some(n)
                        || p.as_ref().is_some_and(|p| phone.contains(p))
                        || e.as_ref().is_some_and(|e| email.contains(e))
                })
                .map(|(id, ..)| *id)
                .collect();
            if !ids.is_empty() {
                let mut e = RowError::new(
                    *line,
                    None,
                    "duplicate_customer",
                    "matches an existing customer's name, phone or email",
                );
                e.matches = Some(ids);
                problems.push(e);
            }
        }
        Ok(problems)
    }

    /// Inserts the batch owned by the importer, with tags, ownership events and audit
    /// entries, a few statements per batch.
    async fn insert(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        batch: Vec<Customer>,
    ) -> Result<u64> {
        let t = now();
        let owner = actor.principal.user_id;
        let mut rows = Vec::with_capacity(batch.len());
        let mut tags = Vec::new();
        let mut events = Vec::with_capacity(batch.len());
        let mut audits = Vec::with_capacity(batch.len());
        let mut outbox = Vec::with_capacity(batch.len());
        for c in &batch {
            let id = Uuid::now_v7();
            let row = crate::customers::new_row(id, c, Some(owner), owner, t);
            let created =
                crate::customers::record(sea_orm::TryIntoModel::try_into_model(row.clone())?)?;
            outbox.push(crate::webhooks::event_row(
                sims_domain::webhook::EventType::CustomerCreated,
                &created,
            )?);
            rows.push(row);
            tags.extend(c.tags.iter().map(|tag| customer_tags::ActiveModel {
                customer_id: sea_orm::Set(id),
                tag: sea_orm::Set(tag.clone()),
            }));
            events.push(crate::pool::event_row(
                id,
                OwnershipChange::Created,
                (None, Some(owner)),
                Some(owner),
                t,
            ));
            audits.push(
                Change::of(AuditEntity::Customer, id, AuditAction::Import)
                    .after({
                        // As the customer's own audit snapshot: the hash when encrypted.
                        let k = c.duplicate_keys();
                        let (phone, email) = if crypto::enabled() {
                            (crypto::search_key(k.phone), crypto::search_key(k.email))
                        } else {
                            (c.phone.clone(), c.email.clone())
                        };
                        json!({"name": c.name, "phone": phone, "email": email})
                    })
                    .row(Some(actor), t),
            );
        }
        let n = rows.len() as u64;
        customers::Entity::insert_many(rows).exec(tx).await?;
        for chunk in tags.chunks(1000) {
            customer_tags::Entity::insert_many(chunk.to_vec())
                .exec(tx)
                .await?;
        }
        customer_events::Entity::insert_many(events)
            .exec(tx)
            .await?;
        audit::record_all(tx, audits).await?;
        for chunk in outbox.chunks(500) {
            crate::entities::webhook_events::Entity::insert_many(chunk.to_vec())
                .exec(tx)
                .await?;
        }
        Ok(n)
    }
}
