//! Whether an import's cost depends on the size of the table it goes into: `files` CSV
//! files of `rows` new customers each (distinct names, phones and emails) are imported one
//! after another through HTTP, each first checked (`dry_run=true`) and then written, and
//! the time of both is printed beside the number of customers already there. The last
//! file should take about as long as the first.
//!
//! `cargo bench -p sims-tests --bench imports -- [files] [rows]` (defaults: 10 files of
//! 10,000 rows) against a server started in this process on SQLite (default) or on the
//! empty PostgreSQL database `DATABASE_URL` names. The per-caller budget is off.

use std::fmt::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sims_api::Application;
use sims_api::config::{Secret, Settings};

/// A file of `rows` customers, numbered from `first`: every name, phone and email new.
fn file(first: usize, rows: usize) -> String {
    let mut csv = String::from("name,phone,email,province,city,industry\n");
    for n in first..first + rows {
        let _ = writeln!(
            csv,
            "导入客户 {n:07} 有限公司,139{n:08},buyer{n}@import.example.com,浙江,杭州,制造"
        );
    }
    csv
}

async fn import(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    csv: &str,
    dry_run: bool,
) -> Duration {
    let start = Instant::now();
    let res = client
        .post(format!("{base}/customers/import?dry_run={dry_run}"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .expect("request");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {v}");
    assert_eq!(v["invalid"], json!(0), "every row is new: {v}");
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let files: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let rows: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
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
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let token = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": "admin@example.com", "password": "bench-password-1"}))
        .send()
        .await
        .expect("login")
        .json::<Value>()
        .await
        .expect("token")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    println!("{backend}: {files} files of {rows} new customers, imported one after another");
    println!(
        "{:>6} {:>18} {:>14} {:>14}",
        "file", "customers before", "check (s)", "import (s)"
    );
    let mut firsts = None;
    let mut last = (Duration::ZERO, Duration::ZERO);
    for f in 0..files {
        let csv = file(f * rows, rows);
        let check = import(&client, &base, &token, &csv, true).await;
        let write = import(&client, &base, &token, &csv, false).await;
        println!(
            "{:>6} {:>18} {:>14.2} {:>14.2}",
            f + 1,
            f * rows,
            check.as_secs_f64(),
            write.as_secs_f64()
        );
        firsts.get_or_insert((check, write));
        last = (check, write);
    }
    if let Some((check, write)) = firsts {
        println!(
            "last file / first file: check {:.2}×, import {:.2}×",
            last.0.as_secs_f64() / check.as_secs_f64(),
            last.1.as_secs_f64() / write.as_secs_f64()
        );
    }
}
