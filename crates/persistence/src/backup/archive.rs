//! The archive format: gzip-compressed lines of JSON. The first line is the [`Header`];
//! then, for each table, a [`Line::Table`] naming its columns, one JSON array per row
//! (the values in that column order), and a [`Line::End`] with the number of rows; the
//! last line is [`Line::Footer`], so that a cut-off archive is told apart from a whole
//! one. Values are JSON scalars: ids, text, timestamps (RFC 3339, UTC, at the precision
//! stored) and dates as strings, integers as numbers, booleans, `null`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sea_orm::{QueryResult, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use super::BackupError;
use super::schema::Kind;

/// What the first line says.
pub(crate) const FORMAT: &str = "sims-backup";
/// The newest archive version this code reads and the one it writes.
pub const VERSION: u32 = 1;

/// The first line of an archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: String,
    pub version: u32,
    /// When the snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// The kind of database it was taken from (`sqlite`, `postgres`).
    pub source: String,
    /// The SIMS release that wrote it.
    pub written_by: String,
    /// The migrations applied to the database, in order: its schema version.
    pub migrations: Vec<String>,
}

/// Every line after the header that is not a row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Line {
    /// The rows that follow belong to this table, their values in this column order.
    Table { name: String, columns: Vec<String> },
    /// The table's rows end here.
    End { name: String, rows: u64 },
    /// The archive ends here.
    Footer { tables: u64, rows: u64 },
}

/// One stored value as JSON, read as its column's kind.
pub(crate) fn encode(row: &QueryResult, index: usize, kind: Kind) -> Result<Json, BackupError> {
    Ok(match kind {
        Kind::Uuid => row
            .try_get_by_index::<Option<Uuid>>(index)?
            .map_or(Json::Null, |u| Json::String(u.to_string())),
        Kind::Text => row
            .try_get_by_index::<Option<String>>(index)?
            .map_or(Json::Null, Json::String),
        Kind::Timestamp => row
            .try_get_by_index::<Option<DateTime<Utc>>>(index)?
            .map_or(Json::Null, |t| {
                Json::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }),
        Kind::Date => row
            .try_get_by_index::<Option<NaiveDate>>(index)?
            .map_or(Json::Null, |d| Json::String(d.to_string())),
        Kind::Int => row
            .try_get_by_index::<Option<i32>>(index)?
            .map_or(Json::Null, Json::from),
        Kind::BigInt => row
            .try_get_by_index::<Option<i64>>(index)?
            .map_or(Json::Null, Json::from),
        Kind::Bool => row
            .try_get_by_index::<Option<bool>>(index)?
            .map_or(Json::Null, Json::Bool),
    })
}

/// One archived value as the value to bind for a column of `kind` in the database
/// restored into (the kinds of the two databases may differ: SQLite has one integer).
pub(crate) fn decode(value: &Json, kind: Kind) -> Result<Value, String> {
    if value.is_null() {
        return Ok(match kind {
            Kind::Uuid => Option::<Uuid>::None.into(),
            Kind::Text => Option::<String>::None.into(),
            Kind::Timestamp => Option::<DateTime<Utc>>::None.into(),
            Kind::Date => Option::<NaiveDate>::None.into(),
            Kind::Int => Option::<i32>::None.into(),
            Kind::BigInt => Option::<i64>::None.into(),
            Kind::Bool => Option::<bool>::None.into(),
        });
    }
    let text = || value.as_str().ok_or("a string");
    let integer = || value.as_i64().ok_or("an integer");
    let decoded: Result<Value, &str> = match kind {
        Kind::Uuid => text().and_then(|s| Uuid::parse_str(s).map(Value::from).map_err(|_| "an id")),
        Kind::Text => text().map(|s| Value::from(s.to_owned())),
        Kind::Timestamp => text().and_then(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| Value::from(t.with_timezone(&Utc)))
                .map_err(|_| "an RFC 3339 timestamp")
        }),
        Kind::Date => text().and_then(|s| {
            s.parse::<NaiveDate>()
                .map(Value::from)
                .map_err(|_| "a date")
        }),
        Kind::Int => integer().and_then(|n| {
            i32::try_from(n)
                .map(Value::from)
                .map_err(|_| "a 32-bit integer")
        }),
        Kind::BigInt => integer().map(Value::from),
        Kind::Bool => value.as_bool().map(Value::from).ok_or("a boolean"),
    };
    decoded.map_err(|expected| format!("{value} is not {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode_to_the_kind_of_the_column_restored_into() {
        assert_eq!(decode(&Json::from(7), Kind::Int), Ok(Value::from(7_i32)));
        assert_eq!(decode(&Json::from(7), Kind::BigInt), Ok(Value::from(7_i64)));
        assert!(decode(&Json::from(1_i64 << 40), Kind::Int).is_err());
        assert_eq!(
            decode(&Json::from("2026-12-02T10:00:00.123456Z"), Kind::Timestamp),
            Ok(Value::from(
                DateTime::parse_from_rfc3339("2026-12-02T10:00:00.123456Z")
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default()
            ))
        );
        assert!(decode(&Json::from("yesterday"), Kind::Timestamp).is_err());
        assert!(decode(&Json::from("x"), Kind::Uuid).is_err());
        assert!(decode(&Json::from(1), Kind::Text).is_err());
        assert_eq!(
            decode(&Json::Null, Kind::Text),
            Ok(Option::<String>::None.into())
        );
        assert_eq!(decode(&Json::Bool(true), Kind::Bool), Ok(Value::from(true)));
    }

    #[test]
    fn lines_read_back_as_written() {
        let line = Line::End {
            name: "users".into(),
            rows: 3,
        };
        let text = serde_json::to_string(&line).unwrap_or_default();
        assert_eq!(text, r#"{"end":{"name":"users","rows":3}}"#);
        assert!(matches!(
            serde_json::from_str::<Line>(&text),
            Ok(Line::End { rows: 3, .. })
        ));
    }
}
