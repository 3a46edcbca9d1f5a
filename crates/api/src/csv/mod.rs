//! CSV in and out. Imports decode a file's header and rows into domain values here and
//! hand them to the import engine ([`sims_persistence::import`]), which checks and writes
//! them in one transaction; exports stream a list page by page with the list's filters
//! and scope. Customers, contacts and products each add their columns and row rules.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sims_domain::FieldViolation;
use sims_domain::import::{ImportReport, RowError, spreadsheet_safe};
use sims_domain::listing::SortKey;
use sims_persistence::import::{self, ImportOptions, ImportTarget, ParsedRow};
use sims_persistence::{ListRequest, Page, PersistenceError};
use utoipa::IntoParams;

use crate::caller::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::listing::PageParams;
use crate::routes::Routes;

mod contacts;
mod customers;
mod products;

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Validate and report only; write nothing.
    pub dry_run: Option<bool>,
    /// Write the valid rows and skip the invalid ones (default: all or nothing).
    pub skip_invalid: Option<bool>,
    /// Import rows that match existing customers or earlier rows anyway.
    pub allow_duplicate: Option<bool>,
}

impl ImportQuery {
    fn options(&self) -> ImportOptions {
        ImportOptions {
            dry_run: self.dry_run.unwrap_or(false),
            skip_invalid: self.skip_invalid.unwrap_or(false),
        }
    }
}

/// One kind of row a file holds: its columns and how a row becomes a record.
pub(crate) trait RowKind {
    /// A recognised column.
    type Column: Copy + PartialEq + 'static;
    /// A valid row.
    type Row;

    /// The column a header names, in English or Chinese.
    fn column(header: &str) -> Option<Self::Column>;
    /// The columns a file must have, and how the problem names each.
    fn required() -> &'static [(Self::Column, &'static str)];
    /// The name of a column, as problems name it.
    fn name(column: Self::Column) -> &'static str;
    /// The record of one row's cells (column, trimmed non-empty text), or its problems
    /// (`problems` holds those the cells already had, such as text that is not UTF-8).
    fn parse(
        cells: Vec<(Self::Column, &str)>,
        line: u64,
        problems: Vec<RowError>,
    ) -> Result<Self::Row, Vec<RowError>>;
}

/// A CSV reader over a body, without its UTF-8 BOM.
fn reader(body: &[u8]) -> csv::Reader<&[u8]> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body)
}

/// A header row: the recognised column at each position, and the names it did not know.
type Header<C> = (Vec<Option<C>>, Vec<String>);

/// Most columns a CSV file's header row may have.
pub const MAX_COLUMNS: usize = 100;
/// Longest column name in a header row, in characters.
pub const COLUMN_NAME_MAX: usize = 200;

/// The header row's recognised columns (by position), and the names it did not know.
fn header<K: RowKind>(reader: &mut csv::Reader<&[u8]>) -> Result<Header<K::Column>, ApiError> {
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
    if headers.len() > MAX_COLUMNS {
        return Err(ApiError::validation(vec![FieldViolation::new(
            "file",
            "too_many_columns",
            format!("the header row has more than {MAX_COLUMNS} columns"),
        )]));
    }
    let mut columns = Vec::with_capacity(headers.len());
    let mut ignored = Vec::new();
    for h in headers.iter() {
        let name = String::from_utf8_lossy(h).into_owned();
        if name.chars().count() > COLUMN_NAME_MAX {
            return Err(ApiError::validation(vec![FieldViolation::new(
                "file",
                "too_long",
                format!("a column name is longer than {COLUMN_NAME_MAX} characters"),
            )]));
        }
        let col = K::column(&name);
        if col.is_none() {
            ignored.push(name);
        }
        columns.push(col);
    }
    for (required, label) in K::required() {
        if !columns.contains(&Some(*required)) {
            return Err(ApiError::validation(vec![FieldViolation::new(
                "file",
                "missing_column",
                format!("the header row has no {label} column"),
            )]));
        }
    }
    Ok((columns, ignored))
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
    RowError::new(e.position().map_or(line, |p| p.line()), None, code, message)
}

/// One record's recognised, non-empty cells; a cell that is not UTF-8 is a problem.
fn cells<'r, K: RowKind>(
    columns: &[Option<K::Column>],
    record: &'r csv::ByteRecord,
    line: u64,
) -> (Vec<(K::Column, &'r str)>, Vec<RowError>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in record.iter().enumerate() {
        let Some(col) = columns.get(i).copied().flatten() else {
            continue;
        };
        match std::str::from_utf8(raw) {
            Ok(text) if !text.trim().is_empty() => out.push((col, text.trim())),
            Ok(_) => {}
            Err(_) => problems.push(RowError::new(
                line,
                Some(K::name(col)),
                "invalid_utf8",
                format!("{} is not valid UTF-8", K::name(col)),
            )),
        }
    }
    (out, problems)
}

/// Every data row of `body`, decoded: its line and its record or problems.
fn rows<'a, K: RowKind + 'a>(
    body: &'a [u8],
    columns: &'a [Option<K::Column>],
) -> impl Iterator<Item = ParsedRow<K::Row>> + 'a {
    let mut reader = reader(body);
    let mut record = csv::ByteRecord::new();
    let mut started = false;
    std::iter::from_fn(move || {
        if !started {
            // The header was read by `header`; read it again on this reader.
            started = true;
            if reader.byte_headers().is_err() {
                return None;
            }
        }
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let at = record.position().map_or(line, |p| p.line());
                let (cells, problems) = cells::<K>(columns, &record, at);
                Some((at, K::parse(cells, at, problems)))
            }
            Err(e) => Some((line, Err(vec![unreadable_row(&e, line)]))),
        }
    })
}

/// A row's record when the rule accepts it and no problem was found before, else every
/// problem: those found before, then the rule's (except on a field already reported,
/// so that a value that did not parse is not reported again as missing).
pub(crate) fn finish<R>(
    line: u64,
    rule: Result<R, sims_domain::DomainError>,
    mut problems: Vec<RowError>,
) -> Result<R, Vec<RowError>> {
    match rule {
        Ok(row) if problems.is_empty() => Ok(row),
        Ok(_) => Err(problems),
        Err(e) => {
            let more: Vec<RowError> = RowError::from_rule(line, e)
                .into_iter()
                .filter(|p| {
                    p.field.is_none()
                        || !problems
                            .iter()
                            .any(|a| a.field.is_some() && a.field == p.field)
                })
                .collect();
            problems.extend(more);
            Err(problems)
        }
    }
}

/// Imports the body as rows of `K` into `target`.
async fn import<K: RowKind, T: ImportTarget<Row = K::Row>>(
    ctx: &Ctx,
    target: &T,
    options: ImportOptions,
    body: &[u8],
) -> ApiResult<web::Json<ImportReport>> {
    let (columns, ignored) = header::<K>(&mut reader(body))?;
    let report = import::run(
        &ctx.db,
        &ctx.actor(),
        target,
        || rows::<K>(body, &columns),
        options,
        ignored,
    )
    .await?;
    Ok(web::Json(report))
}

/// A boolean cell: `true`/`yes`/`1`/`是` or `false`/`no`/`0`/`否`.
pub(crate) fn boolean(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "true" | "yes" | "1" | "是" => Some(true),
        "false" | "no" | "0" | "否" => Some(false),
        _ => None,
    }
}

/// An RFC 3339 cell with microseconds, or empty.
pub(crate) fn timestamp(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

fn chunk(header: Option<&[&str]>, rows: Vec<Vec<String>>) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut failed = false;
    if let Some(h) = header {
        failed |= w.write_record(h).is_err();
    }
    for r in rows {
        failed |= w
            .write_record(r.iter().map(|cell| spreadsheet_safe(cell).into_owned()))
            .is_err();
    }
    if failed {
        tracing::error!("a CSV row could not be written");
    }
    let mut out = Vec::new();
    if header.is_some() {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    out.extend(w.into_inner().unwrap_or_default());
    Bytes::from(out)
}

/// A whole CSV answer (UTF-8 with BOM) of rows already in memory (a report's rows).
pub(crate) fn csv_response(
    filename: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(chunk(Some(header), rows))
}

/// Streams a whole list as CSV (UTF-8 with BOM): walks it by keyset, one page at a
/// time, so that memory stays flat however long the list.
fn stream<T, F, Fut>(
    header: &'static [&'static str],
    first: ListRequest,
    fetch: F,
    row: fn(T) -> Vec<String>,
    filename: &str,
) -> HttpResponse
where
    T: 'static,
    F: Fn(ListRequest) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, PersistenceError>> + 'static,
{
    let stream = futures_util::stream::unfold(
        ((Some(first), true), fetch),
        move |((req, is_first), fetch)| async move {
            let req = req?;
            match fetch(req.clone()).await {
                Ok(page) => {
                    let next = page.next_cursor.clone().map(|c| ListRequest {
                        after: Some(c),
                        ..req
                    });
                    let bytes = chunk(
                        is_first.then_some(header),
                        page.items.into_iter().map(row).collect(),
                    );
                    Some((Ok::<Bytes, actix_web::Error>(bytes), ((next, false), fetch)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "export failed mid-stream");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        ((None, false), fetch),
                    ))
                }
            }
        },
    );
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(stream)
}

/// The first page of an export: the largest page, sorted as the list, no total.
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

/// Registers the CSV routes.
pub fn configure(cfg: &mut Routes) {
    customers::configure(cfg);
    contacts::configure(cfg);
    products::configure(cfg);
}
