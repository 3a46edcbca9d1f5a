//! Contacts (联系人): people at a customer, seen exactly when their customer is.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sims_domain::customer::ContactRecord;
use sims_domain::customer::{Contact, ContactInput, ContactPatch};
use sims_persistence::contacts::{self, ContactFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new contact. `is_primary: true` un-marks the customer's previous primary contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "韩梅梅", "title": "采购经理", "phone": "13800138000", "email": "han@xihu-tech.cn", "is_primary": true}))]
pub struct CreateContact {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub is_primary: Option<bool>,
}

/// A change to a contact; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "采购总监", "phone": null}))]
pub struct UpdateContact {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub is_primary: Option<bool>,
}

/// Filters of the contact lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Only this customer's contacts (on `GET /contacts`).
    pub customer_id: Option<Uuid>,
    pub is_primary: Option<bool>,
    /// Changed after (RFC 3339).
    pub updated_after: Option<DateTime<Utc>>,
    /// Case-insensitive search in name, email and phone digits. With field encryption on
    /// (`SIMS_ENCRYPTION__KEY`), a phone or email matches by its whole normalised value.
    pub q: Option<String>,
}

impl From<ContactQuery> for ContactFilter {
    fn from(q: ContactQuery) -> Self {
        ContactFilter {
            customer_id: q.customer_id,
            is_primary: q.is_primary,
            updated_after: q.updated_after,
            q: q.q,
        }
    }
}

/// Adds a contact to a customer the caller may change.
#[utoipa::path(tag = "contacts", operation_id = "create_contact", params(("id" = Uuid, Path, description = "The customer")), request_body = CreateContact, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 201, description = "Created: the new contact", body = ContactRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "A rep adding to a pool customer", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/contacts")]
pub async fn create_contact(
    ctx: Ctx,
    id: Id,
    body: Json<CreateContact>,
) -> ApiResult<Created<ContactRecord>> {
    let b = body.0;
    let contact = Contact::create(ContactInput {
        name: Some(b.name),
        title: b.title,
        phone: b.phone,
        email: b.email,
        is_primary: b.is_primary,
    })?;
    let m = contacts::create(&ctx.db, &ctx.actor(), id.0, contact).await?;
    Ok(Created::at(format!("/api/v1/contacts/{}", m.id), m))
}

/// Lists one customer's contacts.
#[utoipa::path(tag = "contacts", operation_id = "list_customer_contacts", params(("id" = Uuid, Path, description = "The customer"), PageParams), responses(
    Authenticated,
    WithId,
    (status = 200, description = "A page of contacts", body = PageOf<ContactRecord>),
))]
#[get("/customers/{id}/contacts")]
pub async fn list_customer_contacts(
    ctx: Ctx,
    id: Id,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<ContactRecord>>> {
    let req = paging.0.to_request(contacts::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = ContactFilter {
        customer_id: Some(id.0),
        ..Default::default()
    };
    let page = contacts::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// Lists every contact the caller may see (of customers in their scope and the pool).
#[utoipa::path(tag = "contacts", operation_id = "list_contacts", params(ContactQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of contacts", body = PageOf<ContactRecord>),
    (status = 404, description = "The filtered customer is not in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/contacts")]
pub async fn list_contacts(
    ctx: Ctx,
    query: Query<ContactQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<ContactRecord>>> {
    let req = paging.0.to_request(contacts::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = ContactFilter::from(query.0);
    let page = contacts::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// One contact.
#[utoipa::path(tag = "contacts", operation_id = "get_contact", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The contact", body = ContactRecord, headers(("ETag" = String))),
))]
#[get("/contacts/{id}")]
pub async fn get_contact(ctx: Ctx, id: Id) -> ApiResult<Tagged<ContactRecord>> {
    Ok(Tagged(
        contacts::get(ctx.db.conn(), &ctx.scope(), id.0).await?,
    ))
}

/// Changes a contact.
#[utoipa::path(tag = "contacts", operation_id = "update_contact", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateContact, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The contact", body = ContactRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep changing a pool customer's contact", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/contacts/{id}")]
pub async fn update_contact(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<UpdateContact>,
) -> ApiResult<Tagged<ContactRecord>> {
    let b = body.0;
    let patch = ContactPatch {
        name: b.name,
        title: b.title,
        phone: b.phone,
        email: b.email,
        is_primary: b.is_primary,
    };
    let m = contacts::update(&ctx.db, &ctx.actor(), id.0, patch, if_match.0).await?;
    Ok(Tagged(m))
}

/// Deletes a contact.
#[utoipa::path(tag = "contacts", operation_id = "delete_contact", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
    (status = 403, description = "A rep changing a pool customer's contact", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/contacts/{id}")]
pub async fn delete_contact(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    contacts::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the contact routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_contact)
        .service(list_customer_contacts)
        .service(list_contacts)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact);
}
