//! Monthly revenue targets per user or team (one per month and subject), and the indexes
//! the reports read by: orders by owner and date, opportunities by status and their
//! close or expected-close dates, shipments by time.

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
                    .table("targets")
                    .col(pk_uuid("id"))
                    // `YYYY-MM`: sorts and compares like the month it names.
                    .col(text("month"))
                    .col(uuid_null("user_id"))
                    .col(uuid_null("team_id"))
                    .col(big_integer("amount_minor"))
                    .col(text("currency"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_targets_user",
                        ("targets", "user_id"),
                        ("users", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_targets_team",
                        ("targets", "team_id"),
                        ("teams", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_targets_created_by",
                        ("targets", "created_by"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        // One target per month and user, and per month and team, whatever the concurrency
        // (NULLs are distinct, so a team's target never collides with a user's).
        manager
            .create_index(
                Index::create()
                    .name("uq_targets_user_month")
                    .table("targets")
                    .col("user_id")
                    .col("month")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_targets_team_month")
                    .table("targets")
                    .col("team_id")
                    .col("month")
                    .unique()
                    .take(),
            )
            .await?;
        index(manager, "idx_targets_month", "targets", &["month", "id"]).await?;
        index(
            manager,
            "idx_orders_owner_date",
            "orders",
            &["owner_id", "order_date"],
        )
        .await?;
        index(
            manager,
            "idx_opportunities_status_closed",
            "opportunities",
            &["status", "closed_at"],
        )
        .await?;
        index(
            manager,
            "idx_opportunities_status_close_date",
            "opportunities",
            &["status", "expected_close_date"],
        )
        .await?;
        index(
            manager,
            "idx_stock_movements_kind_at",
            "stock_movements",
            &["kind", "at"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_stock_movements_kind_at", "stock_movements"),
            ("idx_opportunities_status_close_date", "opportunities"),
            ("idx_opportunities_status_closed", "opportunities"),
            ("idx_orders_owner_date", "orders"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table("targets").take())
            .await
    }
}
