//! `GET /reports/funnel` and `GET /reports/forecast`: open opportunities by stage and by
//! expected month, weighted by their stage's probability (rounded once per figure), and
//! what was won and lost in a period.

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;
use sims_domain::Money;
use sims_domain::Scope;
use sims_domain::report::{
    ForecastMonth, ForecastReport, FunnelReport, FunnelStage, Period, PipelineFigures,
    average_days, rate, weighted,
};

use super::{Sql, end_of, get};
use crate::Result;

/// Counts, amounts and Σ amount × probability, added up exactly.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    count: i64,
    amount: i64,
    amount_times_probability: i128,
}

impl Sums {
    fn add(&mut self, count: i64, amount: i64, probability: i32) {
        self.count += count;
        self.amount = self.amount.saturating_add(amount);
        self.amount_times_probability += i128::from(amount) * i128::from(probability);
    }

    fn figures(self) -> PipelineFigures {
        PipelineFigures {
            count: self.count,
            amount: Money::from_minor(self.amount),
            weighted_amount: weighted(self.amount_times_probability),
        }
    }
}

/// `AND` the open opportunities `o` in `currency` that `scope` covers.
fn open_in(sql: &mut Sql, scope: &Scope, currency: &str) {
    sql.push(" AND o.status = 'open' AND o.currency = ")
        .bind(currency.to_owned())
        .push(" AND ")
        .owned_by(scope, "o.owner_id", false);
}

/// The funnel of `period`.
pub async fn funnel<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    currency: &str,
) -> Result<FunnelReport> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(
        "SELECT s.id AS stage_id, s.name AS name, s.position AS position, \
         s.probability AS probability, COUNT(o.id) AS count, \
         CAST(COALESCE(SUM(o.amount_minor), 0) AS BIGINT) AS amount \
         FROM pipeline_stages s LEFT JOIN opportunities o ON o.stage_id = s.id",
    );
    open_in(&mut sql, scope, currency);
    sql.push(
        " WHERE s.kind = 'open' GROUP BY s.id, s.name, s.position, s.probability \
         ORDER BY s.position, s.id",
    );
    let mut open = Sums::default();
    let mut stages = vec![];
    for r in sql.all(conn).await? {
        let (count, amount, probability) = (
            get::<i64>(&r, "count")?,
            get::<i64>(&r, "amount")?,
            get::<i32>(&r, "probability")?,
        );
        let mut stage = Sums::default();
        stage.add(count, amount, probability);
        open.add(count, amount, probability);
        let f = stage.figures();
        stages.push(FunnelStage {
            stage_id: get(&r, "stage_id")?,
            name: get(&r, "name")?,
            position: get(&r, "position")?,
            count: f.count,
            amount: f.amount,
            weighted_amount: f.weighted_amount,
        });
    }

    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT o.status AS status, COUNT(*) AS count, CAST(COALESCE(SUM(")
        .either(
            "FLOOR(EXTRACT(EPOCH FROM o.closed_at)) - FLOOR(EXTRACT(EPOCH FROM o.created_at))",
            "CAST(strftime('%s', o.closed_at) AS INTEGER) - CAST(strftime('%s', o.created_at) AS INTEGER)",
        )
        .push("), 0) AS BIGINT) AS seconds FROM opportunities o WHERE o.status IN ('won', 'lost')")
        .push(" AND o.currency = ")
        .bind(currency.to_owned())
        .push(" AND o.closed_at >= ")
        .start_of(period.from)
        .push(" AND o.closed_at < ")
        .bind(end_of(period.to))
        .push(" AND ")
        .owned_by(scope, "o.owner_id", false)
        .push(" GROUP BY o.status");
    let (mut won, mut lost, mut won_seconds) = (0, 0, 0);
    for r in sql.all(conn).await? {
        match get::<String>(&r, "status")?.as_str() {
            "won" => {
                won = get(&r, "count")?;
                won_seconds = get(&r, "seconds")?;
            }
            _ => lost = get(&r, "count")?,
        }
    }
    Ok(FunnelReport {
        from: period.from,
        to: period.to,
        currency: currency.to_owned(),
        stages,
        open: open.figures(),
        won,
        lost,
        win_rate: rate(won, won + lost),
        average_days_to_win: average_days(won_seconds, won),
    })
}

/// The forecast of `period`: open opportunities by the month they are expected to close.
pub async fn forecast<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    currency: &str,
) -> Result<ForecastReport> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT ")
        .either(
            "to_char(o.expected_close_date, 'YYYY-MM')",
            "substr(o.expected_close_date, 1, 7)",
        )
        .push(
            " AS month, s.probability AS probability, COUNT(*) AS count, \
             CAST(COALESCE(SUM(o.amount_minor), 0) AS BIGINT) AS amount \
             FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id WHERE 1 = 1",
        );
    open_in(&mut sql, scope, currency);
    sql.push(" AND (o.expected_close_date IS NULL OR (o.expected_close_date >= ")
        .bind(period.from)
        .push(" AND o.expected_close_date <= ")
        .bind(period.to)
        .push(")) GROUP BY 1, 2");
    let mut months: BTreeMap<String, Sums> = period
        .months()
        .into_iter()
        .map(|m| (m.to_string(), Sums::default()))
        .collect();
    let mut undated = Sums::default();
    for r in sql.all(conn).await? {
        let (count, amount, probability) = (
            get::<i64>(&r, "count")?,
            get::<i64>(&r, "amount")?,
            get::<i32>(&r, "probability")?,
        );
        match get::<Option<String>>(&r, "month")? {
            Some(m) => months.entry(m).or_default().add(count, amount, probability),
            None => undated.add(count, amount, probability),
        }
    }
    Ok(ForecastReport {
        from: period.from,
        to: period.to,
        currency: currency.to_owned(),
        months: months
            .into_iter()
            .map(|(month, sums)| {
                let f = sums.figures();
                ForecastMonth {
                    month,
                    count: f.count,
                    amount: f.amount,
                    weighted_amount: f.weighted_amount,
                }
            })
            .collect(),
        undated: undated.figures(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_summed_exactly_then_rounded_once() {
        let mut s = Sums::default();
        // 10.01 at 50% three times, in two groups: 15.015 → 15.02.
        s.add(2, 2002, 50);
        s.add(1, 1001, 50);
        let f = s.figures();
        assert_eq!((f.count, f.amount.to_string()), (3, "30.03".into()));
        assert_eq!(f.weighted_amount.to_string(), "15.02");
    }
}
