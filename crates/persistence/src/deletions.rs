//! Tombstones: which mirrored records were deleted, and when. Written in the transaction
//! of the delete (a rolled-back delete leaves none), read by `GET /deletions`, purged
//! after `sync.tombstone_days`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sims_domain::sync::DeletedEntity;
use uuid::Uuid;

use crate::entities::deletions;
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::stored;
use crate::{Result, now};

/// One deleted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub entity: DeletedEntity,
    pub id: Uuid,
    pub deleted_at: DateTime<Utc>,
}

/// Filters of the deletion list.
#[derive(Debug, Clone, Default)]
pub struct DeletionFilter {
    pub entity: Option<DeletedEntity>,
    /// Deleted at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

/// The tombstone of the record `id` of kind `entity`, deleted now.
pub(crate) fn row(entity: DeletedEntity, id: Uuid) -> deletions::ActiveModel {
    deletions::ActiveModel {
        id: Set(id),
        entity: Set(entity.as_str().to_owned()),
        deleted_at: Set(now()),
    }
}

/// Records that the record `id` of kind `entity` is deleted.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    entity: DeletedEntity,
    id: Uuid,
) -> Result<()> {
    deletions::Entity::insert(row(entity, id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records the deletion of every row of `table` whose `parent` column is `parent_id`,
/// as records of kind `entity` (rows a delete takes with it by cascade), in one
/// statement. Call it before the parent goes.
pub(crate) async fn record_children<C, E>(
    conn: &C,
    entity: DeletedEntity,
    table: E,
    parent: impl ColumnTrait,
    parent_id: Uuid,
) -> Result<()>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    let select = Query::select()
        .column((table, "id"))
        .expr(Expr::val(entity.as_str()))
        .expr(Expr::val(now()))
        .from(table)
        .and_where(parent.eq(parent_id))
        .to_owned();
    let insert = Query::insert()
        .into_table(deletions::Entity)
        .columns([
            deletions::Column::Id,
            deletions::Column::Entity,
            deletions::Column::DeletedAt,
        ])
        .select_from(select)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// Deletions, the same for every caller (ids only: a client drops the ids it holds).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &DeletionFilter,
    req: &ListRequest,
) -> Result<Page<Deletion>> {
    let mut q = deletions::Entity::find();
    if let Some(e) = filter.entity {
        q = q.filter(deletions::Column::Entity.eq(e.as_str()));
    }
    if let Some(t) = filter.since {
        q = q.filter(deletions::Column::DeletedAt.gte(t));
    }
    let cols: [SortColumn<deletions::Model, _>; 1] = [SortColumn::at(
        "deleted_at",
        deletions::Column::DeletedAt,
        |m| m.deleted_at,
    )];
    fetch_page(conn, q, req, &cols).await?.try_map(|m| {
        Ok(Deletion {
            entity: stored("deletions", "entity", &m.entity)?,
            id: m.id,
            deleted_at: m.deleted_at,
        })
    })
}

/// Deletes the tombstones older than `before`, and returns how many.
pub async fn purge<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> Result<u64> {
    Ok(deletions::Entity::delete_many()
        .filter(deletions::Column::DeletedAt.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}
