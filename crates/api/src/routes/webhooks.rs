//! Webhook subscriptions, their delivery log and replays (admins).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::DomainError;
use sims_domain::values::optional_text;
use sims_domain::webhook::{DeliveryStatus, EventType, check_events};
use sims_persistence::webhooks::{self, DeliveryRecord, NewWebhook, WebhookPatch, WebhookRecord};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, RoleGated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// Longest description of a subscription.
pub const DESCRIPTION_MAX: usize = 500;

/// A subscription as listed (its secret is shown only when it is created).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    /// Event types, or `["*"]` for every event.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRecord> for WebhookView {
    fn from(r: WebhookRecord) -> Self {
        Self {
            id: r.id,
            url: r.url,
            events: r.events,
            description: r.description,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new subscription, with the secret that signs its deliveries: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    /// `whsec_` and 43 random URL-safe characters. Each delivery's `SIMS-Signature` is
    /// the hex HMAC-SHA256 of `"{SIMS-Timestamp}.{body}"` under it.
    pub secret: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://erp.example.com/hooks/sims", "events": ["order.confirmed", "payment.received"], "description": "ERP"}))]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: `http` or `https`, never a loopback, private or
    /// link-local address.
    pub url: String,
    /// Event types, or `["*"]` for every event.
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// A change to a subscription: only the fields sent change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

/// One event for one subscription, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// The receiver's last status code (`null`: no answer, or not tried yet).
    pub last_status_code: Option<i32>,
    pub last_latency_ms: Option<i64>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next try is due (`null` once delivered or dead).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_latency_ms: d.last_latency_ms,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
        }
    }
}

/// Filters of a delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
}

async fn checked_url(ctx: &Ctx, url: &str) -> Result<String, DomainError> {
    crate::webhooks::check_target(url, ctx.settings.webhooks.allow_private_targets)
        .await
        .map(|t| t.url.to_string())
        .map_err(|reason| DomainError::field("url", "invalid_url", reason))
}

fn description(d: Option<&str>) -> Result<Option<String>, DomainError> {
    Ok(optional_text("description", d, DESCRIPTION_MAX)?)
}

/// Subscribes a URL to events (admins). The answer holds the signing secret, shown once.
#[utoipa::path(tag = "webhooks", operation_id = "create_webhook", request_body = CreateWebhook, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "Created: the subscription and its secret", body = WebhookCreated, headers(("Location" = String), ("ETag" = String))),
))]
#[post("/webhooks")]
pub async fn create_webhook(
    ctx: Ctx,
    body: Json<CreateWebhook>,
) -> ApiResult<Created<WebhookCreated>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    check_events(&b.events)?;
    let description = description(b.description.as_deref())?;
    let url = checked_url(&ctx, &b.url).await?;
    let secret = format!("whsec_{}", crate::auth::random_token(32));
    let r = webhooks::create(
        &ctx.db,
        &ctx.actor(),
        NewWebhook {
            url,
            events: b.events,
            description,
            secret: secret.clone(),
        },
    )
    .await?;
    Ok(Created::at(
        format!("/api/v1/webhooks/{}", r.id),
        WebhookCreated {
            id: r.id,
            url: r.url,
            events: r.events,
            description: r.description,
            active: r.active,
            secret,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        },
    ))
}

/// Lists subscriptions (admins), newest first.
#[utoipa::path(tag = "webhooks", operation_id = "list_webhooks", params(PageParams), responses(
    Authenticated,
    WithQuery,
    RoleGated,
    (status = 200, description = "A page of subscriptions", body = PageOf<WebhookView>),
))]
#[get("/webhooks")]
pub async fn list_webhooks(
    ctx: Ctx,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<WebhookView>>> {
    ctx.principal.require_admin()?;
    let req = paging.0.to_request(&["created_at"], NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from_page(
        webhooks::list(ctx.db.conn(), &req).await?,
        WebhookView::from,
    )))
}

/// One subscription (admins).
#[utoipa::path(tag = "webhooks", operation_id = "get_webhook", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    RoleGated,
    (status = 200, description = "The subscription", body = WebhookView, headers(("ETag" = String))),
))]
#[get("/webhooks/{id}")]
pub async fn get_webhook(ctx: Ctx, id: Id) -> ApiResult<Tagged<WebhookView>> {
    ctx.principal.require_admin()?;
    Ok(Tagged(webhooks::get(ctx.db.conn(), id.0).await?.into()))
}

/// Changes a subscription (admins); `active: false` pauses its deliveries.
#[utoipa::path(tag = "webhooks", operation_id = "update_webhook", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")), request_body = UpdateWebhook, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    RoleGated,
    (status = 200, description = "The subscription", body = WebhookView, headers(("ETag" = String))),
))]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateWebhook>,
) -> ApiResult<Tagged<WebhookView>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    if let Some(e) = &b.events {
        check_events(e)?;
    }
    let description = match b.description {
        Some(d) => Some(description(d.as_deref())?),
        None => None,
    };
    let url = match b.url {
        Some(u) => Some(checked_url(&ctx, &u).await?),
        None => None,
    };
    let patch = WebhookPatch {
        url,
        events: b.events,
        description,
        active: b.active,
    };
    let r = webhooks::update(&ctx.db, &ctx.actor(), id.0, patch, if_match.0).await?;
    Ok(Tagged(r.into()))
}

/// Deletes a subscription and its delivery log (admins).
#[utoipa::path(tag = "webhooks", operation_id = "delete_webhook", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    RoleGated,
    (status = 204, description = "Deleted"),
))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    webhooks::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A subscription's deliveries, newest first (admins): status, attempts, the last
/// answer's code and latency.
#[utoipa::path(tag = "webhooks", operation_id = "list_webhook_deliveries", params(("id" = Uuid, Path), DeliveryQuery, PageParams), responses(
    Authenticated,
    WithId,
    RoleGated,
    (status = 200, description = "A page of deliveries", body = PageOf<DeliveryView>),
))]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    ctx: Ctx,
    id: Id,
    query: Query<DeliveryQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<DeliveryView>>> {
    ctx.principal.require_admin()?;
    let req = paging.0.to_request(&["created_at"], NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from_page(
        webhooks::deliveries(ctx.db.conn(), id.0, query.0.status, &req).await?,
        DeliveryView::from,
    )))
}

/// Sends a delivery again from its first try (admins): a dead one too.
#[utoipa::path(tag = "webhooks", operation_id = "replay_webhook_delivery", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    RoleGated,
    (status = 200, description = "The delivery, pending again", body = DeliveryView),
    (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
))]
#[post("/webhooks/deliveries/{id}/replay")]
pub async fn replay_webhook_delivery(ctx: Ctx, id: Id) -> ApiResult<web::Json<DeliveryView>> {
    ctx.principal.require_admin()?;
    Ok(web::Json(
        webhooks::replay(&ctx.db, &ctx.actor(), id.0).await?.into(),
    ))
}

/// Registers the webhook routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(replay_webhook_delivery)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(list_webhook_deliveries);
}
