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
    sql.push(" WHERE ")
        .counted_orders("o.status")
        .push(" AND o.currency = ")
        .bind(currency.to_owned())
        .push(" AND o.order_date >= ")
        .bind(period.from)
        .push(" AND o.order_date <= ")
        .bind(period.to)
        .push(" AND ")
        .owned_by(scope, "o.owner_id", false);
}

/// Revenue and order count of the counted orders of `period`.
async fn figures<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    currency: &str,
) -> Result<SalesFigures> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(
        "SELECT CAST(COALESCE(SUM(o.subtotal_minor), 0) AS BIGINT) AS revenue, \
         COUNT(*) AS orders FROM orders o",
    );
    counted_in(&mut sql, scope, period, currency);
    let row = sql.one(conn).await?;
    Ok(SalesFigures::of(
        get(&row, "revenue")?,
        get(&row, "orders")?,
    ))
}

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
            let mut sql = Sql::new(conn.get_database_backend());
            let (select, from) = match query.group_by {
                SalesGroup::Owner => (
                    "o.owner_id AS id, u.name AS label, \
                     CAST(COALESCE(SUM(o.subtotal_minor), 0) AS BIGINT) AS revenue, COUNT(*) AS orders",
                    " FROM orders o JOIN users u ON u.id = o.owner_id",
                ),
                SalesGroup::Team => (
                    "u.team_id AS id, t.name AS label, \
                     CAST(COALESCE(SUM(o.subtotal_minor), 0) AS BIGINT) AS revenue, COUNT(*) AS orders",
                    " FROM orders o JOIN users u ON u.id = o.owner_id \
                     LEFT JOIN teams t ON t.id = u.team_id",
                ),
                SalesGroup::Product => (
                    "l.product_id AS id, p.name AS label, \
                     CAST(COALESCE(SUM(l.net_minor), 0) AS BIGINT) AS revenue, \
                     COUNT(DISTINCT o.id) AS orders",
                    " FROM order_lines l JOIN orders o ON o.id = l.order_id \
                     JOIN products p ON p.id = l.product_id",
                ),
                _ => (
                    "o.customer_id AS id, c.name AS label, \
                     CAST(COALESCE(SUM(o.subtotal_minor), 0) AS BIGINT) AS revenue, COUNT(*) AS orders",
                    " FROM orders o JOIN customers c ON c.id = o.customer_id",
                ),
            };
            sql.push("SELECT ").push(select).push(from);
            counted_in(&mut sql, scope, period, currency);
            sql.push(" GROUP BY 1, 2 ORDER BY revenue DESC, 1");
            window.sql(&mut sql);
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
    let totals = figures(conn, scope, period, currency).await?;
    let before = period.previous();
    let prev = figures(conn, scope, before, currency).await?;
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
