//! The import engine: one pass that validates every row and checks it against the file
//! and the database, then — unless it is a dry run, or rows are invalid and may not be
//! skipped — a second pass in the same transaction that writes the rows the first pass
//! accepted. Only one batch of rows is held at a time, and the checks run against the
//! table as it was, not as the import grows it.
//!
//! Customers, contacts and products are three [`ImportTarget`]s of this engine.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use sims_domain::import::{ImportReport, RowError, SeenKeys};

use crate::{Actor, Database, PersistenceError, Result};

mod contacts;
mod customers;
mod products;

pub use contacts::ContactImport;
pub use customers::CustomerImport;
pub use products::ProductImport;

/// Rows checked and written per batch.
const BATCH: usize = 500;

/// One parsed row of a file: its line, and the record it holds or its problems.
pub type ParsedRow<R> = (u64, std::result::Result<R, Vec<RowError>>);

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Validate and report only; write nothing.
    pub dry_run: bool,
    /// Write the valid rows and skip the invalid ones (default: all or nothing).
    pub skip_invalid: bool,
}

/// What an import writes, and how its rows are checked. Used generically by [`run`]
/// only, so its futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait ImportTarget {
    /// A valid row.
    type Row;

    /// The keys that make two rows of one file the same record (a kind and a value
    /// each); none when rows may repeat.
    fn file_keys(&self, row: &Self::Row) -> Vec<(u8, String)>;

    /// The problem of a row that repeats line `first`.
    fn repeated(&self, line: u64, first: u64) -> RowError;

    /// The problems of the rows of `batch` that the database refuses (a duplicate, a
    /// customer the caller may not change), by line.
    async fn check<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        batch: &[(u64, Self::Row)],
    ) -> Result<Vec<RowError>>;

    /// Writes accepted rows with their audit entries; how many were written.
    async fn insert(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        rows: Vec<Self::Row>,
    ) -> Result<u64>;
}

/// Imports the rows `source` yields (called once per pass) into `target`, with a report
/// naming every problem by line. All or nothing unless `skip_invalid`.
pub async fn run<T, I>(
    db: &Database,
    actor: &Actor,
    target: &T,
    source: impl Fn() -> I,
    options: ImportOptions,
    ignored_columns: Vec<String>,
) -> Result<ImportReport>
where
    T: ImportTarget,
    I: Iterator<Item = ParsedRow<T::Row>>,
{
    // Parsing, validating and checking against the database run outside the write lock
    // (on SQLite, the one writer's lock), so that other writers keep moving meanwhile.
    let (mut report, rejected) =
        check_pass(db.conn(), actor, target, source(), ignored_columns).await?;
    if options.dry_run {
        return Ok(report);
    }
    report.check_complete(options.skip_invalid)?;
    report.created = db
        .write(async |tx| write_pass(tx, actor, target, source(), &rejected).await)
        .await?;
    report.dry_run = false;
    Ok(report)
}

/// Validates every row, checks repeats within the file and, batch by batch, against the
/// database. Returns the report and the lines it rejected.
async fn check_pass<T: ImportTarget, C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    target: &T,
    rows: impl Iterator<Item = ParsedRow<T::Row>>,
    ignored_columns: Vec<String>,
) -> Result<(ImportReport, HashSet<u64>)> {
    let mut report = ImportReport::new(true, ignored_columns);
    let mut rejected = HashSet::new();
    let mut seen = SeenKeys::default();
    let mut batch: Vec<(u64, T::Row)> = Vec::with_capacity(BATCH);
    for (line, parsed) in rows {
        report.rows += 1;
        match parsed {
            Err(problems) => {
                report.reject(problems);
                rejected.insert(line);
            }
            Ok(row) => match seen.check(&target.file_keys(&row), line) {
                Some(first) => {
                    report.reject(vec![target.repeated(line, first)]);
                    rejected.insert(line);
                }
                None => batch.push((line, row)),
            },
        }
        if batch.len() >= BATCH {
            check_batch(conn, actor, target, &mut batch, &mut report, &mut rejected).await?;
        }
    }
    check_batch(conn, actor, target, &mut batch, &mut report, &mut rejected).await?;
    Ok((report, rejected))
}

async fn check_batch<T: ImportTarget, C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    target: &T,
    batch: &mut Vec<(u64, T::Row)>,
    report: &mut ImportReport,
    rejected: &mut HashSet<u64>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let problems = target.check(conn, actor, batch).await?;
    let refused: HashSet<u64> = problems.iter().map(|p| p.line).collect();
    for (line, _) in batch.drain(..) {
        if refused.contains(&line) {
            let of_line = problems
                .iter()
                .filter(|p| p.line == line)
                .cloned()
                .collect();
            report.reject(of_line);
            rejected.insert(line);
        } else {
            report.valid += 1;
        }
    }
    Ok(())
}

/// Writes every row the check pass accepted, batch by batch, checking each batch against
/// the database again inside the transaction: a record that someone created meanwhile
/// (a duplicate customer) makes the whole import a conflict, and nothing is written.
async fn write_pass<T: ImportTarget>(
    tx: &DatabaseTransaction,
    actor: &Actor,
    target: &T,
    rows: impl Iterator<Item = ParsedRow<T::Row>>,
    rejected: &HashSet<u64>,
) -> Result<u64> {
    let mut written = 0;
    let mut batch: Vec<(u64, T::Row)> = Vec::with_capacity(BATCH);
    for (line, parsed) in rows {
        if let Ok(row) = parsed
            && !rejected.contains(&line)
        {
            batch.push((line, row));
        }
        if batch.len() >= BATCH {
            written += recheck_and_insert(tx, actor, target, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        written += recheck_and_insert(tx, actor, target, batch).await?;
    }
    Ok(written)
}

async fn recheck_and_insert<T: ImportTarget>(
    tx: &DatabaseTransaction,
    actor: &Actor,
    target: &T,
    batch: Vec<(u64, T::Row)>,
) -> Result<u64> {
    if let Some(p) = target.check(tx, actor, &batch).await?.first() {
        return Err(PersistenceError::Conflict(format!(
            "line {} changed meanwhile ({}); nothing was imported, try again",
            p.line, p.message
        )));
    }
    target
        .insert(tx, actor, batch.into_iter().map(|(_, r)| r).collect())
        .await
}
