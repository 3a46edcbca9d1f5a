//! Tombstones for mobile sync: one row for every deleted customer, contact, follow-up,
//! lead, opportunity or order (and every customer merged into another), so that a client
//! that mirrors its records learns which to drop (`GET /deletions`). Kept
//! `sync.tombstone_days`, then purged.

use sea_orm_migration::{prelude::*, schema::*};

use crate::schema_helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("deletions")
                    // The deleted record's own id: ids are never reused.
                    .col(uuid("id").primary_key())
                    .col(string_len("entity", 16))
                    .col(timestamp_with_time_zone("deleted_at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_deletions_deleted",
            "deletions",
            &["deleted_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_deletions_entity",
            "deletions",
            &["entity", "deleted_at", "id"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("deletions").take())
            .await
    }
}
