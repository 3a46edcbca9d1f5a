//! Webhooks: subscriptions, the outbox of events (written in the transaction of the change
//! each reports) and one delivery per event and subscription, with its attempts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::schema_helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhooks")
                    .col(pk_uuid("id"))
                    .col(text("url"))
                    // JSON array of event types, or `["*"]`.
                    .col(text("events"))
                    .col(text_null("description"))
                    .col(text("secret"))
                    .col(boolean("active"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_webhooks_created",
            "webhooks",
            &["created_at", "id"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(pk_uuid("id"))
                    .col(string_len("event_type", 40))
                    .col(timestamp_with_time_zone("occurred_at"))
                    // The JSON event body as delivered.
                    .col(text("body"))
                    // Whether its deliveries exist yet (the dispatcher fans events out).
                    .col(boolean("fanned_out"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_events_pending",
            "webhook_events",
            &["fanned_out", "occurred_at"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(pk_uuid("id"))
                    .col(uuid("webhook_id"))
                    .col(uuid("event_id"))
                    .col(string_len("event_type", 40))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(integer_null("last_status_code"))
                    .col(big_integer_null("last_latency_ms"))
                    .col(timestamp_with_time_zone_null("last_attempt_at"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    // A dispatcher's claim: no other takes it before this passes.
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone("event_occurred_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "fk_webhook_deliveries_webhook",
                        ("webhook_deliveries", "webhook_id"),
                        ("webhooks", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_webhook_deliveries_event",
                        ("webhook_deliveries", "event_id"),
                        ("webhook_events", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_deliveries_due",
            "webhook_deliveries",
            &["status", "next_attempt_at"],
        )
        .await?;
        index(
            manager,
            "idx_webhook_deliveries_webhook",
            "webhook_deliveries",
            &["webhook_id", "created_at", "id"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["webhook_deliveries", "webhook_events", "webhooks"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
