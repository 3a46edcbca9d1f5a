//! Monthly revenue targets (销售目标) per user and per team.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use sims_domain::target::{Month, NewTarget, TargetRecord, target_amount};
use sims_persistence::targets::{self, TargetFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, RoleGated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new target: for exactly one of `user_id` and `team_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"month": "2026-12", "user_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "amount": "300000.00"}))]
pub struct CreateTarget {
    /// `YYYY-MM`.
    pub month: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// Revenue to reach (subtotal of counted orders), greater than 0.
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub amount: Decimal,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
}

/// A change to a target's amount.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "320000.00"}))]
pub struct UpdateTarget {
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub amount: Decimal,
}

/// Filters of the target list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
}

/// A month sent as a query parameter; a bad one is a `400` naming it.
pub(crate) fn query_month(field: &str, sent: Option<&str>) -> ApiResult<Option<Month>> {
    sent.map(|m| Month::parse(field, m))
        .transpose()
        .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))
}

/// Sets a target (admins: any; managers: users and teams in their subtree).
#[utoipa::path(tag = "targets", operation_id = "create_target", request_body = CreateTarget, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "Created: the new target", body = TargetRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 409, description = "The user or team already has a target for the month", body = Problem, content_type = "application/problem+json"),
))]
#[post("/targets")]
pub async fn create_target(ctx: Ctx, body: Json<CreateTarget>) -> ApiResult<Created<TargetRecord>> {
    let b = body.0;
    let new = NewTarget::parse(
        &b.month,
        b.user_id,
        b.team_id,
        b.amount,
        b.currency.as_deref(),
    )?;
    let t = targets::create(&ctx.db, &ctx.actor(), new).await?;
    Ok(Created::at(format!("/api/v1/targets/{}", t.id), t))
}

/// Lists the targets in the caller's scope (a rep: their own).
#[utoipa::path(tag = "targets", operation_id = "list_targets", params(TargetQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of targets", body = PageOf<TargetRecord>),
))]
#[get("/targets")]
pub async fn list_targets(
    ctx: Ctx,
    query: Query<TargetQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<TargetRecord>>> {
    let q = query.0;
    let filter = TargetFilter {
        month: query_month("month", q.month.as_deref())?.map(|m| m.to_string()),
        user_id: q.user_id,
        team_id: q.team_id,
    };
    let req = paging.0.to_request(targets::SORT_FIELDS, NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from(
        targets::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?,
    )))
}

/// One target.
#[utoipa::path(tag = "targets", operation_id = "get_target", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The target", body = TargetRecord, headers(("ETag" = String))),
))]
#[get("/targets/{id}")]
pub async fn get_target(ctx: Ctx, id: Id) -> ApiResult<Tagged<TargetRecord>> {
    Ok(Tagged(
        targets::get(ctx.db.conn(), &ctx.scope(), id.0).await?,
    ))
}

/// Changes a target's amount (whoever may set it).
#[utoipa::path(tag = "targets", operation_id = "update_target", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateTarget, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    RoleGated,
    (status = 200, description = "The target", body = TargetRecord, headers(("ETag" = String))),
))]
#[patch("/targets/{id}")]
pub async fn update_target(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateTarget>,
) -> ApiResult<Tagged<TargetRecord>> {
    let amount = target_amount(body.0.amount)
        .map_err(|v| ApiError::fields(ErrorCode::ValidationFailed, vec![v]))?;
    Ok(Tagged(
        targets::update(&ctx.db, &ctx.actor(), id.0, amount, if_match.0).await?,
    ))
}

/// Deletes a target (whoever may set it).
#[utoipa::path(tag = "targets", operation_id = "delete_target", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    RoleGated,
    (status = 204, description = "Deleted"),
))]
#[delete("/targets/{id}")]
pub async fn delete_target(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    targets::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the target routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_target)
        .service(list_targets)
        .service(get_target)
        .service(update_target)
        .service(delete_target);
}
