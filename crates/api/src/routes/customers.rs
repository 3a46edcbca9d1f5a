//! Customers (客户): CRUD in the caller's scope, filters and search, duplicate checks (查重).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::DomainError;
use sims_domain::customer::CustomerRecord;
use sims_domain::customer::{
    Customer, CustomerInput, CustomerKind, CustomerLevel, CustomerPatch, duplicate_keys,
};
use sims_domain::values::parse_tag;
use sims_persistence::customers::{self, CustomerFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Id, IfMatch, Json, Query};
use crate::listing::{NEWEST_FIRST, PageOf, PageParams, double_option};
use crate::reply::{Created, Tagged};
use crate::responses::{Authenticated, WithBody, WithId, WithIfMatch, WithQuery};
use crate::routes::Routes;

/// A new customer. The caller owns it unless a manager or admin names `owner_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "杭州西湖科技有限公司", "kind": "company", "level": "A", "industry": "制造业", "source": "展会", "phone": "+86 571 8888 6666", "email": "info@xihu-tech.cn", "province": "浙江", "city": "杭州", "address": "文三路 100 号", "tags": ["重点客户"]}))]
pub struct CreateCustomer {
    /// 1–200 characters.
    pub name: String,
    /// Defaults to `company`.
    pub kind: Option<CustomerKind>,
    pub level: Option<CustomerLevel>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    /// Up to 20 tags of up to 50 characters.
    pub tags: Option<Vec<String>>,
    /// Up to 10,000 characters.
    pub notes: Option<String>,
    /// Owner other than the caller (managers and admins only).
    pub owner_id: Option<Uuid>,
}

/// A change to a customer: only the fields sent change; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"level": "B", "city": null}))]
pub struct UpdateCustomer {
    pub name: Option<String>,
    pub kind: Option<CustomerKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<CustomerLevel>)]
    pub level: Option<Option<CustomerLevel>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub province: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// Filters of the customer list (combined with AND).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
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
    /// Created at or after (RFC 3339).
    pub created_after: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub created_before: Option<DateTime<Utc>>,
    /// Changed after (RFC 3339): what a mobile client syncs.
    pub updated_after: Option<DateTime<Utc>>,
    /// Case-insensitive search in name, email and phone digits. With field encryption on
    /// (`SIMS_ENCRYPTION__KEY`), a phone or email matches by its whole normalised value.
    pub q: Option<String>,
}

impl From<CustomerQuery> for CustomerFilter {
    fn from(q: CustomerQuery) -> Self {
        CustomerFilter {
            owner_id: q.owner_id,
            in_pool: q.in_pool,
            level: q.level,
            kind: q.kind,
            industry: q.industry,
            source: q.source,
            province: q.province,
            city: q.city,
            tag: q.tag,
            created_after: q.created_after,
            created_before: q.created_before,
            updated_after: q.updated_after,
            q: q.q,
        }
    }
}

/// `?allow_duplicate=true` writes even when the customer matches another one.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicatePolicy {
    pub allow_duplicate: Option<bool>,
}

/// What a duplicate check compares.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicateQuery {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Customers matching a duplicate check: ids only, whatever their owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateMatches {
    pub matches: Vec<Uuid>,
}

/// Creates a customer. One whose normalised name, phone or email matches an existing
/// customer is refused with `409 duplicate_customer` listing the matches' ids, unless
/// `allow_duplicate=true`.
#[utoipa::path(tag = "customers", operation_id = "create_customer", params(DuplicatePolicy), request_body = CreateCustomer, responses(
    Authenticated,
    WithBody,
    (status = 201, description = "Created: the new customer", body = CustomerRecord, headers(("Location" = String), ("ETag" = String))),
    (status = 403, description = "A rep naming another owner", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "duplicate_customer, with `matches`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers")]
pub async fn create_customer(
    ctx: Ctx,
    policy: Query<DuplicatePolicy>,
    body: Json<CreateCustomer>,
) -> ApiResult<Created<CustomerRecord>> {
    let b = body.0;
    let owner = b.owner_id.unwrap_or(ctx.principal.user_id);
    if !ctx.principal.may_assign_owner(owner) {
        return Err(DomainError::Forbidden(
            "only managers and admins may create customers for someone else".into(),
        )
        .into());
    }
    let customer = Customer::create(CustomerInput {
        name: Some(b.name),
        kind: b.kind,
        level: b.level,
        industry: b.industry,
        source: b.source,
        phone: b.phone,
        email: b.email,
        province: b.province,
        city: b.city,
        address: b.address,
        tags: b.tags,
        notes: b.notes,
    })?;
    let m = customers::create(
        &ctx.db,
        &ctx.actor(),
        customer,
        Some(owner),
        policy.0.allow_duplicate.unwrap_or(false),
    )
    .await?;
    Ok(Created::at(format!("/api/v1/customers/{}", m.id), m))
}

/// Lists the customers the caller may see (their own, their teams' for managers, all
/// for admins, and the pool), filtered, searched and sorted (`created_at`,
/// `updated_at`, `name`; default `-created_at`).
#[utoipa::path(tag = "customers", operation_id = "list_customers", params(CustomerQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of customers", body = PageOf<CustomerRecord>),
))]
#[get("/customers")]
pub async fn list_customers(
    ctx: Ctx,
    query: Query<CustomerQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<CustomerRecord>>> {
    let req = paging.0.to_request(customers::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = CustomerFilter::from(query.0);
    let page = customers::list(ctx.db.conn(), &ctx.scope(), &filter, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// Runs the duplicate check (查重) without writing: ids of every customer whose
/// normalised name, phone or email matches. Only ids are returned, whoever owns them.
#[utoipa::path(tag = "customers", operation_id = "find_duplicate_customers", params(DuplicateQuery), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "Ids of the matching customers", body = DuplicateMatches),
))]
#[get("/customers/duplicates")]
pub async fn find_duplicate_customers(
    ctx: Ctx,
    query: Query<DuplicateQuery>,
) -> ApiResult<web::Json<DuplicateMatches>> {
    let q = query.0;
    let keys = duplicate_keys(q.name.as_deref(), q.phone.as_deref(), q.email.as_deref());
    let matches = customers::find_duplicates(ctx.db.conn(), &keys, None).await?;
    Ok(web::Json(DuplicateMatches { matches }))
}

/// One customer. Customers outside the caller's scope answer `404`, like missing ones.
#[utoipa::path(tag = "customers", operation_id = "get_customer", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
))]
#[get("/customers/{id}")]
pub async fn get_customer(ctx: Ctx, id: Id) -> ApiResult<Tagged<CustomerRecord>> {
    Ok(Tagged(
        customers::get(ctx.db.conn(), &ctx.scope(), id.0).await?,
    ))
}

/// Changes the fields sent. With `If-Match`, a stale version is refused with `412`.
#[utoipa::path(tag = "customers", operation_id = "update_customer", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read"), DuplicatePolicy), request_body = UpdateCustomer, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep changing a pool customer", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "duplicate_customer", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/customers/{id}")]
pub async fn update_customer(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    policy: Query<DuplicatePolicy>,
    body: Json<UpdateCustomer>,
) -> ApiResult<Tagged<CustomerRecord>> {
    let b = body.0;
    let patch = CustomerPatch {
        name: b.name,
        kind: b.kind,
        level: b.level,
        industry: b.industry,
        source: b.source,
        phone: b.phone,
        email: b.email,
        province: b.province,
        city: b.city,
        address: b.address,
        tags: b.tags,
        notes: b.notes,
    };
    let m = customers::update(
        &ctx.db,
        &ctx.actor(),
        id.0,
        patch,
        if_match.0,
        policy.0.allow_duplicate.unwrap_or(false),
    )
    .await?;
    Ok(Tagged(m))
}

/// The customers folded into another.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from_ids": ["01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e"]}))]
pub struct MergeCustomers {
    /// 1–20 customers in the caller's scope, none the target; earlier ones fill the
    /// target's empty fields first.
    pub from_ids: Vec<Uuid>,
}

/// Merges duplicates into this customer (managers and admins), in one transaction:
/// their contacts, follow-ups, opportunities, orders, leads' links and tags move over
/// (one primary contact survives: the target's, else the first merged one's); a field
/// the target leaves empty takes the first merged customer's value; the merged customers
/// are deleted (`404` from now on, listed in `/deletions`); the audit records what went
/// where. With `If-Match`, a stale target version is refused with `412`.
#[utoipa::path(tag = "customers", operation_id = "merge_customers", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the target from a previous read")), request_body = MergeCustomers, responses(
    Authenticated,
    WithId,
    WithBody,
    WithIfMatch,
    (status = 200, description = "The surviving customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 403, description = "Not a manager or admin", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/merge")]
pub async fn merge_customers(
    ctx: Ctx,
    id: Id,
    if_match: IfMatch,
    body: Json<MergeCustomers>,
) -> ApiResult<Tagged<CustomerRecord>> {
    ctx.principal.require_manager()?;
    let m =
        sims_persistence::merge::merge(&ctx.db, &ctx.actor(), id.0, &body.0.from_ids, if_match.0)
            .await?;
    Ok(Tagged(m))
}

/// Deletes a customer with its contacts.
#[utoipa::path(tag = "customers", operation_id = "delete_customer", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)), responses(
    Authenticated,
    WithId,
    WithIfMatch,
    (status = 204, description = "Deleted"),
    (status = 403, description = "A rep deleting a pool customer", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`customer_in_use`: it has orders or opportunities", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/customers/{id}")]
pub async fn delete_customer(ctx: Ctx, id: Id, if_match: IfMatch) -> ApiResult<HttpResponse> {
    customers::delete(&ctx.db, &ctx.actor(), id.0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tags to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tags": ["重点客户", "华东"]}))]
pub struct AddTags {
    pub tags: Vec<String>,
}

/// A tag and how many visible customers carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// Adds tags to a customer (ones it already has are kept once; at most 20 in all).
#[utoipa::path(tag = "customers", operation_id = "add_customer_tags", params(("id" = Uuid, Path)), request_body = AddTags, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep changing a pool customer", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/{id}/tags")]
pub async fn add_customer_tags(
    ctx: Ctx,
    id: Id,
    body: Json<AddTags>,
) -> ApiResult<Tagged<CustomerRecord>> {
    let m = customers::add_tags(&ctx.db, &ctx.actor(), id.0, body.0.tags).await?;
    Ok(Tagged(m))
}

/// Removes a tag from a customer.
#[utoipa::path(tag = "customers", operation_id = "remove_customer_tag", params(("id" = Uuid, Path), ("tag" = String, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The customer", body = CustomerRecord, headers(("ETag" = String))),
    (status = 403, description = "A rep changing a pool customer", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/customers/{id}/tags/{tag}")]
pub async fn remove_customer_tag(
    ctx: Ctx,
    id: Id,
    req: actix_web::HttpRequest,
) -> ApiResult<Tagged<CustomerRecord>> {
    let tag = parse_tag("tag", req.match_info().get("tag").unwrap_or_default())
        .map_err(|v| ApiError::fields(ErrorCode::InvalidParameter, vec![v]))?;
    let m = customers::remove_tag(&ctx.db, &ctx.actor(), id.0, &tag).await?;
    Ok(Tagged(m))
}

/// The tags on the customers the caller may see, with counts, most used first (then by
/// name), paged like every list.
#[utoipa::path(tag = "customers", operation_id = "list_tags", params(PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of tags, most used first", body = PageOf<TagCount>),
))]
#[get("/tags")]
pub async fn list_tags(
    ctx: Ctx,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<TagCount>>> {
    let req = paging.0.to_request(&[], &[])?;
    let page = customers::tag_counts(ctx.db.conn(), &ctx.scope(), &req).await?;
    Ok(web::Json(PageOf::from_page(page, |t| TagCount {
        tag: t.tag,
        count: t.count,
    })))
}

/// When the due list ends.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Customers whose next follow-up is before this instant (RFC 3339; default: now).
    pub before: Option<DateTime<Utc>>,
}

/// The caller's own customers due for a follow-up (`next_follow_up_at` before
/// `before`), soonest first.
#[utoipa::path(tag = "customers", operation_id = "list_customers_due_for_follow_up", params(DueQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of customers", body = PageOf<CustomerRecord>),
))]
#[get("/customers/due-for-follow-up")]
pub async fn list_customers_due_for_follow_up(
    ctx: Ctx,
    query: Query<DueQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<CustomerRecord>>> {
    let soonest = [sims_domain::listing::SortKey {
        field: "next_follow_up_at",
        descending: false,
    }];
    let req = paging.0.to_request(&["next_follow_up_at"], &soonest)?;
    let before = query.0.before.unwrap_or_else(sims_persistence::now);
    let page =
        customers::due_for_follow_up(ctx.db.conn(), ctx.principal.user_id, before, &req).await?;
    Ok(web::Json(PageOf::from(page)))
}

/// Registers the customer routes (the fixed path before `{id}`).
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_customer)
        .service(list_customers)
        .service(find_duplicate_customers)
        .service(list_customers_due_for_follow_up)
        .service(list_tags)
        .service(add_customer_tags)
        .service(remove_customer_tag)
        .service(get_customer)
        .service(update_customer)
        .service(merge_customers)
        .service(delete_customer);
}
