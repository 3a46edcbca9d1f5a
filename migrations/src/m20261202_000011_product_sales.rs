//! What the sales report by product reads: one row per counted order and product, with the
//! order's date, owner and currency and the net of the order's lines of that product.
//! Written when an order starts to count (confirmed) and removed when it stops
//! (cancelled), so that the report sums one narrow table by date instead of joining every
//! line to its order (at the standard profile: 560 ms → under 100 ms for a year).

use sea_orm_migration::{prelude::*, schema::*};

use crate::schema_helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The orders that count in reports (confirmed and later; never drafts or cancelled).
const COUNTED: &str = "('confirmed', 'partially_shipped', 'shipped', 'completed')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("product_sales")
                    .col(uuid("order_id"))
                    .col(uuid("product_id"))
                    .col(date("order_date"))
                    .col(uuid("owner_id"))
                    .col(string_len("currency", 3))
                    .col(big_integer("net_minor"))
                    .primary_key(Index::create().col("order_id").col("product_id"))
                    .foreign_key(&mut fk(
                        "fk_product_sales_order",
                        ("product_sales", "order_id"),
                        ("orders", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_product_sales_date",
            "product_sales",
            &[
                "order_date",
                "currency",
                "owner_id",
                "product_id",
                "net_minor",
            ],
        )
        .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO product_sales (order_id, product_id, order_date, owner_id, currency, net_minor) \
                 SELECT o.id, l.product_id, o.order_date, o.owner_id, o.currency, SUM(l.net_minor) \
                 FROM orders o JOIN order_lines l ON l.order_id = o.id \
                 WHERE o.status IN {COUNTED} \
                 GROUP BY o.id, l.product_id, o.order_date, o.owner_id, o.currency"
            ))
            .await?;
        // Statistics now, or the first reports are planned as if the table were empty.
        manager
            .get_connection()
            .execute_unprepared("ANALYZE product_sales")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("product_sales").take())
            .await
    }
}
