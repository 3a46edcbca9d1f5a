//! The customer pool (公海): claim, release, transfer, the return job and its warning list,
//! and the admin-editable rules. Every ownership change is recorded as a customer event.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::pool::{OwnershipChange, PoolRules};
use sims_domain::{Principal, Refusal, Scope};
use uuid::Uuid;

use crate::audit::{self, Change};
use sims_domain::customer::CustomerRecord;

use crate::customers::record;
use crate::entities::{customer_events, customers, job_leases, pool_cooldowns, settings, users};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::stored;
use crate::scope::{Pool, owned_by};
use crate::{Actor, Database, PersistenceError, Result, customers as customer_repo};

const RULES_KEY: &str = "pool";

/// One ownership change of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipEvent {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub change: OwnershipChange,
    pub from_owner_id: Option<Uuid>,
    pub to_owner_id: Option<Uuid>,
    /// `None` when the pool-return job acted.
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl TryFrom<customer_events::Model> for OwnershipEvent {
    type Error = PersistenceError;

    fn try_from(m: customer_events::Model) -> Result<Self> {
        Ok(Self {
            change: stored("customer_events", "kind", &m.kind)?,
            id: m.id,
            customer_id: m.customer_id,
            from_owner_id: m.from_owner_id,
            to_owner_id: m.to_owner_id,
            actor_id: m.actor_id,
            at: m.at,
        })
    }
}

fn parse_rules(row: &settings::Model) -> Result<PoolRules> {
    serde_json::from_str(&row.value).map_err(|_| PersistenceError::Corrupt {
        table: "settings",
        column: "value",
        value: row.value.clone(),
    })
}

/// The pool rules in force: the stored ones, else `defaults` (from the configuration),
/// with the version admins send back in `If-Match`.
pub async fn rules<C: ConnectionTrait>(conn: &C, defaults: PoolRules) -> Result<(PoolRules, i64)> {
    match settings::Entity::find_by_id(RULES_KEY.to_owned())
        .one(conn)
        .await?
    {
        Some(row) => Ok((parse_rules(&row)?, row.version)),
        None => Ok((defaults, 0)),
    }
}

/// Stores new pool rules (admins only; the caller checks).
pub async fn set_rules(
    db: &Database,
    actor: &Actor,
    defaults: PoolRules,
    new: PoolRules,
    if_match: Option<i64>,
) -> Result<(PoolRules, i64)> {
    new.validate()?;
    db.write(async |tx| {
        let current = settings::Entity::find_by_id(RULES_KEY.to_owned())
            .lock_exclusive()
            .one(tx)
            .await?;
        let (before, version) = match &current {
            Some(row) => (parse_rules(row)?, row.version),
            None => (defaults, 0),
        };
        if if_match.is_some_and(|v| v != version) {
            return Err(PersistenceError::VersionMismatch);
        }
        let row = settings::ActiveModel {
            key: Set(RULES_KEY.to_owned()),
            value: Set(json!(new).to_string()),
            version: Set(version + 1),
            updated_at: Set(crate::now()),
        };
        if current.is_some() {
            row.update(tx).await?;
        } else {
            row.insert(tx).await?;
        }
        let change = Change::of(AuditEntity::PoolSettings, Uuid::nil(), AuditAction::Update)
            .before(json!(before))
            .after(json!(new));
        audit::record(tx, Some(actor), change).await?;
        Ok((new, version + 1))
    })
    .await
}

async fn record_event<C: ConnectionTrait>(
    conn: &C,
    customer_id: Uuid,
    change: OwnershipChange,
    (from, to): (Option<Uuid>, Option<Uuid>),
    actor: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    event_row(customer_id, change, (from, to), actor, at)
        .insert(conn)
        .await?;
    Ok(())
}

/// The row of an ownership change.
pub(crate) fn event_row(
    customer_id: Uuid,
    change: OwnershipChange,
    (from, to): (Option<Uuid>, Option<Uuid>),
    actor: Option<Uuid>,
    at: DateTime<Utc>,
) -> customer_events::ActiveModel {
    customer_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        kind: Set(change.as_str().to_owned()),
        from_owner_id: Set(from),
        to_owner_id: Set(to),
        actor_id: Set(actor),
        at: Set(at),
    }
}

/// Records that a new customer got its first owner (or went straight to the pool).
pub(crate) async fn record_created<C: ConnectionTrait>(
    conn: &C,
    customer_id: Uuid,
    owner: Option<Uuid>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    record_event(
        conn,
        customer_id,
        OwnershipChange::Created,
        (None, owner),
        Some(actor),
        at,
    )
    .await
}

async fn start_cooldown<C: ConnectionTrait>(
    conn: &C,
    customer_id: Uuid,
    user_id: Uuid,
    until: DateTime<Utc>,
) -> Result<()> {
    pool_cooldowns::Entity::insert(pool_cooldowns::ActiveModel {
        customer_id: Set(customer_id),
        user_id: Set(user_id),
        until: Set(until),
    })
    .on_conflict(
        OnConflict::columns([
            pool_cooldowns::Column::CustomerId,
            pool_cooldowns::Column::UserId,
        ])
        .update_column(pool_cooldowns::Column::Until)
        .to_owned(),
    )
    .exec(conn)
    .await?;
    Ok(())
}

/// Moves a customer (locked by the caller) to `owner`, writes its event and audit entry,
/// and returns it as stored now.
async fn move_to<C: ConnectionTrait>(
    conn: &C,
    actor: Option<&Actor>,
    current: &customers::Model,
    (change, action): (OwnershipChange, AuditAction),
    owner: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<customers::Model> {
    let result = customers::Entity::update_many()
        .col_expr(customers::Column::OwnerId, Expr::val(owner))
        .col_expr(customers::Column::OwnerSince, Expr::val(owner.map(|_| at)))
        .col_expr(
            customers::Column::Version,
            Expr::col(customers::Column::Version).add(1),
        )
        .col_expr(customers::Column::UpdatedAt, Expr::val(at))
        .filter(customers::Column::Id.eq(current.id))
        .filter(customers::Column::Version.eq(current.version))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(PersistenceError::Conflict(
            "the customer changed at the same time; retry".into(),
        ));
    }
    record_event(
        conn,
        current.id,
        change,
        (current.owner_id, owner),
        actor.map(|a| a.principal.user_id),
        at,
    )
    .await?;
    let audit = Change::of(AuditEntity::Customer, current.id, action)
        .before(json!({"owner_id": current.owner_id}))
        .after(json!({"owner_id": owner}));
    audit::record(conn, actor, audit).await?;
    let moved = customers::Entity::find_by_id(current.id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    crate::webhooks::emit(
        conn,
        sims_domain::webhook::EventType::CustomerOwnerChanged,
        &crate::customers::record(moved.clone())?,
    )
    .await?;
    Ok(moved)
}

/// Makes the caller the owner of a pool customer. Race-safe: of two reps claiming the
/// same customer at once, exactly one succeeds. A claim of a customer the caller already
/// owns succeeds without change; of one someone else owns, `not_in_pool` (even when the
/// caller cannot see it: they saw it in the pool a moment ago).
pub async fn claim(
    db: &Database,
    actor: &Actor,
    defaults: PoolRules,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<CustomerRecord> {
    let me = actor.principal.user_id;
    db.write(async |tx| {
        // Serialises one rep's claims, so that the ownership limit holds under concurrency.
        users::Entity::find_by_id(me)
            .lock_exclusive()
            .one(tx)
            .await?;
        let current = customers::Entity::find_by_id(id)
            .lock_exclusive()
            .one(tx)
            .await?
            .ok_or(PersistenceError::NotFound)?;
        match current.owner_id {
            Some(owner) if owner == me => return Ok(current),
            Some(_) => return Err(Refusal::NotInPool.into()),
            None => {}
        }
        let (rules, _) = rules(tx, defaults).await?;
        let cooldown = pool_cooldowns::Entity::find_by_id((id, me))
            .one(tx)
            .await?
            .map(|c| c.until);
        let owned = customers::Entity::find()
            .filter(customers::Column::OwnerId.eq(me))
            .count(tx)
            .await?;
        rules.check_claim(cooldown, owned, now)?;
        move_to(
            tx,
            Some(actor),
            &current,
            (OwnershipChange::Claimed, AuditAction::Claim),
            Some(me),
            now,
        )
        .await
    })
    .await
    .and_then(record)
}

/// Returns an owned customer to the pool. The previous owner may not claim it back for
/// `reclaim_cooldown_days`.
pub async fn release(
    db: &Database,
    actor: &Actor,
    defaults: PoolRules,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<CustomerRecord> {
    db.write(async |tx| {
        let current = customer_repo::lock_writable(tx, actor, id, None).await?;
        let Some(owner) = current.owner_id else {
            return Err(Refusal::NotOwned.into());
        };
        let (rules, _) = rules(tx, defaults).await?;
        start_cooldown(tx, id, owner, rules.cooldown_until(now)).await?;
        move_to(
            tx,
            Some(actor),
            &current,
            (OwnershipChange::Released, AuditAction::Release),
            None,
            now,
        )
        .await
    })
    .await
    .and_then(record)
}

/// Whether `principal` may give records to `user`: an active user, within a manager's
/// teams. Otherwise a `422` naming `field`.
pub(crate) async fn check_assignable<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    user: Uuid,
    field: &str,
) -> Result<()> {
    let target = users::Entity::find_by_id(user).one(conn).await?;
    let Some(target) = target.filter(|u| u.active) else {
        return Err(PersistenceError::unusable(field, "no such active user"));
    };
    if principal.may_give_to(target.id, target.team_id) {
        Ok(())
    } else {
        Err(PersistenceError::unusable(
            field,
            "that user is outside your teams",
        ))
    }
}

/// Gives a customer to `owner_id` (managers within their teams, admins anyone; the
/// caller checks the role).
pub async fn transfer(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    owner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<CustomerRecord> {
    db.write(async |tx| {
        let current = customer_repo::lock_writable(tx, actor, id, None).await?;
        check_assignable(tx, &actor.principal, owner_id, "owner_id").await?;
        if current.owner_id == Some(owner_id) {
            return Ok(current);
        }
        move_to(
            tx,
            Some(actor),
            &current,
            (OwnershipChange::Transferred, AuditAction::Transfer),
            Some(owner_id),
            now,
        )
        .await
    })
    .await
    .and_then(record)
}

fn due_before(cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(customers::Column::OwnerId.is_not_null())
        .add(customers::Column::OwnerSince.lt(cutoff))
        .add(
            Condition::any()
                .add(customers::Column::LastFollowUpAt.is_null())
                .add(customers::Column::LastFollowUpAt.lt(cutoff)),
        )
}

/// Returns to the pool every customer with no follow-up for `return_after_days`, as of
/// `now`. Each return is its own transaction with its event, cooldown and audit entry.
/// Returns how many customers went back.
pub async fn return_due(db: &Database, defaults: PoolRules, now: DateTime<Utc>) -> Result<u64> {
    let (rules, _) = rules(db.conn(), defaults).await?;
    let cutoff = rules.return_cutoff(now);
    let mut returned = 0;
    loop {
        let batch: Vec<Uuid> = customers::Entity::find()
            .select_only()
            .column(customers::Column::Id)
            .filter(due_before(cutoff))
            .order_by_asc(customers::Column::Id)
            .limit(200)
            .into_tuple()
            .all(db.conn())
            .await?;
        if batch.is_empty() {
            break;
        }
        let mut progressed = false;
        for id in batch {
            let moved = db
                .write(async |tx| {
                    let Some(current) = customers::Entity::find_by_id(id)
                        .filter(due_before(cutoff))
                        .lock_exclusive()
                        .one(tx)
                        .await?
                    else {
                        return Ok(false);
                    };
                    if let Some(owner) = current.owner_id {
                        start_cooldown(tx, id, owner, rules.cooldown_until(now)).await?;
                    }
                    move_to(
                        tx,
                        None,
                        &current,
                        (OwnershipChange::ReturnedToPool, AuditAction::ReturnToPool),
                        None,
                        now,
                    )
                    .await?;
                    Ok(true)
                })
                .await?;
            if moved {
                returned += 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(returned)
}

/// Owned customers in `scope` that the return job will take back within `within_days`,
/// with the moment each returns.
pub async fn returning<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    defaults: PoolRules,
    within_days: u32,
    now: DateTime<Utc>,
    req: &ListRequest,
) -> Result<Page<(CustomerRecord, DateTime<Utc>)>> {
    let (rules, _) = rules(conn, defaults).await?;
    let cutoff = rules.return_cutoff(now + Duration::days(i64::from(within_days)));
    let q = customers::Entity::find()
        .filter(owned_by(scope, customers::Column::OwnerId, Pool::Excluded))
        .filter(due_before(cutoff));
    let cols: [SortColumn<customers::Model, _>; 1] = [SortColumn::at(
        "created_at",
        customers::Column::CreatedAt,
        |m| m.created_at,
    )];
    fetch_page(conn, q, req, &cols).await?.try_map(|m| {
        let at = rules.returns_at(m.owner_since.unwrap_or(m.created_at), m.last_follow_up_at);
        record(m).map(|r| (r, at))
    })
}

/// Takes (or renews) the lease on a background job for `ttl`. Exactly one holder has a
/// live lease at a time, across every instance sharing the database.
pub async fn take_lease(
    db: &Database,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool> {
    db.write(async |tx| {
        let current = job_leases::Entity::find_by_id(name.to_owned())
            .lock_exclusive()
            .one(tx)
            .await?;
        let row = job_leases::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            until: Set(now + ttl),
        };
        Ok(match current {
            Some(lease) if lease.holder != holder && lease.until > now => false,
            Some(_) => {
                row.update(tx).await?;
                true
            }
            None => {
                row.insert(tx).await?;
                true
            }
        })
    })
    .await
}
