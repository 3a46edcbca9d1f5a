//! Leads (线索): owned by a user, scoped like customers (without a pool), moved through
//! their status machine and converted into a customer with a primary contact.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::customer::{Contact, ContactInput, Customer, CustomerInput, CustomerKind};
use sims_domain::lead::{Lead, LeadPatch, LeadRecord, LeadStatus};
use sims_domain::values::{normalize_name, phone_digits};
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::leads;
use crate::listing::{ListRequest, Page, SortColumn, contains, fetch_page};
use crate::records::stored;
use crate::scope::{Pool, owned_by};
use crate::uow::{self, Scoped, find_in_scope, lock_for_change};
use crate::{Actor, Database, Result, contacts, customers, now, opportunities, pool};

/// A stored lead, as sent.
fn record(m: leads::Model) -> Result<LeadRecord> {
    Ok(LeadRecord {
        status: status_of(&m)?,
        id: m.id,
        name: m.name,
        company: m.company,
        phone: m.phone,
        email: m.email,
        source: m.source,
        owner_id: m.owner_id,
        customer_id: m.customer_id,
        contact_id: m.contact_id,
        opportunity_id: m.opportunity_id,
        converted_at: m.converted_at,
        created_by: m.created_by,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Audited for leads::Model {
    const ENTITY: AuditEntity = AuditEntity::Lead;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"name": self.name, "company": self.company, "phone": self.phone, "email": self.email, "source": self.source, "status": self.status, "owner_id": self.owner_id, "customer_id": self.customer_id, "contact_id": self.contact_id})
    }
}

impl Scoped for leads::Entity {
    fn in_scope(scope: &Scope) -> Condition {
        owned_by(scope, leads::Column::OwnerId, Pool::Excluded)
    }
}

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

const SORT_COLUMNS: [SortColumn<leads::Model, leads::Column>; 3] = [
    SortColumn::at("created_at", leads::Column::CreatedAt, |m| m.created_at),
    SortColumn::at("updated_at", leads::Column::UpdatedAt, |m| m.updated_at),
    SortColumn::text("name", leads::Column::Name, |m| m.name.clone()),
];

fn to_domain(m: &leads::Model) -> Lead {
    Lead {
        name: m.name.clone(),
        company: m.company.clone(),
        phone: m.phone.clone(),
        email: m.email.clone(),
        source: m.source.clone(),
    }
}

/// Sets the stored fields of a lead, with the normalised name, phone digits and email it
/// is searched by.
pub(crate) fn apply_fields(am: &mut leads::ActiveModel, l: &Lead) {
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
fn status_of(m: &leads::Model) -> Result<LeadStatus> {
    stored("leads", "status", &m.status)
}

/// Creates a lead owned by `owner` (the caller unless a manager or admin assigns it).
pub async fn create(db: &Database, actor: &Actor, lead: Lead, owner: Uuid) -> Result<LeadRecord> {
    db.write(async |tx| {
        if owner != actor.principal.user_id {
            pool::check_assignable(tx, &actor.principal, owner, "owner_id").await?;
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
        uow::insert(tx, Some(actor), am).await
    })
    .await
    .and_then(record)
}

/// One lead in the caller's scope.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<LeadRecord> {
    find_in_scope::<leads::Entity, _>(conn, scope, id)
        .await
        .and_then(record)
}

/// A page of the caller's leads.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &LeadFilter,
    req: &ListRequest,
) -> Result<Page<LeadRecord>> {
    let mut q = leads::Entity::find().filter(leads::Entity::in_scope(scope));
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
    fetch_page(conn, q, req, &SORT_COLUMNS)
        .await?
        .try_map(record)
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
) -> Result<LeadRecord> {
    db.write(async |tx| {
        let current =
            lock_for_change::<leads::Entity, _>(tx, &actor.principal.scope(), id, if_match).await?;
        let after = to_domain(&current).apply(change.fields.clone())?;
        let now_status = status_of(&current)?;
        let status = match change.status {
            Some(to) if to != now_status => now_status.transition(to)?,
            _ => now_status,
        };
        if let Some(owner) = change.owner_id
            && owner != current.owner_id
        {
            actor.principal.require_manager()?;
            pool::check_assignable(tx, &actor.principal, owner, "owner_id").await?;
        }
        let owner = change.owner_id.unwrap_or(current.owner_id);
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            apply_fields(am, &after);
            am.status = Set(status.as_str().to_owned());
            am.owner_id = Set(owner);
        })
        .await
    })
    .await
    .and_then(record)
}

/// Deletes a lead in the caller's scope.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current =
            lock_for_change::<leads::Entity, _>(tx, &actor.principal.scope(), id, if_match).await?;
        uow::remove(tx, actor, current).await
    })
    .await
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
    pub lead: LeadRecord,
    pub customer_id: Uuid,
    pub contact_id: Uuid,
    pub opportunity_id: Option<Uuid>,
}

/// The customer a lead becomes: its company (or, without one, the person).
fn customer_of(lead: &Lead) -> std::result::Result<Customer, DomainError> {
    Customer::create(CustomerInput {
        name: Some(lead.company.clone().unwrap_or_else(|| lead.name.clone())),
        kind: Some(if lead.company.is_some() {
            CustomerKind::Company
        } else {
            CustomerKind::Individual
        }),
        phone: lead.phone.clone(),
        email: lead.email.clone(),
        source: lead.source.clone(),
        ..Default::default()
    })
}

/// The primary contact a lead becomes, its violations named under `lead.`.
fn contact_of(lead: &Lead) -> std::result::Result<Contact, DomainError> {
    Contact::create(ContactInput {
        name: Some(lead.name.clone()),
        phone: lead.phone.clone(),
        email: lead.email.clone(),
        is_primary: Some(true),
        ..Default::default()
    })
    .map_err(|e| match e {
        DomainError::Validation(v) => {
            DomainError::Validation(v.into_iter().map(|f| f.nested_under("lead")).collect())
        }
        other => other,
    })
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
    db.write(async |tx| {
        let current =
            lock_for_change::<leads::Entity, _>(tx, &actor.principal.scope(), id, None).await?;
        status_of(&current)?.convertible()?;
        let lead_owner = current.owner_id;
        let lead = to_domain(&current);
        let customer = match customer_id {
            Some(cid) => {
                customers::lock_writable(tx, actor, cid, None)
                    .await
                    .map_err(customers::named_in_body("customer_id"))?
                    .id
            }
            None => {
                customers::create_in(
                    tx,
                    actor,
                    &customer_of(&lead)?,
                    Some(lead_owner),
                    allow_duplicate,
                )
                .await?
                .id
            }
        };
        let contact = contacts::create_in(tx, actor, customer, &contact_of(&lead)?).await?;
        let opportunity_id = match opportunity.clone() {
            Some(draft) => Some(
                opportunities::create_in(
                    tx,
                    actor,
                    opportunities::NewOpportunity {
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
        let t = now();
        let converted = uow::save(tx, Some(actor), AuditAction::Convert, current, |am| {
            am.status = Set(LeadStatus::Converted.as_str().to_owned());
            am.converted_at = Set(Some(t));
            am.customer_id = Set(Some(customer));
            am.contact_id = Set(Some(contact.id));
            am.opportunity_id = Set(opportunity_id);
        })
        .await?;
        let lead = record(converted)?;
        crate::webhooks::emit(tx, sims_domain::webhook::EventType::LeadConverted, &lead).await?;
        Ok(Conversion {
            lead,
            customer_id: customer,
            contact_id: contact.id,
            opportunity_id,
        })
    })
    .await
}
