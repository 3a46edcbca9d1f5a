//! The customer pool (公海): claim, release, transfer, the return job and its warning list,
//! and the admin-editable rules. Every ownership change is recorded as a customer event.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::pool::PoolRules;
use sims_domain::{DomainError, Principal, Role, Scope};
use uuid::Uuid;

use crate::entities::{customer_events, customers, job_leases, pool_cooldowns, settings, users};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::scope::{Pool, owned_by};
use crate::{Actor, Database, PersistenceError, Result, audit, customers as customer_repo};

const RULES_KEY: &str = "pool";

/// The pool rules in force: the stored ones, else `defaults` (from the configuration),
/// with the version admins send back in `If-Match`.
pub async fn rules<C: ConnectionTrait>(conn: &C, defaults: PoolRules) -> Result<(PoolRules, i64)> {
    match settings::Entity::find_by_id(RULES_KEY.to_owned())
        .one(conn)
        .await?
    {
        Some(row) => Ok((
            serde_json::from_str(&row.value).unwrap_or(defaults),
            row.version,
        )),
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
    let tx = db.begin_write().await?;
    let current = settings::Entity::find_by_id(RULES_KEY.to_owned())
        .lock_exclusive()
        .one(&tx)
        .await?;
    let (before, version) = match &current {
        Some(row) => (
            serde_json::from_str(&row.value).unwrap_or(defaults),
            row.version,
        ),
        None => (defaults, 0),
    };
    if if_match.is_some_and(|v| v != version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let value = serde_json::to_string(&new).unwrap_or_default();
    let am = settings::ActiveModel {
        key: Set(RULES_KEY.to_owned()),
        value: Set(value),
        version: Set(version + 1),
        updated_at: Set(crate::now()),
    };
    if current.is_some() {
        am.update(&tx).await?;
    } else {
        am.insert(&tx).await?;
    }
    let id = Uuid::nil();
    audit::record(
        &tx,
        actor,
        "update",
        "pool_settings",
        id,
        Some(&json!(before)),
        Some(&json!(new)),
    )
    .await?;
    tx.commit().await?;
    Ok((new, version + 1))
}

async fn record_event<C: ConnectionTrait>(
    conn: &C,
    customer_id: Uuid,
    kind: &str,
    from: Option<Uuid>,
    to: Option<Uuid>,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    customer_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        kind: Set(kind.to_owned()),
        from_owner_id: Set(from),
        to_owner_id: Set(to),
        actor_id: Set(actor),
        at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Records that a new customer got its first owner (or went straight to the pool).
pub(crate) async fn record_created<C: ConnectionTrait>(
    conn: &C,
    customer_id: Uuid,
    owner: Option<Uuid>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    record_event(conn, customer_id, "created", None, owner, Some(actor), at).await
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

async fn set_owner<C: ConnectionTrait>(
    conn: &C,
    current: &customers::Model,
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
    customers::Entity::find_by_id(current.id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

fn owner_snapshot(owner: Option<Uuid>) -> serde_json::Value {
    json!({"owner_id": owner})
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
) -> Result<customers::Model> {
    let me = actor.principal.user_id;
    let tx = db.begin_write().await?;
    // Serialises one rep's claims, so that the ownership limit holds under concurrency.
    users::Entity::find_by_id(me)
        .lock_exclusive()
        .one(&tx)
        .await?;
    let current = customers::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    match current.owner_id {
        Some(owner) if owner == me => return Ok(current),
        Some(_) => {
            return Err(DomainError::refused(
                "not_in_pool",
                "the customer is no longer in the pool",
            )
            .into());
        }
        None => {}
    }
    let (rules, _) = rules(&tx, defaults).await?;
    if let Some(cooldown) = pool_cooldowns::Entity::find_by_id((id, me))
        .one(&tx)
        .await?
        && cooldown.until > now
    {
        return Err(DomainError::refused(
            "claim_cooldown",
            format!(
                "you released or lost this customer; you may claim it again after {}",
                cooldown.until.to_rfc3339()
            ),
        )
        .into());
    }
    let owned = customers::Entity::find()
        .filter(customers::Column::OwnerId.eq(me))
        .count(&tx)
        .await?;
    if owned >= u64::from(rules.max_owned_per_rep) {
        return Err(DomainError::refused(
            "owned_limit_reached",
            format!(
                "you already own {owned} customers, the most allowed ({})",
                rules.max_owned_per_rep
            ),
        )
        .into());
    }
    let m = set_owner(&tx, &current, Some(me), now).await?;
    record_event(&tx, id, "claimed", None, Some(me), Some(me), now).await?;
    audit::record(
        &tx,
        actor,
        "claim",
        "customer",
        id,
        Some(&owner_snapshot(None)),
        Some(&owner_snapshot(Some(me))),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Returns an owned customer to the pool. The previous owner may not claim it back for
/// `reclaim_cooldown_days`.
pub async fn release(
    db: &Database,
    actor: &Actor,
    defaults: PoolRules,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<customers::Model> {
    let tx = db.begin_write().await?;
    let current = customer_repo::get_writable(&tx, actor, id).await?;
    let Some(owner) = current.owner_id else {
        return Err(
            DomainError::refused("not_owned", "the customer is already in the pool").into(),
        );
    };
    let (rules, _) = rules(&tx, defaults).await?;
    let m = set_owner(&tx, &current, None, now).await?;
    start_cooldown(&tx, id, owner, rules.cooldown_until(now)).await?;
    record_event(
        &tx,
        id,
        "released",
        Some(owner),
        None,
        Some(actor.principal.user_id),
        now,
    )
    .await?;
    audit::record(
        &tx,
        actor,
        "release",
        "customer",
        id,
        Some(&owner_snapshot(Some(owner))),
        Some(&owner_snapshot(None)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Whether `principal` may give records to `user` (a manager: within their teams).
pub(crate) async fn check_assignable<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    user: Uuid,
    field: &str,
) -> Result<()> {
    let target = users::Entity::find_by_id(user).one(conn).await?;
    let Some(target) = target.filter(|u| u.active) else {
        return Err(PersistenceError::Unprocessable {
            field: field.into(),
            message: "no such active user".into(),
        });
    };
    let allowed = match principal.role {
        Role::Admin => true,
        Role::Manager => {
            target.id == principal.user_id
                || target
                    .team_id
                    .is_some_and(|t| principal.managed_teams.contains(&t))
        }
        Role::Sales => target.id == principal.user_id,
    };
    if allowed {
        Ok(())
    } else {
        Err(PersistenceError::Unprocessable {
            field: field.into(),
            message: "that user is outside your teams".into(),
        })
    }
}

/// Gives a customer to `owner_id` (managers within their teams, admins anyone).
pub async fn transfer(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    owner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<customers::Model> {
    actor.principal.require_manager()?;
    let tx = db.begin_write().await?;
    let current = customer_repo::get_writable(&tx, actor, id).await?;
    check_assignable(&tx, &actor.principal, owner_id, "owner_id").await?;
    if current.owner_id == Some(owner_id) {
        return Ok(current);
    }
    let m = set_owner(&tx, &current, Some(owner_id), now).await?;
    record_event(
        &tx,
        id,
        "transferred",
        current.owner_id,
        Some(owner_id),
        Some(actor.principal.user_id),
        now,
    )
    .await?;
    audit::record(
        &tx,
        actor,
        "transfer",
        "customer",
        id,
        Some(&owner_snapshot(current.owner_id)),
        Some(&owner_snapshot(Some(owner_id))),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
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
            let tx = db.begin_write().await?;
            let Some(current) = customers::Entity::find_by_id(id)
                .filter(due_before(cutoff))
                .lock_exclusive()
                .one(&tx)
                .await?
            else {
                continue;
            };
            let owner = current.owner_id;
            set_owner(&tx, &current, None, now).await?;
            if let Some(o) = owner {
                start_cooldown(&tx, id, o, rules.cooldown_until(now)).await?;
            }
            record_event(&tx, id, "returned_to_pool", owner, None, None, now).await?;
            audit::record_system(
                &tx,
                "return_to_pool",
                "customer",
                id,
                Some(&owner_snapshot(owner)),
                Some(&owner_snapshot(None)),
            )
            .await?;
            tx.commit().await?;
            returned += 1;
            progressed = true;
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
) -> Result<Page<(customers::Model, DateTime<Utc>)>> {
    let (rules, _) = rules(conn, defaults).await?;
    let cutoff = rules.return_cutoff(now + Duration::days(i64::from(within_days)));
    let q = customers::Entity::find()
        .filter(owned_by(scope, customers::Column::OwnerId, Pool::Excluded))
        .filter(due_before(cutoff));
    let cols = [SortColumn {
        field: "created_at",
        column: customers::Column::CreatedAt,
        kind: SortValue::Timestamp,
    }];
    let page = fetch_page(
        conn,
        q,
        req,
        &cols,
        customers::Column::Id,
        |m, _| CursorValue::Timestamp(m.created_at),
        |m| m.id,
    )
    .await?;
    Ok(page.map(|m| {
        let at = rules.returns_at(m.owner_since.unwrap_or(m.created_at), m.last_follow_up_at);
        (m, at)
    }))
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
    let tx = db.begin_write().await?;
    let current = job_leases::Entity::find_by_id(name.to_owned())
        .lock_exclusive()
        .one(&tx)
        .await?;
    let am = job_leases::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(holder.to_owned()),
        until: Set(now + ttl),
    };
    let taken = match current {
        Some(lease) if lease.holder != holder && lease.until > now => false,
        Some(_) => {
            am.update(&tx).await?;
            true
        }
        None => am.insert(&tx).await.is_ok(),
    };
    tx.commit().await?;
    Ok(taken)
}
