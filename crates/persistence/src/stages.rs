//! Pipeline stages: admins configure them (the caller checks the role); everyone reads them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::pipeline::{Stage, StageKind, StageRecord, check_stage_removal, default_stages};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{opportunities, pipeline_stages};
use crate::records::stored;
use crate::uow::{self, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, now};

/// A stored stage, as sent.
fn record(m: pipeline_stages::Model) -> Result<StageRecord> {
    Ok(StageRecord {
        kind: kind_of(&m)?,
        id: m.id,
        name: m.name,
        position: m.position,
        probability: m.probability,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Audited for pipeline_stages::Model {
    const ENTITY: AuditEntity = AuditEntity::PipelineStage;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"name": self.name, "position": self.position, "probability": self.probability, "kind": self.kind})
    }
}

/// The kind of a stored stage.
pub(crate) fn kind_of(m: &pipeline_stages::Model) -> Result<StageKind> {
    stored("pipeline_stages", "kind", &m.kind)
}

fn row(s: Stage, at: DateTime<Utc>) -> pipeline_stages::ActiveModel {
    pipeline_stages::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(s.name),
        position: Set(s.position),
        probability: Set(s.probability),
        kind: Set(s.kind.as_str().to_owned()),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    }
}

/// Seeds the default pipeline when no stage exists yet (first start).
pub async fn seed_defaults(db: &Database) -> Result<()> {
    db.write(async |tx| {
        if pipeline_stages::Entity::find().count(tx).await? == 0 {
            let t = now();
            pipeline_stages::Entity::insert_many(default_stages().into_iter().map(|s| row(s, t)))
                .exec(tx)
                .await?;
        }
        Ok(())
    })
    .await
}

/// Every stage, by position.
pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<StageRecord>> {
    pipeline_stages::Entity::find()
        .order_by_asc(pipeline_stages::Column::Position)
        .order_by_asc(pipeline_stages::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(record)
        .collect()
}

/// The stage `id`, if it exists.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<pipeline_stages::Model>> {
    Ok(pipeline_stages::Entity::find_by_id(id).one(conn).await?)
}

/// The first open stage, where new opportunities start.
pub(crate) async fn first_open<C: ConnectionTrait>(conn: &C) -> Result<pipeline_stages::Model> {
    pipeline_stages::Entity::find()
        .filter(pipeline_stages::Column::Kind.eq(StageKind::Open.as_str()))
        .order_by_asc(pipeline_stages::Column::Position)
        .one(conn)
        .await?
        .ok_or_else(|| PersistenceError::Conflict("the pipeline has no open stage".into()))
}

/// Adds a stage. There is exactly one won and one lost stage, so a new stage is `open`.
pub async fn create(db: &Database, actor: &Actor, stage: Stage) -> Result<StageRecord> {
    db.write(async |tx| {
        let stages = pipeline_stages::Entity::find().count(tx).await?;
        stage.check_addable(stages)?;
        uow::insert(tx, Some(actor), row(stage.clone(), now())).await
    })
    .await
    .and_then(record)
}

/// A change to a stage.
#[derive(Debug, Clone, Default)]
pub struct StagePatch {
    pub name: Option<String>,
    pub position: Option<i32>,
    pub probability: Option<i32>,
}

/// Renames, reorders or re-weights a stage. Its kind never changes, so that exactly one
/// won and one lost stage remain.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: StagePatch,
    if_match: Option<i64>,
) -> Result<StageRecord> {
    db.write(async |tx| {
        let current = lock_for_change::<pipeline_stages::Entity, _>(
            tx,
            &actor.principal.scope(),
            id,
            if_match,
        )
        .await?;
        let checked = Stage::new(
            patch.name.as_deref().unwrap_or(&current.name),
            patch.position.unwrap_or(current.position),
            patch.probability.unwrap_or(current.probability),
            kind_of(&current)?,
        )?;
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            am.name = Set(checked.name.clone());
            am.position = Set(checked.position);
            am.probability = Set(checked.probability);
        })
        .await
    })
    .await
    .and_then(record)
}

/// Deletes an open stage no opportunity uses, keeping at least one open stage.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current = lock_for_change::<pipeline_stages::Entity, _>(
            tx,
            &actor.principal.scope(),
            id,
            if_match,
        )
        .await?;
        let used = opportunities::Entity::find()
            .filter(opportunities::Column::StageId.eq(id))
            .count(tx)
            .await?;
        let open = pipeline_stages::Entity::find()
            .filter(pipeline_stages::Column::Kind.eq(StageKind::Open.as_str()))
            .count(tx)
            .await?;
        check_stage_removal(kind_of(&current)?, used, open)?;
        uow::remove(tx, actor, current).await
    })
    .await
}
