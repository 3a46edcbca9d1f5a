//! `sims seed --profile demo` into a fresh database (and once more, forced): the printed
//! accounts sign in, every list has data, stock levels equal their ledger and orders add
//! up — read through the API.

use std::collections::HashMap;

use serde_json::Value;
use sims_api::Application;
use sims_api::seed::{DEMO_PASSWORD, SeedRequest};
use sims_persistence::seed::Profile;

use crate::helpers::*;

/// A decimal string in `scale` decimal places as an integer (`"2.5"`, 3 → 2500), exactly.
fn scaled(s: &str, scale: usize) -> i64 {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(
        fraction.len() <= scale,
        "{s} has more than {scale} decimals"
    );
    let padded = format!("{whole}{fraction:0<scale$}");
    let v: i64 = padded.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    if negative { -v } else { v }
}

fn field(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

#[tokio::test]
async fn the_demo_seed_signs_in_and_reads_back_consistent() {
    let db = TestDb::create().await;
    let settings = test_settings(&db);
    let request = SeedRequest {
        profile: Profile::Demo,
        seed: 1,
        force: false,
        progress: false,
    };
    let (report, _) = sims_api::seed::run(&settings, request)
        .await
        .expect("seed demo");
    let again = sims_api::seed::run(&settings, request).await;
    assert!(
        again
            .as_ref()
            .is_err_and(|e| e.to_string().contains("already holds data")),
        "a second seed without --force is refused: {:?}",
        again.map(|(r, _)| r.run)
    );
    // Forced, a second set goes beside the first without breaking a unique constraint.
    let forced = SeedRequest {
        force: true,
        ..request
    };
    let (second, _) = sims_api::seed::run(&settings, forced)
        .await
        .expect("a forced second seed");
    assert_eq!((report.run, second.run), (1, 2));
    assert_eq!(second.accounts[0].email, "admin+run2@demo.sims");

    let app = Application::build(settings).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let mut app = TestApp {
        address,
        client: reqwest::Client::new(),
        _db: db,
        admin: String::new(),
    };

    // The printed accounts sign in with the printed password, in their roles.
    let mut tokens = HashMap::new();
    for a in &report.accounts {
        let token = app.login(&a.email, DEMO_PASSWORD).await;
        let me = app.get("/api/v1/me", &token).await.expect(200);
        assert_eq!(me.body["role"], a.role.as_str(), "{}", a.email);
        tokens.insert(a.role.as_str(), token);
    }
    app.admin = tokens["admin"].clone();
    assert!(
        !app.login_pair(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status
            .is_success()
    );

    for path in [
        "/api/v1/customers",
        "/api/v1/contacts",
        "/api/v1/follow-ups",
        "/api/v1/leads",
        "/api/v1/opportunities",
        "/api/v1/orders",
        "/api/v1/products",
        "/api/v1/warehouses",
        "/api/v1/stock",
        "/api/v1/stock/movements",
        "/api/v1/stock/low",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/tags",
    ] {
        let page = app.get(path, &app.admin).await.expect(200);
        assert!(
            page.body["items"].as_array().is_some_and(|i| !i.is_empty()),
            "{path} is empty"
        );
    }
    for role in ["manager", "sales"] {
        for path in [
            "/api/v1/customers?in_pool=false",
            "/api/v1/opportunities",
            "/api/v1/orders",
        ] {
            let page = app.get(path, &tokens[role]).await.expect(200);
            assert!(
                page.body["items"].as_array().is_some_and(|i| !i.is_empty()),
                "{path} is empty for the {role}"
            );
        }
    }

    // Stock levels are the sums of the ledger.
    let mut ledger: HashMap<(String, String), (i64, i64)> = HashMap::new();
    for m in app.all("/api/v1/stock/movements", &app.admin).await {
        let key = (field(&m, "product_id"), field(&m, "warehouse_id"));
        let sum = ledger.entry(key).or_default();
        sum.0 += scaled(&field(&m, "quantity"), 3);
        sum.1 += scaled(&field(&m, "reserved_change"), 3);
    }
    let levels = app.all("/api/v1/stock", &app.admin).await;
    assert_eq!(levels.len(), ledger.len());
    for l in &levels {
        let key = (field(l, "product_id"), field(l, "warehouse_id"));
        let (on_hand, reserved, available) = (
            scaled(&field(l, "on_hand"), 3),
            scaled(&field(l, "reserved"), 3),
            scaled(&field(l, "available"), 3),
        );
        assert_eq!(ledger.get(&key), Some(&(on_hand, reserved)), "{key:?}");
        assert!(available >= 0 && available == on_hand - reserved);
    }

    // Orders add up to their lines, and are paid what their payments say.
    let orders = app.all("/api/v1/orders", &app.admin).await;
    assert_eq!(
        orders.len() as u64,
        report.count("orders") + second.count("orders")
    );
    let mut checked_payments = 0;
    let mut checked_plans = 0;
    for o in &orders {
        let mut sums = [0i64; 4];
        for l in o["lines"].as_array().unwrap_or(&Vec::new()) {
            for (i, name) in ["net", "discount", "tax", "total"].iter().enumerate() {
                sums[i] += scaled(&field(l, name), 2);
            }
        }
        let totals = ["subtotal", "discount_total", "tax_total", "total"]
            .map(|name| scaled(&field(o, name), 2));
        assert_eq!(totals, sums, "{}", o["number"]);
        let (total, paid) = (totals[3], scaled(&field(o, "paid_amount"), 2));
        assert!(paid <= total);
        let id = field(o, "id");
        if paid > 0 && checked_payments < 25 {
            let payments = app
                .get(&format!("/api/v1/orders/{id}/payments"), &app.admin)
                .await
                .expect(200);
            let received: i64 = payments.body["items"]
                .as_array()
                .unwrap_or(&Vec::new())
                .iter()
                .map(|p| scaled(&field(p, "amount"), 2))
                .sum();
            assert_eq!(received, paid, "{}", o["number"]);
            checked_payments += 1;
        }
        if checked_plans < 3 && o["status"] == "completed" {
            let plan = app
                .get(&format!("/api/v1/orders/{id}/payment-plan"), &app.admin)
                .await
                .expect(200);
            let instalments = plan.body["instalments"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !instalments.is_empty() {
                let planned: i64 = instalments
                    .iter()
                    .map(|i| scaled(&field(i, "amount"), 2))
                    .sum();
                assert_eq!(planned, total, "{}", o["number"]);
                checked_plans += 1;
            }
        }
    }
    assert_eq!(checked_payments, 25);
    assert!(checked_plans > 0, "some orders carry a payment plan");

    // The reports have something to show for the last twelve months.
    let today = chrono::Utc::now().date_naive();
    let range = format!("from={}&to={today}", today - chrono::Duration::days(364));
    let report = |path: String| {
        let app = &app;
        async move { app.get(&path, &app.admin).await.expect(200).body }
    };
    let sales = report(format!("/api/v1/reports/sales?{range}")).await;
    assert!(
        scaled(&field(&sales["totals"], "revenue"), 2) > 0,
        "{sales}"
    );
    let funnel = report(format!("/api/v1/reports/funnel?{range}")).await;
    assert!(funnel["open"]["count"].as_i64() > Some(0), "{funnel}");
    assert!(funnel["won"].as_i64() > Some(0) && funnel["lost"].as_i64() > Some(0));
    let receivables = report("/api/v1/reports/receivables".into()).await;
    assert!(scaled(&field(&receivables, "total_outstanding"), 2) > 0);
    let overdue = ["days_1_30", "days_31_60", "days_61_90", "days_over_90"]
        .iter()
        .map(|b| scaled(&field(&receivables["buckets"], b), 2))
        .sum::<i64>();
    assert!(
        overdue > 0,
        "some receivables are overdue: {}",
        receivables["buckets"]
    );
    let targets = report("/api/v1/reports/targets".into()).await;
    let rows = targets["rows"].as_array().cloned().unwrap_or_default();
    assert!(
        rows.iter().any(|r| r["user_id"].is_string())
            && rows.iter().any(|r| r["team_id"].is_string()),
        "targets for reps and teams this month: {targets}"
    );
    let inventory = report(format!("/api/v1/reports/inventory?{range}")).await;
    let rows = inventory["rows"].as_array().cloned().unwrap_or_default();
    assert!(rows.iter().any(|r| r["low"] == true), "some stock is low");
    assert!(
        rows.iter()
            .any(|r| scaled(&field(r, "units_shipped"), 3) > 0)
    );
}
