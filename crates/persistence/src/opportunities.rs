//! Opportunities (商机): owned like orders (no pool), moved between stages with a history.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::money::Money;
use sims_domain::pipeline::{OpportunityRecord, StageKind, StageMove, check_amount, check_move};
use sims_domain::values::normalize_name;
use sims_domain::webhook::EventType;
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{opportunities, opportunity_stage_changes};
use crate::listing::{ListRequest, Page, SortColumn, contains, fetch_page};
use crate::records::stored;
use crate::scope::{Pool, owned_by};
use crate::stages::{self, kind_of};
use crate::uow::{self, Scoped, find_in_scope, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, customers, now, pool};

/// A stored opportunity, as sent.
fn record(m: opportunities::Model) -> Result<OpportunityRecord> {
    Ok(OpportunityRecord {
        status: stored("opportunities", "status", &m.status)?,
        amount: Money::from_minor(m.amount_minor),
        id: m.id,
        customer_id: m.customer_id,
        name: m.name,
        currency: m.currency,
        stage_id: m.stage_id,
        expected_close_date: m.expected_close_date,
        owner_id: m.owner_id,
        lost_reason: m.lost_reason,
        closed_at: m.closed_at,
        created_by: m.created_by,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// A stored stage move, as sent.
pub(crate) fn stage_move(m: opportunity_stage_changes::Model) -> StageMove {
    StageMove {
        id: m.id,
        opportunity_id: m.opportunity_id,
        from_stage_id: m.from_stage_id,
        to_stage_id: m.to_stage_id,
        at: m.at,
        by: m.by_user_id,
    }
}

impl Audited for opportunities::Model {
    const ENTITY: AuditEntity = AuditEntity::Opportunity;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({
            "customer_id": self.customer_id, "name": self.name, "amount_minor": self.amount_minor,
            "currency": self.currency, "stage_id": self.stage_id, "status": self.status,
            "expected_close_date": self.expected_close_date, "owner_id": self.owner_id,
            "lost_reason": self.lost_reason,
        })
    }
}

impl Scoped for opportunities::Entity {
    fn in_scope(scope: &Scope) -> Condition {
        owned_by(scope, opportunities::Column::OwnerId, Pool::Excluded)
    }
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

async fn record_move<C: ConnectionTrait>(
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
) -> Result<OpportunityRecord> {
    db.write(async |tx| {
        customers::lock_writable(tx, actor, new.customer_id, None)
            .await
            .map_err(customers::named_in_body("customer_id"))?;
        create_in(tx, actor, new.clone()).await
    })
    .await
    .and_then(record)
}

/// Creates an opportunity on a customer the caller locked, inside the caller's transaction.
pub(crate) async fn create_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    new: NewOpportunity,
) -> Result<opportunities::Model> {
    if new.owner_id != actor.principal.user_id {
        pool::check_assignable(tx, &actor.principal, new.owner_id, "owner_id").await?;
    }
    let stage = match new.stage_id {
        Some(id) => stages::find(tx, id)
            .await?
            .ok_or_else(|| PersistenceError::unusable("stage_id", "no such stage"))?,
        None => stages::first_open(tx).await?,
    };
    if kind_of(&stage)? != StageKind::Open {
        return Err(PersistenceError::unusable(
            "stage_id",
            "a new opportunity starts in an open stage; move it to won or lost afterwards",
        ));
    }
    let t = now();
    let m = uow::insert(
        tx,
        Some(actor),
        opportunities::ActiveModel {
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
        },
    )
    .await?;
    record_move(tx, &m, None, actor.principal.user_id, t).await?;
    Ok(m)
}

/// One opportunity in the caller's scope.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<OpportunityRecord> {
    find_in_scope::<opportunities::Entity, _>(conn, scope, id)
        .await
        .and_then(record)
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

const SORT_COLUMNS: [SortColumn<opportunities::Model, opportunities::Column>; 4] = [
    SortColumn::at("created_at", opportunities::Column::CreatedAt, |m| {
        m.created_at
    }),
    SortColumn::at("updated_at", opportunities::Column::UpdatedAt, |m| {
        m.updated_at
    }),
    SortColumn::text("name", opportunities::Column::Name, |m| m.name.clone()),
    SortColumn::integer("amount", opportunities::Column::AmountMinor, |m| {
        m.amount_minor
    }),
];

/// A page of the opportunities the caller may see.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OpportunityFilter,
    req: &ListRequest,
) -> Result<Page<OpportunityRecord>> {
    let mut q = opportunities::Entity::find().filter(opportunities::Entity::in_scope(scope));
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
    fetch_page(conn, q, req, &SORT_COLUMNS)
        .await?
        .try_map(record)
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
) -> Result<OpportunityRecord> {
    db.write(async |tx| {
        let current =
            lock_for_change::<opportunities::Entity, _>(tx, &actor.principal.scope(), id, if_match)
                .await?;
        if let Some(owner) = patch.owner_id
            && owner != current.owner_id
        {
            actor.principal.require_manager()?;
            pool::check_assignable(tx, &actor.principal, owner, "owner_id").await?;
        }
        if let Some(a) = patch.amount_minor {
            check_amount(stored("opportunities", "status", &current.status)?, a)?;
        }
        let patch = patch.clone();
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
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
        })
        .await
    })
    .await
    .and_then(record)
}

/// Deletes an opportunity in the caller's scope.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current =
            lock_for_change::<opportunities::Entity, _>(tx, &actor.principal.scope(), id, if_match)
                .await?;
        uow::remove(tx, actor, current).await
    })
    .await
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
) -> Result<OpportunityRecord> {
    db.write(async |tx| {
        let current =
            lock_for_change::<opportunities::Entity, _>(tx, &actor.principal.scope(), id, if_match)
                .await?;
        let target = stages::find(tx, stage_id)
            .await?
            .ok_or_else(|| PersistenceError::unusable("stage_id", "no such stage"))?;
        let to = kind_of(&target)?;
        check_move(
            &actor.principal,
            current.stage_id == stage_id,
            stored("opportunities", "status", &current.status)?,
            to,
            current.amount_minor,
            lost_reason.as_deref(),
        )?;
        let t = now();
        let from_stage = current.stage_id;
        let reason = lost_reason.clone();
        let m = uow::save(tx, Some(actor), AuditAction::Stage, current, |am| {
            am.stage_id = Set(stage_id);
            am.status = Set(to.as_str().to_owned());
            am.lost_reason = Set(if to == StageKind::Lost {
                reason.map(|r| r.trim().to_owned())
            } else {
                None
            });
            am.closed_at = Set(if to == StageKind::Open { None } else { Some(t) });
        })
        .await?;
        record_move(
            tx,
            &m,
            Some(from_stage),
            actor.principal.user_id,
            m.updated_at,
        )
        .await?;
        let sent = record(m.clone())?;
        crate::webhooks::emit(tx, EventType::OpportunityStageChanged, &sent).await?;
        match to {
            StageKind::Won => crate::webhooks::emit(tx, EventType::OpportunityWon, &sent).await?,
            StageKind::Lost => crate::webhooks::emit(tx, EventType::OpportunityLost, &sent).await?,
            StageKind::Open => {}
        }
        Ok(m)
    })
    .await
    .and_then(record)
}

/// An opportunity's stage moves, oldest first.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<Vec<StageMove>> {
    get(conn, scope, id).await?;
    Ok(opportunity_stage_changes::Entity::find()
        .filter(opportunity_stage_changes::Column::OpportunityId.eq(id))
        .order_by_asc(opportunity_stage_changes::Column::At)
        .order_by_asc(opportunity_stage_changes::Column::Id)
        .limit(10_000)
        .all(conn)
        .await?
        .into_iter()
        .map(stage_move)
        .collect())
}

/// Whether `opportunity_id` is an opportunity of `customer_id` the caller may see.
pub(crate) async fn check_belongs<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    opportunity_id: Uuid,
    customer_id: Uuid,
) -> Result<()> {
    let found = opportunities::Entity::find_by_id(opportunity_id)
        .filter(opportunities::Entity::in_scope(scope))
        .filter(opportunities::Column::CustomerId.eq(customer_id))
        .select_only()
        .column(opportunities::Column::Id)
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    found.map(|_| ()).ok_or_else(|| {
        PersistenceError::unusable("opportunity_id", "no such opportunity of this customer")
    })
}
