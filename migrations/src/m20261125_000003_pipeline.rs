//! The sales pipeline: stages, opportunities and their stage history.

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
                    .table("pipeline_stages")
                    .col(pk_uuid("id"))
                    .col(text("name"))
                    .col(integer("position"))
                    .col(integer("probability"))
                    .col(string_len("kind", 8))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_pipeline_stages_position",
            "pipeline_stages",
            &["position", "id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("opportunities")
                    .col(pk_uuid("id"))
                    .col(uuid("customer_id"))
                    .col(text("name"))
                    .col(text("name_norm"))
                    // Money in minor units (分): exact on both databases, exact in SQL sums.
                    .col(big_integer("amount_minor"))
                    .col(string_len("currency", 3))
                    .col(uuid("stage_id"))
                    .col(string_len("status", 8))
                    .col(date_null("expected_close_date"))
                    .col(uuid("owner_id"))
                    .col(text_null("lost_reason"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_opportunities_customer",
                        ("opportunities", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_opportunities_stage",
                        ("opportunities", "stage_id"),
                        ("pipeline_stages", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_opportunities_owner",
                        ("opportunities", "owner_id"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_opportunities_created",
            "opportunities",
            &["created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_opportunities_updated",
            "opportunities",
            &["updated_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_opportunities_owner",
            "opportunities",
            &["owner_id", "created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_opportunities_customer",
            "opportunities",
            &["customer_id"],
        )
        .await?;
        index(
            manager,
            "idx_opportunities_stage",
            "opportunities",
            &["stage_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("opportunity_stage_changes")
                    .col(pk_uuid("id"))
                    .col(uuid("opportunity_id"))
                    .col(uuid("customer_id"))
                    .col(uuid_null("from_stage_id"))
                    .col(uuid("to_stage_id"))
                    .col(uuid("by_user_id"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(&mut fk(
                        "fk_stage_changes_opportunity",
                        ("opportunity_stage_changes", "opportunity_id"),
                        ("opportunities", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_stage_changes_opportunity",
            "opportunity_stage_changes",
            &["opportunity_id", "at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_stage_changes_customer",
            "opportunity_stage_changes",
            &["customer_id", "at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_follow_ups_opportunity",
            "follow_ups",
            &["opportunity_id", "occurred_at", "id"],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_follow_ups_opportunity")
                    .table("follow_ups")
                    .to_owned(),
            )
            .await?;
        for table in [
            "opportunity_stage_changes",
            "opportunities",
            "pipeline_stages",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
