//! Merging duplicate customers into one, in one transaction: their records move over,
//! empty fields fill in, the merged customers go (with tombstones), and the audit says
//! what went where.

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::audit::AuditAction;
use sims_domain::customer::CustomerRecord;
use sims_domain::merge::{absorb, check_ids, surviving_primary};
use sims_domain::sync::DeletedEntity;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::customers::{apply_fields, lock_writable, record, to_domain, write_tags};
use crate::entities::{
    contacts, customer_events, customers, follow_ups, leads, opportunities,
    opportunity_stage_changes, orders, pool_cooldowns,
};
use crate::uow::{self, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, deletions, now};

/// Folds the customers `from_ids` into the customer `id` (managers and admins; the
/// caller checks the role). `id` outside the caller's scope is `NotFound`; an id of
/// `from_ids` that is not a customer the caller may change is unprocessable, naming it.
pub async fn merge(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    from_ids: &[Uuid],
    if_match: Option<i64>,
) -> Result<CustomerRecord> {
    check_ids(id, from_ids)?;
    db.write(async |tx| {
        let target = lock_writable(tx, actor, id, if_match).await?;
        let scope = actor.principal.scope();
        let mut merged = Vec::with_capacity(from_ids.len());
        for (i, from) in from_ids.iter().enumerate() {
            let field = || format!("from_ids[{i}]");
            let m = match lock_for_change::<customers::Entity, _>(tx, &scope, *from, None).await {
                Err(PersistenceError::NotFound) => {
                    return Err(PersistenceError::unusable(field(), "no such customer"));
                }
                other => other?,
            };
            if actor.principal.may_change_customer(m.owner_id).is_err() {
                return Err(PersistenceError::unusable(field(), "you may not change it"));
            }
            merged.push(m);
        }
        let before = to_domain(&target)?;
        let sources = merged.iter().map(to_domain).collect::<Result<Vec<_>>>()?;
        let after = absorb(before.clone(), &sources)?;

        let primary = primary_contacts(tx, id, from_ids).await?;
        let keep = surviving_primary(
            primary.iter().find(|(c, _)| *c == id).map(|(_, p)| *p),
            &from_ids
                .iter()
                .map(|f| primary.iter().find(|(c, _)| c == f).map(|(_, p)| *p))
                .collect::<Vec<_>>(),
        );
        let demoted: Vec<Uuid> = primary
            .iter()
            .map(|(_, p)| *p)
            .filter(|p| Some(*p) != keep)
            .collect();
        // Before the move: the customer's one primary contact is a unique index.
        if !demoted.is_empty() {
            contacts::Entity::update_many()
                .col_expr(contacts::Column::IsPrimary, Expr::val(false))
                .col_expr(contacts::Column::Version, bump(contacts::Column::Version))
                .col_expr(contacts::Column::UpdatedAt, Expr::val(now()))
                .filter(contacts::Column::Id.is_in(demoted))
                .exec(tx)
                .await?;
        }

        macro_rules! move_rows {
            ($table:ident) => {
                move_versioned::<$table::Entity, _>(
                    tx,
                    [
                        $table::Column::CustomerId,
                        $table::Column::Id,
                        $table::Column::Version,
                        $table::Column::UpdatedAt,
                    ],
                    from_ids,
                    id,
                )
                .await?
            };
        }
        let moved = json!({
            "contacts": move_rows!(contacts),
            "follow_ups": move_rows!(follow_ups),
            "opportunities": move_rows!(opportunities),
            "orders": move_rows!(orders),
            "leads": move_rows!(leads),
        });
        opportunity_stage_changes::Entity::update_many()
            .col_expr(opportunity_stage_changes::Column::CustomerId, Expr::val(id))
            .filter(opportunity_stage_changes::Column::CustomerId.is_in(from_ids.iter().copied()))
            .exec(tx)
            .await?;
        // Their ownership history moves over; a rep's cooldown on any of them holds on the
        // survivor (the latest of them), so a merge cannot lift it.
        customer_events::Entity::update_many()
            .col_expr(customer_events::Column::CustomerId, Expr::val(id))
            .filter(customer_events::Column::CustomerId.is_in(from_ids.iter().copied()))
            .exec(tx)
            .await?;
        let cooldowns = pool_cooldowns::Entity::find()
            .filter(
                pool_cooldowns::Column::CustomerId
                    .is_in(from_ids.iter().copied().chain(std::iter::once(id))),
            )
            .all(tx)
            .await?;
        if !cooldowns.is_empty() {
            let mut latest: std::collections::BTreeMap<Uuid, chrono::DateTime<chrono::Utc>> =
                std::collections::BTreeMap::new();
            for c in cooldowns {
                let until = latest.entry(c.user_id).or_insert(c.until);
                *until = std::cmp::max(*until, c.until);
            }
            pool_cooldowns::Entity::delete_many()
                .filter(pool_cooldowns::Column::CustomerId.eq(id))
                .exec(tx)
                .await?;
            pool_cooldowns::Entity::insert_many(latest.into_iter().map(|(user, until)| {
                pool_cooldowns::ActiveModel {
                    customer_id: Set(id),
                    user_id: Set(user),
                    until: Set(until),
                }
            }))
            .exec(tx)
            .await?;
        }
        let last_follow_up = merged
            .iter()
            .chain(std::iter::once(&target))
            .filter_map(|m| m.last_follow_up_at)
            .max();
        let next_follow_up = target
            .next_follow_up_at
            .or_else(|| merged.iter().find_map(|m| m.next_follow_up_at));
        let saved = uow::save_noting(
            tx,
            Some(actor),
            target,
            |am| {
                apply_fields(am, &after);
                am.last_follow_up_at = Set(last_follow_up);
                am.next_follow_up_at = Set(next_follow_up);
            },
            |change| {
                change
                    .recorded_as(AuditAction::Merge)
                    .noting("merged_from", json!(from_ids))
                    .noting("moved", moved)
            },
        )
        .await?;
        if after.tags != before.tags {
            write_tags(tx, id, &after.tags).await?;
        }

        let mut entries = Vec::with_capacity(merged.len());
        for m in &merged {
            entries.push(
                Change::deleted(m)
                    .recorded_as(AuditAction::Merge)
                    .noting("merged_into", json!(id))
                    .row(Some(actor), now()),
            );
        }
        customers::Entity::delete_many()
            .filter(customers::Column::Id.is_in(from_ids.iter().copied()))
            .exec(tx)
            .await?;
        crate::entities::deletions::Entity::insert_many(
            from_ids
                .iter()
                .map(|f| deletions::row(DeletedEntity::Customer, *f)),
        )
        .exec(tx)
        .await?;
        audit::record_all(tx, entries).await?;
        crate::webhooks::emit(
            tx,
            sims_domain::webhook::EventType::CustomerMerged,
            &record(saved.clone())?,
        )
        .await?;
        Ok(saved)
    })
    .await
    .and_then(record)
}

/// `(customer, contact)` for each primary contact of these customers.
async fn primary_contacts<C: ConnectionTrait>(
    tx: &C,
    target: Uuid,
    from_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(contacts::Entity::find()
        .select_only()
        .column(contacts::Column::CustomerId)
        .column(contacts::Column::Id)
        .filter(
            contacts::Column::CustomerId
                .is_in(from_ids.iter().copied().chain(std::iter::once(target))),
        )
        .filter(contacts::Column::IsPrimary.eq(true))
        .into_tuple()
        .all(tx)
        .await?)
}

fn bump(version: impl ColumnTrait) -> SimpleExpr {
    Expr::col(version).add(1)
}

/// Moves the rows of a versioned table (its customer, id, version and `updated_at`
/// columns) from the customers `from_ids` to `to`, each to its next version (so that a client syncing by `updated_after` sees the move), and
/// returns their ids.
async fn move_versioned<E, C>(
    tx: &C,
    [customer, id, version, updated_at]: [E::Column; 4],
    from_ids: &[Uuid],
    to: Uuid,
) -> Result<Vec<Uuid>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let ids: Vec<Uuid> = E::find()
        .select_only()
        .column(id)
        .filter(customer.is_in(from_ids.iter().copied()))
        .into_tuple()
        .all(tx)
        .await?;
    if !ids.is_empty() {
        E::update_many()
            .col_expr(customer, Expr::val(to))
            .col_expr(version, bump(version))
            .col_expr(updated_at, Expr::val(now()))
            .filter(customer.is_in(from_ids.iter().copied()))
            .exec(tx)
            .await?;
    }
    Ok(ids)
}
