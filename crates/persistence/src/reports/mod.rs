//! Reports (SPEC §6), computed in SQL: every grouping and sum runs in the database over
//! the rows the caller's [`Scope`] admits; the domain's report rules turn the sums into
//! figures. One statement per figure set, written for both databases.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Statement, TryGetable, Value};
use sims_domain::Scope;
use sims_domain::order::OrderStatus;
use uuid::Uuid;

use crate::{PersistenceError, Result};

mod customers;
mod inventory;
mod pipeline;
mod receivables;
mod sales;
mod targets;

pub use customers::customers;
pub use inventory::inventory;
pub use pipeline::{forecast, funnel};
pub use receivables::{ReceivablesQuery, receivables};
pub use sales::{SalesQuery, sales};
pub use targets::targets;

/// Which rows of a report's `rows` to return: `limit` rows after the first `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowWindow {
    pub offset: u64,
    pub limit: u64,
}

impl RowWindow {
    /// Every row (CSV exports).
    pub const ALL: RowWindow = RowWindow {
        offset: 0,
        limit: u64::MAX / 4,
    };

    /// The rows of this window out of a list computed whole (zero-filled series).
    pub(crate) fn slice<T>(self, rows: Vec<T>) -> (Vec<T>, bool) {
        let total = rows.len() as u64;
        let rows: Vec<T> = rows
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect();
        let more = self.offset.saturating_add(rows.len() as u64) < total;
        (rows, more)
    }

    /// ` LIMIT … OFFSET …` for one more row than asked, so that `has_more` is known.
    fn sql(self, sql: &mut Sql) {
        sql.push(" LIMIT ")
            .bind(i64::try_from(self.limit.saturating_add(1)).unwrap_or(i64::MAX))
            .push(" OFFSET ")
            .bind(i64::try_from(self.offset).unwrap_or(i64::MAX));
    }

    /// Drops the extra row [`RowWindow::sql`] asked for; whether there was one.
    fn trim<T>(self, mut rows: Vec<T>) -> (Vec<T>, bool) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        (rows, more)
    }
}

/// A SQL text with its bound values, numbered as the backend wants them.
pub(crate) struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            text: String::with_capacity(512),
            values: vec![],
        }
    }

    pub(crate) fn pg(&self) -> bool {
        self.backend == DatabaseBackend::Postgres
    }

    /// Appends SQL text (never a value from a request: those are bound).
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends one of two texts, PostgreSQL's or SQLite's.
    pub(crate) fn either(&mut self, postgres: &str, sqlite: &str) -> &mut Self {
        let text = if self.pg() { postgres } else { sqlite };
        self.push(text)
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        if self.pg() {
            let n = self.values.len();
            self.text.push_str(&format!("${n}"));
        } else {
            self.text.push('?');
        }
        self
    }

    /// Appends `(v1, v2, …)`, or `(NULL)` for none (which matches nothing).
    pub(crate) fn list<V: Into<Value> + Clone>(&mut self, values: &[V]) -> &mut Self {
        if values.is_empty() {
            return self.push("(NULL)");
        }
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v.clone());
        }
        self.push(")")
    }

    /// The condition admitting the rows whose `owner` column `scope` covers; with
    /// `pool`, rows with no owner too.
    pub(crate) fn owned_by(&mut self, scope: &Scope, owner: &str, pool: bool) -> &mut Self {
        let pool_or = |sql: &mut Sql| {
            if pool {
                sql.push(owner).push(" IS NULL OR ");
            }
        };
        match scope {
            Scope::All => self.push("1 = 1"),
            Scope::Own(me) => {
                self.push("(");
                pool_or(self);
                self.push(owner).push(" = ").bind(*me).push(")")
            }
            Scope::Teams { user_id, team_ids } => {
                self.push("(");
                pool_or(self);
                self.push(owner).push(" = ").bind(*user_id);
                if !team_ids.is_empty() {
                    self.push(" OR ")
                        .push(owner)
                        .push(" IN (SELECT id FROM users WHERE team_id IN ")
                        .list(team_ids)
                        .push(")");
                }
                self.push(")")
            }
        }
    }

    /// `status IN (…)` for the orders reports count ([`OrderStatus::counts_in_reports`]).
    pub(crate) fn counted_orders(&mut self, status: &str) -> &mut Self {
        let names: Vec<String> = OrderStatus::ALL
            .iter()
            .filter(|s| s.counts_in_reports())
            .map(|s| s.as_str().to_owned())
            .collect();
        self.push(status).push(" IN ").list(&names)
    }

    /// A day's first instant, for comparing timestamps with a range of days.
    pub(crate) fn start_of(&mut self, day: NaiveDate) -> &mut Self {
        self.bind(start_of(day))
    }

    /// The text of a date column as `YYYY-MM-DD` (a date on PostgreSQL, text on SQLite).
    pub(crate) fn date_text(&mut self, column: &str) -> &mut Self {
        if self.pg() {
            self.push("to_char(").push(column).push(", 'YYYY-MM-DD')")
        } else {
            self.push(column)
        }
    }

    /// The period key expression of a `YYYY-MM-DD` text expression: the day itself, the
    /// Monday of its ISO week (turned into `2026-W45` by the caller), or `YYYY-MM`.
    pub(crate) fn period_of(&mut self, grain: sims_domain::report::Grain, day: &str) -> &mut Self {
        use sims_domain::report::Grain;
        match grain {
            Grain::Day => self.push(day),
            Grain::Month => self.push("substr(").push(day).push(", 1, 7)"),
            Grain::Week => {
                if self.pg() {
                    self.push("to_char(date_trunc('week', CAST(")
                        .push(day)
                        .push(" AS DATE)), 'YYYY-MM-DD')")
                } else {
                    self.push("date(")
                        .push(day)
                        .push(", '-' || ((CAST(strftime('%w', ")
                        .push(day)
                        .push(") AS INTEGER) + 6) % 7) || ' days')")
                }
            }
        }
    }

    pub(crate) fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text.clone(), self.values.clone())
    }

    pub(crate) async fn all<C: ConnectionTrait>(&self, conn: &C) -> Result<Vec<QueryResult>> {
        Ok(conn.query_all_raw(self.statement()).await?)
    }

    pub(crate) async fn one<C: ConnectionTrait>(&self, conn: &C) -> Result<QueryResult> {
        conn.query_one_raw(self.statement())
            .await?
            .ok_or_else(|| PersistenceError::Corrupt {
                table: "report",
                column: "aggregate",
                value: "no row".into(),
            })
    }
}

/// The first instant of `day`, UTC.
pub(crate) fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// The first instant after `day`.
pub(crate) fn end_of(day: NaiveDate) -> DateTime<Utc> {
    start_of(day + Duration::days(1))
}

/// A column of a report row, read by name.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T> {
    Ok(row.try_get::<T>("", column)?)
}

/// A `YYYY-MM-DD` column of a report row.
pub(crate) fn get_day(row: &QueryResult, column: &str) -> Result<NaiveDate> {
    let text: String = get(row, column)?;
    text.get(..10)
        .and_then(|d| d.parse().ok())
        .ok_or(PersistenceError::Corrupt {
            table: "report",
            column: "date",
            value: text,
        })
}

/// An id column of a report row.
pub(crate) fn get_id(row: &QueryResult, column: &str) -> Result<Option<Uuid>> {
    get(row, column)
}
