//! Reports (SPEC §6): sales, funnel, forecast, targets, receivables, inventory and
//! customers, each within the caller's scope, computed by the database, in JSON or — with
//! `Accept: text/csv` — as CSV of their rows. Long `rows` continue with `after`.

use actix_web::http::header::ACCEPT;
use actix_web::{HttpRequest, HttpResponse, get};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sims_domain::FieldViolation;
use sims_domain::import::spreadsheet_safe;
use sims_domain::pipeline::parse_currency;
use sims_domain::report::{
    self, CustomersReport, ForecastReport, FunnelReport, Grain, InventoryReport, Period,
    ReceivablesReport, SalesGroup, SalesReport, TargetsReport,
};
use sims_domain::target::Month;
use sims_persistence::reports::{self as reporting, ReceivablesQuery, RowWindow, SalesQuery};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Query;
use crate::responses::{Authenticated, WithQuery};
use crate::routes::Routes;
use crate::routes::targets::query_month;

/// The days of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (`YYYY-MM-DD`), default the first of this month (UTC).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive, default today; at most five years after `from`.
    pub to: Option<NaiveDate>,
    /// ISO 4217, default `CNY`: only records in it are counted and summed.
    pub currency: Option<String>,
}

/// How many rows, and from where.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// Rows per page (1–1,000, default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
}

/// The sales report's grouping.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesGrouping {
    /// Default `month`.
    pub group_by: Option<SalesGroup>,
}

/// The customers report's grouping and idle threshold.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomersGrouping {
    /// Default `month`.
    pub group_by: Option<Grain>,
    /// Days without a follow-up that make an owned customer idle (1–3,650, default 30).
    #[param(minimum = 1, maximum = 3650)]
    pub idle_days: Option<i64>,
}

/// The targets report's month.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`, default this month.
    pub month: Option<String>,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
}

/// The receivables report's day.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The day to age against (default today, UTC); later payments do not count.
    pub as_of: Option<NaiveDate>,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
}

/// The inventory report's warehouse.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarehouseQuery {
    pub warehouse_id: Option<Uuid>,
}

fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::fields(
        ErrorCode::InvalidParameter,
        vec![FieldViolation::new(field, code, message)],
    )
}

fn currency(sent: Option<&str>) -> ApiResult<String> {
    parse_currency("currency", sent.unwrap_or("CNY"))
        .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Whether the client asked for CSV.
fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/csv"))
}

/// A cursor into a report's rows: the offset, tied to the report and its parameters.
#[derive(Serialize, Deserialize)]
struct RowCursor {
    r: String,
    o: u64,
}

/// Which rows to answer, and the cursor continuing after them; a cursor made for another
/// report or other parameters is a `400` naming `after`.
struct Rows {
    window: RowWindow,
    tag: String,
    csv: bool,
}

impl Rows {
    fn new(req: &HttpRequest, report: &str, params: &str, rows: RowsQuery) -> ApiResult<Self> {
        let digest = Sha256::digest(format!("{report}|{params}").as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(&digest[..9]);
        if wants_csv(req) {
            return Ok(Self {
                window: RowWindow::ALL,
                tag,
                csv: true,
            });
        }
        let limit = match rows.per_page {
            None => report::ROWS_DEFAULT,
            Some(n) if (1..=report::ROWS_MAX).contains(&n) => n,
            Some(_) => {
                return Err(invalid(
                    "per_page",
                    "out_of_range",
                    "per_page must be between 1 and 1000",
                ));
            }
        };
        let offset = match rows.after {
            None => 0,
            Some(after) => {
                let bad = || invalid("after", "invalid_cursor", "not a cursor of this report");
                let bytes = URL_SAFE_NO_PAD
                    .decode(after.as_bytes())
                    .map_err(|_| bad())?;
                let c: RowCursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
                if c.r != tag {
                    return Err(bad());
                }
                c.o
            }
        };
        Ok(Self {
            window: RowWindow {
                offset,
                limit: u64::from(limit),
            },
            tag,
            csv: false,
        })
    }

    /// The cursor after this page, when there is more.
    fn next(&self, more: bool) -> Option<String> {
        more.then(|| {
            let c = RowCursor {
                r: self.tag.clone(),
                o: self.window.offset + self.window.limit,
            };
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap_or_default())
        })
    }
}

/// A report row's cells, in `columns` order: text is made safe for spreadsheets.
fn cells<T: Serialize>(row: &T, columns: &[&str]) -> Vec<String> {
    let value = serde_json::to_value(row).unwrap_or_default();
    columns
        .iter()
        .map(|c| match value.get(*c) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => spreadsheet_safe(s).into_owned(),
            Some(other) => other.to_string(),
        })
        .collect()
}

/// The answer: JSON, or CSV of `rows` with `columns` as header.
fn answer<R: Serialize, T: Serialize>(
    rows: &Rows,
    report: &R,
    name: &str,
    columns: &[&str],
    items: &[T],
) -> HttpResponse {
    if rows.csv {
        let body = items.iter().map(|r| cells(r, columns)).collect();
        crate::csv::csv_response(&format!("{name}.csv"), columns, body)
    } else {
        HttpResponse::Ok().json(report)
    }
}

const SALES_COLUMNS: &[&str] = &["key", "label", "revenue", "orders", "average_order_value"];
const STAGE_COLUMNS: &[&str] = &[
    "stage_id",
    "name",
    "position",
    "count",
    "amount",
    "weighted_amount",
];
const MONTH_COLUMNS: &[&str] = &["month", "count", "amount", "weighted_amount"];
const TARGET_COLUMNS: &[&str] = &[
    "user_id",
    "team_id",
    "name",
    "target",
    "actual",
    "attainment",
];
const RECEIVABLE_COLUMNS: &[&str] = &[
    "order_id",
    "number",
    "customer_id",
    "customer_name",
    "total",
    "paid",
    "outstanding",
    "due_date",
    "days_past_due",
    "bucket",
];
const INVENTORY_COLUMNS: &[&str] = &[
    "product_id",
    "sku",
    "name",
    "warehouse_id",
    "on_hand",
    "reserved",
    "available",
    "reorder_point",
    "low",
    "units_shipped",
];
const CUSTOMER_COLUMNS: &[&str] = &["key", "new_customers"];

/// Revenue of counted orders by period, owner, team, product or customer, with totals
/// and the previous period of the same length.
#[utoipa::path(tag = "reports", operation_id = "get_sales_report", params(RangeQuery, SalesGrouping, RowsQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "The sales report (CSV of its rows with `Accept: text/csv`)", content((SalesReport = "application/json"), (String = "text/csv"))),
    (status = 422, description = "`to` before `from`, or a range over five years", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/reports/sales")]
pub async fn sales_report(
    ctx: Ctx,
    req: HttpRequest,
    range: Query<RangeQuery>,
    grouping: Query<SalesGrouping>,
    rows: Query<RowsQuery>,
) -> ApiResult<HttpResponse> {
    let period = Period::parse(range.0.from, range.0.to, today())?;
    let q = SalesQuery {
        period,
        currency: currency(range.0.currency.as_deref())?,
        group_by: grouping.0.group_by.unwrap_or(SalesGroup::Month),
    };
    let params = format!("{period:?}{}{}", q.currency, q.group_by.as_str());
    let rows = Rows::new(&req, "sales", &params, rows.0)?;
    let (mut r, more) = reporting::sales(ctx.reports.conn(), &ctx.scope(), &q, rows.window).await?;
    r.next_cursor = rows.next(more);
    Ok(answer(&rows, &r, "sales", SALES_COLUMNS, &r.rows))
}

/// The open stages with the open opportunities in them now, and what was won and lost
/// in the period.
#[utoipa::path(tag = "reports", operation_id = "get_funnel_report", params(RangeQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "The funnel (CSV of its stages with `Accept: text/csv`)", content((FunnelReport = "application/json"), (String = "text/csv"))),
    (status = 422, description = "`to` before `from`, or a range over five years", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/reports/funnel")]
pub async fn funnel_report(
    ctx: Ctx,
    req: HttpRequest,
    range: Query<RangeQuery>,
) -> ApiResult<HttpResponse> {
    let period = Period::parse(range.0.from, range.0.to, today())?;
    let currency = currency(range.0.currency.as_deref())?;
    let r = reporting::funnel(ctx.reports.conn(), &ctx.scope(), period, &currency).await?;
    let rows = Rows::new(
        &req,
        "funnel",
        "",
        RowsQuery {
            per_page: None,
            after: None,
        },
    )?;
    Ok(answer(&rows, &r, "funnel", STAGE_COLUMNS, &r.stages))
}

/// Open opportunities by the month they are expected to close.
#[utoipa::path(tag = "reports", operation_id = "get_forecast_report", params(RangeQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "The forecast (CSV of its months with `Accept: text/csv`); by default this month and the next two", content((ForecastReport = "application/json"), (String = "text/csv"))),
    (status = 422, description = "`to` before `from`, or a range over five years", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/reports/forecast")]
pub async fn forecast_report(
    ctx: Ctx,
    req: HttpRequest,
    range: Query<RangeQuery>,
) -> ApiResult<HttpResponse> {
    let period = Period::forecast(range.0.from, range.0.to, today())?;
    let currency = currency(range.0.currency.as_deref())?;
    let r = reporting::forecast(ctx.reports.conn(), &ctx.scope(), period, &currency).await?;
    let rows = Rows::new(
        &req,
        "forecast",
        "",
        RowsQuery {
            per_page: None,
            after: None,
        },
    )?;
    Ok(answer(&rows, &r, "forecast", MONTH_COLUMNS, &r.months))
}

/// Each target of the month in scope against the revenue of its user, or of everyone in
/// its team's subtree.
#[utoipa::path(tag = "reports", operation_id = "get_targets_report", params(MonthQuery, RowsQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "Targets against actual revenue (CSV of its rows with `Accept: text/csv`)", content((TargetsReport = "application/json"), (String = "text/csv"))),
))]
#[get("/reports/targets")]
pub async fn targets_report(
    ctx: Ctx,
    req: HttpRequest,
    month: Query<MonthQuery>,
    rows: Query<RowsQuery>,
) -> ApiResult<HttpResponse> {
    let m = query_month("month", month.0.month.as_deref())?.unwrap_or(Month::of(today()));
    let currency = currency(month.0.currency.as_deref())?;
    let rows = Rows::new(&req, "targets", &format!("{m}{currency}"), rows.0)?;
    let (mut r, more) =
        reporting::targets(ctx.reports.conn(), &ctx.scope(), m, &currency, rows.window).await?;
    r.next_cursor = rows.next(more);
    Ok(answer(&rows, &r, "targets", TARGET_COLUMNS, &r.rows))
}

/// Counted orders not paid in full as of a day, aged by their due dates.
#[utoipa::path(tag = "reports", operation_id = "get_receivables_report", params(AsOfQuery, RowsQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "Receivables with aging (CSV of its rows with `Accept: text/csv`)", content((ReceivablesReport = "application/json"), (String = "text/csv"))),
))]
#[get("/reports/receivables")]
pub async fn receivables_report(
    ctx: Ctx,
    req: HttpRequest,
    day: Query<AsOfQuery>,
    rows: Query<RowsQuery>,
) -> ApiResult<HttpResponse> {
    let q = ReceivablesQuery {
        as_of: day.0.as_of.unwrap_or_else(today),
        currency: currency(day.0.currency.as_deref())?,
        default_terms_days: i64::from(ctx.settings.receivables.default_terms_days),
    };
    let rows = Rows::new(
        &req,
        "receivables",
        &format!("{}{}", q.as_of, q.currency),
        rows.0,
    )?;
    let (mut r, more) =
        reporting::receivables(ctx.reports.conn(), &ctx.scope(), &q, rows.window).await?;
    r.next_cursor = rows.next(more);
    Ok(answer(
        &rows,
        &r,
        "receivables",
        RECEIVABLE_COLUMNS,
        &r.rows,
    ))
}

/// Every stock level, whether it is low, and the units shipped in the period (the same
/// for every role).
#[utoipa::path(tag = "reports", operation_id = "get_inventory_report", params(RangeQuery, WarehouseQuery, RowsQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "Inventory (CSV of its rows with `Accept: text/csv`)", content((InventoryReport = "application/json"), (String = "text/csv"))),
    (status = 422, description = "`to` before `from`, or a range over five years", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/reports/inventory")]
pub async fn inventory_report(
    ctx: Ctx,
    req: HttpRequest,
    range: Query<RangeQuery>,
    warehouse: Query<WarehouseQuery>,
    rows: Query<RowsQuery>,
) -> ApiResult<HttpResponse> {
    let period = Period::parse(range.0.from, range.0.to, today())?;
    let w = warehouse.0.warehouse_id;
    let rows = Rows::new(&req, "inventory", &format!("{period:?}{w:?}"), rows.0)?;
    let (items, more) = reporting::inventory(ctx.reports.conn(), period, w, rows.window).await?;
    let r = InventoryReport {
        from: period.from,
        to: period.to,
        rows: items,
        next_cursor: rows.next(more),
    };
    Ok(answer(&rows, &r, "inventory", INVENTORY_COLUMNS, &r.rows))
}

/// New customers per period (the pool included), and how many owned customers are idle.
#[utoipa::path(tag = "reports", operation_id = "get_customers_report", params(RangeQuery, CustomersGrouping, RowsQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "New and idle customers (CSV of its rows with `Accept: text/csv`)", content((CustomersReport = "application/json"), (String = "text/csv"))),
    (status = 422, description = "`to` before `from`, or a range over five years", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/reports/customers")]
pub async fn customers_report(
    ctx: Ctx,
    req: HttpRequest,
    range: Query<RangeQuery>,
    grouping: Query<CustomersGrouping>,
    rows: Query<RowsQuery>,
) -> ApiResult<HttpResponse> {
    let period = Period::parse(range.0.from, range.0.to, today())?;
    let grain = grouping.0.group_by.unwrap_or(Grain::Month);
    let idle = report::idle_days(grouping.0.idle_days)
        .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))?;
    let params = format!("{period:?}{}{idle}", grain.as_str());
    let rows = Rows::new(&req, "customers", &params, rows.0)?;
    let (mut r, more) = reporting::customers(
        ctx.reports.conn(),
        &ctx.scope(),
        period,
        grain,
        idle,
        rows.window,
    )
    .await?;
    r.next_cursor = rows.next(more);
    Ok(answer(&rows, &r, "customers", CUSTOMER_COLUMNS, &r.rows))
}

/// Registers the report routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(sales_report)
        .service(funnel_report)
        .service(forecast_report)
        .service(targets_report)
        .service(receivables_report)
        .service(inventory_report)
        .service(customers_report);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sims_domain::Money;
    use sims_domain::catalog::Quantity;
    use sims_domain::report::*;

    fn keys<T: Serialize>(row: &T) -> Vec<String> {
        let mut k: Vec<String> = serde_json::to_value(row)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        k.sort();
        k
    }

    fn sorted(columns: &[&str]) -> Vec<String> {
        let mut c: Vec<String> = columns.iter().map(|s| (*s).to_owned()).collect();
        c.sort();
        c
    }

    #[test]
    fn csv_headers_name_every_field_of_their_rows() {
        let m = Money::ZERO;
        let id = Uuid::nil();
        let day = NaiveDate::default();
        let q = Quantity(0);
        assert_eq!(
            keys(&SalesRow {
                key: None,
                label: None,
                revenue: m,
                orders: 0,
                average_order_value: m
            }),
            sorted(SALES_COLUMNS)
        );
        assert_eq!(
            keys(&FunnelStage {
                stage_id: id,
                name: String::new(),
                position: 0,
                count: 0,
                amount: m,
                weighted_amount: m
            }),
            sorted(STAGE_COLUMNS)
        );
        assert_eq!(
            keys(&ForecastMonth {
                month: String::new(),
                count: 0,
                amount: m,
                weighted_amount: m
            }),
            sorted(MONTH_COLUMNS)
        );
        assert_eq!(
            keys(&TargetRow {
                user_id: None,
                team_id: None,
                name: String::new(),
                target: m,
                actual: m,
                attainment: None
            }),
            sorted(TARGET_COLUMNS)
        );
        assert_eq!(
            keys(&Receivable {
                order_id: id,
                number: String::new(),
                customer_id: id,
                customer_name: String::new(),
                total: m,
                paid: m,
                outstanding: m,
                due_date: day,
                days_past_due: 0,
                bucket: AgingBucket::Current
            }),
            sorted(RECEIVABLE_COLUMNS)
        );
        assert_eq!(
            keys(&InventoryRow {
                product_id: id,
                sku: String::new(),
                name: String::new(),
                warehouse_id: id,
                on_hand: q,
                reserved: q,
                available: q,
                reorder_point: None,
                low: false,
                units_shipped: q
            }),
            sorted(INVENTORY_COLUMNS)
        );
        assert_eq!(
            keys(&NewCustomersRow {
                key: String::new(),
                new_customers: 0
            }),
            sorted(CUSTOMER_COLUMNS)
        );
    }

    #[test]
    fn report_cells_are_safe_in_spreadsheets() {
        let row = SalesRow {
            key: Some("k".into()),
            label: Some("=HYPERLINK(\"x\")".into()),
            revenue: Money::from_minor(-1250),
            orders: 3,
            average_order_value: Money::ZERO,
        };
        assert_eq!(
            cells(&row, SALES_COLUMNS),
            vec!["k", "'=HYPERLINK(\"x\")", "-12.50", "3", "0.00"]
        );
    }
}
