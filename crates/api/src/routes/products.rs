//! Products (every role reads them; managers and admins change them). `cost` is shown to
//! managers and admins only.

use actix_web::{get, patch, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sims_domain::catalog::ProductRecord;
use sims_domain::catalog::{Product, ProductInput, ProductPatch};
use sims_persistence::products::{self, ProductFilter};
use utoipa::{IntoParams, ToSchema};

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, RoleGated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "BOLT-M6-100", "name": "六角螺栓 M6 (100 只)", "unit": "盒", "list_price": "12.50", "cost": "8.20", "tax_rate": "13", "category": "五金", "reorder_point": "20"}))]
pub struct CreateProduct {
    pub sku: String,
    pub name: String,
    pub unit: String,
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub list_price: Decimal,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub cost: Option<Decimal>,
    /// Percent, `"13"` = 13%.
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub tax_rate: Decimal,
    pub category: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub reorder_point: Option<Decimal>,
    pub active: Option<bool>,
}

/// A change to a product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"list_price": "13.20", "reorder_point": "30"}))]
pub struct UpdateProduct {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub list_price: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub cost: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
    pub tax_rate: Option<Decimal>,
    pub category: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::extract::optional_decimal")]
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
#[utoipa::path(tag = "products", operation_id = "create_product", request_body = CreateProduct, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "Created: the new product", body = ProductRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 409, description = "SKU in use", body = Problem, content_type = "application/problem+json"),
))]
#[post("/products")]
pub async fn create_product(
    ctx: Ctx,
    body: Json<CreateProduct>,
) -> ApiResult<Created<ProductRecord>> {
    ctx.principal.require_manager()?;
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
    let r = products::create(&ctx.db, &ctx.actor(), p).await?;
    Ok(Created::at(
        format!("/api/v1/products/{}", r.id),
        r.for_viewer(&ctx.principal),
    ))
}

/// Lists products (every role; `cost` for managers and admins only).
#[utoipa::path(tag = "products", operation_id = "list_products", params(ProductQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of products", body = PageOf<ProductRecord>),
))]
#[get("/products")]
pub async fn list_products(
    ctx: Ctx,
    query: Query<ProductQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<ProductRecord>>> {
    let req = paging.0.to_request(products::SORT_FIELDS, NEWEST_FIRST)?;
    let q = query.0;
    let filter = ProductFilter {
        category: q.category,
        active: q.active,
        updated_after: q.updated_after,
        q: q.q,
    };
    let page = products::list(ctx.db.conn(), &filter, &req).await?;
    Ok(web::Json(PageOf::from_page(page, |r| {
        ProductRecord::for_viewer(r, &ctx.principal)
    })))
}

/// One product.
#[utoipa::path(tag = "products", operation_id = "get_product", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The product", body = ProductRecord, headers(("ETag" = String))),
))]
#[get("/products/{id}")]
pub async fn get_product(ctx: Ctx, id: Id) -> ApiResult<Tagged<ProductRecord>> {
    let r = products::get(ctx.db.conn(), id.0).await?;
    Ok(Tagged(r.for_viewer(&ctx.principal)))
}

/// Changes a product (managers and admins).
#[utoipa::path(tag = "products", operation_id = "update_product", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateProduct, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    RoleGated,
    (status = 200, description = "The product", body = ProductRecord, headers(("ETag" = String))),
    (status = 409, description = "SKU in use", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/products/{id}")]
pub async fn update_product(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateProduct>,
) -> ApiResult<Tagged<ProductRecord>> {
    ctx.principal.require_manager()?;
    let b = body.0;
    let patch = ProductPatch {
        sku: b.sku,
        name: b.name,
        unit: b.unit,
        category: b.category,
        list_price: b.list_price,
        cost: b.cost,
        tax_rate: b.tax_rate,
        reorder_point: b.reorder_point,
        active: b.active,
    };
    let r = products::update(&ctx.db, &ctx.actor(), id.0, patch, if_match.0).await?;
    Ok(Tagged(r.for_viewer(&ctx.principal)))
}

/// Registers the product routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_product)
        .service(list_products)
        .service(get_product)
        .service(update_product);
}
