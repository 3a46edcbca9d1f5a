//! `Idempotency-Key` on creating orders, payments and stock movements.

use serde_json::json;

use crate::helpers::*;

async fn keyed(
    app: &TestApp,
    address: &str,
    path: &str,
    key: &str,
    body: serde_json::Value,
) -> Reply {
    let rb = app
        .client
        .post(format!("{address}{path}"))
        .bearer_auth(&app.admin)
        .header("Idempotency-Key", key)
        .json(&body);
    app.send(rb).await
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer_even_after_a_restart() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Idem Co", json!({})).await;
    let w = app
        .post(
            "/api/v1/warehouses",
            &app.admin,
            json!({"code": "IW", "name": "W"}),
        )
        .await
        .expect(201)
        .id();
    let p = app
        .post(
            "/api/v1/products",
            &app.admin,
            json!({"sku": "IP", "name": "P", "unit": "件", "list_price": "10", "tax_rate": "0"}),
        )
        .await
        .expect(201)
        .id();

    let receipt = json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "5"}]});
    let first = keyed(
        &app,
        &app.address,
        "/api/v1/stock/receipts",
        "rcpt-1",
        receipt.clone(),
    )
    .await
    .expect(201);
    let again = keyed(
        &app,
        &app.address,
        "/api/v1/stock/receipts",
        "rcpt-1",
        receipt.clone(),
    )
    .await
    .expect(201);
    assert_eq!(first.body, again.body);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let level = app
        .get(&format!("/api/v1/stock?product_id={p}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(level.body["items"][0]["on_hand"], "5", "received once");

    let order =
        json!({"customer_id": c, "warehouse_id": w, "lines": [{"product_id": p, "quantity": "1"}]});
    let o1 = keyed(
        &app,
        &app.address,
        "/api/v1/orders",
        "order-1",
        order.clone(),
    )
    .await
    .expect(201);
    // A restart (or another instance on the same database) remembers the key.
    let other = app.another_instance().await;
    let o2 = keyed(&app, &other, "/api/v1/orders", "order-1", order.clone())
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
    let r = keyed(&app, &app.address, "/api/v1/orders", "order-1", other_body)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["Idempotency-Key"]);

    let id = o1.body["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/orders/{id}/confirm"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(200);
    let pay = json!({"amount": "0.50", "received_at": "2026-11-25T00:00:00Z", "method": "cash"});
    keyed(
        &app,
        &app.address,
        &format!("/api/v1/orders/{id}/payments"),
        "pay-1",
        pay.clone(),
    )
    .await
    .expect(201);
    let replay = keyed(
        &app,
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
    let w = app
        .post(
            "/api/v1/warehouses",
            &app.admin,
            json!({"code": "FW", "name": "W"}),
        )
        .await
        .expect(201)
        .id();
    let p = app
        .post(
            "/api/v1/products",
            &app.admin,
            json!({"sku": "FP", "name": "P", "unit": "件", "list_price": "1", "tax_rate": "0"}),
        )
        .await
        .expect(201)
        .id();
    let take = json!({"warehouse_id": w, "product_id": p, "quantity": "-1", "reason": "x"});
    keyed(
        &app,
        &app.address,
        "/api/v1/stock/adjustments",
        "adj-1",
        take.clone(),
    )
    .await
    .expect_problem(409, "insufficient_stock");
    app.post(
        "/api/v1/stock/receipts",
        &app.admin,
        json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "1"}]}),
    )
    .await
    .expect(201);
    let ok = keyed(
        &app,
        &app.address,
        "/api/v1/stock/adjustments",
        "adj-1",
        take,
    )
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
    let w = app
        .post(
            "/api/v1/warehouses",
            &app.admin,
            json!({"code": "SW", "name": "W"}),
        )
        .await
        .expect(201)
        .id();
    let p = app
        .post(
            "/api/v1/products",
            &app.admin,
            json!({"sku": "SP", "name": "P", "unit": "件", "list_price": "1", "tax_rate": "0"}),
        )
        .await
        .expect(201)
        .id();
    app.post(
        "/api/v1/stock/receipts",
        &app.admin,
        json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "10"}]}),
    )
    .await
    .expect(201);
    let order = app
        .post(
            "/api/v1/orders",
            &app.admin,
            json!({"customer_id": c, "warehouse_id": w, "lines": [{"product_id": p, "quantity": "4"}]}),
        )
        .await
        .expect(201);
    let (id, line) = (order.id(), order.body["lines"][0]["id"].clone());
    app.post(
        &format!("/api/v1/orders/{id}/confirm"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(200);
    let path = format!("/api/v1/orders/{id}/shipments");
    let ship = json!({"lines": [{"line_id": line, "quantity": "1"}]});
    let first = keyed(&app, &app.address, &path, "ship-1", ship.clone())
        .await
        .expect(200);
    let again = keyed(&app, &app.address, &path, "ship-1", ship)
        .await
        .expect(200);
    assert_eq!(first.body, again.body);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
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
