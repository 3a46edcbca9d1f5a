//! Sales orders (订单): drafts priced by the server, confirmation, shipments, cancellation
//! and completion. Payments are in [`crate::routes::payments`].

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sims_domain::money::amount_minor;
use sims_domain::order::OrderRecord;
use sims_domain::order::{LineFields, OrderStatus, order_draft, order_lines, shipment_lines};
use sims_persistence::idempotency::Answer;
use sims_persistence::orders::{self, NewOrder, OrderFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Id, IfMatch, Json, KeyedJson, Query};
use crate::idempotency::{answer, created, respond as respond_answered};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::reply::Tagged;
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// The answer of a write that leaves the order as `o`.
fn order_answer(o: &OrderRecord) -> sims_persistence::Result<Answer> {
    let mut a = answer(actix_web::http::StatusCode::OK, o)?;
    a.etag = Some(format!("\"{}\"", o.version));
    Ok(a)
}

/// One line as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    pub product_id: Uuid,
    /// Positive, up to 3 decimals.
    #[schema(value_type = String, example = "2.5")]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub quantity: Decimal,
    /// Default: the product's list price. Up to 4 decimals.
    #[schema(value_type = Option<String>, example = "12.50")]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub unit_price: Option<Decimal>,
    /// Percent, default 0.
    #[schema(value_type = Option<String>, example = "5")]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub discount_percent: Option<Decimal>,
    /// Percent, default: the product's.
    #[schema(value_type = Option<String>, example = "13")]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub tax_rate: Option<Decimal>,
}

fn line_fields(lines: &[OrderLineInput]) -> Vec<LineFields> {
    lines
        .iter()
        .map(|l| LineFields {
            product_id: l.product_id,
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount_percent: l.discount_percent,
            tax_rate: l.tax_rate,
        })
        .collect()
}

/// A new draft order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"customer_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "warehouse_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8f", "order_date": "2026-11-28", "lines": [{"product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d90", "quantity": "2.5", "discount_percent": "5"}]}))]
pub struct CreateOrder {
    pub customer_id: Uuid,
    pub warehouse_id: Uuid,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
    pub opportunity_id: Option<Uuid>,
    /// The day the order was taken (`YYYY-MM-DD`, default today, UTC): an order entered
    /// late carries its real date, and reports date it by this. Not after today.
    pub order_date: Option<NaiveDate>,
    pub lines: Vec<OrderLineInput>,
}

/// New lines for a draft order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lines": [{"product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d90", "quantity": "3", "unit_price": "11.80"}]}))]
pub struct UpdateOrder {
    pub lines: Vec<OrderLineInput>,
}

/// Creates a draft order; line amounts and totals are computed by the server.
#[utoipa::path(tag = "orders", operation_id = "create_order", params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateOrder, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new order", body = OrderRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 409, description = "The first request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A pool customer", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid line; no such customer in your scope; unknown product or warehouse; an opportunity not of this customer", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders")]
pub async fn create_order(ctx: Ctx, body: KeyedJson<CreateOrder>) -> ApiResult<HttpResponse> {
    let b = &body.value;
    let (order_date, currency, lines) = order_draft(
        b.order_date,
        Utc::now().date_naive(),
        b.currency.as_deref(),
        &line_fields(&b.lines),
    )?;
    let new = NewOrder {
        order_date,
        customer_id: b.customer_id,
        warehouse_id: b.warehouse_id,
        currency,
        opportunity_id: b.opportunity_id,
        lines,
    };
    let answered = orders::create(
        &ctx.db,
        &ctx.actor(),
        new,
        body.key_of(ctx.principal.user_id).as_ref(),
        |o| created(o, format!("/api/v1/orders/{}", o.id), o.version),
    )
    .await?;
    Ok(respond_answered(answered))
}

/// Filters of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    /// Order date from (YYYY-MM-DD).
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub total_min: Option<Decimal>,
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub total_max: Option<Decimal>,
    pub updated_after: Option<DateTime<Utc>>,
}

/// Lists the caller's orders (sort: `created_at`, `total`).
#[utoipa::path(tag = "orders", operation_id = "list_orders", params(OrderQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of orders", body = PageOf<OrderRecord>),
))]
#[get("/orders")]
pub async fn list_orders(
    ctx: Ctx,
    query: Query<OrderQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<OrderRecord>>> {
    let req = paging.0.to_request(orders::SORT_FIELDS, NEWEST_FIRST)?;
    let q = query.0;
    let bound = |field: &str, d: Option<Decimal>| -> ApiResult<Option<i64>> {
        d.map(|d| amount_minor(field, d))
            .transpose()
            .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))
    };
    let filter = OrderFilter {
        status: q.status,
        customer_id: q.customer_id,
        owner_id: q.owner_id,
        date_from: q.date_from,
        date_to: q.date_to,
        total_min: bound("total_min", q.total_min)?,
        total_max: bound("total_max", q.total_max)?,
        updated_after: q.updated_after,
    };
    let page = orders::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// One order with its lines.
#[utoipa::path(tag = "orders", operation_id = "get_order", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The order", body = OrderRecord, headers(("ETag" = String))),
))]
#[get("/orders/{id}")]
pub async fn get_order(ctx: Ctx, id: Id) -> ApiResult<Tagged<OrderRecord>> {
    Ok(Tagged(
        orders::get(ctx.db.conn(), &ctx.scope(), id.0).await?,
    ))
}

/// Replaces a draft order's lines; any other status is `409 invalid_transition`.
#[utoipa::path(tag = "orders", operation_id = "update_order", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateOrder, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The order", body = OrderRecord, headers(("ETag" = String))),
    (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/orders/{id}")]
pub async fn update_order(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateOrder>,
) -> ApiResult<Tagged<OrderRecord>> {
    let lines = order_lines(&line_fields(&body.0.lines))?;
    Ok(Tagged(
        orders::replace_lines(&ctx.db, &ctx.actor(), id.0, lines, if_match.0).await?,
    ))
}

/// Confirms a draft, reserving every line's stock all or nothing; short stock is
/// `409 insufficient_stock` naming the short lines.
#[utoipa::path(tag = "orders", operation_id = "confirm_order", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 200, description = "The order", body = OrderRecord, headers(("ETag" = String))),
    (status = 409, description = "insufficient_stock or invalid_transition", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/confirm")]
pub async fn confirm_order(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<Tagged<OrderRecord>> {
    Ok(Tagged(
        orders::confirm(&ctx.db, &ctx.actor(), id.0, if_match.0).await?,
    ))
}

/// Cancels a draft or confirmed order, releasing what is reserved.
#[utoipa::path(tag = "orders", operation_id = "cancel_order", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 200, description = "The order", body = OrderRecord, headers(("ETag" = String))),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<Tagged<OrderRecord>> {
    Ok(Tagged(
        orders::cancel(&ctx.db, &ctx.actor(), id.0, if_match.0).await?,
    ))
}

/// Completes a shipped order.
#[utoipa::path(tag = "orders", operation_id = "complete_order", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 200, description = "The order", body = OrderRecord, headers(("ETag" = String))),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/complete")]
pub async fn complete_order(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<Tagged<OrderRecord>> {
    Ok(Tagged(
        orders::complete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?,
    ))
}

/// One shipped line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLine {
    pub line_id: Uuid,
    #[schema(value_type = String, example = "1")]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub quantity: Decimal,
}

/// What ships now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lines": [{"line_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "quantity": "2.5"}]}))]
pub struct CreateShipment {
    pub lines: Vec<ShipmentLine>,
}

/// Ships part or all of a confirmed order, moving reserved stock out; more than is left
/// on a line is refused.
#[utoipa::path(tag = "orders", operation_id = "create_shipment", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateShipment, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The order", body = OrderRecord, headers(("ETag" = String))),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown line or more than is left", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/shipments")]
pub async fn create_shipment(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: KeyedJson<CreateShipment>,
) -> ApiResult<HttpResponse> {
    let sent: Vec<(Uuid, Decimal)> = body
        .value
        .lines
        .iter()
        .map(|l| (l.line_id, l.quantity))
        .collect();
    let lines = shipment_lines(&sent)?;
    let answered = orders::ship(
        &ctx.db,
        &ctx.actor(),
        (id.0, if_match.0),
        lines,
        body.key_of(ctx.principal.user_id).as_ref(),
        order_answer,
    )
    .await?;
    Ok(respond_answered(answered))
}

/// Registers the order routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_order)
        .service(list_orders)
        .service(get_order)
        .service(update_order)
        .service(confirm_order)
        .service(cancel_order)
        .service(complete_order)
        .service(create_shipment);
}
