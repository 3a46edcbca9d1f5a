//! The real `sims` process for the process tests: a fresh database, the server started
//! on it, a signed-in client.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub const PASSWORD: &str = "crash-test-password-1";

/// A fresh database of the kind `DATABASE_URL` selects, removed afterwards.
pub struct TestDb {
    pub url: String,
    postgres: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
}

impl TestDb {
    pub async fn create() -> Self {
        let name = format!("sims_crash_{}", uuid::Uuid::now_v7().simple());
        match std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin) => {
                let conn = Database::connect(&admin).await.expect("PostgreSQL");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the database");
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                TestDb {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin, name)),
                    file: None,
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                TestDb {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    postgres: None,
                    file: Some(path),
                }
            }
        }
    }

    pub async fn drop_it(self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(conn) = Database::connect(admin).await
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            conn.close().await.ok();
        }
        if let Some(path) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// The server process; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub async fn start(db: &TestDb, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sims"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("SIMS_BIND", format!("127.0.0.1:{port}"))
        .env("SIMS_JWT_SECRET", "crash-test-secret-crash-test-secret-000")
        .env("SIMS_ADMIN_EMAIL", "admin@example.com")
        .env("SIMS_ADMIN_PASSWORD", PASSWORD)
        .env("SIMS_RATE_LIMIT__PER_MINUTE", "0")
        .env("SIMS_AUTH__REQUESTS_PER_MINUTE_PER_ADDRESS", "0")
        .env("SIMS_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
        .env("SIMS_WEBHOOKS__RETRY_BASE_SECS", "0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().expect("the sims binary starts"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client.get(format!("{}/ready", server.base)).send().await;
        if ready.map(|r| r.status().is_success()).unwrap_or(false) {
            return server;
        }
        assert!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A signed-in client of one server.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn sign_in(server: &Server) -> Self {
        let client = reqwest::Client::new();
        let login: Value = client
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"email": "admin@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            client,
            base: server.base.clone(),
            token: login["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The status and body of a request, or `None` when no answer came (the kill).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Option<(u16, Value)> {
        let mut rb = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(30));
        if let Some(b) = body {
            rb = rb.json(b);
        }
        if let Some(k) = key {
            rb = rb.header("idempotency-key", k);
        }
        let res = rb.send().await.ok()?;
        let status = res.status().as_u16();
        let text = res.text().await.ok()?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Warehouse `W1` holding 1,000,000 of product `P1` (10.00, 13% tax), and a customer
    /// to sell to: `(warehouse, product, customer)` as created.
    pub async fn stocked(&self) -> (Value, Value, Value) {
        let (_, warehouse) = self
            .post("/warehouses", json!({"code": "W1", "name": "主仓"}))
            .await;
        let (_, product) = self
            .post(
                "/products",
                json!({"sku": "P1", "name": "P1", "unit": "件", "list_price": "10", "tax_rate": "13"}),
            )
            .await;
        let (status, _) = self
            .post(
                "/stock/receipts",
                json!({"warehouse_id": warehouse["id"], "lines": [{"product_id": product["id"], "quantity": "1000000"}]}),
            )
            .await;
        assert_eq!(status, 201);
        let (_, customer) = self.post("/customers", json!({"name": "Buyer Co"})).await;
        (warehouse, product, customer)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(&body), None)
            .await
            .expect("an answer")
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .send(reqwest::Method::GET, path, None, None)
            .await
            .expect("an answer");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

pub fn dec(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .expect("a decimal string")
}

/// Runs a `sims` command (not `serve`) on `database_url` with `env`, to its end, within
/// a minute.
pub fn sims(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sims"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("the sims binary runs");
    let pid = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.expect("the command's output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("sims {args:?} did not finish within a minute");
        }
    }
}
