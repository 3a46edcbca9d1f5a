//! Sales orders, their lines, payments and the monthly order-number counter.
//! Amounts are integer minor units (分).

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
                    .table("order_counters")
                    .col(string_len("month", 6).primary_key())
                    .col(big_integer("last"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("orders")
                    .col(pk_uuid("id"))
                    .col(text_uniq("number"))
                    .col(uuid("customer_id"))
                    .col(uuid_null("opportunity_id"))
                    .col(uuid("owner_id"))
                    .col(uuid("warehouse_id"))
                    .col(string_len("currency", 3))
                    .col(string_len("status", 20))
                    .col(big_integer("subtotal_minor"))
                    .col(big_integer("discount_minor"))
                    .col(big_integer("tax_minor"))
                    .col(big_integer("total_minor"))
                    .col(big_integer("paid_minor"))
                    .col(date("order_date"))
                    .col(timestamp_with_time_zone_null("confirmed_at"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_orders_customer",
                        ("orders", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_orders_owner",
                        ("orders", "owner_id"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_orders_warehouse",
                        ("orders", "warehouse_id"),
                        ("warehouses", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_orders_created",
            "orders",
            &["created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_orders_owner",
            "orders",
            &["owner_id", "created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_orders_customer",
            "orders",
            &["customer_id", "created_at"],
        )
        .await?;
        index(
            manager,
            "idx_orders_date",
            "orders",
            &["order_date", "status"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("order_lines")
                    .col(pk_uuid("id"))
                    .col(uuid("order_id"))
                    .col(integer("position"))
                    .col(uuid("product_id"))
                    .col(big_integer("quantity_milli"))
                    .col(big_integer("shipped_milli"))
                    .col(big_integer("unit_price_e4"))
                    .col(big_integer("discount_bp"))
                    .col(big_integer("tax_bp"))
                    .col(big_integer("gross_minor"))
                    .col(big_integer("discount_minor"))
                    .col(big_integer("net_minor"))
                    .col(big_integer("tax_minor"))
                    .col(big_integer("total_minor"))
                    .check(Expr::cust(
                        "shipped_milli >= 0 AND shipped_milli <= quantity_milli",
                    ))
                    .foreign_key(&mut fk(
                        "fk_order_lines_order",
                        ("order_lines", "order_id"),
                        ("orders", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_order_lines_product",
                        ("order_lines", "product_id"),
                        ("products", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_order_lines_order",
            "order_lines",
            &["order_id", "position"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("payments")
                    .col(pk_uuid("id"))
                    .col(uuid("order_id"))
                    .col(big_integer("amount_minor"))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(string_len("method", 16))
                    .col(text_null("reference"))
                    .col(uuid("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "fk_payments_order",
                        ("payments", "order_id"),
                        ("orders", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_payments_order",
            "payments",
            &["order_id", "received_at"],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["payments", "order_lines", "orders", "order_counters"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
