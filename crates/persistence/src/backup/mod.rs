//! `sims backup` and `sims restore`: every row of every table, as a consistent snapshot,
//! into a versioned archive ([`archive`]) that loads into an empty database of either
//! kind. The archive records the migrations its schema was at; a restore brings the empty
//! database to exactly that schema, loads the rows in one transaction, then applies the
//! migrations that came after it, so an archive of an older release restores into a newer
//! one. The schema is read from the database itself ([`schema`]), so a new table or column
//! is backed up without a change here.
//!
//! Both directions stream: a backup writes each row as it is read, a restore inserts in
//! batches as it reads, so memory stays flat however large the database.

mod archive;
mod schema;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use futures_util::StreamExt;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DbErr, IsolationLevel, SqliteTransactionMode,
    Statement, StreamTrait, TransactionOptions, TransactionTrait, Value,
};
use serde_json::Value as Json;
use sims_migrations::{Migrator, MigratorTrait};

pub use archive::VERSION;
use archive::{FORMAT, Header, Line};
use schema::{MIGRATIONS_TABLE, Table, quoted};

use crate::Database;
use crate::seed::writer::Writer;

/// Why a backup or a restore stopped. A restore that stops has written nothing.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("cannot load the rows: {0}")]
    Load(#[from] crate::seed::SeedError),
    #[error("cannot write the archive: {0}")]
    Write(std::io::Error),
    #[error("cannot read the archive: {0}")]
    Read(std::io::Error),
    /// The schema holds something a backup cannot carry.
    #[error("{0}")]
    Schema(String),
    /// The file is not an archive, or not a whole one.
    #[error("not a usable SIMS backup: {0}")]
    Damaged(String),
    /// The archive comes from a newer SIMS than this one.
    #[error("{0}")]
    Newer(String),
    /// The database to restore into already holds data.
    #[error(
        "the database is not empty ({0}); restore into a new, empty database (before any `sims serve` on it)"
    )]
    NotEmpty(String),
}

/// What a backup or a restore carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub tables: u64,
    pub rows: u64,
    /// The migrations the archive's schema was at.
    pub migrations: usize,
    /// Migrations applied after the rows were loaded (restore only).
    pub migrated_after: usize,
}

/// Writes every row of `db` to `out` as one consistent snapshot (a `REPEATABLE READ`
/// read-only transaction on PostgreSQL, a read transaction on SQLite), gzip-compressed: a
/// server may keep serving the same database meanwhile.
pub async fn backup<W: Write>(db: &Database, out: W) -> Result<Summary, BackupError> {
    let mut gz = GzEncoder::new(
        BufWriter::with_capacity(1 << 16, out),
        Compression::default(),
    );
    let summary = write_archive(db, &mut gz).await?;
    gz.finish()
        .and_then(|mut w| w.flush())
        .map_err(BackupError::Write)?;
    Ok(summary)
}

/// Loads an archive `backup` wrote into `db`, which must hold no rows: brings its schema
/// to the archive's, inserts every row in one transaction (nothing is written unless the
/// whole archive reads and loads), then applies the migrations that came after the
/// archive's.
pub async fn restore<R: Read>(db: &Database, input: R) -> Result<Summary, BackupError> {
    read_archive(db, BufReader::new(GzDecoder::new(BufReader::new(input)))).await
}

async fn write_archive<W: Write>(db: &Database, out: &mut W) -> Result<Summary, BackupError> {
    let conn = db.conn();
    // SQLite: a read transaction sees one snapshot (WAL), and takes no other options.
    let postgres = db.backend() == DatabaseBackend::Postgres;
    let tx = conn
        .begin_with_options(TransactionOptions {
            isolation_level: postgres.then_some(IsolationLevel::RepeatableRead),
            access_mode: postgres.then_some(AccessMode::ReadOnly),
            sqlite_transaction_mode: (!postgres).then_some(SqliteTransactionMode::Deferred),
        })
        .await?;
    let migrations = applied_migrations(&tx).await?;
    if migrations.is_empty() {
        return Err(BackupError::Schema(
            "the database has no SIMS schema yet: there is nothing to back up".into(),
        ));
    }
    let tables = schema::read(&tx).await?;
    let header = Header {
        format: FORMAT.into(),
        version: archive::VERSION,
        created_at: crate::now(),
        source: backend_name(db.backend()).into(),
        written_by: env!("CARGO_PKG_VERSION").into(),
        migrations: migrations.clone(),
    };
    write_line(out, &header)?;
    let mut total = 0_u64;
    for table in &tables {
        write_line(
            out,
            &Line::Table {
                name: table.name.clone(),
                columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            },
        )?;
        let order = if table.primary_key.is_empty() {
            String::new()
        } else {
            let key: Vec<String> = table.primary_key.iter().map(|c| quoted(c)).collect();
            format!(" ORDER BY {}", key.join(", "))
        };
        let sql = format!(
            "SELECT {} FROM {}{order}",
            table.column_list(),
            quoted(&table.name)
        );
        let mut rows = tx
            .stream_raw(Statement::from_string(db.backend(), sql))
            .await?;
        let mut count = 0_u64;
        let mut values = Vec::with_capacity(table.columns.len());
        while let Some(row) = rows.next().await {
            let row = row?;
            values.clear();
            for (i, c) in table.columns.iter().enumerate() {
                values.push(
                    archive::encode(&row, i, c.kind).map_err(|e| {
                        BackupError::Schema(format!("{}.{}: {e}", table.name, c.name))
                    })?,
                );
            }
            serde_json::to_writer(&mut *out, &values).map_err(|e| BackupError::Write(e.into()))?;
            out.write_all(b"\n").map_err(BackupError::Write)?;
            count += 1;
        }
        drop(rows);
        write_line(
            out,
            &Line::End {
                name: table.name.clone(),
                rows: count,
            },
        )?;
        total += count;
    }
    let tables_count = tables.len() as u64;
    write_line(
        out,
        &Line::Footer {
            tables: tables_count,
            rows: total,
        },
    )?;
    out.flush().map_err(BackupError::Write)?;
    tx.commit().await?;
    Ok(Summary {
        tables: tables_count,
        rows: total,
        migrations: migrations.len(),
        migrated_after: 0,
    })
}

async fn read_archive<R: BufRead>(db: &Database, input: R) -> Result<Summary, BackupError> {
    let mut lines = input.lines();
    let header: Header = match lines.next() {
        None => return Err(BackupError::Damaged("the file is empty".into())),
        Some(line) => {
            let line = line.map_err(unreadable)?;
            serde_json::from_str(&line).map_err(|_| {
                BackupError::Damaged("its first line is not a SIMS backup header".into())
            })?
        }
    };
    if header.format != FORMAT {
        return Err(BackupError::Damaged(format!(
            "its format is {:?}, not {FORMAT:?}",
            header.format
        )));
    }
    if header.version > archive::VERSION {
        return Err(BackupError::Newer(format!(
            "the archive is version {} (written by SIMS {}); this SIMS ({}) reads up to version {}: restore it with that release or a newer one",
            header.version,
            header.written_by,
            env!("CARGO_PKG_VERSION"),
            archive::VERSION
        )));
    }
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if header.migrations.is_empty() {
        return Err(BackupError::Damaged("it names no schema version".into()));
    }
    for (i, name) in header.migrations.iter().enumerate() {
        if known.get(i) != Some(name) {
            return Err(BackupError::Newer(format!(
                "the archive's schema includes migration {name}, which this SIMS ({}) does not have (written by SIMS {}): restore it with that release or a newer one",
                env!("CARGO_PKG_VERSION"),
                header.written_by
            )));
        }
    }
    let conn = db.conn();
    let applied = applied_migrations(conn).await?;
    if !applied.is_empty()
        && let Some(holds) = holdings(conn).await?
    {
        return Err(BackupError::NotEmpty(holds));
    }
    align_schema(conn, applied.len(), header.migrations.len()).await?;
    let tables: BTreeMap<String, Table> = schema::read(conn)
        .await?
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();

    // One transaction; on PostgreSQL the secondary indexes and foreign keys are set aside
    // while the rows go in by `COPY` and built once at the end (which checks every key).
    let mut writer = Writer::open(db, true).await?;
    let names: Vec<&str> = tables.keys().map(String::as_str).collect();
    let set_aside = writer.set_aside_indexes(&names).await?;
    let mut loader: Option<Loader> = None;
    let (mut tables_loaded, mut total) = (0_u64, 0_u64);
    let mut footer_seen = false;
    for (n, line) in lines.enumerate() {
        let line = line.map_err(unreadable)?;
        let at = |what: String| BackupError::Damaged(format!("line {}: {what}", n + 2));
        if footer_seen {
            return Err(at("text after the end of the archive".into()));
        }
        if line.starts_with('[') {
            let Some(l) = loader.as_mut() else {
                return Err(at("a row outside any table".into()));
            };
            let values: Vec<Json> =
                serde_json::from_str(&line).map_err(|e| at(format!("not a row ({e})")))?;
            l.push(&values).map_err(at)?;
            if l.batch_full() {
                l.flush(&mut writer).await?;
            }
            continue;
        }
        match serde_json::from_str::<Line>(&line)
            .map_err(|e| at(format!("not understood ({e})")))?
        {
            Line::Table { name, columns } => {
                if loader.is_some() {
                    return Err(at(format!(
                        "table {name} starts before the previous one ended"
                    )));
                }
                let table = tables.get(&name).ok_or_else(|| {
                    at(format!(
                        "table {name} is not in the schema the archive names"
                    ))
                })?;
                loader = Some(Loader::new(table, &columns, db.backend()).map_err(at)?);
            }
            Line::End { name, rows } => {
                let Some(mut l) = loader.take() else {
                    return Err(at(format!("table {name} ends without starting")));
                };
                l.flush(&mut writer).await?;
                l.link_self_references(&mut writer).await?;
                if l.table.name != name || l.rows != rows {
                    return Err(at(format!(
                        "table {} ends as {name} with {rows} rows, after {} rows",
                        l.table.name, l.rows
                    )));
                }
                tables_loaded += 1;
                total += rows;
            }
            Line::Footer { tables, rows } => {
                if loader.is_some() || tables != tables_loaded || rows != total {
                    return Err(at(format!(
                        "the archive says {tables} tables and {rows} rows; {tables_loaded} tables and {total} rows were read"
                    )));
                }
                footer_seen = true;
            }
        }
    }
    if !footer_seen {
        return Err(BackupError::Damaged(format!(
            "it ends before its last line, after {tables_loaded} tables and {total} rows: the file is cut off"
        )));
    }
    writer.restore_indexes(&set_aside).await?;
    writer.commit().await?;
    let before = Migrator::get_pending_migrations(conn).await?.len();
    Migrator::up(conn, None).await?;
    Ok(Summary {
        tables: tables_loaded,
        rows: total,
        migrations: header.migrations.len(),
        migrated_after: before,
    })
}

/// The rows of one table on their way in, a statement's worth at a time.
struct Loader<'t> {
    table: &'t Table,
    /// For each archived column, where it goes in the table.
    positions: Vec<usize>,
    batch: Vec<Vec<Value>>,
    per_statement: usize,
    rows: u64,
    /// Rows whose references to their own table wait until every row is in:
    /// (primary key values, the references' values).
    links: Vec<(Vec<Value>, Vec<Value>)>,
    self_positions: Vec<usize>,
    key_positions: Vec<usize>,
}

/// Rows handed to the writer at once: one `COPY` on PostgreSQL (fewer, larger ones load
/// faster: 3.9 million rows in 56 s at 5,000 a copy, 96 s at 1,000), statements SQLite
/// takes on SQLite (more rows only hold more memory: 142 MB at 5,000, 67 MB at 1,000).
fn batch_rows(backend: DatabaseBackend) -> usize {
    match backend {
        DatabaseBackend::Postgres => 5_000,
        _ => 1_000,
    }
}

impl<'t> Loader<'t> {
    fn new(table: &'t Table, columns: &[String], backend: DatabaseBackend) -> Result<Self, String> {
        let mut positions = Vec::with_capacity(columns.len());
        for c in columns {
            let at = table
                .columns
                .iter()
                .position(|t| &t.name == c)
                .ok_or_else(|| {
                    format!("{}.{c} is not in the schema the archive names", table.name)
                })?;
            positions.push(at);
        }
        if let Some(missing) = table.columns.iter().find(|t| !columns.contains(&t.name)) {
            return Err(format!(
                "the archive has no {}.{} the schema it names has",
                table.name, missing.name
            ));
        }
        let index_of = |name: &String| table.columns.iter().position(|c| &c.name == name);
        Ok(Loader {
            table,
            positions,
            batch: Vec::new(),
            per_statement: batch_rows(backend),
            rows: 0,
            links: Vec::new(),
            self_positions: table.self_references.iter().filter_map(index_of).collect(),
            key_positions: table.primary_key.iter().filter_map(index_of).collect(),
        })
    }

    fn push(&mut self, values: &[Json]) -> Result<(), String> {
        if values.len() != self.positions.len() {
            return Err(format!(
                "a row of {} has {} values, not {}",
                self.table.name,
                values.len(),
                self.positions.len()
            ));
        }
        let mut row = vec![Value::Bool(None); self.table.columns.len()];
        for (value, &at) in values.iter().zip(&self.positions) {
            let column = &self.table.columns[at];
            row[at] = archive::decode(value, column.kind)
                .map_err(|e| format!("{}.{}: {e}", self.table.name, column.name))?;
        }
        // A reference to a row of the same table that may come later: inserted empty,
        // set once every row is in.
        let links: Vec<Value> = self
            .self_positions
            .iter()
            .map(|&i| row[i].clone())
            .collect();
        if links.iter().any(|v| !is_null(v)) {
            let key = self.key_positions.iter().map(|&i| row[i].clone()).collect();
            for &i in &self.self_positions {
                row[i] = null_like(&row[i]);
            }
            self.links.push((key, links));
        }
        self.batch.push(row);
        self.rows += 1;
        Ok(())
    }

    fn batch_full(&self) -> bool {
        self.batch.len() >= self.per_statement
    }

    async fn flush(&mut self, writer: &mut Writer) -> Result<(), BackupError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let columns: Vec<&str> = self.table.columns.iter().map(|c| c.name.as_str()).collect();
        writer
            .put_rows(&self.table.name, &columns, &self.batch)
            .await?;
        self.batch.clear();
        Ok(())
    }

    async fn link_self_references(&mut self, writer: &mut Writer) -> Result<(), BackupError> {
        for (key, links) in self.links.drain(..) {
            let mut update = Query::update();
            update.table(Alias::new(&self.table.name));
            for (column, value) in self.table.self_references.iter().zip(links) {
                update.value(Alias::new(column), value);
            }
            for (column, value) in self.table.primary_key.iter().zip(key) {
                update.and_where(Expr::col(Alias::new(column)).eq(value));
            }
            writer.run(&update).await?;
        }
        Ok(())
    }
}

fn is_null(v: &Value) -> bool {
    matches!(
        v,
        Value::Uuid(None)
            | Value::String(None)
            | Value::BigInt(None)
            | Value::Int(None)
            | Value::Bool(None)
            | Value::ChronoDate(None)
            | Value::ChronoDateTimeUtc(None)
    )
}

/// The null of the same type as `v`.
fn null_like(v: &Value) -> Value {
    match v {
        Value::Uuid(_) => Value::Uuid(None),
        Value::BigInt(_) => Value::BigInt(None),
        Value::Int(_) => Value::Int(None),
        _ => Value::String(None),
    }
}

/// Brings an empty database from `applied` migrations to exactly `wanted`.
async fn align_schema(
    conn: &sea_orm::DatabaseConnection,
    applied: usize,
    wanted: usize,
) -> Result<(), BackupError> {
    let steps =
        |n: usize| u32::try_from(n).map_err(|_| BackupError::Schema("too many migrations".into()));
    if applied < wanted {
        Migrator::up(conn, Some(steps(wanted - applied)?)).await?;
    } else if applied > wanted {
        Migrator::down(conn, Some(steps(applied - wanted)?)).await?;
    }
    Ok(())
}

/// The migrations applied to the database, oldest first; none when it has no schema.
async fn applied_migrations<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, BackupError> {
    let backend = conn.get_database_backend();
    let exists = match backend {
        DatabaseBackend::Postgres => format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{MIGRATIONS_TABLE}'"
        ),
        _ => format!(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{MIGRATIONS_TABLE}'"
        ),
    };
    let present = conn
        .query_one_raw(Statement::from_string(backend, exists))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if present == 0 {
        return Ok(Vec::new());
    }
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version"),
        ))
        .await?;
    rows.iter()
        .map(|r| {
            r.try_get::<String>("", "version")
                .map_err(BackupError::from)
        })
        .collect()
}

/// Which tables hold rows, when any do.
async fn holdings<C: ConnectionTrait>(conn: &C) -> Result<Option<String>, BackupError> {
    let mut held = Vec::new();
    for table in schema::read(conn).await? {
        let sql = format!("SELECT 1 AS one FROM {} LIMIT 1", quoted(&table.name));
        if conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await?
            .is_some()
        {
            held.push(table.name);
        }
    }
    Ok((!held.is_empty()).then(|| format!("rows in {}", held.join(", "))))
}

/// A read that failed: the file is not gzip, or the disk failed.
fn unreadable(e: std::io::Error) -> BackupError {
    match e.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            BackupError::Damaged(format!("it is not a gzip-compressed archive ({e})"))
        }
        std::io::ErrorKind::UnexpectedEof => BackupError::Damaged("the file is cut off".into()),
        _ => BackupError::Read(e),
    }
}

fn backend_name(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "postgres",
        _ => "sqlite",
    }
}

fn write_line<W: Write, T: serde::Serialize>(out: &mut W, line: &T) -> Result<(), BackupError> {
    serde_json::to_writer(&mut *out, line).map_err(|e| BackupError::Write(e.into()))?;
    out.write_all(b"\n").map_err(BackupError::Write)
}
