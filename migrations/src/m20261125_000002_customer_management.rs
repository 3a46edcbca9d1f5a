//! The customer pool (ownership history, reclaim cooldowns, settings, job leases),
//! follow-ups and leads.

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
                    .table("customer_events")
                    .col(pk_uuid("id"))
                    .col(uuid("customer_id"))
                    .col(text("kind"))
                    .col(uuid_null("from_owner_id"))
                    .col(uuid_null("to_owner_id"))
                    .col(uuid_null("actor_id"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(&mut fk(
                        "fk_customer_events_customer",
                        ("customer_events", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_customer_events_customer",
            "customer_events",
            &["customer_id", "at", "id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pool_cooldowns")
                    .col(uuid("customer_id"))
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("until"))
                    .primary_key(Index::create().col("customer_id").col("user_id"))
                    .foreign_key(&mut fk(
                        "fk_pool_cooldowns_customer",
                        ("pool_cooldowns", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("settings")
                    .col(text("key").primary_key())
                    .col(text("value"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("job_leases")
                    .col(text("name").primary_key())
                    .col(text("holder"))
                    .col(timestamp_with_time_zone("until"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("follow_ups")
                    .col(pk_uuid("id"))
                    .col(uuid("customer_id"))
                    .col(uuid_null("opportunity_id"))
                    .col(string_len("kind", 16))
                    .col(text("content"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(timestamp_with_time_zone_null("next_follow_up_at"))
                    .col(uuid("author_id"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_follow_ups_customer",
                        ("follow_ups", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_follow_ups_author",
                        ("follow_ups", "author_id"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_follow_ups_customer",
            "follow_ups",
            &["customer_id", "occurred_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_follow_ups_created",
            "follow_ups",
            &["created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_follow_ups_author",
            "follow_ups",
            &["author_id", "occurred_at"],
        )
        .await?;
        index(
            manager,
            "idx_customers_next_follow_up",
            "customers",
            &["owner_id", "next_follow_up_at"],
        )
        .await?;
        index(
            manager,
            "idx_customers_owner_since",
            "customers",
            &["owner_since"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("leads")
                    .col(pk_uuid("id"))
                    .col(text("name"))
                    .col(text("name_norm"))
                    .col(text_null("company"))
                    .col(text_null("phone"))
                    .col(text_null("phone_digits"))
                    .col(text_null("email"))
                    .col(text_null("email_norm"))
                    .col(text_null("source"))
                    .col(string_len("status", 16))
                    .col(uuid("owner_id"))
                    .col(uuid_null("customer_id"))
                    .col(uuid_null("contact_id"))
                    .col(uuid_null("opportunity_id"))
                    .col(timestamp_with_time_zone_null("converted_at"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_leads_owner",
                        ("leads", "owner_id"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_leads_customer",
                        ("leads", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_leads_contact",
                        ("leads", "contact_id"),
                        ("contacts", "id"),
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        index(manager, "idx_leads_created", "leads", &["created_at", "id"]).await?;
        index(manager, "idx_leads_updated", "leads", &["updated_at", "id"]).await?;
        index(
            manager,
            "idx_leads_owner",
            "leads",
            &["owner_id", "created_at", "id"],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "leads",
            "follow_ups",
            "job_leases",
            "settings",
            "pool_cooldowns",
            "customer_events",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        for idx in ["idx_customers_next_follow_up", "idx_customers_owner_since"] {
            manager
                .drop_index(Index::drop().name(idx).table("customers").to_owned())
                .await?;
        }
        Ok(())
    }
}
