//! Contacts as CSV: the import (onto customers the caller may change) and the export.

use actix_web::{HttpResponse, get, post, web};
use sims_domain::customer::ContactRecord;
use sims_domain::customer::{Contact, ContactInput};
use sims_domain::import::{ImportReport, RowError};
use sims_persistence::contacts::{self, ContactFilter};
use sims_persistence::import::ContactImport;
use sims_persistence::{Database, ListRequest, customers};
use uuid::Uuid;

use super::{ImportQuery, RowKind, boolean, export_request, finish, stream, timestamp};
use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{CsvBody, Query};
use crate::listing::{NEWEST_FIRST, PageParams};
use crate::responses::{Authenticated, WithQuery};
use crate::routes::Routes;
use crate::routes::contacts::ContactQuery;

/// A column of a contact file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    CustomerId,
    Name,
    Title,
    Phone,
    Email,
    IsPrimary,
}

/// Rows of contacts, each naming its customer.
pub(crate) struct Contacts;

impl RowKind for Contacts {
    type Column = Column;
    type Row = (Uuid, Contact);

    fn column(h: &str) -> Option<Column> {
        Some(match h.trim().to_lowercase().as_str() {
            "customer_id" | "客户id" | "客户编号" => Column::CustomerId,
            "name" | "姓名" | "联系人" => Column::Name,
            "title" | "职位" | "职务" => Column::Title,
            "phone" | "mobile" | "电话" | "手机" => Column::Phone,
            "email" | "邮箱" => Column::Email,
            "is_primary" | "primary" | "主要联系人" => Column::IsPrimary,
            _ => return None,
        })
    }

    fn required() -> &'static [(Column, &'static str)] {
        &[(Column::CustomerId, "customer_id"), (Column::Name, "name")]
    }

    fn name(column: Column) -> &'static str {
        match column {
            Column::CustomerId => "customer_id",
            Column::Name => "name",
            Column::Title => "title",
            Column::Phone => "phone",
            Column::Email => "email",
            Column::IsPrimary => "is_primary",
        }
    }

    fn parse(
        cells: Vec<(Column, &str)>,
        line: u64,
        mut problems: Vec<RowError>,
    ) -> Result<(Uuid, Contact), Vec<RowError>> {
        let mut input = ContactInput::default();
        let mut customer = None;
        for (col, value) in cells {
            let v = Some(value.to_owned());
            match col {
                Column::CustomerId => match Uuid::parse_str(value) {
                    Ok(id) => customer = Some(id),
                    Err(_) => problems.push(RowError::new(
                        line,
                        Some("customer_id"),
                        "invalid_uuid",
                        "customer_id must be a UUID",
                    )),
                },
                Column::Name => input.name = v,
                Column::Title => input.title = v,
                Column::Phone => input.phone = v,
                Column::Email => input.email = v,
                Column::IsPrimary => match boolean(value) {
                    Some(b) => input.is_primary = Some(b),
                    None => problems.push(RowError::new(
                        line,
                        Some("is_primary"),
                        "invalid_type",
                        "is_primary must be true or false",
                    )),
                },
            }
        }
        if customer.is_none()
            && !problems
                .iter()
                .any(|e| e.field.as_deref() == Some("customer_id"))
        {
            problems.push(RowError::new(
                line,
                Some("customer_id"),
                "required",
                "customer_id is required",
            ));
        }
        let contact = finish(line, Contact::create(input), problems)?;
        // Without a customer the row already has a problem, so `finish` refused it.
        customer.map(|id| (id, contact)).ok_or_else(Vec::new)
    }
}

/// Imports contacts from CSV (columns `customer_id`, `name`, `title`, `phone`, `email`,
/// `is_primary`, or their Chinese names) onto customers the caller may change. Same
/// rules as the customer import: a per-row report, `dry_run`, all or nothing unless
/// `skip_invalid`.
#[utoipa::path(tag = "contacts", operation_id = "import_contacts", params(ImportQuery), request_body(description = "A CSV file with a header row: the body itself, or the `file` part of a form", content((String = "text/csv"), (crate::extract::CsvUpload = "multipart/form-data"))), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "What the import found and did", body = ImportReport),
    (status = 413, description = "Over `import.max_bytes`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad rows (all or nothing) or missing columns", body = Problem, content_type = "application/problem+json"),
))]
#[post("/contacts/import")]
pub async fn import_contacts(
    ctx: Ctx,
    options: Query<ImportQuery>,
    body: CsvBody,
) -> ApiResult<web::Json<ImportReport>> {
    super::import::<Contacts, _>(&ctx, &ContactImport, options.0.options(), &body.0).await
}

const HEADER: [&str; 10] = [
    "id",
    "customer_id",
    "name",
    "title",
    "phone",
    "email",
    "is_primary",
    "created_at",
    "updated_at",
    "version",
];

fn row(r: ContactRecord) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.customer_id.to_string(),
        r.name,
        r.title.unwrap_or_default(),
        r.phone.unwrap_or_default(),
        r.email.unwrap_or_default(),
        r.is_primary.to_string(),
        timestamp(Some(r.created_at)),
        timestamp(Some(r.updated_at)),
        r.version.to_string(),
    ]
}

/// Streams the contacts the caller may see as CSV, with the filters of `GET /contacts`.
#[utoipa::path(tag = "contacts", operation_id = "export_contacts", params(ContactQuery, ("sort" = Option<String>, Query, description = "As on the list")), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "CSV", body = String, content_type = "text/csv"),
    (status = 404, description = "The filtered customer is not in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/contacts/export")]
pub async fn export_contacts(
    ctx: Ctx,
    query: Query<ContactQuery>,
    paging: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let req = export_request(paging.0, contacts::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = ContactFilter::from(query.0);
    let scope = ctx.scope();
    if let Some(c) = filter.customer_id {
        customers::get(ctx.db.conn(), &scope, c).await?;
    }
    let db: Database = ctx.db.clone();
    let fetch = move |req: ListRequest| {
        let (db, scope, filter) = (db.clone(), scope.clone(), filter.clone());
        async move { contacts::list(db.conn(), &scope, &filter, &req).await }
    };
    Ok(stream(&HEADER, req, fetch, row, "contacts.csv"))
}

/// Registers the contact CSV routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(import_contacts).service(export_contacts);
}
