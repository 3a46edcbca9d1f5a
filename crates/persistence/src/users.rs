//! Users and the principal a request runs as.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sims_domain::audit::AuditEntity;
use sims_domain::team::UserRecord;
use sims_domain::{Principal, Role, Scope};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{teams, users};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::stored;
use crate::uow::{self, find_in_scope, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, now};

/// A stored user, as sent (never with their password hash).
fn record(m: users::Model) -> Result<UserRecord> {
    Ok(UserRecord {
        role: stored("users", "role", &m.role)?,
        id: m.id,
        email: m.email,
        name: m.name,
        team_id: m.team_id,
        active: m.active,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Audited for users::Model {
    const ENTITY: AuditEntity = AuditEntity::User;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"email": self.email, "name": self.name, "role": self.role, "team_id": self.team_id, "active": self.active})
    }
}

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

/// The active user with this id as a principal, with a manager's team subtree loaded.
/// `None` for unknown or deactivated users, so that their tokens stop working at once.
pub async fn principal<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<Option<Principal>> {
    Ok(session(conn, user_id).await?.map(|(p, _)| p))
}

/// [`session`], remembered between requests ([`crate::principals`]): no statement while
/// nobody and no team changed.
pub async fn remembered_session(db: &Database, user_id: Uuid) -> Result<Option<(Principal, i64)>> {
    let principals = db.principals();
    if let Some(found) = principals.get(user_id) {
        return Ok(Some(found));
    }
    let generation = principals.generation();
    let found = session(db.conn(), user_id).await?;
    if let Some(s) = &found {
        principals.put(generation, user_id, s.clone());
    }
    Ok(found)
}

/// An active user's principal with their current session epoch (what every access token
/// they hold must carry), or `None` for a deactivated or missing user.
pub async fn session<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<Option<(Principal, i64)>> {
    let Some(u) = users::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(None);
    };
    if !u.active {
        return Ok(None);
    }
    Ok(Some((principal_of(conn, &u).await?, u.session_epoch)))
}

/// The principal of the stored user `u`: their role, team and, for a manager, the teams
/// they manage.
pub(crate) async fn principal_of<C: ConnectionTrait>(
    conn: &C,
    u: &users::Model,
) -> Result<Principal> {
    let role: Role = stored("users", "role", &u.role)?;
    let managed_teams = match (role, u.team_id) {
        (Role::Manager, Some(team)) => crate::teams::team_and_descendants(conn, team).await?,
        _ => vec![],
    };
    Ok(Principal {
        user_id: u.id,
        role,
        team_id: u.team_id,
        managed_teams,
    })
}

/// What signing in checks a password against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: UserRecord,
    pub password_hash: String,
    pub session_epoch: i64,
}

fn credentials_of(u: users::Model) -> Result<Credentials> {
    let password_hash = u.password_hash.clone();
    let session_epoch = u.session_epoch;
    record(u).map(|user| Credentials {
        user,
        password_hash,
        session_epoch,
    })
}

/// The user signing in with this (normalised) email, active or not, with their
/// password hash.
pub async fn credentials<C: ConnectionTrait>(
    conn: &C,
    email_norm: &str,
) -> Result<Option<Credentials>> {
    users::Entity::find()
        .filter(users::Column::EmailNorm.eq(email_norm))
        .one(conn)
        .await?
        .map(credentials_of)
        .transpose()
}

/// The credentials of user `id` (for a password change by its owner).
pub async fn credentials_by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Credentials> {
    users::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
        .and_then(credentials_of)
}

/// Replaces a password hash made with old parameters by `new_hash` of the same password
/// (after a sign-in checked it). Not a change: no new session epoch, no audit entry; a
/// hash changed meanwhile is left alone.
pub async fn upgrade_hash<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    old_hash: &str,
    new_hash: &str,
) -> Result<()> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(new_hash))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::PasswordHash.eq(old_hash))
        .exec(conn)
        .await?;
    Ok(())
}

/// Sets the caller's own password: every session of theirs ends (refresh tokens revoked,
/// access tokens issued before answer `401`), audited without the password.
pub async fn change_own_password(
    db: &Database,
    actor: &Actor,
    password_hash: String,
) -> Result<()> {
    let id = actor.principal.user_id;
    db.write_people(async |tx| {
        let current = lock_for_change::<users::Entity, _>(tx, &Scope::All, id, None).await?;
        let epoch = current.session_epoch;
        let hash = password_hash.clone();
        uow::save_noting(
            tx,
            Some(actor),
            current,
            |am| {
                am.password_hash = Set(hash);
                am.session_epoch = Set(epoch + 1);
            },
            |change| change.noting("password", json!("changed")),
        )
        .await?;
        crate::auth::revoke_all_for_user(tx, id).await
    })
    .await
}

/// Whether any user exists (for first-start bootstrap).
pub async fn any_exists<C: ConnectionTrait>(conn: &C) -> Result<bool> {
    Ok(users::Entity::find().one(conn).await?.is_some())
}

async fn check_team<C: ConnectionTrait>(conn: &C, team_id: Option<Uuid>) -> Result<()> {
    if let Some(t) = team_id
        && teams::Entity::find_by_id(t).one(conn).await?.is_none()
    {
        return Err(PersistenceError::unusable("team_id", "no such team"));
    }
    Ok(())
}

/// Creates a user; an email already in use is a conflict naming `email`. `actor` is
/// `None` when the system creates the first admin.
pub async fn create(db: &Database, actor: Option<&Actor>, new: NewUser) -> Result<UserRecord> {
    let email_norm = new.email.to_lowercase();
    db.write_people(async |tx| {
        if users::Entity::find()
            .filter(users::Column::EmailNorm.eq(email_norm.clone()))
            .one(tx)
            .await?
            .is_some()
        {
            return Err(PersistenceError::Taken {
                field: "email",
                message: "a user with this email already exists".into(),
            });
        }
        check_team(tx, new.team_id).await?;
        let t = now();
        let row = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(new.email.clone()),
            email_norm: Set(email_norm.clone()),
            name: Set(new.name.clone()),
            password_hash: Set(new.password_hash.clone()),
            role: Set(new.role.as_str().to_owned()),
            team_id: Set(new.team_id),
            active: Set(true),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            session_epoch: Set(0),
        };
        uow::insert(tx, actor, row).await
    })
    .await
    .and_then(record)
}

/// One user.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<UserRecord> {
    find_in_scope::<users::Entity, _>(conn, &Scope::All, id)
        .await
        .and_then(record)
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub team_id: Option<Uuid>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

/// Sortable fields of the user list.
pub const SORT_FIELDS: &[&str] = &["created_at", "name", "email"];

/// Users, filtered.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &UserFilter,
    req: &ListRequest,
) -> Result<Page<UserRecord>> {
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
    let cols: [SortColumn<users::Model, _>; 3] = [
        SortColumn::at("created_at", users::Column::CreatedAt, |m| m.created_at),
        SortColumn::text("name", users::Column::Name, |m| m.name.clone()),
        SortColumn::text("email", users::Column::EmailNorm, |m| m.email_norm.clone()),
    ];
    fetch_page(conn, q, req, &cols).await?.try_map(record)
}

/// Changes a user. Deactivating or a new password revokes every refresh token of
/// theirs in the same transaction; their access tokens stop working at their next
/// request.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: UserPatch,
    if_match: Option<i64>,
) -> Result<UserRecord> {
    db.write_people(async |tx| {
        let current = lock_for_change::<users::Entity, _>(tx, &Scope::All, id, if_match).await?;
        if let Some(team) = patch.team_id {
            check_team(tx, team).await?;
        }
        actor
            .principal
            .may_change_user(id, patch.active == Some(false), patch.role)?;
        let password_changed = patch.password_hash.is_some();
        let deactivated = patch.active == Some(false) && current.active;
        let epoch = current.session_epoch + i64::from(password_changed || deactivated);
        let patch = patch.clone();
        let note = move |change: crate::audit::Change| match password_changed {
            true => change.noting("password", json!("changed")),
            false => change,
        };
        let m = uow::save_noting(
            tx,
            Some(actor),
            current,
            |am| {
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
                am.session_epoch = Set(epoch);
            },
            note,
        )
        .await?;
        if deactivated || password_changed {
            crate::auth::revoke_all_for_user(tx, id).await?;
        }
        Ok(m)
    })
    .await
    .and_then(record)
}
