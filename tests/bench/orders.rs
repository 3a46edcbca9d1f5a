//! Orders per second of create + confirm, through HTTP, against a server started in
//! this process on SQLite (default) or PostgreSQL (`DATABASE_URL`). The per-caller
//! request budget is turned off (`rate_limit.per_minute = 0`).
//!
//! `cargo bench -p sims-tests --bench orders -- [orders] [concurrency]`
//! (defaults: 2000 orders, 32 concurrent clients). Client and server share the machine.

use std::time::Instant;

use serde_json::{Value, json};
use sims_api::Application;
use sims_api::config::{Secret, Settings};

async fn post(client: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let res = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {v}");
    v
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let orders: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let dir = std::env::temp_dir().join(format!("sims-bench-{}", uuid::Uuid::now_v7().simple()));
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db?mode=rwc", dir.display()));
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: url,
        database_max_connections: 16,
        jwt_secret: Secret::new("bench-secret-bench-secret-bench-secret-00"),
        admin_email: Some("admin@example.com".into()),
        admin_password: Some(Secret::new("bench-password-1")),
        ..Settings::default()
    };
    settings.rate_limit.per_minute = 0;
    settings.pool.return_interval_secs = 0;
    let app = Application::build(settings).await.expect("server");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let login = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": "admin@example.com", "password": "bench-password-1"}))
        .send()
        .await
        .expect("login");
    let token = login.json::<Value>().await.expect("token")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let customer = post(
        &client,
        format!("{base}/customers"),
        &token,
        json!({"name": "Bench Buyer"}),
    )
    .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let warehouse = post(
        &client,
        format!("{base}/warehouses"),
        &token,
        json!({"code": "BENCH", "name": "Bench"}),
    )
    .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut products = vec![];
    for i in 0..20 {
        let p = post(&client, format!("{base}/products"), &token, json!({"sku": format!("B-{i}"), "name": format!("Bench {i}"), "unit": "件", "list_price": "9.99", "tax_rate": "13"})).await["id"].as_str().unwrap_or_default().to_owned();
        post(
            &client,
            format!("{base}/stock/receipts"),
            &token,
            json!({"warehouse_id": warehouse, "lines": [{"product_id": p, "quantity": "1000000"}]}),
        )
        .await;
        products.push(p);
    }

    let start = Instant::now();
    let per_worker = orders.div_ceil(concurrency);
    let mut workers = vec![];
    for w in 0..concurrency {
        let (client, base, token, customer, warehouse, products) = (
            client.clone(),
            base.clone(),
            token.clone(),
            customer.clone(),
            warehouse.clone(),
            products.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            for i in 0..per_worker {
                let t = Instant::now();
                let lines: Vec<Value> = (0..3).map(|k| json!({"product_id": products[(w * 7 + i + k) % products.len()], "quantity": "2"})).collect();
                let order = post(&client, format!("{base}/orders"), &token, json!({"customer_id": customer, "warehouse_id": warehouse, "lines": lines})).await;
                let id = order["id"].as_str().unwrap_or_default().to_owned();
                post(&client, format!("{base}/orders/{id}/confirm"), &token, json!({})).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = vec![];
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    println!(
        "{backend}: {} orders (3 lines each) created + confirmed in {:.2} s with {concurrency} clients: {:.0} orders/s; create+confirm latency p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
    let _ = std::fs::remove_dir_all(dir);
}
