//! Contacts (联系人): people at a customer, visible exactly when their customer is.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::customer::{Contact, ContactPatch, ContactRecord};
use sims_domain::values::{normalize_name, normalize_phone_digits, phone_digits};
use uuid::Uuid;

use crate::audit::Audited;
use crate::crypto;
use crate::entities::{contacts, customers};
use crate::listing::{ListRequest, Page, SortColumn, contains, fetch_page};
use crate::records::opened;
use crate::uow::{self, Scoped, find_in_scope, lock_for_change};
use crate::{Actor, Database, Result, customers as customer_repo, now};

/// A stored contact, as sent.
fn record(m: contacts::Model) -> Result<ContactRecord> {
    Ok(ContactRecord {
        id: m.id,
        customer_id: m.customer_id,
        name: m.name,
        title: m.title,
        phone: opened("contacts", "phone", m.phone.as_deref())?,
        email: opened("contacts", "email", m.email.as_deref())?,
        is_primary: m.is_primary,
        created_by: m.created_by,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Audited for contacts::Model {
    const ENTITY: AuditEntity = AuditEntity::Contact;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"customer_id": self.customer_id, "name": self.name, "title": self.title, "phone": crypto::audited(self.phone.as_deref(), self.phone_digits.as_deref()), "email": crypto::audited(self.email.as_deref(), self.email_norm.as_deref()), "is_primary": self.is_primary})
    }
}

impl Scoped for contacts::Entity {
    /// Contacts whose customer `scope` may read.
    fn in_scope(scope: &Scope) -> Condition {
        customer_repo::of_readable_customer(scope, contacts::Column::CustomerId)
    }
}

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

const SORT_COLUMNS: [SortColumn<contacts::Model, contacts::Column>; 3] = [
    SortColumn::at("created_at", contacts::Column::CreatedAt, |m| m.created_at),
    SortColumn::at("updated_at", contacts::Column::UpdatedAt, |m| m.updated_at),
    SortColumn::text("name", contacts::Column::Name, |m| m.name.clone()),
];

fn to_domain(m: &contacts::Model) -> Result<Contact> {
    Ok(Contact {
        name: m.name.clone(),
        title: m.title.clone(),
        phone: opened("contacts", "phone", m.phone.as_deref())?,
        email: opened("contacts", "email", m.email.as_deref())?,
        is_primary: m.is_primary,
    })
}

/// Sets the stored fields of a contact, with the normalised name, phone digits and email
/// it is searched by.
pub(crate) fn apply_fields(am: &mut contacts::ActiveModel, c: &Contact) {
    am.name = Set(c.name.clone());
    am.name_norm = Set(normalize_name(&c.name));
    am.title = Set(c.title.clone());
    // Encrypted: the digits column holds the keyed hash of the normalised phone.
    am.phone = Set(crypto::seal(c.phone.as_deref()));
    am.phone_digits = Set(if crypto::enabled() {
        crypto::search_key(
            c.phone
                .as_deref()
                .map(|p| normalize_phone_digits(&phone_digits(p))),
        )
    } else {
        c.phone.as_deref().map(phone_digits)
    });
    am.email = Set(crypto::seal(c.email.as_deref()));
    am.email_norm = Set(crypto::search_key(
        c.email.as_deref().map(str::to_lowercase),
    ));
    am.is_primary = Set(c.is_primary);
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
) -> Result<ContactRecord> {
    db.write(async |tx| {
        // Locked: concurrent primary contacts of one customer queue behind each other.
        customer_repo::lock_writable(tx, actor, customer_id, None).await?;
        create_in(tx, actor, customer_id, &contact).await
    })
    .await
    .and_then(record)
}

/// Adds a contact to a customer the caller locked with
/// [`customers::lock_writable`](crate::customers), inside the caller's transaction.
pub(crate) async fn create_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    customer_id: Uuid,
    contact: &Contact,
) -> Result<contacts::Model> {
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
    apply_fields(&mut am, contact);
    uow::insert(tx, Some(actor), am).await
}

/// One contact whose customer the caller may see.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<ContactRecord> {
    find_in_scope::<contacts::Entity, _>(conn, scope, id)
        .await
        .and_then(record)
}

/// A page of contacts the caller may see; with `customer_id` in the filter, that
/// customer's contacts (the customer itself must be visible, else `NotFound`).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    filter: &ContactFilter,
    req: &ListRequest,
) -> Result<Page<ContactRecord>> {
    let mut q = customer_repo::rows_of_visible::<contacts::Entity, _>(
        conn,
        scope,
        filter.customer_id,
        contacts::Column::CustomerId,
    )
    .await?;
    if let Some(p) = filter.is_primary {
        q = q.filter(contacts::Column::IsPrimary.eq(p));
    }
    if let Some(t) = filter.updated_after {
        q = q.filter(contacts::Column::UpdatedAt.gt(t));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let mut any =
            Condition::any().add(contains(contacts::Column::NameNorm, &normalize_name(text)));
        let digits = phone_digits(text);
        if crypto::enabled() {
            let email = crypto::search_keys(&text.to_lowercase());
            any = any.add(contacts::Column::EmailNorm.is_in(email));
            if !digits.is_empty() {
                let phone = crypto::search_keys(&normalize_phone_digits(&digits));
                any = any.add(contacts::Column::PhoneDigits.is_in(phone));
            }
        } else {
            any = any.add(contains(contacts::Column::EmailNorm, &text.to_lowercase()));
            if digits.len() >= 3 {
                any = any.add(contains(contacts::Column::PhoneDigits, &digits));
            }
        }
        q = q.filter(any);
    }
    fetch_page(conn, q, req, &SORT_COLUMNS)
        .await?
        .try_map(record)
}

/// Locks a contact of a customer the caller may change.
async fn lock_writable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<contacts::Model> {
    let m = lock_for_change::<contacts::Entity, _>(conn, &actor.principal.scope(), id, if_match)
        .await?;
    customer_repo::lock_writable(conn, actor, m.customer_id, None).await?;
    Ok(m)
}

/// Changes a contact of a customer the caller may change.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: ContactPatch,
    if_match: Option<i64>,
) -> Result<ContactRecord> {
    db.write(async |tx| {
        let current = lock_writable(tx, actor, id, if_match).await?;
        let after = to_domain(&current)?.apply(patch.clone())?;
        if after.is_primary && !current.is_primary {
            unmark_primary(tx, current.customer_id, id).await?;
        }
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            apply_fields(am, &after)
        })
        .await
    })
    .await
    .and_then(record)
}

/// Deletes a contact of a customer the caller may change.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current = lock_writable(tx, actor, id, if_match).await?;
        uow::remove(tx, actor, current).await
    })
    .await
}

/// Of `ids`, the customers the caller may add contacts to (in scope; not the pool for a
/// rep).
pub(crate) async fn writable_customers<C: ConnectionTrait>(
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
