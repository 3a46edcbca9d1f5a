//! Examples of the reports and targets, written into their schemas. Each is built from the
//! domain's own types and arithmetic and serialised the way the server serialises an
//! answer, so an example cannot drift from what a client receives.

use chrono::{NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;
use sims_domain::Money;
use sims_domain::catalog::Quantity;
use sims_domain::report::{
    self, AgingBucket, AgingBuckets, CustomersReport, ForecastMonth, ForecastReport, FunnelReport,
    FunnelStage, Grain, IdleCustomers, InventoryReport, InventoryRow, NewCustomersRow,
    PipelineFigures, PreviousSales, Receivable, ReceivablesReport, SalesFigures, SalesGroup,
    SalesReport, SalesRow, TargetRow, TargetsReport,
};
use sims_domain::target::TargetRecord;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193_9d2e_8f6a_7c3b_9d1e_2f4a_5b6c_0000 + n)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// An amount in minor units from yuan and fen.
fn cny(yuan: i64, fen: i64) -> i64 {
    yuan * 100 + fen
}

fn money(minor: i64) -> Money {
    Money::from_minor(minor)
}

fn sales_row(key: &str, label: &str, revenue: i64, orders: i64) -> SalesRow {
    let f = SalesFigures::of(revenue, orders);
    SalesRow {
        key: Some(key.into()),
        label: Some(label.into()),
        revenue: f.revenue,
        orders: f.orders,
        average_order_value: f.average_order_value,
    }
}

fn sales() -> SalesReport {
    let prev = SalesFigures::of(cny(11_020_000, 0), 356);
    SalesReport {
        from: day(2026, 1, 1),
        to: day(2026, 3, 31),
        currency: "CNY".into(),
        group_by: SalesGroup::Month,
        rows: vec![
            sales_row("2026-01", "2026-01", cny(3_912_450, 0), 131),
            sales_row("2026-02", "2026-02", cny(2_880_120, 50), 97),
            sales_row("2026-03", "2026-03", cny(4_405_300, 0), 142),
        ],
        totals: SalesFigures::of(cny(11_197_870, 50), 370),
        previous: PreviousSales {
            from: day(2025, 10, 2),
            to: day(2025, 12, 31),
            revenue: prev.revenue,
            orders: prev.orders,
            average_order_value: prev.average_order_value,
        },
        next_cursor: None,
    }
}

fn pipeline(count: i64, amount: i64, probability: i128) -> PipelineFigures {
    PipelineFigures {
        count,
        amount: money(amount),
        weighted_amount: report::weighted(i128::from(amount) * probability),
    }
}

fn stage(n: u128, name: &str, position: i32, count: i64, amount: i64, p: i128) -> FunnelStage {
    let f = pipeline(count, amount, p);
    FunnelStage {
        stage_id: id(n),
        name: name.into(),
        position,
        count: f.count,
        amount: f.amount,
        weighted_amount: f.weighted_amount,
    }
}

fn funnel() -> FunnelReport {
    let stages = vec![
        stage(1, "Qualification", 1, 42, cny(8_400_000, 0), 10),
        stage(2, "Proposal", 2, 18, cny(5_310_000, 0), 40),
        stage(3, "Negotiation", 3, 7, cny(2_450_000, 0), 70),
    ];
    let open = PipelineFigures {
        count: stages.iter().map(|s| s.count).sum(),
        amount: money(stages.iter().map(|s| s.amount.minor()).sum()),
        weighted_amount: money(stages.iter().map(|s| s.weighted_amount.minor()).sum()),
    };
    FunnelReport {
        from: day(2026, 1, 1),
        to: day(2026, 3, 31),
        currency: "CNY".into(),
        stages,
        open,
        won: 12,
        lost: 16,
        win_rate: report::rate(12, 28),
        average_days_to_win: report::average_days(12 * 38 * 86_400 + 43_200, 12),
    }
}

fn forecast() -> ForecastReport {
    let month = |m: &str, count, amount, p| {
        let f = pipeline(count, amount, p);
        ForecastMonth {
            month: m.into(),
            count: f.count,
            amount: f.amount,
            weighted_amount: f.weighted_amount,
        }
    };
    ForecastReport {
        from: day(2026, 12, 1),
        to: day(2027, 2, 28),
        currency: "CNY".into(),
        months: vec![
            month("2026-12", 9, cny(3_150_000, 0), 70),
            month("2027-01", 14, cny(4_200_000, 0), 40),
            month("2027-02", 6, cny(1_080_000, 0), 10),
        ],
        undated: pipeline(3, cny(450_000, 0), 10),
    }
}

fn targets() -> TargetsReport {
    let row = |user: Option<Uuid>, team: Option<Uuid>, name: &str, target, actual| TargetRow {
        user_id: user,
        team_id: team,
        name: name.into(),
        target: money(target),
        actual: money(actual),
        attainment: report::money_rate(money(actual), money(target)),
    };
    TargetsReport {
        month: "2026-12".into(),
        currency: "CNY".into(),
        rows: vec![
            row(
                None,
                Some(id(20)),
                "East China",
                cny(1_200_000, 0),
                cny(1_046_400, 0),
            ),
            row(
                Some(id(21)),
                None,
                "Li Na",
                cny(300_000, 0),
                cny(327_850, 0),
            ),
            row(
                Some(id(22)),
                None,
                "Wang Wei",
                cny(300_000, 0),
                cny(188_000, 0),
            ),
        ],
        next_cursor: None,
    }
}

fn receivables() -> ReceivablesReport {
    let as_of = day(2026, 12, 1);
    let rows = vec![
        (
            30,
            "SO-2026-08-000412",
            "上海华东贸易有限公司",
            cny(58_760, 0),
            cny(20_000, 0),
            day(2026, 8, 31),
        ),
        (
            31,
            "SO-2026-10-001077",
            "Shenzhen Bright Electronics Co., Ltd.",
            cny(12_430, 50),
            0,
            day(2026, 11, 14),
        ),
        (
            32,
            "SO-2026-11-001390",
            "北京远航科技有限公司",
            cny(9_605, 0),
            cny(4_000, 0),
            day(2026, 12, 15),
        ),
    ];
    let mut buckets = AgingBuckets::default();
    let mut total = 0;
    let rows = rows
        .into_iter()
        .map(|(n, number, customer, total_minor, paid, due)| {
            let days = report::days_past_due(as_of, due);
            let bucket = AgingBucket::of(days);
            buckets.add(bucket, money(total_minor - paid));
            total += total_minor - paid;
            Receivable {
                order_id: id(n),
                number: number.into(),
                customer_id: id(n + 10),
                customer_name: customer.into(),
                total: money(total_minor),
                paid: money(paid),
                outstanding: money(total_minor - paid),
                due_date: due,
                days_past_due: days,
                bucket,
            }
        })
        .collect();
    ReceivablesReport {
        as_of,
        currency: "CNY".into(),
        total_outstanding: money(total),
        buckets,
        rows,
        next_cursor: None,
    }
}

fn inventory() -> InventoryReport {
    let row = |n, sku: &str, name: &str, on_hand, reserved, reorder: Option<i64>, shipped| {
        let available = on_hand - reserved;
        InventoryRow {
            product_id: id(n),
            sku: sku.into(),
            name: name.into(),
            warehouse_id: id(50),
            on_hand: Quantity(on_hand),
            reserved: Quantity(reserved),
            available: Quantity(available),
            reorder_point: reorder.map(Quantity),
            low: reorder.is_some_and(|r| available <= r),
            units_shipped: Quantity(shipped),
        }
    };
    InventoryReport {
        from: day(2026, 12, 1),
        to: day(2026, 12, 31),
        rows: vec![
            row(
                40,
                "PUMP-200",
                "Circulation pump 200 W",
                14_000,
                9_000,
                Some(10_000),
                36_000,
            ),
            row(
                41,
                "VALVE-DN50",
                "Gate valve DN50",
                310_000,
                12_500,
                Some(50_000),
                88_000,
            ),
        ],
        next_cursor: None,
    }
}

fn customers() -> CustomersReport {
    let rows = vec![
        NewCustomersRow {
            key: "2026-10".into(),
            new_customers: 118,
        },
        NewCustomersRow {
            key: "2026-11".into(),
            new_customers: 96,
        },
        NewCustomersRow {
            key: "2026-12".into(),
            new_customers: 7,
        },
    ];
    CustomersReport {
        from: day(2026, 10, 1),
        to: day(2026, 12, 31),
        group_by: Grain::Month,
        total_new: rows.iter().map(|r| r.new_customers).sum(),
        rows,
        idle: IdleCustomers {
            days: 30,
            count: 412,
        },
        next_cursor: None,
    }
}

fn target() -> TargetRecord {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, 30, 0)
        .single()
        .unwrap_or_default();
    TargetRecord {
        id: id(60),
        month: "2026-12".into(),
        user_id: Some(id(21)),
        team_id: None,
        amount: money(cny(300_000, 0)),
        currency: "CNY".into(),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

fn value<T: Serialize>(t: T) -> Value {
    serde_json::to_value(t).unwrap_or_default()
}

/// The schemas given an example, by their names in the document.
fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("SalesReport", value(sales())),
        ("FunnelReport", value(funnel())),
        ("ForecastReport", value(forecast())),
        ("TargetsReport", value(targets())),
        ("ReceivablesReport", value(receivables())),
        ("InventoryReport", value(inventory())),
        ("CustomersReport", value(customers())),
        ("TargetView", value(target())),
    ]
}

/// Writes each example into its schema as `examples` (OpenAPI 3.1).
pub fn apply(doc: &mut Value) {
    for (name, example) in all() {
        if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}"))
            && let Some(map) = schema.as_object_mut()
        {
            map.insert("examples".into(), Value::Array(vec![example]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_lands_on_a_schema_of_the_document() {
        let doc = crate::openapi::build();
        for (name, _) in all() {
            let examples = doc.pointer(&format!("/components/schemas/{name}/examples/0"));
            assert!(examples.is_some(), "{name} has no example in the document");
        }
    }

    #[test]
    fn the_examples_follow_the_report_arithmetic() {
        let s = value(sales());
        assert_eq!(s["rows"][0]["average_order_value"], "29866.03");
        let r = value(receivables());
        assert_eq!(r["rows"][0]["bucket"], "days_over_90");
        assert_eq!(r["rows"][2]["bucket"], "current");
        assert_eq!(r["total_outstanding"], "56795.50");
        let t = value(targets());
        assert_eq!(t["rows"][1]["attainment"], "1.0928");
    }
}
