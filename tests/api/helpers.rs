//! The test harness: a fresh database and a running server per test, and request helpers
//! that read like the scenario.

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use sims_api::Application;
use sims_api::config::{Secret, Settings};
use uuid::Uuid;

/// The JWT secret every test server signs with, so tests can forge expired tokens.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "rep-password-123";

/// A fresh database for one test, removed when the test ends.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A new empty database of the kind `DATABASE_URL` selects (SQLite when unset).
    pub async fn create() -> Self {
        match std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin_url) => {
                let name = format!("sims_test_{}", Uuid::now_v7().simple());
                let conn = Database::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .unwrap_or(admin_url.clone());
                let url = format!("{base}/{name}");
                TestDb {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => Self::sqlite(),
        }
    }

    /// The file of an SQLite database (`None` on PostgreSQL).
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => Some(path),
            Cleanup::Postgres { .. } => None,
        }
    }

    /// A new empty SQLite database, whatever `DATABASE_URL` says.
    pub fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("sims-test-{}.db", Uuid::now_v7().simple()));
        TestDb {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            cleanup: Cleanup::SqliteFile(path),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop from a thread of its own: this runs inside the test's runtime.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async {
                        if let Ok(conn) = Database::connect(&admin_url).await {
                            let _ = conn
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            let _ = conn.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// One request of a table of requests that should all be answered alike: a method, a
/// path and, for writes, a JSON body.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path, None)
    }

    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::POST, path, Some(body))
    }

    pub fn patch(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::PATCH, path, Some(body))
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path, None)
    }

    fn new(method: Method, path: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method,
            path: path.into(),
            body,
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// Kept for its lifetime: the database is dropped with the app.
    pub _db: TestDb,
    pub admin: String,
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header's value as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The problem `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The `field`s named in a problem's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `id` of the returned resource.
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_owned()
    }

    /// Ids of a list page's items.
    pub fn ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a page: {}", self.body))
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Asserts a `validation_failed` problem whose error naming `field` has `code`, and
    /// returns that error.
    #[track_caller]
    pub fn expect_invalid(self, field: &str, code: &str) -> Value {
        let r = self.expect_problem(422, "validation_failed");
        let e = r.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {}", r.body))
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("no error for {field}: {}", r.body));
        assert_eq!(e["code"], code, "{field}: {}", r.body);
        e.clone()
    }

    /// The string `key` of every item of a list page, in order.
    pub fn column(&self, key: &str) -> Vec<String> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a page: {}", self.body))
            .iter()
            .map(|i| {
                i[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("no string {key} in {i}"))
                    .to_owned()
            })
            .collect()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts a problem response with this status, code and content type.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problem content type"
        );
        assert_eq!(self.code(), code, "problem code; body: {}", self.body);
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(status)));
        self
    }
}

/// The `keys` of each object in the array `rows`, one JSON array a row (a missing key is
/// null), for comparing a table with `json!`.
pub fn pick(rows: &Value, keys: &[&str]) -> Vec<Value> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .map(|r| Value::Array(keys.iter().map(|k| r[*k].clone()).collect()))
        .collect()
}

/// The `(line, code)` of each of an import's `errors`.
pub fn line_codes(body: &Value) -> Vec<(u64, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Asserts that an import's `errors` include each `(line, code)` of `wanted`.
#[track_caller]
pub fn assert_line_codes(body: &Value, wanted: &[(u64, &str)]) {
    let found = line_codes(body);
    for &(line, code) in wanted {
        assert!(
            found.contains(&(line, code.to_owned())),
            "missing ({line}, {code}) in {found:?}"
        );
    }
}

/// Settings for a test server on a random port.
pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        database_max_connections: 5,
        jwt_secret: Secret::new(JWT_SECRET),
        admin_email: Some(ADMIN_EMAIL.into()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        workers: 2,
        // The webhook dispatcher runs only in the tests that deliver webhooks.
        webhooks: sims_api::config::WebhookSettings {
            poll_interval_ms: 0,
            ..Default::default()
        },
        ..Settings::default()
    }
}

/// Starts a server with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `tweak` adjusts its settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        sims_api::telemetry::init(sims_api::config::LogFormat::Text, "info");
    }
    spawn_app_on(TestDb::create().await, tweak).await
}

/// Starts a server on `db` (which may already hold data) after `tweak` adjusts its
/// settings; signs in the test admin.
pub async fn spawn_app_on(db: TestDb, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&db);
    tweak(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut t = TestApp {
        address,
        client,
        _db: db,
        admin: String::new(),
    };
    t.admin = t.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    t
}

impl TestApp {
    /// Sends a request with an optional bearer token and JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut rb = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb).await
    }

    /// Sends a prepared request and reads the body as JSON (or a string).
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let res = rb.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// Signs in and returns the full token pair.
    pub async fn login_pair(&self, email: &str, password: &str) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Exchanges a refresh token (any JSON value, sent as is) without a bearer token.
    pub async fn refresh(&self, refresh_token: impl Into<Value>) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token.into()})),
        )
        .await
    }

    /// POSTs `body` to `path` on the server at `address` as admin with an
    /// `Idempotency-Key`.
    pub async fn keyed(&self, address: &str, path: &str, key: &str, body: Value) -> Reply {
        let rb = self
            .client
            .post(format!("{address}{path}"))
            .bearer_auth(&self.admin)
            .header("Idempotency-Key", key)
            .json(&body);
        self.send(rb).await
    }

    /// Signs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self.login_pair(email, password).await.expect(200);
        r.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Creates a team (as admin).
    pub async fn team(&self, name: &str, parent: Option<&str>) -> String {
        self.post(
            "/api/v1/teams",
            &self.admin,
            json!({"name": name, "parent_id": parent}),
        )
        .await
        .expect(201)
        .id()
    }

    /// Creates a user (as admin) and signs them in: `(id, token)`.
    pub async fn user(&self, role: &str, team: Option<&str>) -> (String, String) {
        let email = format!("{role}-{}@example.com", Uuid::now_v7().simple());
        let id = self
            .post("/api/v1/users", &self.admin, json!({"email": email, "name": format!("{role} user"), "password": PASSWORD, "role": role, "team_id": team}))
            .await
            .expect(201)
            .id();
        let token = self.login(&email, PASSWORD).await;
        (id, token)
    }

    /// Starts another server on the same database (a restart, or a second instance) and
    /// returns its address.
    pub async fn another_instance(&self) -> String {
        let app = Application::build(test_settings(&self._db))
            .await
            .expect("build another instance");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    /// Ages a customer as if its owner got it `owned_days_ago` days ago and its last
    /// follow-up happened `followed_days_ago` days ago: the controlled clock of the pool
    /// tests.
    pub async fn age_customer(
        &self,
        id: &str,
        owned_days_ago: i64,
        followed_days_ago: Option<i64>,
    ) {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use sims_persistence::entities::customers;
        let conn = Database::connect(&self._db.url).await.expect("connect");
        let now = chrono::Utc::now();
        customers::Entity::update_many()
            .col_expr(
                customers::Column::OwnerSince,
                Expr::val(now - chrono::Duration::days(owned_days_ago)),
            )
            .col_expr(
                customers::Column::LastFollowUpAt,
                Expr::val(followed_days_ago.map(|d| now - chrono::Duration::days(d))),
            )
            .filter(customers::Column::Id.eq(Uuid::parse_str(id).expect("uuid")))
            .exec(&conn)
            .await
            .expect("age customer");
        conn.close().await.ok();
    }

    /// Puts a customer in the pool (as admin, who may release anything).
    pub async fn pool_customer(&self, name: &str) -> String {
        let id = self.customer(&self.admin, name, json!({})).await;
        self.post(
            &format!("/api/v1/customers/{id}/release"),
            &self.admin,
            json!({}),
        )
        .await
        .expect(200);
        id
    }

    /// Creates a sales user (as admin) with an email starting `prefix-`: `(email, id)`.
    pub async fn sales_user(&self, prefix: &str, name: &str) -> (String, String) {
        let email = format!("{prefix}-{}@example.com", Uuid::now_v7().simple());
        let id = self
            .post(
                "/api/v1/users",
                &self.admin,
                json!({"email": email, "name": name, "password": PASSWORD, "role": "sales"}),
            )
            .await
            .expect(201)
            .id();
        (email, id)
    }

    /// Activates or deactivates a user (as admin).
    pub async fn set_active(&self, user: &str, active: bool) {
        self.patch(
            &format!("/api/v1/users/{user}"),
            &self.admin,
            json!({"active": active}),
        )
        .await
        .expect(200);
    }

    /// Creates a warehouse (as admin).
    pub async fn warehouse(&self, code: &str, name: &str) -> String {
        self.post(
            "/api/v1/warehouses",
            &self.admin,
            json!({"code": code, "name": name}),
        )
        .await
        .expect(201)
        .id()
    }

    /// Creates a product from `fields` (as admin).
    pub async fn product(&self, fields: Value) -> String {
        self.post("/api/v1/products", &self.admin, fields)
            .await
            .expect(201)
            .id()
    }

    /// Receives `quantity` of `product` into `warehouse` (as admin).
    pub async fn receive(&self, warehouse: &str, product: &str, quantity: &str) -> Reply {
        self.post(
            "/api/v1/stock/receipts",
            &self.admin,
            json!({"warehouse_id": warehouse, "lines": [{"product_id": product, "quantity": quantity}]}),
        )
        .await
        .expect(201)
    }

    /// Confirms an order as `token`, expecting success.
    pub async fn confirm(&self, token: &str, order: &str) -> Reply {
        self.post(&format!("/api/v1/orders/{order}/confirm"), token, json!({}))
            .await
            .expect(200)
    }

    /// Runs the pool-return job (as admin): how many customers it returned.
    pub async fn run_pool_return(&self) -> Value {
        self.post("/api/v1/admin/jobs/pool-return", &self.admin, json!({}))
            .await
            .expect(200)
            .body["returned"]
            .clone()
    }

    /// Creates a lead as `token`.
    pub async fn lead(&self, token: &str, name: &str) -> String {
        self.post("/api/v1/leads", token, json!({"name": name}))
            .await
            .expect(201)
            .id()
    }

    /// Creates an opportunity for `customer` as `token`.
    pub async fn opportunity(
        &self,
        token: &str,
        customer: &str,
        name: &str,
        amount: &str,
    ) -> String {
        self.post(
            "/api/v1/opportunities",
            token,
            json!({"customer_id": customer, "name": name, "amount": amount}),
        )
        .await
        .expect(201)
        .id()
    }

    /// A warehouse `W1` and a product `P1` at 10.00 with 13% tax (as admin), for tests
    /// that need an order: `(warehouse, product)`.
    pub async fn warehouse_and_product(&self) -> (String, String) {
        let warehouse = self.warehouse("W1", "主仓").await;
        let product = self
            .product(json!({"sku": "P1", "name": "P1", "unit": "件", "list_price": "10", "tax_rate": "13"}))
            .await;
        (warehouse, product)
    }

    /// A draft order for `customer` as `token`: one line of `product`.
    pub async fn draft_order(
        &self,
        token: &str,
        customer: &str,
        (warehouse, product): (&str, &str),
    ) -> String {
        self.post(
            "/api/v1/orders",
            token,
            json!({"customer_id": customer, "warehouse_id": warehouse,
                   "lines": [{"product_id": product, "quantity": "1"}]}),
        )
        .await
        .expect(201)
        .id()
    }

    /// POSTs each body of `cases` to `path` as `token`: each is refused as
    /// `validation_failed`, its error naming the case's field with the case's code.
    pub async fn post_each_invalid(
        &self,
        path: &str,
        token: &str,
        cases: impl IntoIterator<Item = (Value, &str, &str)>,
    ) {
        for (body, field, code) in cases {
            let r = self.post(path, token, body.clone()).await;
            assert_eq!(r.status.as_u16(), 422, "{body}: {}", r.body);
            r.expect_invalid(field, code);
        }
    }

    /// Sends each call as `token`: every one is refused with this status and problem
    /// code (the failure names the call).
    pub async fn refuses(
        &self,
        token: &str,
        status: u16,
        code: &str,
        calls: impl IntoIterator<Item = Call>,
    ) {
        for call in calls {
            let what = format!("{} {}", call.method, call.path);
            let r = self
                .request(call.method, &call.path, Some(token), call.body)
                .await;
            assert_eq!(r.status.as_u16(), status, "{what}: {}", r.body);
            assert_eq!(r.code(), code, "{what}: {}", r.body);
            r.expect_problem(status, code);
        }
    }

    /// Asserts the list at `path` (as `token`) has no items on its first page.
    pub async fn assert_empty(&self, path: &str, token: &str, why: &str) {
        let page = self.get(path, token).await.expect(200);
        assert!(page.ids().is_empty(), "{why}: {}", page.body);
    }

    /// Every item of a list, page by page with `after`.
    pub async fn all(&self, path: &str, token: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut next = format!("{path}{sep}per_page=200");
        loop {
            let page = self.get(&next, token).await.expect(200);
            items.extend(page.body["items"].as_array().cloned().unwrap_or_default());
            match page.body["next_cursor"].as_str() {
                Some(c) => next = format!("{path}{sep}per_page=200&after={c}"),
                None => return items,
            }
        }
    }

    /// Creates a customer as `token` with `extra` fields merged in.
    pub async fn customer(&self, token: &str, name: &str, extra: Value) -> String {
        let mut body = json!({"name": name});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.post("/api/v1/customers?allow_duplicate=true", token, body)
            .await
            .expect(201)
            .id()
    }
}
