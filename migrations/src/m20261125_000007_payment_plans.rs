//! Payment plans: dated instalments of an order, for the receivables report.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("payment_plan_instalments")
                    .col(pk_uuid("id"))
                    .col(uuid("order_id"))
                    .col(integer("position"))
                    .col(date("due_date"))
                    .col(big_integer("amount_minor"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_instalments_order")
                            .from("payment_plan_instalments", "order_id")
                            .to("orders", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_instalments_order")
                    .table("payment_plan_instalments")
                    .col("order_id")
                    .col("position")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_instalments_due")
                    .table("payment_plan_instalments")
                    .col("due_date")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("payment_plan_instalments").take())
            .await
    }
}
