//! Warehouses (every role reads them; managers and admins add them).

use actix_web::{get, post, web};
use serde::Deserialize;
use sims_domain::catalog::Warehouse;
use sims_domain::catalog::WarehouseRecord;
use sims_persistence::warehouses::{self};
use utoipa::ToSchema;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::reply::Created;
use crate::responses::{Authenticated, RoleGated, WithBody, WithQuery};
use crate::routes::Routes;

/// A new warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "HZ-01", "name": "杭州一号仓"}))]
pub struct CreateWarehouse {
    pub code: String,
    pub name: String,
}

/// Creates a warehouse (managers and admins).
#[utoipa::path(tag = "warehouses", operation_id = "create_warehouse", request_body = CreateWarehouse, responses(
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, description = "Created: the new warehouse", body = WarehouseRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 409, description = "Code in use", body = Problem, content_type = "application/problem+json"),
))]
#[post("/warehouses")]
pub async fn create_warehouse(
    ctx: Ctx,
    body: Json<CreateWarehouse>,
) -> ApiResult<Created<WarehouseRecord>> {
    ctx.principal.require_manager()?;
    let w = Warehouse::new(&body.0.code, &body.0.name)?;
    let m = warehouses::create(&ctx.db, &ctx.actor(), w).await?;
    Ok(Created::at(format!("/api/v1/warehouses/{}", m.id), m))
}

/// Lists warehouses.
#[utoipa::path(tag = "warehouses", operation_id = "list_warehouses", params(PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of warehouses", body = PageOf<WarehouseRecord>),
))]
#[get("/warehouses")]
pub async fn list_warehouses(
    ctx: Ctx,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<WarehouseRecord>>> {
    let req = paging.0.to_request(warehouses::SORT_FIELDS, NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from(
        warehouses::list(ctx.db.conn(), &req).await?,
    )))
}

/// Registers the warehouse routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_warehouse).service(list_warehouses);
}
