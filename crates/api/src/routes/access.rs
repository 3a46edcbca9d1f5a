//! Explaining access, for admins: whether a user reads a record, and why.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use sims_domain::access::{AccessEntity, AccessReason};
use sims_persistence::access::{self, Explanation};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::Query;
use crate::responses::{Authenticated, RoleGated, WithQuery};
use crate::routes::Routes;

/// Which user and which record.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// The user whose access is explained.
    pub user_id: Uuid,
    /// The kind of record.
    pub entity: AccessEntity,
    /// The record's id.
    pub id: Uuid,
}

/// What lies behind the reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessDetail {
    /// The record's owner; `null` for a customer in the pool or a missing record.
    pub owner_id: Option<Uuid>,
    /// For `team`: the team ids from the manager's team down to the owner's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_path: Option<Vec<Uuid>>,
}

/// Whether the user reads the record, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessExplanation {
    /// The user's own reads return the record (the same scope condition decides).
    pub allowed: bool,
    pub reason: AccessReason,
    pub detail: AccessDetail,
}

impl From<Explanation> for AccessExplanation {
    fn from(e: Explanation) -> Self {
        Self {
            allowed: e.allowed,
            reason: e.reason,
            detail: AccessDetail {
                owner_id: e.owner_id,
                team_path: e.team_path,
            },
        }
    }
}

/// Explains whether a user may read a record (admins only): computed by the same scope
/// condition that filters that user's queries.
#[utoipa::path(tag = "access", operation_id = "explain_access", params(ExplainQuery), responses(
    Authenticated,
    WithQuery,
    RoleGated,
    (status = 200, description = "The explanation", body = AccessExplanation),
    (status = 422, description = "No such user (`user_id`)", body = Problem, content_type = "application/problem+json"),
))]
#[get("/access/explain")]
pub async fn explain_access(
    ctx: Ctx,
    query: Query<ExplainQuery>,
) -> ApiResult<web::Json<AccessExplanation>> {
    ctx.principal.require_admin()?;
    let q = query.0;
    Ok(web::Json(
        access::explain(ctx.db.conn(), q.user_id, q.entity, q.id)
            .await?
            .into(),
    ))
}

/// Registers the access routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(explain_access);
}
