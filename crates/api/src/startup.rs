//! Building and running the server: state, bootstrap, middleware and routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use sims_persistence::{Database, DbOptions, users};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::auth::{PasswordHasher, TokenKeys, hash_password, random_token};
use crate::config::Settings;
use crate::error::{ApiError, ErrorCode};
use crate::state::{AppState, RequestBudget};
use crate::telemetry::{Metrics, observe};

/// A start-up failure, reported as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(String),
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Opens the database, creating the directory of a SQLite file when needed.
pub async fn open_database(settings: &Settings) -> Result<Database, StartupError> {
    connect(settings, db_options(settings, &settings.database_url)).await
}

/// Opens the database as `options` say, creating the directory of a SQLite file when
/// needed.
async fn connect(settings: &Settings, options: DbOptions) -> Result<Database, StartupError> {
    if let Some(path) = settings
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| settings.database_url.strip_prefix("sqlite:"))
    {
        let file = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(file).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StartupError::Database(format!("{}: {e}", dir.display())))?;
        }
    }
    Database::connect(&options).await.map_err(|e| {
        StartupError::Database(format!(
            "{} ({e})",
            crate::config::redact_url(&settings.database_url)
        ))
    })
}

/// How the pools for `url` are opened.
fn db_options(settings: &Settings, url: &str) -> DbOptions {
    DbOptions {
        url: url.to_owned(),
        max_connections: settings.database_max_connections,
        acquire_timeout: Duration::from_secs(10),
    }
}

/// Connections of the pool a server's start-up and background jobs share on PostgreSQL,
/// where the HTTP workers have pools of their own ([`worker_state`]).
const SHARED_POOL_CONNECTIONS: u32 = 4;

/// How a server opens the pool it shares for `url`: on PostgreSQL small, since the
/// requests have the workers' pools; on SQLite every request uses it.
fn shared_options(settings: &Settings, url: &str) -> DbOptions {
    let mut options = db_options(settings, url);
    if url.starts_with("postgres") {
        options.max_connections = options.max_connections.min(SHARED_POOL_CONNECTIONS);
    }
    options
}

/// The state one of `workers` HTTP workers serves with: the shared one, with database
/// pools of the worker's own ([`Database::for_worker`]). Call it on the worker's runtime.
fn worker_state(state: &AppState, workers: usize) -> Result<AppState, String> {
    let settings = &state.settings;
    let db = state
        .db
        .for_worker(&db_options(settings, &settings.database_url), workers)
        .map_err(|e| e.to_string())?;
    let reports = match &settings.database_read_url {
        Some(url) => state
            .reports
            .for_worker(&db_options(settings, url), workers)
            .map_err(|e| e.to_string())?,
        None => db.clone(),
    };
    Ok(AppState {
        db,
        reports,
        ..state.clone()
    })
}

/// Creates the first admin on an empty database, from the settings or with a random
/// password printed once.
pub async fn bootstrap_admin(db: &Database, settings: &Settings) -> Result<(), StartupError> {
    if users::any_exists(db.conn())
        .await
        .map_err(|e| StartupError::Database(e.to_string()))?
    {
        return Ok(());
    }
    let email = settings
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@example.com".into());
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (random_token(15), true),
    };
    sims_domain::values::check_password("SIMS_ADMIN_PASSWORD", &password)
        .map_err(|v| StartupError::Other(v.message))?;
    let password_hash = hash_password(password.clone())
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?;
    let new = users::NewUser {
        email: email.clone(),
        name: "Administrator".into(),
        password_hash,
        role: sims_domain::Role::Admin,
        team_id: None,
    };
    users::create(db, None, new)
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?;
    if generated {
        println!(
            "Created the first admin: {email} with password {password} (shown once; change it)"
        );
    } else {
        tracing::info!(%email, "created the first admin");
    }
    Ok(())
}

/// The connection reports read from: the replica `DATABASE_READ_URL` names, else `db`.
pub async fn open_reports_database(
    db: &Database,
    settings: &Settings,
) -> Result<Database, StartupError> {
    let Some(url) = &settings.database_read_url else {
        return Ok(db.clone());
    };
    Database::connect(&shared_options(settings, url))
        .await
        .map_err(|e| StartupError::Database(format!("{} ({e})", crate::config::redact_url(url))))
}

/// The shared state for a database and settings.
pub async fn build_state(db: Database, settings: Settings) -> Result<AppState, StartupError> {
    let metrics = Metrics::new().map_err(|e| StartupError::Other(e.to_string()))?;
    let reports = open_reports_database(&db, &settings).await?;
    Ok(AppState {
        db,
        reports,
        keys: TokenKeys::new(
            settings.jwt_secret.expose(),
            settings.auth.access_ttl_secs as i64,
        ),
        budget: Arc::new(RequestBudget::new(settings.rate_limit.per_minute)),
        address_budget: Arc::new(RequestBudget::new(
            settings.auth.requests_per_minute_per_address,
        )),
        key_uses: Arc::default(),
        trusted_proxies: Arc::new(
            crate::client::TrustedProxies::parse(&settings.server.trusted_proxies)
                .map_err(|bad| StartupError::Other(format!("bad trusted proxy {bad:?}")))?,
        ),
        hasher: PasswordHasher::new(settings.auth.max_concurrent_hashes)
            .map_err(|e| StartupError::Other(format!("cannot start the hashing threads: {e}")))?,
        settings: Arc::new(settings),
        metrics,
    })
}

fn cors(origins: &[String]) -> Cors {
    let mut c = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::ACCEPT,
        ])
        .allowed_header("idempotency-key")
        .allowed_header("x-request-id")
        .expose_headers([
            "etag",
            "location",
            "x-request-id",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "retry-after",
        ])
        .max_age(3600);
    for o in origins {
        c = c.allowed_origin(o);
    }
    c
}

/// What no route serves: `405` with `Allow` for a known path, `404` otherwise.
async fn unmatched(
    req: actix_web::HttpRequest,
    known: web::Data<crate::methods::KnownPaths>,
) -> Result<HttpResponse, ApiError> {
    match known.allowed(req.path()) {
        Some(allow) => Err(ApiError::method_not_allowed(&req, allow)),
        None => Err(ApiError::new(ErrorCode::NotFound, "no such route")),
    }
}

/// Every ten minutes, deletes what has expired: login-failure counters whose window has
/// passed, idempotency keys older than a day, tombstones older than `sync.tombstone_days`
/// and delivered webhook events older than `webhooks.retention_days`. Safe on many
/// instances at once.
async fn run_housekeeping(state: AppState) {
    let mut ticks = tokio::time::interval(Duration::from_secs(600));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let window = chrono::Duration::seconds(state.settings.auth.login_failure_window_secs as i64);
    let kept = chrono::Duration::days(i64::from(state.settings.sync.tombstone_days));
    let events_kept = chrono::Duration::days(i64::from(state.settings.webhooks.retention_days));
    loop {
        ticks.tick().await;
        let conn = state.db.conn();
        match (
            sims_persistence::auth::purge_failures(conn, window).await,
            sims_persistence::idempotency::purge_expired(conn).await,
            sims_persistence::deletions::purge(conn, sims_persistence::now() - kept).await,
            sims_persistence::webhooks::purge(conn, sims_persistence::now() - events_kept).await,
        ) {
            (Ok(failures), Ok(keys), Ok(tombstones), Ok(events))
                if failures + keys + tombstones + events > 0 =>
            {
                tracing::info!(
                    failures,
                    keys,
                    tombstones,
                    events,
                    "purged expired sign-in counters, idempotency keys, tombstones and webhook events"
                )
            }
            (Ok(_), Ok(_), Ok(_), Ok(_)) => {}
            (a, b, c, d) => {
                for e in [a.err(), b.err(), c.err(), d.err()].into_iter().flatten() {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
            }
        }
    }
}

/// Runs the pool-return job every `pool.return_interval_secs`. Each run first takes the
/// job's lease in the database, so that of many instances only one runs it at a time.
async fn run_pool_return_job(state: AppState) {
    let every = Duration::from_secs(state.settings.pool.return_interval_secs);
    let holder = uuid::Uuid::now_v7().to_string();
    let lease = chrono::Duration::seconds(state.settings.pool.return_interval_secs as i64);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = sims_persistence::now();
        match sims_persistence::pool::take_lease(&state.db, "pool-return", &holder, lease, now)
            .await
        {
            Ok(true) => match sims_persistence::pool::return_due(
                &state.db,
                state.settings.pool.rules(),
                now,
            )
            .await
            {
                Ok(n) => {
                    state.metrics.pool_return_ran(Some(n));
                    tracing::info!(returned = n, "pool-return job ran")
                }
                Err(e) => {
                    state.metrics.pool_return_ran(None);
                    tracing::error!(error = %e, "pool-return job failed")
                }
            },
            Ok(false) => tracing::debug!("pool-return job runs on another instance"),
            Err(e) => tracing::error!(error = %e, "cannot take the pool-return lease"),
        }
    }
}

/// Lives as long as one HTTP worker. Each worker runs a runtime of its own, with a
/// PostgreSQL pool of its own ([`Database::for_worker`]) whose connections die with it:
/// when it stops, its pool leaves the gauges; and the shared pool (the one every worker
/// uses on SQLite, or where a worker could not open its own) checks connections before
/// handing them out, in case one was opened on the stopped worker's runtime. (A shutdown
/// waits for the requests in flight before it stops any worker:
/// [`Application::run_until_stopped`].)
struct WorkerLifetime(Vec<Database>);

impl Drop for WorkerLifetime {
    fn drop(&mut self) {
        tracing::debug!("an HTTP worker stopped: pooled connections are checked before use");
        for db in &self.0 {
            db.check_connections_before_use();
            db.retire();
        }
    }
}

/// Runs a background job on a thread of its own with a single-threaded runtime, so that
/// it never holds up a request worker (and its future need not be `Send`).
fn spawn_job<F, Fut>(name: &str, job: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let label = name.to_owned();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(job()),
                Err(e) => {
                    tracing::error!(error = %e, job = %label, "cannot start the job's runtime")
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, job = name, "cannot start the job's thread");
    }
}

/// The TLS configuration of a PEM certificate chain and its private key, with a clear
/// error naming the file that cannot be used.
fn tls_config(cert: &str, key: &str) -> Result<rustls::ServerConfig, StartupError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let unusable = |path: &str, e: &dyn std::fmt::Display| {
        StartupError::Other(format!("TLS: cannot use {path}: {e}"))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| unusable(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable(cert, &e))?;
    if chain.is_empty() {
        return Err(unusable(cert, &"no certificate in it"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| unusable(key, &e))?;
    rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StartupError::Other(format!("TLS: {e}")))?
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .map_err(|e| StartupError::Other(format!("TLS: {cert} and {key} do not make a pair: {e}")))
}

/// A built server, bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    in_flight: web::Data<crate::telemetry::InFlight>,
}

/// The OpenAPI description as served at `/openapi.json`.
struct OpenApiDocument(web::Bytes);

async fn openapi_document(document: web::Data<OpenApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// Turns field encryption on for this process when a key is configured, and checks that
/// every value the database holds sealed opens with the keys at hand.
pub async fn encryption(db: &Database, settings: &Settings) -> Result<(), StartupError> {
    let keys = settings
        .encryption
        .keys()
        .map_err(|e| StartupError::Other(e.to_string()))?;
    if let Some((current, old)) = keys {
        sims_persistence::crypto::install(&current, &old)
            .map_err(|e| StartupError::Other(e.to_string()))?;
    }
    sims_persistence::encryption::check_keys(db)
        .await
        .map_err(|e| StartupError::Other(format!("field encryption: {e}")))
}

impl Application {
    /// Opens and migrates the database, creates the first admin when it is empty, and
    /// binds the listener (port 0 picks a free one).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = connect(&settings, shared_options(&settings, &settings.database_url)).await?;
        db.migrate()
            .await
            .map_err(|e| StartupError::Migrate(e.to_string()))?;
        encryption(&db, &settings).await?;
        bootstrap_admin(&db, &settings).await?;
        sims_persistence::stages::seed_defaults(&db)
            .await
            .map_err(|e| StartupError::Database(e.to_string()))?;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| StartupError::Bind(settings.bind.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(settings.bind.clone(), e))?
            .port();
        let workers = settings.workers;
        let tls = match (
            &settings.server.tls_cert_path,
            &settings.server.tls_key_path,
        ) {
            (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
            _ => None,
        };
        let listened = db.clone();
        spawn_job("principals", move || {
            sims_persistence::principals::listen(listened)
        });
        let state = build_state(db, settings).await?;
        let housekeeping = state.clone();
        spawn_job("housekeeping", move || run_housekeeping(housekeeping));
        spawn_job("memory", || {
            crate::memory::release_periodically(Duration::from_secs(2))
        });
        if state.settings.webhooks.poll_interval_ms > 0 {
            let dispatcher = state.clone();
            spawn_job("webhooks", move || {
                crate::webhooks::run_dispatcher(dispatcher)
            });
        }
        if state.settings.pool.return_interval_secs > 0 {
            let job_state = state.clone();
            spawn_job("pool-return", move || run_pool_return_job(job_state));
        }
        let data = web::Data::new(state);
        let origins = data.settings.cors_origins.clone();
        // The description is the committed text, served as it is by every worker.
        let spec: serde_json::Value = serde_json::from_str(crate::openapi::COMMITTED)
            .map_err(|e| StartupError::Other(format!("the built-in OpenAPI document: {e}")))?;
        let known = web::Data::new(crate::methods::KnownPaths::from_spec(&spec));
        drop(spec);
        let document = web::Data::new(OpenApiDocument(web::Bytes::from_static(
            crate::openapi::COMMITTED.as_bytes(),
        )));
        let in_flight = web::Data::new(crate::telemetry::InFlight::default());
        let counted = in_flight.clone();
        // Set here rather than left to actix, so that the pools are shared out between
        // exactly the workers that run.
        let worker_count = match workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let mut server = HttpServer::new(move || {
            let data = match worker_state(&data, worker_count) {
                Ok(state) => web::Data::new(state),
                Err(e) => {
                    tracing::error!(error = %e, "a worker shares the pool: cannot open its own");
                    data.clone()
                }
            };
            let worker = WorkerLifetime(vec![data.db.clone(), data.reports.clone()]);
            App::new()
                .app_data(worker)
                .app_data(counted.clone())
                .app_data(data.clone())
                .app_data(known.clone())
                .app_data(document.clone())
                .configure(crate::routes::system::serve)
                .service(web::scope("/api/v1").configure(crate::routes::serve_api))
                .service(
                    SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::new(["/openapi.json"])),
                )
                .route("/openapi.json", web::get().to(openapi_document))
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(unmatched))
                .wrap(from_fn(observe))
                .wrap(cors(&origins))
        })
        .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
        // Signals are handled by `run_until_stopped`, which lets requests finish first.
        .disable_signals();
        server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config),
            None => server.listen(listener),
        }
        .map_err(|e| StartupError::Other(e.to_string()))?;
        server = server.workers(worker_count);
        // What start-up freed (migrations, the spec parsed above) leaves now.
        crate::memory::release_now();
        Ok(Self {
            port,
            server: server.run(),
            in_flight,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped. On SIGTERM it stops accepting connections, lets the requests
    /// in flight finish (up to [`SHUTDOWN_TIMEOUT`]) and only then stops the workers: a
    /// worker that stopped earlier would take the database connections it opened with it,
    /// under a request another worker is still serving. SIGINT and SIGQUIT stop at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let in_flight = self.in_flight.clone();
        tokio::spawn(async move {
            let graceful = stop_signal().await;
            if !graceful {
                handle.stop(false).await;
                return;
            }
            tracing::info!(
                in_flight = in_flight.count(),
                "stopping: requests in flight finish first"
            );
            handle.pause().await;
            let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
            while in_flight.count() > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// How long a graceful shutdown waits for requests in flight.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits for a signal to stop: `true` for SIGTERM (graceful), `false` for SIGINT or
/// SIGQUIT (at once). Without signal handlers it never returns.
async fn stop_signal() -> bool {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        tracing::warn!("cannot listen for signals: stop the server by killing it");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => true,
        _ = int.recv() => false,
        _ = quit.recv() => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_are_redacted() {
        assert_eq!(
            crate::config::redact_url("postgres://sims:secret@db:5432/sims"),
            "postgres://sims:***@db:5432/sims"
        );
        assert_eq!(
            crate::config::redact_url("sqlite://./data/sims.db?mode=rwc"),
            "sqlite://./data/sims.db?mode=rwc"
        );
    }
}
