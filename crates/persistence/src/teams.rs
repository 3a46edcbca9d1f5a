//! Teams: a tree, each with an optional manager.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::team::{TeamRecord, check_parent, check_removal, subtree};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{teams, users};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::uow::{self, find_in_scope, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, now};

/// A stored team, as sent.
fn record(m: teams::Model) -> TeamRecord {
    TeamRecord {
        id: m.id,
        name: m.name,
        parent_id: m.parent_id,
        manager_id: m.manager_id,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Audited for teams::Model {
    const ENTITY: AuditEntity = AuditEntity::Team;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"name": self.name, "parent_id": self.parent_id, "manager_id": self.manager_id})
    }
}

/// A new team's fields.
#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
}

/// A change to a team: `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
    pub manager_id: Option<Option<Uuid>>,
}

pub(crate) async fn parent_map<C: ConnectionTrait>(
    conn: &C,
) -> Result<HashMap<Uuid, Option<Uuid>>> {
    let rows: Vec<(Uuid, Option<Uuid>)> = teams::Entity::find()
        .select_only()
        .column(teams::Column::Id)
        .column(teams::Column::ParentId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The team `root` and all its sub-teams.
pub async fn team_and_descendants<C: ConnectionTrait>(conn: &C, root: Uuid) -> Result<Vec<Uuid>> {
    Ok(subtree(&parent_map(conn).await?, root))
}

async fn check_refs<C: ConnectionTrait>(
    conn: &C,
    parent_id: Option<Uuid>,
    manager_id: Option<Uuid>,
) -> Result<()> {
    if let Some(p) = parent_id
        && teams::Entity::find_by_id(p).one(conn).await?.is_none()
    {
        return Err(PersistenceError::unusable("parent_id", "no such team"));
    }
    if let Some(m) = manager_id
        && users::Entity::find_by_id(m).one(conn).await?.is_none()
    {
        return Err(PersistenceError::unusable("manager_id", "no such user"));
    }
    Ok(())
}

/// Creates a team.
pub async fn create(db: &Database, actor: &Actor, new: NewTeam) -> Result<TeamRecord> {
    db.write_people(async |tx| {
        check_refs(tx, new.parent_id, new.manager_id).await?;
        let t = now();
        let row = teams::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(new.name.clone()),
            parent_id: Set(new.parent_id),
            manager_id: Set(new.manager_id),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
        };
        uow::insert(tx, Some(actor), row).await
    })
    .await
    .map(record)
}

/// One team.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<TeamRecord> {
    find_in_scope::<teams::Entity, _>(conn, &Scope::All, id)
        .await
        .map(record)
}

/// Sortable fields of the team list.
pub const SORT_FIELDS: &[&str] = &["created_at", "name"];

/// All teams, by creation.
pub async fn list<C: ConnectionTrait>(conn: &C, req: &ListRequest) -> Result<Page<TeamRecord>> {
    let cols: [SortColumn<teams::Model, _>; 2] = [
        SortColumn::at("created_at", teams::Column::CreatedAt, |m| m.created_at),
        SortColumn::text("name", teams::Column::Name, |m| m.name.clone()),
    ];
    Ok(fetch_page(conn, teams::Entity::find(), req, &cols)
        .await?
        .map(record))
}

/// Changes a team; a team cannot become its own ancestor.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: TeamPatch,
    if_match: Option<i64>,
) -> Result<TeamRecord> {
    db.write_people(async |tx| {
        let current = lock_for_change::<teams::Entity, _>(tx, &Scope::All, id, if_match).await?;
        let parent = patch.parent_id.unwrap_or(current.parent_id);
        let manager = patch.manager_id.unwrap_or(current.manager_id);
        check_refs(tx, parent, manager).await?;
        check_parent(&parent_map(tx).await?, id, parent)?;
        let name = patch.name.clone();
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            if let Some(n) = name {
                am.name = Set(n);
            }
            am.parent_id = Set(parent);
            am.manager_id = Set(manager);
        })
        .await
    })
    .await
    .map(record)
}

/// Deletes a team that has no members and no sub-teams.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write_people(async |tx| {
        let current = lock_for_change::<teams::Entity, _>(tx, &Scope::All, id, if_match).await?;
        let members = users::Entity::find()
            .filter(users::Column::TeamId.eq(id))
            .count(tx)
            .await?;
        let children = teams::Entity::find()
            .filter(teams::Column::ParentId.eq(id))
            .count(tx)
            .await?;
        check_removal(members, children)?;
        uow::remove(tx, actor, current).await
    })
    .await
}
