//! Webhooks: events leave an outbox written with the change, deliveries are signed,
//! retried after failures until the receiver recovers, dead after ten tries, replayable,
//! and delivered by another instance when the one that wrote them never sends them.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sims_tests::{Received, Receiver};

use crate::helpers::*;

fn delivering(s: &mut sims_api::config::Settings) {
    s.webhooks.poll_interval_ms = 50;
    s.webhooks.allow_private_targets = true;
    s.webhooks.retry_base_secs = 0;
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let r = app
        .post(
            "/api/v1/webhooks",
            &app.admin,
            json!({"url": url, "events": events}),
        )
        .await
        .expect(201);
    (r.id(), r.body["secret"].as_str().unwrap().to_owned())
}

/// The subscription's deliveries once `done` holds of them (or after 20 s).
async fn deliveries_when(
    app: &TestApp,
    webhook: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut items = vec![];
    for _ in 0..200 {
        let page = app
            .get(
                &format!("/api/v1/webhooks/{webhook}/deliveries"),
                &app.admin,
            )
            .await
            .expect(200);
        items = page.body["items"].as_array().unwrap().clone();
        if done(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    items
}

fn all_are(status: &'static str) -> impl Fn(&[Value]) -> bool {
    move |items: &[Value]| !items.is_empty() && items.iter().all(|d| d["status"] == status)
}

fn verify(secret: &str, r: &Received) {
    let timestamp = r.header("sims-timestamp").expect("SIMS-Timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", r.body).as_bytes());
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r.header("sims-signature"), Some(want.as_str()));
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "a fresh Unix timestamp");
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_once_it_recovers() {
    let app = spawn_app_with(delivering).await;
    let receiver = Receiver::start(vec![500, 503, 200]).await;
    let (hook, secret) = subscribe(&app, &receiver.url, json!(["customer.created"])).await;
    assert!(secret.starts_with("whsec_") && secret.len() > 40);

    let customer = app.customer(&app.admin, "Hooked Co", json!({})).await;
    // A refused change is never announced.
    app.post(
        "/api/v1/customers",
        &app.admin,
        json!({"name": "Hooked Co"}),
    )
    .await
    .expect_problem(409, "duplicate_customer");
    // Nor is an event the subscription did not ask for.
    app.patch(
        &format!("/api/v1/customers/{customer}"),
        &app.admin,
        json!({"city": "杭州"}),
    )
    .await
    .expect(200);

    let items = deliveries_when(&app, &hook, all_are("delivered")).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let d = &items[0];
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["event_type"], "customer.created");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_status_code"], 200);
    assert_eq!(d["next_attempt_at"], Value::Null);

    let got = receiver.got();
    assert_eq!(got.len(), 3, "two failures, then the delivery");
    for r in &got {
        verify(&secret, r);
        assert_eq!(r.header("sims-event-id"), d["event_id"].as_str());
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let body: Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(body["type"], "customer.created");
    assert_eq!(body["id"], d["event_id"]);
    assert!(body["occurred_at"].is_string());
    assert_eq!(body["data"]["id"], customer.as_str());
    assert_eq!(body["data"]["name"], "Hooked Co");

    let ready = app.get("/ready", &app.admin).await.expect(200);
    assert_eq!(ready.body["oldest_undelivered_event_age_secs"], Value::Null);
}

#[tokio::test]
async fn ten_failures_make_a_delivery_dead_and_a_replay_sends_it_again() {
    let app = spawn_app_with(delivering).await;
    let receiver = Receiver::start(vec![500]).await;
    let (hook, _) = subscribe(&app, &receiver.url, json!(["*"])).await;
    app.customer(&app.admin, "Dead Letter Co", json!({})).await;
    let items = deliveries_when(&app, &hook, all_are("dead")).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["attempts"], 10);
    assert_eq!(items[0]["last_status_code"], 500);
    assert_eq!(receiver.got().len(), 10);

    receiver.answer_from_now(204);
    let id = items[0]["id"].as_str().unwrap();
    let replayed = app
        .post(
            &format!("/api/v1/webhooks/deliveries/{id}/replay"),
            &app.admin,
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(replayed.body["status"], "pending");
    let items = deliveries_when(&app, &hook, all_are("delivered")).await;
    assert_eq!(items[0]["attempts"], 1, "a replay starts afresh");
    assert_eq!(receiver.got().len(), 11);
}

#[tokio::test]
async fn an_event_committed_by_an_instance_that_never_sends_it_is_delivered_by_the_next() {
    // The first instance writes the event and stops before any delivery (its dispatcher
    // is off, as if it crashed right after the commit); the next one delivers it.
    let app = spawn_app_with(|s| s.webhooks.allow_private_targets = true).await;
    let receiver = Receiver::start(vec![200]).await;
    let (hook, secret) = subscribe(
        &app,
        &receiver.url,
        json!(["order.confirmed", "customer.created"]),
    )
    .await;
    let customer = app.customer(&app.admin, "Survivor Co", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.got().is_empty());
    let ready = app.get("/ready", &app.admin).await.expect(200);
    assert!(
        ready.body["oldest_undelivered_event_age_secs"]
            .as_i64()
            .is_some(),
        "/ready reports the backlog: {}",
        ready.body
    );

    let mut settings = test_settings(&app._db);
    delivering(&mut settings);
    let next = sims_api::Application::build(settings)
        .await
        .expect("restart");
    tokio::spawn(next.run_until_stopped());
    let items = deliveries_when(&app, &hook, all_are("delivered")).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    verify(&secret, &got[0]);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["data"]["id"], customer.as_str());
}

#[tokio::test]
async fn subscriptions_are_for_admins_and_refuse_private_targets() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let body = json!({"url": "https://93.184.216.34/hook", "events": ["*"]});
    let calls = [
        Call::post("/api/v1/webhooks", body.clone()),
        Call::get("/api/v1/webhooks"),
    ];
    app.refuses(&rep, 403, "forbidden", calls).await;
    for (bad, field) in [
        (
            json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://169.254.169.254/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost/hook", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "ftp://93.184.216.34/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://93.184.216.34/hook", "events": ["order.shipd"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://93.184.216.34/hook", "events": []}),
            "events",
        ),
    ] {
        let r = app
            .post("/api/v1/webhooks", &app.admin, bad.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec![field.to_owned()], "{bad}: {}", r.body);
    }
    let created = app
        .post("/api/v1/webhooks", &app.admin, body)
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/webhooks/{id}"))
    );
    let got = app
        .get(&format!("/api/v1/webhooks/{id}"), &app.admin)
        .await
        .expect(200);
    assert!(got.body.get("secret").is_none(), "the secret is shown once");
    let paused = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &app.admin,
            json!({"active": false, "events": ["payment.received"]}),
        )
        .await
        .expect(200);
    assert_eq!(paused.body["active"], false);
    assert_eq!(paused.body["events"], json!(["payment.received"]));
    assert_eq!(paused.body["version"], 2);
    app.patch(
        &format!("/api/v1/webhooks/{id}"),
        &app.admin,
        json!({"url": "http://10.0.0.1/"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let list = app.get("/api/v1/webhooks", &app.admin).await.expect(200);
    assert_eq!(list.ids(), vec![id.clone()]);
    app.delete(&format!("/api/v1/webhooks/{id}"), &app.admin)
        .await
        .expect(204);
    app.get(&format!("/api/v1/webhooks/{id}"), &app.admin)
        .await
        .expect_problem(404, "not_found");
    let missing = uuid::Uuid::now_v7();
    app.post(
        &format!("/api/v1/webhooks/deliveries/{missing}/replay"),
        &app.admin,
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
}

#[tokio::test]
async fn a_paused_subscription_gets_nothing_until_it_is_active_again() {
    let app = spawn_app_with(delivering).await;
    let receiver = Receiver::start(vec![500]).await;
    let (hook, _) = subscribe(&app, &receiver.url, json!(["customer.created"])).await;
    app.customer(&app.admin, "Paused Co", json!({})).await;
    deliveries_when(&app, &hook, |d| {
        d.iter().any(|d| d["attempts"].as_i64() >= Some(2))
    })
    .await;
    app.patch(
        &format!("/api/v1/webhooks/{hook}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect(200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = receiver.got().len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        receiver.got().len(),
        before,
        "nothing goes out while paused"
    );
    let ready = app.get("/ready", &app.admin).await.expect(200);
    assert_eq!(
        ready.body["oldest_undelivered_event_age_secs"],
        Value::Null,
        "a paused subscription is not a backlog"
    );

    receiver.answer_from_now(200);
    app.patch(
        &format!("/api/v1/webhooks/{hook}"),
        &app.admin,
        json!({"active": true}),
    )
    .await
    .expect(200);
    let items = deliveries_when(&app, &hook, all_are("delivered")).await;
    assert_eq!(items[0]["status"], "delivered");
    assert_eq!(receiver.got().len(), before + 1);
}

#[tokio::test]
async fn every_event_type_reaches_a_subscriber_of_everything() {
    let app = spawn_app_with(delivering).await;
    let receiver = Receiver::start(vec![200]).await;
    let (hook, _) = subscribe(&app, &receiver.url, json!(["*"])).await;
    let (_, rep) = app.user("sales", None).await;

    let customer = app.customer(&rep, "Evented Co", json!({})).await;
    app.patch(
        &format!("/api/v1/customers/{customer}"),
        &rep,
        json!({"city": "杭州"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/customers/{customer}/release"),
        &rep,
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/customers/{customer}/claim"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(200);
    let lead = app
        .post(
            "/api/v1/leads",
            &rep,
            json!({"name": "Lead", "company": "Lead Co"}),
        )
        .await
        .expect(201)
        .id();
    app.post(&format!("/api/v1/leads/{lead}/convert"), &rep, json!({}))
        .await
        .expect(200);
    let stages = app.get("/api/v1/pipeline/stages", &rep).await.expect(200);
    let stage = |kind: &str| {
        stages.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == kind)
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    for (name, to) in [("Won deal", "won"), ("Lost deal", "lost")] {
        let o = app
            .post(
                "/api/v1/opportunities",
                &app.admin,
                json!({"customer_id": customer, "name": name, "amount": "10.00"}),
            )
            .await
            .expect(201)
            .id();
        app.post(
            &format!("/api/v1/opportunities/{o}/stage"),
            &app.admin,
            json!({"stage_id": stage(to), "lost_reason": "price"}),
        )
        .await
        .expect(200);
    }
    let (warehouse, product) = app.warehouse_and_product().await;
    app.receive(&warehouse, &product, "10").await;
    let shipped = app
        .draft_order(&app.admin, &customer, (&warehouse, &product))
        .await;
    let confirmed = app.confirm(&app.admin, &shipped).await;
    let line = confirmed.body["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/api/v1/orders/{shipped}/payments"), &app.admin, json!({"amount": confirmed.body["total"], "received_at": "2026-12-01T08:00:00Z", "method": "cash"}))
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/orders/{shipped}/shipments"),
        &app.admin,
        json!({"lines": [{"line_id": line, "quantity": "1"}]}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/orders/{shipped}/complete"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(200);
    let cancelled = app
        .draft_order(&app.admin, &customer, (&warehouse, &product))
        .await;
    app.post(
        &format!("/api/v1/orders/{cancelled}/cancel"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(200);
    let merged = app.customer(&app.admin, "Merged away", json!({})).await;
    app.post(
        &format!("/api/v1/customers/{customer}/merge"),
        &app.admin,
        json!({"from_ids": [merged]}),
    )
    .await
    .expect(200);
    let gone = app.customer(&app.admin, "Deleted Co", json!({})).await;
    app.delete(&format!("/api/v1/customers/{gone}"), &app.admin)
        .await
        .expect(204);

    let all = [
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.owner_changed",
        "customer.merged",
        "lead.converted",
        "opportunity.stage_changed",
        "opportunity.won",
        "opportunity.lost",
        "order.confirmed",
        "order.shipped",
        "order.cancelled",
        "order.completed",
        "payment.received",
    ];
    let items = deliveries_when(&app, &hook, |d| {
        let types: std::collections::BTreeSet<&str> =
            d.iter().filter_map(|x| x["event_type"].as_str()).collect();
        all.iter().all(|t| types.contains(t)) && d.iter().all(|x| x["status"] == "delivered")
    })
    .await;
    let received: std::collections::BTreeSet<String> = receiver
        .got()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    for t in all {
        assert!(
            received.contains(t),
            "{t} was not delivered; got {received:?}"
        );
    }
    assert!(items.iter().all(|d| d["status"] == "delivered"));
}
