//! Customers as CSV: the import's columns and rows, and the export.

use actix_web::{HttpResponse, get, post, web};
use sims_domain::customer::CustomerRecord;
use sims_domain::customer::{Customer, CustomerInput, CustomerKind, CustomerLevel};
use sims_domain::import::{ImportReport, RowError};
use sims_persistence::customers::{self, CustomerFilter};
use sims_persistence::import::CustomerImport;
use sims_persistence::{Database, ListRequest};

use super::{ImportQuery, RowKind, export_request, finish, stream, timestamp};
use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{CsvBody, Query};
use crate::listing::{NEWEST_FIRST, PageParams};
use crate::responses::{Authenticated, WithQuery};
use crate::routes::Routes;
use crate::routes::customers::CustomerQuery;

/// A column of a customer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Name,
    Kind,
    Level,
    Industry,
    Source,
    Phone,
    Email,
    Province,
    City,
    Address,
    Tags,
    Notes,
}

fn parse_kind(s: &str) -> Option<CustomerKind> {
    match s.to_lowercase().as_str() {
        "company" | "企业" | "公司" => Some(CustomerKind::Company),
        "individual" | "个人" => Some(CustomerKind::Individual),
        _ => None,
    }
}

/// Rows of customers.
pub(crate) struct Customers;

impl RowKind for Customers {
    type Column = Column;
    type Row = Customer;

    fn column(h: &str) -> Option<Column> {
        Some(match h.trim().to_lowercase().as_str() {
            "name" | "customer" | "customer_name" | "名称" | "客户名称" | "客户" | "公司名称" => {
                Column::Name
            }
            "kind" | "type" | "类型" | "客户类型" => Column::Kind,
            "level" | "grade" | "级别" | "客户级别" | "等级" => Column::Level,
            "industry" | "行业" => Column::Industry,
            "source" | "来源" | "客户来源" => Column::Source,
            "phone" | "telephone" | "mobile" | "电话" | "手机" | "联系电话" => {
                Column::Phone
            }
            "email" | "e-mail" | "邮箱" | "电子邮箱" => Column::Email,
            "province" | "省份" | "省" => Column::Province,
            "city" | "城市" | "市" => Column::City,
            "address" | "地址" | "详细地址" => Column::Address,
            "tags" | "标签" => Column::Tags,
            "notes" | "note" | "备注" => Column::Notes,
            _ => return None,
        })
    }

    fn required() -> &'static [(Column, &'static str)] {
        &[(Column::Name, "name (or 客户名称)")]
    }

    fn name(column: Column) -> &'static str {
        match column {
            Column::Name => "name",
            Column::Kind => "kind",
            Column::Level => "level",
            Column::Industry => "industry",
            Column::Source => "source",
            Column::Phone => "phone",
            Column::Email => "email",
            Column::Province => "province",
            Column::City => "city",
            Column::Address => "address",
            Column::Tags => "tags",
            Column::Notes => "notes",
        }
    }

    fn parse(
        cells: Vec<(Column, &str)>,
        line: u64,
        mut problems: Vec<RowError>,
    ) -> Result<Customer, Vec<RowError>> {
        let mut input = CustomerInput::default();
        for (col, value) in cells {
            let v = Some(value.to_owned());
            match col {
                Column::Name => input.name = v,
                Column::Kind => match parse_kind(value) {
                    Some(k) => input.kind = Some(k),
                    None => problems.push(RowError::new(
                        line,
                        Some("kind"),
                        "invalid_choice",
                        "kind must be company or individual",
                    )),
                },
                Column::Level => match CustomerLevel::parse(&value.to_uppercase()) {
                    Some(l) => input.level = Some(l),
                    None => problems.push(RowError::new(
                        line,
                        Some("level"),
                        "invalid_choice",
                        "level must be A, B, C or D",
                    )),
                },
                Column::Industry => input.industry = v,
                Column::Source => input.source = v,
                Column::Phone => input.phone = v,
                Column::Email => input.email = v,
                Column::Province => input.province = v,
                Column::City => input.city = v,
                Column::Address => input.address = v,
                Column::Tags => {
                    input.tags = Some(
                        value
                            .split([';', '|', '；'])
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    )
                }
                Column::Notes => input.notes = v,
            }
        }
        finish(line, Customer::create(input), problems)
    }
}

/// Imports customers from CSV (UTF-8, with or without BOM, a header row; columns `name`,
/// `kind`, `level`, `industry`, `source`, `phone`, `email`, `province`, `city`,
/// `address`, `tags` (separated by `;`), `notes`, or their Chinese names). Every row is
/// validated and checked for duplicates in the file and against existing customers.
/// `dry_run=true` writes nothing; otherwise the import is all or nothing (`422` listing
/// every bad row) unless `skip_invalid=true`. The caller owns the imported customers.
#[utoipa::path(tag = "customers", operation_id = "import_customers", params(ImportQuery), request_body(description = "A CSV file with a header row: the body itself, or the `file` part of a form", content((String = "text/csv"), (crate::extract::CsvUpload = "multipart/form-data"))), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "What the import found and did", body = ImportReport),
    (status = 413, description = "Over `import.max_bytes`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad rows (all or nothing) or a header without a name column", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/import")]
pub async fn import_customers(
    ctx: Ctx,
    options: Query<ImportQuery>,
    body: CsvBody,
) -> ApiResult<web::Json<ImportReport>> {
    let target = CustomerImport {
        allow_duplicate: options.0.allow_duplicate.unwrap_or(false),
    };
    super::import::<Customers, _>(&ctx, &target, options.0.options(), &body.0).await
}

const HEADER: [&str; 19] = [
    "id",
    "name",
    "kind",
    "level",
    "industry",
    "source",
    "phone",
    "email",
    "province",
    "city",
    "address",
    "tags",
    "notes",
    "owner_id",
    "last_follow_up_at",
    "next_follow_up_at",
    "created_at",
    "updated_at",
    "version",
];

fn row(r: CustomerRecord) -> Vec<String> {
    let c = r;
    vec![
        c.id.to_string(),
        c.name,
        c.kind.as_str().to_owned(),
        c.level.map(|l| l.as_str().to_owned()).unwrap_or_default(),
        c.industry.unwrap_or_default(),
        c.source.unwrap_or_default(),
        c.phone.unwrap_or_default(),
        c.email.unwrap_or_default(),
        c.province.unwrap_or_default(),
        c.city.unwrap_or_default(),
        c.address.unwrap_or_default(),
        c.tags.join(";"),
        c.notes.unwrap_or_default(),
        c.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        timestamp(c.last_follow_up_at),
        timestamp(c.next_follow_up_at),
        timestamp(Some(c.created_at)),
        timestamp(Some(c.updated_at)),
        c.version.to_string(),
    ]
}

/// Streams the customers the caller may see as CSV (UTF-8 with BOM), with the same
/// filters and sort as `GET /customers`: exactly what the list shows, every page of it.
#[utoipa::path(tag = "customers", operation_id = "export_customers", params(CustomerQuery, ("sort" = Option<String>, Query, description = "As on the list")), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "CSV", body = String, content_type = "text/csv"),
))]
#[get("/customers/export")]
pub async fn export_customers(
    ctx: Ctx,
    query: Query<CustomerQuery>,
    paging: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let req = export_request(paging.0, customers::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = CustomerFilter::from(query.0);
    let scope = ctx.scope();
    let db: Database = ctx.db.clone();
    let fetch = move |req: ListRequest| {
        let (db, scope, filter) = (db.clone(), scope.clone(), filter.clone());
        async move { customers::list(db.conn(), &scope, &filter, &req).await }
    };
    Ok(stream(&HEADER, req, fetch, row, "customers.csv"))
}

/// Registers the customer CSV routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(import_customers).service(export_customers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_in_both_languages() {
        assert_eq!(Customers::column(" 客户名称 "), Some(Column::Name));
        assert_eq!(Customers::column("Email"), Some(Column::Email));
        assert_eq!(Customers::column("手机"), Some(Column::Phone));
        assert_eq!(Customers::column("favourite colour"), None);
    }

    #[test]
    fn rows_report_every_problem() {
        let errs = Customers::parse(
            vec![(Column::Email, "nope"), (Column::Level, "Z")],
            7,
            vec![],
        )
        .err()
        .unwrap_or_default();
        let codes: Vec<_> = errs.iter().map(|e| (e.line, e.code.as_str())).collect();
        assert_eq!(
            codes,
            vec![(7, "invalid_choice"), (7, "required"), (7, "invalid_email")]
        );
        let ok = Customers::parse(
            vec![
                (Column::Name, "Acme"),
                (Column::Email, "a@acme.cn"),
                (Column::Level, "b"),
            ],
            2,
            vec![],
        );
        assert!(ok.is_ok_and(|c| c.level == Some(CustomerLevel::B)));
    }
}
