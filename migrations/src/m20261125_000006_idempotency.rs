//! Idempotency keys: the first response to a keyed create, replayed for 24 hours.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(uuid("caller_id"))
                    .col(text("key"))
                    .col(text("request_hash"))
                    .col(integer_null("status"))
                    .col(text_null("body"))
                    .col(text_null("location"))
                    .col(text_null("etag"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("caller_id").col("key"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_created")
                    .table("idempotency_keys")
                    .col("created_at")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("idempotency_keys").take())
            .await
    }
}
