//! Follow-ups (跟进记录): written on customers the caller may change, visible exactly
//! when the customer is; each keeps the customer's last/next follow-up dates current.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::follow_up::{FollowUp, FollowUpKind};
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::entities::{customers, follow_ups};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, audit, customers as customer_repo, now};

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

const SORT_COLUMNS: [SortColumn<follow_ups::Column>; 2] = [
    SortColumn {
        field: "occurred_at",
        column: follow_ups::Column::OccurredAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "created_at",
        column: follow_ups::Column::CreatedAt,
        kind: SortValue::Timestamp,
    },
];

/// A change to a follow-up by its author.
#[derive(Debug, Clone, Default)]
pub struct FollowUpPatch {
    pub kind: Option<FollowUpKind>,
    pub content: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<Option<DateTime<Utc>>>,
}

fn snapshot(m: &follow_ups::Model) -> serde_json::Value {
    json!({"customer_id": m.customer_id, "kind": m.kind, "content": m.content, "occurred_at": m.occurred_at, "next_follow_up_at": m.next_follow_up_at})
}

/// Follow-ups whose customer `scope` may read.
pub(crate) fn readable(scope: &Scope) -> Condition {
    if *scope == Scope::All {
        return Condition::all();
    }
    Condition::all().add(
        follow_ups::Column::CustomerId.in_subquery(
            Query::select()
                .column(customers::Column::Id)
                .from(customers::Entity)
                .cond_where(customer_repo::readable(scope))
                .take(),
        ),
    )
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
) -> Result<follow_ups::Model> {
    let tx = db.begin_write().await?;
    customer_repo::get_writable(&tx, actor, customer_id).await?;
    if let Some(o) = opportunity_id {
        crate::pipeline::check_belongs(&tx, &actor.principal.scope(), o, customer_id).await?;
    }
    let t = now();
    let m = follow_ups::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        opportunity_id: Set(opportunity_id),
        kind: Set(f.kind.as_str().to_owned()),
        content: Set(f.content),
        occurred_at: Set(f.occurred_at),
        next_follow_up_at: Set(f.next_follow_up_at),
        author_id: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&tx)
    .await?;
    refresh_customer(&tx, customer_id, f.next_follow_up_at.map(Some)).await?;
    audit::record(
        &tx,
        actor,
        "create",
        "follow_up",
        m.id,
        None,
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// One follow-up whose customer the caller may see.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<follow_ups::Model> {
    follow_ups::Entity::find_by_id(id)
        .filter(readable(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// A page of follow-ups the caller may see. With `customer_id`, that customer must be
/// visible (else `NotFound`).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &FollowUpFilter,
    req: &ListRequest,
) -> Result<Page<follow_ups::Model>> {
    if let Some(c) = f.customer_id {
        customer_repo::get(conn, scope, c).await?;
    }
    let mut q = follow_ups::Entity::find().filter(readable(scope));
    if let Some(c) = f.customer_id {
        q = q.filter(follow_ups::Column::CustomerId.eq(c));
    }
    if let Some(o) = f.opportunity_id {
        crate::pipeline::get(conn, scope, o).await?;
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
    fetch_page(
        conn,
        q,
        req,
        &SORT_COLUMNS,
        follow_ups::Column::Id,
        |m, field| match field {
            "created_at" => CursorValue::Timestamp(m.created_at),
            _ => CursorValue::Timestamp(m.occurred_at),
        },
        |m| m.id,
    )
    .await
}

async fn get_own<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    admin_may: bool,
) -> Result<follow_ups::Model> {
    let m = follow_ups::Entity::find_by_id(id)
        .filter(readable(&actor.principal.scope()))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if m.author_id != actor.principal.user_id && !(admin_may && actor.principal.is_admin()) {
        return Err(DomainError::Forbidden("only the author may change a follow-up".into()).into());
    }
    Ok(m)
}

/// Changes a follow-up (its author only).
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: FollowUpPatch,
    if_match: Option<i64>,
) -> Result<follow_ups::Model> {
    let tx = db.begin_write().await?;
    let current = get_own(&tx, actor, id, false).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let kind = patch
        .kind
        .or_else(|| FollowUpKind::parse(&current.kind))
        .unwrap_or(FollowUpKind::Note);
    let checked = FollowUp::create(
        kind,
        patch.content.as_deref().unwrap_or(&current.content),
        patch.occurred_at.unwrap_or(current.occurred_at),
        patch.next_follow_up_at.unwrap_or(current.next_follow_up_at),
        now(),
    )?;
    let before = snapshot(&current);
    let (customer_id, version) = (current.customer_id, current.version);
    let mut am = current.into_active_model();
    am.kind = Set(checked.kind.as_str().to_owned());
    am.content = Set(checked.content);
    am.occurred_at = Set(checked.occurred_at);
    am.next_follow_up_at = Set(checked.next_follow_up_at);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    refresh_customer(&tx, customer_id, patch.next_follow_up_at).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "follow_up",
        id,
        Some(&before),
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes a follow-up (its author, or an admin).
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let tx = db.begin_write().await?;
    let current = get_own(&tx, actor, id, true).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    follow_ups::Entity::delete_by_id(id).exec(&tx).await?;
    refresh_customer(&tx, current.customer_id, None).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "follow_up",
        id,
        Some(&snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
