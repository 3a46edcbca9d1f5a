//! Writes generated batches inside one transaction: `COPY … FROM STDIN` on PostgreSQL,
//! multi-row `INSERT`s on SQLite. Either everything commits or nothing does.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::sqlx::{self, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

use super::SeedError;
use super::rows::Batch;
use crate::Database;

/// A batch ready for the database.
pub(crate) enum Payload {
    /// Rows to insert (SQLite).
    Rows(Batch),
    /// Rows already in `COPY` text format (PostgreSQL).
    Copy {
        table: &'static str,
        columns: Vec<&'static str>,
        data: Vec<u8>,
        rows: usize,
    },
}

impl Payload {
    /// The table and how many rows.
    pub(crate) fn size(&self) -> (&'static str, usize) {
        match self {
            Payload::Rows(b) => (b.table, b.rows.len()),
            Payload::Copy { table, rows, .. } => (table, *rows),
        }
    }
}

/// The open write transaction.
pub(crate) enum Writer {
    Sqlite(DatabaseTransaction),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// SQLite takes at most 32,766 bound values in one statement.
const SQLITE_MAX_VALUES: usize = 30_000;

fn quoted(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

impl Writer {
    /// Opens the transaction the whole seed runs in.
    pub(crate) async fn begin(db: &Database) -> Result<Self, SeedError> {
        match db.backend() {
            DatabaseBackend::Postgres => {
                let mut tx = db.conn().get_postgres_connection_pool().begin().await?;
                // Losing the seed to a crash costs a re-run, nothing else: skip the wait for
                // the WAL flush at commit.
                sqlx::query("SET LOCAL synchronous_commit TO OFF")
                    .execute(&mut *tx)
                    .await?;
                Ok(Writer::Postgres(tx))
            }
            _ => Ok(Writer::Sqlite(
                db.conn()
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?,
            )),
        }
    }

    /// Whether batches must come as `COPY` text.
    pub(crate) fn wants_copy(db: &Database) -> bool {
        db.backend() == DatabaseBackend::Postgres
    }

    /// Writes one batch.
    pub(crate) async fn write(&mut self, payload: Payload) -> Result<(), SeedError> {
        match self {
            Writer::Postgres(tx) => {
                let (table, columns, data) = match payload {
                    Payload::Copy {
                        table,
                        columns,
                        data,
                        ..
                    } => (table, columns, data),
                    Payload::Rows(batch) => {
                        let data = batch.copy_text()?;
                        (batch.table, batch.columns, data)
                    }
                };
                let cols: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
                let statement = format!("COPY {} ({}) FROM STDIN", quoted(table), cols.join(", "));
                let mut copy = tx.copy_in_raw(&statement).await?;
                copy.send(data).await?;
                copy.finish().await?;
                Ok(())
            }
            Writer::Sqlite(tx) => {
                let Payload::Rows(batch) = payload else {
                    return Err(SeedError::Generator(
                        "COPY data cannot be written to SQLite".into(),
                    ));
                };
                let per_statement = (SQLITE_MAX_VALUES / batch.columns.len().max(1)).max(1);
                for chunk in batch.rows.chunks(per_statement) {
                    let mut insert = Query::insert();
                    insert
                        .into_table(batch.table)
                        .columns(batch.columns.iter().copied());
                    for row in chunk {
                        insert
                            .values(row.iter().cloned().map(Expr::value))
                            .map_err(|e| SeedError::Generator(e.to_string()))?;
                    }
                    tx.execute(&insert).await?;
                }
                Ok(())
            }
        }
    }

    /// Raises each month's order counter to at least `last`, so that orders created later
    /// through the API continue after the seeded numbers.
    pub(crate) async fn raise_counters(
        &mut self,
        counters: &[(String, i64)],
    ) -> Result<(), SeedError> {
        for (month, last) in counters {
            match self {
                Writer::Postgres(tx) => {
                    sqlx::query(
                        "INSERT INTO order_counters (month, last) VALUES ($1, $2) \
                         ON CONFLICT (month) DO UPDATE \
                         SET last = GREATEST(order_counters.last, EXCLUDED.last)",
                    )
                    .bind(month)
                    .bind(*last)
                    .execute(&mut **tx)
                    .await?;
                }
                Writer::Sqlite(tx) => {
                    tx.execute_raw(Statement::from_sql_and_values(
                        DatabaseBackend::Sqlite,
                        "INSERT INTO order_counters (month, last) VALUES (?, ?) \
                         ON CONFLICT (month) DO UPDATE \
                         SET last = MAX(order_counters.last, excluded.last)",
                        [month.clone().into(), (*last).into()],
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Commits everything written.
    pub(crate) async fn commit(self) -> Result<(), SeedError> {
        match self {
            Writer::Postgres(tx) => tx.commit().await?,
            Writer::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
