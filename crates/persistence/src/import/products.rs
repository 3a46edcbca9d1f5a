//! Importing products: a SKU may appear once in a file and must be new.

use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::catalog::Product;
use sims_domain::import::RowError;

use super::ImportTarget;
use crate::audit::{self, Change};
use crate::entities::products;
use crate::{Actor, Result, now, products as product_repo};

/// Products into the catalogue.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProductImport;

impl ImportTarget for ProductImport {
    type Row = Product;

    fn file_keys(&self, p: &Product) -> Vec<(u8, String)> {
        vec![(0, p.sku.clone())]
    }

    fn repeated(&self, line: u64, first: u64) -> RowError {
        let mut e = RowError::new(
            line,
            Some("sku"),
            "duplicate_in_file",
            format!("repeats the sku of line {first}"),
        );
        e.duplicate_of_line = Some(first);
        e
    }

    async fn check<C: ConnectionTrait>(
        &self,
        conn: &C,
        _actor: &Actor,
        batch: &[(u64, Product)],
    ) -> Result<Vec<RowError>> {
        let taken =
            product_repo::existing_skus(conn, batch.iter().map(|(_, p)| p.sku.clone()).collect())
                .await?;
        Ok(batch
            .iter()
            .filter(|(_, p)| taken.contains(&p.sku))
            .map(|(line, p)| {
                RowError::new(
                    *line,
                    Some("sku"),
                    "duplicate_sku",
                    format!("sku {} is already in use", p.sku),
                )
            })
            .collect())
    }

    async fn insert(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        batch: Vec<Product>,
    ) -> Result<u64> {
        let t = now();
        let n = batch.len() as u64;
        let mut rows = Vec::with_capacity(batch.len());
        let mut audits = Vec::with_capacity(batch.len());
        for p in &batch {
            let row = product_repo::new_row(p, t);
            let id = *row.id.as_ref();
            rows.push(row);
            audits.push(
                Change::of(AuditEntity::Product, id, AuditAction::Import)
                    .after(json!({"sku": p.sku, "name": p.name}))
                    .row(Some(actor), t),
            );
        }
        products::Entity::insert_many(rows).exec(tx).await?;
        audit::record_all(tx, audits).await?;
        Ok(n)
    }
}
