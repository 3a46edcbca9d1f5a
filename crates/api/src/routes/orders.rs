//! Sales orders (订单) and payments (回款).

use actix_web::{HttpResponse, HttpResponseBuilder, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sims_domain::catalog::{self, percent_decimal, price_decimal, quantity_decimal};
use sims_domain::money::Money;
use sims_domain::order::{OrderStatus, PaymentMethod, PaymentStatus, payment_status};
use sims_domain::pipeline::parse_currency;
use sims_domain::values::{SHORT_TEXT_MAX, optional_text};
use sims_domain::{FieldViolation, Violations};
use sims_persistence::entities::{order_lines, orders as order_rows, payments};
use sims_persistence::orders::{
    self, LineRequest, NewOrder, NewPayment, OrderFilter, OrderWithLines,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Id, IfMatch, Json, KeyedJson, Query, etag};
use crate::idempotency::{Prepared, once};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::state::AppState;
use actix_web::http::StatusCode;
use sims_domain::money::amount_minor;

fn money(minor: i64) -> Decimal {
    Money::from_minor(minor).to_decimal()
}

/// An order line with its server-computed amounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineView {
    pub id: Uuid,
    pub product_id: Uuid,
    #[schema(value_type = String, example = "2.5")]
    pub quantity: Decimal,
    #[schema(value_type = String, example = "0")]
    pub shipped_quantity: Decimal,
    #[schema(value_type = String, example = "12.50")]
    pub unit_price: Decimal,
    #[schema(value_type = String, example = "0")]
    pub discount_percent: Decimal,
    #[schema(value_type = String, example = "13")]
    pub tax_rate: Decimal,
    #[schema(value_type = String, example = "31.25")]
    pub gross: Decimal,
    #[schema(value_type = String, example = "0.00")]
    pub discount: Decimal,
    #[schema(value_type = String, example = "31.25")]
    pub net: Decimal,
    #[schema(value_type = String, example = "4.06")]
    pub tax: Decimal,
    #[schema(value_type = String, example = "35.31")]
    pub total: Decimal,
}

impl From<order_lines::Model> for OrderLineView {
    fn from(l: order_lines::Model) -> Self {
        Self {
            id: l.id,
            product_id: l.product_id,
            quantity: quantity_decimal(l.quantity_milli),
            shipped_quantity: quantity_decimal(l.shipped_milli),
            unit_price: price_decimal(l.unit_price_e4),
            discount_percent: percent_decimal(l.discount_bp),
            tax_rate: percent_decimal(l.tax_bp),
            gross: money(l.gross_minor),
            discount: money(l.discount_minor),
            net: money(l.net_minor),
            tax: money(l.tax_minor),
            total: money(l.total_minor),
        }
    }
}

/// An order with its lines and totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: Uuid,
    /// `SO-YYYYMM-000123`.
    pub number: String,
    pub customer_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub warehouse_id: Uuid,
    pub currency: String,
    pub status: OrderStatus,
    pub order_date: NaiveDate,
    pub lines: Vec<OrderLineView>,
    /// Σ net.
    #[schema(value_type = String, example = "31.25")]
    pub subtotal: Decimal,
    #[schema(value_type = String, example = "0.00")]
    pub discount_total: Decimal,
    #[schema(value_type = String, example = "4.06")]
    pub tax_total: Decimal,
    /// subtotal + tax_total.
    #[schema(value_type = String, example = "35.31")]
    pub total: Decimal,
    pub payment_status: PaymentStatus,
    #[schema(value_type = String, example = "0.00")]
    pub paid_amount: Decimal,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderView {
    fn new(o: order_rows::Model, lines: Vec<order_lines::Model>) -> Self {
        Self {
            payment_status: payment_status(o.total_minor, o.paid_minor),
            status: OrderStatus::parse(&o.status).unwrap_or(OrderStatus::Draft),
            id: o.id,
            number: o.number,
            customer_id: o.customer_id,
            opportunity_id: o.opportunity_id,
            owner_id: o.owner_id,
            warehouse_id: o.warehouse_id,
            currency: o.currency,
            order_date: o.order_date,
            lines: lines.into_iter().map(OrderLineView::from).collect(),
            subtotal: money(o.subtotal_minor),
            discount_total: money(o.discount_minor),
            tax_total: money(o.tax_minor),
            total: money(o.total_minor),
            paid_amount: money(o.paid_minor),
            confirmed_at: o.confirmed_at,
            created_by: o.created_by,
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

fn respond(mut b: HttpResponseBuilder, o: OrderWithLines) -> HttpResponse {
    b.insert_header(etag(o.order.version))
        .json(OrderView::new(o.order, o.lines))
}

/// One line as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    pub product_id: Uuid,
    /// Positive, up to 3 decimals.
    #[schema(value_type = String, example = "2.5")]
    pub quantity: Decimal,
    /// Default: the product's list price. Up to 4 decimals.
    #[schema(value_type = Option<String>, example = "12.50")]
    pub unit_price: Option<Decimal>,
    /// Percent, default 0.
    #[schema(value_type = Option<String>, example = "5")]
    pub discount_percent: Option<Decimal>,
    /// Percent, default: the product's.
    #[schema(value_type = Option<String>, example = "13")]
    pub tax_rate: Option<Decimal>,
}

fn line_requests(lines: &[OrderLineInput], v: &mut Violations) -> Vec<LineRequest> {
    if lines.is_empty() {
        v.push(FieldViolation::new(
            "lines",
            "required",
            "an order has at least one line",
        ));
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let q = v.check(catalog::quantity(
            &format!("lines[{i}].quantity"),
            l.quantity,
        ));
        let price = l
            .unit_price
            .map(|p| v.check(catalog::price(&format!("lines[{i}].unit_price"), p)));
        let disc = l
            .discount_percent
            .map(|d| v.check(catalog::percent(&format!("lines[{i}].discount_percent"), d)));
        let tax = l
            .tax_rate
            .map(|t| v.check(catalog::percent(&format!("lines[{i}].tax_rate"), t)));
        if let Some(q) = q {
            out.push(LineRequest {
                product_id: l.product_id,
                quantity_milli: q,
                unit_price_e4: price.flatten(),
                discount_bp: disc.flatten(),
                tax_bp: tax.flatten(),
            });
        }
    }
    out
}

/// A new draft order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub customer_id: Uuid,
    pub warehouse_id: Uuid,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
    pub opportunity_id: Option<Uuid>,
    pub lines: Vec<OrderLineInput>,
}

/// New lines for a draft order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrder {
    pub lines: Vec<OrderLineInput>,
}

/// Creates a draft order; line amounts and totals are computed by the server.
#[utoipa::path(tag = "orders", operation_id = "create_order", security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateOrder, responses(
    (status = 201, body = OrderView, headers(("Location" = String), ("ETag" = String))),
    (status = 409, description = "The first request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A pool customer", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such customer in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid line, product, warehouse or opportunity", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders")]
pub async fn create_order(
    state: web::Data<AppState>,
    caller: Caller,
    body: KeyedJson<CreateOrder>,
) -> ApiResult<HttpResponse> {
    let KeyedJson {
        value: b,
        key,
        hash,
    } = body;
    let mut v = Violations::new();
    let currency = v.check(parse_currency(
        "currency",
        b.currency.as_deref().unwrap_or("CNY"),
    ));
    let lines = line_requests(&b.lines, &mut v);
    v.finish()?;
    let new = NewOrder {
        customer_id: b.customer_id,
        warehouse_id: b.warehouse_id,
        currency: currency.unwrap_or_default(),
        opportunity_id: b.opportunity_id,
        lines,
    };
    once(
        &state,
        caller.principal.user_id,
        key.as_deref(),
        &hash,
        || async {
            let o = orders::create(&state.db, &caller.actor(), new).await?;
            let (id, version) = (o.order.id, o.order.version);
            Ok(
                Prepared::json(StatusCode::CREATED, &OrderView::new(o.order, o.lines))?
                    .location(format!("/api/v1/orders/{id}"))
                    .version(version),
            )
        },
    )
    .await
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
    pub total_min: Option<Decimal>,
    #[param(value_type = Option<String>)]
    pub total_max: Option<Decimal>,
    pub updated_after: Option<DateTime<Utc>>,
}

/// Lists the caller's orders (sort: `created_at`, `total`).
#[utoipa::path(tag = "orders", operation_id = "list_orders", security(("bearer" = [])), params(OrderQuery, PageParams), responses(
    (status = 200, body = PageOf<OrderView>),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<OrderQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<OrderView>>> {
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
    let page = orders::list(state.db.conn(), &caller.principal.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from_page(page, |o| {
        OrderView::new(o, vec![])
    })))
}

/// One order with its lines.
#[utoipa::path(tag = "orders", operation_id = "get_order", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = OrderView, headers(("ETag" = String))),
    (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/orders/{id}")]
pub async fn get_order(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
) -> ApiResult<HttpResponse> {
    Ok(respond(
        HttpResponse::Ok(),
        orders::get(state.db.conn(), &caller.principal.scope(), id.0).await?,
    ))
}

/// Replaces a draft order's lines; any other status is `409 invalid_transition`.
#[utoipa::path(tag = "orders", operation_id = "update_order", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateOrder, responses(
    (status = 200, body = OrderView, headers(("ETag" = String))),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid line", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/orders/{id}")]
pub async fn update_order(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateOrder>,
) -> ApiResult<HttpResponse> {
    let mut v = Violations::new();
    let lines = line_requests(&body.0.lines, &mut v);
    v.finish()?;
    Ok(respond(
        HttpResponse::Ok(),
        orders::replace_lines(&state.db, &caller.actor(), id.0, lines, if_match.0).await?,
    ))
}

/// Confirms a draft, reserving every line's stock all or nothing; short stock is
/// `409 insufficient_stock` naming the short lines.
#[utoipa::path(tag = "orders", operation_id = "confirm_order", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    (status = 200, body = OrderView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "insufficient_stock or invalid_transition", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/confirm")]
pub async fn confirm_order(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    Ok(respond(
        HttpResponse::Ok(),
        orders::confirm(&state.db, &caller.actor(), id.0, if_match.0).await?,
    ))
}

/// Cancels a draft or confirmed order, releasing what is reserved.
#[utoipa::path(tag = "orders", operation_id = "cancel_order", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    (status = 200, body = OrderView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    Ok(respond(
        HttpResponse::Ok(),
        orders::cancel(&state.db, &caller.actor(), id.0, if_match.0).await?,
    ))
}

/// Completes a shipped order.
#[utoipa::path(tag = "orders", operation_id = "complete_order", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    (status = 200, body = OrderView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/complete")]
pub async fn complete_order(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    Ok(respond(
        HttpResponse::Ok(),
        orders::complete(&state.db, &caller.actor(), id.0, if_match.0).await?,
    ))
}

/// One shipped line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLine {
    pub line_id: Uuid,
    #[schema(value_type = String, example = "1")]
    pub quantity: Decimal,
}

/// What ships now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShipment {
    pub lines: Vec<ShipmentLine>,
}

/// Ships part or all of a confirmed order, moving reserved stock out; more than is left
/// on a line is refused.
#[utoipa::path(tag = "orders", operation_id = "create_shipment", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = CreateShipment, responses(
    (status = 200, body = OrderView, headers(("ETag" = String))),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown line or more than is left", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/shipments")]
pub async fn create_shipment(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    if_match: IfMatch,
    body: Json<CreateShipment>,
) -> ApiResult<HttpResponse> {
    let mut v = Violations::new();
    let lines: Vec<(Uuid, i64)> = body
        .0
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            v.check(catalog::quantity(
                &format!("lines[{i}].quantity"),
                l.quantity,
            ))
            .map(|q| (l.line_id, q))
        })
        .collect();
    v.finish()?;
    Ok(respond(
        HttpResponse::Ok(),
        orders::ship(&state.db, &caller.actor(), id.0, lines, if_match.0).await?,
    ))
}

/// A payment received.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    pub order_id: Uuid,
    #[schema(value_type = String, example = "1000.00")]
    pub amount: Decimal,
    pub received_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<payments::Model> for PaymentView {
    fn from(p: payments::Model) -> Self {
        Self {
            method: PaymentMethod::parse(&p.method).unwrap_or(PaymentMethod::Other),
            id: p.id,
            order_id: p.order_id,
            amount: money(p.amount_minor),
            received_at: p.received_at,
            reference: p.reference,
            created_by: p.created_by,
            created_at: p.created_at,
        }
    }
}

/// A payment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "1000.00", "received_at": "2026-11-25T08:00:00Z", "method": "bank_transfer", "reference": "工行回单 0001"}))]
pub struct CreatePayment {
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub received_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

/// A recorded payment and the order after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResult {
    pub payment: PaymentView,
    pub payment_status: PaymentStatus,
    #[schema(value_type = String)]
    pub paid_amount: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// Records a payment on a confirmed (or later) order; more than is owed is `409 overpayment`.
#[utoipa::path(tag = "orders", operation_id = "create_payment", security(("bearer" = [])), params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreatePayment, responses(
    (status = 201, body = PaymentResult),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "overpayment, or a draft or cancelled order", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/payments")]
pub async fn create_payment(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    body: KeyedJson<CreatePayment>,
) -> ApiResult<HttpResponse> {
    let KeyedJson {
        value: b,
        key,
        hash,
    } = body;
    let mut v = Violations::new();
    let amount = v.check(amount_minor("amount", b.amount));
    if amount == Some(0) {
        v.push(FieldViolation::new(
            "amount",
            "out_of_range",
            "amount must be greater than 0",
        ));
    }
    let reference = v.check(optional_text(
        "reference",
        b.reference.as_deref(),
        SHORT_TEXT_MAX * 2,
    ));
    v.finish()?;
    let p = NewPayment {
        amount_minor: amount.unwrap_or_default(),
        received_at: b.received_at,
        method: b.method,
        reference: reference.flatten(),
    };
    once(
        &state,
        caller.principal.user_id,
        key.as_deref(),
        &hash,
        || async {
            let (payment, order) = orders::add_payment(&state.db, &caller.actor(), id.0, p).await?;
            Prepared::json(
                StatusCode::CREATED,
                &PaymentResult {
                    payment: payment.into(),
                    payment_status: payment_status(order.total_minor, order.paid_minor),
                    paid_amount: money(order.paid_minor),
                    total: money(order.total_minor),
                },
            )
        },
    )
    .await
}

/// An order's payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub items: Vec<PaymentView>,
}

/// Lists an order's payments, oldest first.
#[utoipa::path(tag = "orders", operation_id = "list_payments", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = PaymentList),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/orders/{id}/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
) -> ApiResult<web::Json<PaymentList>> {
    let items = orders::payments_of(state.db.conn(), &caller.principal.scope(), id.0)
        .await?
        .into_iter()
        .map(PaymentView::from)
        .collect();
    Ok(web::Json(PaymentList { items }))
}

/// One dated instalment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instalment {
    pub due_date: NaiveDate,
    #[schema(value_type = String, example = "500.00")]
    pub amount: Decimal,
}

/// An order's payment plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPlan {
    pub order_id: Uuid,
    pub instalments: Vec<Instalment>,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = String)]
    pub paid_amount: Decimal,
}

/// New instalments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPaymentPlan {
    pub instalments: Vec<Instalment>,
}

fn plan_view(
    o: order_rows::Model,
    items: Vec<sims_persistence::entities::payment_plan_instalments::Model>,
) -> PaymentPlan {
    PaymentPlan {
        order_id: o.id,
        instalments: items
            .into_iter()
            .map(|i| Instalment {
                due_date: i.due_date,
                amount: money(i.amount_minor),
            })
            .collect(),
        total: money(o.total_minor),
        paid_amount: money(o.paid_minor),
    }
}

/// An order's payment plan (dated instalments), which feeds the receivables report.
#[utoipa::path(tag = "orders", operation_id = "get_payment_plan", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = PaymentPlan),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/orders/{id}/payment-plan")]
pub async fn get_payment_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
) -> ApiResult<web::Json<PaymentPlan>> {
    let (o, items) = orders::payment_plan(state.db.conn(), &caller.principal.scope(), id.0).await?;
    Ok(web::Json(plan_view(o, items)))
}

/// Replaces an order's payment plan; the instalments, in date order, add up to the
/// order total exactly.
#[utoipa::path(tag = "orders", operation_id = "set_payment_plan", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SetPaymentPlan, responses(
    (status = 200, body = PaymentPlan),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such order in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "A cancelled order", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Amounts that do not add up, or out of date order", body = Problem, content_type = "application/problem+json"),
))]
#[put("/orders/{id}/payment-plan")]
pub async fn set_payment_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    body: Json<SetPaymentPlan>,
) -> ApiResult<web::Json<PaymentPlan>> {
    let mut v = Violations::new();
    if body.0.instalments.is_empty() {
        v.push(FieldViolation::new(
            "instalments",
            "required",
            "a plan has at least one instalment",
        ));
    }
    let items: Vec<(NaiveDate, i64)> = body
        .0
        .instalments
        .iter()
        .enumerate()
        .filter_map(|(i, it)| {
            v.check(amount_minor(&format!("instalments[{i}].amount"), it.amount))
                .map(|a| (it.due_date, a))
        })
        .collect();
    v.finish()?;
    let (o, items) = orders::set_payment_plan(&state.db, &caller.actor(), id.0, items).await?;
    Ok(web::Json(plan_view(o, items)))
}

/// Registers the order routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_order)
        .service(list_orders)
        .service(get_order)
        .service(update_order)
        .service(confirm_order)
        .service(cancel_order)
        .service(complete_order)
        .service(create_shipment)
        .service(create_payment)
        .service(list_payments)
        .service(get_payment_plan)
        .service(set_payment_plan);
}
