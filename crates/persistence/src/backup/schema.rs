//! What a backup needs to know of the schema, read from the database itself: the tables
//! in an order where every referenced table comes before the tables that reference it,
//! each with its columns, their kinds, the primary key, and the columns that refer to the
//! table itself (a team's parent).

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use super::BackupError;

/// How a column's values are read and written. Both databases map onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Uuid,
    Text,
    Timestamp,
    Date,
    Int,
    BigInt,
    Bool,
}

impl Kind {
    /// The kind of a column type as the database names it.
    fn of(backend: DatabaseBackend, declared: &str) -> Option<Kind> {
        let t = declared.to_ascii_lowercase();
        Some(match backend {
            DatabaseBackend::Postgres => match t.as_str() {
                "uuid" => Kind::Uuid,
                "text" | "character varying" => Kind::Text,
                "timestamp with time zone" => Kind::Timestamp,
                "date" => Kind::Date,
                "integer" => Kind::Int,
                "bigint" => Kind::BigInt,
                "boolean" => Kind::Bool,
                _ => return None,
            },
            _ => match t.as_str() {
                "uuid_text" => Kind::Uuid,
                "text" => Kind::Text,
                t if t.starts_with("varchar") => Kind::Text,
                "timestamp_with_timezone_text" => Kind::Timestamp,
                "date_text" => Kind::Date,
                // SQLite keeps every integer in 64 bits.
                "integer" | "bigint" => Kind::BigInt,
                "boolean" => Kind::Bool,
                _ => return None,
            },
        })
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// Columns with a foreign key to this same table.
    pub self_references: Vec<String>,
}

impl Table {
    /// `"a", "b", …` for a statement.
    pub(crate) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quoted(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An identifier quoted for either database.
pub(crate) fn quoted(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The migrations' own bookkeeping, which a backup records as its schema version instead.
pub(crate) const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// Every table of the schema, referenced tables first.
pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<Vec<Table>, BackupError> {
    let backend = conn.get_database_backend();
    let mut columns: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // (table, column, referenced table)
    let mut references: Vec<(String, String, String)> = Vec::new();
    match backend {
        DatabaseBackend::Postgres => {
            for r in text_rows(
                conn,
                "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
                 FROM information_schema.columns c JOIN information_schema.tables t \
                 ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                 ORDER BY c.table_name, c.ordinal_position",
            )
            .await?
            {
                let [table, column, declared] = r.as_slice() else {
                    continue;
                };
                let kind =
                    Kind::of(backend, declared).ok_or_else(|| unknown(table, column, declared))?;
                columns.entry(table.clone()).or_default().push(Column {
                    name: column.clone(),
                    kind,
                });
            }
            for r in text_rows(
                conn,
                "SELECT t.relname::text, a.attname::text FROM pg_index ix \
                 JOIN pg_class t ON t.oid = ix.indrelid \
                 JOIN unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) ON true \
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                 WHERE ix.indisprimary AND t.relnamespace = current_schema()::regnamespace \
                 ORDER BY t.relname, k.ord",
            )
            .await?
            {
                if let [table, column] = r.as_slice() {
                    keys.entry(table.clone()).or_default().push(column.clone());
                }
            }
            for r in text_rows(
                conn,
                "SELECT src.relname::text, a.attname::text, dst.relname::text FROM pg_constraint c \
                 JOIN pg_class src ON src.oid = c.conrelid JOIN pg_class dst ON dst.oid = c.confrelid \
                 JOIN unnest(c.conkey) k(attnum) ON true \
                 JOIN pg_attribute a ON a.attrelid = src.oid AND a.attnum = k.attnum \
                 WHERE c.contype = 'f' AND src.relnamespace = current_schema()::regnamespace",
            )
            .await?
            {
                if let [table, column, target] = r.as_slice() {
                    references.push((table.clone(), column.clone(), target.clone()));
                }
            }
        }
        _ => {
            let tables = text_rows(
                conn,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .await?;
            for t in tables.into_iter().filter_map(|r| r.into_iter().next()) {
                let info = text_rows(
                    conn,
                    &format!(
                        "SELECT name, type, CAST(pk AS TEXT) FROM pragma_table_info('{}') ORDER BY cid",
                        t.replace('\'', "''")
                    ),
                )
                .await?;
                let mut pk: Vec<(String, String)> = Vec::new();
                for r in info {
                    let [column, declared, position] = r.as_slice() else {
                        continue;
                    };
                    let kind =
                        Kind::of(backend, declared).ok_or_else(|| unknown(&t, column, declared))?;
                    columns.entry(t.clone()).or_default().push(Column {
                        name: column.clone(),
                        kind,
                    });
                    if position != "0" {
                        pk.push((position.clone(), column.clone()));
                    }
                }
                pk.sort_by_key(|(p, _)| p.parse::<u32>().unwrap_or(0));
                keys.insert(t.clone(), pk.into_iter().map(|(_, c)| c).collect());
                for r in text_rows(
                    conn,
                    &format!(
                        "SELECT \"from\", \"table\" FROM pragma_foreign_key_list('{}')",
                        t.replace('\'', "''")
                    ),
                )
                .await?
                {
                    if let [column, target] = r.as_slice() {
                        references.push((t.clone(), column.clone(), target.clone()));
                    }
                }
            }
        }
    }
    columns.remove(MIGRATIONS_TABLE);
    let mut tables: BTreeMap<String, Table> = columns
        .into_iter()
        .map(|(name, columns)| {
            let primary_key = keys.remove(&name).unwrap_or_default();
            let table = Table {
                name: name.clone(),
                columns,
                primary_key,
                self_references: Vec::new(),
            };
            (name, table)
        })
        .collect();
    let mut depends: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column, target) in references {
        if table == target {
            if let Some(t) = tables.get_mut(&table) {
                t.self_references.push(column);
            }
        } else if tables.contains_key(&target) {
            depends.entry(table).or_default().insert(target);
        }
    }
    // Referenced tables first; ties by name, so the order is the same on both databases.
    let mut ordered = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready: Vec<String> = tables
            .keys()
            .filter(|t| {
                depends
                    .get(*t)
                    .is_none_or(|d| d.iter().all(|dep| !tables.contains_key(dep)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            let left: Vec<&String> = tables.keys().collect();
            return Err(BackupError::Schema(format!(
                "the foreign keys between {left:?} form a cycle"
            )));
        }
        for name in ready {
            if let Some(t) = tables.remove(&name) {
                ordered.push(t);
            }
        }
    }
    Ok(ordered)
}

fn unknown(table: &str, column: &str, declared: &str) -> BackupError {
    BackupError::Schema(format!(
        "{table}.{column} has type {declared:?}, which backups do not know"
    ))
}

/// Rows of a catalog query, every column as text.
async fn text_rows<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
) -> Result<Vec<Vec<String>>, BackupError> {
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| {
            (0..r.column_names().len())
                .map(|i| r.try_get_by_index::<String>(i).map_err(BackupError::from))
                .collect()
        })
        .collect()
}
