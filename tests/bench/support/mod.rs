//! What the benchmarks share: settings for a server started in the bench's own process,
//! signing in, the order fixture and the create + confirm load, the list of reports, and
//! reading a process's memory.

#![allow(dead_code)] // each bench uses a part

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use sims_api::config::{Secret, Settings};

/// A bench's server: on `database_url`, any free port, the per-caller and per-address
/// budgets off, the pool-return job off.
pub fn settings(database_url: String) -> Settings {
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url,
        database_max_connections: 16,
        jwt_secret: Secret::new("bench-secret-bench-secret-bench-secret-00"),
        ..Settings::default()
    };
    settings.rate_limit.per_minute = 0;
    settings.auth.requests_per_minute_per_address = 0;
    settings.pool.return_interval_secs = 0;
    // The webhook dispatcher runs as in production unless the environment says otherwise
    // (`SIMS_WEBHOOKS__POLL_INTERVAL_MS=0` measures without it).
    if let Some(ms) = std::env::var("SIMS_WEBHOOKS__POLL_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        settings.webhooks.poll_interval_ms = ms;
    }
    settings
}

/// The access token of `email`; panics with the answer when signing in fails.
pub async fn sign_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let v: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("token pair");
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("cannot sign in as {email}: {v}"))
        .to_owned()
}

/// `POST` of a JSON body; panics unless the answer is a success.
pub async fn post(client: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    answer(client.post(&url).bearer_auth(token).json(&body), &url).await
}

/// `GET` of a JSON answer; panics unless it is a success.
pub async fn get(client: &reqwest::Client, url: String, token: &str) -> Value {
    answer(client.get(&url).bearer_auth(token), &url).await
}

async fn answer(request: reqwest::RequestBuilder, url: &str) -> Value {
    let res = request.send().await.expect("request");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status}: {v}");
    v
}

/// What orders are taken against: a customer, a warehouse and 20 products with stock
/// for any run (SKUs made unique per run, so that a seeded database can host it).
#[derive(Debug, Clone)]
pub struct OrderFixture {
    pub customer: String,
    pub warehouse: String,
    pub products: Vec<String>,
}

/// Creates the [`OrderFixture`] as `token` (an admin).
pub async fn order_fixture(client: &reqwest::Client, base: &str, token: &str) -> OrderFixture {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let run = &run[run.len() - 8..];
    let id = |v: Value| v["id"].as_str().unwrap_or_default().to_owned();
    let customer = id(post(
        client,
        format!("{base}/customers"),
        token,
        json!({"name": format!("Bench Buyer {run}")}),
    )
    .await);
    let warehouse = id(post(
        client,
        format!("{base}/warehouses"),
        token,
        json!({"code": format!("B{run}"), "name": format!("Bench {run}")}),
    )
    .await);
    let mut products = vec![];
    for i in 0..20 {
        let p = id(post(
            client,
            format!("{base}/products"),
            token,
            json!({"sku": format!("BENCH-{run}-{i}"), "name": format!("Bench {run} {i}"),
                   "unit": "件", "list_price": "9.99", "tax_rate": "13"}),
        )
        .await);
        post(
            client,
            format!("{base}/stock/receipts"),
            token,
            json!({"warehouse_id": warehouse, "lines": [{"product_id": p, "quantity": "1000000"}]}),
        )
        .await;
        products.push(p);
    }
    OrderFixture {
        customer,
        warehouse,
        products,
    }
}

/// The outcome of a create + confirm run.
#[derive(Debug)]
pub struct OrderRun {
    pub elapsed: Duration,
    /// Of each create + confirm, sorted.
    pub latencies: Vec<Duration>,
}

impl OrderRun {
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// `orders` orders of three lines each, created and confirmed by `concurrency` clients
/// at once.
pub async fn create_and_confirm(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    fixture: &OrderFixture,
    orders: usize,
    concurrency: usize,
) -> OrderRun {
    let start = Instant::now();
    let per_worker = orders.div_ceil(concurrency);
    let mut workers = vec![];
    for w in 0..concurrency {
        let (client, base, token, fx) = (
            client.clone(),
            base.to_owned(),
            token.to_owned(),
            fixture.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            for i in 0..per_worker {
                let t = Instant::now();
                let lines: Vec<Value> = (0..3)
                    .map(|k| json!({"product_id": fx.products[(w * 7 + i + k) % fx.products.len()], "quantity": "2"}))
                    .collect();
                let order = post(
                    &client,
                    format!("{base}/orders"),
                    &token,
                    json!({"customer_id": fx.customer, "warehouse_id": fx.warehouse, "lines": lines}),
                )
                .await;
                let id = order["id"].as_str().unwrap_or_default();
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
    OrderRun { elapsed, latencies }
}

/// The `p` quantile (0..1) of sorted durations, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1000.0
}

/// Every report of SPEC §6 over the twelve months up to `today` (the paths under
/// `/reports/`), with a label each.
pub fn reports(today: NaiveDate) -> Vec<(String, String)> {
    let (y, m) = if today.month() > 11 {
        (today.year(), today.month() - 11)
    } else {
        (today.year() - 1, today.month() + 1)
    };
    let from = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(today);
    let month = today.format("%Y-%m");
    let range = format!("from={from}&to={today}");
    let forecast_to = today + chrono::Duration::days(365);
    let paths = [
        format!("sales?{range}&group_by=month"),
        format!("sales?{range}&group_by=week"),
        format!("sales?{range}&group_by=owner"),
        format!("sales?{range}&group_by=team"),
        format!("sales?{range}&group_by=product"),
        format!("sales?{range}&group_by=customer"),
        format!("funnel?{range}"),
        format!("forecast?from={today}&to={forecast_to}"),
        format!("targets?month={month}"),
        format!("receivables?as_of={today}"),
        format!("inventory?{range}"),
        format!("customers?{range}&group_by=month"),
    ];
    paths
        .into_iter()
        .map(|p| {
            let name = p.split('?').next().unwrap_or(&p).to_owned();
            let label = match p.split("group_by=").nth(1) {
                Some(g) => format!("{name} by {g}"),
                None => name,
            };
            (label, p)
        })
        .collect()
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`: resident now; `VmHWM`: the peak).
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// How many statements the server at `root` (its address, without `/api/v1`) has sent,
/// from its `/metrics`.
pub async fn statements_sent(client: &reqwest::Client, root: &str) -> u64 {
    let text = client
        .get(format!("{root}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("sims_db_statements_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sims_db_statements_total in /metrics"))
}

/// The time of one `GET`; panics unless it is a success.
pub async fn time_get(client: &reqwest::Client, url: &str, token: &str) -> Duration {
    let start = Instant::now();
    let res = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let body = res.bytes().await.expect("body");
    assert!(
        status.is_success(),
        "{url}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    start.elapsed()
}

/// The median and the slowest of `rounds` answers to `url`, after one to warm up.
pub async fn time_rounds(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    rounds: usize,
) -> (Duration, Duration) {
    time_get(client, url, token).await;
    let mut times = Vec::with_capacity(rounds.max(1));
    for _ in 0..rounds.max(1) {
        times.push(time_get(client, url, token).await);
    }
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The email and id of the first user with `role` that `GET /users?role=…` lists.
pub async fn first_user(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    role: &str,
) -> (String, String) {
    let page = get(
        client,
        format!("{base}/users?role={role}&per_page=1"),
        admin,
    )
    .await;
    let user = &page["items"][0];
    match (user["email"].as_str(), user["id"].as_str()) {
        (Some(email), Some(id)) => (email.to_owned(), id.to_owned()),
        _ => panic!("no user with the role {role}: {page}"),
    }
}
