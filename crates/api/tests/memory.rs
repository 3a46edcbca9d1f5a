//! A burst of sign-ins does not take the server's memory with it: 200 clients sign in at
//! once with the right password against the real `sims` binary (its own process, so that
//! its resident memory is its own), and the growth stays within what the bounded hashing
//! pool needs (`auth.max_concurrent_hashes` × argon2's 12 MiB, plus connections).
//! Unbounded, the same burst took the server to several gigabytes. No `MALLOC_*` settings
//! are set or needed. Once the burst is over the memory goes back: within a few seconds the
//! server is about as small as before it. Linux only: resident memory is read from `/proc`.
//!
//! The memory this measures is the hashing pool's, not the database driver's, so the
//! server runs on a fresh SQLite file whatever `DATABASE_URL` says.

#![allow(clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "memory-test-password-1";
const BURST: usize = 200;
/// Four hashes of 12 MiB at once are 48 MiB (an idle server holds none: the threads free
/// their memory when no hash waits); 200 connections, buffers and allocator slack take
/// the rest. Without the pool the growth was measured in gigabytes.
const GROWTH_LIMIT_KIB: u64 = 80 * 1024;
/// What the server may still hold above its idle size once a burst is over: the database
/// connections the burst opened stay in the pool until their idle timeout, each with its
/// SQLite page cache (measured: 9–10 MiB in all). The hashing threads' argon2 memory
/// (4 × 12 MiB) must be gone: they free it when no hash waits and hand it back to the
/// system at once; what else the burst freed leaves on the allocator's two-second timer.
const SETTLED_LIMIT_KIB: u64 = 16 * 1024;
/// How long the server has to give the burst's memory back.
const SETTLE_WITHIN: Duration = Duration::from_secs(10);

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// One HTTP/1.1 request on its own connection; the status code of the answer.
fn send(port: u16, method: &str, path: &str, body: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

fn start() -> Server {
    let dir = std::env::temp_dir().join(format!("sims-memory-{}-{}", std::process::id(), {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    }));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_sims"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/memory.db?mode=rwc", dir.display()),
        )
        .env("SIMS_BIND", format!("127.0.0.1:{port}"))
        .env("SIMS_JWT_SECRET", "memory-test-secret-memory-test-secret-0")
        .env("SIMS_ADMIN_EMAIL", "admin@example.com")
        .env("SIMS_ADMIN_PASSWORD", PASSWORD)
        // Every sign-in must reach the hash: the limits that would refuse a burst are off.
        .env("SIMS_RATE_LIMIT__PER_MINUTE", "0")
        .env("SIMS_AUTH__REQUESTS_PER_MINUTE_PER_ADDRESS", "0")
        .env("SIMS_AUTH__MAX_LOGIN_FAILURES", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the sims binary starts");
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while send(port, "GET", "/ready", "") != Some(200) {
        assert!(Instant::now() < deadline, "the server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

#[test]
fn a_burst_of_sign_ins_leaves_memory_bounded() {
    let server = start();
    let body = format!(r#"{{"email":"admin@example.com","password":"{PASSWORD}"}}"#);
    // Warm up: one sign-in, so that the idle figure is that of a server that has hashed.
    assert_eq!(
        send(server.port, "POST", "/api/v1/auth/login", &body),
        Some(200)
    );
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id();
    let idle = rss_kib(pid);
    assert!(idle > 0, "resident memory is readable");

    let peak = Arc::new(AtomicU64::new(idle));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running) = (peak.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let clients: Vec<_> = (0..BURST)
        .map(|_| {
            let body = body.clone();
            let port = server.port;
            std::thread::spawn(move || send(port, "POST", "/api/v1/auth/login", &body))
        })
        .collect();
    let answers: Vec<Option<u16>> = clients
        .into_iter()
        .map(|c| c.join().ok().flatten())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    running.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let peak = peak.load(Ordering::Relaxed).max(rss_kib(pid));

    let signed_in = answers.iter().filter(|a| **a == Some(200)).count();
    assert_eq!(signed_in, BURST, "every sign-in of the burst succeeds");
    let growth = peak.saturating_sub(idle);
    eprintln!(
        "resident memory: idle {} MiB, peak {} MiB during {BURST} sign-ins",
        idle / 1024,
        peak / 1024
    );
    assert!(
        growth < GROWTH_LIMIT_KIB,
        "a burst of {BURST} sign-ins grew the server by {} MiB (idle {} MiB, peak {} MiB)",
        growth / 1024,
        idle / 1024,
        peak / 1024
    );

    let deadline = Instant::now() + SETTLE_WITHIN;
    let mut settled = rss_kib(pid);
    while settled > idle + SETTLED_LIMIT_KIB && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        settled = rss_kib(pid);
    }
    eprintln!("resident memory after the burst: {} MiB", settled / 1024);
    assert!(
        settled <= idle + SETTLED_LIMIT_KIB,
        "{SETTLE_WITHIN:?} after a burst the server still held {} MiB (idle {} MiB)",
        settled / 1024,
        idle / 1024
    );
}
