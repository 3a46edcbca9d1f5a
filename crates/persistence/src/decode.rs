//! Rows read straight from the driver. sea-orm's derived readers build an error message
//! for every NULL column they meet, only to drop it: on a page of 50 customers that was
//! most of the time spent turning rows into records. [`Decoded`] reads the same columns
//! with the same driver conversions (sqlx's), without the message, and by position where
//! the name there is the column's (a select of the table's own columns lists them in
//! order), rather than looking every name up. Every table declared with
//! `entities::table!` implements it.

use sea_orm::sqlx::{Column, Decode, Postgres, Row, Sqlite, Type};
use sea_orm::{DbErr, EntityTrait, FromQueryResult, QueryResult};

/// A column's value as sea-orm reads it (`Option` for a nullable column): the column
/// `column`, expected at position `at`.
pub(crate) trait ColumnValue: Sized {
    fn read(res: &QueryResult, at: usize, column: &str) -> Result<Self, DbErr>;
}

/// Where `column` is in `row`: at `at` when the name there is `column`, else looked up.
fn position<R: Row>(row: &R, at: usize, column: &str) -> Result<usize, sea_orm::sqlx::Error>
where
    for<'a> &'a str: sea_orm::sqlx::ColumnIndex<R>,
{
    match row.columns().get(at) {
        Some(c) if c.name() == column => Ok(at),
        _ => row.try_column(column).map(Column::ordinal),
    }
}

impl<T> ColumnValue for T
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres> + for<'r> Decode<'r, Sqlite> + Type<Sqlite>,
{
    fn read(res: &QueryResult, at: usize, column: &str) -> Result<Self, DbErr> {
        let read = if let Some(row) = res.try_as_pg_row() {
            // PostgreSQL's column types are fixed by the schema, and each decoder checks
            // the bytes it reads, so a release build skips the per-value comparison of
            // the column's type with the field's (a clone of the type's description);
            // debug builds — the test suite — keep it, so a field whose type drifts from
            // its column fails the tests. SQLite stores any value in any column: there
            // the comparison always stays.
            position(row, at, column).and_then(|i| {
                if cfg!(debug_assertions) {
                    row.try_get::<T, _>(i)
                } else {
                    row.try_get_unchecked::<T, _>(i)
                }
            })
        } else if let Some(row) = res.try_as_sqlite_row() {
            position(row, at, column).and_then(|i| row.try_get::<T, _>(i))
        } else {
            return Err(DbErr::Type(format!(
                "column {column}: a row of neither PostgreSQL nor SQLite"
            )));
        };
        read.map_err(|e| DbErr::Type(format!("column {column}: {e}")))
    }
}

/// A table whose rows are read column by column with [`ColumnValue`].
pub(crate) trait Decoded: EntityTrait {
    /// The row `res` holds, its columns named as the table's.
    fn decode(res: &QueryResult) -> Result<Self::Model, DbErr>;
}

/// The model of `E`, read by [`Decoded::decode`]: `select.into_model::<Read<E>>()`.
pub(crate) struct Read<E: Decoded>(pub E::Model);

impl<E: Decoded> FromQueryResult for Read<E> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        if pre.is_empty() {
            E::decode(res).map(Read)
        } else {
            // Columns under a prefix (a joined table): sea-orm's reader knows the names.
            <E::Model as FromQueryResult>::from_query_result(res, pre).map(Read)
        }
    }
}
