//! Reports on small, hand-computed data: revenue by period with the previous period and
//! zero-filled gaps, groupings, scope (a rep never sees another rep's figures), the funnel's
//! weights rounded once, the forecast, targets against actual, receivables aged by their
//! instalments, inventory, new and idle customers, CSV and paging of rows.

use serde_json::{Value, json};

use crate::helpers::*;

struct Sales {
    app: TestApp,
    manager: String,
    a: String,
    a_id: String,
    b: String,
    b_id: String,
    c: String,
    east: String,
    warehouse: String,
    p1: String,
    p2: String,
    orders: Vec<String>,
}

impl Sales {
    async fn order(
        &self,
        token: &str,
        customer: &str,
        date: &str,
        lines: Value,
        currency: &str,
    ) -> String {
        self.app
            .post(
                "/api/v1/orders",
                token,
                json!({"customer_id": customer, "warehouse_id": self.warehouse, "order_date": date,
                       "currency": currency, "lines": lines}),
            )
            .await
            .expect(201)
            .id()
    }

    async fn confirm(&self, token: &str, id: &str) {
        self.app
            .post(&format!("/api/v1/orders/{id}/confirm"), token, json!({}))
            .await
            .expect(200);
    }

    async fn report(&self, path: &str, token: &str) -> Value {
        self.app.get(path, token).await.expect(200).body
    }
}

/// East (manager; rep A) with sub-team East-1 (rep B); West (rep C). P1 lists at 100.00
/// with 13% tax, P2 at 33.33 with none.
///
/// | order | owner | date | status | subtotal | total |
/// | O1 | A | 2026-10-05 | confirmed | 200.00 (2 × P1) | 226.00 |
/// | O2 | A | 2026-10-20 | confirmed | 33.33 (P2) | 33.33 |
/// | O3 | B | 2026-11-03 | confirmed | 270.00 (3 × P1, 10% off) | 305.10 |
/// | O4 | C | 2026-10-10 | confirmed | 100.00 (P1) | 113.00 |
/// | O5 | A | 2026-10-07 | draft | 100.00 | — |
/// | O6 | A | 2026-09-15 | confirmed | 50.00 (P2 at 50) | 50.00 |
/// | O7 | A | 2026-10-06 | confirmed, USD | 20.00 | 20.00 |
async fn sales() -> Sales {
    let app = spawn_app().await;
    let east = app.team("East", None).await;
    let east1 = app.team("East-1", Some(&east)).await;
    let west = app.team("West", None).await;
    let (_, manager) = app.user("manager", Some(&east)).await;
    let (a_id, a) = app.user("sales", Some(&east)).await;
    let (b_id, b) = app.user("sales", Some(&east1)).await;
    let (_, c) = app.user("sales", Some(&west)).await;
    let warehouse = app.warehouse("W1", "主仓").await;
    let mut products = vec![];
    for (sku, price, tax) in [("P1", "100", "13"), ("P2", "33.33", "0")] {
        let id = app
            .product(json!({"sku": sku, "name": format!("Product {sku}"), "unit": "件", "list_price": price, "tax_rate": tax, "reorder_point": "5"}))
            .await;
        app.receive(&warehouse, &id, "100").await;
        products.push(id);
    }
    let mut s = Sales {
        app,
        manager,
        a,
        a_id,
        b,
        b_id,
        c,
        east,
        warehouse,
        p1: products[0].clone(),
        p2: products[1].clone(),
        orders: vec![],
    };
    let ca = s.app.customer(&s.a, "甲公司", json!({})).await;
    let cb = s.app.customer(&s.b, "乙公司", json!({})).await;
    let cc = s.app.customer(&s.c, "=HYPERLINK(\"x\")", json!({})).await;
    let plan: [(&str, &str, &str, Value, &str, bool); 7] = [
        (
            &s.a,
            &ca,
            "2026-10-05",
            json!([{"product_id": s.p1, "quantity": "2"}]),
            "CNY",
            true,
        ),
        (
            &s.a,
            &ca,
            "2026-10-20",
            json!([{"product_id": s.p2, "quantity": "1"}]),
            "CNY",
            true,
        ),
        (
            &s.b,
            &cb,
            "2026-11-03",
            json!([{"product_id": s.p1, "quantity": "3", "discount_percent": "10"}]),
            "CNY",
            true,
        ),
        (
            &s.c,
            &cc,
            "2026-10-10",
            json!([{"product_id": s.p1, "quantity": "1"}]),
            "CNY",
            true,
        ),
        (
            &s.a,
            &ca,
            "2026-10-07",
            json!([{"product_id": s.p1, "quantity": "1"}]),
            "CNY",
            false,
        ),
        (
            &s.a,
            &ca,
            "2026-09-15",
            json!([{"product_id": s.p2, "quantity": "1", "unit_price": "50"}]),
            "CNY",
            true,
        ),
        (
            &s.a,
            &ca,
            "2026-10-06",
            json!([{"product_id": s.p2, "quantity": "1", "unit_price": "20"}]),
            "USD",
            true,
        ),
    ];
    let mut ids = vec![];
    for (token, customer, date, lines, currency, confirm) in plan {
        let token = token.to_owned();
        let id = s.order(&token, customer, date, lines, currency).await;
        if confirm {
            s.confirm(&token, &id).await;
        }
        ids.push(id);
    }
    s.orders = ids;
    s
}

fn rows(v: &Value) -> Vec<(String, String, i64)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or("").to_owned(),
                r["revenue"].as_str().unwrap().to_owned(),
                r["orders"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(key: &str, revenue: &str, orders: i64) -> (String, String, i64) {
    (key.to_owned(), revenue.to_owned(), orders)
}

#[tokio::test]
async fn sales_by_period_with_totals_previous_period_and_scope() {
    let s = sales().await;
    let path = "/api/v1/reports/sales?from=2026-10-01&to=2026-11-30&group_by=month";
    let admin = s.report(path, &s.app.admin).await;
    assert_eq!(
        rows(&admin),
        vec![row("2026-10", "333.33", 3), row("2026-11", "270.00", 1)]
    );
    assert_eq!(admin["rows"][0]["average_order_value"], "111.11");
    assert_eq!(
        admin["totals"],
        json!({"revenue": "603.33", "orders": 4, "average_order_value": "150.83"})
    );
    // The 61 days before: August and September.
    assert_eq!(
        admin["previous"],
        json!({"from": "2026-08-01", "to": "2026-09-30", "revenue": "50.00", "orders": 1, "average_order_value": "50.00"})
    );
    assert_eq!(
        (admin["from"].clone(), admin["to"].clone()),
        (json!("2026-10-01"), json!("2026-11-30"))
    );
    assert_eq!(admin["currency"], "CNY");
    assert_eq!(admin["group_by"], "month");

    // A rep: their own orders only, the empty month zero-filled; 233.33 / 2 = 116.665 → 116.67.
    let a = s.report(path, &s.a).await;
    assert_eq!(
        rows(&a),
        vec![row("2026-10", "233.33", 2), row("2026-11", "0.00", 0)]
    );
    assert_eq!(a["totals"]["average_order_value"], "116.67");
    let b = s.report(path, &s.b).await;
    assert_eq!(
        rows(&b),
        vec![row("2026-10", "0.00", 0), row("2026-11", "270.00", 1)]
    );
    assert_eq!(b["previous"]["revenue"], "0.00");
    // A manager: the team and its sub-team, not West.
    let m = s.report(path, &s.manager).await;
    assert_eq!(
        rows(&m),
        vec![row("2026-10", "233.33", 2), row("2026-11", "270.00", 1)]
    );
    assert_eq!(m["totals"]["revenue"], "503.33");

    // Other currencies count apart.
    let usd = s
        .report(
            "/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&currency=USD",
            &s.app.admin,
        )
        .await;
    assert_eq!(rows(&usd), vec![row("2026-10", "20.00", 1)]);
}

#[tokio::test]
async fn an_order_counts_once_per_product_and_leaves_every_grouping_when_cancelled() {
    let s = sales().await;
    let customer = s.app.customer(&s.a, "丙公司", json!({})).await;
    // Two lines of P1 on one order: 100.00 + 2 × 100.00 less 50% = 200.00, one order.
    let id = s
        .order(
            &s.a,
            &customer,
            "2026-08-20",
            json!([{"product_id": s.p1, "quantity": "1"},
                   {"product_id": s.p1, "quantity": "2", "discount_percent": "50"}]),
            "CNY",
        )
        .await;
    let range = "from=2026-08-01&to=2026-08-31";
    let by = |group: &str| format!("/api/v1/reports/sales?{range}&group_by={group}");
    let draft = s.report(&by("product"), &s.app.admin).await;
    assert_eq!(rows(&draft), vec![], "a draft does not count");
    s.confirm(&s.a, &id).await;
    let products = s.report(&by("product"), &s.app.admin).await;
    assert_eq!(rows(&products), vec![row(&s.p1, "200.00", 1)]);
    let own = s.report(&by("product"), &s.a).await;
    assert_eq!(rows(&own), vec![row(&s.p1, "200.00", 1)]);
    let other = s.report(&by("product"), &s.b).await;
    assert_eq!(rows(&other), vec![], "another rep's order is out of scope");
    s.app
        .post(&format!("/api/v1/orders/{id}/cancel"), &s.a, json!({}))
        .await
        .expect(200);
    for group in ["product", "customer", "owner", "team"] {
        let r = s.report(&by(group), &s.app.admin).await;
        assert_eq!(
            rows(&r),
            vec![],
            "{group}: a cancelled order does not count"
        );
        assert_eq!(r["totals"]["revenue"], "0.00");
    }
}

#[tokio::test]
async fn sales_by_day_week_owner_team_product_and_customer() {
    let s = sales().await;
    let admin = &s.app.admin;
    let days = s
        .report(
            "/api/v1/reports/sales?from=2026-10-05&to=2026-10-07&group_by=day",
            admin,
        )
        .await;
    assert_eq!(
        rows(&days),
        vec![
            row("2026-10-05", "200.00", 1),
            row("2026-10-06", "0.00", 0),
            row("2026-10-07", "0.00", 0)
        ]
    );
    let weeks = s
        .report(
            "/api/v1/reports/sales?from=2026-10-01&to=2026-10-14&group_by=week",
            admin,
        )
        .await;
    assert_eq!(
        rows(&weeks),
        vec![
            row("2026-W40", "0.00", 0),
            row("2026-W41", "300.00", 2),
            row("2026-W42", "0.00", 0)
        ]
    );
    let range = "from=2026-10-01&to=2026-11-30";
    let owners = s
        .report(
            &format!("/api/v1/reports/sales?{range}&group_by=owner"),
            admin,
        )
        .await;
    let revenue: Vec<&str> = owners["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revenue"].as_str().unwrap())
        .collect();
    assert_eq!(revenue, vec!["270.00", "233.33", "100.00"]);
    assert_eq!(owners["rows"][0]["key"], s.b_id.as_str());
    assert_eq!(owners["rows"][1]["key"], s.a_id.as_str());
    let teams = s
        .report(
            &format!("/api/v1/reports/sales?{range}&group_by=team"),
            admin,
        )
        .await;
    let labels = pick(&teams["rows"], &["label", "revenue"]);
    assert_eq!(
        labels,
        vec![
            json!(["East-1", "270.00"]),
            json!(["East", "233.33"]),
            json!(["West", "100.00"])
        ]
    );
    let products = s
        .report(
            &format!("/api/v1/reports/sales?{range}&group_by=product"),
            admin,
        )
        .await;
    assert_eq!(
        rows(&products),
        vec![row(&s.p1, "570.00", 3), row(&s.p2, "33.33", 1)]
    );
    assert_eq!(products["rows"][0]["label"], "Product P1");
    assert_eq!(products["totals"]["revenue"], "603.33");
    let customers = s
        .report(
            &format!("/api/v1/reports/sales?{range}&group_by=customer"),
            &s.a,
        )
        .await;
    assert_eq!(customers["rows"].as_array().unwrap().len(), 1);
    assert_eq!(customers["rows"][0]["label"], "甲公司");
    assert_eq!(customers["rows"][0]["revenue"], "233.33");
}

#[tokio::test]
async fn report_rows_page_by_cursor_and_export_as_csv() {
    let s = sales().await;
    let admin = &s.app.admin;
    let base = "/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&group_by=day";
    let first = s.report(&format!("{base}&per_page=10"), admin).await;
    assert_eq!(first["rows"].as_array().unwrap().len(), 10);
    assert_eq!(first["rows"][0]["key"], "2026-10-01");
    assert_eq!(
        first["totals"]["revenue"], "333.33",
        "totals cover every row"
    );
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = s
        .report(&format!("{base}&per_page=10&after={cursor}"), admin)
        .await;
    assert_eq!(second["rows"][0]["key"], "2026-10-11");
    let last = s
        .report(&format!("{base}&per_page=30&after={cursor}"), admin)
        .await;
    assert_eq!(last["rows"].as_array().unwrap().len(), 21);
    assert_eq!(last["next_cursor"], Value::Null);
    // A cursor of another report or other parameters, or a forged one, is a 400.
    s.app
        .get(
            &format!(
                "/api/v1/reports/sales?from=2026-10-01&to=2026-10-30&group_by=day&after={cursor}"
            ),
            admin,
        )
        .await
        .expect_problem(400, "invalid_parameter");
    s.app
        .get(&format!("{base}&after=bm90LWEtY3Vyc29y"), admin)
        .await
        .expect_problem(400, "invalid_parameter");
    s.app
        .get(&format!("{base}&per_page=1001"), admin)
        .await
        .expect_problem(400, "invalid_parameter");

    let csv = s
        .app
        .send(
            s.app
                .client
                .get(format!(
                    "{}/api/v1/reports/sales?from=2026-10-01&to=2026-11-30&group_by=customer",
                    s.app.address
                ))
                .bearer_auth(admin)
                .header("Accept", "text/csv"),
        )
        .await
        .expect(200);
    assert!(
        csv.header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let text = csv
        .body
        .as_str()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "key,label,revenue,orders,average_order_value");
    assert_eq!(lines.len(), 4);
    assert!(
        text.contains("\"'=HYPERLINK(\"\"x\"\")\",100.00,1,100.00"),
        "a formula in a name is neutralised: {text}"
    );
}

#[tokio::test]
async fn bad_report_parameters_are_named() {
    let s = sales().await;
    let admin = &s.app.admin;
    let r = s
        .app
        .get("/api/v1/reports/sales?from=2026-10-02&to=2026-10-01", admin)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["to"]);
    let r = s
        .app
        .get(
            "/api/v1/reports/funnel?from=2020-01-01&to=2026-10-01",
            admin,
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["from"]);
    for path in [
        "/api/v1/reports/sales?from=2026-13-01",
        "/api/v1/reports/sales?group_by=year",
        "/api/v1/reports/sales?currency=yuan",
        "/api/v1/reports/targets?month=2026-1",
        "/api/v1/reports/customers?idle_days=0",
        "/api/v1/reports/receivables?as_of=yesterday",
    ] {
        s.app
            .get(path, admin)
            .await
            .expect_problem(400, "invalid_parameter");
    }
    s.app
        .get("/api/v1/reports/sales", "not-a-token")
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn targets_against_actual_for_users_and_team_subtrees() {
    let s = sales().await;
    let admin = &s.app.admin;
    for body in [
        json!({"month": "2026-10", "user_id": s.a_id, "amount": "200"}),
        json!({"month": "2026-10", "team_id": s.east, "amount": "1000"}),
        json!({"month": "2026-11", "team_id": s.east, "amount": "300"}),
        json!({"month": "2026-11", "user_id": s.b_id, "amount": "250", "currency": "USD"}),
    ] {
        s.app.post("/api/v1/targets", admin, body).await.expect(201);
    }
    let oct = s
        .report("/api/v1/reports/targets?month=2026-10", admin)
        .await;
    assert_eq!(oct["month"], "2026-10");
    let got = pick(&oct["rows"], &["name", "target", "actual", "attainment"]);
    // 233.33 / 200 = 1.16665 → 1.1667; the team East counts A (East) and B (East-1): 233.33.
    assert_eq!(
        got,
        vec![
            json!(["East", "1000.00", "233.33", "0.2333"]),
            json!(["sales user", "200.00", "233.33", "1.1667"])
        ]
    );
    let nov = s
        .report("/api/v1/reports/targets?month=2026-11", admin)
        .await;
    assert_eq!(
        nov["rows"].as_array().unwrap().len(),
        1,
        "the USD target is not in CNY"
    );
    assert_eq!(nov["rows"][0]["actual"], "270.00");
    assert_eq!(nov["rows"][0]["attainment"], "0.9000");
    // A rep reads only their own target; B has none in CNY in October.
    let a = s
        .report("/api/v1/reports/targets?month=2026-10", &s.a)
        .await;
    assert_eq!(a["rows"].as_array().unwrap().len(), 1);
    assert_eq!(a["rows"][0]["user_id"], s.a_id.as_str());
    let b = s
        .report("/api/v1/reports/targets?month=2026-10", &s.b)
        .await;
    assert!(b["rows"].as_array().unwrap().is_empty());
    let c = s
        .report("/api/v1/reports/targets?month=2026-10", &s.c)
        .await;
    assert!(c["rows"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn receivables_age_by_instalments_and_ignore_later_payments() {
    let s = sales().await;
    let admin = &s.app.admin;
    let pay = |id: &str, amount: &str, at: &str| {
        let (id, amount, at) = (id.to_owned(), amount.to_owned(), at.to_owned());
        let app = &s.app;
        async move {
            app.post(
                &format!("/api/v1/orders/{id}/payments"),
                admin,
                json!({"amount": amount, "received_at": at, "method": "bank_transfer"}),
            )
            .await
            .expect(201);
        }
    };
    let o = &s.orders;
    pay(&o[0], "100.00", "2026-10-10T03:00:00Z").await;
    s.app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/orders/{}/payment-plan", o[2]),
            Some(admin),
            Some(json!({"instalments": [{"due_date": "2026-11-10", "amount": "100.00"}, {"due_date": "2026-12-10", "amount": "205.10"}]})),
        )
        .await
        .expect(200);
    pay(&o[2], "150.00", "2026-11-05T03:00:00Z").await;
    pay(&o[3], "13.00", "2026-11-29T03:00:00Z").await;
    let r = s
        .report("/api/v1/reports/receivables?as_of=2026-11-30", admin)
        .await;
    let got = pick(
        &r["rows"],
        &["outstanding", "due_date", "paid", "days_past_due", "bucket"],
    );
    assert_eq!(
        got,
        vec![
            // O6: 2026-09-15 + 30 days.
            json!(["50.00", "2026-10-15", "0.00", 46, "days_31_60"]),
            // O1: 226.00 − 100.00, due 2026-11-04.
            json!(["126.00", "2026-11-04", "100.00", 26, "days_1_30"]),
            // O4: 113.00 − 13.00, due 2026-11-09.
            json!(["100.00", "2026-11-09", "13.00", 21, "days_1_30"]),
            // O2: unpaid, due 2026-11-19.
            json!(["33.33", "2026-11-19", "0.00", 11, "days_1_30"]),
            // O3: 150.00 covers the first instalment: due the second's date.
            json!(["155.10", "2026-12-10", "150.00", 0, "current"]),
        ]
    );
    assert_eq!(r["total_outstanding"], "464.43");
    assert_eq!(
        r["buckets"],
        json!({"current": "155.10", "days_1_30": "259.33", "days_31_60": "50.00", "days_61_90": "0.00", "days_over_90": "0.00"})
    );
    // As of 2026-11-28 the payment of the 29th has not come in; O3's 150.00 only covers
    // the instalment due 2026-11-10 by then too.
    let before = s
        .report("/api/v1/reports/receivables?as_of=2026-11-28", admin)
        .await;
    let o4 = before["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["order_id"] == o[3].as_str())
        .unwrap();
    assert_eq!(o4["outstanding"], "113.00");
    // As of 2026-11-02, O3 (dated 2026-11-03) does not exist yet.
    let early = s
        .report("/api/v1/reports/receivables?as_of=2026-11-02", admin)
        .await;
    assert!(
        early["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["order_id"] != o[2].as_str())
    );
    // A rep sees their own receivables only.
    let mine = s
        .report("/api/v1/reports/receivables?as_of=2026-11-30", &s.c)
        .await;
    assert_eq!(mine["rows"].as_array().unwrap().len(), 1);
    assert_eq!(mine["total_outstanding"], "100.00");
    // Paid in full on the 29th: still owed as of the 28th, no longer as of the 30th.
    pay(&o[1], "33.33", "2026-11-29T03:00:00Z").await;
    let owed = |r: &Value| {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["order_id"] == o[1].as_str())
            .map(|x| x["outstanding"].as_str().unwrap().to_owned())
    };
    let before = s
        .report("/api/v1/reports/receivables?as_of=2026-11-28", admin)
        .await;
    assert_eq!(owed(&before).as_deref(), Some("33.33"));
    let after = s
        .report("/api/v1/reports/receivables?as_of=2026-11-30", admin)
        .await;
    assert_eq!(owed(&after), None);
    assert_eq!(after["total_outstanding"], "431.10");
}

#[tokio::test]
async fn funnel_and_forecast_weight_once_and_stay_in_scope() {
    let app = spawn_app().await;
    let (_, a) = app.user("sales", None).await;
    let (_, b) = app.user("sales", None).await;
    let customer = app.customer(&a, "Funnel Co", json!({})).await;
    let stages = app
        .get("/api/v1/pipeline/stages", &a)
        .await
        .expect(200)
        .body;
    let stage = |name: &str| {
        stages["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"].as_str().unwrap().ends_with(name))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (initial, proposal, won, lost) = (
        stage("Initial contact"),
        stage("Proposal"),
        stage("Won"),
        stage("Lost"),
    );
    let today = chrono::Utc::now().date_naive();
    use chrono::Datelike;
    let (y, m) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    let next_month = chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .unwrap()
        .to_string();
    let opp = |amount: &str, stage_id: &str, close: Option<&str>| {
        let body = json!({"customer_id": customer, "name": "Deal", "amount": amount, "stage_id": stage_id, "expected_close_date": close});
        let (app, a) = (&app, &a);
        async move {
            app.post("/api/v1/opportunities", a, body)
                .await
                .expect(201)
                .id()
        }
    };
    opp("10.01", &proposal, Some(&next_month)).await;
    opp("10.01", &proposal, None).await;
    opp("10.01", &proposal, None).await;
    opp("50.00", &initial, None).await;
    let w = opp("100.00", &initial, None).await;
    let l = opp("70.00", &initial, None).await;
    app.post(
        &format!("/api/v1/opportunities/{w}/stage"),
        &a,
        json!({"stage_id": won}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/opportunities/{l}/stage"),
        &a,
        json!({"stage_id": lost, "lost_reason": "price"}),
    )
    .await
    .expect(200);

    let f = app.get("/api/v1/reports/funnel", &a).await.expect(200).body;
    let stages = pick(&f["stages"], &["count", "amount", "weighted_amount"]);
    // Four open stages in order, empty ones too; 30.03 at 60% = 18.018 → 18.02 (not 3 × 6.01).
    assert_eq!(
        stages,
        vec![
            json!([1, "50.00", "5.00"]),
            json!([0, "0.00", "0.00"]),
            json!([3, "30.03", "18.02"]),
            json!([0, "0.00", "0.00"])
        ]
    );
    assert_eq!(
        f["open"],
        json!({"count": 4, "amount": "80.03", "weighted_amount": "23.02"})
    );
    assert_eq!((f["won"].as_i64(), f["lost"].as_i64()), (Some(1), Some(1)));
    assert_eq!(f["win_rate"], "0.5000");
    assert_eq!(f["average_days_to_win"], "0.0");
    let other = app.get("/api/v1/reports/funnel", &b).await.expect(200).body;
    assert_eq!(other["open"]["count"], 0);
    assert_eq!(other["win_rate"], Value::Null);
    assert_eq!(other["average_days_to_win"], Value::Null);

    let fc = app
        .get("/api/v1/reports/forecast", &a)
        .await
        .expect(200)
        .body;
    let months: Vec<(&str, i64, &str)> = fc["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap(),
                m["count"].as_i64().unwrap(),
                m["weighted_amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(months.len(), 3, "this month and the next two");
    assert_eq!(months[1], (&next_month[..7], 1, "6.01"));
    assert_eq!((months[0].1, months[2].1), (0, 0));
    // Undated: 2 × 10.01 at 60% and 50.00 at 10% = 12.012 + 5 = 17.012 → 17.01.
    assert_eq!(
        fc["undated"],
        json!({"count": 3, "amount": "70.02", "weighted_amount": "17.01"})
    );

    let csv = app
        .send(
            app.client
                .get(format!("{}/api/v1/reports/funnel", app.address))
                .bearer_auth(&a)
                .header("Accept", "text/csv"),
        )
        .await
        .expect(200);
    let text = csv
        .body
        .as_str()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .to_owned();
    assert_eq!(
        text.lines().next(),
        Some("stage_id,name,position,count,amount,weighted_amount")
    );
    assert_eq!(text.lines().count(), 5);
}

#[tokio::test]
async fn inventory_and_customers_reports() {
    let s = sales().await;
    let admin = &s.app.admin;
    // Ship O1 (2 × P1) now; adjust P2 down to 3 available, under its reorder point of 5.
    let order = s
        .app
        .get(&format!("/api/v1/orders/{}", s.orders[0]), admin)
        .await
        .expect(200)
        .body;
    let line = order["lines"][0]["id"].as_str().unwrap().to_owned();
    s.app
        .post(
            &format!("/api/v1/orders/{}/shipments", s.orders[0]),
            admin,
            json!({"lines": [{"line_id": line, "quantity": "2"}]}),
        )
        .await
        .expect(200);
    s.app
        .post("/api/v1/stock/adjustments", admin, json!({"warehouse_id": s.warehouse, "product_id": s.p2, "quantity": "-94", "reason": "count"}))
        .await
        .expect(201);
    let inv = s.report("/api/v1/reports/inventory", &s.c).await;
    let got = pick(
        &inv["rows"],
        &[
            "sku",
            "on_hand",
            "reserved",
            "available",
            "low",
            "units_shipped",
        ],
    );
    // P1: 100 received, 2 shipped; reserved by O3 (3) and O4 (1). P2: 100 − 94, reserved by O2, O6, O7.
    assert_eq!(
        got,
        vec![
            json!(["P1", "98", "4", "94", false, "2"]),
            json!(["P2", "6", "3", "3", true, "0"])
        ]
    );
    let before = s
        .report(
            "/api/v1/reports/inventory?from=2026-01-01&to=2026-01-31",
            admin,
        )
        .await;
    assert_eq!(before["rows"][0]["units_shipped"], "0");

    // Customers: three created now by reps, one in the pool; A's is idle.
    s.app.pool_customer("Pooled").await;
    let today = chrono::Utc::now().date_naive();
    let month = today.format("%Y-%m").to_string();
    let cust = s
        .report("/api/v1/reports/customers?idle_days=30", admin)
        .await;
    assert_eq!(cust["rows"], json!([{"key": month, "new_customers": 4}]));
    assert_eq!(cust["total_new"], 4);
    assert_eq!(cust["idle"], json!({"days": 30, "count": 0}));
    let a_customer = s
        .app
        .get("/api/v1/customers?in_pool=false", &s.a)
        .await
        .expect(200)
        .ids()[0]
        .clone();
    s.app.age_customer(&a_customer, 40, Some(35)).await;
    let a = s
        .report("/api/v1/reports/customers?idle_days=30", &s.a)
        .await;
    assert_eq!(a["total_new"], 2, "their own and the pool");
    assert_eq!(a["idle"]["count"], 1);
    let b = s
        .report("/api/v1/reports/customers?idle_days=30", &s.b)
        .await;
    assert_eq!(b["idle"]["count"], 0);
    let days = s
        .report(
            &format!("/api/v1/reports/customers?group_by=day&from={today}&to={today}"),
            &s.manager,
        )
        .await;
    assert_eq!(
        days["rows"],
        json!([{"key": today.to_string(), "new_customers": 3}])
    );
}
