//! `GET /reports/inventory`: every stock level with its product, whether it is low, and
//! the units shipped in the period (the same for every role: stock has no owner).

use sea_orm::ConnectionTrait;
use sims_domain::catalog::Quantity;
use sims_domain::report::{InventoryRow, Period};
use uuid::Uuid;

use super::{RowWindow, Sql, end_of, get};
use crate::Result;

/// The inventory rows of `period`, in `warehouse` or all; whether rows continue past `window`.
pub async fn inventory<C: ConnectionTrait>(
    conn: &C,
    period: Period,
    warehouse: Option<Uuid>,
    window: RowWindow,
) -> Result<(Vec<InventoryRow>, bool)> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(
        "WITH shipped AS (SELECT m.product_id AS product_id, m.warehouse_id AS warehouse_id, \
         CAST(-SUM(m.on_hand_delta_milli) AS BIGINT) AS units FROM stock_movements m \
         WHERE m.kind = 'shipment' AND m.at >= ",
    )
    .start_of(period.from)
    .push(" AND m.at < ")
    .bind(end_of(period.to))
    .push(
        " GROUP BY m.product_id, m.warehouse_id) \
         SELECT l.product_id AS product_id, p.sku AS sku, p.name AS name, \
         l.warehouse_id AS warehouse_id, l.on_hand_milli AS on_hand, l.reserved_milli AS reserved, \
         p.reorder_point_milli AS reorder_point, COALESCE(s.units, 0) AS units_shipped \
         FROM stock_levels l JOIN products p ON p.id = l.product_id \
         LEFT JOIN shipped s ON s.product_id = l.product_id AND s.warehouse_id = l.warehouse_id",
    );
    if let Some(w) = warehouse {
        sql.push(" WHERE l.warehouse_id = ").bind(w);
    }
    sql.push(" ORDER BY p.sku, l.warehouse_id");
    window.sql(&mut sql);
    let mut rows = vec![];
    for r in sql.all(conn).await? {
        let on_hand: i64 = get(&r, "on_hand")?;
        let reserved: i64 = get(&r, "reserved")?;
        let available = on_hand - reserved;
        let reorder_point: Option<i64> = get(&r, "reorder_point")?;
        rows.push(InventoryRow {
            product_id: get(&r, "product_id")?,
            sku: get(&r, "sku")?,
            name: get(&r, "name")?,
            warehouse_id: get(&r, "warehouse_id")?,
            on_hand: Quantity(on_hand),
            reserved: Quantity(reserved),
            available: Quantity(available),
            reorder_point: reorder_point.map(Quantity),
            low: reorder_point.is_some_and(|p| available <= p),
            units_shipped: Quantity(get(&r, "units_shipped")?),
        });
    }
    Ok(window.trim(rows))
}
