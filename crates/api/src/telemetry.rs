//! Logs, request ids and Prometheus metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::error::{ApiError, ErrorCode};
use crate::state::{AppState, BudgetStatus};

/// Installs the global log subscriber once. `RUST_LOG` filters; `TEST_LOG` unset in
/// tests keeps them quiet. Text logs are coloured only when stderr is a terminal.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colours only for a terminal: a log file or `docker logs` gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// How many requests the server is handling now, so that a shutdown can wait for them
/// before it stops the workers (whose runtimes the database connections live on).
#[derive(Debug, Default)]
pub struct InFlight(std::sync::atomic::AtomicUsize);

impl InFlight {
    /// Counts a request until the guard drops.
    pub fn enter(counter: web::Data<Self>) -> InFlightGuard {
        counter.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InFlightGuard(counter)
    }

    /// Requests being handled now.
    pub fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A request counted by [`InFlight::enter`].
pub struct InFlightGuard(web::Data<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The id of the current request, echoed from `X-Request-Id` or generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Prometheus collectors.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    /// Runs of the pool-return job by outcome, customers it returned, and when it last ran.
    pool_return_runs: IntCounterVec,
    pool_returned: IntCounter,
    pool_return_last: IntGauge,
    webhook_backlog: IntGauge,
}

impl Metrics {
    /// Registers the collectors.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "sims_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "sims_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method", "route"],
        )?;
        let pool_size = IntGauge::new("sims_db_pool_connections", "Open database connections")?;
        let pool_idle =
            IntGauge::new("sims_db_pool_idle_connections", "Idle database connections")?;
        let pool_return_runs = IntCounterVec::new(
            Opts::new(
                "sims_pool_return_runs_total",
                "Runs of the pool-return job on this instance, by outcome (ok, failed)",
            ),
            &["outcome"],
        )?;
        let pool_returned = IntCounter::new(
            "sims_pool_returned_total",
            "Customers the pool-return job returned to the pool on this instance",
        )?;
        let pool_return_last = IntGauge::new(
            "sims_pool_return_last_run_timestamp_seconds",
            "When the pool-return job last ran on this instance (Unix seconds; 0: never)",
        )?;
        let webhook_backlog = IntGauge::new(
            "sims_webhook_oldest_undelivered_seconds",
            "Age of the oldest webhook event not yet delivered to every subscriber (0: none waits)",
        )?;
        registry.register(Box::new(pool_return_runs.clone()))?;
        registry.register(Box::new(pool_returned.clone()))?;
        registry.register(Box::new(pool_return_last.clone()))?;
        registry.register(Box::new(webhook_backlog.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            pool_return_runs,
            pool_returned,
            pool_return_last,
            webhook_backlog,
        })
    }

    /// Counts a run of the pool-return job: `Some(n)` returned `n` customers, `None` failed.
    pub fn pool_return_ran(&self, returned: Option<u64>) {
        let outcome = if returned.is_some() { "ok" } else { "failed" };
        self.pool_return_runs.with_label_values(&[outcome]).inc();
        self.pool_returned.inc_by(returned.unwrap_or(0));
        self.pool_return_last.set(chrono::Utc::now().timestamp());
    }

    /// Sets the webhook backlog: the age in seconds of the oldest undelivered event.
    pub fn set_webhook_backlog(&self, seconds: Option<i64>) {
        self.webhook_backlog.set(seconds.unwrap_or(0));
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The Prometheus text exposition, with the pool gauges refreshed and the count of
    /// statements `db` has sent.
    pub fn render(&self, db: &sims_persistence::Database) -> String {
        let (size, idle) = db.pool_stats();
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(idle as i64);
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        let mut text = String::from_utf8(buf).unwrap_or_default();
        text.push_str(&format!(
            "# HELP sims_db_statements_total Statements sent to the database (transaction control aside)\n\
             # TYPE sims_db_statements_total counter\n\
             sims_db_statements_total {}\n",
            db.statements_sent()
        ));
        text
    }
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The method as a metric label: one of the standard methods, or `OTHER`, so that
/// made-up methods cannot grow the metrics without bound.
fn metric_method(m: &actix_web::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .iter()
        .find(|k| **k == m.as_str())
        .copied()
        .unwrap_or("OTHER")
}

/// Gives every request an id (in its log span and its response), times it into the
/// metrics, and publishes the caller's request budget: a signed-in caller's (counted by
/// the `Caller` extractor), or for a request without working credentials its client
/// address's, counted here. A request without credentials over its address's budget is
/// answered `429` before any handler runs.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let _in_flight = req
        .app_data::<web::Data<InFlight>>()
        .cloned()
        .map(InFlight::enter);
    let start = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = metric_method(req.method());
    // The description's templates name the route without the router's regular
    // expressions (a scan of every route per request); the router names the rest.
    let known = req
        .app_data::<web::Data<crate::methods::KnownPaths>>()
        .cloned();
    let route: std::borrow::Cow<'_, str> = match known.as_ref().and_then(|k| k.route(req.path())) {
        Some(r) => r.into(),
        None => req
            .match_pattern()
            .map_or(std::borrow::Cow::Borrowed("unmatched"), Into::into),
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let address = state
        .as_ref()
        .map(|s| s.trusted_proxies.client(req.peer_addr(), req.headers()))
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let charge_address = |state: &Option<web::Data<AppState>>| {
        state.as_ref().and_then(|s| {
            s.address_budget
                .take(address, chrono::Utc::now().timestamp())
        })
    };
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    let span = tracing::info_span!("request", request_id = %id, %method, route = %route);
    let mut res = match anonymous.then(|| charge_address(&state)).flatten() {
        Some(status) if status.exceeded => {
            let mut e = ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "over the budget of {} requests a minute from this address",
                    status.limit
                ),
            );
            e.retry_after = Some(status.reset);
            req.extensions_mut().insert(status);
            req.error_response(e)
        }
        status => {
            if let Some(s) = status {
                req.extensions_mut().insert(s);
            }
            next.call(req)
                .instrument(span.clone())
                .await?
                .map_into_boxed_body()
        }
    };
    let status = res.status().as_u16();
    let elapsed = start.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "handled"
        )
    });
    if let Some(state) = &state {
        state
            .metrics
            .observe(method, &route, status, elapsed.as_secs_f64());
    }
    // Credentials that did not work (a 401) count against the address, after the fact.
    let budget = res
        .request()
        .extensions()
        .get::<BudgetStatus>()
        .copied()
        .or_else(|| charge_address(&state));
    let api = res.request().path().starts_with("/api/");
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(X_REQUEST_ID, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // API answers hold tokens and personal data: no cache keeps them.
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(b) = budget {
        headers.insert(
            HeaderName::from_static("ratelimit-limit"),
            HeaderValue::from(b.limit),
        );
        headers.insert(
            HeaderName::from_static("ratelimit-remaining"),
            HeaderValue::from(b.remaining),
        );
        headers.insert(
            HeaderName::from_static("ratelimit-reset"),
            HeaderValue::from(b.reset),
        );
    }
    Ok(res)
}
