//! The unit of work: every write runs in one transaction opened here, retried when the
//! database reports contention, and changes records through the same few steps — lock
//! the record in scope, check `If-Match`, write the next version, audit it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, Condition, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, ModelTrait, PrimaryKeyTrait, QueryFilter, QuerySelect, Set,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sims_domain::Scope;
use sims_domain::audit::AuditAction;
use uuid::Uuid;

use crate::audit::{self, Audited, Change};
use crate::entities;
use crate::{Actor, Database, PersistenceError, Result, now};

/// How many times a transaction runs before contention is answered as a conflict.
const ATTEMPTS: u32 = 4;

impl Database {
    /// Runs `work` in a write transaction and commits it. On SQLite the transaction
    /// takes the write lock at once (`BEGIN IMMEDIATE`), so that writers queue on the busy
    /// timeout instead of failing when they upgrade from reading to writing. A lock,
    /// deadlock or serialization failure runs `work` again (up to four times in all, with
    /// a short pause); after that it is a [`PersistenceError::Conflict`]. Any other error
    /// rolls everything back.
    pub async fn write<T>(
        &self,
        mut work: impl AsyncFnMut(&DatabaseTransaction) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&mut work).await;
            match outcome {
                Err(PersistenceError::Contention(e)) if attempt < ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "write transaction contended; retrying");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                Err(PersistenceError::Contention(e)) => {
                    tracing::warn!(error = %e, "write transaction contended on every attempt");
                    return Err(PersistenceError::Conflict(
                        "the record is being changed by someone else; retry".into(),
                    ));
                }
                other => return other,
            }
        }
    }

    /// [`Database::write`] for a change of users or teams: once it has committed (or
    /// failed), every remembered session is forgotten, before the caller answers.
    pub(crate) async fn write_people<T>(
        &self,
        work: impl AsyncFnMut(&DatabaseTransaction) -> Result<T>,
    ) -> Result<T> {
        let outcome = self.write(work).await;
        self.principals().changed();
        outcome
    }

    async fn attempt<T>(
        &self,
        work: &mut impl AsyncFnMut(&DatabaseTransaction) -> Result<T>,
    ) -> Result<T> {
        let tx = self
            .conn()
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        match work(&tx).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }
}

/// A stored record with an optimistic-locking version.
pub(crate) trait Versioned {
    fn version(&self) -> i64;
}

/// An active model whose version and `updated_at` move on each change.
pub(crate) trait Touch {
    /// Sets the version after `version` and the change time.
    fn touch(&mut self, version: i64, at: DateTime<Utc>);
}

/// An entity whose reads and writes are limited to the caller's scope.
pub(crate) trait Scoped: EntityTrait {
    /// The condition admitting exactly the rows `scope` covers.
    fn in_scope(scope: &Scope) -> Condition;
}

macro_rules! versioned {
    ($($entity:ident),+ $(,)?) => {
        $(
            impl Versioned for entities::$entity::Model {
                fn version(&self) -> i64 {
                    self.version
                }
            }
            impl Touch for entities::$entity::ActiveModel {
                fn touch(&mut self, version: i64, at: DateTime<Utc>) {
                    self.version = Set(version + 1);
                    self.updated_at = Set(at);
                }
            }
        )+
    };
}

versioned!(
    customers,
    contacts,
    follow_ups,
    leads,
    opportunities,
    pipeline_stages,
    orders,
    products,
    warehouses,
    users,
    teams,
    targets,
);

macro_rules! unscoped {
    ($($entity:ident),+ $(,)?) => {
        $(
            impl Scoped for entities::$entity::Entity {
                fn in_scope(_: &Scope) -> Condition {
                    Condition::all()
                }
            }
        )+
    };
}

// Shared by every role; who may change them is a role rule, not a scope.
unscoped!(pipeline_stages, products, warehouses, users, teams);

/// Refuses a stale `If-Match`.
pub(crate) fn check_version(current: &impl Versioned, if_match: Option<i64>) -> Result<()> {
    match if_match {
        Some(v) if v != current.version() => Err(PersistenceError::VersionMismatch),
        _ => Ok(()),
    }
}

/// The record `id` in `scope`. Out of scope is `NotFound`, exactly like missing.
pub(crate) async fn find_in_scope<E, C>(conn: &C, scope: &Scope, id: Uuid) -> Result<E::Model>
where
    E: Scoped,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .filter(E::in_scope(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// Loads the record `id` in `scope` for a change, locked until the transaction ends
/// (PostgreSQL `FOR UPDATE`; SQLite's write transaction already excludes other
/// writers), and checks `If-Match`. Out of scope is `NotFound`, exactly like missing.
pub(crate) async fn lock_for_change<E, C>(
    tx: &C,
    scope: &Scope,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<E::Model>
where
    E: Scoped,
    E::Model: Versioned,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    C: ConnectionTrait,
{
    let current = E::find_by_id(id)
        .filter(E::in_scope(scope))
        .lock_exclusive()
        .one(tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    check_version(&current, if_match)?;
    Ok(current)
}

/// Inserts a new record with its audit entry.
pub(crate) async fn insert<A, C>(tx: &C, actor: Option<&Actor>, row: A) -> Result<ModelOf<A>>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    ModelOf<A>: IntoActiveModel<A> + Audited,
    C: ConnectionTrait,
{
    let m = row.insert(tx).await?;
    audit::record(tx, actor, Change::created(&m)).await?;
    Ok(m)
}

/// The model type of an active model.
pub(crate) type ModelOf<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Model;

/// The active model of a model.
pub(crate) type ActiveOf<M> = <<M as ModelTrait>::Entity as EntityTrait>::ActiveModel;

/// Writes `edit` of a record loaded with [`lock_for_change`] as its next version, and
/// audits it as `action`.
pub(crate) async fn save<M, C>(
    tx: &C,
    actor: Option<&Actor>,
    action: AuditAction,
    current: M,
    edit: impl FnOnce(&mut ActiveOf<M>),
) -> Result<M>
where
    M: ModelTrait + IntoActiveModel<ActiveOf<M>> + Audited + Versioned,
    M::Entity: EntityTrait<Model = M>,
    ActiveOf<M>: ActiveModelTrait<Entity = M::Entity> + Touch + Send,
    C: ConnectionTrait,
{
    save_noting(tx, actor, current, edit, |change| {
        change.recorded_as(action)
    })
    .await
}

/// [`save`], with the audit entry finished by `note` (its action, fields the snapshot
/// does not hold).
pub(crate) async fn save_noting<M, C>(
    tx: &C,
    actor: Option<&Actor>,
    current: M,
    edit: impl FnOnce(&mut ActiveOf<M>),
    note: impl FnOnce(Change) -> Change,
) -> Result<M>
where
    M: ModelTrait + IntoActiveModel<ActiveOf<M>> + Audited + Versioned,
    M::Entity: EntityTrait<Model = M>,
    ActiveOf<M>: ActiveModelTrait<Entity = M::Entity> + Touch + Send,
    C: ConnectionTrait,
{
    let before = current.snapshot();
    let version = current.version();
    let mut row = current.into_active_model();
    edit(&mut row);
    row.touch(version, now());
    let m = row.update(tx).await?;
    audit::record(tx, actor, note(Change::updated(before, &m))).await?;
    Ok(m)
}

/// Deletes a record loaded with [`lock_for_change`], with its audit entry. A record
/// other records still reference is a conflict, and nothing is deleted.
pub(crate) async fn remove<M, A, C>(tx: &C, actor: &Actor, current: M) -> Result<()>
where
    M: ModelTrait + IntoActiveModel<A> + Audited,
    A: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
    C: ConnectionTrait,
{
    let change = Change::deleted(&current);
    current
        .delete(tx)
        .await
        .map_err(|e| PersistenceError::from(e).still_referenced())?;
    audit::record(tx, Some(actor), change).await
}
