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
//! slowest are printed in milliseconds. The per-caller budget is off. It signs in as the
//! seed's admin and as the first manager `GET /users?role=manager` lists, with the seed's
//! password (`BENCH_ADMIN_EMAIL` and `BENCH_PASSWORD` override them).

mod support;

use std::time::Duration;

use chrono::Utc;
use sims_api::Application;
use support::{ms, sign_in, time_rounds};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names a seeded database");
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let admin_email = env("BENCH_ADMIN_EMAIL", "admin@demo.sims");
    let password = env("BENCH_PASSWORD", "sims-demo-password");
    let settings = support::settings(url.clone());
    let app = Application::build(settings).await.expect("server");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let admin = sign_in(&client, &base, &admin_email, &password).await;
    let (manager_email, _) = support::first_user(&client, &base, &admin, "manager").await;
    let manager = sign_in(&client, &base, &manager_email, &password).await;

    let today = Utc::now().date_naive();
    let reports = support::reports(today);
    let from = reports[0]
        .1
        .split("from=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_default()
        .to_owned();
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
    for (label, report) in &reports {
        let url = format!("{base}/reports/{report}");
        let mut cells = vec![];
        for token in [&admin, &manager] {
            let (p50, max) = time_rounds(&client, &url, token, rounds).await;
            worst = worst.max(max);
            cells.push((p50, max));
        }
        println!(
            "{:<44} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            label,
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
