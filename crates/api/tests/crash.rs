//! The real `sims` process, killed with SIGKILL and started again on the same database
//! (SQLite, or a fresh PostgreSQL database when `DATABASE_URL` names a server):
//! - a webhook event committed before the kill is delivered after the restart;
//! - under concurrent orders, payments and imports, every acknowledged write survives and
//!   nothing is half-written: an import holds all its rows or none, stock reserved equals
//!   what confirmed orders hold, order totals equal their lines, what an order says is
//!   paid equals its payments; and a request cut off by the kill, retried with its
//!   `Idempotency-Key`, answers once and writes once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use sims_tests::Receiver;

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_before_a_kill_is_delivered_after_the_restart() {
    let db = TestDb::create().await;
    let receiver = Receiver::start(vec![200]).await;
    {
        // This instance sends nothing: it is killed after the commit, before any delivery.
        let first = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
        let api = Api::sign_in(&first).await;
        let (status, _) = api
            .post(
                "/webhooks",
                json!({"url": receiver.url, "events": ["customer.created"]}),
            )
            .await;
        assert_eq!(status, 201);
        let (status, customer) = api
            .post("/customers", json!({"name": "Killed Before Delivery Co"}))
            .await;
        assert_eq!(status, 201, "{customer}");
        drop(first);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            receiver.got().is_empty(),
            "nothing was sent before the kill"
        );

        let second = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "50")]).await;
        let got = receiver.wait_for(1).await;
        assert_eq!(got.len(), 1, "delivered once after the restart");
        let body: Value = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(body["type"], "customer.created");
        assert_eq!(body["data"]["id"], customer["id"]);
        drop(second);
    }
    db.drop_it().await;
}

/// One keyed write a writer sent, and how it ended.
#[derive(Debug, Clone)]
struct Sent {
    path: String,
    key: String,
    body: Value,
    /// The answer, or `None` when the kill cut the request off.
    answer: Option<(u16, Value)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_under_concurrent_writes_loses_nothing_acknowledged_and_half_writes_nothing() {
    let db = TestDb::create().await;
    let server = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
    let api = Api::sign_in(&server).await;
    let (warehouse, product, customer) = api.stocked().await;

    // Eight writers: create an order (keyed), confirm it, pay it in full (keyed), until the kill.
    let mut writers = vec![];
    for w in 0..8 {
        let api = Api {
            client: reqwest::Client::new(),
            base: api.base.clone(),
            token: api.token.clone(),
        };
        let (customer, warehouse, product) = (
            customer["id"].clone(),
            warehouse["id"].clone(),
            product["id"].clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut sent: Vec<Sent> = vec![];
            for i in 0.. {
                let body = json!({"customer_id": customer, "warehouse_id": warehouse,
                                  "lines": [{"product_id": product, "quantity": format!("{}", 1 + (i % 3))}]});
                let key = format!("order-{w}-{i}");
                let answer = api
                    .send(reqwest::Method::POST, "/orders", Some(&body), Some(&key))
                    .await;
                let order = answer.clone();
                sent.push(Sent {
                    path: "/orders".into(),
                    key,
                    body,
                    answer,
                });
                let Some((201, order)) = order else { break };
                let id = order["id"].as_str().unwrap().to_owned();
                let Some((200, confirmed)) = api
                    .send(reqwest::Method::POST, &format!("/orders/{id}/confirm"), None, None)
                    .await
                else {
                    break;
                };
                let path = format!("/orders/{id}/payments");
                let body = json!({"amount": confirmed["total"], "received_at": "2026-12-01T08:00:00Z", "method": "bank_transfer"});
                let key = format!("pay-{w}-{i}");
                let answer = api
                    .send(reqwest::Method::POST, &path, Some(&body), Some(&key))
                    .await;
                let paid = answer.as_ref().map(|(s, _)| *s);
                sent.push(Sent {
                    path,
                    key,
                    body,
                    answer,
                });
                if paid != Some(201) {
                    break;
                }
            }
            sent
        }));
    }
    // And one importer: all-or-nothing CSV imports of 20 customers each.
    let importer = {
        let api = Api {
            client: reqwest::Client::new(),
            base: api.base.clone(),
            token: api.token.clone(),
        };
        tokio::spawn(async move {
            let mut batches: Vec<(String, Option<u16>)> = vec![];
            for i in 0.. {
                let tag = format!("Batch{i}x");
                let csv: String = std::iter::once("name\n".to_owned())
                    .chain((0..20).map(|r| format!("{tag}{r:02} Co\n")))
                    .collect();
                let sent = api
                    .client
                    .post(format!("{}/api/v1/customers/import", api.base))
                    .bearer_auth(&api.token)
                    .header("content-type", "text/csv")
                    .body(csv)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let status = sent.ok().map(|r| r.status().as_u16());
                batches.push((tag, status));
                if status != Some(200) {
                    break;
                }
            }
            batches
        })
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(server); // SIGKILL, mid-write
    let mut sent = vec![];
    for w in writers {
        sent.extend(w.await.unwrap());
    }
    let acknowledged = sent
        .iter()
        .filter(|s| matches!(s.answer, Some((201, _))))
        .count();
    assert!(
        acknowledged > 8,
        "the writers wrote before the kill: {acknowledged}"
    );
    let cut_off = sent.iter().filter(|s| s.answer.is_none()).count();
    eprintln!("{acknowledged} writes acknowledged, {cut_off} cut off by the kill");

    let batches = importer.await.unwrap();
    assert!(batches.len() > 1, "the importer imported before the kill");

    let server = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
    let api = Api::sign_in(&server).await;

    // An acknowledged import holds all its rows; one the kill cut off, all or none.
    for (tag, status) in &batches {
        let found = api.get(&format!("/customers?q={tag}&per_page=50")).await;
        let n = found["items"].as_array().unwrap().len();
        match status {
            Some(200) => assert_eq!(n, 20, "import {tag} was acknowledged"),
            _ => assert!(n == 0 || n == 20, "import {tag} is half-written: {n} rows"),
        }
    }

    // Every acknowledged write is there.
    let mut orders: BTreeSet<String> = BTreeSet::new();
    let mut payments: BTreeMap<String, usize> = BTreeMap::new();
    for s in &sent {
        if let Some((201, body)) = &s.answer {
            if s.path == "/orders" {
                let id = body["id"].as_str().unwrap().to_owned();
                api.get(&format!("/orders/{id}")).await;
                orders.insert(id);
            } else {
                *payments.entry(s.path.clone()).or_default() += 1;
            }
        }
    }
    // A write the kill cut off, retried with its key, answers once and writes once.
    for s in sent.iter().filter(|s| s.answer.is_none()) {
        let first = api
            .send(reqwest::Method::POST, &s.path, Some(&s.body), Some(&s.key))
            .await
            .expect("an answer after the restart");
        assert_eq!(first.0, 201, "retry of {} {}: {}", s.path, s.key, first.1);
        let again = api
            .send(reqwest::Method::POST, &s.path, Some(&s.body), Some(&s.key))
            .await
            .expect("an answer");
        assert_eq!(again, first, "the same key answers the same");
        if s.path == "/orders" {
            orders.insert(first.1["id"].as_str().unwrap().to_owned());
        } else {
            *payments.entry(s.path.clone()).or_default() += 1;
        }
    }

    // Nothing half-written, and nothing written twice.
    let listed = api.get("/orders?per_page=1&include_total=true").await;
    assert_eq!(
        listed["total"].as_u64(),
        Some(orders.len() as u64),
        "one order per key, no more"
    );
    let mut reserved = Decimal::ZERO;
    for id in &orders {
        let o = api.get(&format!("/orders/{id}")).await;
        let lines: Decimal = o["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| dec(&l["total"]))
            .sum();
        assert_eq!(
            dec(&o["total"]),
            lines,
            "order {id}: total equals its lines"
        );
        let paid = api.get(&format!("/orders/{id}/payments")).await;
        let paid_items = paid["items"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| paid.as_array().cloned().unwrap_or_default());
        let sum: Decimal = paid_items.iter().map(|p| dec(&p["amount"])).sum();
        assert_eq!(
            dec(&o["paid_amount"]),
            sum,
            "order {id}: paid equals its payments"
        );
        let expected = payments
            .get(&format!("/orders/{id}/payments"))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            paid_items.len(),
            expected,
            "order {id}: one payment per key"
        );
        if o["status"] == "confirmed" {
            reserved += o["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| dec(&l["quantity"]))
                .sum::<Decimal>();
        }
    }
    let stock = api.get("/stock").await;
    let level = &stock["items"][0];
    assert_eq!(
        dec(&level["on_hand"]),
        Decimal::from(1_000_000),
        "nothing shipped"
    );
    assert_eq!(
        dec(&level["reserved"]),
        reserved,
        "reserved equals what confirmed orders hold"
    );
    drop(server);
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_lets_the_request_in_flight_finish() {
    let db = TestDb::create().await;
    let mut server = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
    let api = Api::sign_in(&server).await;
    let csv: String = std::iter::once("name\n".to_owned())
        .chain((0..20_000).map(|r| format!("Graceful {r:05} Co\n")))
        .collect();
    let request = {
        let (client, base, token) = (api.client.clone(), api.base.clone(), api.token.clone());
        tokio::spawn(async move {
            let res = client
                .post(format!("{base}/api/v1/customers/import"))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(csv)
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .expect("an answer despite the shutdown");
            let status = res.status().as_u16();
            let report: Value = res.json().await.expect("a report");
            (status, report, Instant::now())
        })
    };
    // Time for the 20,000 rows to reach the server, however busy the machine (the
    // import itself takes seconds): a request still unsent at the signal is refused.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let terminated = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(sent.success());
    let (status, report, answered) = request.await.unwrap();
    assert!(
        answered > terminated,
        "the import was still running when the server was told to stop"
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 20_000);
    let exited = server.child.wait().expect("the server exits");
    assert!(exited.success(), "a clean exit: {exited}");

    let server = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
    let api = Api::sign_in(&server).await;
    let found = api
        .get("/customers?q=Graceful&per_page=1&include_total=true")
        .await;
    assert_eq!(found["total"], 20_000);
    drop(server);
    db.drop_it().await;
}
