//! Teams: a tree, each with an optional manager.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::entities::{teams, users};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, audit, now};

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

fn snapshot(m: &teams::Model) -> serde_json::Value {
    json!({"name": m.name, "parent_id": m.parent_id, "manager_id": m.manager_id})
}

/// `root` and every team below it, from a parent map.
pub fn subtree(parents: &HashMap<Uuid, Option<Uuid>>, root: Uuid) -> Vec<Uuid> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let current = out[i];
        for (id, parent) in parents {
            if *parent == Some(current) && !out.contains(id) {
                out.push(*id);
            }
        }
        i += 1;
    }
    out
}

async fn parent_map<C: ConnectionTrait>(conn: &C) -> Result<HashMap<Uuid, Option<Uuid>>> {
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
        return Err(PersistenceError::Unprocessable {
            field: "parent_id".into(),
            message: "no such team".into(),
        });
    }
    if let Some(m) = manager_id
        && users::Entity::find_by_id(m).one(conn).await?.is_none()
    {
        return Err(PersistenceError::Unprocessable {
            field: "manager_id".into(),
            message: "no such user".into(),
        });
    }
    Ok(())
}

/// Creates a team.
pub async fn create(db: &Database, actor: &Actor, new: NewTeam) -> Result<teams::Model> {
    let tx = db.begin_write().await?;
    check_refs(&tx, new.parent_id, new.manager_id).await?;
    let t = now();
    let m = teams::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        parent_id: Set(new.parent_id),
        manager_id: Set(new.manager_id),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        actor,
        "create",
        "team",
        m.id,
        None,
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// One team.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<teams::Model> {
    teams::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// All teams, by creation.
pub async fn list<C: ConnectionTrait>(conn: &C, req: &ListRequest) -> Result<Page<teams::Model>> {
    let cols = [
        SortColumn {
            field: "created_at",
            column: teams::Column::CreatedAt,
            kind: SortValue::Timestamp,
        },
        SortColumn {
            field: "name",
            column: teams::Column::Name,
            kind: SortValue::Text,
        },
    ];
    fetch_page(
        conn,
        teams::Entity::find(),
        req,
        &cols,
        teams::Column::Id,
        |m, f| match f {
            "name" => CursorValue::Text(m.name.clone()),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

/// Changes a team; a team cannot become its own ancestor.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: TeamPatch,
    if_match: Option<i64>,
) -> Result<teams::Model> {
    let tx = db.begin_write().await?;
    let current = teams::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let parent = patch.parent_id.unwrap_or(current.parent_id);
    let manager = patch.manager_id.unwrap_or(current.manager_id);
    check_refs(&tx, parent, manager).await?;
    if let Some(p) = parent
        && subtree(&parent_map(&tx).await?, id).contains(&p)
    {
        return Err(PersistenceError::Unprocessable {
            field: "parent_id".into(),
            message: "a team cannot sit below itself".into(),
        });
    }
    let before = snapshot(&current);
    let mut am = current.into_active_model();
    if let Some(n) = patch.name {
        am.name = Set(n);
    }
    am.parent_id = Set(parent);
    am.manager_id = Set(manager);
    am.version = Set(am.version.as_ref() + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "team",
        id,
        Some(&before),
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes a team that has no members and no sub-teams.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let tx = db.begin_write().await?;
    let current = teams::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let members = users::Entity::find()
        .filter(users::Column::TeamId.eq(id))
        .count(&tx)
        .await?;
    let children = teams::Entity::find()
        .filter(teams::Column::ParentId.eq(id))
        .count(&tx)
        .await?;
    if members > 0 || children > 0 {
        return Err(PersistenceError::Conflict(
            "the team still has members or sub-teams".into(),
        ));
    }
    teams::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "team",
        id,
        Some(&snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_walks_down_only() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let parents = HashMap::from([(a, None), (b, Some(a)), (c, Some(b)), (d, None)]);
        let mut s = subtree(&parents, a);
        s.sort();
        let mut want = vec![a, b, c];
        want.sort();
        assert_eq!(s, want);
        assert_eq!(subtree(&parents, c), vec![c]);
    }
}
