//! The limits the API description publishes are the ones the server applies: a request
//! just over one is refused naming the field, and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// The `errors[].code` the problem gives `field`.
fn code_of(r: &Reply, field: &str) -> String {
    r.body["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["field"] == field))
        .and_then(|e| e["code"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {}", r.body))
        .to_owned()
}

#[tokio::test]
async fn text_is_measured_as_sent_and_decimals_are_plain_digits() {
    let app = spawn_app().await;
    // 200 characters of name with a space around it is 202 as sent: over the limit.
    let padded = format!(" {} ", "名".repeat(200));
    let r = app
        .post("/api/v1/customers", &app.admin, json!({"name": padded}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(code_of(&r, "name"), "too_long");
    app.post(
        "/api/v1/customers",
        &app.admin,
        json!({"name": "名".repeat(200)}),
    )
    .await
    .expect(201);
    let product = json!({"sku": "P1", "name": "p", "unit": "个", "tax_rate": "13"});
    for bad in ["1e3", "+5", ".5", "5.", "1_000", " 5"] {
        let mut body = product.clone();
        body["list_price"] = json!(bad);
        let r = app
            .post("/api/v1/products", &app.admin, body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(code_of(&r, "list_price"), "invalid", "{bad:?}");
    }
    let total = app
        .get("/api/v1/products?include_total=true", &app.admin)
        .await
        .expect(200);
    assert_eq!(total.body["total"], 0, "nothing was created");
}

#[tokio::test]
async fn lists_cap_their_depth_and_their_parameters() {
    let app = spawn_app().await;
    let r = app
        .get("/api/v1/customers?page=201&per_page=50", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(code_of(&r, "page"), "too_deep");
    app.get("/api/v1/customers?page=200&per_page=50", &app.admin)
        .await
        .expect(200);
    let r = app
        .get(
            &format!("/api/v1/customers?q={}", "x".repeat(201)),
            &app.admin,
        )
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(code_of(&r, "q"), "too_long");
    let r = app
        .get(
            "/api/v1/customers?sort=name,-created_at,id,level",
            &app.admin,
        )
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["sort".to_owned()]);
}

#[tokio::test]
async fn ids_and_etags_take_the_one_form_the_api_sends() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Acme", json!({})).await;
    let simple = c.replace('-', "");
    let r = app
        .get(&format!("/api/v1/customers/{simple}"), &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["id".to_owned()]);
    for etag in ["W/1", "+1", "-1", "\"1", "null"] {
        let rb = app
            .client
            .patch(format!("{}/api/v1/customers/{c}", app.address))
            .bearer_auth(&app.admin)
            .header("if-match", etag)
            .json(&json!({"name": "Changed"}));
        let r = app.send(rb).await.expect_problem(400, "invalid_parameter");
        assert_eq!(r.fields(), vec!["If-Match".to_owned()], "{etag}");
    }
    for etag in ["\"1\"", "W/\"1\"", "1"] {
        let rb = app
            .client
            .patch(format!("{}/api/v1/customers/{c}", app.address))
            .bearer_auth(&app.admin)
            .header("if-match", etag)
            .json(&json!({"notes": etag}));
        let r = app.send(rb).await;
        // The first matching write moves the version on; later ones are stale.
        assert!(
            r.status == 200 || r.status == 412,
            "{etag}: {} {}",
            r.status,
            r.body
        );
    }
    let back = app
        .get(&format!("/api/v1/customers/{c}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(back.body["name"], "Acme", "no refused change landed");
}

#[tokio::test]
async fn big_requests_are_refused_before_they_cost_anything() {
    let app = spawn_app().await;
    let line = json!({"product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "quantity": "1"});
    let lines: Vec<Value> = std::iter::repeat_n(line, 501).collect();
    let r = app
        .post(
            "/api/v1/stock/receipts",
            &app.admin,
            json!({"warehouse_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "lines": lines}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(code_of(&r, "lines"), "too_many");
    let r = app
        .post(
            "/api/v1/stock/receipts",
            &app.admin,
            json!({"warehouse_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "lines": [
                {"product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "quantity": "1000000000.001"}
            ]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(code_of(&r, "lines[0].quantity"), "out_of_range");
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": "x".repeat(201)})),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(code_of(&r, "password"), "too_long");
}

#[tokio::test]
async fn a_pipeline_holds_at_most_fifty_stages() {
    let app = spawn_app().await;
    let have = app
        .get("/api/v1/pipeline/stages", &app.admin)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .map_or(0, Vec::len);
    for i in have..50 {
        app.post(
            "/api/v1/pipeline/stages",
            &app.admin,
            json!({"name": format!("Stage {i}"), "position": 1000 + i, "probability": 50}),
        )
        .await
        .expect(201);
    }
    app.post(
        "/api/v1/pipeline/stages",
        &app.admin,
        json!({"name": "One too many", "position": 2000, "probability": 50}),
    )
    .await
    .expect_problem(409, "conflict");
}
