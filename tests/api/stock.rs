//! Products, warehouses and the stock ledger.

use serde_json::json;

use crate::helpers::*;

async fn product(app: &TestApp, sku: &str, extra: serde_json::Value) -> String {
    let mut body = json!({"sku": sku, "name": format!("Product {sku}"), "unit": "件", "list_price": "12.5", "cost": "8.2", "tax_rate": "13"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.post("/api/v1/products", &app.admin, body)
        .await
        .expect(201)
        .id()
}

async fn warehouse(app: &TestApp, code: &str) -> String {
    app.post(
        "/api/v1/warehouses",
        &app.admin,
        json!({"code": code, "name": format!("仓库 {code}")}),
    )
    .await
    .expect(201)
    .id()
}

#[tokio::test]
async fn products_keep_exact_prices_and_hide_cost_from_reps() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let id = product(
        &app,
        "BOLT-M6",
        json!({"list_price": "12.3456", "reorder_point": "2.5"}),
    )
    .await;
    let admin_view = app
        .get(&format!("/api/v1/products/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(
        (
            admin_view.body["list_price"].as_str(),
            admin_view.body["cost"].as_str(),
            admin_view.body["tax_rate"].as_str(),
            admin_view.body["reorder_point"].as_str()
        ),
        (Some("12.3456"), Some("8.20"), Some("13"), Some("2.5"))
    );
    let rep_view = app
        .get(&format!("/api/v1/products/{id}"), &rep)
        .await
        .expect(200);
    assert!(rep_view.body.get("cost").is_none(), "{}", rep_view.body);
    assert!(
        app.get("/api/v1/products", &rep).await.expect(200).body["items"][0]
            .get("cost")
            .is_none()
    );
    app.post(
        "/api/v1/products",
        &rep,
        json!({"sku": "X", "name": "x", "unit": "个", "list_price": "1", "tax_rate": "0"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let taken = app.post(
        "/api/v1/products",
        &app.admin,
        json!({"sku": "BOLT-M6", "name": "dup", "unit": "个", "list_price": "1", "tax_rate": "0"}),
    )
    .await
    .expect_problem(409, "conflict");
    assert_eq!(taken.fields(), vec!["sku"], "the conflict names the field");
    app.post_each_invalid(
        "/api/v1/products",
        &app.admin,
        [
            (
                json!({"sku": "A1", "name": "x", "unit": "个", "list_price": "1.00001", "tax_rate": "13"}),
                "list_price",
                "too_precise",
            ),
            (
                json!({"sku": "A1", "name": "x", "unit": "个", "list_price": "1", "tax_rate": "130"}),
                "tax_rate",
                "out_of_range",
            ),
            (
                json!({"sku": "A 1", "name": "x", "unit": "个", "list_price": "1", "tax_rate": "13"}),
                "sku",
                "invalid_sku",
            ),
            (
                json!({"sku": "A1", "name": "x", "unit": "个", "list_price": 1.5, "tax_rate": "13"}),
                "list_price",
                "invalid_type",
            ),
            (
                json!({"sku": "A1", "name": "x", "unit": "个", "list_price": "-1", "tax_rate": "13"}),
                "list_price",
                "out_of_range",
            ),
        ],
    )
    .await;
    let upd = app
        .patch(
            &format!("/api/v1/products/{id}"),
            &app.admin,
            json!({"list_price": "13", "active": false}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            upd.body["list_price"].as_str(),
            upd.body["active"].as_bool()
        ),
        (Some("13.00"), Some(false))
    );
    app.patch(
        &format!("/api/v1/products/{id}"),
        &rep,
        json!({"name": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn receipts_and_adjustments_keep_levels_equal_to_the_ledger() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let p = product(&app, "P1", json!({"reorder_point": "10"})).await;
    let w = warehouse(&app, "HZ-01").await;
    let r = app.post("/api/v1/stock/receipts", &app.admin, json!({"warehouse_id": w, "reference": "PO-1", "lines": [{"product_id": p, "quantity": "100"}, {"product_id": p, "quantity": "2.5"}]})).await.expect(201);
    assert_eq!(r.body["movements"].as_array().unwrap().len(), 2);
    let adj = app
        .post(
            "/api/v1/stock/adjustments",
            &app.admin,
            json!({"warehouse_id": w, "product_id": p, "quantity": "-0.5", "reason": "盘点损耗"}),
        )
        .await
        .expect(201);
    assert_eq!(
        (adj.body["on_hand"].as_str(), adj.body["available"].as_str()),
        (Some("102"), Some("102"))
    );
    let over = app
        .post(
            "/api/v1/stock/adjustments",
            &app.admin,
            json!({"warehouse_id": w, "product_id": p, "quantity": "-102.001", "reason": "x"}),
        )
        .await
        .expect_problem(409, "insufficient_stock");
    assert!(over.body["detail"].as_str().is_some());
    app.post(
        "/api/v1/stock/adjustments",
        &rep,
        json!({"warehouse_id": w, "product_id": p, "quantity": "1", "reason": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");
    for (body, field) in [
        (json!({"warehouse_id": w, "lines": []}), "lines"),
        (
            json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "0"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "1.0001"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "1"}, {"product_id": uuid::Uuid::now_v7(), "quantity": "1"}]}),
            "lines[1].product_id",
        ),
        (
            json!({"warehouse_id": uuid::Uuid::now_v7(), "lines": [{"product_id": p, "quantity": "1"}]}),
            "warehouse_id",
        ),
    ] {
        let r = app
            .post("/api/v1/stock/receipts", &app.admin, body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec![field.to_owned()], "{body}");
    }
    let levels = app
        .get(
            &format!("/api/v1/stock?product_id={p}&warehouse_id={w}"),
            &rep,
        )
        .await
        .expect(200);
    assert_eq!(
        levels.body["items"][0]["on_hand"], "102",
        "failed receipts changed nothing"
    );
    // The ledger names orders and who made them: managers and admins only.
    app.get(&format!("/api/v1/stock/movements?product_id={p}"), &rep)
        .await
        .expect_problem(403, "forbidden");
    let ledger = app
        .get(
            &format!("/api/v1/stock/movements?product_id={p}"),
            &app.admin,
        )
        .await
        .expect(200);
    let kinds = ledger.column("kind");
    assert_eq!(kinds, vec!["adjustment", "receipt", "receipt"]);
    let receipts = app
        .get(
            &format!("/api/v1/stock/movements?product_id={p}&kind=receipt"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(receipts.ids().len(), 2);
    let r = app
        .get("/api/v1/stock/movements?kind=theft", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["kind"]);
    // Low stock once available falls to the reorder point.
    assert!(
        app.get("/api/v1/stock/low", &rep).await.expect(200).body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.post(
        "/api/v1/stock/adjustments",
        &app.admin,
        json!({"warehouse_id": w, "product_id": p, "quantity": "-92", "reason": "sold offline"}),
    )
    .await
    .expect(201);
    let low = app.get("/api/v1/stock/low", &rep).await.expect(200);
    assert_eq!(
        (
            low.body["items"][0]["product"]["sku"].as_str(),
            low.body["items"][0]["available"].as_str()
        ),
        (Some("P1"), Some("10"))
    );
}

#[tokio::test]
async fn concurrent_adjustments_never_take_stock_below_zero() {
    let app = spawn_app().await;
    let p = product(&app, "P2", json!({})).await;
    let w = warehouse(&app, "W2").await;
    app.post(
        "/api/v1/stock/receipts",
        &app.admin,
        json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "10"}]}),
    )
    .await
    .expect(201);
    let takes = (0..20).map(|_| {
        app.post(
            "/api/v1/stock/adjustments",
            &app.admin,
            json!({"warehouse_id": w, "product_id": p, "quantity": "-1", "reason": "race"}),
        )
    });
    let replies = futures_util::future::join_all(takes).await;
    let ok = replies.iter().filter(|r| r.status.as_u16() == 201).count();
    let refused = replies.iter().filter(|r| r.status.as_u16() == 409).count();
    assert_eq!((ok, refused), (10, 10));
    let level = app
        .get(&format!("/api/v1/stock?product_id={p}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(level.body["items"][0]["on_hand"], "0");
    let ledger = app
        .get(
            &format!("/api/v1/stock/movements?product_id={p}&per_page=200"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(
        ledger.body["items"].as_array().unwrap().len(),
        11,
        "one receipt, ten adjustments"
    );
}

#[tokio::test]
async fn returns_come_back_into_stock() {
    let app = spawn_app().await;
    let p = product(&app, "RET", json!({})).await;
    let w = warehouse(&app, "RW").await;
    let r = app.post("/api/v1/stock/returns", &app.admin, json!({"warehouse_id": w, "reference": "RMA-7", "lines": [{"product_id": p, "quantity": "1.5"}]})).await.expect(201);
    assert_eq!(
        (
            r.body["movements"][0]["kind"].as_str(),
            r.body["movements"][0]["quantity"].as_str()
        ),
        (Some("return"), Some("1.5"))
    );
    let on_hand = async || {
        app.get(&format!("/api/v1/stock?product_id={p}"), &app.admin)
            .await
            .expect(200)
            .body["items"][0]["on_hand"]
            .clone()
    };
    assert_eq!(on_hand().await, "1.5");
    app.post(
        "/api/v1/stock/returns",
        &app.admin,
        json!({"warehouse_id": w, "lines": []}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // An order that does not exist is named, and nothing comes back into stock.
    let r = app.post("/api/v1/stock/returns", &app.admin, json!({"warehouse_id": w, "order_id": uuid::Uuid::now_v7(), "lines": [{"product_id": p, "quantity": "1"}]})).await.expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["order_id"]);
    assert_eq!(on_hand().await, "1.5");
}

#[tokio::test]
async fn products_import_from_csv() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    product(&app, "TAKEN", json!({})).await;
    let csv = "\u{feff}商品编码,商品名称,单位,单价,税率,成本,分类\nNEW-1,螺母 M6,盒,3.5,13,2.1,五金\nNEW-2,垫片,包,0.8,13,,五金\nNEW-1,重复,盒,1,13,,\nTAKEN,已存在,个,1,13,,\nBAD,坏价格,个,abc,13,,\n";
    let post = |token: &str, query: &str| {
        let rb = app
            .client
            .post(format!("{}/api/v1/products/import{query}", app.address))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_owned());
        app.send(rb)
    };
    post(&rep, "").await.expect_problem(403, "forbidden");
    let dry = post(&app.admin, "?dry_run=true").await.expect(200);
    assert_eq!(
        (dry.body["valid"].as_u64(), dry.body["invalid"].as_u64()),
        (Some(2), Some(3)),
        "{}",
        dry.body
    );
    let mut codes = line_codes(&dry.body);
    codes.sort();
    assert_eq!(
        codes,
        vec![
            (4, "duplicate_in_file".to_owned()),
            (5, "duplicate_sku".to_owned()),
            (6, "invalid".to_owned())
        ]
    );
    post(&app.admin, "")
        .await
        .expect_problem(422, "validation_failed");
    let done = post(&app.admin, "?skip_invalid=true").await.expect(200);
    assert_eq!(done.body["created"], 2);
    let listed = app
        .get("/api/v1/products?q=NEW&sort=sku", &app.admin)
        .await
        .expect(200);
    let got: Vec<(String, String)> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sku"].as_str().unwrap().to_owned(),
                p["list_price"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("NEW-1".into(), "3.50".into()),
            ("NEW-2".into(), "0.80".into())
        ]
    );
}

#[tokio::test]
async fn stock_levels_page_by_cursor_like_every_list() {
    let app = spawn_app().await;
    let (p, q) = (
        product(&app, "S1", json!({})).await,
        product(&app, "S2", json!({})).await,
    );
    for code in ["W1", "W2"] {
        let w = warehouse(&app, code).await;
        app.post(
            "/api/v1/stock/receipts",
            &app.admin,
            json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "1"}, {"product_id": q, "quantity": "2"}]}),
        )
        .await
        .expect(201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/stock?per_page=3&include_total=true".to_owned();
    loop {
        let page = app.get(&path, &app.admin).await.expect(200);
        for l in page.body["items"].as_array().unwrap() {
            seen.push((
                l["product_id"].as_str().unwrap().to_owned(),
                l["warehouse_id"].as_str().unwrap().to_owned(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(page.body["has_more"], true);
                path = format!("/api/v1/stock?per_page=3&after={c}");
            }
            None => {
                assert!(page.body["page"].is_null(), "the last page came by cursor");
                break;
            }
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "by product, then warehouse");
    sorted.dedup();
    assert_eq!(sorted.len(), 4, "every level once");
    app.get("/api/v1/stock?after=forged", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
}
