//! Memory and time of a burst of sign-ins: `n` clients sign in at once with the right
//! password, against a server started in this process (SQLite). The process's resident
//! memory is sampled every 10 ms. Account and address limits and the request budgets are
//! raised so that every sign-in reaches the hash; `auth.max_concurrent_hashes` is the
//! default (4). The process runs on the `sims` binary's allocator, set up as `main.rs`
//! sets it up, so the figures are the server's; no allocator settings are needed or read.
//!
//! `cargo bench -p sims-tests --bench logins -- [n]` (default 200).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sims_api::Application;
use sims_api::config::{Secret, Settings};

/// The allocator of the `sims` binary (`crates/api/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    sims_api::memory::configure();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run());
}

async fn run() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("sims-bench-{}", uuid::Uuid::now_v7().simple()));
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
        jwt_secret: Secret::new("bench-secret-bench-secret-bench-secret-00"),
        admin_email: Some("admin@example.com".into()),
        admin_password: Some(Secret::new("bench-password-1")),
        ..Settings::default()
    };
    std::fs::create_dir_all(&dir).ok();
    settings.rate_limit.per_minute = 0;
    settings.auth.requests_per_minute_per_address = 0;
    settings.auth.max_login_failures = 1_000_000;
    settings.pool.return_interval_secs = 0;
    let app = Application::build(settings).await.expect("server");
    let url = format!("http://127.0.0.1:{}/api/v1/auth/login", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .build()
        .expect("client");
    let body = json!({"email": "admin@example.com", "password": "bench-password-1"});
    // One sign-in first, so that the idle figure includes a warmed-up server.
    client.post(&url).json(&body).send().await.expect("warm-up");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = rss_kib();

    let peak = Arc::new(AtomicU64::new(idle));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running) = (peak.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let start = Instant::now();
    let replies =
        futures_util::future::join_all((0..n).map(|_| client.post(&url).json(&body).send())).await;
    let elapsed = start.elapsed();
    let ok = replies
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status().is_success()))
        .count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::Relaxed);
    sampler.join().ok();
    let after = rss_kib();
    println!(
        "{n} concurrent sign-ins: {ok} succeeded in {:.2} s ({:.0}/s); resident memory: \
         idle {} MB, peak {} MB, after {} MB",
        elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64(),
        idle / 1024,
        peak.load(Ordering::Relaxed) / 1024,
        after / 1024
    );
    std::fs::remove_dir_all(&dir).ok();
}
