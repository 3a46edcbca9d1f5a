//! The customer pool (公海): claim, release, transfer, the return job and its warnings,
//! and the pool rules.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::pool::{PoolRules, RETURNING_WITHIN_MAX};
use sims_persistence::{now, pool};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::reply::Tagged;
use crate::reply::etag;
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;
use sims_domain::customer::CustomerRecord;

/// Who gets the customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"owner_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e"}))]
pub struct TransferCustomer {
    pub owner_id: Uuid,
}

/// Claims a pool customer for the caller. Two reps claiming at once: exactly one wins,
/// the other gets `409 not_in_pool`. A claim by the current owner answers `200`.
#[utoipa::path(tag = "pool", operation_id = "claim_customer", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 409, description = "`not_in_pool`, `claim_cooldown` or `owned_limit_reached`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/claim")]
pub async fn claim_customer(ctx: Ctx, id: Id) -> ApiResult<Tagged<CustomerRecord>> {
    let m = pool::claim(
        &ctx.db,
        &ctx.actor(),
        ctx.settings.pool.rules(),
        id.0,
        now(),
    )
    .await?;
    Ok(Tagged(m))
}

/// Returns an owned customer to the pool. The previous owner may not claim it back for
/// `reclaim_cooldown_days`.
#[utoipa::path(tag = "pool", operation_id = "release_customer", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep releasing a pool customer", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`not_owned`: already in the pool", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/release")]
pub async fn release_customer(ctx: Ctx, id: Id) -> ApiResult<Tagged<CustomerRecord>> {
    let m = pool::release(
        &ctx.db,
        &ctx.actor(),
        ctx.settings.pool.rules(),
        id.0,
        now(),
    )
    .await?;
    Ok(Tagged(m))
}

/// Gives a customer to another user (managers within their teams, admins anyone).
#[utoipa::path(tag = "pool", operation_id = "transfer_customer", params(("id" = Uuid, Path)), request_body = TransferCustomer, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 403, description = "Not a manager or admin", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown, inactive or out-of-scope user", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/transfer")]
pub async fn transfer_customer(
    ctx: Ctx,
    id: Id,
    body: Json<TransferCustomer>,
) -> ApiResult<Tagged<CustomerRecord>> {
    ctx.principal.require_manager()?;
    let m = pool::transfer(&ctx.db, &ctx.actor(), id.0, body.0.owner_id, now()).await?;
    Ok(Tagged(m))
}

/// How far ahead to look.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturningQuery {
    /// Days ahead, 0 to 365 (default 3).
    pub within_days: Option<u32>,
}

/// An owned customer the return job will take back soon.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturningCustomer {
    #[serde(flatten)]
    pub customer: CustomerRecord,
    /// When the job returns it to the pool unless someone follows up first.
    pub returns_at: DateTime<Utc>,
}

/// Owned customers in the caller's scope that the pool-return job will take back within
/// `within_days` days, so that reps are warned before they lose them.
#[utoipa::path(tag = "pool", operation_id = "list_returning_customers", params(ReturningQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of customers about to return to the pool", body = PageOf<ReturningCustomer>),
))]
#[get("/customers/pool/returning")]
pub async fn list_returning_customers(
    ctx: Ctx,
    query: Query<ReturningQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<ReturningCustomer>>> {
    let within = query.0.within_days.unwrap_or(3);
    if within > RETURNING_WITHIN_MAX {
        return Err(ApiError::fields(
            ErrorCode::InvalidParameter,
            vec![sims_domain::FieldViolation::new(
                "within_days",
                "out_of_range",
                format!("within_days must be between 0 and {RETURNING_WITHIN_MAX}"),
            )],
        ));
    }
    let req = paging.0.to_request(&["created_at"], NEWEST_FIRST)?;
    let page = pool::returning(
        ctx.db.conn(),
        &ctx.scope(),
        ctx.settings.pool.rules(),
        within,
        now(),
        &req,
    )
    .await?;
    Ok(web::Json(PageOf::from_page(page, |(m, returns_at)| {
        ReturningCustomer {
            customer: (m),
            returns_at,
        }
    })))
}

/// The pool rules in force.
#[utoipa::path(tag = "pool", operation_id = "get_pool_settings", responses(
    Authenticated,
    (status = 200, description = "The pool rules in force, with their version as ETag", body = PoolRules, headers(("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
))]
#[get("/settings/pool")]
pub async fn get_pool_settings(ctx: Ctx) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    let (rules, version) = pool::rules(ctx.db.conn(), ctx.settings.pool.rules()).await?;
    Ok(HttpResponse::Ok().insert_header(etag(version)).json(rules))
}

/// A change to the pool rules; only the fields sent change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"return_after_days": 45, "reclaim_cooldown_days": 7}))]
pub struct UpdatePoolRules {
    pub max_owned_per_rep: Option<u32>,
    pub return_after_days: Option<u32>,
    pub reclaim_cooldown_days: Option<u32>,
}

/// Changes the pool rules (admins only).
#[utoipa::path(tag = "pool", operation_id = "update_pool_settings", params(("If-Match" = Option<String>, Header)), request_body = UpdatePoolRules, responses(
    Authenticated,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The pool rules in force, with their version as ETag", body = PoolRules, headers(("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Out-of-range value", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/settings/pool")]
pub async fn update_pool_settings(
    ctx: Ctx,
    if_match: IfMatch,
    body: Json<UpdatePoolRules>,
) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    let defaults = ctx.settings.pool.rules();
    let (current, _) = pool::rules(ctx.db.conn(), defaults).await?;
    let b = body.0;
    let new = PoolRules {
        max_owned_per_rep: b.max_owned_per_rep.unwrap_or(current.max_owned_per_rep),
        return_after_days: b.return_after_days.unwrap_or(current.return_after_days),
        reclaim_cooldown_days: b
            .reclaim_cooldown_days
            .unwrap_or(current.reclaim_cooldown_days),
    };
    let (rules, version) =
        pool::set_rules(&ctx.db, &ctx.actor(), defaults, new, if_match.0).await?;
    Ok(HttpResponse::Ok().insert_header(etag(version)).json(rules))
}

/// What a job run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolReturnRun {
    /// Customers returned to the pool.
    pub returned: u64,
}

/// Runs the pool-return job now (admins only): every customer with no follow-up for
/// `return_after_days` goes back to the pool.
#[utoipa::path(tag = "pool", operation_id = "run_pool_return", responses(
    Authenticated,
    (status = 200, description = "How many customers went back to the pool", body = PoolReturnRun),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/jobs/pool-return")]
pub async fn run_pool_return(ctx: Ctx) -> ApiResult<web::Json<PoolReturnRun>> {
    ctx.principal.require_admin()?;
    let returned = pool::return_due(&ctx.db, ctx.settings.pool.rules(), now()).await?;
    Ok(web::Json(PoolReturnRun { returned }))
}

/// Registers the pool routes (before `/customers/{id}`).
pub fn configure(cfg: &mut Routes) {
    cfg.service(list_returning_customers)
        .service(claim_customer)
        .service(release_customer)
        .service(transfer_customer)
        .service(get_pool_settings)
        .service(update_pool_settings)
        .service(run_pool_return);
}
