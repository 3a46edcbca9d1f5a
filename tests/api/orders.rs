//! Orders: exact totals, confirmation reserving stock all or nothing (also under 200
//! concurrent confirmations), shipments, cancellation, completion and payments.

use serde_json::{Value, json};

use crate::helpers::*;

struct Shop {
    app: TestApp,
    rep: String,
    customer: String,
    warehouse: String,
}

async fn shop() -> Shop {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let customer = app.customer(&rep, "Buyer Co", json!({})).await;
    let warehouse = app.warehouse("W1", "主仓").await;
    Shop {
        app,
        rep,
        customer,
        warehouse,
    }
}

impl Shop {
    async fn product(&self, sku: &str, price: &str, tax: &str, stock: &str) -> String {
        let id = self.app.product(json!({"sku": sku, "name": sku, "unit": "件", "list_price": price, "tax_rate": tax, "cost": "1"})).await;
        if stock != "0" {
            self.app.receive(&self.warehouse, &id, stock).await;
        }
        id
    }

    async fn order(&self, lines: Value) -> Value {
        self.app.post("/api/v1/orders", &self.rep, json!({"customer_id": self.customer, "warehouse_id": self.warehouse, "lines": lines})).await.expect(201).body
    }

    async fn level(&self, product: &str) -> (String, String) {
        let r = self
            .app
            .get(
                &format!(
                    "/api/v1/stock?product_id={product}&warehouse_id={}",
                    self.warehouse
                ),
                &self.app.admin,
            )
            .await
            .expect(200);
        (
            r.body["items"][0]["on_hand"]
                .as_str()
                .unwrap_or("0")
                .to_owned(),
            r.body["items"][0]["reserved"]
                .as_str()
                .unwrap_or("0")
                .to_owned(),
        )
    }

    /// The ledger's sums for a product, as (on_hand, reserved) in thousandths.
    async fn ledger(&self, product: &str) -> (i64, i64) {
        let mut sums = (0i64, 0i64);
        let mut path = format!("/api/v1/stock/movements?product_id={product}&per_page=200");
        loop {
            let page = self.app.get(&path, &self.app.admin).await.expect(200);
            for m in page.body["items"].as_array().unwrap() {
                let milli = |s: &str| (s.parse::<f64>().unwrap() * 1000.0).round() as i64;
                sums.0 += milli(m["quantity"].as_str().unwrap());
                sums.1 += milli(m["reserved_change"].as_str().unwrap());
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => {
                    path = format!(
                        "/api/v1/stock/movements?product_id={product}&per_page=200&after={c}"
                    )
                }
                None => return sums,
            }
        }
    }
}

#[tokio::test]
async fn totals_are_exact_with_fractional_quantities_discounts_and_several_tax_rates() {
    let s = shop().await;
    let a = s.product("A", "0.335", "13", "100").await;
    let b = s.product("B", "12.3456", "6", "100").await;
    let o = s
        .order(json!([
            {"product_id": a, "quantity": "3"},
            {"product_id": b, "quantity": "2.5", "discount_percent": "10"},
            {"product_id": a, "quantity": "1", "unit_price": "99.99", "discount_percent": "100"},
        ]))
        .await;
    let l = &o["lines"];
    // 3 × 0.335 = 1.005 → 1.01 (a float says 1.00); tax 13% → 0.1313 → 0.13.
    assert_eq!(
        (
            l[0]["gross"].as_str(),
            l[0]["tax"].as_str(),
            l[0]["total"].as_str()
        ),
        (Some("1.01"), Some("0.13"), Some("1.14"))
    );
    // 2.5 × 12.3456 = 30.864 → 30.86; −10% = 3.086 → 3.09; net 27.77; 6% → 1.6662 → 1.67.
    assert_eq!(
        (
            l[1]["gross"].as_str(),
            l[1]["discount"].as_str(),
            l[1]["net"].as_str(),
            l[1]["tax"].as_str(),
            l[1]["total"].as_str()
        ),
        (
            Some("30.86"),
            Some("3.09"),
            Some("27.77"),
            Some("1.67"),
            Some("29.44")
        )
    );
    assert_eq!(
        (l[2]["net"].as_str(), l[2]["total"].as_str()),
        (Some("0.00"), Some("0.00")),
        "100% discount"
    );
    assert_eq!(
        l[0]["unit_price"], "0.335",
        "price defaults to the list price"
    );
    assert_eq!(l[1]["tax_rate"], "6", "tax defaults to the product's");
    assert_eq!(
        (
            o["subtotal"].as_str(),
            o["discount_total"].as_str(),
            o["tax_total"].as_str(),
            o["total"].as_str()
        ),
        (Some("28.78"), Some("103.08"), Some("1.80"), Some("30.58"))
    );
    assert_eq!(
        (
            o["status"].as_str(),
            o["payment_status"].as_str(),
            o["paid_amount"].as_str()
        ),
        (Some("draft"), Some("unpaid"), Some("0.00"))
    );
    assert!(
        o["number"].as_str().unwrap().starts_with("SO-")
            && o["number"].as_str().unwrap().len() == 16,
        "{}",
        o["number"]
    );
}

#[tokio::test]
async fn an_order_entered_late_carries_its_real_date() {
    let shop = shop().await;
    let app = &shop.app;
    let p = shop.product("LATE-1", "10", "0", "0").await;
    let today = chrono::Utc::now().date_naive();
    let back = today - chrono::Duration::days(75);
    let o = app
        .post(
            "/api/v1/orders",
            &shop.rep,
            json!({"customer_id": shop.customer, "warehouse_id": shop.warehouse,
                   "order_date": back.to_string(), "lines": [{"product_id": p, "quantity": "1"}]}),
        )
        .await
        .expect(201);
    assert_eq!(o.body["order_date"], back.to_string());
    let month = back.format("%Y%m").to_string();
    assert!(
        o.body["number"]
            .as_str()
            .unwrap()
            .starts_with(&format!("SO-{month}-")),
        "the number's month follows the order date: {}",
        o.body["number"]
    );
    let listed = app
        .get(
            &format!("/api/v1/orders?date_from={back}&date_to={back}"),
            &shop.rep,
        )
        .await
        .expect(200);
    assert_eq!(listed.ids(), vec![o.id()]);
    // Without a date, today; a date after today or before 2000 is refused and creates nothing.
    let plain = shop
        .order(json!([{"product_id": p, "quantity": "1"}]))
        .await;
    assert_eq!(plain["order_date"], today.to_string());
    for bad in [
        (today + chrono::Duration::days(1)).to_string(),
        "1999-12-31".into(),
    ] {
        app.post(
            "/api/v1/orders",
            &shop.rep,
            json!({"customer_id": shop.customer, "warehouse_id": shop.warehouse,
                   "order_date": bad, "lines": [{"product_id": p, "quantity": "1"}]}),
        )
        .await
        .expect_problem(422, "validation_failed")
        .fields()
        .contains(&"order_date".to_owned())
        .then_some(())
        .expect("the problem names order_date");
    }
    app.post(
        "/api/v1/orders",
        &shop.rep,
        json!({"customer_id": shop.customer, "warehouse_id": shop.warehouse,
               "order_date": "2026-13-01", "lines": [{"product_id": p, "quantity": "1"}]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let all = app.get("/api/v1/orders", &shop.rep).await.expect(200);
    assert_eq!(all.ids().len(), 2);
}

#[tokio::test]
async fn the_order_list_carries_each_orders_lines() {
    let s = shop().await;
    let a = s.product("A", "2", "0", "10").await;
    let b = s.product("B", "3", "0", "10").await;
    let one = s.order(json!([{"product_id": a, "quantity": "1"}])).await;
    let two = s
        .order(json!([{"product_id": a, "quantity": "2"}, {"product_id": b, "quantity": "1"}]))
        .await;
    let list = s
        .app
        .get("/api/v1/orders?sort=created_at", &s.rep)
        .await
        .expect(200);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["lines"], one["lines"]);
    assert_eq!(items[1]["lines"], two["lines"]);
    assert_eq!(items[1]["lines"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn the_whole_flow_keeps_stock_and_money_right() {
    let s = shop().await;
    let app = &s.app;
    let p = s.product("FLOW", "10", "13", "10").await;
    let o = s.order(json!([{"product_id": p, "quantity": "4"}])).await;
    let id = o["id"].as_str().unwrap().to_owned();
    let line = o["lines"][0]["id"].as_str().unwrap().to_owned();
    // Draft: lines can change; payments cannot be taken.
    let edited = app
        .patch(
            &format!("/api/v1/orders/{id}"),
            &s.rep,
            json!({"lines": [{"product_id": p, "quantity": "5"}]}),
        )
        .await
        .expect(200);
    assert_eq!(edited.body["total"], "56.50");
    let line = edited.body["lines"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or(line);
    let calls = [
        Call::post(
            format!("/api/v1/orders/{id}/payments"),
            json!({"amount": "1", "received_at": "2026-11-25T00:00:00Z", "method": "cash"}),
        ),
        Call::post(format!("/api/v1/orders/{id}/complete"), json!({})),
        Call::post(
            format!("/api/v1/orders/{id}/shipments"),
            json!({"lines": [{"line_id": line, "quantity": "1"}]}),
        ),
    ];
    app.refuses(&s.rep, 409, "invalid_transition", calls).await;

    let c = app.confirm(&s.rep, &id).await;
    assert_eq!(c.body["status"], "confirmed");
    assert_eq!(s.level(&p).await, ("10".into(), "5".into()));
    let calls = [
        Call::post(format!("/api/v1/orders/{id}/confirm"), json!({})),
        Call::patch(
            format!("/api/v1/orders/{id}"),
            json!({"lines": [{"product_id": p, "quantity": "1"}]}),
        ),
    ];
    app.refuses(&s.rep, 409, "invalid_transition", calls).await;

    let r = app
        .post(
            &format!("/api/v1/orders/{id}/shipments"),
            &s.rep,
            json!({"lines": [{"line_id": line, "quantity": "6"}]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["lines[0].quantity"], "more than ordered");
    let part = app
        .post(
            &format!("/api/v1/orders/{id}/shipments"),
            &s.rep,
            json!({"lines": [{"line_id": line, "quantity": "2"}]}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            part.body["status"].as_str(),
            part.body["lines"][0]["shipped_quantity"].as_str()
        ),
        (Some("partially_shipped"), Some("2"))
    );
    assert_eq!(s.level(&p).await, ("8".into(), "3".into()));
    app.post(&format!("/api/v1/orders/{id}/cancel"), &s.rep, json!({}))
        .await
        .expect_problem(409, "invalid_transition");
    app.post(
        &format!("/api/v1/orders/{id}/shipments"),
        &s.rep,
        json!({"lines": [{"line_id": line, "quantity": "3"}]}),
    )
    .await
    .expect(200);
    assert_eq!(s.level(&p).await, ("5".into(), "0".into()));
    let done = app
        .post(&format!("/api/v1/orders/{id}/complete"), &s.rep, json!({}))
        .await
        .expect(200);
    assert_eq!(done.body["status"], "completed");

    let pay = app.post(&format!("/api/v1/orders/{id}/payments"), &s.rep, json!({"amount": "50.00", "received_at": "2026-11-25T08:00:00Z", "method": "bank_transfer", "reference": "回单 1"})).await.expect(201);
    assert_eq!(
        (
            pay.body["payment_status"].as_str(),
            pay.body["paid_amount"].as_str()
        ),
        (Some("partial"), Some("50.00"))
    );
    let over = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            &s.rep,
            json!({"amount": "6.51", "received_at": "2026-11-25T09:00:00Z", "method": "cash"}),
        )
        .await
        .expect_problem(409, "overpayment");
    assert!(over.body["detail"].as_str().unwrap().contains("6.50"));
    app.post(
        &format!("/api/v1/orders/{id}/payments"),
        &s.rep,
        json!({"amount": "6.50", "received_at": "2026-11-25T09:00:00Z", "method": "wire"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            &s.rep,
            json!({"amount": "6.50", "received_at": "2026-11-25T09:00:00Z", "method": "cash"}),
        )
        .await
        .expect(201);
    assert_eq!(paid.body["payment_status"], "paid");
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}/payments"), &s.rep)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.ledger(&p).await,
        (5000, 0),
        "the ledger sums to the level"
    );
}

#[tokio::test]
async fn confirmation_is_all_or_nothing_and_names_short_lines() {
    let s = shop().await;
    let app = &s.app;
    let plenty = s.product("PLENTY", "1", "0", "100").await;
    let scarce = s.product("SCARCE", "1", "0", "2").await;
    let o = s.order(json!([{"product_id": plenty, "quantity": "10"}, {"product_id": scarce, "quantity": "3"}])).await;
    let id = o["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/orders/{id}/confirm"), &s.rep, json!({}))
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(r.fields(), vec!["lines[1].quantity"]);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 is available")
    );
    assert_eq!(
        s.level(&plenty).await,
        ("100".into(), "0".into()),
        "nothing reserved"
    );
    let after = app
        .get(&format!("/api/v1/orders/{id}"), &s.rep)
        .await
        .expect(200);
    assert_eq!(after.body["status"], "draft");
    assert_eq!(
        after.body["version"], o["version"],
        "the order did not move"
    );
    // The ledger entries and the audit entry sent with the reservation went back with it.
    assert_eq!(
        s.ledger(&plenty).await,
        (100_000, 0),
        "no reservation entry"
    );
    let log = app
        .get(
            &format!("/api/v1/audit?entity=order&entity_id={id}"),
            &app.admin,
        )
        .await
        .expect(200);
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["create"], "no confirmation audited");
    // Cancelling a confirmed order releases its reservation.
    let o2 = s
        .order(json!([{"product_id": plenty, "quantity": "10"}]))
        .await;
    let id2 = o2["id"].as_str().unwrap();
    app.confirm(&s.rep, id2).await;
    assert_eq!(s.level(&plenty).await, ("100".into(), "10".into()));
    app.post(&format!("/api/v1/orders/{id2}/cancel"), &s.rep, json!({}))
        .await
        .expect(200);
    assert_eq!(s.level(&plenty).await, ("100".into(), "0".into()));
    app.post(&format!("/api/v1/orders/{id2}/cancel"), &s.rep, json!({}))
        .await
        .expect_problem(409, "invalid_transition");
    assert_eq!(s.ledger(&plenty).await, (100_000, 0));
}

#[tokio::test]
async fn a_product_on_two_lines_is_reserved_for_both_or_for_neither() {
    let s = shop().await;
    let app = &s.app;
    let plenty = s.product("PLENTY2", "1", "0", "100").await;
    let five = s.product("FIVE", "1", "0", "5").await;
    // 3 + 3 of a product with 5: the second line is short, with what the first left.
    let o = s
        .order(json!([
            {"product_id": five, "quantity": "3"},
            {"product_id": plenty, "quantity": "1"},
            {"product_id": five, "quantity": "3"}
        ]))
        .await;
    let id = o["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/orders/{id}/confirm"), &s.rep, json!({}))
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(r.fields(), vec!["lines[2].quantity"]);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 is available"),
        "{}",
        r.body
    );
    assert_eq!(
        s.level(&five).await,
        ("5".into(), "0".into()),
        "nothing reserved"
    );
    assert_eq!(
        s.level(&plenty).await,
        ("100".into(), "0".into()),
        "nothing reserved"
    );
    // 2 + 3 fits exactly: both lines are reserved, each with its own ledger entry.
    let o = s
        .order(json!([
            {"product_id": five, "quantity": "2"},
            {"product_id": five, "quantity": "3"}
        ]))
        .await;
    let id = o["id"].as_str().unwrap();
    app.confirm(&s.rep, id).await;
    assert_eq!(s.level(&five).await, ("5".into(), "5".into()));
    assert_eq!(s.ledger(&five).await, (5_000, 5_000));
    let moves = app
        .get(
            &format!("/api/v1/stock/movements?product_id={five}&kind=reserve"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(
        moves.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        moves.body
    );
}

#[tokio::test]
async fn two_hundred_concurrent_confirmations_against_stock_for_one_hundred() {
    let s = shop().await;
    let app = &s.app;
    let p = s.product("HOT", "1", "0", "100").await;
    let mut ids = Vec::with_capacity(200);
    for _ in 0..200 {
        ids.push(
            s.order(json!([{"product_id": p, "quantity": "1"}])).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/orders/{id}/confirm"))
        .collect();
    let confirms = paths.iter().map(|path| app.post(path, &s.rep, json!({})));
    let replies = futures_util::future::join_all(confirms).await;
    let ok = replies.iter().filter(|r| r.status.as_u16() == 200).count();
    let short = replies
        .iter()
        .filter(|r| r.status.as_u16() == 409 && r.code() == "insufficient_stock")
        .count();
    assert_eq!(
        (ok, short),
        (100, 100),
        "{:?}",
        replies
            .iter()
            .filter(|r| r.status.as_u16() != 200 && r.status.as_u16() != 409)
            .map(|r| r.body.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        s.level(&p).await,
        ("100".into(), "100".into()),
        "none oversold"
    );
    assert_eq!(
        s.ledger(&p).await,
        (100_000, 100_000),
        "ledger sums equal the level"
    );
    let confirmed = app
        .get("/api/v1/orders?status=confirmed&include_total=true", &s.rep)
        .await
        .expect(200);
    assert_eq!(confirmed.body["total"], 100);
}

#[tokio::test]
async fn concurrent_shipments_and_cancels_never_double_count() {
    let s = shop().await;
    let app = &s.app;
    let p = s.product("RACE", "1", "0", "10").await;
    let o = s.order(json!([{"product_id": p, "quantity": "4"}])).await;
    let id = o["id"].as_str().unwrap().to_owned();
    let line = o["lines"][0]["id"].as_str().unwrap().to_owned();
    app.confirm(&s.rep, &id).await;
    let ship_path = format!("/api/v1/orders/{id}/shipments");
    let cancel_path = format!("/api/v1/orders/{id}/cancel");
    let mut ops = vec![];
    for i in 0..6 {
        if i % 2 == 0 {
            ops.push(app.post(
                &ship_path,
                &s.rep,
                json!({"lines": [{"line_id": line, "quantity": "2"}]}),
            ));
        } else {
            ops.push(app.post(&cancel_path, &s.rep, json!({})));
        }
    }
    futures_util::future::join_all(ops).await;
    let (on_hand, reserved) = s.level(&p).await;
    let order = app
        .get(&format!("/api/v1/orders/{id}"), &s.rep)
        .await
        .expect(200);
    let shipped: f64 = order.body["lines"][0]["shipped_quantity"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let on_hand: f64 = on_hand.parse().unwrap();
    let reserved: f64 = reserved.parse().unwrap();
    assert_eq!(
        on_hand + shipped,
        10.0,
        "every shipped unit left on-hand exactly once"
    );
    match order.body["status"].as_str().unwrap() {
        "cancelled" => assert_eq!(reserved, 0.0, "a cancel released the rest exactly once"),
        "shipped" => assert_eq!((shipped, reserved), (4.0, 0.0)),
        other => panic!("unexpected status {other}"),
    }
    let (h, r) = s.ledger(&p).await;
    assert_eq!((h as f64 / 1000.0, r as f64 / 1000.0), (on_hand, reserved));
}

#[tokio::test]
async fn orders_are_scoped_and_validated() {
    let s = shop().await;
    let app = &s.app;
    let (_, other) = app.user("sales", None).await;
    let p = s.product("SCOPE", "1", "0", "5").await;
    let o = s.order(json!([{"product_id": p, "quantity": "1"}])).await;
    let id = o["id"].as_str().unwrap();
    let calls = [
        Call::get(format!("/api/v1/orders/{id}")),
        Call::post(format!("/api/v1/orders/{id}/confirm"), json!({})),
    ];
    app.refuses(&other, 404, "not_found", calls).await;
    app.assert_empty("/api/v1/orders", &other, "nothing listed")
        .await;
    for (lines, field) in [
        (json!([]), "lines"),
        (
            json!([{"product_id": p, "quantity": "0"}]),
            "lines[0].quantity",
        ),
        (
            json!([{"product_id": p, "quantity": "1", "discount_percent": "101"}]),
            "lines[0].discount_percent",
        ),
        (
            json!([{"product_id": p, "quantity": "1", "unit_price": "0.00001"}]),
            "lines[0].unit_price",
        ),
        (
            json!([{"product_id": uuid::Uuid::now_v7(), "quantity": "1"}]),
            "lines[0].product_id",
        ),
    ] {
        let r = app
            .post(
                "/api/v1/orders",
                &s.rep,
                json!({"customer_id": s.customer, "warehouse_id": s.warehouse, "lines": lines}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec![field.to_owned()], "{lines}");
    }
    let r = app.post("/api/v1/orders", &s.rep, json!({"customer_id": s.customer, "warehouse_id": uuid::Uuid::now_v7(), "lines": [{"product_id": p, "quantity": "1"}]})).await.expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["warehouse_id"]);
    // A customer outside the caller's scope, or none at all, is a 422 naming
    // `customer_id`, before an unknown warehouse or product.
    for (who, customer, warehouse, product) in [
        (&other, s.customer.clone(), s.warehouse.clone(), p.clone()),
        (
            &other,
            s.customer.clone(),
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
        ),
        (
            &s.rep,
            uuid::Uuid::now_v7().to_string(),
            s.warehouse.clone(),
            p.clone(),
        ),
        (
            &s.rep,
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
            p.clone(),
        ),
    ] {
        let r = app.post("/api/v1/orders", who, json!({"customer_id": customer, "warehouse_id": warehouse, "lines": [{"product_id": product, "quantity": "1"}]})).await.expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec!["customer_id"], "{}", r.body);
    }
    // An opportunity of another customer is named before the lines.
    let elsewhere = app.customer(&s.rep, "Elsewhere Co", json!({})).await;
    let opportunity = app.opportunity(&s.rep, &elsewhere, "Deal", "100").await;
    let r = app.post("/api/v1/orders", &s.rep, json!({"customer_id": s.customer, "warehouse_id": s.warehouse, "opportunity_id": opportunity, "lines": [{"product_id": uuid::Uuid::now_v7(), "quantity": "1"}]})).await.expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["opportunity_id"]);
    // A rep takes a customer out of the pool before ordering for it; a manager may order
    // for it as it is.
    let pooled = app.pool_customer("Pooled Co").await;
    let body = json!({"customer_id": pooled, "warehouse_id": s.warehouse, "lines": [{"product_id": p, "quantity": "1"}]});
    app.post("/api/v1/orders", &s.rep, body.clone())
        .await
        .expect_problem(403, "forbidden");
    let (_, manager) = app.user("manager", None).await;
    let made = app.post("/api/v1/orders", &manager, body).await.expect(201);
    assert_eq!(made.body["customer_id"].as_str(), Some(pooled.as_str()));
}

#[tokio::test]
async fn orders_appear_in_the_customers_timeline() {
    let s = shop().await;
    let p = s.product("TL", "2", "0", "5").await;
    let o = s.order(json!([{"product_id": p, "quantity": "1"}])).await;
    let t = s
        .app
        .get(
            &format!("/api/v1/customers/{}/timeline", s.customer),
            &s.rep,
        )
        .await
        .expect(200);
    let entry = &t.body["items"][0];
    assert_eq!(
        (
            entry["kind"].as_str(),
            entry["order"]["number"].as_str(),
            entry["order"]["total"].as_str()
        ),
        (Some("order"), o["number"].as_str(), Some("2.00"))
    );
}

#[tokio::test]
async fn payment_plans_add_up_to_the_order_total() {
    let s = shop().await;
    let p = s.product("PLAN", "100", "13", "5").await;
    let o = s.order(json!([{"product_id": p, "quantity": "3"}])).await;
    let id = o["id"].as_str().unwrap();
    assert_eq!(o["total"], "339.00");
    let path = format!("/api/v1/orders/{id}/payment-plan");
    let rb = |body: serde_json::Value| {
        s.app
            .client
            .put(format!("{}{path}", s.app.address))
            .bearer_auth(&s.rep)
            .json(&body)
    };
    let r = s.app.send(rb(json!({"instalments": [{"due_date": "2026-12-31", "amount": "100.00"}, {"due_date": "2027-01-31", "amount": "239.01"}]}))).await.expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["instalments"]);
    s.app.send(rb(json!({"instalments": [{"due_date": "2027-01-31", "amount": "100.00"}, {"due_date": "2026-12-31", "amount": "239.00"}]}))).await.expect_problem(422, "validation_failed");
    let ok = s.app.send(rb(json!({"instalments": [{"due_date": "2026-12-31", "amount": "100.00"}, {"due_date": "2027-01-31", "amount": "239.00"}]}))).await.expect(200);
    assert_eq!(ok.body["instalments"][1]["amount"], "239.00");
    let got = s.app.get(&path, &s.rep).await.expect(200);
    assert_eq!(got.body["instalments"].as_array().unwrap().len(), 2);
    let (_, other) = s.app.user("sales", None).await;
    s.app
        .get(&path, &other)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn concurrent_first_orders_of_a_month_get_distinct_numbers() {
    let s = shop().await;
    let p = s.product("NUM", "1", "0", "0").await;
    let body = json!({"customer_id": s.customer, "warehouse_id": s.warehouse, "lines": [{"product_id": p, "quantity": "1"}]});
    let creates = (0..12).map(|_| s.app.post("/api/v1/orders", &s.rep, body.clone()));
    let replies = futures_util::future::join_all(creates).await;
    let mut numbers: Vec<String> = replies
        .iter()
        .map(|r| {
            r.body["number"]
                .as_str()
                .unwrap_or_else(|| panic!("{}", r.body))
                .to_owned()
        })
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12);
    assert!(
        numbers[0].ends_with("-000001") && numbers[11].ends_with("-000012"),
        "{numbers:?}"
    );
}

#[tokio::test]
async fn a_refused_order_uses_no_number() {
    let s = shop().await;
    let p = s.product("GAP", "1", "0", "0").await;
    let first = s.order(json!([{"product_id": p, "quantity": "1"}])).await;
    let refused = s
        .app
        .post(
            "/api/v1/orders",
            &s.rep,
            json!({"customer_id": s.customer, "warehouse_id": uuid::Uuid::now_v7(), "lines": [{"product_id": p, "quantity": "1"}]}),
        )
        .await;
    refused.expect_problem(422, "validation_failed");
    let next = s.order(json!([{"product_id": p, "quantity": "1"}])).await;
    let n = |o: &Value| -> u32 {
        o["number"]
            .as_str()
            .and_then(|n| n.rsplit('-').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{o}"))
    };
    assert_eq!(
        n(&next),
        n(&first) + 1,
        "{} then {}",
        first["number"],
        next["number"]
    );
}

#[tokio::test]
async fn a_pool_customers_timeline_hides_other_reps_orders_and_deals() {
    let s = shop().await;
    let (_, other) = s.app.user("sales", None).await;
    let p = s.product("HIDE", "1", "0", "5").await;
    s.order(json!([{"product_id": p, "quantity": "1"}])).await;
    s.app
        .post(
            "/api/v1/opportunities",
            &s.rep,
            json!({"customer_id": s.customer, "name": "Deal", "amount": "5"}),
        )
        .await
        .expect(201);
    s.app
        .post(
            &format!("/api/v1/customers/{}/release", s.customer),
            &s.rep,
            json!({}),
        )
        .await
        .expect(200);
    let kinds = |t: &Reply| {
        t.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let theirs = s
        .app
        .get(
            &format!("/api/v1/customers/{}/timeline", s.customer),
            &other,
        )
        .await
        .expect(200);
    assert!(
        !kinds(&theirs)
            .iter()
            .any(|k| k == "order" || k == "stage_changed"),
        "{:?}",
        kinds(&theirs)
    );
    let admins = s
        .app
        .get(
            &format!("/api/v1/customers/{}/timeline", s.customer),
            &s.app.admin,
        )
        .await
        .expect(200);
    assert!(
        kinds(&admins).contains(&"order".to_owned())
            && kinds(&admins).contains(&"stage_changed".to_owned())
    );
}

/// On SQLite, writes append to the write-ahead log and are copied back into the database
/// file as they go on, so the log stays small however many orders a server takes.
#[tokio::test]
async fn the_sqlite_write_ahead_log_is_copied_back_as_writes_go_on() {
    let db = TestDb::sqlite();
    let wal = db
        .sqlite_file()
        .map(|f| format!("{}-wal", f.display()))
        .expect("an SQLite file");
    let app = spawn_app_on(db, |_| {}).await;
    let (_, rep) = app.user("sales", None).await;
    let (warehouse, product) = app.warehouse_and_product().await;
    app.receive(&warehouse, &product, "100000").await;
    let customer = app.customer(&rep, "Write-ahead Co", json!({})).await;
    for _ in 0..300 {
        let order = app
            .post(
                "/api/v1/orders",
                &rep,
                json!({"customer_id": customer, "warehouse_id": warehouse,
                       "lines": [{"product_id": product, "quantity": "1"}]}),
            )
            .await
            .expect(201);
        app.confirm(&rep, &order.id()).await;
    }
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    // Never copied back, 600 such writes leave a log of about 48 MB.
    assert!(
        size < 16 << 20,
        "the write-ahead log grew to {size} bytes over 600 writes"
    );
}
