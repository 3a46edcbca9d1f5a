//! The audit log, for admins.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::listing::SortKey;
use sims_persistence::audit::{self, AuditFilter, AuditRecord};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::Query;
use crate::listing::{PageOf, PageParams};
use crate::responses::{Authenticated, WithQuery};
use crate::routes::Routes;

/// One audited change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: Uuid,
    /// `{field: {"before": …, "after": …}}` for every changed field.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(m: AuditRecord) -> Self {
        Self {
            id: m.id,
            actor_id: m.actor_id,
            action: m.action,
            entity: m.entity,
            entity_id: m.entity_id,
            changes: m.changes,
            request_id: m.request_id,
            at: m.at,
        }
    }
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
}

const NEWEST: &[SortKey] = &[SortKey {
    field: "at",
    descending: true,
}];

/// Audit entries, newest first (admins only).
#[utoipa::path(tag = "audit", operation_id = "list_audit_entries", params(AuditQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of audit entries", body = PageOf<AuditEntry>),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
))]
#[get("/audit")]
pub async fn list_audit_entries(
    ctx: Ctx,
    query: Query<AuditQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<AuditEntry>>> {
    ctx.principal.require_admin()?;
    let req = paging.0.to_request(&["at"], NEWEST)?;
    let q = query.0;
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: q.entity_id,
        actor_id: q.actor_id,
    };
    Ok(web::Json(PageOf::from_page(
        audit::list(ctx.db.conn(), &filter, &req).await?,
        AuditEntry::from,
    )))
}

/// Registers the audit routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(list_audit_entries);
}
