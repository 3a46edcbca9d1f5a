//! SIMS beside its ceiling: the release server on a seeded PostgreSQL database, driven by
//! `wrk` with many connections, and for each read what `pgbench` reaches with the very
//! statements SIMS sent for it (captured from the server's own statement log), on the
//! same database in the same run; then order create + confirm, every report, and the
//! server's resident memory idle and at its peak.
//!
//! ```sh
//! cargo build --release --bin sims
//! DATABASE_URL='postgres://…/sims_standard?sslmode=disable' target/release/sims seed --profile standard
//! DATABASE_URL='postgres://…/sims_standard?sslmode=disable' cargo bench -p sims-tests --bench reads -- [seconds] [connections]
//! ```
//!
//! Each read runs `seconds` (default 10) under `wrk -t2 -c<connections>` (default 32),
//! then `pgbench -M prepared -j2 -c<connections>` runs its statements as long. Gets by id
//! pick among 100 customers in the caller's scope, keyset pages among up to 100 cursors
//! of the walk through the caller's list; pgbench gets one script per request, holding
//! every statement SIMS sent for it. Client, server and database share the machine's
//! cores. The per-caller and per-address budgets are off; the server logs as it does by
//! default (one line a request) into a file. `SIMS_BIN` names another server binary;
//! `BENCH_ADMIN_EMAIL` and `BENCH_PASSWORD` other seed accounts. The run adds a customer,
//! a warehouse, 20 products and the orders it takes to the database.

mod support;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;
use support::{first_user, get, memory_kib, ms, quantile_ms, sign_in, time_rounds};

/// A `sims serve` child process on a free port, killed when dropped.
struct Server {
    child: Child,
    root: String,
    base: String,
}

impl Server {
    async fn start(bin: &Path, database_url: &str, log: &Path, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(log).expect("log file");
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("SIMS_CONFIG", "/nonexistent/sims.toml")
            .env("SIMS_BIND", format!("127.0.0.1:{port}"))
            .env(
                "SIMS_JWT_SECRET",
                "bench-secret-bench-secret-bench-secret-00",
            )
            .env("SIMS_RATE_LIMIT__PER_MINUTE", "0")
            .env("SIMS_AUTH__REQUESTS_PER_MINUTE_PER_ADDRESS", "0")
            .env("SIMS_POOL__RETURN_INTERVAL_SECS", "0")
            .env_remove("RUST_LOG")
            // The bench's own setting; the server would refuse it as an unknown `SIMS_` key.
            .env_remove("SIMS_BIN")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let root = format!("http://127.0.0.1:{port}");
        let server = Server {
            child,
            base: format!("{root}/api/v1"),
            root,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client.get(format!("{}/ready", server.root)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One read under load: who asks, and the paths (under the server's root) picked at
/// random.
struct Read {
    label: String,
    token: String,
    paths: Vec<String>,
    /// The share of pgbench's rate SPEC §9 asks for.
    budget: f64,
}

struct WrkFigures {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    failed: u64,
}

fn parse_ms(s: &str) -> f64 {
    let s = s.trim();
    let (n, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((s, "ms"), |i| (&s[..i], &s[i..]));
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => n,
    }
}

fn lua_string(s: &str) -> String {
    format!("{s:?}")
}

fn wrk(root: &str, read: &Read, seconds: u64, connections: usize, dir: &Path) -> WrkFigures {
    let mut lua = String::from("local paths = {\n");
    for p in &read.paths {
        let _ = writeln!(lua, "  {},", lua_string(p));
    }
    let _ = writeln!(
        lua,
        "}}\nlocal headers = {{ [\"Authorization\"] = {} }}\nrequest = function()\n  return wrk.format(\"GET\", paths[math.random(#paths)], headers)\nend",
        lua_string(&format!("Bearer {}", read.token))
    );
    let script = dir.join("read.lua");
    std::fs::write(&script, lua).expect("wrk script");
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(root)
        .output()
        .expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = WrkFigures {
        per_second: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        failed: 0,
    };
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            f.per_second = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("50%") {
            f.p50_ms = parse_ms(v);
        } else if let Some(v) = line.strip_prefix("99%") {
            f.p99_ms = parse_ms(v);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            f.failed += v.trim().parse::<u64>().unwrap_or(0);
        } else if line.starts_with("Socket errors:") {
            f.failed += line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    assert!(
        f.per_second > 0.0,
        "wrk printed no rate: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    f
}

/// pgbench's transactions per second over one script per entry of `scripts`.
fn pgbench(
    database_url: &str,
    scripts: &[String],
    seconds: u64,
    connections: usize,
    dir: &Path,
) -> f64 {
    let mut cmd = Command::new("pgbench");
    cmd.args(["-n", "-M", "prepared", "-j2"])
        .arg(format!("-c{connections}"))
        .arg(format!("-T{seconds}"));
    for (i, script) in scripts.iter().take(128).enumerate() {
        let file = dir.join(format!("pgbench-{i}.sql"));
        std::fs::write(&file, script).expect("pgbench script");
        cmd.arg("-f").arg(file);
    }
    let out = cmd.arg(database_url).output().expect("pgbench");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench printed no rate: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The statements each request sent, by request id, from a JSON log written at
/// `sims::sql=trace`.
fn statements_by_request(log: &Path) -> HashMap<String, Vec<String>> {
    let text = std::fs::read_to_string(log).expect("capture log");
    let mut by: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["target"] != "sims::sql" {
            continue;
        }
        let id = v["span"]["request_id"]
            .as_str()
            .or_else(|| {
                v["spans"]
                    .as_array()
                    .and_then(|s| s.iter().find_map(|s| s["request_id"].as_str()))
            })
            .unwrap_or_default();
        if let Some(sql) = v["statement"].as_str() {
            by.entry(id.to_owned()).or_default().push(sql.to_owned());
        }
    }
    by
}

/// The pgbench script of each path of `read`: the statements SIMS sent answering it.
async fn capture(
    client: &reqwest::Client,
    server: &Server,
    log: &Path,
    reads: &[Read],
) -> Vec<Vec<String>> {
    for (r, read) in reads.iter().enumerate() {
        for (i, path) in read.paths.iter().enumerate() {
            let res = client
                .get(format!("{}{path}", server.root))
                .bearer_auth(&read.token)
                .header("x-request-id", format!("capture-{r}-{i}"))
                .send()
                .await
                .expect("capture request");
            assert!(res.status().is_success(), "{path}: {}", res.status());
        }
    }
    // The log is written as the statements run; give the writer a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = statements_by_request(log);
    reads
        .iter()
        .enumerate()
        .map(|(r, read)| {
            (0..read.paths.len())
                .map(|i| {
                    let sent = by
                        .get(&format!("capture-{r}-{i}"))
                        .unwrap_or_else(|| panic!("no statements logged for {}", read.paths[i]));
                    sent.iter().map(|s| format!("{s};\n")).collect::<String>()
                })
                .collect()
        })
        .collect()
}

/// Up to `n` ids of the customers `token` sees on the first pages of its list.
async fn customer_ids(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    filter: &str,
    n: usize,
) -> Vec<String> {
    let page = get(
        client,
        format!("{base}/customers?per_page={n}{filter}"),
        token,
    )
    .await;
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Up to 100 keyset cursors spread over the walk through `token`'s list by
/// `-created_at`, 50 a page, at most `pages` pages deep.
async fn cursors(client: &reqwest::Client, base: &str, token: &str, pages: usize) -> Vec<String> {
    let mut all = vec![];
    let mut after: Option<String> = None;
    for _ in 0..pages {
        let url = match &after {
            Some(c) => format!("{base}/customers?per_page=50&sort=-created_at&after={c}"),
            None => format!("{base}/customers?per_page=50&sort=-created_at"),
        };
        let page = get(client, url, token).await;
        match page["next_cursor"].as_str() {
            Some(c) => {
                all.push(c.to_owned());
                after = Some(c.to_owned());
            }
            None => break,
        }
    }
    let step = all.len().div_ceil(100).max(1);
    all.into_iter().step_by(step).collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let url = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL names a PostgreSQL database seeded with `sims seed --profile standard`",
    );
    assert!(url.starts_with("postgres"), "pgbench needs PostgreSQL");
    let bin = std::env::var("SIMS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/sims"));
    assert!(
        bin.exists(),
        "{} is missing: cargo build --release --bin sims",
        bin.display()
    );
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let admin_email = env("BENCH_ADMIN_EMAIL", "admin@demo.sims");
    let password = env("BENCH_PASSWORD", "sims-demo-password");
    let dir = std::env::temp_dir().join(format!("sims-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let client = reqwest::Client::new();

    // 1. What to ask, and the statements SIMS sends for it, from a server that logs them.
    let capture_log = dir.join("capture.log");
    let capturing = Server::start(
        &bin,
        &url,
        &capture_log,
        &[
            ("RUST_LOG", "warn,sims_api=info,sims::sql=trace"),
            ("SIMS_LOG_FORMAT", "json"),
        ],
    )
    .await;
    let base = capturing.base.clone();
    let admin = sign_in(&client, &base, &admin_email, &password).await;
    let (rep_email, rep_id) = first_user(&client, &base, &admin, "sales").await;
    let (manager_email, _) = first_user(&client, &base, &admin, "manager").await;
    let rep = sign_in(&client, &base, &rep_email, &password).await;
    let manager = sign_in(&client, &base, &manager_email, &password).await;
    let own = customer_ids(&client, &base, &rep, &format!("&owner_id={rep_id}"), 100).await;
    let managed = customer_ids(&client, &base, &manager, "", 100).await;
    assert!(
        !own.is_empty() && !managed.is_empty(),
        "the rep and the manager see customers"
    );
    let rep_cursors = cursors(&client, &base, &rep, 400).await;
    let manager_cursors = cursors(&client, &base, &manager, 400).await;
    let by_id = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|id| format!("/api/v1/customers/{id}"))
            .collect()
    };
    let first = vec!["/api/v1/customers?per_page=50&sort=-created_at".to_owned()];
    let keyset = |cs: &[String]| -> Vec<String> {
        cs.iter()
            .map(|c| format!("/api/v1/customers?per_page=50&sort=-created_at&after={c}"))
            .collect()
    };
    let plan = [
        ("GET /customers/{id}, a rep, own", &rep, by_id(&own), 0.20),
        (
            "GET /customers/{id}, a manager",
            &manager,
            by_id(&managed),
            0.20,
        ),
        ("first page of 50, a rep", &rep, first.clone(), 0.25),
        ("keyset page of 50, a rep", &rep, keyset(&rep_cursors), 0.25),
        ("first page of 50, a manager", &manager, first, 0.25),
        (
            "keyset page of 50, a manager",
            &manager,
            keyset(&manager_cursors),
            0.25,
        ),
    ];
    // Each caller's session is loaded once before its statements are captured (the
    // request span, which names the request id, is logged at `info`).
    for token in [&admin, &rep, &manager] {
        get(&client, format!("{base}/me"), token).await;
    }
    let mut reads: Vec<Read> = plan
        .into_iter()
        .map(|(label, token, paths, budget)| Read {
            label: label.to_owned(),
            token: token.clone(),
            paths,
            budget,
        })
        .collect();
    let scripts = capture(&client, &capturing, &capture_log, &reads).await;
    drop(capturing);

    // 2. The measured server, as it runs by default.
    let server = Server::start(&bin, &url, &dir.join("server.log"), &[]).await;
    let base = server.base.clone();
    let admin = sign_in(&client, &base, &admin_email, &password).await;
    let rep = sign_in(&client, &base, &rep_email, &password).await;
    let manager = sign_in(&client, &base, &manager_email, &password).await;
    for r in &mut reads {
        r.token = if r.label.contains("manager") {
            manager.clone()
        } else {
            rep.clone()
        };
    }
    // Idle: two seconds after the sign-ins, then a request each (a server at rest still
    // answers health checks), as `ps` would show it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for token in [&admin, &rep, &manager] {
        get(&client, format!("{base}/me"), token).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_kib = memory_kib(server.pid(), "VmRSS:");

    println!(
        "SIMS {} on PostgreSQL ({}), wrk -t2 -c{connections} and pgbench -M prepared -j2 -c{connections}, {seconds} s each",
        env!("CARGO_PKG_VERSION"),
        if url.contains("sslmode=disable") {
            "sslmode=disable"
        } else {
            "sslmode as the URL says"
        }
    );
    println!(
        "{:<34} {:>9} {:>8} {:>8} {:>11} {:>8} {:>8}",
        "read", "req/s", "p50 ms", "p99 ms", "pgbench tps", "share", "budget"
    );
    let mut misses = vec![];
    for (read, scripts) in reads.iter().zip(&scripts) {
        let w = wrk(&server.root, read, seconds, connections, &dir);
        let tps = pgbench(&url, scripts, seconds, connections, &dir);
        let share = w.per_second / tps;
        println!(
            "{:<34} {:>9.0} {:>8.2} {:>8.2} {:>11.0} {:>7.1}% {:>7.0}%{}",
            read.label,
            w.per_second,
            w.p50_ms,
            w.p99_ms,
            tps,
            share * 100.0,
            read.budget * 100.0,
            if w.failed > 0 {
                format!("  ({} failed)", w.failed)
            } else {
                String::new()
            }
        );
        if share < read.budget || w.p99_ms >= 20.0 || w.failed > 0 {
            misses.push(read.label.clone());
        }
    }
    let read_peak_kib = memory_kib(server.pid(), "VmHWM:");

    // 3. Orders, counted in statements.
    let fixture = support::order_fixture(&client, &base, &admin).await;
    let before = support::statements_sent(&client, &server.root).await;
    let run =
        support::create_and_confirm(&client, &base, &admin, &fixture, 2000, connections).await;
    let after = support::statements_sent(&client, &server.root).await;
    let per_order = after.saturating_sub(before) as f64 / run.latencies.len().max(1) as f64;
    println!(
        "order create + confirm (3 lines), {connections} clients: {:.0} orders/s, p50 {:.1} ms, p99 {:.1} ms, {per_order:.1} statements each (BEGIN/COMMIT aside; budget 500 orders/s)",
        run.per_second(),
        quantile_ms(&run.latencies, 0.50),
        quantile_ms(&run.latencies, 0.99),
    );
    if run.per_second() < 500.0 {
        misses.push("orders".into());
    }

    // 4. Reports, one at a time, as the admin and the manager.
    let mut worst = Duration::ZERO;
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9}",
        "report (12 months, ms)", "admin p50", "admin max", "mgr p50", "mgr max"
    );
    for (label, path) in support::reports(Utc::now().date_naive()) {
        let url = format!("{base}/reports/{path}");
        let a = time_rounds(&client, &url, &admin, 5).await;
        let m = time_rounds(&client, &url, &manager, 5).await;
        worst = worst.max(a.1).max(m.1);
        println!(
            "{label:<34} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            ms(a.0),
            ms(a.1),
            ms(m.0),
            ms(m.1)
        );
    }
    if worst >= Duration::from_millis(300) {
        misses.push("reports".into());
    }
    let peak_kib = memory_kib(server.pid(), "VmHWM:");
    println!(
        "resident memory: {:.1} MiB idle (after start-up, three sign-ins and a pause), {:.1} MiB peak under the reads, {:.1} MiB peak overall (budget: 30 MiB idle, 100 MiB peak)",
        idle_kib as f64 / 1024.0,
        read_peak_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0
    );
    if idle_kib >= 30 * 1024 || peak_kib >= 100 * 1024 {
        misses.push("memory".into());
    }
    if misses.is_empty() {
        println!("every row meets SPEC §9");
    } else {
        println!("misses SPEC §9: {}", misses.join(", "));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
