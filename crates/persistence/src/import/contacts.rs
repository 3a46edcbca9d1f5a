//! Importing contacts onto customers the importer may change.

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use sims_domain::customer::Contact;
use sims_domain::import::RowError;
use uuid::Uuid;

use super::ImportTarget;
use crate::{Actor, Result, contacts, customers};

/// Contacts, each naming its customer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactImport;

impl ImportTarget for ContactImport {
    type Row = (Uuid, Contact);

    fn file_keys(&self, _: &Self::Row) -> Vec<(u8, String)> {
        vec![]
    }

    fn repeated(&self, line: u64, first: u64) -> RowError {
        RowError::new(
            line,
            None,
            "duplicate_in_file",
            format!("repeats line {first}"),
        )
    }

    async fn check<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        batch: &[(u64, Self::Row)],
    ) -> Result<Vec<RowError>> {
        let ids: Vec<Uuid> = batch.iter().map(|(_, (c, _))| *c).collect();
        let allowed = contacts::writable_customers(conn, actor, ids).await?;
        Ok(batch
            .iter()
            .filter(|(_, (customer, _))| !allowed.contains(customer))
            .map(|(line, _)| {
                RowError::new(
                    *line,
                    Some("customer_id"),
                    "not_found",
                    "no such customer that you may change",
                )
            })
            .collect())
    }

    /// A primary contact un-marks its customer's previous primary, row by row.
    async fn insert(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        rows: Vec<Self::Row>,
    ) -> Result<u64> {
        let mut n = 0;
        for (customer_id, contact) in rows {
            customers::lock_writable(tx, actor, customer_id, None).await?;
            contacts::create_in(tx, actor, customer_id, &contact).await?;
            n += 1;
        }
        Ok(n)
    }
}
