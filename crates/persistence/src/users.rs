//! Users and the principal a request runs as.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};
use serde_json::json;
use sims_domain::{Principal, Role};
use uuid::Uuid;

use crate::entities::{teams, users};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, audit, now};

/// A new user's fields; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
}

/// A change to a user. `password_hash` is already hashed.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub team_id: Option<Option<Uuid>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

fn snapshot(m: &users::Model) -> serde_json::Value {
    json!({"email": m.email, "name": m.name, "role": m.role, "team_id": m.team_id, "active": m.active})
}

/// The active user with this id as a principal, with a manager's team subtree loaded.
/// `None` for unknown or deactivated users, so that their tokens stop working at once.
pub async fn principal<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<Option<Principal>> {
    let Some(u) = users::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(None);
    };
    if !u.active {
        return Ok(None);
    }
    let Some(role) = Role::parse(&u.role) else {
        return Ok(None);
    };
    let managed_teams = match (role, u.team_id) {
        (Role::Manager, Some(team)) => crate::teams::team_and_descendants(conn, team).await?,
        _ => vec![],
    };
    Ok(Some(Principal {
        user_id: u.id,
        role,
        team_id: u.team_id,
        managed_teams,
    }))
}

/// The user signing in with this (normalised) email, active or not.
pub async fn find_by_email<C: ConnectionTrait>(
    conn: &C,
    email_norm: &str,
) -> Result<Option<users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::EmailNorm.eq(email_norm))
        .one(conn)
        .await?)
}

/// Whether any user exists (for first-start bootstrap).
pub async fn any_exists<C: ConnectionTrait>(conn: &C) -> Result<bool> {
    Ok(users::Entity::find().one(conn).await?.is_some())
}

async fn check_team<C: ConnectionTrait>(conn: &C, team_id: Option<Uuid>) -> Result<()> {
    if let Some(t) = team_id
        && teams::Entity::find_by_id(t).one(conn).await?.is_none()
    {
        return Err(PersistenceError::Unprocessable {
            field: "team_id".into(),
            message: "no such team".into(),
        });
    }
    Ok(())
}

/// Creates a user; an email already in use is a conflict. `actor` is `None` when the
/// system creates the first admin.
pub async fn create(db: &Database, actor: Option<&Actor>, new: NewUser) -> Result<users::Model> {
    let tx = db.begin_write().await?;
    let email_norm = new.email.to_lowercase();
    if find_by_email(&tx, &email_norm).await?.is_some() {
        return Err(PersistenceError::Conflict(
            "a user with this email already exists".into(),
        ));
    }
    check_team(&tx, new.team_id).await?;
    let t = now();
    let m = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email),
        email_norm: Set(email_norm),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        role: Set(new.role.as_str().to_owned()),
        team_id: Set(new.team_id),
        active: Set(true),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&tx)
    .await?;
    if let Some(actor) = actor {
        audit::record(
            &tx,
            actor,
            "create",
            "user",
            m.id,
            None,
            Some(&snapshot(&m)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(m)
}

/// One user.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<users::Model> {
    users::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub team_id: Option<Uuid>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

/// Users, filtered.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &UserFilter,
    req: &ListRequest,
) -> Result<Page<users::Model>> {
    let mut q = users::Entity::find();
    if let Some(r) = filter.role {
        q = q.filter(users::Column::Role.eq(r.as_str()));
    }
    if let Some(t) = filter.team_id {
        q = q.filter(users::Column::TeamId.eq(t));
    }
    if let Some(a) = filter.active {
        q = q.filter(users::Column::Active.eq(a));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let t = text.to_lowercase();
        q = q.filter(
            sea_orm::Condition::any()
                .add(crate::listing::contains(users::Column::EmailNorm, &t))
                .add(crate::listing::contains(users::Column::Name, text)),
        );
    }
    let cols = [
        SortColumn {
            field: "created_at",
            column: users::Column::CreatedAt,
            kind: SortValue::Timestamp,
        },
        SortColumn {
            field: "name",
            column: users::Column::Name,
            kind: SortValue::Text,
        },
        SortColumn {
            field: "email",
            column: users::Column::EmailNorm,
            kind: SortValue::Text,
        },
    ];
    fetch_page(
        conn,
        q,
        req,
        &cols,
        users::Column::Id,
        |m, f| match f {
            "name" => CursorValue::Text(m.name.clone()),
            "email" => CursorValue::Text(m.email_norm.clone()),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

/// Changes a user. Deactivating revokes every refresh token of theirs in the same
/// transaction; their access tokens stop working at their next request.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: UserPatch,
    if_match: Option<i64>,
) -> Result<users::Model> {
    let tx = db.begin_write().await?;
    let current = users::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    if let Some(team) = patch.team_id {
        check_team(&tx, team).await?;
    }
    if id == actor.principal.user_id
        && (patch.active == Some(false) || patch.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(PersistenceError::Conflict(
            "admins cannot deactivate or demote themselves".into(),
        ));
    }
    let before = snapshot(&current);
    let password_changed = patch.password_hash.is_some();
    let deactivated = patch.active == Some(false) && current.active;
    let mut am = current.into_active_model();
    if let Some(n) = patch.name {
        am.name = Set(n);
    }
    if let Some(r) = patch.role {
        am.role = Set(r.as_str().to_owned());
    }
    if let Some(t) = patch.team_id {
        am.team_id = Set(t);
    }
    if let Some(a) = patch.active {
        am.active = Set(a);
    }
    if let Some(h) = patch.password_hash {
        am.password_hash = Set(h);
    }
    am.version = Set(am.version.as_ref() + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    if deactivated || password_changed {
        crate::auth::revoke_all_for_user(&tx, id).await?;
    }
    let mut after = snapshot(&m);
    if password_changed && let Some(o) = after.as_object_mut() {
        o.insert("password".into(), json!("changed"));
    }
    audit::record(
        &tx,
        actor,
        "update",
        "user",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}
