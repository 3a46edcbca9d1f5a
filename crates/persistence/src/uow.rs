//! The unit of work: every write runs in one transaction opened here, retried when the
//! database reports contention, and changes records through the same few steps — lock
//! the record in scope, check `If-Match`, write the next version, audit it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, CommonTableExpression, DeleteStatement, InsertStatement, Query,
    SubQueryStatement, UpdateStatement, WithClause,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, Condition, ConnectionTrait, DatabaseBackend,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, ModelTrait, PrimaryKeyTrait,
    QueryFilter, QueryResult, QuerySelect, QueryTrait, Set, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, TryIntoModel,
};
use sims_domain::Scope;
use sims_domain::audit::AuditAction;
use sims_domain::sync::DeletedEntity;
use uuid::Uuid;

use crate::audit::{self, Audited, Change};
use crate::db::WRITER_WAIT;
use crate::decode::{Decoded, Read};
use crate::deletions;
use crate::entities::{self, audit_log};
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
        // A writer that waits longer than SQLite's busy timeout would have is contended.
        let (_turn, conn) = match self.sqlite_writer() {
            Some(writer) => (
                Some(
                    tokio::time::timeout(WRITER_WAIT, writer.turn.lock())
                        .await
                        .map_err(|_| {
                            PersistenceError::Contention(DbErr::Custom(
                                "waited too long for the database's write lock".into(),
                            ))
                        })?,
                ),
                &writer.conn,
            ),
            None => (None, self.conn()),
        };
        let tx = conn
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
    webhooks,
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
unscoped!(
    pipeline_stages,
    products,
    warehouses,
    users,
    teams,
    webhooks
);

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
    E: Scoped + Decoded,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .filter(E::in_scope(scope))
        .into_model::<Read<E>>()
        .one(conn)
        .await?
        .map(|row| row.0)
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
    let (before, row) = next_version(current, edit);
    let m = row.update(tx).await?;
    audit::record(tx, actor, note(Change::updated(before, &m))).await?;
    Ok(m)
}

/// The snapshot of `current` for the audit, and its next version with `edit` applied.
fn next_version<M>(
    current: M,
    edit: impl FnOnce(&mut ActiveOf<M>),
) -> (serde_json::Value, ActiveOf<M>)
where
    M: ModelTrait + IntoActiveModel<ActiveOf<M>> + Audited + Versioned,
    ActiveOf<M>: Touch,
{
    let before = current.snapshot();
    let version = current.version();
    let mut row = current.into_active_model();
    edit(&mut row);
    row.touch(version, now());
    (before, row)
}

/// Deletes a record loaded with [`lock_for_change`], with its audit entry and, for a
/// record clients mirror, its tombstone. A record
/// other records still reference is a conflict, and nothing is deleted.
pub(crate) async fn remove<M, A, C>(tx: &C, actor: &Actor, current: M) -> Result<()>
where
    M: ModelTrait + IntoActiveModel<A> + Audited,
    A: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
    C: ConnectionTrait,
{
    let change = Change::deleted(&current);
    let id = current.audit_id();
    current
        .delete(tx)
        .await
        .map_err(|e| PersistenceError::from(e).still_referenced())?;
    if let Some(kind) = DeletedEntity::of(M::ENTITY) {
        deletions::record(tx, kind, id).await?;
    }
    audit::record(tx, Some(actor), change).await
}

/// One write waiting in [`Pending`].
enum Write {
    Insert(InsertStatement),
    Update(UpdateStatement),
    Delete(DeleteStatement),
}

impl Write {
    fn into_sub_query(self) -> SubQueryStatement {
        match self {
            Write::Insert(s) => s.into(),
            Write::Update(s) => s.into(),
            Write::Delete(s) => s.into(),
        }
    }

    fn build(&self, backend: DatabaseBackend) -> Statement {
        match self {
            Write::Insert(s) => backend.build(s),
            Write::Update(s) => backend.build(s),
            Write::Delete(s) => backend.build(s),
        }
    }
}

/// Writes that nothing later in the transaction reads back (new rows, the next version
/// of a locked record, audit entries), kept until [`Pending::send`] sends them together:
/// on PostgreSQL as one statement (every write but the last a data-modifying `WITH`
/// query, all seeing the same snapshot, foreign keys checked at its end), on SQLite as
/// one text whose statements the driver runs one after another. A write a later read
/// depends on is sent before that read, never kept.
#[derive(Default)]
pub(crate) struct Pending(Vec<Write>);

impl Pending {
    /// A new record (its model as it will be stored), with its audit entry.
    pub(crate) fn insert<A>(&mut self, actor: Option<&Actor>, row: A) -> Result<ModelOf<A>>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send + TryIntoModel<ModelOf<A>>,
        ModelOf<A>: IntoActiveModel<A> + Audited,
    {
        let model = row.clone().try_into_model()?;
        self.0
            .push(Write::Insert(A::Entity::insert(row).into_query()));
        self.audit(actor, Change::created(&model));
        Ok(model)
    }

    /// New rows of one table, in one `INSERT`.
    pub(crate) fn insert_rows<A>(&mut self, rows: Vec<A>)
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
    {
        if !rows.is_empty() {
            self.0
                .push(Write::Insert(A::Entity::insert_many(rows).into_query()));
        }
    }

    /// Any other insert.
    pub(crate) fn insert_statement(&mut self, statement: InsertStatement) {
        self.0.push(Write::Insert(statement));
    }

    /// A delete.
    pub(crate) fn delete_statement(&mut self, statement: DeleteStatement) {
        self.0.push(Write::Delete(statement));
    }

    /// A webhook event about `data`, written to the outbox with the change it reports.
    pub(crate) fn event(
        &mut self,
        t: sims_domain::webhook::EventType,
        data: &impl serde::Serialize,
    ) -> Result<()> {
        let row = crate::webhooks::event_row(t, data)?;
        self.0.push(Write::Insert(
            entities::webhook_events::Entity::insert(row).into_query(),
        ));
        Ok(())
    }

    /// An audit entry.
    pub(crate) fn audit(&mut self, actor: Option<&Actor>, change: Change) {
        self.0.push(Write::Insert(
            audit_log::Entity::insert(change.row(actor, now())).into_query(),
        ));
    }

    /// [`save`] of a record loaded with [`lock_for_change`], kept for sending: its next
    /// version as it will be stored.
    pub(crate) fn save<M>(
        &mut self,
        actor: Option<&Actor>,
        action: AuditAction,
        current: M,
        edit: impl FnOnce(&mut ActiveOf<M>),
    ) -> Result<M>
    where
        M: ModelTrait + IntoActiveModel<ActiveOf<M>> + Audited + Versioned,
        M::Entity: EntityTrait<Model = M>,
        ActiveOf<M>: ActiveModelTrait<Entity = M::Entity> + Touch + Send + TryIntoModel<M>,
    {
        let (before, row) = next_version(current, edit);
        let model = row.clone().try_into_model()?;
        let update = M::Entity::update(row).validate()?.into_query();
        self.0.push(Write::Update(update));
        self.audit(actor, Change::updated(before, &model).recorded_as(action));
        Ok(model)
    }

    /// Sends every kept write.
    pub(crate) async fn send<C: ConnectionTrait>(self, conn: &C) -> Result<()> {
        let backend = conn.get_database_backend();
        let mut writes = self.0;
        if backend == DatabaseBackend::Postgres && writes.len() > 1 {
            let Some(last) = writes.pop() else {
                return Ok(());
            };
            let query = with_writes(writes).query(last.into_sub_query());
            conn.execute(&query).await?;
            return Ok(());
        }
        if let Some(text) = sqlite_text(backend, &writes) {
            conn.execute_raw(text).await?;
        }
        Ok(())
    }

    /// [`Pending::send`] with `first` (an `UPDATE … RETURNING`) before the kept writes, in
    /// the same round trip: the rows `first` returned. The kept writes run whatever
    /// `first` changed; a caller that finds the answer short rolls back.
    pub(crate) async fn send_after<C: ConnectionTrait>(
        self,
        conn: &C,
        first: UpdateStatement,
    ) -> Result<Vec<QueryResult>> {
        let backend = conn.get_database_backend();
        let mut writes = vec![Write::Update(first)];
        writes.extend(self.0);
        if backend == DatabaseBackend::Postgres {
            // Every write a data-modifying `WITH` query; the answer is the first's rows.
            let query = with_writes(writes).query(
                Query::select()
                    .column(Asterisk)
                    .from(Alias::new("write_0"))
                    .to_owned(),
            );
            return Ok(conn.query_all(&query).await?);
        }
        match sqlite_text(backend, &writes) {
            Some(text) => Ok(conn.query_all_raw(text).await?),
            None => Ok(vec![]),
        }
    }
}

/// `writes` as the data-modifying `WITH` queries `write_0`, `write_1`, … (PostgreSQL).
fn with_writes(writes: Vec<Write>) -> WithClause {
    let mut with = WithClause::new();
    for (i, w) in writes.into_iter().enumerate() {
        with.cte(
            CommonTableExpression::new()
                .query(w.into_sub_query())
                .table_name(Alias::new(format!("write_{i}")))
                .to_owned(),
        );
    }
    with
}

/// SQLite: the statements in one text, run one after another by the driver in one
/// round trip, their `?` parameters taken in order (rows are those the statements
/// return, in order). `None` when there is nothing to send.
fn sqlite_text(backend: DatabaseBackend, writes: &[Write]) -> Option<Statement> {
    let mut text = String::new();
    let mut values = Vec::new();
    for w in writes {
        let statement = w.build(backend);
        text.push_str(&statement.sql);
        text.push_str(";\n");
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    (!text.is_empty()).then(|| Statement::from_sql_and_values(backend, text, values))
}
