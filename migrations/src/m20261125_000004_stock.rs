//! Products, warehouses, stock levels and the stock ledger. Quantities are integer
//! thousandths, prices integer ten-thousandths, tax rates basis points.

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
                    .table("products")
                    .col(pk_uuid("id"))
                    .col(text_uniq("sku"))
                    .col(text("name"))
                    .col(text("name_norm"))
                    .col(text("unit"))
                    .col(text_null("category"))
                    .col(big_integer("list_price_e4"))
                    .col(big_integer_null("cost_e4"))
                    .col(big_integer("tax_rate_bp"))
                    .col(big_integer_null("reorder_point_milli"))
                    .col(boolean("active"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_products_created",
            "products",
            &["created_at", "id"],
        )
        .await?;
        index(manager, "idx_products_name", "products", &["name", "id"]).await?;

        manager
            .create_table(
                Table::create()
                    .table("warehouses")
                    .col(pk_uuid("id"))
                    .col(text_uniq("code"))
                    .col(text("name"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("stock_levels")
                    .col(uuid("product_id"))
                    .col(uuid("warehouse_id"))
                    .col(big_integer("on_hand_milli"))
                    .col(big_integer("reserved_milli"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("product_id").col("warehouse_id"))
                    // The invariants hold whatever the application does.
                    .check(Expr::cust(
                        "reserved_milli >= 0 AND on_hand_milli - reserved_milli >= 0",
                    ))
                    .foreign_key(&mut fk(
                        "fk_stock_levels_product",
                        ("stock_levels", "product_id"),
                        ("products", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_stock_levels_warehouse",
                        ("stock_levels", "warehouse_id"),
                        ("warehouses", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_stock_levels_warehouse",
            "stock_levels",
            &["warehouse_id", "product_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("stock_movements")
                    .col(pk_uuid("id"))
                    .col(uuid("product_id"))
                    .col(uuid("warehouse_id"))
                    .col(string_len("kind", 16))
                    // Signed change of on-hand stock (reservations and releases change 0 here).
                    .col(big_integer("on_hand_delta_milli"))
                    .col(big_integer("reserved_delta_milli"))
                    .col(text_null("reference"))
                    .col(text_null("reason"))
                    .col(uuid_null("order_id"))
                    .col(uuid("created_by"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(&mut fk(
                        "fk_stock_movements_product",
                        ("stock_movements", "product_id"),
                        ("products", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_stock_movements_warehouse",
                        ("stock_movements", "warehouse_id"),
                        ("warehouses", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_stock_movements_at",
            "stock_movements",
            &["at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_stock_movements_product",
            "stock_movements",
            &["product_id", "warehouse_id", "at"],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["stock_movements", "stock_levels", "warehouses", "products"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
