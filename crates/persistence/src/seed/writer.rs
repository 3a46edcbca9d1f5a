//! Writes batches of rows inside one transaction: `COPY … FROM STDIN` on PostgreSQL,
//! multi-row `INSERT`s on SQLite. Either everything commits or nothing does. The seed
//! writes its generated rows through it, and `sims restore` an archive's.

use sea_orm::sea_query::{Alias, Expr, PostgresQueryBuilder, Query, QueryStatementWriter};
use sea_orm::sqlx::{self, AssertSqlSafe, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
};

use super::SeedError;
use super::rows::{Chunk, encode_row};
use crate::Database;

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
        Self::open(db, false).await
    }

    /// Opens a write transaction; unless `durable`, its commit does not wait for the
    /// WAL flush on PostgreSQL (losing a seed to a crash costs a re-run, nothing else).
    pub(crate) async fn open(db: &Database, durable: bool) -> Result<Self, SeedError> {
        match db.backend() {
            DatabaseBackend::Postgres => {
                let mut tx = db.conn().get_postgres_connection_pool().begin().await?;
                if !durable {
                    sqlx::query("SET LOCAL synchronous_commit TO OFF")
                        .execute(&mut *tx)
                        .await?;
                }
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
    pub(crate) async fn write(&mut self, chunk: Chunk) -> Result<(), SeedError> {
        match (chunk, &mut *self) {
            (Chunk::Rows(b), _) => self.put_rows(b.table, &b.columns, &b.rows).await,
            (Chunk::Copy(e), Writer::Postgres(tx)) => copy(tx, e.table, &e.columns, e.data).await,
            (Chunk::Copy(_), Writer::Sqlite(_)) => Err(SeedError::Generator(
                "COPY data cannot be written to SQLite".into(),
            )),
        }
    }

    /// Writes rows of `table`, their values in the order of `columns`.
    pub(crate) async fn put_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Value>],
    ) -> Result<(), SeedError> {
        match self {
            Writer::Postgres(tx) => {
                let mut text = String::with_capacity(rows.len() * 16 * columns.len());
                for row in rows {
                    encode_row(&mut text, table, columns, row)?;
                }
                copy(tx, table, columns, text.into_bytes()).await
            }
            Writer::Sqlite(tx) => {
                let per_statement = (SQLITE_MAX_VALUES / columns.len().max(1)).max(1);
                for chunk in rows.chunks(per_statement) {
                    let mut insert = Query::insert();
                    insert
                        .into_table(Alias::new(table))
                        .columns(columns.iter().map(|c| Alias::new(*c)));
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

    /// Runs one statement built with sea-query (values inlined, quoted by sea-query, on
    /// PostgreSQL; bound on SQLite).
    pub(crate) async fn run<S: QueryStatementWriter + sea_orm::StatementBuilder>(
        &mut self,
        statement: &S,
    ) -> Result<(), SeedError> {
        match self {
            Writer::Postgres(tx) => {
                sqlx::raw_sql(AssertSqlSafe(statement.to_string(PostgresQueryBuilder)))
                    .execute(&mut **tx)
                    .await?;
            }
            Writer::Sqlite(tx) => {
                tx.execute(statement).await?;
            }
        }
        Ok(())
    }

    /// On PostgreSQL, drops the secondary indexes and the foreign keys of `tables` for the
    /// rest of the transaction and returns the statements that bring them back: loading
    /// into bare tables and building each index once, sorted, is several times faster than
    /// maintaining it row by row. Indexes that back a constraint (primary keys, unique
    /// constraints) stay. On SQLite, does nothing.
    pub(crate) async fn set_aside_indexes(
        &mut self,
        tables: &[&str],
    ) -> Result<Vec<String>, SeedError> {
        let Writer::Postgres(tx) = self else {
            return Ok(Vec::new());
        };
        let tables: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.indexname::text, i.indexdef::text FROM pg_indexes i \
             WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                 WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) \
             ORDER BY i.indexname",
        )
        .bind(&tables)
        .fetch_all(&mut **tx)
        .await?;
        let keys: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT r.relname::text, c.conname::text, pg_get_constraintdef(c.oid) \
             FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
             WHERE c.contype = 'f' AND r.relnamespace = current_schema()::regnamespace \
             AND r.relname = ANY($1) ORDER BY r.relname, c.conname",
        )
        .bind(&tables)
        .fetch_all(&mut **tx)
        .await?;
        let mut restore = Vec::with_capacity(indexes.len() + keys.len());
        for (table, name, definition) in keys {
            // Names and definitions come from the catalog, identifiers quoted.
            sqlx::raw_sql(AssertSqlSafe(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                quoted(&table),
                quoted(&name)
            )))
            .execute(&mut **tx)
            .await?;
            restore.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
                quoted(&table),
                quoted(&name)
            ));
        }
        for (name, definition) in indexes {
            sqlx::raw_sql(AssertSqlSafe(format!("DROP INDEX {}", quoted(&name))))
                .execute(&mut **tx)
                .await?;
            restore.insert(0, definition);
        }
        Ok(restore)
    }

    /// Runs the statements [`Writer::set_aside_indexes`] returned: indexes, then keys.
    pub(crate) async fn restore_indexes(&mut self, statements: &[String]) -> Result<(), SeedError> {
        let Writer::Postgres(tx) = self else {
            return Ok(());
        };
        sqlx::query("SET LOCAL maintenance_work_mem TO '256MB'")
            .execute(&mut **tx)
            .await?;
        for statement in statements {
            sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
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

    /// Stores the pool rules (`settings` key `pool`), as `PATCH /settings/pool` would.
    pub(crate) async fn store_pool_rules(
        &mut self,
        value: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SeedError> {
        const UPSERT: &str = "INSERT INTO settings (key, value, version, updated_at) \
             VALUES ('pool', $1, 1, $2) ON CONFLICT (key) DO UPDATE \
             SET value = excluded.value, version = settings.version + 1, updated_at = excluded.updated_at";
        match self {
            Writer::Postgres(tx) => {
                sqlx::query(UPSERT)
                    .bind(value)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
            }
            Writer::Sqlite(tx) => {
                tx.execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Sqlite,
                    UPSERT.replace("$1", "?").replace("$2", "?"),
                    [value.into(), at.into()],
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Writes `product_sales` for every counted order written, in one statement.
    pub(crate) async fn derive_product_sales(&mut self) -> Result<(), SeedError> {
        let sql = crate::orders::product_sales_of_counted_orders();
        match self {
            Writer::Postgres(tx) => {
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **tx).await?;
            }
            Writer::Sqlite(tx) => {
                tx.execute_unprepared(&sql).await?;
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

/// `COPY table (columns) FROM STDIN` with `data` in its text format.
async fn copy(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    table: &str,
    columns: &[&str],
    data: Vec<u8>,
) -> Result<(), SeedError> {
    let cols: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
    let statement = format!("COPY {} ({}) FROM STDIN", quoted(table), cols.join(", "));
    let mut copy = tx.copy_in_raw(&statement).await?;
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}
