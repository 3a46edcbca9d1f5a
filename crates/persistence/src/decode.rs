//! Rows read straight from the driver. sea-orm's derived readers build an error message
//! for every NULL column they meet, only to drop it: on a page of 50 customers that was
//! most of the time spent turning rows into records. [`Decoded`] reads the same columns
//! by name with the same driver conversions (sqlx's), without the message. Every table
//! declared with `entities::table!` implements it.

use sea_orm::sqlx::{Decode, Postgres, Row, Sqlite, Type};
use sea_orm::{DbErr, EntityTrait, FromQueryResult, QueryResult};

/// A column's value, read by name as sea-orm reads it (`Option` for a nullable column).
pub(crate) trait ColumnValue: Sized {
    fn read(res: &QueryResult, column: &str) -> Result<Self, DbErr>;
}

impl<T> ColumnValue for T
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres> + for<'r> Decode<'r, Sqlite> + Type<Sqlite>,
{
    fn read(res: &QueryResult, column: &str) -> Result<Self, DbErr> {
        let read = if let Some(row) = res.try_as_pg_row() {
            row.try_get::<T, _>(column)
        } else if let Some(row) = res.try_as_sqlite_row() {
            row.try_get::<T, _>(column)
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
