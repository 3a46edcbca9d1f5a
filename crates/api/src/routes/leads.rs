//! Leads (线索): capture, qualify, assign and convert.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::DomainError;
use sims_domain::lead::LeadRecord;
use sims_domain::lead::{Lead, LeadInput, LeadPatch, LeadStatus};
use sims_persistence::leads::{self, LeadChange, LeadFilter, OpportunityDraft};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;
use crate::routes::customers::DuplicatePolicy;

/// A new lead, owned by the caller unless a manager or admin names `owner_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "王五", "company": "宁波五金有限公司", "phone": "13900001111", "source": "官网"}))]
pub struct CreateLead {
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: Option<String>,
    pub owner_id: Option<Uuid>,
}

/// A change to a lead: fields, `status` (`new → contacted → qualified | disqualified`),
/// or `owner_id` (managers and admins).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "qualified", "company": "宁波五金有限公司"}))]
pub struct UpdateLead {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    pub status: Option<LeadStatus>,
    pub owner_id: Option<Uuid>,
}

/// Filters of the lead list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    pub status: Option<LeadStatus>,
    pub owner_id: Option<Uuid>,
    pub source: Option<String>,
    pub updated_after: Option<DateTime<Utc>>,
    /// Search in name, company, email and phone digits.
    pub q: Option<String>,
}

/// How to convert a lead.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"customer_id": null, "opportunity": {"name": "首单 2027", "amount": "50000.00"}}))]
pub struct ConvertLead {
    /// Link this existing customer instead of creating one.
    pub customer_id: Option<Uuid>,
    /// Also open an opportunity on the customer, in the first open stage.
    pub opportunity: Option<ConvertOpportunity>,
}

/// The opportunity a conversion opens.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertOpportunity {
    pub name: String,
    #[schema(value_type = String, example = "50000.00")]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub amount: rust_decimal::Decimal,
    /// ISO 4217, default `CNY`.
    pub currency: Option<String>,
    pub expected_close_date: Option<chrono::NaiveDate>,
}

/// What a conversion produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadConversion {
    pub lead: LeadRecord,
    pub customer_id: Uuid,
    pub contact_id: Uuid,
    /// The opportunity opened with it, when asked for.
    pub opportunity_id: Option<Uuid>,
}

/// Creates a lead.
#[utoipa::path(tag = "leads", operation_id = "create_lead", request_body = CreateLead, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new lead", body = LeadRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "A rep naming another owner", body = Problem, content_type = "application/problem+json"),
))]
#[post("/leads")]
pub async fn create_lead(ctx: Ctx, body: Json<CreateLead>) -> ApiResult<Created<LeadRecord>> {
    let b = body.0;
    let owner = b.owner_id.unwrap_or(ctx.principal.user_id);
    if !ctx.principal.may_assign_owner(owner) {
        return Err(DomainError::Forbidden(
            "only managers and admins may create leads for someone else".into(),
        )
        .into());
    }
    let lead = Lead::create(LeadInput {
        name: Some(b.name),
        company: b.company,
        phone: b.phone,
        email: b.email,
        source: b.source,
    })?;
    let m = leads::create(&ctx.db, &ctx.actor(), lead, owner).await?;
    Ok(Created::at(format!("/api/v1/leads/{}", m.id), m))
}

/// Lists the leads the caller may see.
#[utoipa::path(tag = "leads", operation_id = "list_leads", params(LeadQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of leads", body = PageOf<LeadRecord>),
))]
#[get("/leads")]
pub async fn list_leads(
    ctx: Ctx,
    query: Query<LeadQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<LeadRecord>>> {
    let req = paging.0.to_request(leads::SORT_FIELDS, NEWEST_FIRST)?;
    let q = query.0;
    let filter = LeadFilter {
        status: q.status,
        owner_id: q.owner_id,
        source: q.source,
        updated_after: q.updated_after,
        q: q.q,
    };
    let page = leads::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// One lead.
#[utoipa::path(tag = "leads", operation_id = "get_lead", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The lead", body = LeadRecord, headers(("ETag" = String))),
))]
#[get("/leads/{id}")]
pub async fn get_lead(ctx: Ctx, id: Id) -> ApiResult<Tagged<LeadRecord>> {
    Ok(Tagged(leads::get(ctx.db.conn(), &ctx.scope(), id.0).await?))
}

/// Changes a lead; a status move outside the machine is `409 invalid_transition`.
#[utoipa::path(tag = "leads", operation_id = "update_lead", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateLead, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The lead", body = LeadRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep reassigning", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/leads/{id}")]
pub async fn update_lead(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateLead>,
) -> ApiResult<Tagged<LeadRecord>> {
    let b = body.0;
    let change = LeadChange {
        fields: LeadPatch {
            name: b.name,
            company: b.company,
            phone: b.phone,
            email: b.email,
            source: b.source,
        },
        status: b.status,
        owner_id: b.owner_id,
    };
    Ok(Tagged(
        leads::update(&ctx.db, &ctx.actor(), id.0, change, if_match.0).await?,
    ))
}

/// Deletes a lead.
#[utoipa::path(tag = "leads", operation_id = "delete_lead", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
))]
#[delete("/leads/{id}")]
pub async fn delete_lead(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    leads::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Converts a lead (`new`, `contacted` or `qualified`) in one transaction: creates a
/// customer from it, or links `customer_id`, adds the lead as the customer's primary
/// contact, and marks the lead converted with links to both. Converting twice is
/// `409 invalid_transition`; a new customer matching an existing one is
/// `409 duplicate_customer` unless `allow_duplicate=true`.
#[utoipa::path(tag = "leads", operation_id = "convert_lead", params(("id" = Uuid, Path), DuplicatePolicy), request_body = ConvertLead, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 200, description = "The converted lead and what it became", body = LeadConversion),
    (status = 403, description = "Linking a pool customer as a rep", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition or duplicate_customer", body = Problem, content_type = "application/problem+json"),
))]
#[post("/leads/{id}/convert")]
pub async fn convert_lead(
    ctx: Ctx,
    id: Id,
    policy: Query<DuplicatePolicy>,
    body: Json<ConvertLead>,
) -> ApiResult<web::Json<LeadConversion>> {
    let b = body.0;
    let opportunity = match b.opportunity {
        Some(o) => {
            let d = sims_domain::pipeline::OpportunityDraft::parse(
                "opportunity.",
                &o.name,
                o.amount,
                o.currency.as_deref(),
            )?;
            Some(OpportunityDraft {
                name: d.name,
                amount_minor: d.amount_minor,
                currency: d.currency,
                expected_close_date: o.expected_close_date,
            })
        }
        None => None,
    };
    let c = leads::convert(
        &ctx.db,
        &ctx.actor(),
        id.0,
        b.customer_id,
        opportunity,
        policy.0.allow_duplicate.unwrap_or(false),
    )
    .await?;
    Ok(web::Json(LeadConversion {
        lead: c.lead,
        customer_id: c.customer_id,
        contact_id: c.contact_id,
        opportunity_id: c.opportunity_id,
    }))
}

/// Registers the lead routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_lead)
        .service(list_leads)
        .service(get_lead)
        .service(update_lead)
        .service(delete_lead)
        .service(convert_lead);
}
