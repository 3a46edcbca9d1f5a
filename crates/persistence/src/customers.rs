//! Customers (客户): scoped reads, writes with duplicate checks (查重), tags, audit.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::customer::{Customer, CustomerKind, CustomerLevel, CustomerPatch, DuplicateKeys};
use sims_domain::values::phone_digits;
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::entities::{customer_tags, customers, users};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, contains, fetch_page};
use crate::scope::{Pool, owned_by};
use crate::{Actor, Database, PersistenceError, Result, audit, now};

/// A tag and how many visible customers carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// Every tag on the customers `scope` may read, most used first.
pub async fn tag_counts<C: ConnectionTrait>(conn: &C, scope: &Scope) -> Result<Vec<TagCount>> {
    let mut q = customer_tags::Entity::find()
        .select_only()
        .column(customer_tags::Column::Tag)
        .column_as(customer_tags::Column::CustomerId.count(), "n");
    if *scope != Scope::All {
        q = q.filter(
            customer_tags::Column::CustomerId.in_subquery(
                Query::select()
                    .column(customers::Column::Id)
                    .from(customers::Entity)
                    .cond_where(readable(scope))
                    .take(),
            ),
        );
    }
    let rows: Vec<(String, i64)> = q
        .group_by(customer_tags::Column::Tag)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: Vec<TagCount> = rows
        .into_iter()
        .map(|(tag, count)| TagCount { tag, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.tag.cmp(&b.tag)));
    Ok(out)
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

const SORT_COLUMNS: [SortColumn<customers::Column>; 3] = [
    SortColumn {
        field: "created_at",
        column: customers::Column::CreatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "updated_at",
        column: customers::Column::UpdatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "name",
        column: customers::Column::Name,
        kind: SortValue::Text,
    },
];

fn sort_value(m: &customers::Model, field: &str) -> CursorValue {
    match field {
        "updated_at" => CursorValue::Timestamp(m.updated_at),
        "name" => CursorValue::Text(m.name.clone()),
        _ => CursorValue::Timestamp(m.created_at),
    }
}

/// The tags stored on a customer row.
pub fn tags_of(m: &customers::Model) -> Vec<String> {
    serde_json::from_str(&m.tags).unwrap_or_default()
}

/// A stored customer as the domain value its changes are applied to.
pub fn to_domain(m: &customers::Model) -> Customer {
    Customer {
        name: m.name.clone(),
        kind: CustomerKind::parse(&m.kind).unwrap_or(CustomerKind::Company),
        level: m.level.as_deref().and_then(CustomerLevel::parse),
        industry: m.industry.clone(),
        source: m.source.clone(),
        phone: m.phone.clone(),
        email: m.email.clone(),
        province: m.province.clone(),
        city: m.city.clone(),
        address: m.address.clone(),
        tags: tags_of(m),
        notes: m.notes.clone(),
    }
}

fn snapshot(m: &customers::Model) -> serde_json::Value {
    json!({
        "name": m.name, "kind": m.kind, "level": m.level, "industry": m.industry, "source": m.source,
        "phone": m.phone, "email": m.email, "province": m.province, "city": m.city,
        "address": m.address, "tags": tags_of(m), "notes": m.notes, "owner_id": m.owner_id,
    })
}

/// The condition admitting the customers `scope` may read (its own and the pool).
pub(crate) fn readable(scope: &Scope) -> Condition {
    owned_by(scope, customers::Column::OwnerId, Pool::Visible)
}

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
        any = any.add(customers::Column::PhoneNorm.eq(p.clone()));
    }
    if let Some(e) = &keys.email {
        any = any.add(customers::Column::EmailNorm.eq(e.clone()));
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
    Ok(q.limit(20).into_tuple().all(conn).await?)
}

fn apply_fields(am: &mut customers::ActiveModel, c: &Customer) {
    let keys = c.duplicate_keys();
    am.name = Set(c.name.clone());
    am.name_norm = Set(keys.name.unwrap_or_default());
    am.kind = Set(c.kind.as_str().to_owned());
    am.level = Set(c.level.map(|l| l.as_str().to_owned()));
    am.industry = Set(c.industry.clone());
    am.source = Set(c.source.clone());
    am.phone = Set(c.phone.clone());
    am.phone_digits = Set(c.phone.as_deref().map(phone_digits));
    am.phone_norm = Set(keys.phone);
    am.email = Set(c.email.clone());
    am.email_norm = Set(keys.email);
    am.province = Set(c.province.clone());
    am.city = Set(c.city.clone());
    am.address = Set(c.address.clone());
    am.tags = Set(serde_json::Value::from(c.tags.clone()).to_string());
    am.notes = Set(c.notes.clone());
}

async fn write_tags<C: ConnectionTrait>(conn: &C, id: Uuid, tags: &[String]) -> Result<()> {
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

async fn check_owner<C: ConnectionTrait>(conn: &C, owner: Uuid) -> Result<()> {
    match users::Entity::find_by_id(owner).one(conn).await? {
        Some(u) if u.active => Ok(()),
        _ => Err(PersistenceError::Unprocessable {
            field: "owner_id".into(),
            message: "no such active user".into(),
        }),
    }
}

/// Creates a customer owned by `owner` (the pool when `None`). A customer matching an
/// existing one is refused with their ids unless `allow_duplicate`.
pub async fn create(
    db: &Database,
    actor: &Actor,
    customer: Customer,
    owner: Option<Uuid>,
    allow_duplicate: bool,
) -> Result<customers::Model> {
    let tx = db.begin_write().await?;
    let m = create_in(&tx, actor, customer, owner, allow_duplicate).await?;
    tx.commit().await?;
    Ok(m)
}

/// [`create`] inside the caller's transaction.
pub(crate) async fn create_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    customer: Customer,
    owner: Option<Uuid>,
    allow_duplicate: bool,
) -> Result<customers::Model> {
    if !allow_duplicate {
        let matches = find_duplicates(tx, &customer.duplicate_keys(), None).await?;
        if !matches.is_empty() {
            return Err(PersistenceError::DuplicateCustomer(matches));
        }
    }
    if let Some(o) = owner
        && o != actor.principal.user_id
    {
        check_owner(tx, o).await?;
    }
    let t = now();
    let mut am = customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        owner_id: Set(owner),
        owner_since: Set(owner.map(|_| t)),
        last_follow_up_at: Set(None),
        next_follow_up_at: Set(None),
        created_by: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    };
    apply_fields(&mut am, &customer);
    let m = am.insert(tx).await?;
    write_tags(tx, m.id, &customer.tags).await?;
    crate::pool::record_created(tx, m.id, owner, actor.principal.user_id, t).await?;
    audit::record(
        tx,
        actor,
        "create",
        "customer",
        m.id,
        None,
        Some(&snapshot(&m)),
    )
    .await?;
    Ok(m)
}

/// One customer the caller may see.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<customers::Model> {
    customers::Entity::find_by_id(id)
        .filter(readable(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// Checks, without locking it, that the caller may change this customer (in scope; not
/// the pool for a rep): for records that hang off a customer without changing it.
pub(crate) async fn check_writable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> Result<customers::Model> {
    let m = get(conn, &actor.principal.scope(), id).await?;
    if m.owner_id.is_none() && !actor.principal.may_edit_pool() {
        return Err(DomainError::Forbidden(
            "pool customers are changed by managers and admins; claim it first".into(),
        )
        .into());
    }
    Ok(m)
}

/// Loads a customer the caller may change: in scope, and not in the pool for a rep.
pub(crate) async fn get_writable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> Result<customers::Model> {
    // Locked (PostgreSQL `FOR UPDATE`; SQLite's write transaction already excludes other
    // writers) so that concurrent read-modify-write cycles never lose an update.
    let m = customers::Entity::find_by_id(id)
        .filter(readable(&actor.principal.scope()))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if m.owner_id.is_none() && !actor.principal.may_edit_pool() {
        return Err(DomainError::Forbidden(
            "pool customers are changed by managers and admins; claim it first".into(),
        )
        .into());
    }
    Ok(m)
}

fn filtered(scope: &Scope, f: &CustomerFilter) -> sea_orm::Select<customers::Entity> {
    let mut q = customers::Entity::find().filter(readable(scope));
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
        let mut any = Condition::any()
            .add(contains(customers::Column::NameNorm, &lower))
            .add(contains(customers::Column::EmailNorm, &text.to_lowercase()));
        let digits = phone_digits(text);
        if digits.len() >= 3 {
            any = any.add(contains(customers::Column::PhoneDigits, &digits));
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
) -> Result<Page<customers::Model>> {
    fetch_page(
        conn,
        filtered(scope, filter),
        req,
        &SORT_COLUMNS,
        customers::Column::Id,
        sort_value,
        |m| m.id,
    )
    .await
}

/// Applies `patch` to a customer the caller may change; stale `if_match` is refused.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: CustomerPatch,
    if_match: Option<i64>,
    allow_duplicate: bool,
) -> Result<customers::Model> {
    change(db, actor, id, if_match, allow_duplicate, |c| c.apply(patch)).await
}

/// Adds tags to a customer the caller may change (tags it already has are kept once).
pub async fn add_tags(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    tags: Vec<String>,
) -> Result<customers::Model> {
    change(db, actor, id, None, true, |c| c.with_tags_added(&tags)).await
}

/// Removes a tag from a customer the caller may change.
pub async fn remove_tag(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    tag: &str,
) -> Result<customers::Model> {
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
    rule: impl FnOnce(Customer) -> std::result::Result<Customer, DomainError>,
) -> Result<customers::Model> {
    let tx = db.begin_write().await?;
    let current = get_writable(&tx, actor, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let before_domain = to_domain(&current);
    let after = rule(before_domain.clone())?;
    if !allow_duplicate {
        let (old, new) = (before_domain.duplicate_keys(), after.duplicate_keys());
        let changed = DuplicateKeys {
            name: new.name.filter(|n| Some(n) != old.name.as_ref()),
            phone: new.phone.filter(|p| Some(p) != old.phone.as_ref()),
            email: new.email.filter(|e| Some(e) != old.email.as_ref()),
        };
        let matches = find_duplicates(&tx, &changed, Some(id)).await?;
        if !matches.is_empty() {
            return Err(PersistenceError::DuplicateCustomer(matches));
        }
    }
    let before = snapshot(&current);
    let tags_changed = after.tags != before_domain.tags;
    let version = current.version;
    let mut am = current.into_active_model();
    apply_fields(&mut am, &after);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    if tags_changed {
        write_tags(&tx, id, &after.tags).await?;
    }
    audit::record(
        &tx,
        actor,
        "update",
        "customer",
        id,
        Some(&before),
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes a customer the caller may change, with its contacts and tags.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let tx = db.begin_write().await?;
    let current = get_writable(&tx, actor, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    customers::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "customer",
        id,
        Some(&snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The customers `owner` owns whose next follow-up is before `before`, soonest first.
pub async fn due_for_follow_up<C: ConnectionTrait>(
    conn: &C,
    owner: Uuid,
    before: DateTime<Utc>,
    req: &ListRequest,
) -> Result<Page<customers::Model>> {
    let q = customers::Entity::find()
        .filter(customers::Column::OwnerId.eq(owner))
        .filter(customers::Column::NextFollowUpAt.is_not_null())
        .filter(customers::Column::NextFollowUpAt.lt(before));
    let cols = [SortColumn {
        field: "next_follow_up_at",
        column: customers::Column::NextFollowUpAt,
        kind: SortValue::Timestamp,
    }];
    fetch_page(
        conn,
        q,
        req,
        &cols,
        customers::Column::Id,
        |m, _| CursorValue::Timestamp(m.next_follow_up_at.unwrap_or(m.created_at)),
        |m| m.id,
    )
    .await
}

/// Existing customers matching any of these normalised keys: `(id, name, phone, email)`
/// keys of each match. Used to check a whole import batch in one query.
pub async fn matching_keys<C: ConnectionTrait>(
    conn: &C,
    names: Vec<String>,
    phones: Vec<String>,
    emails: Vec<String>,
) -> Result<Vec<(Uuid, String, Option<String>, Option<String>)>> {
    let mut any = Condition::any();
    if !names.is_empty() {
        any = any.add(customers::Column::NameNorm.is_in(names));
    }
    if !phones.is_empty() {
        any = any.add(customers::Column::PhoneNorm.is_in(phones));
    }
    if !emails.is_empty() {
        any = any.add(customers::Column::EmailNorm.is_in(emails));
    }
    if any.is_empty() {
        return Ok(vec![]);
    }
    Ok(customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .column(customers::Column::NameNorm)
        .column(customers::Column::PhoneNorm)
        .column(customers::Column::EmailNorm)
        .filter(any)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Inserts a batch of validated customers owned by `owner` inside the caller's
/// transaction, with their tags, ownership events and audit entries, a few statements
/// per batch. Returns their ids in order.
pub async fn insert_batch<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    batch: Vec<Customer>,
    owner: Uuid,
) -> Result<Vec<Uuid>> {
    use crate::entities::{audit_log, customer_events};
    if batch.is_empty() {
        return Ok(vec![]);
    }
    let t = now();
    let mut rows = Vec::with_capacity(batch.len());
    let mut tags = Vec::new();
    let mut events = Vec::with_capacity(batch.len());
    let mut audits = Vec::with_capacity(batch.len());
    let mut ids = Vec::with_capacity(batch.len());
    for c in &batch {
        let id = Uuid::now_v7();
        ids.push(id);
        let mut am = customers::ActiveModel {
            id: Set(id),
            owner_id: Set(Some(owner)),
            owner_since: Set(Some(t)),
            last_follow_up_at: Set(None),
            next_follow_up_at: Set(None),
            created_by: Set(actor.principal.user_id),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        apply_fields(&mut am, c);
        rows.push(am);
        tags.extend(c.tags.iter().map(|tag| customer_tags::ActiveModel {
            customer_id: Set(id),
            tag: Set(tag.clone()),
        }));
        events.push(customer_events::ActiveModel {
            id: Set(Uuid::now_v7()),
            customer_id: Set(id),
            kind: Set("created".into()),
            from_owner_id: Set(None),
            to_owner_id: Set(Some(owner)),
            actor_id: Set(Some(actor.principal.user_id)),
            at: Set(t),
        });
        audits.push(audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            actor_id: Set(Some(actor.principal.user_id)),
            action: Set("import".into()),
            entity: Set("customer".into()),
            entity_id: Set(id),
            changes: Set(audit::diff(
                None,
                Some(&json!({"name": c.name, "phone": c.phone, "email": c.email})),
            )
            .to_string()),
            request_id: Set(actor.request_id.clone()),
            at: Set(t),
        });
    }
    customers::Entity::insert_many(rows).exec(conn).await?;
    for chunk in tags.chunks(1000) {
        customer_tags::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await?;
    }
    customer_events::Entity::insert_many(events)
        .exec(conn)
        .await?;
    audit_log::Entity::insert_many(audits).exec(conn).await?;
    Ok(ids)
}
