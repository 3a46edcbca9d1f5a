//! Products, warehouses and the stock ledger.

use actix_web::{HttpResponse, HttpResponseBuilder, get, patch, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sims_domain::catalog::{
    self, Product, ProductInput, percent_decimal, price_decimal, quantity_decimal,
};
use sims_domain::listing::{SortKey, check_page};
use sims_domain::values::{NAME_MAX, SHORT_TEXT_MAX, bounded_text, optional_text};
use sims_domain::{Principal, Violations};
use sims_persistence::catalog::{self as repo, ProductFilter};
use sims_persistence::entities::{products, stock_levels, stock_movements, warehouses};
use sims_persistence::stock::{self, MovementFilter};
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

/// A product. `cost` is shown to managers and admins only.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub category: Option<String>,
    /// Decimal string, up to 4 decimals.
    #[schema(value_type = String, example = "12.50")]
    pub list_price: Decimal,
    /// Managers and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "8.20")]
    pub cost: Option<Decimal>,
    /// Percent: `"13"` is 13%.
    #[schema(value_type = String, example = "13")]
    pub tax_rate: Decimal,
    #[schema(value_type = Option<String>, example = "20")]
    pub reorder_point: Option<Decimal>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductView {
    /// Renders a product for `viewer`.
    pub fn for_viewer(m: products::Model, viewer: &Principal) -> Self {
        Self {
            id: m.id,
            sku: m.sku,
            name: m.name,
            unit: m.unit,
            category: m.category,
            list_price: price_decimal(m.list_price_e4),
            cost: if viewer.may_see_cost() {
                m.cost_e4.map(price_decimal)
            } else {
                None
            },
            tax_rate: percent_decimal(m.tax_rate_bp),
            reorder_point: m.reorder_point_milli.map(quantity_decimal),
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn respond_product(
    mut b: HttpResponseBuilder,
    m: products::Model,
    viewer: &Principal,
) -> HttpResponse {
    b.insert_header(etag(m.version))
        .json(ProductView::for_viewer(m, viewer))
}

/// A new product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "BOLT-M6-100", "name": "六角螺栓 M6 (100 只)", "unit": "盒", "list_price": "12.50", "cost": "8.20", "tax_rate": "13", "category": "五金", "reorder_point": "20"}))]
pub struct CreateProduct {
    pub sku: String,
    pub name: String,
    pub unit: String,
    #[schema(value_type = String)]
    pub list_price: Decimal,
    #[schema(value_type = Option<String>)]
    pub cost: Option<Decimal>,
    /// Percent, `"13"` = 13%.
    #[schema(value_type = String)]
    pub tax_rate: Decimal,
    pub category: Option<String>,
    #[schema(value_type = Option<String>)]
    pub reorder_point: Option<Decimal>,
    pub active: Option<bool>,
}

/// A change to a product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    #[schema(value_type = Option<String>)]
    pub list_price: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub cost: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub tax_rate: Option<Decimal>,
    pub category: Option<String>,
    #[schema(value_type = Option<String>)]
    pub reorder_point: Option<Decimal>,
    pub active: Option<bool>,
}

/// Filters of the product list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    pub category: Option<String>,
    pub active: Option<bool>,
    pub updated_after: Option<DateTime<Utc>>,
    /// Search in name and SKU.
    pub q: Option<String>,
}

/// Creates a product (managers and admins).
#[utoipa::path(tag = "products", operation_id = "create_product", security(("bearer" = [])), request_body = CreateProduct, responses(
    (status = 201, body = ProductView, headers(("Location" = String), ("ETag" = String))),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "SKU in use", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
#[post("/products")]
pub async fn create_product(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateProduct>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let b = body.0;
    let p = Product::create(ProductInput {
        sku: Some(b.sku),
        name: Some(b.name),
        unit: Some(b.unit),
        category: b.category,
        list_price: Some(b.list_price),
        cost: b.cost,
        tax_rate: Some(b.tax_rate),
        reorder_point: b.reorder_point,
        active: b.active,
    })?;
    let m = repo::create_product(&state.db, &caller.actor(), p).await?;
    let mut res = HttpResponse::Created();
    res.insert_header(("Location", format!("/api/v1/products/{}", m.id)));
    Ok(respond_product(res, m, &caller.principal))
}

/// Lists products (every role; `cost` for managers and admins only).
#[utoipa::path(tag = "products", operation_id = "list_products", security(("bearer" = [])), params(ProductQuery, PageParams), responses(
    (status = 200, body = PageOf<ProductView>),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ProductQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<ProductView>>> {
    let req = paging.0.to_request(repo::SORT_FIELDS, NEWEST_FIRST)?;
    let q = query.0;
    let filter = ProductFilter {
        category: q.category,
        active: q.active,
        updated_after: q.updated_after,
        q: q.q,
    };
    let page = repo::list_products(state.db.conn(), &filter, &req).await?;
    Ok(web::Json(PageOf::from_page(page, |m| {
        ProductView::for_viewer(m, &caller.principal)
    })))
}

/// One product.
#[utoipa::path(tag = "products", operation_id = "get_product", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ProductView, headers(("ETag" = String))),
    (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
))]
#[get("/products/{id}")]
pub async fn get_product(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
) -> ApiResult<HttpResponse> {
    Ok(respond_product(
        HttpResponse::Ok(),
        repo::get_product(state.db.conn(), id.0).await?,
        &caller.principal,
    ))
}

/// Changes a product (managers and admins).
#[utoipa::path(tag = "products", operation_id = "update_product", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateProduct, responses(
    (status = 200, body = ProductView, headers(("ETag" = String))),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "SKU in use", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/products/{id}")]
pub async fn update_product(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateProduct>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let b = body.0;
    let change = move |mut p: Product| -> Result<Product, sims_domain::DomainError> {
        let mut v = Violations::new();
        if let Some(s) = b
            .sku
            .as_deref()
            .and_then(|s| v.check(catalog::sku("sku", s)))
        {
            p.sku = s;
        }
        if let Some(n) = b
            .name
            .as_deref()
            .and_then(|n| v.check(bounded_text("name", n, NAME_MAX)))
        {
            p.name = n;
        }
        if let Some(u) = b
            .unit
            .as_deref()
            .and_then(|u| v.check(bounded_text("unit", u, 20)))
        {
            p.unit = u;
        }
        if let Some(c) = b.category.as_deref()
            && let Some(c) = v.check(optional_text("category", Some(c), SHORT_TEXT_MAX))
        {
            p.category = c;
        }
        if let Some(x) = b
            .list_price
            .and_then(|x| v.check(catalog::price("list_price", x)))
        {
            p.list_price_e4 = x;
        }
        if let Some(x) = b.cost.and_then(|x| v.check(catalog::price("cost", x))) {
            p.cost_e4 = Some(x);
        }
        if let Some(x) = b
            .tax_rate
            .and_then(|x| v.check(catalog::percent("tax_rate", x)))
        {
            p.tax_rate_bp = x;
        }
        if let Some(x) = b
            .reorder_point
            .and_then(|x| v.check(catalog::quantity_or_zero("reorder_point", x)))
        {
            p.reorder_point_milli = Some(x);
        }
        if let Some(a) = b.active {
            p.active = a;
        }
        v.finish()?;
        Ok(p)
    };
    let m = repo::update_product(&state.db, &caller.actor(), id.0, change, if_match.0).await?;
    Ok(respond_product(HttpResponse::Ok(), m, &caller.principal))
}

/// A warehouse.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<warehouses::Model> for WarehouseView {
    fn from(m: warehouses::Model) -> Self {
        Self {
            id: m.id,
            code: m.code,
            name: m.name,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "HZ-01", "name": "杭州一号仓"}))]
pub struct CreateWarehouse {
    pub code: String,
    pub name: String,
}

/// Creates a warehouse (managers and admins).
#[utoipa::path(tag = "warehouses", operation_id = "create_warehouse", security(("bearer" = [])), request_body = CreateWarehouse, responses(
    (status = 201, body = WarehouseView, headers(("Location" = String), ("ETag" = String))),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Code in use", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
#[post("/warehouses")]
pub async fn create_warehouse(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateWarehouse>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let b = body.0;
    let mut v = Violations::new();
    let code = v.check(catalog::sku("code", &b.code));
    let name = v.check(bounded_text("name", &b.name, NAME_MAX));
    v.finish()?;
    let (Some(code), Some(name)) = (code, name) else {
        return Err(ApiError::validation(vec![]));
    };
    let m = repo::create_warehouse(&state.db, &caller.actor(), code, name).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/warehouses/{}", m.id)))
        .insert_header(etag(m.version))
        .json(WarehouseView::from(m)))
}

/// Lists warehouses.
#[utoipa::path(tag = "warehouses", operation_id = "list_warehouses", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = PageOf<WarehouseView>),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/warehouses")]
pub async fn list_warehouses(
    state: web::Data<AppState>,
    _caller: Caller,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<WarehouseView>>> {
    let req = paging.0.to_request(&["created_at", "code"], NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from_page(
        repo::list_warehouses(state.db.conn(), &req).await?,
        WarehouseView::from,
    )))
}

/// A stock level.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockLevelView {
    pub product_id: Uuid,
    pub warehouse_id: Uuid,
    #[schema(value_type = String, example = "100")]
    pub on_hand: Decimal,
    #[schema(value_type = String, example = "20")]
    pub reserved: Decimal,
    /// `on_hand − reserved`.
    #[schema(value_type = String, example = "80")]
    pub available: Decimal,
    pub updated_at: DateTime<Utc>,
}

impl From<stock_levels::Model> for StockLevelView {
    fn from(m: stock_levels::Model) -> Self {
        Self {
            product_id: m.product_id,
            warehouse_id: m.warehouse_id,
            on_hand: quantity_decimal(m.on_hand_milli),
            reserved: quantity_decimal(m.reserved_milli),
            available: quantity_decimal(m.on_hand_milli - m.reserved_milli),
            updated_at: m.updated_at,
        }
    }
}

/// A page of stock levels (offset pages: the list is one row per product and warehouse).
#[derive(Debug, Serialize, ToSchema)]
pub struct StockPage {
    pub items: Vec<StockLevelView>,
    pub page: u32,
    pub per_page: u32,
    pub has_more: bool,
}

/// Filters of the stock list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    pub product_id: Option<Uuid>,
    pub warehouse_id: Option<Uuid>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Stock levels by product and warehouse.
#[utoipa::path(tag = "stock", operation_id = "list_stock", security(("bearer" = [])), params(StockQuery), responses(
    (status = 200, body = StockPage),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/stock")]
pub async fn list_stock(
    state: web::Data<AppState>,
    _caller: Caller,
    query: Query<StockQuery>,
) -> ApiResult<web::Json<StockPage>> {
    let q = query.0;
    let (page, per_page) = check_page(q.page, q.per_page)
        .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))?;
    let (rows, has_more) = stock::levels(
        state.db.conn(),
        q.product_id,
        q.warehouse_id,
        page,
        per_page,
    )
    .await?;
    Ok(web::Json(StockPage {
        items: rows.into_iter().map(StockLevelView::from).collect(),
        page,
        per_page,
        has_more,
    }))
}

/// A ledger entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    pub id: Uuid,
    pub product_id: Uuid,
    pub warehouse_id: Uuid,
    /// `receipt`, `adjustment`, `reserve`, `release`, `shipment` or `return`.
    pub kind: String,
    /// Signed change of on-hand stock.
    #[schema(value_type = String, example = "100")]
    pub quantity: Decimal,
    /// Signed change of reserved stock.
    #[schema(value_type = String, example = "0")]
    pub reserved_change: Decimal,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub order_id: Option<Uuid>,
    pub created_by: Uuid,
    pub at: DateTime<Utc>,
}

impl From<stock_movements::Model> for MovementView {
    fn from(m: stock_movements::Model) -> Self {
        Self {
            id: m.id,
            product_id: m.product_id,
            warehouse_id: m.warehouse_id,
            kind: m.kind,
            quantity: quantity_decimal(m.on_hand_delta_milli),
            reserved_change: quantity_decimal(m.reserved_delta_milli),
            reference: m.reference,
            reason: m.reason,
            order_id: m.order_id,
            created_by: m.created_by,
            at: m.at,
        }
    }
}

/// A kind of stock movement.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKindName {
    Receipt,
    Adjustment,
    Reserve,
    Release,
    Shipment,
    Return,
}

impl MovementKindName {
    fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Adjustment => "adjustment",
            Self::Reserve => "reserve",
            Self::Release => "release",
            Self::Shipment => "shipment",
            Self::Return => "return",
        }
    }
}

/// Filters of the ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    pub product_id: Option<Uuid>,
    pub warehouse_id: Option<Uuid>,
    pub kind: Option<MovementKindName>,
    pub order_id: Option<Uuid>,
}

const NEWEST: &[SortKey] = &[SortKey {
    field: "at",
    descending: true,
}];

/// The stock ledger, newest first.
#[utoipa::path(tag = "stock", operation_id = "list_stock_movements", security(("bearer" = [])), params(MovementQuery, PageParams), responses(
    (status = 200, body = PageOf<MovementView>),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/stock/movements")]
pub async fn list_stock_movements(
    state: web::Data<AppState>,
    _caller: Caller,
    query: Query<MovementQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<MovementView>>> {
    let req = paging.0.to_request(&["at"], NEWEST)?;
    let q = query.0;
    let filter = MovementFilter {
        product_id: q.product_id,
        warehouse_id: q.warehouse_id,
        kind: q.kind.map(|k| k.as_str().to_owned()),
        order_id: q.order_id,
        after_time: None,
    };
    Ok(web::Json(PageOf::from_page(
        stock::movements(state.db.conn(), &filter, &req).await?,
        MovementView::from,
    )))
}

/// One received line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    pub product_id: Uuid,
    /// Positive, up to 3 decimals.
    #[schema(value_type = String, example = "100")]
    pub quantity: Decimal,
}

/// A product and a quantity in thousandths.
type InboundLine = (Uuid, i64);

/// Checks the reference and lines of a receipt or a return.
fn inbound_request(
    reference: Option<&str>,
    lines: &[ReceiptLine],
    what: &str,
) -> ApiResult<(Option<String>, Vec<InboundLine>)> {
    let mut v = Violations::new();
    if lines.is_empty() {
        v.push(sims_domain::FieldViolation::new(
            "lines",
            "required",
            format!("a {what} has at least one line"),
        ));
    }
    let reference = v
        .check(optional_text("reference", reference, SHORT_TEXT_MAX))
        .flatten();
    let lines = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            v.check(catalog::quantity(
                &format!("lines[{i}].quantity"),
                l.quantity,
            ))
            .map(|q| (l.product_id, q))
        })
        .collect();
    v.finish()?;
    Ok((reference, lines))
}

/// Goods received into a warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReceipt {
    pub warehouse_id: Uuid,
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLine>,
}

/// The movements a receipt wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResult {
    pub movements: Vec<MovementView>,
}

/// Receives stock (managers and admins): one `receipt` movement per line, all or nothing.
#[utoipa::path(tag = "stock", operation_id = "create_stock_receipt", security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateReceipt, responses(
    (status = 201, body = ReceiptResult),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid line, unknown product or warehouse", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stock/receipts")]
pub async fn create_stock_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    body: KeyedJson<CreateReceipt>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let KeyedJson {
        value: b,
        key,
        hash,
    } = body;
    let (reference, lines) = inbound_request(b.reference.as_deref(), &b.lines, "receipt")?;
    once(
        &state,
        caller.principal.user_id,
        key.as_deref(),
        &hash,
        || async {
            let written =
                stock::receive(&state.db, &caller.actor(), b.warehouse_id, reference, lines)
                    .await?;
            Prepared::json(
                StatusCode::CREATED,
                &ReceiptResult {
                    movements: written.into_iter().map(MovementView::from).collect(),
                },
            )
        },
    )
    .await
}

/// Goods a customer sent back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReturn {
    pub warehouse_id: Uuid,
    /// The order the goods were shipped on, if known.
    pub order_id: Option<Uuid>,
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLine>,
}

/// Takes returned goods back into stock (managers and admins): one `return` movement
/// per line, all or nothing.
#[utoipa::path(tag = "stock", operation_id = "create_stock_return", security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateReturn, responses(
    (status = 201, body = ReceiptResult),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid line, unknown product or warehouse", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stock/returns")]
pub async fn create_stock_return(
    state: web::Data<AppState>,
    caller: Caller,
    body: KeyedJson<CreateReturn>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let KeyedJson {
        value: b,
        key,
        hash,
    } = body;
    let (reference, lines) = inbound_request(b.reference.as_deref(), &b.lines, "return")?;
    once(
        &state,
        caller.principal.user_id,
        key.as_deref(),
        &hash,
        || async {
            let written = stock::take_return(
                &state.db,
                &caller.actor(),
                b.warehouse_id,
                reference,
                b.order_id,
                lines,
            )
            .await?;
            Prepared::json(
                StatusCode::CREATED,
                &ReceiptResult {
                    movements: written.into_iter().map(MovementView::from).collect(),
                },
            )
        },
    )
    .await
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
    pub quantity: Decimal,
    pub reason: String,
}

/// Adjusts stock (managers and admins). Taking away more than is available is
/// `409 insufficient_stock`.
#[utoipa::path(tag = "stock", operation_id = "create_stock_adjustment", security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreateAdjustment, responses(
    (status = 201, body = StockLevelView),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "insufficient_stock", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field, unknown product or warehouse", body = Problem, content_type = "application/problem+json"),
))]
#[post("/stock/adjustments")]
pub async fn create_stock_adjustment(
    state: web::Data<AppState>,
    caller: Caller,
    body: KeyedJson<CreateAdjustment>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let KeyedJson {
        value: b,
        key,
        hash,
    } = body;
    let mut v = Violations::new();
    let q = v.check(catalog::quantity_change("quantity", b.quantity));
    let reason = v.check(bounded_text("reason", &b.reason, SHORT_TEXT_MAX * 5));
    v.finish()?;
    let (Some(q), Some(reason)) = (q, reason) else {
        return Err(ApiError::validation(vec![]));
    };
    once(
        &state,
        caller.principal.user_id,
        key.as_deref(),
        &hash,
        || async {
            let level = stock::adjust(
                &state.db,
                &caller.actor(),
                b.warehouse_id,
                b.product_id,
                q,
                reason,
            )
            .await?;
            Prepared::json(StatusCode::CREATED, &StockLevelView::from(level))
        },
    )
    .await
}

/// A product at or below its reorder point.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockItem {
    pub product: ProductView,
    /// Available in all warehouses.
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// Low stock.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockList {
    pub items: Vec<LowStockItem>,
}

/// Active products whose available stock (all warehouses) is at or below their reorder point.
#[utoipa::path(tag = "stock", operation_id = "list_low_stock", security(("bearer" = [])), responses(
    (status = 200, body = LowStockList),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/stock/low")]
pub async fn list_low_stock(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<web::Json<LowStockList>> {
    let rows = stock::low_stock(state.db.conn()).await?;
    let items = rows
        .into_iter()
        .map(|(p, available)| LowStockItem {
            product: ProductView::for_viewer(p, &caller.principal),
            available: quantity_decimal(available),
        })
        .collect();
    Ok(web::Json(LowStockList { items }))
}

/// Registers the product, warehouse and stock routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_product)
        .service(list_products)
        .service(get_product)
        .service(update_product)
        .service(create_warehouse)
        .service(list_warehouses)
        .service(list_stock)
        .service(list_stock_movements)
        .service(create_stock_receipt)
        .service(create_stock_adjustment)
        .service(create_stock_return)
        .service(list_low_stock);
}
