//! How long each report of SPEC §6 takes over a 12-month range, as an admin (everything
//! in scope) and as a manager (one team subtree), through HTTP against a server started in
//! this process on the database `DATABASE_URL` names — seed it first:
//!
//! ```sh
//! sims seed --profile standard        # with the same DATABASE_URL
//! DATABASE_URL=… cargo bench -p sims-tests --bench reports -- [rounds]
//! ```
//!
//! Each report runs once to warm up, then `rounds` times (default 5); the median and the
//! slowest are printed in milliseconds. The per-caller budget is off. Sign-in uses the
//! seed's demo accounts (`BENCH_ADMIN_EMAIL`, `BENCH_MANAGER_EMAIL`, `BENCH_PASSWORD`
//! override them).

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Value, json};
use sims_api::Application;
use sims_api::config::{Secret, Settings};

async fn sign_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
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

async fn time(client: &reqwest::Client, url: &str, token: &str) -> Duration {
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names a seeded database");
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let admin_email = env("BENCH_ADMIN_EMAIL", "admin@demo.sims");
    let manager_email = env("BENCH_MANAGER_EMAIL", "manager@demo.sims");
    let password = env("BENCH_PASSWORD", "sims-demo-password");
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: url.clone(),
        database_max_connections: 16,
        jwt_secret: Secret::new("bench-secret-bench-secret-bench-secret-00"),
        ..Settings::default()
    };
    settings.rate_limit.per_minute = 0;
    settings.auth.requests_per_minute_per_address = 0;
    settings.pool.return_interval_secs = 0;
    let app = Application::build(settings).await.expect("server");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let admin = sign_in(&client, &base, &admin_email, &password).await;
    let manager = sign_in(&client, &base, &manager_email, &password).await;

    let today = Utc::now().date_naive();
    let (y, m) = if today.month() > 11 {
        (today.year(), today.month() - 11)
    } else {
        (today.year() - 1, today.month() + 1)
    };
    let from = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(today);
    let month = today.format("%Y-%m");
    let range = format!("from={from}&to={today}");
    let forecast_to = today + chrono::Duration::days(365);
    let reports = [
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
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("reports over {from}..{today} on {backend}, {rounds} rounds after one warm-up (ms)");
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>10}",
        "report", "admin p50", "admin max", "mgr p50", "mgr max"
    );
    let mut worst = Duration::ZERO;
    for report in &reports {
        let url = format!("{base}/reports/{report}");
        let mut cells = vec![];
        for token in [&admin, &manager] {
            time(&client, &url, token).await;
            let mut times = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                times.push(time(&client, &url, token).await);
            }
            times.sort();
            let max = times.last().copied().unwrap_or_default();
            worst = worst.max(max);
            cells.push((times[times.len() / 2], max));
        }
        println!(
            "{:<44} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            report.split('?').next().unwrap_or(report).to_owned()
                + report
                    .split("group_by=")
                    .nth(1)
                    .map(|g| format!(" by {g}"))
                    .as_deref()
                    .unwrap_or(""),
            ms(cells[0].0),
            ms(cells[0].1),
            ms(cells[1].0),
            ms(cells[1].1)
        );
    }
    println!(
        "slowest single answer: {:.1} ms (budget: 300 ms)",
        ms(worst)
    );
}
