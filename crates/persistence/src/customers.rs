//! Customers (客户): scoped reads, writes with duplicate checks (查重), tags, audit.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Set,
};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::customer::{
    Customer, CustomerKind, CustomerLevel, CustomerPatch, CustomerRecord, DuplicateKeys,
    MAX_MATCHES, check_removal,
};
use sims_domain::sync::DeletedEntity;
use sims_domain::values::phone_digits;
use sims_domain::webhook::EventType;
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::audit::Audited;
use crate::crypto;
use crate::deletions;
use crate::entities::{contacts, customer_tags, customers, follow_ups, opportunities, orders};
use crate::listing::{ListRequest, Listed, Page, SortColumn, contains, fetch_page, page_of_sorted};
use crate::records::{opened, stored, stored_opt, stored_strings};
use crate::scope::{Pool, own_and_pool, owned_by};
use crate::uow::{self, Scoped, find_in_scope, lock_for_change};
use crate::webhooks;
use crate::{Actor, Database, PersistenceError, Result, now};

/// A stored customer, as sent.
pub(crate) fn record(m: customers::Model) -> Result<CustomerRecord> {
    let (id, owner_id, created_by, version) = (m.id, m.owner_id, m.created_by, m.version);
    let (last_follow_up_at, next_follow_up_at) = (m.last_follow_up_at, m.next_follow_up_at);
    let (created_at, updated_at) = (m.created_at, m.updated_at);
    let c = into_domain(m)?;
    Ok(CustomerRecord {
        id,
        name: c.name,
        kind: c.kind,
        level: c.level,
        industry: c.industry,
        source: c.source,
        phone: c.phone,
        email: c.email,
        province: c.province,
        city: c.city,
        address: c.address,
        tags: c.tags,
        notes: c.notes,
        owner_id,
        last_follow_up_at,
        next_follow_up_at,
        created_by,
        version,
        created_at,
        updated_at,
    })
}

/// A stored customer as the domain value its changes are applied to.
pub(crate) fn to_domain(m: &customers::Model) -> Result<Customer> {
    into_domain(m.clone())
}

/// A stored customer as its domain value, its text moved rather than copied (a page of
/// records reads hundreds of them).
fn into_domain(m: customers::Model) -> Result<Customer> {
    Ok(Customer {
        kind: stored::<CustomerKind>("customers", "kind", &m.kind)?,
        level: stored_opt::<CustomerLevel>("customers", "level", m.level.as_deref())?,
        tags: stored_strings("customers", "tags", &m.tags)?,
        phone: opened("customers", "phone", m.phone)?,
        email: opened("customers", "email", m.email)?,
        name: m.name,
        industry: m.industry,
        source: m.source,
        province: m.province,
        city: m.city,
        address: m.address,
        notes: m.notes,
    })
}

impl Audited for customers::Model {
    const ENTITY: AuditEntity = AuditEntity::Customer;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({
            "name": self.name, "kind": self.kind, "level": self.level, "industry": self.industry,
            "source": self.source,
            "phone": crypto::audited(self.phone.as_deref(), self.phone_norm.as_deref()),
            "email": crypto::audited(self.email.as_deref(), self.email_norm.as_deref()),
            "province": self.province, "city": self.city, "address": self.address,
            "tags": serde_json::from_str::<serde_json::Value>(&self.tags).unwrap_or_default(),
            "notes": self.notes, "owner_id": self.owner_id,
        })
    }
}

impl Scoped for customers::Entity {
    /// Their own and the pool's (and their teams' for managers; all for admins).
    fn in_scope(scope: &Scope) -> Condition {
        owned_by(scope, customers::Column::OwnerId, Pool::Visible)
    }
}

/// The condition admitting the customers `scope` may read (its own and the pool).
pub(crate) fn readable(scope: &Scope) -> Condition {
    customers::Entity::in_scope(scope)
}

/// Rows whose `customer_id` is a customer `scope` may read.
pub(crate) fn of_readable_customer<C: ColumnTrait>(scope: &Scope, customer_id: C) -> Condition {
    if *scope == Scope::All {
        return Condition::all();
    }
    Condition::all().add(
        customer_id.in_subquery(
            Query::select()
                .column(customers::Column::Id)
                .from(customers::Entity)
                .cond_where(readable(scope))
                .take(),
        ),
    )
}

/// The rows of `E` the caller may see; with `customer`, only that customer's, and the
/// customer itself must be visible (else `NotFound`, exactly like a missing one).
pub(crate) async fn rows_of_visible<E, C>(
    conn: &C,
    scope: &Scope,
    customer: Option<Uuid>,
    customer_column: E::Column,
) -> Result<sea_orm::Select<E>>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let mut q = E::find().filter(E::in_scope(scope));
    if let Some(c) = customer {
        get(conn, scope, c).await?;
        q = q.filter(customer_column.eq(c));
    }
    Ok(q)
}

/// A tag and how many visible customers carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// A page of the tags on the customers `scope` may read, most used first, then by name.
pub async fn tag_counts<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    req: &ListRequest,
) -> Result<Page<TagCount>> {
    let rows: Vec<(String, i64)> = customer_tags::Entity::find()
        .select_only()
        .column(customer_tags::Column::Tag)
        .column_as(customer_tags::Column::CustomerId.count(), "n")
        .filter(of_readable_customer(
            scope,
            customer_tags::Column::CustomerId,
        ))
        .group_by(customer_tags::Column::Tag)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: Vec<TagCount> = rows
        .into_iter()
        .map(|(tag, count)| TagCount { tag, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.tag.cmp(&b.tag)));
    // Most used first: the key sorts by the count's complement, then by the tag.
    page_of_sorted(out, req, |t| {
        format!("{:019}\u{0}{}", i64::MAX - t.count, t.tag)
    })
}

/// Filters of the customer list; every one is optional and they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub owner_id: Option<Uuid>,
    /// `true`: only pool customers; `false`: only owned ones.
    pub in_pool: Option<bool>,
    pub level: Option<CustomerLevel>,
    pub kind: Option<CustomerKind>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub tag: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    /// Case-insensitive search over name, phone digits and email.
    pub q: Option<String>,
}

/// Sortable fields of the customer list.
pub const SORT_FIELDS: &[&str] = &["created_at", "updated_at", "name"];

const SORT_COLUMNS: [SortColumn<customers::Model, customers::Column>; 3] = [
    SortColumn::at("created_at", customers::Column::CreatedAt, |m| m.created_at),
    SortColumn::at("updated_at", customers::Column::UpdatedAt, |m| m.updated_at),
    SortColumn::text("name", customers::Column::Name, |m| m.name.clone()),
];

/// Ids of every customer (in any scope) that matches one of the keys, except `exclude`.
/// Only ids leave this function: never another rep's customer's details.
pub async fn find_duplicates<C: ConnectionTrait>(
    conn: &C,
    keys: &DuplicateKeys,
    exclude: Option<Uuid>,
) -> Result<Vec<Uuid>> {
    let mut any = Condition::any();
    if let Some(n) = &keys.name {
        any = any.add(customers::Column::NameNorm.eq(n.clone()));
    }
    if let Some(p) = &keys.phone {
        any = any.add(customers::Column::PhoneNorm.is_in(crypto::search_keys(p)));
    }
    if let Some(e) = &keys.email {
        any = any.add(customers::Column::EmailNorm.is_in(crypto::search_keys(e)));
    }
    if any.is_empty() {
        return Ok(vec![]);
    }
    let mut q = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(any);
    if let Some(id) = exclude {
        q = q.filter(customers::Column::Id.ne(id));
    }
    Ok(q.limit(MAX_MATCHES as u64).into_tuple().all(conn).await?)
}

async fn refuse_duplicates<C: ConnectionTrait>(
    conn: &C,
    keys: &DuplicateKeys,
    exclude: Option<Uuid>,
) -> Result<()> {
    let matches = find_duplicates(conn, keys, exclude).await?;
    if matches.is_empty() {
        Ok(())
    } else {
        Err(PersistenceError::DuplicateCustomer(matches))
    }
}

/// Sets the stored fields of `c`, with the normalised keys it is searched and compared by.
pub(crate) fn apply_fields(am: &mut customers::ActiveModel, c: &Customer) {
    let keys = c.duplicate_keys();
    am.name = Set(c.name.clone());
    am.name_norm = Set(keys.name.unwrap_or_default());
    am.kind = Set(c.kind.as_str().to_owned());
    am.level = Set(c.level.map(|l| l.as_str().to_owned()));
    am.industry = Set(c.industry.clone());
    am.source = Set(c.source.clone());
    // Encrypted: no digits in clear to search parts of, the keyed hashes to match by.
    am.phone = Set(crypto::seal(c.phone.as_deref()));
    am.phone_digits = Set(c
        .phone
        .as_deref()
        .map(phone_digits)
        .filter(|_| !crypto::enabled()));
    am.phone_norm = Set(crypto::search_key(keys.phone));
    am.email = Set(crypto::seal(c.email.as_deref()));
    am.email_norm = Set(crypto::search_key(keys.email));
    am.province = Set(c.province.clone());
    am.city = Set(c.city.clone());
    am.address = Set(c.address.clone());
    am.tags = Set(serde_json::Value::from(c.tags.clone()).to_string());
    am.notes = Set(c.notes.clone());
}

/// A new customer's row, owned by `owner` (the pool when `None`) since `at`.
pub(crate) fn new_row(
    id: Uuid,
    c: &Customer,
    owner: Option<Uuid>,
    created_by: Uuid,
    at: DateTime<Utc>,
) -> customers::ActiveModel {
    let mut am = customers::ActiveModel {
        id: Set(id),
        owner_id: Set(owner),
        owner_since: Set(owner.map(|_| at)),
        last_follow_up_at: Set(None),
        next_follow_up_at: Set(None),
        created_by: Set(created_by),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    apply_fields(&mut am, c);
    am
}

pub(crate) async fn write_tags<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    tags: &[String],
) -> Result<()> {
    customer_tags::Entity::delete_many()
        .filter(customer_tags::Column::CustomerId.eq(id))
        .exec(conn)
        .await?;
    if !tags.is_empty() {
        customer_tags::Entity::insert_many(tags.iter().map(|t| customer_tags::ActiveModel {
            customer_id: Set(id),
            tag: Set(t.clone()),
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// Creates a customer owned by `owner` (the pool when `None`). A customer matching an
/// existing one is refused with their ids unless `allow_duplicate`.
pub async fn create(
    db: &Database,
    actor: &Actor,
    customer: Customer,
    owner: Option<Uuid>,
    allow_duplicate: bool,
) -> Result<CustomerRecord> {
    db.write(async |tx| create_in(tx, actor, &customer, owner, allow_duplicate).await)
        .await
        .and_then(record)
}

/// [`create`] inside the caller's transaction.
pub(crate) async fn create_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    customer: &Customer,
    owner: Option<Uuid>,
    allow_duplicate: bool,
) -> Result<customers::Model> {
    if !allow_duplicate {
        refuse_duplicates(tx, &customer.duplicate_keys(), None).await?;
    }
    if let Some(o) = owner
        && o != actor.principal.user_id
    {
        crate::pool::check_assignable(tx, &actor.principal, o, "owner_id").await?;
    }
    let t = now();
    let m = uow::insert(
        tx,
        Some(actor),
        new_row(Uuid::now_v7(), customer, owner, actor.principal.user_id, t),
    )
    .await?;
    write_tags(tx, m.id, &customer.tags).await?;
    crate::pool::record_created(tx, m.id, owner, actor.principal.user_id, t).await?;
    webhooks::emit(tx, EventType::CustomerCreated, &record(m.clone())?).await?;
    Ok(m)
}

/// One customer the caller may see.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<CustomerRecord> {
    record(find(conn, scope, id).await?)
}

async fn find<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<customers::Model> {
    find_in_scope::<customers::Entity, _>(conn, scope, id).await
}

/// Checks, without locking it, that the caller may change this customer (in scope; not
/// the pool for a rep): for records that hang off a customer without changing it.
pub(crate) async fn check_writable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> Result<customers::Model> {
    let m = find(conn, &actor.principal.scope(), id).await?;
    actor.principal.may_change_customer(m.owner_id)?;
    Ok(m)
}

/// What a missing customer named in a request body is: `422` naming `field` (SPEC §3),
/// whether it does not exist or lies outside the caller's scope; `404` stays for the
/// path's own id.
pub(crate) fn named_in_body(field: &'static str) -> impl Fn(PersistenceError) -> PersistenceError {
    move |e| match e {
        PersistenceError::NotFound => unknown_customer(field),
        other => other,
    }
}

/// The `422` of a body field naming no customer the caller may see.
pub(crate) fn unknown_customer(field: &'static str) -> PersistenceError {
    PersistenceError::unusable(field, "no such customer")
}

/// Locks a customer the caller may change (in scope; not the pool for a rep) and checks
/// `If-Match`.
pub(crate) async fn lock_writable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<customers::Model> {
    let m = lock_for_change::<customers::Entity, _>(conn, &actor.principal.scope(), id, if_match)
        .await?;
    actor.principal.may_change_customer(m.owner_id)?;
    Ok(m)
}

fn filtered(scope: &Scope, f: &CustomerFilter) -> sea_orm::Select<customers::Entity> {
    unscoped(f).filter(readable(scope))
}

/// The customers `f` admits, in any scope: only ever read narrowed by a scope's
/// condition or by the parts of one.
fn unscoped(f: &CustomerFilter) -> sea_orm::Select<customers::Entity> {
    let mut q = customers::Entity::find();
    if let Some(o) = f.owner_id {
        q = q.filter(customers::Column::OwnerId.eq(o));
    }
    match f.in_pool {
        Some(true) => q = q.filter(customers::Column::OwnerId.is_null()),
        Some(false) => q = q.filter(customers::Column::OwnerId.is_not_null()),
        None => {}
    }
    if let Some(l) = f.level {
        q = q.filter(customers::Column::Level.eq(l.as_str()));
    }
    if let Some(k) = f.kind {
        q = q.filter(customers::Column::Kind.eq(k.as_str()));
    }
    for (col, val) in [
        (customers::Column::Industry, &f.industry),
        (customers::Column::Source, &f.source),
        (customers::Column::Province, &f.province),
        (customers::Column::City, &f.city),
    ] {
        if let Some(v) = val {
            q = q.filter(col.eq(v.clone()));
        }
    }
    if let Some(tag) = &f.tag {
        q = q.filter(
            customers::Column::Id.in_subquery(
                Query::select()
                    .column(customer_tags::Column::CustomerId)
                    .from(customer_tags::Entity)
                    .and_where(customer_tags::Column::Tag.eq(tag.clone()))
                    .take(),
            ),
        );
    }
    if let Some(t) = f.created_after {
        q = q.filter(customers::Column::CreatedAt.gte(t));
    }
    if let Some(t) = f.created_before {
        q = q.filter(customers::Column::CreatedAt.lt(t));
    }
    if let Some(t) = f.updated_after {
        q = q.filter(customers::Column::UpdatedAt.gt(t));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let lower = sims_domain::values::normalize_name(text);
        let mut any = Condition::any().add(contains(customers::Column::NameNorm, &lower));
        let digits = phone_digits(text);
        if crypto::enabled() {
            // Encrypted: a phone or email is found by its whole normalised value.
            let keys = sims_domain::customer::duplicate_keys(None, Some(text), Some(text));
            if let Some(p) = keys.phone {
                any = any.add(customers::Column::PhoneNorm.is_in(crypto::search_keys(&p)));
            }
            if let Some(e) = keys.email {
                any = any.add(customers::Column::EmailNorm.is_in(crypto::search_keys(&e)));
            }
        } else {
            any = any.add(contains(customers::Column::EmailNorm, &text.to_lowercase()));
            if digits.len() >= 3 {
                any = any.add(contains(customers::Column::PhoneDigits, &digits));
            }
        }
        q = q.filter(any);
    }
    q
}

/// A page of the customers the caller may see, filtered and sorted.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    filter: &CustomerFilter,
    req: &ListRequest,
) -> Result<Page<CustomerRecord>> {
    let listed = match in_parts(scope, filter, req) {
        Some(parts) => Listed::in_parts(unscoped(filter), parts),
        None => filtered(scope, filter).into(),
    };
    fetch_page(conn, listed, req, &SORT_COLUMNS)
        .await?
        .try_map(record)
}

/// A rep's whole list by creation time, read in the two parts of their scope
/// (`scope::own_and_pool`): their own customers and the pool's. Each part has an index in
/// that order (`idx_customers_owner_created`, `idx_customers_pool_created`); one scan of
/// all customers by creation time would read about ten rows for each a rep sees. The
/// parts replace the scope's condition rather than narrowing it: with both, PostgreSQL's
/// plan made for all values left the indexes (928 against 4,697 pages a second). Not when
/// an owner or pool filter already picks one part (PostgreSQL would read the whole pool
/// index for the part the filter empties), nor for a manager, whose team holds too large
/// a share of the customers for the split to pay.
fn in_parts(scope: &Scope, f: &CustomerFilter, req: &ListRequest) -> Option<[Condition; 2]> {
    let by_creation = matches!(req.sort.as_slice(), [key] if key.field == "created_at");
    let whole = f.in_pool.is_none() && f.owner_id.is_none();
    if by_creation && whole {
        own_and_pool(scope, customers::Column::OwnerId)
    } else {
        None
    }
}

/// Applies `patch` to a customer the caller may change; stale `if_match` is refused.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: CustomerPatch,
    if_match: Option<i64>,
    allow_duplicate: bool,
) -> Result<CustomerRecord> {
    change(db, actor, id, if_match, allow_duplicate, |c| {
        c.apply(patch.clone())
    })
    .await
}

/// Adds tags to a customer the caller may change (tags it already has are kept once).
pub async fn add_tags(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    tags: Vec<String>,
) -> Result<CustomerRecord> {
    change(db, actor, id, None, true, |c| c.with_tags_added(&tags)).await
}

/// Removes a tag from a customer the caller may change.
pub async fn remove_tag(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    tag: &str,
) -> Result<CustomerRecord> {
    change(db, actor, id, None, true, |c| Ok(c.without_tag(tag))).await
}

/// Loads a customer the caller may change, applies `rule` to it, checks duplicates on
/// the keys that changed, and writes it with its tags and audit entry.
async fn change(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
    allow_duplicate: bool,
    rule: impl Fn(Customer) -> std::result::Result<Customer, DomainError>,
) -> Result<CustomerRecord> {
    db.write(async |tx| {
        let current = lock_writable(tx, actor, id, if_match).await?;
        let before = to_domain(&current)?;
        let after = rule(before.clone())?;
        if !allow_duplicate {
            let (old, new) = (before.duplicate_keys(), after.duplicate_keys());
            let changed = DuplicateKeys {
                name: new.name.filter(|n| Some(n) != old.name.as_ref()),
                phone: new.phone.filter(|p| Some(p) != old.phone.as_ref()),
                email: new.email.filter(|e| Some(e) != old.email.as_ref()),
            };
            refuse_duplicates(tx, &changed, Some(id)).await?;
        }
        let m = uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            apply_fields(am, &after)
        })
        .await?;
        if after.tags != before.tags {
            write_tags(tx, id, &after.tags).await?;
        }
        webhooks::emit(tx, EventType::CustomerUpdated, &record(m.clone())?).await?;
        Ok(m)
    })
    .await
    .and_then(record)
}

/// Deletes a customer the caller may change, with its contacts and tags.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current = lock_writable(tx, actor, id, if_match).await?;
        let orders = orders::Entity::find()
            .filter(orders::Column::CustomerId.eq(id))
            .count(tx)
            .await?;
        let opportunities = opportunities::Entity::find()
            .filter(opportunities::Column::CustomerId.eq(id))
            .count(tx)
            .await?;
        check_removal(orders, opportunities)?;
        // Its contacts and follow-ups go with it (by cascade): clients drop them too.
        deletions::record_children(
            tx,
            DeletedEntity::Contact,
            contacts::Entity,
            contacts::Column::CustomerId,
            id,
        )
        .await?;
        deletions::record_children(
            tx,
            DeletedEntity::FollowUp,
            follow_ups::Entity,
            follow_ups::Column::CustomerId,
            id,
        )
        .await?;
        webhooks::emit(tx, EventType::CustomerDeleted, &record(current.clone())?).await?;
        uow::remove(tx, actor, current).await
    })
    .await
}

/// The customers `owner` owns whose next follow-up is before `before`, soonest first.
pub async fn due_for_follow_up<C: ConnectionTrait>(
    conn: &C,
    owner: Uuid,
    before: DateTime<Utc>,
    req: &ListRequest,
) -> Result<Page<CustomerRecord>> {
    let q = customers::Entity::find()
        .filter(customers::Column::OwnerId.eq(owner))
        .filter(customers::Column::NextFollowUpAt.is_not_null())
        .filter(customers::Column::NextFollowUpAt.lt(before));
    let cols: [SortColumn<customers::Model, _>; 1] = [SortColumn::at(
        "next_follow_up_at",
        customers::Column::NextFollowUpAt,
        |m| m.next_follow_up_at.unwrap_or(m.created_at),
    )];
    fetch_page(conn, q, req, &cols).await?.try_map(record)
}
