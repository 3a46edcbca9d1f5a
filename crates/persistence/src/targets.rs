//! Monthly revenue targets (销售目标): admins set any; managers those of the users and
//! teams in their subtree; a rep reads their own. Out of read scope is `404`.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::target::{NewTarget, Subject, TargetRecord};
use sims_domain::{FieldViolation, Money};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{targets, teams, users};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::uow::{self, Scoped, find_in_scope, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, now};

fn record(m: targets::Model) -> TargetRecord {
    TargetRecord {
        id: m.id,
        month: m.month,
        user_id: m.user_id,
        team_id: m.team_id,
        amount: Money::from_minor(m.amount_minor),
        currency: m.currency,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Audited for targets::Model {
    const ENTITY: AuditEntity = AuditEntity::Target;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({
            "month": self.month,
            "user_id": self.user_id,
            "team_id": self.team_id,
            "amount": Money::from_minor(self.amount_minor).to_string(),
            "currency": self.currency,
        })
    }
}

impl Scoped for targets::Entity {
    /// An admin's: all; a manager's: their own, their subtree's users' and its teams'; a
    /// rep's: their own.
    fn in_scope(scope: &Scope) -> Condition {
        match scope {
            Scope::All => Condition::all(),
            Scope::Own(me) => Condition::all().add(targets::Column::UserId.eq(*me)),
            Scope::Teams { user_id, team_ids } => Condition::any()
                .add(targets::Column::UserId.eq(*user_id))
                .add(
                    targets::Column::UserId.in_subquery(
                        Query::select()
                            .column(users::Column::Id)
                            .from(users::Entity)
                            .and_where(users::Column::TeamId.is_in(team_ids.iter().copied()))
                            .take(),
                    ),
                )
                .add(targets::Column::TeamId.is_in(team_ids.iter().copied())),
        }
    }
}

/// Sortable fields of the target list.
pub const SORT_FIELDS: &[&str] = &["created_at", "month"];

/// Filters of the target list.
#[derive(Debug, Clone, Default)]
pub struct TargetFilter {
    /// `YYYY-MM`, already checked.
    pub month: Option<String>,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
}

/// The team of the target's subject (the user's team, or the team itself); a subject
/// that does not exist is a `422` naming its field.
async fn subject_team<C: ConnectionTrait>(conn: &C, subject: Subject) -> Result<Option<Uuid>> {
    let missing = || PersistenceError::unusable(subject.field(), "no such user or team");
    match subject {
        Subject::User(id) => users::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|u| u.team_id)
            .ok_or_else(missing),
        Subject::Team(id) => teams::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|t| Some(t.id))
            .ok_or_else(missing),
    }
}

/// Creates a target; a second one for the same month and subject is a `409` naming
/// `month`, a subject outside the caller's subtree a `422` naming it.
pub async fn create(db: &Database, actor: &Actor, new: NewTarget) -> Result<TargetRecord> {
    let p = &actor.principal;
    p.may_set_target(new.subject, None)?;
    db.write(async |tx| {
        let team = subject_team(tx, new.subject).await?;
        if !p.may_set_target(new.subject, team)? {
            return Err(PersistenceError::unusable(
                new.subject.field(),
                "outside the teams you manage",
            ));
        }
        let month = new.month.to_string();
        let taken = targets::Entity::find()
            .filter(targets::Column::Month.eq(month.as_str()))
            .filter(match new.subject {
                Subject::User(u) => targets::Column::UserId.eq(u),
                Subject::Team(t) => targets::Column::TeamId.eq(t),
            })
            .one(tx)
            .await?;
        if taken.is_some() {
            return Err(PersistenceError::Taken {
                field: "month",
                message: format!(
                    "a target for {month} already exists for this {}",
                    match new.subject {
                        Subject::User(_) => "user",
                        Subject::Team(_) => "team",
                    }
                ),
            });
        }
        let t = now();
        let row = targets::ActiveModel {
            id: Set(Uuid::now_v7()),
            month: Set(month.clone()),
            user_id: Set(new.subject.user_id()),
            team_id: Set(new.subject.team_id()),
            amount_minor: Set(new.amount_minor),
            currency: Set(new.currency.clone()),
            created_by: Set(p.user_id),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
        };
        uow::insert(tx, Some(actor), row).await
    })
    .await
    .map(record)
}

/// One target in the caller's scope.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<TargetRecord> {
    find_in_scope::<targets::Entity, _>(conn, scope, id)
        .await
        .map(record)
}

/// A page of the targets in the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    filter: &TargetFilter,
    req: &ListRequest,
) -> Result<Page<TargetRecord>> {
    let mut select = targets::Entity::find().filter(targets::Entity::in_scope(scope));
    if let Some(m) = &filter.month {
        select = select.filter(targets::Column::Month.eq(m.as_str()));
    }
    if let Some(u) = filter.user_id {
        select = select.filter(targets::Column::UserId.eq(u));
    }
    if let Some(t) = filter.team_id {
        select = select.filter(targets::Column::TeamId.eq(t));
    }
    let cols: [SortColumn<targets::Model, _>; 2] = [
        SortColumn::at("created_at", targets::Column::CreatedAt, |m| m.created_at),
        SortColumn::text("month", targets::Column::Month, |m| m.month.clone()),
    ];
    Ok(fetch_page(conn, select, req, &cols).await?.map(record))
}

/// The subject of a stored target.
fn subject_of(m: &targets::Model) -> Result<Subject> {
    Subject::parse(m.user_id, m.team_id).map_err(|_: FieldViolation| PersistenceError::Corrupt {
        table: "targets",
        column: "user_id",
        value: format!("user_id {:?} with team_id {:?}", m.user_id, m.team_id),
    })
}

/// Changes a target's amount (who may set it may change it; a rep: `403`).
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    amount_minor: i64,
    if_match: Option<i64>,
) -> Result<TargetRecord> {
    let p = &actor.principal;
    db.write(async |tx| {
        let current = lock_for_change::<targets::Entity, _>(tx, &p.scope(), id, if_match).await?;
        p.may_set_target(subject_of(&current)?, None)?;
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            am.amount_minor = Set(amount_minor);
        })
        .await
    })
    .await
    .map(record)
}

/// Deletes a target (who may set it may delete it; a rep: `403`).
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let p = &actor.principal;
    db.write(async |tx| {
        let current = lock_for_change::<targets::Entity, _>(tx, &p.scope(), id, if_match).await?;
        p.may_set_target(subject_of(&current)?, None)?;
        uow::remove(tx, actor, current).await
    })
    .await
}
