//! The arithmetic of reports (SPEC §6): periods and their keys, the previous period,
//! averages and rates, weighted amounts rounded once, days, receivable buckets. The
//! database groups and sums; these rules turn its sums into the figures sent.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{DomainError, FieldViolation, Violations};
use crate::money::Money;
use crate::target::Month;

/// Longest range a report covers, in days (five years).
pub const MAX_RANGE_DAYS: i64 = 5 * 366;
/// Default and largest number of report rows per page.
pub const ROWS_DEFAULT: u32 = 200;
pub const ROWS_MAX: u32 = 1_000;

/// A report's inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `from`..`to` as sent, defaulting to the first of `today`'s month and `today`;
    /// `to` before `from` or a range over five years is a violation.
    pub fn parse(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, DomainError> {
        let from = from.unwrap_or_else(|| Month::of(today).first_day());
        let to = to.unwrap_or(today);
        Self::checked(from, to)
    }

    /// The forecast's range: by default this month and the next two, whole months.
    pub fn forecast(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, DomainError> {
        let this = Month::of(today);
        let from = from.unwrap_or(this.first_day());
        let to = to.unwrap_or(this.next().next().last_day());
        Self::checked(from, to)
    }

    fn checked(from: NaiveDate, to: NaiveDate) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        if to < from {
            v.push(FieldViolation::new(
                "to",
                "out_of_range",
                "to must not be before from",
            ));
        } else if (to - from).num_days() >= MAX_RANGE_DAYS {
            v.push(FieldViolation::new(
                "from",
                "out_of_range",
                "a report covers at most five years",
            ));
        }
        v.finish()?;
        Ok(Self { from, to })
    }

    /// How many days it covers.
    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(self) -> Self {
        let to = self.from - Duration::days(1);
        Self {
            from: to - Duration::days(self.days() - 1),
            to,
        }
    }

    /// Every month it touches, oldest first.
    pub fn months(self) -> Vec<Month> {
        let mut out = vec![];
        let mut m = Month::of(self.from);
        while m.first_day() <= self.to {
            out.push(m);
            m = m.next();
        }
        out
    }
}

crate::stored_enum! {
    /// How a time series is grouped.
    pub enum Grain {
        Day => "day",
        Week => "week",
        Month => "month",
    }
}

/// The Monday that starts the ISO week holding `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The key of the ISO week starting on `monday`: `2026-W45`.
pub fn week_key(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

impl Grain {
    /// The key of the period holding `day`: `2026-11-03`, `2026-W45` or `2026-11`.
    pub fn key(self, day: NaiveDate) -> String {
        match self {
            Grain::Day => day.to_string(),
            Grain::Week => week_key(week_start(day)),
            Grain::Month => Month::of(day).to_string(),
        }
    }

    /// Every period key of `period`, oldest first (the zero-filled series).
    pub fn keys(self, period: Period) -> Vec<String> {
        let mut keys = vec![];
        let mut day = match self {
            Grain::Day => period.from,
            Grain::Week => week_start(period.from),
            Grain::Month => Month::of(period.from).first_day(),
        };
        while day <= period.to {
            keys.push(self.key(day));
            day = match self {
                Grain::Day => day + Duration::days(1),
                Grain::Week => day + Duration::days(7),
                Grain::Month => Month::of(day).next().first_day(),
            };
        }
        keys
    }
}

/// Rounds `numerator / denominator` (minor units) half away from zero to a whole minor unit.
fn div_round(numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let d =
        Decimal::from_i128_with_scale(numerator, 0) / Decimal::from_i128_with_scale(denominator, 0);
    d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap_or(i64::MAX)
}

/// The average of `count` amounts summing to `sum_minor`, rounded half away from zero to two
/// decimals; `0.00` when there are none.
pub fn average(sum_minor: i64, count: i64) -> Money {
    Money::from_minor(div_round(i128::from(sum_minor), i128::from(count)))
}

/// Σ amount × probability / 100 from `Σ amount_minor × probability`, rounded once.
pub fn weighted(amount_times_probability: i128) -> Money {
    Money::from_minor(div_round(amount_times_probability, 100))
}

/// `numerator / denominator` as a fraction with four decimals (`"0.4286"`), `None` when the
/// denominator is 0.
pub fn rate(numerator: i64, denominator: i64) -> Option<String> {
    if denominator == 0 {
        return None;
    }
    let r = (Decimal::from(numerator) / Decimal::from(denominator))
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    let mut r = r;
    r.rescale(4);
    Some(r.to_string())
}

/// A rate between two amounts of money (attainment: actual / target).
pub fn money_rate(numerator: Money, denominator: Money) -> Option<String> {
    rate(numerator.minor(), denominator.minor())
}

/// The average of durations summing to `seconds`, in days with one decimal, `None` when
/// there are none.
pub fn average_days(seconds: i64, count: i64) -> Option<String> {
    if count == 0 {
        return None;
    }
    let mut d = (Decimal::from(seconds) / Decimal::from(count) / Decimal::from(86_400))
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(1);
    Some(d.to_string())
}

crate::stored_enum! {
    /// How overdue a receivable is.
    pub enum AgingBucket {
        Current => "current",
        Days1To30 => "days_1_30",
        Days31To60 => "days_31_60",
        Days61To90 => "days_61_90",
        DaysOver90 => "days_over_90",
    }
}

impl AgingBucket {
    /// The bucket of a receivable `days_past_due` days past its due date.
    pub fn of(days_past_due: i64) -> Self {
        match days_past_due {
            ..=0 => AgingBucket::Current,
            1..=30 => AgingBucket::Days1To30,
            31..=60 => AgingBucket::Days31To60,
            61..=90 => AgingBucket::Days61To90,
            _ => AgingBucket::DaysOver90,
        }
    }
}

/// Days past due on `as_of`: never negative.
pub fn days_past_due(as_of: NaiveDate, due: NaiveDate) -> i64 {
    (as_of - due).num_days().max(0)
}

/// A query value the reports take, checked: the `idle_days` of the customers report
/// (1..=3650, default 30).
pub fn idle_days(sent: Option<i64>) -> Result<i64, FieldViolation> {
    let days = sent.unwrap_or(30);
    if (1..=3650).contains(&days) {
        Ok(days)
    } else {
        Err(FieldViolation::new(
            "idle_days",
            "out_of_range",
            "idle_days must be between 1 and 3650",
        ))
    }
}

// ---- The reports as sent. `next_cursor` continues `rows` (set by the API). ----

/// The figures of a set of orders: revenue (Σ subtotal), how many, and their average.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesFigures {
    pub revenue: Money,
    pub orders: i64,
    pub average_order_value: Money,
}

impl SalesFigures {
    /// The figures of `orders` orders whose revenue sums to `revenue_minor`.
    pub fn of(revenue_minor: i64, orders: i64) -> Self {
        Self {
            revenue: Money::from_minor(revenue_minor),
            orders,
            average_order_value: average(revenue_minor, orders),
        }
    }
}

crate::stored_enum! {
    /// How the sales report groups its rows.
    pub enum SalesGroup {
        Day => "day",
        Week => "week",
        Month => "month",
        Owner => "owner",
        Team => "team",
        Product => "product",
        Customer => "customer",
    }
}

impl SalesGroup {
    /// The time grain, for the groupings that are periods.
    pub fn grain(self) -> Option<Grain> {
        match self {
            SalesGroup::Day => Some(Grain::Day),
            SalesGroup::Week => Some(Grain::Week),
            SalesGroup::Month => Some(Grain::Month),
            _ => None,
        }
    }
}

/// One group of the sales report. `key` is the period, or the id of the user, team,
/// product or customer (`null` for orders whose owner has no team).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesRow {
    pub key: Option<String>,
    pub label: Option<String>,
    pub revenue: Money,
    pub orders: i64,
    pub average_order_value: Money,
}

/// The period just before the report's, and its figures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviousSales {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub revenue: Money,
    pub orders: i64,
    pub average_order_value: Money,
}

/// `GET /reports/sales`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub group_by: SalesGroup,
    pub rows: Vec<SalesRow>,
    pub totals: SalesFigures,
    pub previous: PreviousSales,
    pub next_cursor: Option<String>,
}

/// A count of opportunities, their amount and their weighted amount.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineFigures {
    pub count: i64,
    pub amount: Money,
    pub weighted_amount: Money,
}

/// An open stage of the funnel and the open opportunities in it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelStage {
    pub stage_id: uuid::Uuid,
    pub name: String,
    pub position: i32,
    pub count: i64,
    pub amount: Money,
    pub weighted_amount: Money,
}

/// `GET /reports/funnel`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub stages: Vec<FunnelStage>,
    pub open: PipelineFigures,
    /// Opportunities won in the period.
    pub won: i64,
    /// Opportunities lost in the period.
    pub lost: i64,
    /// won / (won + lost), four decimals; `null` when none closed.
    pub win_rate: Option<String>,
    /// Average days from creation to winning, one decimal; `null` when none was won.
    pub average_days_to_win: Option<String>,
}

/// A month of the forecast.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    pub amount: Money,
    pub weighted_amount: Money,
}

/// `GET /reports/forecast`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub months: Vec<ForecastMonth>,
    /// Open opportunities with no expected close date.
    pub undated: PipelineFigures,
}

/// A target of the month against what was sold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetRow {
    pub user_id: Option<uuid::Uuid>,
    pub team_id: Option<uuid::Uuid>,
    /// The user's or the team's name.
    pub name: String,
    pub target: Money,
    pub actual: Money,
    /// actual / target, four decimals.
    pub attainment: Option<String>,
}

/// `GET /reports/targets`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetsReport {
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    pub rows: Vec<TargetRow>,
    pub next_cursor: Option<String>,
}

/// Outstanding amounts by how overdue they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgingBuckets {
    pub current: Money,
    pub days_1_30: Money,
    pub days_31_60: Money,
    pub days_61_90: Money,
    pub days_over_90: Money,
}

impl Default for Money {
    fn default() -> Self {
        Money::ZERO
    }
}

impl AgingBuckets {
    /// Adds `amount` to `bucket`.
    pub fn add(&mut self, bucket: AgingBucket, amount: Money) {
        let slot = match bucket {
            AgingBucket::Current => &mut self.current,
            AgingBucket::Days1To30 => &mut self.days_1_30,
            AgingBucket::Days31To60 => &mut self.days_31_60,
            AgingBucket::Days61To90 => &mut self.days_61_90,
            AgingBucket::DaysOver90 => &mut self.days_over_90,
        };
        *slot = Money::from_minor(slot.minor().saturating_add(amount.minor()));
    }
}

/// An order not yet paid in full.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receivable {
    pub order_id: uuid::Uuid,
    pub number: String,
    pub customer_id: uuid::Uuid,
    pub customer_name: String,
    pub total: Money,
    pub paid: Money,
    pub outstanding: Money,
    pub due_date: NaiveDate,
    pub days_past_due: i64,
    pub bucket: AgingBucket,
}

/// `GET /reports/receivables`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceivablesReport {
    pub as_of: NaiveDate,
    pub currency: String,
    pub total_outstanding: Money,
    pub buckets: AgingBuckets,
    pub rows: Vec<Receivable>,
    pub next_cursor: Option<String>,
}

/// A product's stock in a warehouse and what shipped in the period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InventoryRow {
    pub product_id: uuid::Uuid,
    pub sku: String,
    pub name: String,
    pub warehouse_id: uuid::Uuid,
    pub on_hand: crate::catalog::Quantity,
    pub reserved: crate::catalog::Quantity,
    pub available: crate::catalog::Quantity,
    pub reorder_point: Option<crate::catalog::Quantity>,
    /// `available ≤ reorder_point`.
    pub low: bool,
    pub units_shipped: crate::catalog::Quantity,
}

/// `GET /reports/inventory`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InventoryReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<InventoryRow>,
    pub next_cursor: Option<String>,
}

/// New customers in a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCustomersRow {
    pub key: String,
    pub new_customers: i64,
}

/// Owned customers with no follow-up for `days` days.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdleCustomers {
    pub days: i64,
    pub count: i64,
}

/// `GET /reports/customers`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomersReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: Grain,
    pub rows: Vec<NewCustomersRow>,
    pub total_new: i64,
    pub idle: IdleCustomers,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn periods_default_check_and_step_back() {
        let today = day("2026-12-15");
        let p = Period::parse(None, None, today).unwrap_or(Period {
            from: today,
            to: today,
        });
        assert_eq!((p.from, p.to), (day("2026-12-01"), today));
        assert_eq!(p.days(), 15);
        let prev = p.previous();
        assert_eq!((prev.from, prev.to), (day("2026-11-16"), day("2026-11-30")));
        assert!(Period::parse(Some(day("2026-12-02")), Some(day("2026-12-01")), today).is_err());
        assert!(Period::parse(Some(day("2020-01-01")), Some(day("2026-01-01")), today).is_err());
        assert!(Period::parse(Some(day("2022-01-01")), Some(day("2026-12-31")), today).is_ok());
        let f = Period::forecast(None, None, today).unwrap_or(p);
        assert_eq!((f.from, f.to), (day("2026-12-01"), day("2027-02-28")));
        assert_eq!(
            f.months().iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            vec!["2026-12", "2027-01", "2027-02"]
        );
    }

    #[test]
    fn series_list_every_period_oldest_first() {
        let p = Period {
            from: day("2026-10-30"),
            to: day("2026-11-03"),
        };
        assert_eq!(
            Grain::Day.keys(p),
            vec![
                "2026-10-30",
                "2026-10-31",
                "2026-11-01",
                "2026-11-02",
                "2026-11-03"
            ]
        );
        assert_eq!(Grain::Week.keys(p), vec!["2026-W44", "2026-W45"]);
        assert_eq!(Grain::Month.keys(p), vec!["2026-10", "2026-11"]);
        // ISO weeks: 2026-12-31 (a Thursday) is in 2026-W53; 2027-01-04 starts 2027-W01.
        assert_eq!(Grain::Week.key(day("2026-12-31")), "2026-W53");
        assert_eq!(Grain::Week.key(day("2027-01-03")), "2026-W53");
        assert_eq!(Grain::Week.key(day("2027-01-04")), "2027-W01");
        assert_eq!(week_start(day("2026-11-08")), day("2026-11-02"));
    }

    #[test]
    fn averages_and_weights_round_once_half_away_from_zero() {
        assert_eq!(average(1000, 3).to_string(), "3.33");
        assert_eq!(average(1001, 2).to_string(), "5.01"); // 5.005 → 5.01
        assert_eq!(average(0, 0).to_string(), "0.00");
        // 3 × 10.01 at 50% = 15.015 → 15.02 rounded once (per-item rounding gives 15.03).
        assert_eq!(weighted(3 * 1001 * 50).to_string(), "15.02");
        assert_eq!(weighted(0).to_string(), "0.00");
    }

    #[test]
    fn rates_and_days() {
        assert_eq!(rate(3, 7).as_deref(), Some("0.4286"));
        assert_eq!(rate(1, 1).as_deref(), Some("1.0000"));
        assert_eq!(rate(0, 5).as_deref(), Some("0.0000"));
        assert_eq!(rate(1, 0), None);
        assert_eq!(
            money_rate(Money::from_minor(15_000), Money::from_minor(10_000)).as_deref(),
            Some("1.5000")
        );
        assert_eq!(average_days(86_400 * 3 + 43_200, 1).as_deref(), Some("3.5"));
        assert_eq!(average_days(86_400 * 10, 3).as_deref(), Some("3.3"));
        assert_eq!(average_days(0, 0), None);
    }

    #[test]
    fn receivables_age_into_buckets() {
        let as_of = day("2026-12-01");
        assert_eq!(days_past_due(as_of, day("2026-12-10")), 0);
        assert_eq!(days_past_due(as_of, day("2026-11-01")), 30);
        for (days, bucket) in [
            (0, AgingBucket::Current),
            (1, AgingBucket::Days1To30),
            (30, AgingBucket::Days1To30),
            (31, AgingBucket::Days31To60),
            (60, AgingBucket::Days31To60),
            (61, AgingBucket::Days61To90),
            (90, AgingBucket::Days61To90),
            (91, AgingBucket::DaysOver90),
        ] {
            assert_eq!(AgingBucket::of(days), bucket, "{days}");
        }
        assert_eq!(idle_days(None), Ok(30));
        assert!(idle_days(Some(0)).is_err());
    }
}
