//! Follow-ups (跟进记录): written on customers the caller may change, visible exactly
//! when the customer is; each keeps the customer's last/next follow-up dates current.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::follow_up::{FollowUp, FollowUpKind, FollowUpRecord};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{customers, follow_ups};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::stored;
use crate::uow::{self, Scoped, find_in_scope, lock_for_change};
use crate::{Actor, Database, Result, customers as customer_repo, now};

/// A stored follow-up, as sent.
pub(crate) fn record(m: follow_ups::Model) -> Result<FollowUpRecord> {
    Ok(FollowUpRecord {
        kind: stored("follow_ups", "kind", &m.kind)?,
        id: m.id,
        customer_id: m.customer_id,
        opportunity_id: m.opportunity_id,
        content: m.content,
        occurred_at: m.occurred_at,
        next_follow_up_at: m.next_follow_up_at,
        author_id: m.author_id,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Audited for follow_ups::Model {
    const ENTITY: AuditEntity = AuditEntity::FollowUp;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"customer_id": self.customer_id, "kind": self.kind, "content": self.content, "occurred_at": self.occurred_at, "next_follow_up_at": self.next_follow_up_at})
    }
}

impl Scoped for follow_ups::Entity {
    /// Follow-ups whose customer `scope` may read.
    fn in_scope(scope: &Scope) -> Condition {
        customer_repo::of_readable_customer(scope, follow_ups::Column::CustomerId)
    }
}

/// Filters of the follow-up lists.
#[derive(Debug, Clone, Default)]
pub struct FollowUpFilter {
    pub customer_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub kind: Option<FollowUpKind>,
    pub occurred_after: Option<DateTime<Utc>>,
    pub occurred_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
}

/// Sortable fields of the follow-up lists.
pub const SORT_FIELDS: &[&str] = &["occurred_at", "created_at"];

const SORT_COLUMNS: [SortColumn<follow_ups::Model, follow_ups::Column>; 2] = [
    SortColumn::at("occurred_at", follow_ups::Column::OccurredAt, |m| {
        m.occurred_at
    }),
    SortColumn::at("created_at", follow_ups::Column::CreatedAt, |m| {
        m.created_at
    }),
];

/// A change to a follow-up by its author.
#[derive(Debug, Clone, Default)]
pub struct FollowUpPatch {
    pub kind: Option<FollowUpKind>,
    pub content: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<Option<DateTime<Utc>>>,
}

/// Sets the customer's last follow-up to its latest follow-up, and its next one to
/// `next` when given; bumps its version.
async fn refresh_customer<C: ConnectionTrait>(
    conn: &C,
    customer_id: Uuid,
    next: Option<Option<DateTime<Utc>>>,
) -> Result<()> {
    let latest: Option<DateTime<Utc>> = follow_ups::Entity::find()
        .select_only()
        .column_as(follow_ups::Column::OccurredAt.max(), "latest")
        .filter(follow_ups::Column::CustomerId.eq(customer_id))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(conn)
        .await?
        .flatten();
    let mut update = customers::Entity::update_many()
        .col_expr(customers::Column::LastFollowUpAt, Expr::val(latest))
        .col_expr(
            customers::Column::Version,
            Expr::col(customers::Column::Version).add(1),
        )
        .col_expr(customers::Column::UpdatedAt, Expr::val(now()));
    if let Some(next) = next {
        update = update.col_expr(customers::Column::NextFollowUpAt, Expr::val(next));
    }
    update
        .filter(customers::Column::Id.eq(customer_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records a follow-up on a customer the caller may change, and updates the customer's
/// last and next follow-up dates in the same transaction.
pub async fn create(
    db: &Database,
    actor: &Actor,
    customer_id: Uuid,
    opportunity_id: Option<Uuid>,
    f: FollowUp,
) -> Result<FollowUpRecord> {
    db.write(async |tx| {
        customer_repo::lock_writable(tx, actor, customer_id, None).await?;
        if let Some(o) = opportunity_id {
            crate::opportunities::check_belongs(tx, &actor.principal.scope(), o, customer_id)
                .await?;
        }
        let t = now();
        let m = uow::insert(
            tx,
            Some(actor),
            follow_ups::ActiveModel {
                id: Set(Uuid::now_v7()),
                customer_id: Set(customer_id),
                opportunity_id: Set(opportunity_id),
                kind: Set(f.kind.as_str().to_owned()),
                content: Set(f.content.clone()),
                occurred_at: Set(f.occurred_at),
                next_follow_up_at: Set(f.next_follow_up_at),
                author_id: Set(actor.principal.user_id),
                version: Set(1),
                created_at: Set(t),
                updated_at: Set(t),
            },
        )
        .await?;
        refresh_customer(tx, customer_id, f.next_follow_up_at.map(Some)).await?;
        Ok(m)
    })
    .await
    .and_then(record)
}

/// One follow-up whose customer the caller may see.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<FollowUpRecord> {
    find_in_scope::<follow_ups::Entity, _>(conn, scope, id)
        .await
        .and_then(record)
}

/// A page of follow-ups the caller may see. With `customer_id`, that customer must be
/// visible (else `NotFound`).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &FollowUpFilter,
    req: &ListRequest,
) -> Result<Page<FollowUpRecord>> {
    let mut q = customer_repo::rows_of_visible::<follow_ups::Entity, _>(
        conn,
        scope,
        f.customer_id,
        follow_ups::Column::CustomerId,
    )
    .await?;
    if let Some(o) = f.opportunity_id {
        crate::opportunities::get(conn, scope, o).await?;
        q = q.filter(follow_ups::Column::OpportunityId.eq(o));
    }
    if let Some(a) = f.author_id {
        q = q.filter(follow_ups::Column::AuthorId.eq(a));
    }
    if let Some(k) = f.kind {
        q = q.filter(follow_ups::Column::Kind.eq(k.as_str()));
    }
    if let Some(t) = f.occurred_after {
        q = q.filter(follow_ups::Column::OccurredAt.gte(t));
    }
    if let Some(t) = f.occurred_before {
        q = q.filter(follow_ups::Column::OccurredAt.lt(t));
    }
    if let Some(t) = f.updated_after {
        q = q.filter(follow_ups::Column::UpdatedAt.gt(t));
    }
    fetch_page(conn, q, req, &SORT_COLUMNS)
        .await?
        .try_map(record)
}

/// Changes a follow-up (its author only).
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: FollowUpPatch,
    if_match: Option<i64>,
) -> Result<FollowUpRecord> {
    db.write(async |tx| {
        let current =
            lock_for_change::<follow_ups::Entity, _>(tx, &actor.principal.scope(), id, if_match)
                .await?;
        actor.principal.may_edit_follow_up(current.author_id)?;
        let kind = match patch.kind {
            Some(k) => k,
            None => stored("follow_ups", "kind", &current.kind)?,
        };
        let checked = FollowUp::create(
            kind,
            patch.content.as_deref().unwrap_or(&current.content),
            patch.occurred_at.unwrap_or(current.occurred_at),
            patch.next_follow_up_at.unwrap_or(current.next_follow_up_at),
            now(),
        )?;
        let customer_id = current.customer_id;
        let m = uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            am.kind = Set(checked.kind.as_str().to_owned());
            am.content = Set(checked.content.clone());
            am.occurred_at = Set(checked.occurred_at);
            am.next_follow_up_at = Set(checked.next_follow_up_at);
        })
        .await?;
        refresh_customer(tx, customer_id, patch.next_follow_up_at).await?;
        Ok(m)
    })
    .await
    .and_then(record)
}

/// Deletes a follow-up (its author, or an admin).
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current =
            lock_for_change::<follow_ups::Entity, _>(tx, &actor.principal.scope(), id, if_match)
                .await?;
        actor.principal.may_delete_follow_up(current.author_id)?;
        let customer_id = current.customer_id;
        uow::remove(tx, actor, current).await?;
        refresh_customer(tx, customer_id, None).await
    })
    .await
}
