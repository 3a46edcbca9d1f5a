//! Contacts (联系人): people at a customer, visible exactly when their customer is.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::customer::{Contact, ContactPatch};
use sims_domain::values::{normalize_name, phone_digits};
use uuid::Uuid;

use crate::entities::{contacts, customers};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, contains, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, audit, customers as customer_repo, now};

/// Filters of the contact lists.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub customer_id: Option<Uuid>,
    pub is_primary: Option<bool>,
    pub updated_after: Option<DateTime<Utc>>,
    pub q: Option<String>,
}

/// Sortable fields of the contact lists.
pub const SORT_FIELDS: &[&str] = &["created_at", "updated_at", "name"];

const SORT_COLUMNS: [SortColumn<contacts::Column>; 3] = [
    SortColumn {
        field: "created_at",
        column: contacts::Column::CreatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "updated_at",
        column: contacts::Column::UpdatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "name",
        column: contacts::Column::Name,
        kind: SortValue::Text,
    },
];

fn snapshot(m: &contacts::Model) -> serde_json::Value {
    json!({"customer_id": m.customer_id, "name": m.name, "title": m.title, "phone": m.phone, "email": m.email, "is_primary": m.is_primary})
}

fn to_domain(m: &contacts::Model) -> Contact {
    Contact {
        name: m.name.clone(),
        title: m.title.clone(),
        phone: m.phone.clone(),
        email: m.email.clone(),
        is_primary: m.is_primary,
    }
}

fn apply_fields(am: &mut contacts::ActiveModel, c: &Contact) {
    am.name = Set(c.name.clone());
    am.name_norm = Set(normalize_name(&c.name));
    am.title = Set(c.title.clone());
    am.phone = Set(c.phone.clone());
    am.phone_digits = Set(c.phone.as_deref().map(phone_digits));
    am.email = Set(c.email.clone());
    am.email_norm = Set(c.email.as_deref().map(str::to_lowercase));
    am.is_primary = Set(c.is_primary);
}

/// Contacts whose customer `scope` may read.
fn readable(scope: &Scope) -> Condition {
    if *scope == Scope::All {
        return Condition::all();
    }
    Condition::all().add(
        contacts::Column::CustomerId.in_subquery(
            Query::select()
                .column(customers::Column::Id)
                .from(customers::Entity)
                .cond_where(customer_repo::readable(scope))
                .take(),
        ),
    )
}

/// Un-marks the customer's current primary contact, if it is not `keep`.
async fn unmark_primary<C: ConnectionTrait>(conn: &C, customer_id: Uuid, keep: Uuid) -> Result<()> {
    contacts::Entity::update_many()
        .col_expr(contacts::Column::IsPrimary, Expr::val(false))
        .col_expr(
            contacts::Column::Version,
            Expr::col(contacts::Column::Version).add(1),
        )
        .col_expr(contacts::Column::UpdatedAt, Expr::val(now()))
        .filter(contacts::Column::CustomerId.eq(customer_id))
        .filter(contacts::Column::IsPrimary.eq(true))
        .filter(contacts::Column::Id.ne(keep))
        .exec(conn)
        .await?;
    Ok(())
}

/// Adds a contact to a customer the caller may change. Marking it primary un-marks the
/// previous primary contact in the same transaction.
pub async fn create(
    db: &Database,
    actor: &Actor,
    customer_id: Uuid,
    contact: Contact,
) -> Result<contacts::Model> {
    let tx = db.begin_write().await?;
    let m = create_in(&tx, actor, customer_id, contact).await?;
    tx.commit().await?;
    Ok(m)
}

/// [`create`] inside the caller's transaction.
pub(crate) async fn create_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    customer_id: Uuid,
    contact: Contact,
) -> Result<contacts::Model> {
    customer_repo::get_writable(tx, actor, customer_id).await?;
    let id = Uuid::now_v7();
    if contact.is_primary {
        unmark_primary(tx, customer_id, id).await?;
    }
    let t = now();
    let mut am = contacts::ActiveModel {
        id: Set(id),
        customer_id: Set(customer_id),
        created_by: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    };
    apply_fields(&mut am, &contact);
    let m = am.insert(tx).await?;
    audit::record(
        tx,
        actor,
        "create",
        "contact",
        m.id,
        None,
        Some(&snapshot(&m)),
    )
    .await?;
    Ok(m)
}

/// One contact whose customer the caller may see.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<contacts::Model> {
    contacts::Entity::find_by_id(id)
        .filter(readable(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// A page of contacts the caller may see; with `customer_id` in the filter, that
/// customer's contacts (the customer itself must be visible, else `NotFound`).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    filter: &ContactFilter,
    req: &ListRequest,
) -> Result<Page<contacts::Model>> {
    if let Some(c) = filter.customer_id {
        customer_repo::get(conn, scope, c).await?;
    }
    let mut q = contacts::Entity::find().filter(readable(scope));
    if let Some(c) = filter.customer_id {
        q = q.filter(contacts::Column::CustomerId.eq(c));
    }
    if let Some(p) = filter.is_primary {
        q = q.filter(contacts::Column::IsPrimary.eq(p));
    }
    if let Some(t) = filter.updated_after {
        q = q.filter(contacts::Column::UpdatedAt.gt(t));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let mut any = Condition::any()
            .add(contains(contacts::Column::NameNorm, &normalize_name(text)))
            .add(contains(contacts::Column::EmailNorm, &text.to_lowercase()));
        let digits = phone_digits(text);
        if digits.len() >= 3 {
            any = any.add(contains(contacts::Column::PhoneDigits, &digits));
        }
        q = q.filter(any);
    }
    fetch_page(
        conn,
        q,
        req,
        &SORT_COLUMNS,
        contacts::Column::Id,
        |m, f| match f {
            "updated_at" => CursorValue::Timestamp(m.updated_at),
            "name" => CursorValue::Text(m.name.clone()),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

async fn get_writable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> Result<contacts::Model> {
    let m = contacts::Entity::find_by_id(id)
        .filter(readable(&actor.principal.scope()))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    customer_repo::get_writable(conn, actor, m.customer_id).await?;
    Ok(m)
}

/// Changes a contact of a customer the caller may change.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: ContactPatch,
    if_match: Option<i64>,
) -> Result<contacts::Model> {
    let tx = db.begin_write().await?;
    let current = get_writable(&tx, actor, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let after = to_domain(&current).apply(patch)?;
    if after.is_primary && !current.is_primary {
        unmark_primary(&tx, current.customer_id, id).await?;
    }
    let before = snapshot(&current);
    let version = current.version;
    let mut am = current.into_active_model();
    apply_fields(&mut am, &after);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "contact",
        id,
        Some(&before),
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes a contact of a customer the caller may change.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let tx = db.begin_write().await?;
    let current = get_writable(&tx, actor, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    contacts::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "contact",
        id,
        Some(&snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Of `ids`, the customers the caller may add contacts to (in scope; not the pool for a
/// rep).
pub async fn writable_customers<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    ids: Vec<Uuid>,
) -> Result<Vec<Uuid>> {
    let mut q = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(customers::Column::Id.is_in(ids))
        .filter(customer_repo::readable(&actor.principal.scope()));
    if !actor.principal.may_edit_pool() {
        q = q.filter(customers::Column::OwnerId.is_not_null());
    }
    Ok(q.into_tuple().all(conn).await?)
}

/// Inserts a batch of validated contacts inside the caller's transaction (their customers
/// already checked with [`writable_customers`]). A primary contact un-marks its
/// customer's previous primary.
pub async fn insert_batch<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    batch: Vec<(Uuid, Contact)>,
) -> Result<u64> {
    let mut n = 0;
    for (customer_id, contact) in batch {
        create_in(conn, actor, customer_id, contact).await?;
        n += 1;
    }
    Ok(n)
}
