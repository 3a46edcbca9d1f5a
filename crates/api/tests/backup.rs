//! `sims backup` and `sims restore`, the real commands: a backup taken while a server
//! serves concurrent orders is one consistent snapshot (the stock it records reserved
//! equals what its confirmed orders hold), it restores into a new database where the
//! same password signs in, and a second restore into that database is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rust_decimal::Decimal;
use serde_json::json;

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_writes_restores_consistent_and_a_second_restore_is_refused() {
    let db = TestDb::create().await;
    let server = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
    let api = Api::sign_in(&server).await;
    let (warehouse, product, customer) = api.stocked().await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = vec![];
    for _ in 0..4 {
        let api = Api {
            client: reqwest::Client::new(),
            base: api.base.clone(),
            token: api.token.clone(),
        };
        let body = json!({"customer_id": customer["id"], "warehouse_id": warehouse["id"],
                          "lines": [{"product_id": product["id"], "quantity": "2"}]});
        let stop = Arc::clone(&stop);
        writers.push(tokio::spawn(async move {
            let mut confirmed = 0_u32;
            while !stop.load(Ordering::Relaxed) {
                let (status, order) = api.post("/orders", body.clone()).await;
                assert_eq!(status, 201, "{order}");
                let id = order["id"].as_str().unwrap();
                let (status, _) = api.post(&format!("/orders/{id}/confirm"), json!({})).await;
                assert_eq!(status, 200);
                confirmed += 1;
            }
            confirmed
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let file = std::env::temp_dir().join(format!("sims-{}.sims-backup", uuid::Uuid::now_v7()));
    let path = file.to_str().unwrap().to_owned();
    let url = db.url.clone();
    let backup = tokio::task::spawn_blocking(move || sims(&url, &["backup", "--out", &path], &[]))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    let said = String::from_utf8_lossy(&backup.stderr);
    assert!(backup.status.success(), "backup failed: {said}");
    assert!(said.contains("backed up"), "{said}");
    drop(server);

    let target = TestDb::create().await;
    let path = file.to_str().unwrap();
    let restore = sims(&target.url, &["restore", path], &[]);
    let said = String::from_utf8_lossy(&restore.stderr);
    assert!(restore.status.success(), "restore failed: {said}");
    let again = sims(&target.url, &["restore", path], &[]);
    assert!(!again.status.success(), "a second restore is refused");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("not empty"), "{said}");

    let server = start(&target, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
    let api = Api::sign_in(&server).await;
    let listed = api
        .get("/orders?status=confirmed&per_page=1&include_total=true")
        .await;
    let orders = listed["total"].as_u64().unwrap();
    assert!(
        orders > 0 && orders < u64::from(written),
        "{orders} of {written}: a snapshot from the middle"
    );
    let stock = api.get("/stock").await;
    assert_eq!(
        dec(&stock["items"][0]["reserved"]),
        Decimal::from(2 * orders),
        "the stock reserved in the snapshot is what its confirmed orders hold"
    );
    drop(server);
    std::fs::remove_file(&file).ok();
    target.drop_it().await;
    db.drop_it().await;
}
