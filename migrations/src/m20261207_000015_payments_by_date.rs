//! Payments by the day they were received. The receivables report asks which orders were
//! paid into after its `as_of` day (usually none): without this index every report read
//! every payment to find out (at the standard profile, about a tenth of the report's time).

use sea_orm_migration::prelude::*;

use crate::schema_helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            "idx_payments_received",
            "payments",
            &["received_at"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_payments_received")
                    .table("payments")
                    .to_owned(),
            )
            .await
    }
}
