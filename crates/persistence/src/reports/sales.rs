//! `GET /reports/sales`: revenue (Σ subtotal of counted orders, dated by `order_date`) by
//! period, owner, team, product or customer, with the totals and the previous period.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use sims_domain::Scope;
use sims_domain::report::{
    Period, PreviousSales, SalesFigures, SalesGroup, SalesReport, SalesRow, week_key,
};
use uuid::Uuid;

use super::{RowWindow, Sql, get, get_day, get_id};
use crate::Result;

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct SalesQuery {
    pub period: Period,
    pub currency: String,
    pub group_by: SalesGroup,
}

/// `WHERE` of the counted orders `o` of `period` in `currency` that `scope` covers.
fn counted_in(sql: &mut Sql, scope: &Scope, period: Period, currency: &str) {
    sql.push(" WHERE ").counted_orders("o.status").push(" AND ");
    dated_in(sql, scope, period, currency, "o");
}

/// The conditions on `alias`'s `currency`, `order_date` and `owner_id`.
fn dated_in(sql: &mut Sql, scope: &Scope, period: Period, currency: &str, alias: &str) {
    sql.push(alias)
        .push(".currency = ")
        .bind(currency.to_owned())
        .push(" AND ")
        .push(alias)
        .push(".order_date >= ")
        .bind(period.from)
        .push(" AND ")
        .push(alias)
        .push(".order_date <= ")
        .bind(period.to)
        .push(" AND ")
        .owned_by(scope, &format!("{alias}.owner_id"), false);
}

/// Revenue and order count of the counted orders of `period` and of `before` (the period
/// just before it), read in one pass over both.
async fn figures<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    before: Period,
    currency: &str,
) -> Result<(SalesFigures, SalesFigures)> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT CAST(COALESCE(SUM(CASE WHEN o.order_date >= ")
        .bind(period.from)
        .push(
            " THEN o.subtotal_minor END), 0) AS BIGINT) AS revenue, \
               COUNT(CASE WHEN o.order_date >= ",
        )
        .bind(period.from)
        .push(
            " THEN 1 END) AS orders, \
               CAST(COALESCE(SUM(CASE WHEN o.order_date < ",
        )
        .bind(period.from)
        .push(
            " THEN o.subtotal_minor END), 0) AS BIGINT) AS previous_revenue, \
               COUNT(CASE WHEN o.order_date < ",
        )
        .bind(period.from)
        .push(" THEN 1 END) AS previous_orders FROM orders o");
    counted_in(
        &mut sql,
        scope,
        Period {
            from: before.from,
            to: period.to,
        },
        currency,
    );
    let row = sql.one(conn).await?;
    Ok((
        SalesFigures::of(get(&row, "revenue")?, get(&row, "orders")?),
        SalesFigures::of(
            get(&row, "previous_revenue")?,
            get(&row, "previous_orders")?,
        ),
    ))
}

/// Revenue and order count of a group of orders.
const ORDER_MEASURES: &str =
    "CAST(COALESCE(SUM(o.subtotal_minor), 0) AS BIGINT) AS revenue, COUNT(*) AS orders";

/// Revenue (Σ net of its lines) and order count of a product, from `product_sales`
/// (one row per counted order and product).
const PRODUCT_MEASURES: &str =
    "CAST(COALESCE(SUM(s.net_minor), 0) AS BIGINT) AS revenue, COUNT(*) AS orders";

fn row_of(key: Option<String>, label: Option<String>, revenue: i64, orders: i64) -> SalesRow {
    let f = SalesFigures::of(revenue, orders);
    SalesRow {
        key,
        label,
        revenue: f.revenue,
        orders: f.orders,
        average_order_value: f.average_order_value,
    }
}

/// The sales report; whether rows continue past `window`.
pub async fn sales<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    query: &SalesQuery,
    window: RowWindow,
) -> Result<(SalesReport, bool)> {
    let (period, currency) = (query.period, query.currency.as_str());
    let (rows, more) = match query.group_by.grain() {
        Some(grain) => {
            let mut sql = Sql::new(conn.get_database_backend());
            sql.push("SELECT ");
            let day = if sql.pg() {
                "to_char(o.order_date, 'YYYY-MM-DD')"
            } else {
                "o.order_date"
            };
            sql.period_of(grain, day).push(
                " AS period, CAST(COALESCE(SUM(o.subtotal_minor), 0) AS BIGINT) AS revenue, \
                 COUNT(*) AS orders FROM orders o",
            );
            counted_in(&mut sql, scope, period, currency);
            sql.push(" GROUP BY 1");
            let mut found: HashMap<String, (i64, i64)> = HashMap::new();
            for r in sql.all(conn).await? {
                let key = match grain {
                    sims_domain::report::Grain::Week => week_key(get_day(&r, "period")?),
                    _ => get::<String>(&r, "period")?,
                };
                found.insert(key, (get(&r, "revenue")?, get(&r, "orders")?));
            }
            let series: Vec<SalesRow> = grain
                .keys(period)
                .into_iter()
                .map(|k| {
                    let (revenue, orders) = found.get(&k).copied().unwrap_or((0, 0));
                    row_of(Some(k.clone()), Some(k), revenue, orders)
                })
                .collect();
            window.slice(series)
        }
        None => {
            // Grouped and paged on the orders (or lines) alone; names are joined for the
            // page's rows only.
            let mut sql = Sql::new(conn.get_database_backend());
            let (key, measures, from, label) = match query.group_by {
                SalesGroup::Owner => (
                    "o.owner_id",
                    ORDER_MEASURES,
                    " FROM orders o",
                    " LEFT JOIN users n ON n.id = g.id",
                ),
                SalesGroup::Team => (
                    "u.team_id",
                    ORDER_MEASURES,
                    " FROM orders o JOIN users u ON u.id = o.owner_id",
                    " LEFT JOIN teams n ON n.id = g.id",
                ),
                SalesGroup::Product => (
                    "s.product_id",
                    PRODUCT_MEASURES,
                    " FROM product_sales s",
                    " LEFT JOIN products n ON n.id = g.id",
                ),
                _ => (
                    "o.customer_id",
                    ORDER_MEASURES,
                    " FROM orders o",
                    " LEFT JOIN customers n ON n.id = g.id",
                ),
            };
            sql.push("WITH g AS (SELECT ")
                .push(key)
                .push(" AS id, ")
                .push(measures)
                .push(from);
            if query.group_by == SalesGroup::Product {
                // Only counted orders have rows there.
                sql.push(" WHERE ");
                dated_in(&mut sql, scope, period, currency, "s");
            } else {
                counted_in(&mut sql, scope, period, currency);
            }
            sql.push(" GROUP BY 1 ORDER BY revenue DESC, 1");
            window.sql(&mut sql);
            sql.push(") SELECT g.id AS id, n.name AS label, g.revenue AS revenue, g.orders AS orders FROM g")
                .push(label)
                .push(" ORDER BY g.revenue DESC, g.id");
            let mut rows = vec![];
            for r in sql.all(conn).await? {
                let id: Option<Uuid> = get_id(&r, "id")?;
                rows.push(row_of(
                    id.map(|i| i.to_string()),
                    get(&r, "label")?,
                    get(&r, "revenue")?,
                    get(&r, "orders")?,
                ));
            }
            window.trim(rows)
        }
    };
    let before = period.previous();
    let (totals, prev) = figures(conn, scope, period, before, currency).await?;
    Ok((
        SalesReport {
            from: period.from,
            to: period.to,
            currency: currency.to_owned(),
            group_by: query.group_by,
            rows,
            totals,
            previous: PreviousSales {
                from: before.from,
                to: before.to,
                revenue: prev.revenue,
                orders: prev.orders,
                average_order_value: prev.average_order_value,
            },
            next_cursor: None,
        },
        more,
    ))
}
