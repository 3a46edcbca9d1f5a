//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::responses::Always;
use crate::state::AppState;

/// Health of the process or of its dependencies.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
}

/// `ok`: the only answer a healthy server gives.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
}

/// Whether the process is alive. Never touches the database.
#[utoipa::path(tag = "system", operation_id = "get_health", security(()), responses(
    Always,
    (status = 200, description = "Healthy", body = Health),
))]
#[get("/health")]
pub async fn health() -> web::Json<Health> {
    web::Json(Health {
        status: HealthStatus::Ok,
    })
}

/// Readiness, with the webhook backlog.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: HealthStatus,
    /// Seconds since the oldest event not yet delivered to every subscriber occurred
    /// (`null`: none waits). Alert when it keeps growing.
    pub oldest_undelivered_event_age_secs: Option<i64>,
}

/// Whether the server can serve requests: the database answers.
#[utoipa::path(tag = "system", operation_id = "get_ready", security(()), responses(
    Always,
    (status = 200, description = "Ready", body = Readiness),
    (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<Readiness>> {
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(ErrorCode::Unavailable, "the database is unreachable")
    };
    state.db.ping().await.map_err(|e| unavailable(&e))?;
    let oldest = sims_persistence::webhooks::oldest_undelivered(state.db.conn())
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(web::Json(Readiness {
        status: HealthStatus::Ok,
        oldest_undelivered_event_age_secs: oldest
            .map(|t| (sims_persistence::now() - t).num_seconds().max(0)),
    }))
}

/// Prometheus metrics: request counts and latency histograms by route and status, the
/// database pool and statements, the pool-return job's runs, and the webhook backlog.
#[utoipa::path(tag = "system", operation_id = "get_metrics", security(()), responses(
    Always,
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match sims_persistence::webhooks::oldest_undelivered(state.db.conn()).await {
        Ok(oldest) => state.metrics.set_webhook_backlog(
            oldest.map(|t| (sims_persistence::now() - t).num_seconds().max(0)),
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read the webhook backlog for /metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&state.db))
}

/// Registers the system routes (outside `/api/v1`) with their description.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}

/// Registers the system routes for serving.
pub fn serve(cfg: &mut web::ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}
