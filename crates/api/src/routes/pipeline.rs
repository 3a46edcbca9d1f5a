//! The sales pipeline (商机): stages, opportunities, stage moves and their history.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sims_domain::pipeline::{LOST_REASON_MAX, OpportunityDraft, Stage, StageKind, parse_currency};
use sims_domain::pipeline::{OpportunityRecord, StageMove, StageRecord};
use sims_domain::values::{NAME_MAX, bounded_text, optional_text};
use sims_domain::{DomainError, Violations};
use sims_persistence::opportunities::{self, NewOpportunity, OpportunityFilter, OpportunityPatch};
use sims_persistence::stages::{self, StagePatch};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// Every stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageList {
    pub items: Vec<StageRecord>,
}

/// A new (open) stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "样品测试 Trial", "position": 35, "probability": 40}))]
pub struct CreateStage {
    pub name: String,
    pub position: i32,
    /// 0 to 100.
    pub probability: i32,
    /// Only `open`: the pipeline has exactly one won and one lost stage.
    pub kind: Option<StageKind>,
}

/// A change to a stage: rename, reorder, re-weight.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "方案报价 Proposal", "probability": 60}))]
pub struct UpdateStage {
    pub name: Option<String>,
    pub position: Option<i32>,
    pub probability: Option<i32>,
}

/// The pipeline's stages by position (every role).
#[utoipa::path(tag = "pipeline", operation_id = "list_stages", responses(
    Authenticated,
    (status = 200, description = "Every stage, by position", body = StageList),
))]
#[get("/pipeline/stages")]
pub async fn list_stages(ctx: Ctx) -> ApiResult<web::Json<StageList>> {
    let items = stages::list(ctx.db.conn()).await?.into_iter().collect();
    Ok(web::Json(StageList { items }))
}

/// Adds an open stage (admins).
#[utoipa::path(tag = "pipeline", operation_id = "create_stage", request_body = CreateStage, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new stage", body = StageRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "A second won or lost stage", body = Problem, content_type = "application/problem+json"),
))]
#[post("/pipeline/stages")]
pub async fn create_stage(ctx: Ctx, body: Json<CreateStage>) -> ApiResult<Created<StageRecord>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let stage = Stage::new(
        &b.name,
        b.position,
        b.probability,
        b.kind.unwrap_or(StageKind::Open),
    )?;
    let m = stages::create(&ctx.db, &ctx.actor(), stage).await?;
    Ok(Created::at(format!("/api/v1/pipeline/stages/{}", m.id), m))
}

/// Renames, reorders or re-weights a stage (admins).
#[utoipa::path(tag = "pipeline", operation_id = "update_stage", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateStage, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The stage", body = StageRecord, headers(("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/pipeline/stages/{id}")]
pub async fn update_stage(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateStage>,
) -> ApiResult<Tagged<StageRecord>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let m = stages::update(
        &ctx.db,
        &ctx.actor(),
        id.0,
        StagePatch {
            name: b.name,
            position: b.position,
            probability: b.probability,
        },
        if_match.0,
    )
    .await?;
    Ok(Tagged(m))
}

/// Deletes an open stage no opportunity uses (admins); otherwise `409`.
#[utoipa::path(tag = "pipeline", operation_id = "delete_stage", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`stage_in_use`, or the won/lost/last open stage", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/pipeline/stages/{id}")]
pub async fn delete_stage(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    stages::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

use sims_domain::money::amount_minor;

/// A new opportunity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"customer_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "name": "2027 年度框架采购", "amount": "128000.00", "currency": "CNY", "expected_close_date": "2027-03-31"}))]
pub struct CreateOpportunity {
    pub customer_id: Uuid,
    pub name: String,
    /// Decimal string, up to two decimals.
    #[schema(value_type = String, example = "128000.00")]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub amount: Decimal,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
    /// An open stage (default: the first).
    pub stage_id: Option<Uuid>,
    pub expected_close_date: Option<NaiveDate>,
    /// Owner other than the caller (managers and admins).
    pub owner_id: Option<Uuid>,
}

/// A change to an opportunity (stage moves go through `POST /opportunities/{id}/stage`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "99000.50", "expected_close_date": "2027-04-30"}))]
pub struct UpdateOpportunity {
    pub name: Option<String>,
    #[schema(value_type = Option<String>, example = "99000.50")]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_close_date: Option<Option<NaiveDate>>,
    pub owner_id: Option<Uuid>,
}

/// A stage move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stage_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "lost_reason": null}))]
pub struct MoveStage {
    pub stage_id: Uuid,
    /// Required when moving to the lost stage.
    pub lost_reason: Option<String>,
}

/// Filters of the opportunity list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpportunityQuery {
    pub stage_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// `open`, `won` or `lost`.
    pub status: Option<StageKind>,
    /// Expected to close on or after (YYYY-MM-DD).
    pub expected_close_from: Option<NaiveDate>,
    /// Expected to close on or before (YYYY-MM-DD).
    pub expected_close_to: Option<NaiveDate>,
    /// Smallest amount (decimal string).
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub amount_min: Option<Decimal>,
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub amount_max: Option<Decimal>,
    pub updated_after: Option<DateTime<Utc>>,
    /// Search in the name.
    pub q: Option<String>,
}

/// An opportunity's stage moves, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageHistory {
    pub items: Vec<StageMove>,
}

/// Creates an opportunity on a customer the caller may change.
#[utoipa::path(tag = "opportunities", operation_id = "create_opportunity", request_body = CreateOpportunity, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new opportunity", body = OpportunityRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "A rep naming another owner, or a pool customer", body = Problem, content_type = "application/problem+json"),
))]
#[post("/opportunities")]
pub async fn create_opportunity(
    ctx: Ctx,
    body: Json<CreateOpportunity>,
) -> ApiResult<Created<OpportunityRecord>> {
    let b = body.0;
    let owner = b.owner_id.unwrap_or(ctx.principal.user_id);
    if !ctx.principal.may_assign_owner(owner) {
        return Err(DomainError::Forbidden(
            "only managers and admins may create opportunities for someone else".into(),
        )
        .into());
    }
    let draft = OpportunityDraft::parse("", &b.name, b.amount, b.currency.as_deref())?;
    let new = NewOpportunity {
        customer_id: b.customer_id,
        name: draft.name,
        amount_minor: draft.amount_minor,
        currency: draft.currency,
        stage_id: b.stage_id,
        expected_close_date: b.expected_close_date,
        owner_id: owner,
    };
    let m = opportunities::create(&ctx.db, &ctx.actor(), new).await?;
    Ok(Created::at(format!("/api/v1/opportunities/{}", m.id), m))
}

/// Lists the opportunities the caller may see (sort: `created_at`, `updated_at`, `name`,
/// `amount`).
#[utoipa::path(tag = "opportunities", operation_id = "list_opportunities", params(OpportunityQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of opportunities", body = PageOf<OpportunityRecord>),
))]
#[get("/opportunities")]
pub async fn list_opportunities(
    ctx: Ctx,
    query: Query<OpportunityQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<OpportunityRecord>>> {
    let req = paging
        .0
        .to_request(opportunities::SORT_FIELDS, NEWEST_FIRST)?;
    let q = query.0;
    let bound = |field: &str, d: Option<Decimal>| -> ApiResult<Option<i64>> {
        d.map(|d| amount_minor(field, d))
            .transpose()
            .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))
    };
    let filter = OpportunityFilter {
        stage_id: q.stage_id,
        owner_id: q.owner_id,
        customer_id: q.customer_id,
        status: q.status,
        expected_close_from: q.expected_close_from,
        expected_close_to: q.expected_close_to,
        amount_min: bound("amount_min", q.amount_min)?,
        amount_max: bound("amount_max", q.amount_max)?,
        updated_after: q.updated_after,
        q: q.q,
    };
    let page = opportunities::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// One opportunity.
#[utoipa::path(tag = "opportunities", operation_id = "get_opportunity", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The opportunity", body = OpportunityRecord, headers(("ETag" = String))),
))]
#[get("/opportunities/{id}")]
pub async fn get_opportunity(ctx: Ctx, id: Id) -> ApiResult<Tagged<OpportunityRecord>> {
    Ok(Tagged(
        opportunities::get(ctx.db.conn(), &ctx.scope(), id.0).await?,
    ))
}

/// Changes an opportunity's fields.
#[utoipa::path(tag = "opportunities", operation_id = "update_opportunity", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateOpportunity, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The opportunity", body = OpportunityRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep reassigning", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/opportunities/{id}")]
pub async fn update_opportunity(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateOpportunity>,
) -> ApiResult<Tagged<OpportunityRecord>> {
    let b = body.0;
    let mut v = Violations::new();
    let name = b
        .name
        .as_deref()
        .and_then(|n| v.check(bounded_text("name", n, NAME_MAX)));
    let amount = b.amount.and_then(|a| v.check(amount_minor("amount", a)));
    let currency = b
        .currency
        .as_deref()
        .and_then(|c| v.check(parse_currency("currency", c)));
    v.finish()?;
    let patch = OpportunityPatch {
        name,
        amount_minor: amount,
        currency,
        expected_close_date: b.expected_close_date,
        owner_id: b.owner_id,
    };
    Ok(Tagged(
        opportunities::update(&ctx.db, &ctx.actor(), id.0, patch, if_match.0).await?,
    ))
}

/// Deletes an opportunity.
#[utoipa::path(tag = "opportunities", operation_id = "delete_opportunity", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
))]
#[delete("/opportunities/{id}")]
pub async fn delete_opportunity(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    opportunities::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Moves an opportunity to another stage: the won stage needs a positive amount, the
/// lost stage a `lost_reason`, and reopening a won or lost opportunity is for managers
/// and admins. Recorded in its history and its customer's timeline. With `If-Match`, of
/// two concurrent moves one wins and the other gets `412`.
#[utoipa::path(tag = "opportunities", operation_id = "move_opportunity_stage", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = MoveStage, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The opportunity", body = OpportunityRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep reopening a closed opportunity", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Already in that stage (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown stage, no amount for won, no reason for lost", body = Problem, content_type = "application/problem+json"),
))]
#[post("/opportunities/{id}/stage")]
pub async fn move_opportunity_stage(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<MoveStage>,
) -> ApiResult<Tagged<OpportunityRecord>> {
    let b = body.0;
    let reason = optional_text("lost_reason", b.lost_reason.as_deref(), LOST_REASON_MAX)
        .map_err(|v| ApiError::validation(vec![v]))?;
    let m = opportunities::move_stage(&ctx.db, &ctx.actor(), id.0, b.stage_id, reason, if_match.0)
        .await?;
    Ok(Tagged(m))
}

/// An opportunity's stage history `(from, to, at, by)`, oldest first.
#[utoipa::path(tag = "opportunities", operation_id = "get_opportunity_history", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The stage moves, oldest first", body = StageHistory),
))]
#[get("/opportunities/{id}/history")]
pub async fn get_opportunity_history(ctx: Ctx, id: Id) -> ApiResult<web::Json<StageHistory>> {
    let items = opportunities::history(ctx.db.conn(), &ctx.scope(), id.0)
        .await?
        .into_iter()
        .collect();
    Ok(web::Json(StageHistory { items }))
}

/// Registers the pipeline routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(list_stages)
        .service(create_stage)
        .service(update_stage)
        .service(delete_stage)
        .service(create_opportunity)
        .service(list_opportunities)
        .service(get_opportunity)
        .service(update_opportunity)
        .service(delete_opportunity)
        .service(move_opportunity_stage)
        .service(get_opportunity_history);
}
