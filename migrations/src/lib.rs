//! The SIMS schema, one migration per change. Applied at start-up and by `sims migrate`.
//! A migration that has landed is never edited; a change is a new file.

pub use sea_orm_migration::prelude::*;

mod schema_helpers;

mod m20261125_000001_foundation;
mod m20261125_000002_customer_management;
mod m20261125_000003_pipeline;
mod m20261125_000004_stock;
mod m20261125_000005_orders;
mod m20261125_000006_idempotency;
mod m20261125_000007_payment_plans;
mod m20261201_000008_api_keys;
mod m20261201_000009_sessions;
mod m20261201_000010_targets_and_reports;
mod m20261202_000011_product_sales;
mod m20261202_000012_principal_notices;
mod m20261202_000013_deletions;
mod m20261202_000014_webhooks;
mod m20261207_000015_payments_by_date;
mod m20261208_000016_pool_by_date;

/// Every migration, in the order it is applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_customer_management::Migration),
            Box::new(m20261125_000003_pipeline::Migration),
            Box::new(m20261125_000004_stock::Migration),
            Box::new(m20261125_000005_orders::Migration),
            Box::new(m20261125_000006_idempotency::Migration),
            Box::new(m20261125_000007_payment_plans::Migration),
            Box::new(m20261201_000008_api_keys::Migration),
            Box::new(m20261201_000009_sessions::Migration),
            Box::new(m20261201_000010_targets_and_reports::Migration),
            Box::new(m20261202_000011_product_sales::Migration),
            Box::new(m20261202_000012_principal_notices::Migration),
            Box::new(m20261202_000013_deletions::Migration),
            Box::new(m20261202_000014_webhooks::Migration),
            Box::new(m20261207_000015_payments_by_date::Migration),
            Box::new(m20261208_000016_pool_by_date::Migration),
        ]
    }
}
