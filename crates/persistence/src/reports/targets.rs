//! `GET /reports/targets`: each target of the month in the caller's scope against the
//! revenue of the user's orders, or of the orders of everyone in the team's subtree.

use sea_orm::ConnectionTrait;
use sims_domain::report::{TargetRow, TargetsReport, money_rate};
use sims_domain::target::Month;
use sims_domain::{Money, Scope};

use super::{RowWindow, Sql, get};
use crate::Result;

/// The target condition of a scope (see `targets::in_scope`), for `t`.
fn targets_in(sql: &mut Sql, scope: &Scope) {
    match scope {
        Scope::All => {
            sql.push("1 = 1");
        }
        Scope::Own(me) => {
            sql.push("t.user_id = ").bind(*me);
        }
        Scope::Teams { user_id, team_ids } => {
            sql.push("(t.user_id = ")
                .bind(*user_id)
                .push(" OR t.user_id IN (SELECT id FROM users WHERE team_id IN ")
                .list(team_ids)
                .push(") OR t.team_id IN ")
                .list(team_ids)
                .push(")");
        }
    }
}

/// The targets report of `month` in `currency`; whether rows continue past `window`.
pub async fn targets<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    month: Month,
    currency: &str,
    window: RowWindow,
) -> Result<(TargetsReport, bool)> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(
        "WITH RECURSIVE subtree(root, team_id) AS (SELECT id, id FROM teams \
         UNION ALL SELECT s.root, c.id FROM teams c JOIN subtree s ON c.parent_id = s.team_id), \
         sold AS (SELECT o.owner_id AS owner_id, CAST(SUM(o.subtotal_minor) AS BIGINT) AS revenue \
         FROM orders o WHERE ",
    )
    .counted_orders("o.status")
    .push(" AND o.currency = ")
    .bind(currency.to_owned())
    .push(" AND o.order_date >= ")
    .bind(month.first_day())
    .push(" AND o.order_date <= ")
    .bind(month.last_day())
    .push(
        " GROUP BY o.owner_id) \
         SELECT t.user_id AS user_id, t.team_id AS team_id, COALESCE(u.name, tm.name) AS name, \
         t.amount_minor AS target, CAST(CASE WHEN t.user_id IS NOT NULL \
         THEN COALESCE((SELECT SUM(s.revenue) FROM sold s WHERE s.owner_id = t.user_id), 0) \
         ELSE COALESCE((SELECT SUM(s.revenue) FROM subtree st JOIN users m ON m.team_id = st.team_id \
         JOIN sold s ON s.owner_id = m.id WHERE st.root = t.team_id), 0) END AS BIGINT) AS actual \
         FROM targets t LEFT JOIN users u ON u.id = t.user_id LEFT JOIN teams tm ON tm.id = t.team_id \
         WHERE t.month = ",
    )
    .bind(month.to_string())
    .push(" AND t.currency = ")
    .bind(currency.to_owned())
    .push(" AND ");
    targets_in(&mut sql, scope);
    sql.push(" ORDER BY name, t.id");
    window.sql(&mut sql);
    let mut rows = vec![];
    for r in sql.all(conn).await? {
        let target = Money::from_minor(get(&r, "target")?);
        let actual = Money::from_minor(get(&r, "actual")?);
        rows.push(TargetRow {
            user_id: get(&r, "user_id")?,
            team_id: get(&r, "team_id")?,
            name: get(&r, "name")?,
            target,
            actual,
            attainment: money_rate(actual, target),
        });
    }
    let (rows, more) = window.trim(rows);
    Ok((
        TargetsReport {
            month: month.to_string(),
            currency: currency.to_owned(),
            rows,
            next_cursor: None,
        },
        more,
    ))
}
