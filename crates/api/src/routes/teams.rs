//! Teams: a tree with managers. Everyone reads; admins change.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use sims_domain::team::TeamRecord;
use sims_domain::values::{NAME_MAX, bounded_text};
use sims_persistence::teams::{self, NewTeam, TeamPatch};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "华东销售部", "parent_id": null, "manager_id": null}))]
pub struct CreateTeam {
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
}

/// A change to a team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "华东销售一部", "manager_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e"}))]
pub struct UpdateTeam {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
}

/// Creates a team (admins only).
#[utoipa::path(tag = "teams", operation_id = "create_team", request_body = CreateTeam, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new team", body = TeamRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field or unknown parent/manager", body = Problem, content_type = "application/problem+json"),
))]
#[post("/teams")]
pub async fn create_team(ctx: Ctx, body: Json<CreateTeam>) -> ApiResult<Created<TeamRecord>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let name =
        bounded_text("name", &b.name, NAME_MAX).map_err(|v| ApiError::validation(vec![v]))?;
    let t = teams::create(
        &ctx.db,
        &ctx.actor(),
        NewTeam {
            name,
            parent_id: b.parent_id,
            manager_id: b.manager_id,
        },
    )
    .await?;
    Ok(Created::at(format!("/api/v1/teams/{}", t.id), t))
}

/// Lists teams.
#[utoipa::path(tag = "teams", operation_id = "list_teams", params(PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of teams", body = PageOf<TeamRecord>),
))]
#[get("/teams")]
pub async fn list_teams(
    ctx: Ctx,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<TeamRecord>>> {
    let req = paging.0.to_request(teams::SORT_FIELDS, NEWEST_FIRST)?;
    Ok(web::Json(PageOf::from_page(
        teams::list(ctx.db.conn(), &req).await?,
        TeamRecord::from,
    )))
}

/// One team.
#[utoipa::path(tag = "teams", operation_id = "get_team", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The team", body = TeamRecord, headers(("ETag" = String))),
))]
#[get("/teams/{id}")]
pub async fn get_team(ctx: Ctx, id: Id) -> ApiResult<Tagged<TeamRecord>> {
    Ok(Tagged(teams::get(ctx.db.conn(), id.0).await?))
}

/// Changes a team (admins only). A team cannot be moved below itself.
#[utoipa::path(tag = "teams", operation_id = "update_team", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateTeam, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The team", body = TeamRecord, headers(("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/teams/{id}")]
pub async fn update_team(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateTeam>,
) -> ApiResult<Tagged<TeamRecord>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let name = match b.name {
        Some(n) => {
            Some(bounded_text("name", &n, NAME_MAX).map_err(|v| ApiError::validation(vec![v]))?)
        }
        None => None,
    };
    let t = teams::update(
        &ctx.db,
        &ctx.actor(),
        id.0,
        TeamPatch {
            name,
            parent_id: b.parent_id,
            manager_id: b.manager_id,
        },
        if_match.0,
    )
    .await?;
    Ok(Tagged(t))
}

/// Deletes an empty team (admins only): one with members or sub-teams is a `409`.
#[utoipa::path(tag = "teams", operation_id = "delete_team", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The team has members or sub-teams", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/teams/{id}")]
pub async fn delete_team(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    ctx.principal.require_admin()?;
    teams::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the team routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_team)
        .service(list_teams)
        .service(get_team)
        .service(update_team)
        .service(delete_team);
}
