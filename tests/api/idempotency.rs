//! `Idempotency-Key` on creating orders, payments and stock movements.

use serde_json::{Value, json};

use crate::helpers::*;

/// A warehouse `{tag}W` and an untaxed product `{tag}P` at `price` (as admin).
async fn warehouse_and_product(app: &TestApp, tag: &str, price: &str) -> (String, String) {
    let w = app.warehouse(&format!("{tag}W"), "W").await;
    let p = app
        .product(json!({"sku": format!("{tag}P"), "name": "P", "unit": "件", "list_price": price, "tax_rate": "0"}))
        .await;
    (w, p)
}

/// Sends the same keyed request twice: both answer `status`, the second a replay of the
/// first.
async fn sent_twice(app: &TestApp, path: &str, key: &str, body: Value, status: u16) {
    let first = app
        .keyed(&app.address, path, key, body.clone())
        .await
        .expect(status);
    let again = app
        .keyed(&app.address, path, key, body)
        .await
        .expect(status);
    assert_eq!(first.body, again.body);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer_even_after_a_restart() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Idem Co", json!({})).await;
    let (w, p) = warehouse_and_product(&app, "I", "10").await;

    let receipt = json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "5"}]});
    sent_twice(&app, "/api/v1/stock/receipts", "rcpt-1", receipt, 201).await;
    let level = app
        .get(&format!("/api/v1/stock?product_id={p}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(level.body["items"][0]["on_hand"], "5", "received once");

    let order =
        json!({"customer_id": c, "warehouse_id": w, "lines": [{"product_id": p, "quantity": "1"}]});
    let o1 = app
        .keyed(&app.address, "/api/v1/orders", "order-1", order.clone())
        .await
        .expect(201);
    // A restart (or another instance on the same database) remembers the key.
    let other = app.another_instance().await;
    let o2 = app
        .keyed(&other, "/api/v1/orders", "order-1", order.clone())
        .await
        .expect(201);
    assert_eq!(o1.body["id"], o2.body["id"]);
    assert_eq!(o1.header("location"), o2.header("location"));
    assert_eq!(
        app.get("/api/v1/orders?include_total=true", &app.admin)
            .await
            .expect(200)
            .body["total"],
        1,
        "created once"
    );

    let other_body =
        json!({"customer_id": c, "warehouse_id": w, "lines": [{"product_id": p, "quantity": "2"}]});
    let r = app
        .keyed(&app.address, "/api/v1/orders", "order-1", other_body)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["Idempotency-Key"]);

    let id = o1.body["id"].as_str().unwrap();
    app.confirm(&app.admin, id).await;
    let pay = json!({"amount": "0.50", "received_at": "2026-11-25T00:00:00Z", "method": "cash"});
    app.keyed(
        &app.address,
        &format!("/api/v1/orders/{id}/payments"),
        "pay-1",
        pay.clone(),
    )
    .await
    .expect(201);
    let replay = app
        .keyed(
            &app.address,
            &format!("/api/v1/orders/{id}/payments"),
            "pay-1",
            pay,
        )
        .await
        .expect(201);
    assert_eq!(replay.body["paid_amount"], "0.50", "paid once");
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}/payments"), &app.admin)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_failed_request_frees_its_key() {
    let app = spawn_app().await;
    let (w, p) = warehouse_and_product(&app, "F", "1").await;
    let take = json!({"warehouse_id": w, "product_id": p, "quantity": "-1", "reason": "x"});
    app.keyed(
        &app.address,
        "/api/v1/stock/adjustments",
        "adj-1",
        take.clone(),
    )
    .await
    .expect_problem(409, "insufficient_stock");
    app.receive(&w, &p, "1").await;
    let ok = app
        .keyed(&app.address, "/api/v1/stock/adjustments", "adj-1", take)
        .await
        .expect(201);
    assert_eq!(ok.body["on_hand"], "0");
    let bad = app
        .client
        .post(format!("{}/api/v1/orders", app.address))
        .bearer_auth(&app.admin)
        .header("Idempotency-Key", "")
        .json(&json!({}));
    app.send(bad).await.expect_problem(400, "invalid_parameter");
}

#[tokio::test]
async fn a_shipment_with_a_key_ships_once() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Ship Co", json!({})).await;
    let (w, p) = warehouse_and_product(&app, "S", "1").await;
    app.receive(&w, &p, "10").await;
    let order = app
        .post(
            "/api/v1/orders",
            &app.admin,
            json!({"customer_id": c, "warehouse_id": w, "lines": [{"product_id": p, "quantity": "4"}]}),
        )
        .await
        .expect(201);
    let (id, line) = (order.id(), order.body["lines"][0]["id"].clone());
    app.confirm(&app.admin, &id).await;
    let path = format!("/api/v1/orders/{id}/shipments");
    let ship = json!({"lines": [{"line_id": line, "quantity": "1"}]});
    sent_twice(&app, &path, "ship-1", ship, 200).await;
    let now = app
        .get(&format!("/api/v1/orders/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(
        now.body["lines"][0]["shipped_quantity"], "1",
        "shipped once"
    );
    assert_eq!(now.body["status"], "partially_shipped");
}
