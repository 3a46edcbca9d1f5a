//! Warehouses (every role reads them; managers and admins add them).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::catalog::Warehouse;
use sims_persistence::warehouses::{self, WarehouseRecord};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, etag};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams};
use crate::responses::{Authenticated, RoleGated, WithBody, WithQuery};
use crate::routes::Routes;
use crate::state::AppState;

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

impl From<WarehouseRecord> for WarehouseView {
    fn from(m: WarehouseRecord) -> Self {
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
    Authenticated,
    WithBody,
    RoleGated,
    (status = 201, body = WarehouseView, headers(("Location" = String), ("ETag" = String))),
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
        .json(WarehouseView::from(m)))
}

/// Lists warehouses.
#[utoipa::path(tag = "warehouses", operation_id = "list_warehouses", security(("bearer" = [])), params(PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, body = PageOf<WarehouseView>),
))]
#[get("/warehouses")]
pub async fn list_warehouses(
    state: web::Data<AppState>,
    _caller: Caller,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<WarehouseView>>> {
    let req = paging.0.to_request(warehouses::SORT_FIELDS, NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from_page(
        warehouses::list(state.db.conn(), &req).await?,
        WarehouseView::from,
    )))
}

/// Registers the warehouse routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_warehouse).service(list_warehouses);
}
