//! Reading stored values back into typed ones: a stored name that no variant has is a
//! loud error, never a default.

use sims_domain::StoredName;

use crate::{PersistenceError, Result};

/// The variant stored as `value` in `table.column`.
pub(crate) fn stored<T: StoredName>(
    table: &'static str,
    column: &'static str,
    value: &str,
) -> Result<T> {
    T::from_name(value).ok_or_else(|| PersistenceError::Corrupt {
        table,
        column,
        value: value.to_owned(),
    })
}

/// A phone or email as stored in `table.column`, opened when sealed
/// ([`crate::crypto`]); one that does not open is an error, never garbage.
/// A value stored in clear is moved out as it is (no copy when given a `String`).
pub(crate) fn opened<S: AsRef<str> + Into<String>>(
    table: &'static str,
    column: &'static str,
    value: Option<S>,
) -> Result<Option<String>> {
    match value {
        Some(v) if v.as_ref().starts_with(crate::crypto::SEALED) => {
            crate::crypto::open(Some(v.as_ref())).map_err(|e| PersistenceError::Corrupt {
                table,
                column,
                value: e.to_string(),
            })
        }
        other => Ok(other.map(Into::into)),
    }
}

/// JSON text stored in `table.column` with its phones and emails opened.
pub(crate) fn opened_json(table: &'static str, column: &'static str, text: &str) -> Result<String> {
    crate::crypto::open_json_text(text).map_err(|e| PersistenceError::Corrupt {
        table,
        column,
        value: e.to_string(),
    })
}

/// Like [`stored`] for a nullable column.
pub(crate) fn stored_opt<T: StoredName>(
    table: &'static str,
    column: &'static str,
    value: Option<&str>,
) -> Result<Option<T>> {
    value.map(|v| stored(table, column, v)).transpose()
}

/// A JSON list of strings stored in `table.column`.
pub(crate) fn stored_strings(
    table: &'static str,
    column: &'static str,
    value: &str,
) -> Result<Vec<String>> {
    serde_json::from_str(value).map_err(|_| PersistenceError::Corrupt {
        table,
        column,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sims_domain::order::OrderStatus;

    #[test]
    fn unknown_names_are_corrupt_not_defaults() {
        assert_eq!(
            stored::<OrderStatus>("orders", "status", "shipped").ok(),
            Some(OrderStatus::Shipped)
        );
        assert!(matches!(
            stored::<OrderStatus>("orders", "status", "lost_in_transit"),
            Err(PersistenceError::Corrupt {
                table: "orders",
                column: "status",
                ..
            })
        ));
        assert!(stored_strings("customers", "tags", "not json").is_err());
        assert_eq!(
            stored_strings("customers", "tags", r#"["a"]"#).ok(),
            Some(vec!["a".to_owned()])
        );
    }
}
