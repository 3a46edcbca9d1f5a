//! Leads (线索): owned by a user, scoped like customers (without a pool), moved through
//! their status machine and converted into a customer with a primary contact.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::customer::{Contact, ContactInput, Customer, CustomerInput, CustomerKind};
use sims_domain::lead::{Lead, LeadPatch, LeadStatus};
use sims_domain::values::{normalize_name, phone_digits};
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::entities::leads;
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, contains, fetch_page};
use crate::scope::{Pool, owned_by};
use crate::{Actor, Database, PersistenceError, Result, audit, contacts, customers, now, pool};

/// Filters of the lead list.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub status: Option<LeadStatus>,
    pub owner_id: Option<Uuid>,
    pub source: Option<String>,
    pub updated_after: Option<DateTime<Utc>>,
    pub q: Option<String>,
}

/// Sortable fields of the lead list.
pub const SORT_FIELDS: &[&str] = &["created_at", "updated_at", "name"];

const SORT_COLUMNS: [SortColumn<leads::Column>; 3] = [
    SortColumn {
        field: "created_at",
        column: leads::Column::CreatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "updated_at",
        column: leads::Column::UpdatedAt,
        kind: SortValue::Timestamp,
    },
    SortColumn {
        field: "name",
        column: leads::Column::Name,
        kind: SortValue::Text,
    },
];

fn readable(scope: &Scope) -> Condition {
    owned_by(scope, leads::Column::OwnerId, Pool::Excluded)
}

fn snapshot(m: &leads::Model) -> serde_json::Value {
    json!({"name": m.name, "company": m.company, "phone": m.phone, "email": m.email, "source": m.source, "status": m.status, "owner_id": m.owner_id, "customer_id": m.customer_id, "contact_id": m.contact_id})
}

fn to_domain(m: &leads::Model) -> Lead {
    Lead {
        name: m.name.clone(),
        company: m.company.clone(),
        phone: m.phone.clone(),
        email: m.email.clone(),
        source: m.source.clone(),
    }
}

fn apply_fields(am: &mut leads::ActiveModel, l: &Lead) {
    am.name = Set(l.name.clone());
    am.name_norm = Set(normalize_name(&l.name));
    am.company = Set(l.company.clone());
    am.phone = Set(l.phone.clone());
    am.phone_digits = Set(l.phone.as_deref().map(phone_digits));
    am.email = Set(l.email.clone());
    am.email_norm = Set(l.email.as_deref().map(str::to_lowercase));
    am.source = Set(l.source.clone());
}

/// The status of a stored lead.
pub fn status_of(m: &leads::Model) -> LeadStatus {
    LeadStatus::parse(&m.status).unwrap_or(LeadStatus::New)
}

/// Creates a lead owned by `owner` (the caller unless a manager or admin assigns it).
pub async fn create(db: &Database, actor: &Actor, lead: Lead, owner: Uuid) -> Result<leads::Model> {
    let tx = db.begin_write().await?;
    if owner != actor.principal.user_id {
        pool::check_assignable(&tx, &actor.principal, owner, "owner_id").await?;
    }
    let t = now();
    let mut am = leads::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(LeadStatus::New.as_str().to_owned()),
        owner_id: Set(owner),
        customer_id: Set(None),
        contact_id: Set(None),
        opportunity_id: Set(None),
        converted_at: Set(None),
        created_by: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    };
    apply_fields(&mut am, &lead);
    let m = am.insert(&tx).await?;
    audit::record(
        &tx,
        actor,
        "create",
        "lead",
        m.id,
        None,
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// One lead in the caller's scope.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<leads::Model> {
    leads::Entity::find_by_id(id)
        .filter(readable(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

async fn get_locked<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<leads::Model> {
    leads::Entity::find_by_id(id)
        .filter(readable(scope))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// A page of the caller's leads.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &LeadFilter,
    req: &ListRequest,
) -> Result<Page<leads::Model>> {
    let mut q = leads::Entity::find().filter(readable(scope));
    if let Some(s) = f.status {
        q = q.filter(leads::Column::Status.eq(s.as_str()));
    }
    if let Some(o) = f.owner_id {
        q = q.filter(leads::Column::OwnerId.eq(o));
    }
    if let Some(s) = &f.source {
        q = q.filter(leads::Column::Source.eq(s.clone()));
    }
    if let Some(t) = f.updated_after {
        q = q.filter(leads::Column::UpdatedAt.gt(t));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let mut any = Condition::any()
            .add(contains(leads::Column::NameNorm, &normalize_name(text)))
            .add(contains(leads::Column::EmailNorm, &text.to_lowercase()))
            .add(contains(leads::Column::Company, text));
        let digits = phone_digits(text);
        if digits.len() >= 3 {
            any = any.add(contains(leads::Column::PhoneDigits, &digits));
        }
        q = q.filter(any);
    }
    fetch_page(
        conn,
        q,
        req,
        &SORT_COLUMNS,
        leads::Column::Id,
        |m, f| match f {
            "updated_at" => CursorValue::Timestamp(m.updated_at),
            "name" => CursorValue::Text(m.name.clone()),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

/// A change to a lead: fields, a status move, a new owner (managers and admins).
#[derive(Debug, Clone, Default)]
pub struct LeadChange {
    pub fields: LeadPatch,
    pub status: Option<LeadStatus>,
    pub owner_id: Option<Uuid>,
}

/// Changes a lead in the caller's scope.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    change: LeadChange,
    if_match: Option<i64>,
) -> Result<leads::Model> {
    let tx = db.begin_write().await?;
    let current = get_locked(&tx, &actor.principal.scope(), id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let after = to_domain(&current).apply(change.fields)?;
    let status = match change.status {
        Some(to) if to != status_of(&current) => status_of(&current).transition(to)?,
        _ => status_of(&current),
    };
    if let Some(owner) = change.owner_id
        && owner != current.owner_id
    {
        actor.principal.require_manager()?;
        pool::check_assignable(&tx, &actor.principal, owner, "owner_id").await?;
    }
    let before = snapshot(&current);
    let version = current.version;
    let owner = change.owner_id.unwrap_or(current.owner_id);
    let mut am = current.into_active_model();
    apply_fields(&mut am, &after);
    am.status = Set(status.as_str().to_owned());
    am.owner_id = Set(owner);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "lead",
        id,
        Some(&before),
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Deletes a lead in the caller's scope.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    let tx = db.begin_write().await?;
    let current = get_locked(&tx, &actor.principal.scope(), id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    leads::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "delete",
        "lead",
        id,
        Some(&snapshot(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The opportunity to open when converting a lead (validated).
#[derive(Debug, Clone)]
pub struct OpportunityDraft {
    pub name: String,
    pub amount_minor: i64,
    pub currency: String,
    pub expected_close_date: Option<chrono::NaiveDate>,
}

/// What converting a lead produced.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub lead: leads::Model,
    pub customer_id: Uuid,
    pub contact_id: Uuid,
    pub opportunity_id: Option<Uuid>,
}

/// Converts a lead in one transaction: marks it converted, creates a customer from it
/// (or links `customer_id`, which the caller must be able to change), and adds the lead
/// as the customer's primary contact. Any failure leaves nothing behind.
pub async fn convert(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    customer_id: Option<Uuid>,
    opportunity: Option<OpportunityDraft>,
    allow_duplicate: bool,
) -> Result<Conversion> {
    let tx = db.begin_write().await?;
    let current = get_locked(&tx, &actor.principal.scope(), id).await?;
    status_of(&current).convertible()?;
    let t = now();
    let before = snapshot(&current);
    let lead_owner = current.owner_id;
    // The lead is marked first: a failure further on rolls this back too.
    let version = current.version;
    let lead_fields = to_domain(&current);
    let mut am = current.into_active_model();
    am.status = Set(LeadStatus::Converted.as_str().to_owned());
    am.converted_at = Set(Some(t));
    am.version = Set(version + 1);
    am.updated_at = Set(t);
    am.update(&tx).await?;

    let customer = match customer_id {
        Some(cid) => customers::get_writable(&tx, actor, cid).await?.id,
        None => {
            let kind = if lead_fields.company.is_some() {
                CustomerKind::Company
            } else {
                CustomerKind::Individual
            };
            let c = Customer::create(CustomerInput {
                name: Some(
                    lead_fields
                        .company
                        .clone()
                        .unwrap_or_else(|| lead_fields.name.clone()),
                ),
                kind: Some(kind),
                phone: lead_fields.phone.clone(),
                email: lead_fields.email.clone(),
                source: lead_fields.source.clone(),
                ..Default::default()
            })?;
            customers::create_in(&tx, actor, c, Some(lead_owner), allow_duplicate)
                .await?
                .id
        }
    };
    let contact = Contact::create(ContactInput {
        name: Some(lead_fields.name.clone()),
        phone: lead_fields.phone.clone(),
        email: lead_fields.email.clone(),
        is_primary: Some(true),
        ..Default::default()
    })
    .map_err(|e| match e {
        DomainError::Validation(v) => {
            DomainError::Validation(v.into_iter().map(|f| f.nested_under("lead")).collect())
        }
        other => other,
    })?;
    let contact = contacts::create_in(&tx, actor, customer, contact).await?;
    let opportunity_id = match opportunity {
        Some(draft) => Some(
            crate::pipeline::create_in(
                &tx,
                actor,
                crate::pipeline::NewOpportunity {
                    customer_id: customer,
                    name: draft.name,
                    amount_minor: draft.amount_minor,
                    currency: draft.currency,
                    stage_id: None,
                    expected_close_date: draft.expected_close_date,
                    owner_id: lead_owner,
                },
            )
            .await?
            .id,
        ),
        None => None,
    };
    let m = leads::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    let mut am = m.into_active_model();
    am.customer_id = Set(Some(customer));
    am.contact_id = Set(Some(contact.id));
    am.opportunity_id = Set(opportunity_id);
    let lead = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "convert",
        "lead",
        id,
        Some(&before),
        Some(&snapshot(&lead)),
    )
    .await?;
    tx.commit().await?;
    Ok(Conversion {
        lead,
        customer_id: customer,
        contact_id: contact.id,
        opportunity_id,
    })
}
