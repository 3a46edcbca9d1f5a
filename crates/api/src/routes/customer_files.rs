//! CSV in and out for customers and contacts: imports validated row by row with a
//! per-row report, and exports streamed page by page with the list's filters and scope.

use std::collections::HashMap;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use sims_domain::customer::{
    Contact, ContactInput, Customer, CustomerInput, CustomerKind, CustomerLevel,
};
use sims_domain::listing::SortKey;
use sims_domain::{FieldViolation, Scope};
use sims_persistence::contacts::{self, ContactFilter};
use sims_persistence::customers::{self, CustomerFilter};
use sims_persistence::{Database, ListRequest};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{CsvBody, Query};
use crate::listing::{NEWEST_FIRST, PageParams};
use crate::routes::contacts::ContactQuery;
use crate::routes::customers::CustomerQuery;
use crate::state::AppState;

/// Rows validated and written per batch.
const BATCH: usize = 500;
/// Most row errors listed in one report.
const MAX_REPORTED: usize = 1000;

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportOptions {
    /// Validate and report only; write nothing.
    pub dry_run: Option<bool>,
    /// Write the valid rows and skip the invalid ones (default: all or nothing).
    pub skip_invalid: Option<bool>,
    /// Import rows that match existing customers or earlier rows anyway.
    pub allow_duplicate: Option<bool>,
}

/// A problem with one row of the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column, when the problem is about one.
    pub field: Option<String>,
    /// `required`, `invalid_email`, `wrong_column_count`, `invalid_utf8`,
    /// `duplicate_in_file`, `duplicate_customer`, …
    pub code: String,
    pub message: String,
    /// For `duplicate_customer`: ids of the matching customers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<Uuid>>,
    /// For `duplicate_in_file`: the earlier line it repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of_line: Option<u64>,
}

/// What an import found and did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: u64,
    pub valid: u64,
    pub invalid: u64,
    /// Customers written.
    pub created: u64,
    /// Problems, by line (at most 1,000 listed).
    pub errors: Vec<RowError>,
    /// More problems exist than are listed.
    pub errors_truncated: bool,
    /// Header columns that were not recognised and were ignored.
    pub ignored_columns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
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

impl Column {
    fn field(self) -> &'static str {
        match self {
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

    /// Recognises a header in English or Chinese.
    fn from_header(h: &str) -> Option<Column> {
        let h = h.trim().to_lowercase();
        Some(match h.as_str() {
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
}

fn row_error(line: u64, field: Option<&str>, code: &str, message: impl Into<String>) -> RowError {
    RowError {
        line,
        field: field.map(str::to_owned),
        code: code.into(),
        message: message.into(),
        matches: None,
        duplicate_of_line: None,
    }
}

fn parse_kind(s: &str) -> Result<CustomerKind, ()> {
    match s.trim().to_lowercase().as_str() {
        "company" | "企业" | "公司" => Ok(CustomerKind::Company),
        "individual" | "个人" => Ok(CustomerKind::Individual),
        _ => Err(()),
    }
}

/// One data row turned into a valid customer, or the reasons it is not one.
fn parse_row(
    columns: &[Option<Column>],
    record: &csv::ByteRecord,
    line: u64,
) -> Result<Customer, Vec<RowError>> {
    let mut input = CustomerInput::default();
    let mut errors = Vec::new();
    for (i, raw) in record.iter().enumerate() {
        let Some(col) = columns.get(i).copied().flatten() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(row_error(
                line,
                Some(col.field()),
                "invalid_utf8",
                format!("{} is not valid UTF-8", col.field()),
            ));
            continue;
        };
        let value = text.trim();
        if value.is_empty() {
            continue;
        }
        let v = Some(value.to_owned());
        match col {
            Column::Name => input.name = v,
            Column::Kind => match parse_kind(value) {
                Ok(k) => input.kind = Some(k),
                Err(()) => errors.push(row_error(
                    line,
                    Some("kind"),
                    "invalid_choice",
                    "kind must be company or individual",
                )),
            },
            Column::Level => match CustomerLevel::parse(&value.to_uppercase()) {
                Some(l) => input.level = Some(l),
                None => errors.push(row_error(
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
    match Customer::create(input) {
        Ok(c) if errors.is_empty() => Ok(c),
        Ok(_) => Err(errors),
        Err(sims_domain::DomainError::Validation(v)) => {
            errors.extend(
                v.into_iter()
                    .map(|f: FieldViolation| row_error(line, Some(&f.field), &f.code, f.message)),
            );
            Err(errors)
        }
        Err(other) => Err(vec![row_error(line, None, "invalid", other.to_string())]),
    }
}

/// The header row's columns, recognised by `column_of`, and the names it did not know.
fn read_columns<T: Copy>(
    reader: &mut csv::Reader<&[u8]>,
    column_of: impl Fn(&str) -> Option<T>,
) -> Result<(Vec<Option<T>>, Vec<String>), ApiError> {
    let headers = reader
        .byte_headers()
        .map_err(|e| {
            ApiError::validation(vec![FieldViolation::new(
                "file",
                "unreadable",
                format!("cannot read the header row: {e}"),
            )])
        })?
        .clone();
    let mut columns = Vec::with_capacity(headers.len());
    let mut ignored = Vec::new();
    for h in headers.iter() {
        let name = String::from_utf8_lossy(h).into_owned();
        let col = column_of(&name);
        if col.is_none() {
            ignored.push(name);
        }
        columns.push(col);
    }
    Ok((columns, ignored))
}

/// A CSV reader over a body, without its UTF-8 BOM.
fn csv_reader(body: &[u8]) -> csv::Reader<&[u8]> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body)
}

/// Counts one invalid row and lists its problems (up to the report's limit).
fn record_invalid(report: &mut ImportReport, errs: Vec<RowError>) {
    report.invalid += 1;
    for e in errs {
        if report.errors.len() < MAX_REPORTED {
            report.errors.push(e);
        } else {
            report.errors_truncated = true;
        }
    }
}

/// The problem of a row the CSV reader could not read.
fn unreadable_row(e: &csv::Error, line: u64) -> RowError {
    let (code, message) = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => (
            "wrong_column_count",
            format!("expected {expected_len} columns, found {len}"),
        ),
        csv::ErrorKind::Utf8 { .. } => ("invalid_utf8", "the row is not valid UTF-8".to_owned()),
        _ => ("unreadable", e.to_string()),
    };
    row_error(e.position().map_or(line, |p| p.line()), None, code, message)
}

/// An empty report.
fn new_report(dry_run: bool, ignored_columns: Vec<String>) -> ImportReport {
    ImportReport {
        dry_run,
        rows: 0,
        valid: 0,
        invalid: 0,
        created: 0,
        errors: vec![],
        errors_truncated: false,
        ignored_columns,
    }
}

/// Duplicate keys of the rows seen so far in the file, by the line that had them first.
/// Keys are kept as 64-bit hashes, so that a 100,000-row file costs a few megabytes.
#[derive(Default)]
struct SeenKeys(HashMap<u64, u64>);

fn key_hash(kind: u8, value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (kind, value).hash(&mut h);
    h.finish()
}

impl SeenKeys {
    /// The earlier line sharing a key with `c`, else records `c`'s keys under `line`.
    fn check(&mut self, c: &Customer, line: u64) -> Option<u64> {
        let k = c.duplicate_keys();
        let keys: Vec<u64> = [(0u8, k.name), (1, k.phone), (2, k.email)]
            .into_iter()
            .filter_map(|(t, v)| v.map(|v| key_hash(t, &v)))
            .collect();
        if let Some(first) = keys.iter().find_map(|key| self.0.get(key).copied()) {
            return Some(first);
        }
        for key in keys {
            self.0.insert(key, line);
        }
        None
    }
}

/// Checks a batch of valid rows against the database; returns the ones that match
/// existing customers with their ids.
async fn existing_matches(
    conn: &impl sims_persistence::ConnectionTrait,
    batch: &[(u64, Customer)],
) -> Result<HashMap<u64, Vec<Uuid>>, ApiError> {
    let (mut names, mut phones, mut emails) = (vec![], vec![], vec![]);
    for (_, c) in batch {
        let k = c.duplicate_keys();
        names.extend(k.name);
        phones.extend(k.phone);
        emails.extend(k.email);
    }
    let found = customers::matching_keys(conn, names, phones, emails).await?;
    let mut out: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for (line, c) in batch {
        let k = c.duplicate_keys();
        let ids: Vec<Uuid> = found
            .iter()
            .filter(|(_, n, p, e)| {
                k.name.as_ref() == Some(n)
                    || (k.phone.is_some() && k.phone == *p)
                    || (k.email.is_some() && k.email == *e)
            })
            .map(|(id, ..)| *id)
            .collect();
        if !ids.is_empty() {
            out.insert(*line, ids);
        }
    }
    Ok(out)
}

struct Pass {
    report: ImportReport,
    written: u64,
    /// Lines that matched existing customers (found by a checking pass).
    db_duplicates: std::collections::HashSet<u64>,
}

/// What a pass over the file does besides validating.
enum Mode<'a> {
    /// Check duplicates against the database too; write nothing.
    Check,
    /// Insert the valid rows, skipping the lines a checking pass found in the database.
    Write(
        &'a sims_persistence::Actor,
        &'a std::collections::HashSet<u64>,
    ),
}

/// Reads the whole file once: validates each row and checks duplicates in the file;
/// then, batch by batch, either checks them against the database or inserts them. Only
/// one batch of rows is held at a time. (Checking and inserting are separate passes so
/// that the checks run against the table as it was, not as the import grows it.)
async fn run_pass<C: sims_persistence::ConnectionTrait>(
    conn: &C,
    body: &[u8],
    allow_duplicate: bool,
    mode: Mode<'_>,
) -> Result<Pass, ApiError> {
    let mut db_duplicates = std::collections::HashSet::new();
    let mut reader = csv_reader(body);
    let (columns, ignored) = read_columns(&mut reader, Column::from_header)?;
    if !columns.contains(&Some(Column::Name)) {
        return Err(ApiError::validation(vec![FieldViolation::new(
            "file",
            "missing_column",
            "the header row has no name column (name or 客户名称)",
        )]));
    }
    let mut report = new_report(matches!(mode, Mode::Check), ignored);
    let mut seen = SeenKeys::default();
    let mut batch: Vec<(u64, Customer)> = Vec::with_capacity(BATCH);
    let mut written = 0u64;
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        let more = match reader.read_byte_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                report.rows += 1;
                record_invalid(&mut report, vec![unreadable_row(&e, line)]);
                continue;
            }
        };
        if more {
            report.rows += 1;
            let at = record.position().map_or(line, |p| p.line());
            match parse_row(&columns, &record, at) {
                Ok(c) => {
                    if !allow_duplicate && let Some(first) = seen.check(&c, at) {
                        let mut e = row_error(
                            at,
                            None,
                            "duplicate_in_file",
                            format!("repeats the name, phone or email of line {first}"),
                        );
                        e.duplicate_of_line = Some(first);
                        record_invalid(&mut report, vec![e]);
                    } else {
                        batch.push((at, c));
                    }
                }
                Err(errs) => record_invalid(&mut report, errs),
            }
        }
        if batch.len() >= BATCH || (!more && !batch.is_empty()) {
            let matches = match mode {
                Mode::Check if !allow_duplicate => existing_matches(conn, &batch).await?,
                _ => HashMap::new(),
            };
            let mut valid = Vec::with_capacity(batch.len());
            for (at, c) in batch.drain(..) {
                if let Mode::Write(_, skip) = mode
                    && skip.contains(&at)
                {
                    continue;
                }
                match matches.get(&at) {
                    Some(ids) => {
                        let mut e = row_error(
                            at,
                            None,
                            "duplicate_customer",
                            "matches an existing customer's name, phone or email",
                        );
                        e.matches = Some(ids.clone());
                        record_invalid(&mut report, vec![e]);
                        db_duplicates.insert(at);
                    }
                    None => valid.push(c),
                }
            }
            report.valid += valid.len() as u64;
            if let Mode::Write(actor, _) = mode {
                written += customers::insert_batch(conn, actor, valid, actor.principal.user_id)
                    .await?
                    .len() as u64;
            }
        }
        if !more {
            break;
        }
    }
    Ok(Pass {
        report,
        written,
        db_duplicates,
    })
}

/// Imports customers from CSV (UTF-8, with or without BOM, a header row; columns `name`,
/// `kind`, `level`, `industry`, `source`, `phone`, `email`, `province`, `city`,
/// `address`, `tags` (separated by `;`), `notes`, or their Chinese names). Every row is
/// validated and checked for duplicates in the file and against existing customers.
/// `dry_run=true` writes nothing; otherwise the import is all or nothing (`422` listing
/// every bad row) unless `skip_invalid=true`. The caller owns the imported customers.
#[utoipa::path(tag = "customers", operation_id = "import_customers", security(("bearer" = [])), params(ImportOptions), request_body(content = String, content_type = "text/csv", description = "CSV with a header row"), responses(
    (status = 200, body = ImportReport),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Over `import.max_bytes`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad rows (all or nothing) or a header without a name column", body = Problem, content_type = "application/problem+json"),
))]
#[post("/customers/import")]
pub async fn import_customers(
    state: web::Data<AppState>,
    caller: Caller,
    options: Query<ImportOptions>,
    body: CsvBody,
) -> ApiResult<web::Json<ImportReport>> {
    let o = options.0;
    let (dry_run, skip_invalid, allow_duplicate) = (
        o.dry_run.unwrap_or(false),
        o.skip_invalid.unwrap_or(false),
        o.allow_duplicate.unwrap_or(false),
    );
    if dry_run {
        let checked = run_pass(state.db.conn(), &body.0, allow_duplicate, Mode::Check).await?;
        return Ok(web::Json(checked.report));
    }
    let actor = caller.actor();
    let tx = state.db.begin_write().await.map_err(ApiError::internal)?;
    let checked = run_pass(&tx, &body.0, allow_duplicate, Mode::Check).await?;
    refuse_invalid(&checked.report, skip_invalid)?;
    let written = run_pass(
        &tx,
        &body.0,
        allow_duplicate,
        Mode::Write(&actor, &checked.db_duplicates),
    )
    .await?
    .written;
    tx.commit().await.map_err(ApiError::internal)?;
    let mut report = checked.report;
    report.created = written;
    report.dry_run = false;
    Ok(web::Json(report))
}

/// One contact row: its customer and the contact, or the reasons it is not valid.
fn parse_contact_row(
    columns: &[Option<&'static str>],
    record: &csv::ByteRecord,
    line: u64,
) -> Result<(Uuid, Contact), Vec<RowError>> {
    let mut input = ContactInput::default();
    let mut customer = None;
    let mut errors = Vec::new();
    for (i, raw) in record.iter().enumerate() {
        let Some(col) = columns.get(i).copied().flatten() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(row_error(
                line,
                Some(col),
                "invalid_utf8",
                format!("{col} is not valid UTF-8"),
            ));
            continue;
        };
        let value = text.trim();
        if value.is_empty() {
            continue;
        }
        let v = Some(value.to_owned());
        match col {
            "customer_id" => match Uuid::parse_str(value) {
                Ok(id) => customer = Some(id),
                Err(_) => errors.push(row_error(
                    line,
                    Some(col),
                    "invalid_uuid",
                    "customer_id must be a UUID",
                )),
            },
            "name" => input.name = v,
            "title" => input.title = v,
            "phone" => input.phone = v,
            "email" => input.email = v,
            _ => match value.to_lowercase().as_str() {
                "true" | "yes" | "1" | "是" => input.is_primary = Some(true),
                "false" | "no" | "0" | "否" => input.is_primary = Some(false),
                _ => errors.push(row_error(
                    line,
                    Some(col),
                    "invalid_type",
                    "is_primary must be true or false",
                )),
            },
        }
    }
    if customer.is_none()
        && !errors
            .iter()
            .any(|e| e.field.as_deref() == Some("customer_id"))
    {
        errors.push(row_error(
            line,
            Some("customer_id"),
            "required",
            "customer_id is required",
        ));
    }
    match Contact::create(input) {
        Ok(c) if errors.is_empty() => customer.map(|id| (id, c)).ok_or(errors),
        Ok(_) => Err(errors),
        Err(sims_domain::DomainError::Validation(v)) => {
            errors.extend(
                v.into_iter()
                    .map(|f: FieldViolation| row_error(line, Some(&f.field), &f.code, f.message)),
            );
            Err(errors)
        }
        Err(other) => Err(vec![row_error(line, None, "invalid", other.to_string())]),
    }
}

fn contact_column(h: &str) -> Option<&'static str> {
    Some(match h.trim().to_lowercase().as_str() {
        "customer_id" | "客户id" | "客户编号" => "customer_id",
        "name" | "姓名" | "联系人" => "name",
        "title" | "职位" | "职务" => "title",
        "phone" | "mobile" | "电话" | "手机" => "phone",
        "email" | "邮箱" => "email",
        "is_primary" | "primary" | "主要联系人" => "is_primary",
        _ => return None,
    })
}

async fn run_contact_pass<C: sims_persistence::ConnectionTrait>(
    conn: &C,
    actor: &sims_persistence::Actor,
    body: &[u8],
    write: bool,
) -> Result<Pass, ApiError> {
    let mut reader = csv_reader(body);
    let (columns, ignored) = read_columns(&mut reader, contact_column)?;
    for required in ["customer_id", "name"] {
        if !columns.contains(&Some(required)) {
            return Err(ApiError::validation(vec![FieldViolation::new(
                "file",
                "missing_column",
                format!("the header row has no {required} column"),
            )]));
        }
    }
    let mut report = new_report(!write, ignored);
    let mut written = 0;
    let mut batch: Vec<(u64, Uuid, Contact)> = Vec::with_capacity(BATCH);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        let more = match reader.read_byte_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                report.rows += 1;
                record_invalid(&mut report, vec![unreadable_row(&e, line)]);
                continue;
            }
        };
        if more {
            report.rows += 1;
            let at = record.position().map_or(line, |p| p.line());
            match parse_contact_row(&columns, &record, at) {
                Ok((customer, contact)) => batch.push((at, customer, contact)),
                Err(errs) => record_invalid(&mut report, errs),
            }
        }
        if batch.len() >= BATCH || (!more && !batch.is_empty()) {
            let ids: Vec<Uuid> = batch.iter().map(|(_, c, _)| *c).collect();
            let allowed = contacts::writable_customers(conn, actor, ids).await?;
            let mut valid = Vec::with_capacity(batch.len());
            for (at, customer, contact) in batch.drain(..) {
                if allowed.contains(&customer) {
                    valid.push((customer, contact));
                } else {
                    record_invalid(
                        &mut report,
                        vec![row_error(
                            at,
                            Some("customer_id"),
                            "not_found",
                            "no such customer that you may change",
                        )],
                    );
                }
            }
            report.valid += valid.len() as u64;
            if write {
                written += contacts::insert_batch(conn, actor, valid).await?;
            }
        }
        if !more {
            break;
        }
    }
    Ok(Pass {
        report,
        written,
        db_duplicates: Default::default(),
    })
}

/// Imports contacts from CSV (columns `customer_id`, `name`, `title`, `phone`, `email`,
/// `is_primary`, or their Chinese names) onto customers the caller may change. Same
/// rules as the customer import: a per-row report, `dry_run`, all or nothing unless
/// `skip_invalid`.
#[utoipa::path(tag = "contacts", operation_id = "import_contacts", security(("bearer" = [])), params(ImportOptions), request_body(content = String, content_type = "text/csv", description = "CSV with a header row"), responses(
    (status = 200, body = ImportReport),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Over `import.max_bytes`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad rows (all or nothing) or missing columns", body = Problem, content_type = "application/problem+json"),
))]
#[post("/contacts/import")]
pub async fn import_contacts(
    state: web::Data<AppState>,
    caller: Caller,
    options: Query<ImportOptions>,
    body: CsvBody,
) -> ApiResult<web::Json<ImportReport>> {
    let o = options.0;
    let actor = caller.actor();
    let checked = run_contact_pass(state.db.conn(), &actor, &body.0, false).await?;
    if o.dry_run.unwrap_or(false) {
        return Ok(web::Json(checked.report));
    }
    refuse_invalid(&checked.report, o.skip_invalid.unwrap_or(false))?;
    let tx = state.db.begin_write().await.map_err(ApiError::internal)?;
    let mut pass = run_contact_pass(&tx, &actor, &body.0, true).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    pass.report.created = pass.written;
    Ok(web::Json(pass.report))
}

/// All or nothing: a `422` listing every bad row, unless invalid rows may be skipped.
fn refuse_invalid(report: &ImportReport, skip_invalid: bool) -> ApiResult<()> {
    if report.invalid == 0 || skip_invalid {
        return Ok(());
    }
    let violations = report
        .errors
        .iter()
        .map(|e| {
            FieldViolation::new(
                format!(
                    "line[{}]{}",
                    e.line,
                    e.field
                        .as_deref()
                        .map(|f| format!(".{f}"))
                        .unwrap_or_default()
                ),
                &e.code,
                e.message.clone(),
            )
        })
        .collect();
    let mut err = ApiError::validation(violations);
    err.detail = format!(
        "{} of {} rows are invalid; nothing was imported (send skip_invalid=true to import the valid rows)",
        report.invalid, report.rows
    );
    Err(err)
}

const CUSTOMER_HEADER: [&str; 19] = [
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

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

fn customer_row(m: sims_persistence::entities::customers::Model) -> Vec<String> {
    let tags = customers::tags_of(&m).join(";");
    vec![
        m.id.to_string(),
        m.name,
        m.kind,
        m.level.unwrap_or_default(),
        m.industry.unwrap_or_default(),
        m.source.unwrap_or_default(),
        m.phone.unwrap_or_default(),
        m.email.unwrap_or_default(),
        m.province.unwrap_or_default(),
        m.city.unwrap_or_default(),
        m.address.unwrap_or_default(),
        tags,
        m.notes.unwrap_or_default(),
        m.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        ts(m.last_follow_up_at),
        ts(m.next_follow_up_at),
        ts(Some(m.created_at)),
        ts(Some(m.updated_at)),
        m.version.to_string(),
    ]
}

fn csv_chunk(header: Option<&[&str]>, rows: Vec<Vec<String>>) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::new());
    if let Some(h) = header {
        let _ = w.write_record(h);
    }
    for r in rows {
        let _ = w.write_record(r);
    }
    let mut out = Vec::new();
    if header.is_some() {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    out.extend(w.into_inner().unwrap_or_default());
    Bytes::from(out)
}

/// Streams a whole list as CSV: walks it by keyset, one page at a time, so that memory
/// stays flat however long the list.
fn stream_csv<T, F, Fut>(
    header: &'static [&'static str],
    first: ListRequest,
    fetch: F,
    row: fn(T) -> Vec<String>,
    filename: &str,
) -> HttpResponse
where
    T: 'static,
    F: Fn(ListRequest) -> Fut + 'static,
    Fut: std::future::Future<
            Output = Result<sims_persistence::Page<T>, sims_persistence::PersistenceError>,
        > + 'static,
{
    let state = (Some(first), true);
    let stream =
        futures_util::stream::unfold((state, fetch), move |((req, is_first), fetch)| async move {
            let req = req?;
            match fetch(req.clone()).await {
                Ok(page) => {
                    let next = page.next_cursor.clone().map(|c| ListRequest {
                        after: Some(c),
                        ..req
                    });
                    let chunk = csv_chunk(
                        is_first.then_some(header),
                        page.items.into_iter().map(row).collect(),
                    );
                    Some((Ok::<Bytes, actix_web::Error>(chunk), ((next, false), fetch)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "export failed mid-stream");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        ((None, false), fetch),
                    ))
                }
            }
        });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(stream)
}

fn export_request(
    paging: PageParams,
    whitelist: &[&'static str],
    default: &[SortKey],
) -> ApiResult<ListRequest> {
    let mut req = PageParams {
        page: None,
        per_page: Some(sims_domain::listing::MAX_PER_PAGE),
        after: paging.after,
        sort: paging.sort,
        include_total: None,
    }
    .to_request(whitelist, default)?;
    req.include_total = false;
    Ok(req)
}

/// Streams the customers the caller may see as CSV (UTF-8 with BOM), with the same
/// filters and sort as `GET /customers`: exactly what the list shows, every page of it.
#[utoipa::path(tag = "customers", operation_id = "export_customers", security(("bearer" = [])), params(CustomerQuery, ("sort" = Option<String>, Query, description = "As on the list")), responses(
    (status = 200, description = "CSV", body = String, content_type = "text/csv"),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
))]
#[get("/customers/export")]
pub async fn export_customers(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<CustomerQuery>,
    paging: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let req = export_request(paging.0, customers::SORT_FIELDS, NEWEST_FIRST)?;
    let filter = CustomerFilter::from(query.0);
    let scope: Scope = caller.principal.scope();
    let db: Database = state.db.clone();
    let fetch = move |req: ListRequest| {
        let (db, scope, filter) = (db.clone(), scope.clone(), filter.clone());
        async move { customers::list(db.conn(), &scope, &filter, &req).await }
    };
    Ok(stream_csv(
        &CUSTOMER_HEADER,
        req,
        fetch,
        customer_row,
        "customers.csv",
    ))
}

const CONTACT_HEADER: [&str; 10] = [
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

fn contact_row(m: sims_persistence::entities::contacts::Model) -> Vec<String> {
    vec![
        m.id.to_string(),
        m.customer_id.to_string(),
        m.name,
        m.title.unwrap_or_default(),
        m.phone.unwrap_or_default(),
        m.email.unwrap_or_default(),
        m.is_primary.to_string(),
        ts(Some(m.created_at)),
        ts(Some(m.updated_at)),
        m.version.to_string(),
    ]
}

/// Streams the contacts the caller may see as CSV, with the filters of `GET /contacts`.
#[utoipa::path(tag = "contacts", operation_id = "export_contacts", security(("bearer" = [])), params(ContactQuery, ("sort" = Option<String>, Query, description = "As on the list")), responses(
    (status = 200, description = "CSV", body = String, content_type = "text/csv"),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "The filtered customer is not in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/contacts/export")]
pub async fn export_contacts(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ContactQuery>,
    paging: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let req = export_request(paging.0, contacts::SORT_FIELDS, NEWEST_FIRST)?;
    let q = query.0;
    let filter = ContactFilter {
        customer_id: q.customer_id,
        is_primary: q.is_primary,
        updated_after: q.updated_after,
        q: q.q,
    };
    let scope: Scope = caller.principal.scope();
    if let Some(c) = filter.customer_id {
        customers::get(state.db.conn(), &scope, c).await?;
    }
    let db: Database = state.db.clone();
    let fetch = move |req: ListRequest| {
        let (db, scope, filter) = (db.clone(), scope.clone(), filter.clone());
        async move { contacts::list(db.conn(), &scope, &filter, &req).await }
    };
    Ok(stream_csv(
        &CONTACT_HEADER,
        req,
        fetch,
        contact_row,
        "contacts.csv",
    ))
}

fn product_column(h: &str) -> Option<&'static str> {
    Some(match h.trim().to_lowercase().as_str() {
        "sku" | "编码" | "商品编码" | "货号" => "sku",
        "name" | "名称" | "商品名称" | "产品名称" => "name",
        "unit" | "单位" => "unit",
        "list_price" | "price" | "价格" | "单价" | "售价" => "list_price",
        "cost" | "成本" => "cost",
        "tax_rate" | "税率" => "tax_rate",
        "category" | "分类" | "类别" => "category",
        "reorder_point" | "安全库存" | "补货点" => "reorder_point",
        "active" | "启用" => "active",
        _ => return None,
    })
}

fn parse_product_row(
    columns: &[Option<&'static str>],
    record: &csv::ByteRecord,
    line: u64,
) -> Result<sims_domain::catalog::Product, Vec<RowError>> {
    use std::str::FromStr;
    let mut input = sims_domain::catalog::ProductInput::default();
    let mut errors = Vec::new();
    for (i, raw) in record.iter().enumerate() {
        let Some(col) = columns.get(i).copied().flatten() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(row_error(
                line,
                Some(col),
                "invalid_utf8",
                format!("{col} is not valid UTF-8"),
            ));
            continue;
        };
        let value = text.trim();
        if value.is_empty() {
            continue;
        }
        let mut decimal = |field: &str| match rust_decimal::Decimal::from_str(value) {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(row_error(
                    line,
                    Some(field),
                    "invalid",
                    format!("{field} must be a decimal number"),
                ));
                None
            }
        };
        match col {
            "sku" => input.sku = Some(value.to_owned()),
            "name" => input.name = Some(value.to_owned()),
            "unit" => input.unit = Some(value.to_owned()),
            "category" => input.category = Some(value.to_owned()),
            "list_price" => input.list_price = decimal("list_price"),
            "cost" => input.cost = decimal("cost"),
            "tax_rate" => input.tax_rate = decimal("tax_rate"),
            "reorder_point" => input.reorder_point = decimal("reorder_point"),
            _ => match value.to_lowercase().as_str() {
                "true" | "yes" | "1" | "是" => input.active = Some(true),
                "false" | "no" | "0" | "否" => input.active = Some(false),
                _ => errors.push(row_error(
                    line,
                    Some(col),
                    "invalid_type",
                    "active must be true or false",
                )),
            },
        }
    }
    match sims_domain::catalog::Product::create(input) {
        Ok(p) if errors.is_empty() => Ok(p),
        Ok(_) => Err(errors),
        Err(sims_domain::DomainError::Validation(v)) => {
            // A value that did not parse is reported once, not again as missing.
            let already: Vec<String> = errors.iter().filter_map(|e| e.field.clone()).collect();
            errors.extend(
                v.into_iter()
                    .filter(|f| !already.contains(&f.field))
                    .map(|f: FieldViolation| row_error(line, Some(&f.field), &f.code, f.message)),
            );
            Err(errors)
        }
        Err(other) => Err(vec![row_error(line, None, "invalid", other.to_string())]),
    }
}

async fn run_product_pass<C: sims_persistence::ConnectionTrait>(
    conn: &C,
    actor: &sims_persistence::Actor,
    body: &[u8],
    write: bool,
) -> Result<Pass, ApiError> {
    let mut reader = csv_reader(body);
    let (columns, ignored) = read_columns(&mut reader, product_column)?;
    for required in ["sku", "name", "unit", "list_price", "tax_rate"] {
        if !columns.contains(&Some(required)) {
            return Err(ApiError::validation(vec![FieldViolation::new(
                "file",
                "missing_column",
                format!("the header row has no {required} column"),
            )]));
        }
    }
    let mut report = new_report(!write, ignored);
    let mut written = 0;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<(u64, sims_domain::catalog::Product)> = Vec::with_capacity(BATCH);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        let more = match reader.read_byte_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                report.rows += 1;
                record_invalid(&mut report, vec![unreadable_row(&e, line)]);
                continue;
            }
        };
        if more {
            report.rows += 1;
            let at = record.position().map_or(line, |p| p.line());
            match parse_product_row(&columns, &record, at) {
                Ok(p) => match seen.get(&p.sku) {
                    Some(first) => {
                        let mut e = row_error(
                            at,
                            Some("sku"),
                            "duplicate_in_file",
                            format!("repeats the sku of line {first}"),
                        );
                        e.duplicate_of_line = Some(*first);
                        record_invalid(&mut report, vec![e]);
                    }
                    None => {
                        seen.insert(p.sku.clone(), at);
                        batch.push((at, p));
                    }
                },
                Err(errs) => record_invalid(&mut report, errs),
            }
        }
        if batch.len() >= BATCH || (!more && !batch.is_empty()) {
            let taken = sims_persistence::catalog::existing_skus(
                conn,
                batch.iter().map(|(_, p)| p.sku.clone()).collect(),
            )
            .await?;
            let mut valid = Vec::with_capacity(batch.len());
            for (at, p) in batch.drain(..) {
                if taken.contains(&p.sku) {
                    record_invalid(
                        &mut report,
                        vec![row_error(
                            at,
                            Some("sku"),
                            "duplicate_sku",
                            format!("sku {} is already in use", p.sku),
                        )],
                    );
                } else {
                    valid.push(p);
                }
            }
            report.valid += valid.len() as u64;
            if write {
                written += sims_persistence::catalog::insert_products(conn, actor, valid).await?;
            }
        }
        if !more {
            break;
        }
    }
    Ok(Pass {
        report,
        written,
        db_duplicates: Default::default(),
    })
}

/// Imports products from CSV (managers and admins; columns `sku`, `name`, `unit`,
/// `list_price`, `tax_rate`, `cost`, `category`, `reorder_point`, `active`, or their
/// Chinese names). Same rules as the customer import; SKUs must be new.
#[utoipa::path(tag = "products", operation_id = "import_products", security(("bearer" = [])), params(ImportOptions), request_body(content = String, content_type = "text/csv", description = "CSV with a header row"), responses(
    (status = 200, body = ImportReport),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "A sales rep", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Over `import.max_bytes`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad rows (all or nothing) or missing columns", body = Problem, content_type = "application/problem+json"),
))]
#[post("/products/import")]
pub async fn import_products(
    state: web::Data<AppState>,
    caller: Caller,
    options: Query<ImportOptions>,
    body: CsvBody,
) -> ApiResult<web::Json<ImportReport>> {
    caller.principal.require_manager()?;
    let o = options.0;
    let actor = caller.actor();
    if o.dry_run.unwrap_or(false) {
        return Ok(web::Json(
            run_product_pass(state.db.conn(), &actor, &body.0, false)
                .await?
                .report,
        ));
    }
    let tx = state.db.begin_write().await.map_err(ApiError::internal)?;
    let checked = run_product_pass(&tx, &actor, &body.0, false).await?;
    refuse_invalid(&checked.report, o.skip_invalid.unwrap_or(false))?;
    let pass = run_product_pass(&tx, &actor, &body.0, true).await?;
    tx.commit().await.map_err(ApiError::internal)?;
    let mut report = checked.report;
    report.created = pass.written;
    report.dry_run = false;
    Ok(web::Json(report))
}

/// Registers the CSV routes (before `/customers/{id}` and `/contacts/{id}`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(import_customers)
        .service(export_customers)
        .service(import_contacts)
        .service(import_products)
        .service(export_contacts);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_in_both_languages() {
        assert_eq!(Column::from_header(" 客户名称 "), Some(Column::Name));
        assert_eq!(Column::from_header("Email"), Some(Column::Email));
        assert_eq!(Column::from_header("手机"), Some(Column::Phone));
        assert_eq!(Column::from_header("favourite colour"), None);
    }

    #[test]
    fn rows_report_every_problem() {
        let cols = vec![
            Some(Column::Name),
            Some(Column::Email),
            Some(Column::Level),
            None,
        ];
        let rec = csv::ByteRecord::from(vec!["", "nope", "Z", "x"]);
        let errs = parse_row(&cols, &rec, 7).err().unwrap_or_default();
        let codes: Vec<_> = errs.iter().map(|e| (e.line, e.code.as_str())).collect();
        assert_eq!(
            codes,
            vec![(7, "invalid_choice"), (7, "required"), (7, "invalid_email")]
        );
        let ok = parse_row(
            &cols,
            &csv::ByteRecord::from(vec!["Acme", "a@acme.cn", "b", "x"]),
            2,
        );
        assert!(ok.is_ok_and(|c| c.level == Some(CustomerLevel::B)));
    }

    #[test]
    fn repeated_keys_point_at_the_first_line() {
        let mut seen = SeenKeys::default();
        let c = |name: &str, phone: Option<&str>| {
            Customer::create(CustomerInput {
                name: Some(name.into()),
                phone: phone.map(Into::into),
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("{e:?}"))
        };
        assert_eq!(seen.check(&c("A", Some("13800138000")), 2), None);
        assert_eq!(seen.check(&c("B", None), 3), None);
        assert_eq!(seen.check(&c("C", Some("+86 138 0013 8000")), 4), Some(2));
        assert_eq!(seen.check(&c(" b ", None), 5), Some(3));
    }
}
