//! Follow-ups (跟进记录) and the customer timeline.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::follow_up::FollowUpRecord;
use sims_domain::follow_up::{FollowUp, FollowUpKind};
use sims_domain::listing::SortKey;
use sims_domain::pool::OwnershipChange;
use sims_persistence::follow_ups::{self, FollowUpFilter, FollowUpPatch};
use sims_persistence::pool::OwnershipEvent;
use sims_persistence::timeline::{self, TimelineItem};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new follow-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "call", "content": "确认了报价，下周拜访", "next_follow_up_at": "2026-12-01T02:00:00Z"}))]
pub struct CreateFollowUp {
    pub kind: FollowUpKind,
    /// 1–10,000 characters.
    pub content: String,
    /// When it happened (default: now).
    pub occurred_at: Option<DateTime<Utc>>,
    /// When to follow up next; becomes the customer's `next_follow_up_at`.
    pub next_follow_up_at: Option<DateTime<Utc>>,
    /// An opportunity of this customer the follow-up is about.
    pub opportunity_id: Option<Uuid>,
}

/// A change to a follow-up by its author.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content": "已确认报价", "next_follow_up_at": "2026-12-08T02:00:00Z"}))]
pub struct UpdateFollowUp {
    pub kind: Option<FollowUpKind>,
    pub content: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub next_follow_up_at: Option<Option<DateTime<Utc>>>,
}

/// Filters of the follow-up lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    pub customer_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub kind: Option<FollowUpKind>,
    /// Happened at or after (RFC 3339).
    pub occurred_after: Option<DateTime<Utc>>,
    /// Happened before (RFC 3339).
    pub occurred_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
}

const NEWEST: &[SortKey] = &[SortKey {
    field: "occurred_at",
    descending: true,
}];

/// Records a follow-up on a customer the caller may change; the customer's
/// `last_follow_up_at` and `next_follow_up_at` follow.
#[utoipa::path(tag = "follow_ups", operation_id = "create_follow_up", params(("id" = Uuid, Path, description = "The customer")), request_body = CreateFollowUp, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 201, description = "Created: the new follow-up", body = FollowUpRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "A rep following up a pool customer (claim it first)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/follow-ups")]
pub async fn create_follow_up(
    ctx: Ctx,
    id: Id,
    body: Json<CreateFollowUp>,
) -> ApiResult<Created<FollowUpRecord>> {
    let b = body.0;
    let now = sims_persistence::now();
    let f = FollowUp::create(
        b.kind,
        &b.content,
        b.occurred_at.unwrap_or(now),
        b.next_follow_up_at,
        now,
    )?;
    let m = follow_ups::create(&ctx.db, &ctx.actor(), id.0, b.opportunity_id, f).await?;
    Ok(Created::at(format!("/api/v1/follow-ups/{}", m.id), m))
}

/// A customer's follow-ups, newest first.
#[utoipa::path(tag = "follow_ups", operation_id = "list_customer_follow_ups", params(("id" = Uuid, Path, description = "The customer"), PageParams), responses(
    Authenticated,
    WithId,
    (status = 200, description = "A page of follow-ups", body = PageOf<FollowUpRecord>),
))]
#[get("/customers/{id}/follow-ups")]
pub async fn list_customer_follow_ups(
    ctx: Ctx,
    id: Id,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<FollowUpRecord>>> {
    let req = paging.0.to_request(follow_ups::SORT_FIELDS, NEWEST)?;
    let filter = FollowUpFilter {
        customer_id: Some(id.0),
        ..Default::default()
    };
    let page = follow_ups::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// Every follow-up the caller may see (on customers in their scope and the pool).
#[utoipa::path(tag = "follow_ups", operation_id = "list_follow_ups", params(FollowUpQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of follow-ups", body = PageOf<FollowUpRecord>),
    (status = 404, description = "The filtered customer is not in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/follow-ups")]
pub async fn list_follow_ups(
    ctx: Ctx,
    query: Query<FollowUpQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<FollowUpRecord>>> {
    let req = paging.0.to_request(follow_ups::SORT_FIELDS, NEWEST)?;
    let q = query.0;
    let filter = FollowUpFilter {
        customer_id: q.customer_id,
        opportunity_id: q.opportunity_id,
        author_id: q.author_id,
        kind: q.kind,
        occurred_after: q.occurred_after,
        occurred_before: q.occurred_before,
        updated_after: q.updated_after,
    };
    let page = follow_ups::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// One follow-up.
#[utoipa::path(tag = "follow_ups", operation_id = "get_follow_up", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The follow-up", body = FollowUpRecord, headers(("ETag" = String))),
))]
#[get("/follow-ups/{id}")]
pub async fn get_follow_up(ctx: Ctx, id: Id) -> ApiResult<Tagged<FollowUpRecord>> {
    Ok(Tagged(
        follow_ups::get(ctx.db.conn(), &ctx.scope(), id.0).await?,
    ))
}

/// Changes a follow-up (its author only).
#[utoipa::path(tag = "follow_ups", operation_id = "update_follow_up", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateFollowUp, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The follow-up", body = FollowUpRecord, headers(("ETag" = String))),
    (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/follow-ups/{id}")]
pub async fn update_follow_up(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateFollowUp>,
) -> ApiResult<Tagged<FollowUpRecord>> {
    let b = body.0;
    let patch = FollowUpPatch {
        kind: b.kind,
        content: b.content,
        occurred_at: b.occurred_at,
        next_follow_up_at: b.next_follow_up_at,
    };
    Ok(Tagged(
        follow_ups::update(&ctx.db, &ctx.actor(), id.0, patch, if_match.0).await?,
    ))
}

/// Deletes a follow-up (its author, or an admin).
#[utoipa::path(tag = "follow_ups", operation_id = "delete_follow_up", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
    (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/follow-ups/{id}")]
pub async fn delete_follow_up(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    follow_ups::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An ownership change on a timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerChange {
    pub change: OwnershipChange,
    pub from_owner_id: Option<Uuid>,
    pub to_owner_id: Option<Uuid>,
    /// Who did it; `null` for the pool-return job.
    pub actor_id: Option<Uuid>,
}

impl From<OwnershipEvent> for OwnerChange {
    fn from(e: OwnershipEvent) -> Self {
        Self {
            change: e.change,
            from_owner_id: e.from_owner_id,
            to_owner_id: e.to_owner_id,
            actor_id: e.actor_id,
        }
    }
}

/// One entry of a customer's timeline; exactly one of the detail fields is set, named
/// by `kind`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub kind: TimelineKind,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUpRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_change: Option<OwnerChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_change: Option<TimelineStageChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<TimelineOrder>,
}

/// What a timeline entry is; the field of the same name holds it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    FollowUp,
    OwnerChanged,
    StageChanged,
    Order,
}

/// An order on a timeline (its current state).
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOrder {
    pub order_id: Uuid,
    pub number: String,
    pub status: sims_domain::order::OrderStatus,
    #[schema(value_type = String, example = "35.31")]
    pub total: rust_decimal::Decimal,
    pub currency: String,
}

/// An opportunity's stage move on a timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineStageChange {
    pub opportunity_id: Uuid,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub by: Uuid,
}

/// A page of a timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub per_page: u32,
    pub has_more: bool,
    /// Pass as `after` for the next (older) page.
    pub next_cursor: Option<String>,
}

/// Paging of a timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// 1 to 200 (default 50).
    pub per_page: Option<u32>,
    pub after: Option<String>,
}

/// A customer's history, newest first: follow-ups and ownership changes merged.
#[utoipa::path(tag = "follow_ups", operation_id = "get_customer_timeline", params(("id" = Uuid, Path), TimelineQuery), responses(
    Authenticated,
    WithId,
    (status = 200, description = "A page of the timeline, newest first", body = TimelinePage),
))]
#[get("/customers/{id}/timeline")]
pub async fn get_customer_timeline(
    ctx: Ctx,
    id: Id,
    query: Query<TimelineQuery>,
) -> ApiResult<web::Json<TimelinePage>> {
    let q = query.0;
    let (_, per_page) = sims_domain::listing::check_page(None, q.per_page).map_err(|v| {
        crate::error::ApiError::fields(crate::error::ErrorCode::InvalidParameter, vec![v])
    })?;
    let page = timeline::customer_timeline(
        ctx.db.conn(),
        &ctx.scope(),
        id.0,
        per_page,
        q.after.as_deref(),
    )
    .await?;
    let items = page
        .items
        .into_iter()
        .map(|item| match item {
            TimelineItem::FollowUp(f) => TimelineEntry {
                id: f.id,
                kind: TimelineKind::FollowUp,
                at: f.occurred_at,
                follow_up: Some(f),
                owner_change: None,
                stage_change: None,
                order: None,
            },
            TimelineItem::OwnerChanged(e) => TimelineEntry {
                id: e.id,
                kind: TimelineKind::OwnerChanged,
                at: e.at,
                follow_up: None,
                owner_change: Some(e.into()),
                stage_change: None,
                order: None,
            },
            TimelineItem::StageChanged(c) => TimelineEntry {
                id: c.id,
                kind: TimelineKind::StageChanged,
                at: c.at,
                follow_up: None,
                owner_change: None,
                stage_change: Some(TimelineStageChange {
                    opportunity_id: c.opportunity_id,
                    from_stage_id: c.from_stage_id,
                    to_stage_id: c.to_stage_id,
                    by: c.by,
                }),
                order: None,
            },
            TimelineItem::Order(o) => TimelineEntry {
                id: o.id,
                kind: TimelineKind::Order,
                at: o.created_at,
                follow_up: None,
                owner_change: None,
                stage_change: None,
                order: Some(TimelineOrder {
                    order_id: o.id,
                    status: o.status,
                    total: o.total.to_decimal(),
                    number: o.number,
                    currency: o.currency,
                }),
            },
        })
        .collect();
    Ok(web::Json(TimelinePage {
        items,
        per_page,
        has_more: page.has_more,
        next_cursor: page.next_cursor,
    }))
}

/// The follow-ups about one opportunity, newest first.
#[utoipa::path(tag = "follow_ups", operation_id = "list_opportunity_follow_ups", params(("id" = Uuid, Path, description = "The opportunity"), PageParams), responses(
    Authenticated,
    WithId,
    (status = 200, description = "A page of follow-ups", body = PageOf<FollowUpRecord>),
))]
#[get("/opportunities/{id}/follow-ups")]
pub async fn list_opportunity_follow_ups(
    ctx: Ctx,
    id: Id,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<FollowUpRecord>>> {
    let req = paging.0.to_request(follow_ups::SORT_FIELDS, NEWEST)?;
    let filter = FollowUpFilter {
        opportunity_id: Some(id.0),
        ..Default::default()
    };
    let page = follow_ups::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// Registers the follow-up and timeline routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_follow_up)
        .service(list_customer_follow_ups)
        .service(list_follow_ups)
        .service(get_follow_up)
        .service(update_follow_up)
        .service(delete_follow_up)
        .service(get_customer_timeline)
        .service(list_opportunity_follow_ups);
}
