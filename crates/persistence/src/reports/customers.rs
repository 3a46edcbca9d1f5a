//! `GET /reports/customers`: customers created per period that the caller may see now
//! (the pool included), and how many owned customers have gone without a follow-up.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait;
use sims_domain::Scope;
use sims_domain::report::{
    CustomersReport, Grain, IdleCustomers, NewCustomersRow, Period, week_key,
};

use super::{RowWindow, Sql, end_of, get, get_day};
use crate::Result;

/// The customers report; whether rows continue past `window`.
pub async fn customers<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    grain: Grain,
    idle_days: i64,
    window: RowWindow,
) -> Result<(CustomersReport, bool)> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    let day = if sql.pg() {
        "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    } else {
        "substr(c.created_at, 1, 10)"
    };
    sql.push("SELECT ")
        .period_of(grain, day)
        .push(" AS period, COUNT(*) AS count FROM customers c WHERE c.created_at >= ")
        .start_of(period.from)
        .push(" AND c.created_at < ")
        .bind(end_of(period.to))
        .push(" AND ")
        .owned_by(scope, "c.owner_id", true)
        .push(" GROUP BY 1");
    let mut found: HashMap<String, i64> = HashMap::new();
    for r in sql.all(conn).await? {
        let key = match grain {
            Grain::Week => week_key(get_day(&r, "period")?),
            _ => get::<String>(&r, "period")?,
        };
        found.insert(key, get(&r, "count")?);
    }
    let series: Vec<NewCustomersRow> = grain
        .keys(period)
        .into_iter()
        .map(|key| NewCustomersRow {
            new_customers: found.get(&key).copied().unwrap_or(0),
            key,
        })
        .collect();
    let total_new = found.values().sum();
    let (rows, more) = window.slice(series);

    let mut sql = Sql::new(backend);
    sql.push("SELECT COUNT(*) AS count FROM customers c WHERE c.owner_id IS NOT NULL AND COALESCE(c.last_follow_up_at, c.created_at) < ")
        .bind(Utc::now() - Duration::days(idle_days))
        .push(" AND ")
        .owned_by(scope, "c.owner_id", false);
    let idle = get(&sql.one(conn).await?, "count")?;
    Ok((
        CustomersReport {
            from: period.from,
            to: period.to,
            group_by: grain,
            rows,
            total_new,
            idle: IdleCustomers {
                days: idle_days,
                count: idle,
            },
            next_cursor: None,
        },
        more,
    ))
}
