//! API keys (admins): issue one for an integration's user, list them, revoke one.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::api_key::{ApiKeyDraft, ApiKeyRecord, SECRET_PREFIX, prefix_of};
use sims_persistence::api_keys::{self, NewApiKey};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{random_token, token_hash};
use crate::caller::Ctx;
use crate::error::ApiResult;
use crate::extract::{Id, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::responses::{Authenticated, RoleGated, WithBody, WithId, WithQuery};
use crate::routes::Routes;

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ERP nightly sync", "user_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "expires_at": null}))]
pub struct CreateApiKey {
    /// What the key is for.
    pub name: String,
    /// The user the key acts as, with that user's role and scope (default: you). Give an
    /// integration a user of its own with the role it needs.
    pub user_id: Option<Uuid>,
    /// When the key stops working (`null`: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just issued: the only time its `secret` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyRecord,
    /// `sims_` and 40 random URL-safe characters. Send it as `Authorization: Bearer
    /// <secret>`, or exchange it at `POST /auth/token`. It cannot be shown again.
    pub secret: String,
}

/// Issues an API key (admins). The key acts as `user_id` (default: you) at once.
#[utoipa::path(tag = "api_keys", operation_id = "create_api_key", request_body = CreateApiKey, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "Created: the key, with its secret (shown this once)", body = IssuedApiKey, headers(("Location" = String))),
))]
#[post("/api-keys")]
pub async fn create_api_key(ctx: Ctx, body: Json<CreateApiKey>) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let draft = ApiKeyDraft::parse(&b.name, b.expires_at, sims_persistence::now())?;
    let secret = format!("{SECRET_PREFIX}{}", random_token(30));
    let key = api_keys::create(
        &ctx.db,
        &ctx.actor(),
        NewApiKey {
            draft,
            user_id: b.user_id.unwrap_or(ctx.principal.user_id),
            secret_hash: token_hash(&secret),
            prefix: prefix_of(&secret),
        },
    )
    .await?;
    tracing::info!(key_id = %key.id, user_id = %key.user_id, "issued an API key");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/api-keys/{}", key.id)))
        .json(IssuedApiKey { key, secret }))
}

/// The keys that are not revoked, without their secrets (admins).
#[utoipa::path(tag = "api_keys", operation_id = "list_api_keys", params(PageParams), responses(
    Authenticated,
    WithQuery,
    RoleGated,
    (status = 200, description = "A page of API keys", body = PageOf<ApiKeyRecord>),
))]
#[get("/api-keys")]
pub async fn list_api_keys(
    ctx: Ctx,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<ApiKeyRecord>>> {
    ctx.principal.require_admin()?;
    let req = paging.0.to_request(api_keys::SORT_FIELDS, NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from(
        api_keys::list(ctx.db.conn(), &req).await?,
    )))
}

/// Revokes a key (admins): it, and any access token exchanged for it, answers `401`
/// from the next request on.
#[utoipa::path(tag = "api_keys", operation_id = "revoke_api_key", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    RoleGated,
    (status = 204, description = "Revoked"),
))]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(ctx: Ctx, id: Id) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    api_keys::revoke(&ctx.db, &ctx.actor(), id.0).await?;
    tracing::info!(key_id = %id.0, "revoked an API key");
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the API key routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}
