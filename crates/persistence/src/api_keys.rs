//! API keys: integration credentials, each acting as one user. Only the SHA-256 of a
//! secret is stored; a key is found by that hash, and a revoked key keeps its row (with
//! `revoked_at`) for the audit trail but is gone from the API.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, Set};
use serde_json::json;
use sims_domain::api_key::{ApiKeyDraft, ApiKeyRecord};
use sims_domain::audit::{AuditAction, AuditEntity};
use uuid::Uuid;

use crate::audit::{self, Audited, Change};
use crate::entities::{api_keys, users};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, now};

impl Audited for api_keys::Model {
    const ENTITY: AuditEntity = AuditEntity::ApiKey;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "user_id": self.user_id,
            "prefix": self.prefix,
            "expires_at": self.expires_at,
        })
    }
}

fn record(m: api_keys::Model) -> ApiKeyRecord {
    ApiKeyRecord {
        id: m.id,
        name: m.name,
        user_id: m.user_id,
        prefix: m.prefix,
        expires_at: m.expires_at,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    }
}

/// A key to store: its attributes, the user it acts as, and its secret's hash and prefix.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub draft: ApiKeyDraft,
    pub user_id: Uuid,
    pub secret_hash: String,
    pub prefix: String,
}

/// Stores a new key for an active user; any other `user_id` is a `422` naming it.
pub async fn create(db: &Database, actor: &Actor, key: NewApiKey) -> Result<ApiKeyRecord> {
    db.write(async |tx| {
        let active = users::Entity::find_by_id(key.user_id)
            .one(tx)
            .await?
            .is_some_and(|u| u.active);
        if !active {
            return Err(PersistenceError::unusable("user_id", "no such active user"));
        }
        let row = api_keys::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(key.user_id),
            name: Set(key.draft.name.clone()),
            prefix: Set(key.prefix.clone()),
            secret_hash: Set(key.secret_hash.clone()),
            expires_at: Set(key.draft.expires_at),
            created_by: Set(actor.principal.user_id),
            created_at: Set(now()),
            last_used_at: Set(None),
            revoked_at: Set(None),
        };
        crate::uow::insert(tx, Some(actor), row).await
    })
    .await
    .map(record)
}

/// Keys that are not revoked (expired ones included, so that an admin sees them).
fn live() -> sea_orm::Select<api_keys::Entity> {
    api_keys::Entity::find().filter(api_keys::Column::RevokedAt.is_null())
}

/// Sortable fields of the key list.
pub const SORT_FIELDS: &[&str] = &["created_at", "name"];

/// A page of the keys that are not revoked.
pub async fn list<C: ConnectionTrait>(conn: &C, req: &ListRequest) -> Result<Page<ApiKeyRecord>> {
    let cols: [SortColumn<api_keys::Model, _>; 2] = [
        SortColumn::at("created_at", api_keys::Column::CreatedAt, |m| m.created_at),
        SortColumn::text("name", api_keys::Column::Name, |m| m.name.clone()),
    ];
    Ok(fetch_page(conn, live(), req, &cols).await?.map(record))
}

/// Revokes a key at once; an unknown or already revoked key is `NotFound`.
pub async fn revoke(db: &Database, actor: &Actor, id: Uuid) -> Result<()> {
    db.write(async |tx| {
        let key = live()
            .filter(api_keys::Column::Id.eq(id))
            .one(tx)
            .await?
            .ok_or(PersistenceError::NotFound)?;
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(now()))
            .filter(api_keys::Column::Id.eq(id))
            .exec(tx)
            .await?;
        let change =
            Change::of(AuditEntity::ApiKey, id, AuditAction::Revoke).before(key.snapshot());
        audit::record(tx, Some(actor), change).await
    })
    .await
}

/// A key that may be used now: not revoked, not expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsableKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub last_used_at: Option<DateTime<Utc>>,
}

fn usable(m: api_keys::Model, at: DateTime<Utc>) -> Option<UsableKey> {
    (m.revoked_at.is_none() && m.expires_at.is_none_or(|e| e > at)).then_some(UsableKey {
        id: m.id,
        user_id: m.user_id,
        last_used_at: m.last_used_at,
    })
}

/// The usable key whose secret hashes to `secret_hash`, if any.
pub async fn by_secret<C: ConnectionTrait>(
    conn: &C,
    secret_hash: &str,
    at: DateTime<Utc>,
) -> Result<Option<UsableKey>> {
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::SecretHash.eq(secret_hash))
        .one(conn)
        .await?
        .and_then(|m| usable(m, at)))
}

/// Key `id`, if it is still usable (for an access token exchanged for it).
pub async fn usable_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<UsableKey>> {
    Ok(api_keys::Entity::find_by_id(id)
        .one(conn)
        .await?
        .and_then(|m| usable(m, at)))
}

/// Records that key `id` was used at `at` (callers do this at most once a minute).
pub async fn record_use<C: ConnectionTrait>(conn: &C, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    api_keys::Entity::update_many()
        .col_expr(api_keys::Column::LastUsedAt, Expr::value(at))
        .filter(api_keys::Column::Id.eq(id))
        .filter(
            api_keys::Column::LastUsedAt
                .is_null()
                .or(api_keys::Column::LastUsedAt.lt(at)),
        )
        .exec(conn)
        .await?;
    Ok(())
}
