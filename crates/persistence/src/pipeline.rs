//! Pipeline stages (admins configure them; everyone reads them) and opportunities (商机)
//! with their stage moves and history.

use chrono::{DateTime, NaiveDate, Utc};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::pipeline::{Stage, StageKind, check_move, default_stages};
use sims_domain::values::normalize_name;
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::entities::{opportunities, opportunity_stage_changes, pipeline_stages};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, contains, fetch_page};
use crate::scope::{Pool, owned_by};
use crate::{Actor, Database, PersistenceError, Result, audit, customers, now, pool};

fn stage_snapshot(m: &pipeline_stages::Model) -> serde_json::Value {
    json!({"name": m.name, "position": m.position, "probability": m.probability, "kind": m.kind})
}

/// The kind of a stored stage.
pub fn kind_of(m: &pipeline_stages::Model) -> StageKind {
    StageKind::parse(&m.kind).unwrap_or(StageKind::Open)
}

/// Seeds the default pipeline when no stage exists yet (first start).
pub async fn seed_default_stages(db: &Database) -> Result<()> {
    let tx = db.begin_write().await?;
    if pipeline_stages::Entity::find().count(&tx).await? == 0 {
        let t = now();
        let rows = default_stages()
            .into_iter()
            .map(|s| pipeline_stages::ActiveModel {
                id: Set(Uuid::now_v7()),
                name: Set(s.name),
                position: Set(s.position),
                probability: Set(s.probability),
                kind: Set(s.kind.as_str().to_owned()),
                version: Set(1),
                created_at: Set(t),
                updated_at: Set(t),
            });
        pipeline_stages::Entity::insert_many(rows).exec(&tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every stage, by position.
pub async fn list_stages<C: ConnectionTrait>(conn: &C) -> Result<Vec<pipeline_stages::Model>> {
    Ok(pipeline_stages::Entity::find()
        .order_by_asc(pipeline_stages::Column::Position)
        .order_by_asc(pipeline_stages::Column::Id)
        .all(conn)
        .await?)
}

/// One stage.
pub async fn get_stage<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<pipeline_stages::Model> {
    pipeline_stages::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

async fn count_kind<C: ConnectionTrait>(conn: &C, kind: StageKind) -> Result<u64> {
    Ok(pipeline_stages::Entity::find()
        .filter(pipeline_stages::Column::Kind.eq(kind.as_str()))
        .count(conn)
        .await?)
}

/// Adds a stage (admins). There is exactly one won and one lost stage, so a new stage
/// is `open`.
pub async fn create_stage(
    db: &Database,
    actor: &Actor,
    stage: Stage,
) -> Result<pipeline_stages::Model> {
    actor.principal.require_admin()?;
    if stage.kind != StageKind::Open {
        return Err(DomainError::refused(
            "conflict",
            format!(
                "the pipeline already has its {} stage; add open stages only",
                stage.kind.as_str()
            ),
        )
        .into());
    }
    let tx = db.begin_write().await?;
    let t = now();
    let m = pipeline_stages::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(stage.name),
        position: Set(stage.position),
        probability: Set(stage.probability),
        kind: Set(stage.kind.as_str().to_owned()),
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
        "pipeline_stage",
        m.id,
        None,
        Some(&stage_snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// A change to a stage.
#[derive(Debug, Clone, Default)]
pub struct StagePatch {
    pub name: Option<String>,
    pub position: Option<i32>,
    pub probability: Option<i32>,
}

/// Renames, reorders or re-weights a stage (admins). Its kind never changes, so that
/// exactly one won and one lost stage remain.
pub async fn update_stage(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: StagePatch,
    if_match: Option<i64>,
) -> Result<pipeline_stages::Model> {
    actor.principal.require_admin()?;
    let tx = db.begin_write().await?;
    let current = pipeline_stages::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let checked = Stage::new(
        patch.name.as_deref().unwrap_or(&current.name),
        patch.position.unwrap_or(current.position),
        patch.probability.unwrap_or(current.probability),
        kind_of(&current),
    )?;
    let before = stage_snapshot(&current);
    let version = current.version;
    let mut am = current.into_active_model();
    am.name = Set(checked.name);
    am.position = Set(checked.position);
    am.probability = Set(checked.probability);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "pipeline_stage",
        id,
        Some(&before),
        Some(&stage_snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes an open stage no opportunity uses (admins).
pub async fn delete_stage(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<()> {
    actor.principal.require_admin()?;
    let tx = db.begin_write().await?;
    let current = pipeline_stages::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    if kind_of(&current) != StageKind::Open {
        return Err(
            DomainError::refused("conflict", "the won and lost stages cannot be deleted").into(),
        );
    }
    let used = opportunities::Entity::find()
        .filter(opportunities::Column::StageId.eq(id))
        .count(&tx)
        .await?;
    if used > 0 {
        return Err(DomainError::refused(
            "stage_in_use",
            format!("{used} opportunities are in this stage; move them first"),
        )
        .into());
    }
    if count_kind(&tx, StageKind::Open).await? <= 1 {
        return Err(
            DomainError::refused("conflict", "the pipeline needs at least one open stage").into(),
        );
    }
    pipeline_stages::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "pipeline_stage",
        id,
        Some(&stage_snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new opportunity's fields, already validated.
#[derive(Debug, Clone)]
pub struct NewOpportunity {
    pub customer_id: Uuid,
    pub name: String,
    pub amount_minor: i64,
    pub currency: String,
    pub stage_id: Option<Uuid>,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Uuid,
}

fn opp_snapshot(m: &opportunities::Model) -> serde_json::Value {
    json!({
        "customer_id": m.customer_id, "name": m.name, "amount_minor": m.amount_minor, "currency": m.currency,
        "stage_id": m.stage_id, "status": m.status, "expected_close_date": m.expected_close_date,
        "owner_id": m.owner_id, "lost_reason": m.lost_reason,
    })
}

pub(crate) fn readable(scope: &Scope) -> Condition {
    owned_by(scope, opportunities::Column::OwnerId, Pool::Excluded)
}

async fn record_change<C: ConnectionTrait>(
    conn: &C,
    opp: &opportunities::Model,
    from: Option<Uuid>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    opportunity_stage_changes::ActiveModel {
        id: Set(Uuid::now_v7()),
        opportunity_id: Set(opp.id),
        customer_id: Set(opp.customer_id),
        from_stage_id: Set(from),
        to_stage_id: Set(opp.stage_id),
        by_user_id: Set(by),
        at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Creates an opportunity on a customer the caller may change, in the given open stage
/// or the first one.
pub async fn create(
    db: &Database,
    actor: &Actor,
    new: NewOpportunity,
) -> Result<opportunities::Model> {
    let tx = db.begin_write().await?;
    let m = create_in(&tx, actor, new).await?;
    tx.commit().await?;
    Ok(m)
}

/// [`create`] inside the caller's transaction.
pub(crate) async fn create_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    new: NewOpportunity,
) -> Result<opportunities::Model> {
    customers::get_writable(tx, actor, new.customer_id).await?;
    if new.owner_id != actor.principal.user_id {
        pool::check_assignable(tx, &actor.principal, new.owner_id, "owner_id").await?;
    }
    let stage = match new.stage_id {
        Some(id) => pipeline_stages::Entity::find_by_id(id)
            .one(tx)
            .await?
            .ok_or_else(|| PersistenceError::Unprocessable {
                field: "stage_id".into(),
                message: "no such stage".into(),
            })?,
        None => pipeline_stages::Entity::find()
            .filter(pipeline_stages::Column::Kind.eq(StageKind::Open.as_str()))
            .order_by_asc(pipeline_stages::Column::Position)
            .one(tx)
            .await?
            .ok_or_else(|| PersistenceError::Conflict("the pipeline has no open stage".into()))?,
    };
    if kind_of(&stage) != StageKind::Open {
        return Err(PersistenceError::Unprocessable {
            field: "stage_id".into(),
            message: "a new opportunity starts in an open stage; move it to won or lost afterwards"
                .into(),
        });
    }
    let t = now();
    let m = opportunities::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(new.customer_id),
        name_norm: Set(normalize_name(&new.name)),
        name: Set(new.name),
        amount_minor: Set(new.amount_minor),
        currency: Set(new.currency),
        stage_id: Set(stage.id),
        status: Set(StageKind::Open.as_str().to_owned()),
        expected_close_date: Set(new.expected_close_date),
        owner_id: Set(new.owner_id),
        lost_reason: Set(None),
        closed_at: Set(None),
        created_by: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(tx)
    .await?;
    record_change(tx, &m, None, actor.principal.user_id, t).await?;
    audit::record(
        tx,
        actor,
        "create",
        "opportunity",
        m.id,
        None,
        Some(&opp_snapshot(&m)),
    )
    .await?;
    Ok(m)
}

/// One opportunity in the caller's scope.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<opportunities::Model> {
    opportunities::Entity::find_by_id(id)
        .filter(readable(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

async fn get_locked<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<opportunities::Model> {
    opportunities::Entity::find_by_id(id)
        .filter(readable(scope))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// Filters of the opportunity list.
#[derive(Debug, Clone, Default)]
pub struct OpportunityFilter {
    pub stage_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub status: Option<StageKind>,
    pub expected_close_from: Option<NaiveDate>,
    pub expected_close_to: Option<NaiveDate>,
    pub amount_min: Option<i64>,
    pub amount_max: Option<i64>,
    pub updated_after: Option<DateTime<Utc>>,
    pub q: Option<String>,
}

/// Sortable fields of the opportunity list.
pub const SORT_FIELDS: &[&str] = &["created_at", "updated_at", "name", "amount"];

const SORT_COLUMNS: [SortColumn<opportunities::Column>; 4] = [
    SortColumn {
        field: "created_at",
        column: opportunities::Column::CreatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "updated_at",
        column: opportunities::Column::UpdatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "name",
        column: opportunities::Column::Name,
        kind: SortValue::Text,
    },
    SortColumn {
        field: "amount",
        column: opportunities::Column::AmountMinor,
        kind: SortValue::Integer,
    },
];

/// A page of the opportunities the caller may see.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OpportunityFilter,
    req: &ListRequest,
) -> Result<Page<opportunities::Model>> {
    let mut q = opportunities::Entity::find().filter(readable(scope));
    if let Some(v) = f.stage_id {
        q = q.filter(opportunities::Column::StageId.eq(v));
    }
    if let Some(v) = f.owner_id {
        q = q.filter(opportunities::Column::OwnerId.eq(v));
    }
    if let Some(v) = f.customer_id {
        q = q.filter(opportunities::Column::CustomerId.eq(v));
    }
    if let Some(v) = f.status {
        q = q.filter(opportunities::Column::Status.eq(v.as_str()));
    }
    if let Some(v) = f.expected_close_from {
        q = q.filter(opportunities::Column::ExpectedCloseDate.gte(v));
    }
    if let Some(v) = f.expected_close_to {
        q = q.filter(opportunities::Column::ExpectedCloseDate.lte(v));
    }
    if let Some(v) = f.amount_min {
        q = q.filter(opportunities::Column::AmountMinor.gte(v));
    }
    if let Some(v) = f.amount_max {
        q = q.filter(opportunities::Column::AmountMinor.lte(v));
    }
    if let Some(v) = f.updated_after {
        q = q.filter(opportunities::Column::UpdatedAt.gt(v));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(contains(
            opportunities::Column::NameNorm,
            &normalize_name(text),
        ));
    }
    fetch_page(
        conn,
        q,
        req,
        &SORT_COLUMNS,
        opportunities::Column::Id,
        |m, field| match field {
            "updated_at" => CursorValue::Timestamp(m.updated_at),
            "name" => CursorValue::Text(m.name.clone()),
            "amount" => CursorValue::Integer(m.amount_minor),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

/// A change to an opportunity's fields (stage moves have their own call).
#[derive(Debug, Clone, Default)]
pub struct OpportunityPatch {
    pub name: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub expected_close_date: Option<Option<NaiveDate>>,
    pub owner_id: Option<Uuid>,
}

/// Changes an opportunity in the caller's scope; a new owner needs a manager or admin.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: OpportunityPatch,
    if_match: Option<i64>,
) -> Result<opportunities::Model> {
    let tx = db.begin_write().await?;
    let current = get_locked(&tx, &actor.principal.scope(), id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    if let Some(owner) = patch.owner_id
        && owner != current.owner_id
    {
        actor.principal.require_manager()?;
        pool::check_assignable(&tx, &actor.principal, owner, "owner_id").await?;
    }
    if current.status == StageKind::Won.as_str() && patch.amount_minor.is_some_and(|a| a <= 0) {
        return Err(DomainError::field(
            "amount",
            "required",
            "a won opportunity keeps a positive amount",
        )
        .into());
    }
    let before = opp_snapshot(&current);
    let version = current.version;
    let mut am = current.into_active_model();
    if let Some(n) = patch.name {
        am.name_norm = Set(normalize_name(&n));
        am.name = Set(n);
    }
    if let Some(a) = patch.amount_minor {
        am.amount_minor = Set(a);
    }
    if let Some(c) = patch.currency {
        am.currency = Set(c);
    }
    if let Some(d) = patch.expected_close_date {
        am.expected_close_date = Set(d);
    }
    if let Some(o) = patch.owner_id {
        am.owner_id = Set(o);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "opportunity",
        id,
        Some(&before),
        Some(&opp_snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes an opportunity in the caller's scope.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let tx = db.begin_write().await?;
    let current = get_locked(&tx, &actor.principal.scope(), id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    opportunities::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "opportunity",
        id,
        Some(&opp_snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an opportunity to another stage: won needs a positive amount, lost a reason,
/// reopening a won or lost one a manager or admin. The move is recorded in its history
/// `(from, to, at, by)` and audited.
pub async fn move_stage(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    stage_id: Uuid,
    lost_reason: Option<String>,
    if_match: Option<i64>,
) -> Result<opportunities::Model> {
    let tx = db.begin_write().await?;
    let current = get_locked(&tx, &actor.principal.scope(), id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let target = pipeline_stages::Entity::find_by_id(stage_id)
        .one(&tx)
        .await?
        .ok_or_else(|| PersistenceError::Unprocessable {
            field: "stage_id".into(),
            message: "no such stage".into(),
        })?;
    let from = StageKind::parse(&current.status).unwrap_or(StageKind::Open);
    let to = kind_of(&target);
    check_move(
        &actor.principal,
        current.stage_id == stage_id,
        from,
        to,
        current.amount_minor,
        lost_reason.as_deref(),
    )?;
    let t = now();
    let before = opp_snapshot(&current);
    let from_stage = current.stage_id;
    let version = current.version;
    let mut am = current.into_active_model();
    am.stage_id = Set(stage_id);
    am.status = Set(to.as_str().to_owned());
    am.lost_reason = Set(if to == StageKind::Lost {
        lost_reason.map(|r| r.trim().to_owned())
    } else {
        None
    });
    am.closed_at = Set(if to == StageKind::Open { None } else { Some(t) });
    am.version = Set(version + 1);
    am.updated_at = Set(t);
    let m = am.update(&tx).await?;
    record_change(&tx, &m, Some(from_stage), actor.principal.user_id, t).await?;
    audit::record(
        &tx,
        actor,
        "stage",
        "opportunity",
        id,
        Some(&before),
        Some(&opp_snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// An opportunity's stage moves, oldest first.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<Vec<opportunity_stage_changes::Model>> {
    get(conn, scope, id).await?;
    Ok(opportunity_stage_changes::Entity::find()
        .filter(opportunity_stage_changes::Column::OpportunityId.eq(id))
        .order_by_asc(opportunity_stage_changes::Column::At)
        .order_by_asc(opportunity_stage_changes::Column::Id)
        .limit(10_000)
        .all(conn)
        .await?)
}

/// Whether `opportunity_id` is an opportunity of `customer_id` the caller may see.
pub(crate) async fn check_belongs<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    opportunity_id: Uuid,
    customer_id: Uuid,
) -> Result<()> {
    let found = opportunities::Entity::find_by_id(opportunity_id)
        .filter(readable(scope))
        .filter(opportunities::Column::CustomerId.eq(customer_id))
        .select_only()
        .column(opportunities::Column::Id)
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| PersistenceError::Unprocessable {
            field: "opportunity_id".into(),
            message: "no such opportunity of this customer".into(),
        })
}
