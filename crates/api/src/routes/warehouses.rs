//! Warehouses (every role reads them; managers and admins add them).

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use sims_domain::catalog::Warehouse;
use sims_domain::catalog::WarehouseRecord;
use sims_persistence::warehouses::{self};
use utoipa::ToSchema;

use crate::caller::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, etag};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::responses::{Authenticated, RoleGated, WithBody, WithQuery};
use crate::routes::Routes;
use crate::state::AppState;

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
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, body = WarehouseRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 409, description = "Code in use", body = Problem, content_type = "application/problem+json"),
))]
#[post("/warehouses")]
pub async fn create_warehouse(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateWarehouse>,
) -> ApiResult<HttpResponse> {
    caller.principal.require_manager()?;
    let w = Warehouse::new(&body.0.code, &body.0.name)?;
    let m = warehouses::create(&state.db, &caller.actor(), w).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/warehouses/{}", m.id)))
        .insert_header(etag(m.version))
        .json(m))
}

/// Lists warehouses.
#[utoipa::path(tag = "warehouses", operation_id = "list_warehouses", security(("bearer" = [])), params(PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, body = PageOf<WarehouseRecord>),
))]
#[get("/warehouses")]
pub async fn list_warehouses(
    state: web::Data<AppState>,
    _caller: Caller,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<WarehouseRecord>>> {
    let req = paging.0.to_request(warehouses::SORT_FIELDS, NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from_page(
        warehouses::list(state.db.conn(), &req).await?,
        WarehouseRecord::from,
    )))
}

/// Registers the warehouse routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_warehouse).service(list_warehouses);
}
