//! `GET /reports/receivables`: counted orders not paid in full as of a day, each with its
//! due date (the first payment-plan instalment the payments do not cover, filled in date
//! order; else the order date plus the default terms), days past due and aging bucket.

use sea_orm::ConnectionTrait;
use sims_domain::report::{AgingBucket, AgingBuckets, Receivable, ReceivablesReport};
use sims_domain::{Money, Scope};

use super::{RowWindow, Sql, end_of, get, get_day};
use crate::Result;
use crate::records::stored;

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct ReceivablesQuery {
    pub as_of: chrono::NaiveDate,
    pub currency: String,
    /// Days after the order date that an order without a payment plan is due.
    pub default_terms_days: i64,
}

/// The common table expressions up to `aged`: the orders outstanding as of the day, each
/// with its due date, days past due and outstanding amount. Candidates are found from the
/// stored paid amount: an order with no payment after the day had paid as of the day what
/// it has paid now, so payments are summed (by the payments' order index) only for the
/// orders paid into later; each set is read once, never joined to itself. The sum is a
/// subquery per such order, not a join: joined, the planner guessed millions of rows
/// for every later step and spilled its hashes to disk.
fn aged(sql: &mut Sql, scope: &Scope, q: &ReceivablesQuery) {
    let pg = sql.pg();
    let end = end_of(q.as_of);
    sql.push("WITH later AS (SELECT DISTINCT p.order_id AS id FROM payments p WHERE p.received_at >= ")
        .bind(end)
        .push("), candidates AS (SELECT o.id AS id, o.number AS number, o.customer_id AS customer_id, o.total_minor AS total, o.paid_minor AS paid_now, o.order_date AS order_date, o.id IN (SELECT id FROM later) AS paid_later FROM orders o WHERE ")
        .counted_orders("o.status")
        .push(" AND o.currency = ")
        .bind(q.currency.clone())
        .push(" AND o.order_date <= ")
        .bind(q.as_of)
        .push(" AND ")
        .owned_by(scope, "o.owner_id", false)
        .push(" AND (o.total_minor > o.paid_minor OR o.id IN (SELECT id FROM later))), \
               open_orders AS (SELECT x.id AS id, x.number AS number, x.customer_id AS customer_id, \
               x.total AS total, x.paid AS paid, x.order_date AS order_date FROM (SELECT c.id AS id, \
               c.number AS number, c.customer_id AS customer_id, c.total AS total, \
               CAST(CASE WHEN c.paid_later THEN (SELECT COALESCE(SUM(p.amount_minor), 0) FROM payments p \
               WHERE p.order_id = c.id AND p.received_at < ")
        .bind(end)
        .push(") ELSE c.paid_now END AS BIGINT) AS paid, c.order_date AS order_date FROM candidates c) x \
               WHERE x.total > x.paid), \
               covered AS (SELECT i.order_id AS order_id, i.due_date AS due_date, oo.paid AS paid, \
               SUM(i.amount_minor) OVER (PARTITION BY i.order_id ORDER BY i.due_date, i.position ROWS UNBOUNDED PRECEDING) AS upto \
               FROM payment_plan_instalments i JOIN open_orders oo ON oo.id = i.order_id), \
               due AS (SELECT c.order_id AS order_id, MIN(c.due_date) AS due_date FROM covered c \
               WHERE c.upto > c.paid GROUP BY c.order_id), \
               dated AS (SELECT oo.id AS id, oo.number AS number, oo.customer_id AS customer_id, \
               oo.total AS total, oo.paid AS paid, ");
    if pg {
        sql.push("COALESCE(due.due_date, oo.order_date + CAST(")
            .bind(q.default_terms_days)
            .push(" AS INTEGER)) AS due_date");
    } else {
        sql.push("COALESCE(due.due_date, date(oo.order_date, '+' || ")
            .bind(q.default_terms_days)
            .push(" || ' days')) AS due_date");
    }
    sql.push(" FROM open_orders oo LEFT JOIN due ON due.order_id = oo.id), aged AS (SELECT d.*, ");
    if pg {
        sql.push("GREATEST(0, CAST(")
            .bind(q.as_of)
            .push(" AS DATE) - d.due_date) AS days_past_due");
    } else {
        sql.push("MAX(0, CAST(julianday(")
            .bind(q.as_of.to_string())
            .push(") - julianday(d.due_date) AS INTEGER)) AS days_past_due");
    }
    sql.push(" FROM dated d)");
}

/// `CASE` naming the bucket of `days_past_due`.
const BUCKET: &str = "CASE WHEN a.days_past_due <= 0 THEN 'current' \
    WHEN a.days_past_due <= 30 THEN 'days_1_30' WHEN a.days_past_due <= 60 THEN 'days_31_60' \
    WHEN a.days_past_due <= 90 THEN 'days_61_90' ELSE 'days_over_90' END";

/// The receivables report; whether rows continue past `window`.
pub async fn receivables<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    q: &ReceivablesQuery,
    window: RowWindow,
) -> Result<(ReceivablesReport, bool)> {
    // One statement: the page of rows and the bucket sums over everything.
    let mut sql = Sql::new(conn.get_database_backend());
    aged(&mut sql, scope, q);
    // The window is cut before the rows are numbered, so that the database keeps only the
    // top rows while it sorts (a numbered sort reads and spills every row).
    sql.push(", page AS (SELECT ROW_NUMBER() OVER (ORDER BY l.days_past_due DESC, l.number, l.id) AS seq, l.* FROM (SELECT a.* FROM aged a ORDER BY a.days_past_due DESC, a.number, a.id");
    window.sql(&mut sql);
    sql.push(") l) SELECT 'row' AS kind, CAST(p.seq AS BIGINT) AS seq, p.id AS order_id, p.number AS number, p.customer_id AS customer_id, c.name AS customer_name, p.total AS total, p.paid AS paid, ")
        .date_text("p.due_date")
        .push(" AS due_date, CAST(p.days_past_due AS BIGINT) AS days_past_due, NULL AS bucket FROM page p JOIN customers c ON c.id = p.customer_id UNION ALL SELECT 'bucket', NULL, NULL, NULL, NULL, NULL, NULL, CAST(SUM(a.total - a.paid) AS BIGINT), NULL, NULL, ")
        .push(BUCKET)
        .push(" FROM aged a GROUP BY ")
        .push(BUCKET);
    let mut buckets = AgingBuckets::default();
    let mut total = 0i64;
    let mut rows = vec![];
    for r in sql.all(conn).await? {
        if get::<String>(&r, "kind")? == "bucket" {
            let bucket: AgingBucket = stored("report", "bucket", &get::<String>(&r, "bucket")?)?;
            let amount: i64 = get(&r, "paid")?;
            total = total.saturating_add(amount);
            buckets.add(bucket, Money::from_minor(amount));
            continue;
        }
        let (total, paid): (i64, i64) = (get(&r, "total")?, get(&r, "paid")?);
        let days: i64 = get(&r, "days_past_due")?;
        let seq: i64 = get(&r, "seq")?;
        rows.push((
            seq,
            Receivable {
                order_id: get(&r, "order_id")?,
                number: get(&r, "number")?,
                customer_id: get(&r, "customer_id")?,
                customer_name: get(&r, "customer_name")?,
                total: Money::from_minor(total),
                paid: Money::from_minor(paid),
                outstanding: Money::from_minor(total - paid),
                due_date: get_day(&r, "due_date")?,
                days_past_due: days,
                bucket: AgingBucket::of(days),
            },
        ));
    }
    rows.sort_by_key(|(seq, _)| *seq);
    let rows: Vec<Receivable> = rows.into_iter().map(|(_, r)| r).collect();
    let (rows, more) = window.trim(rows);
    Ok((
        ReceivablesReport {
            as_of: q.as_of,
            currency: q.currency.clone(),
            total_outstanding: Money::from_minor(total),
            buckets,
            rows,
            next_cursor: None,
        },
        more,
    ))
}
