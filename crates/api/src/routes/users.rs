//! Users: everyone may read the directory; admins create, change and deactivate.

use actix_web::{get, patch, post, web};
use serde::Deserialize;
use sims_domain::team::UserRecord;
use sims_domain::values::{Email, NAME_MAX, bounded_text, check_password};
use sims_domain::{Role, Violations};
use sims_persistence::users::{self, NewUser, UserFilter, UserPatch};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "li.lei@example.com", "name": "李雷", "password": "a long passphrase", "role": "sales", "team_id": null}))]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// At least 10 characters.
    pub password: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
}

/// Never prints the password.
impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A change to a user; `active: false` deactivates at once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager", "team_id": "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8f"}))]
pub struct UpdateUser {
    pub name: Option<String>,
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    pub active: Option<bool>,
    /// A new password (at least 10 characters); revokes the user's refresh tokens.
    pub password: Option<String>,
}

/// Never prints the password.
impl std::fmt::Debug for UpdateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub team_id: Option<Uuid>,
    pub active: Option<bool>,
    /// Search in name and email.
    pub q: Option<String>,
}

/// Sortable fields of the user list.
pub const SORT_FIELDS: &[&str] = &["created_at", "name", "email"];

/// Creates a user (admins only).
#[utoipa::path(tag = "users", operation_id = "create_user", request_body = CreateUser, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new user", body = UserRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Email in use", body = Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create_user(ctx: Ctx, body: Json<CreateUser>) -> ApiResult<Created<UserRecord>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let mut v = Violations::new();
    let email = v.check(Email::parse("email", &b.email));
    let name = v.check(bounded_text("name", &b.name, NAME_MAX));
    v.check(check_password("password", &b.password));
    v.finish()?;
    let (Some(email), Some(name)) = (email, name) else {
        return Err(ApiError::validation(vec![]));
    };
    let password_hash = ctx.hasher.hash(b.password).await?;
    let u = users::create(
        &ctx.db,
        Some(&ctx.actor()),
        NewUser {
            email: email.as_str().to_owned(),
            name,
            password_hash,
            role: b.role,
            team_id: b.team_id,
        },
    )
    .await?;
    Ok(Created::at(format!("/api/v1/users/{}", u.id), u))
}

/// Lists users (the directory every role may read).
#[utoipa::path(tag = "users", operation_id = "list_users", params(UserQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of users", body = PageOf<UserRecord>),
))]
#[get("/users")]
pub async fn list_users(
    ctx: Ctx,
    query: Query<UserQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<UserRecord>>> {
    let q = query.0;
    let req = paging.0.to_request(users::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = UserFilter {
        role: q.role,
        team_id: q.team_id,
        active: q.active,
        q: q.q,
    };
    let page = users::list(ctx.db.conn(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// One user.
#[utoipa::path(tag = "users", operation_id = "get_user", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The user", body = UserRecord, headers(("ETag" = String))),
))]
#[get("/users/{id}")]
pub async fn get_user(ctx: Ctx, id: Id) -> ApiResult<Tagged<UserRecord>> {
    Ok(Tagged(users::get(ctx.db.conn(), id.0).await?))
}

/// Changes a user (admins only). `active: false` deactivates: their tokens stop working
/// at once and they cannot sign in.
#[utoipa::path(tag = "users", operation_id = "update_user", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")), request_body = UpdateUser, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The user", body = UserRecord, headers(("ETag" = String))),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Refused change", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/users/{id}")]
pub async fn update_user(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateUser>,
) -> ApiResult<Tagged<UserRecord>> {
    ctx.principal.require_admin()?;
    let b = body.0;
    let mut v = Violations::new();
    let name = b
        .name
        .as_deref()
        .and_then(|n| v.check(bounded_text("name", n, NAME_MAX)));
    if let Some(p) = &b.password {
        v.check(check_password("password", p));
    }
    v.finish()?;
    let password_hash = match b.password {
        Some(p) => Some(ctx.hasher.hash(p).await?),
        None => None,
    };
    let patch = UserPatch {
        name,
        role: b.role,
        team_id: b.team_id,
        active: b.active,
        password_hash,
    };
    let u = users::update(&ctx.db, &ctx.actor(), id.0, patch, if_match.0).await?;
    Ok(Tagged(u))
}

/// Registers the user routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user);
}
