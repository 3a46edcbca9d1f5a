//! Orders per second of create + confirm, through HTTP, against a server started in
//! this process on SQLite (default) or PostgreSQL (`DATABASE_URL`). The per-caller
//! request budget is turned off (`rate_limit.per_minute = 0`).
//!
//! `cargo bench -p sims-tests --bench orders -- [orders] [concurrency]`
//! (defaults: 2000 orders, 32 concurrent clients). Client and server share the machine.

mod support;

use sims_api::Application;
use sims_api::config::Secret;
use support::quantile_ms;

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
    let mut settings = support::settings(url);
    settings.admin_email = Some("admin@example.com".into());
    settings.admin_password = Some(Secret::new("bench-password-1"));
    let app = Application::build(settings).await.expect("server");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let token = support::sign_in(&client, &base, "admin@example.com", "bench-password-1").await;
    let fixture = support::order_fixture(&client, &base, &token).await;
    let root = base.trim_end_matches("/api/v1");
    let before = support::statements_sent(&client, root).await;
    let run =
        support::create_and_confirm(&client, &base, &token, &fixture, orders, concurrency).await;
    let after = support::statements_sent(&client, root).await;
    println!(
        "{backend}: {} orders (3 lines each) created + confirmed in {:.2} s with {concurrency} clients: {:.0} orders/s; create+confirm latency p50 {:.1} ms, p99 {:.1} ms; {:.1} statements per create + confirm (BEGIN/COMMIT aside)",
        run.latencies.len(),
        run.elapsed.as_secs_f64(),
        run.per_second(),
        quantile_ms(&run.latencies, 0.50),
        quantile_ms(&run.latencies, 0.99),
        after.saturating_sub(before) as f64 / run.latencies.len().max(1) as f64,
    );
    let _ = std::fs::remove_dir_all(dir);
}
