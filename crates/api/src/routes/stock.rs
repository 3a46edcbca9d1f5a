//! The stock ledger: levels, movements, receipts, returns, adjustments and low stock.

use actix_web::{HttpResponse, get, post, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sims_domain::catalog::quantity_decimal;
use sims_domain::listing::SortKey;
use sims_domain::stock::{Adjustment, Inbound, MovementKind};
use sims_domain::stock::{MovementRecord, StockLevelRecord};
use sims_persistence::stock::{self, MovementFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{KeyedJson, Query};
use crate::idempotency::{answer, respond};
use crate::listing::{PageOf, PageParams};
use crate::responses::{Authenticated, RoleGated, WithBody, WithQuery};
use crate::routes::Routes;
use actix_web::http::StatusCode;
use sims_domain::catalog::ProductRecord;

/// Filters of the stock list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    pub product_id: Option<Uuid>,
    pub warehouse_id: Option<Uuid>,
}

/// Stock levels by product and warehouse, by product then warehouse (`sort=-product_id`
/// reverses), paged like every list.
#[utoipa::path(tag = "stock", operation_id = "list_stock", params(StockQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of stock levels", body = PageOf<StockLevelRecord>),
))]
#[get("/stock")]
pub async fn list_stock(
    ctx: Ctx,
    query: Query<StockQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<StockLevelRecord>>> {
    let q = query.0;
    let req = paging.0.to_request(stock::LEVEL_SORT_FIELDS, BY_PRODUCT)?;
    let page = stock::levels(ctx.db.conn(), q.product_id, q.warehouse_id, &req).await?;
    Ok(web::Json(page.into()))
}

const BY_PRODUCT: &[SortKey] = &[SortKey {
    field: "product_id",
    descending: false,
}];

/// Filters of the ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    pub product_id: Option<Uuid>,
    pub warehouse_id: Option<Uuid>,
    pub kind: Option<MovementKind>,
    pub order_id: Option<Uuid>,
}

const NEWEST: &[SortKey] = &[SortKey {
    field: "at",
    descending: true,
}];

/// The stock ledger, newest first (managers and admins: it names orders and who made
/// them).
#[utoipa::path(tag = "stock", operation_id = "list_stock_movements", params(MovementQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    RoleGated,
    (status = 200, description = "A page of ledger entries", body = PageOf<MovementRecord>),
))]
#[get("/stock/movements")]
pub async fn list_stock_movements(
    ctx: Ctx,
    query: Query<MovementQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<MovementRecord>>> {
    ctx.principal.require_manager()?;
    let req = paging.0.to_request(&["at"], NEWEST)?;
    let q = query.0;
    let filter = MovementFilter {
        product_id: q.product_id,
        warehouse_id: q.warehouse_id,
        kind: q.kind,
        order_id: q.order_id,
    };
    Ok(web::Json(PageOf::from_page(
        stock::movements(ctx.db.conn(), &filter, &req).await?,
        MovementRecord::from,
    )))
}

/// One received line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    pub product_id: Uuid,
    /// Positive, up to 3 decimals.
    #[schema(value_type = String, example = "100")]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub quantity: Decimal,
}

fn lines_of(lines: &[ReceiptLine]) -> Vec<(Uuid, Decimal)> {
    lines.iter().map(|l| (l.product_id, l.quantity)).collect()
}

fn movements_answer(
    written: &[MovementRecord],
) -> sims_persistence::Result<sims_persistence::idempotency::Answer> {
    answer(
        StatusCode::CREATED,
        &ReceiptResult {
            movements: written.to_vec(),
        },
    )
}

/// Goods received into a warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"warehouse_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8f", "reference": "PO-2026-001", "lines": [{"product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d90", "quantity": "100"}]}))]
pub struct CreateReceipt {
    pub warehouse_id: Uuid,
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLine>,
}

/// The movements a receipt wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResult {
    pub movements: Vec<MovementRecord>,
}

/// Receives stock (managers and admins): one `receipt` movement per line, all or nothing.
#[utoipa::path(tag = "stock", operation_id = "create_stock_receipt", params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateReceipt, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "The movements written", body = ReceiptResult),
    (status = 422, description = "Invalid line, unknown product or warehouse", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stock/receipts")]
pub async fn create_stock_receipt(
    ctx: Ctx,
    body: KeyedJson<CreateReceipt>,
) -> ApiResult<HttpResponse> {
    ctx.principal.require_manager()?;
    let b = &body.value;
    let inbound = Inbound::parse("receipt", b.reference.as_deref(), &lines_of(&b.lines))?;
    let answered = stock::take_in(
        &ctx.db,
        &ctx.actor(),
        (MovementKind::Receipt, b.warehouse_id, None),
        inbound,
        body.key_of(ctx.principal.user_id).as_ref(),
        movements_answer,
    )
    .await?;
    Ok(respond(answered))
}

/// Goods a customer sent back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"warehouse_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8f", "order_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "reference": "RMA-0001", "lines": [{"product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d90", "quantity": "1"}]}))]
pub struct CreateReturn {
    pub warehouse_id: Uuid,
    /// The order the goods were shipped on, if known.
    pub order_id: Option<Uuid>,
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLine>,
}

/// Takes returned goods back into stock (managers and admins): one `return` movement
/// per line, all or nothing.
#[utoipa::path(tag = "stock", operation_id = "create_stock_return", params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateReturn, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "The movements written", body = ReceiptResult),
    (status = 422, description = "Invalid line, unknown product or warehouse, or no such order in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stock/returns")]
pub async fn create_stock_return(
    ctx: Ctx,
    body: KeyedJson<CreateReturn>,
) -> ApiResult<HttpResponse> {
    ctx.principal.require_manager()?;
    let b = &body.value;
    let inbound = Inbound::parse("return", b.reference.as_deref(), &lines_of(&b.lines))?;
    let answered = stock::take_in(
        &ctx.db,
        &ctx.actor(),
        (MovementKind::Return, b.warehouse_id, b.order_id),
        inbound,
        body.key_of(ctx.principal.user_id).as_ref(),
        movements_answer,
    )
    .await?;
    Ok(respond(answered))
}

/// A signed correction of on-hand stock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"warehouse_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e", "product_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8f", "quantity": "-2", "reason": "盘点损耗"}))]
pub struct CreateAdjustment {
    pub warehouse_id: Uuid,
    pub product_id: Uuid,
    /// Signed, not zero, up to 3 decimals.
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub quantity: Decimal,
    pub reason: String,
}

/// Adjusts stock (managers and admins). Taking away more than is available is
/// `409 insufficient_stock`.
#[utoipa::path(tag = "stock", operation_id = "create_stock_adjustment", params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateAdjustment, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "The stock level after the change", body = StockLevelRecord),
    (status = 409, description = "insufficient_stock", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field, unknown product or warehouse", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stock/adjustments")]
pub async fn create_stock_adjustment(
    ctx: Ctx,
    body: KeyedJson<CreateAdjustment>,
) -> ApiResult<HttpResponse> {
    ctx.principal.require_manager()?;
    let b = &body.value;
    let adjustment = Adjustment::parse(b.quantity, &b.reason)?;
    let answered = stock::adjust(
        &ctx.db,
        &ctx.actor(),
        (b.warehouse_id, b.product_id),
        adjustment,
        body.key_of(ctx.principal.user_id).as_ref(),
        |level| answer(StatusCode::CREATED, level),
    )
    .await?;
    Ok(respond(answered))
}

/// A product at or below its reorder point.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockItem {
    pub product: ProductRecord,
    /// Available in all warehouses.
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// Active products whose available stock (all warehouses) is at or below their reorder
/// point, by SKU, paged like every list.
#[utoipa::path(tag = "stock", operation_id = "list_low_stock", params(PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of products at or below their reorder point", body = PageOf<LowStockItem>),
))]
#[get("/stock/low")]
pub async fn list_low_stock(
    ctx: Ctx,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<LowStockItem>>> {
    let req = paging.0.to_request(&[], &[])?;
    let page = stock::low_stock(ctx.db.conn(), &req).await?;
    Ok(web::Json(PageOf::from_page(page, |(p, available)| {
        LowStockItem {
            product: ProductRecord::for_viewer(p, &ctx.principal),
            available: quantity_decimal(available),
        }
    })))
}

/// Registers the stock routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(list_stock)
        .service(list_stock_movements)
        .service(create_stock_receipt)
        .service(create_stock_adjustment)
        .service(create_stock_return)
        .service(list_low_stock);
}
