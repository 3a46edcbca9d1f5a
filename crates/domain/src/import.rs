//! Imports (CSV of customers, contacts, products): the per-row report, how repeats
//! within one file are found, and the all-or-nothing rule.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation};

/// Most row problems listed in one report.
pub const MAX_REPORTED: usize = 1000;

/// A problem with one row of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column, when the problem is about one.
    pub field: Option<String>,
    /// `required`, `invalid_email`, `wrong_column_count`, `invalid_utf8`,
    /// `duplicate_in_file`, `duplicate_customer`, …
    pub code: String,
    pub message: String,
    /// For `duplicate_customer`: ids of the matching customers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<Uuid>>,
    /// For `duplicate_in_file`: the earlier line it repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of_line: Option<u64>,
}

impl RowError {
    /// A problem of `code` on `line`, about `field` when it names one.
    pub fn new(line: u64, field: Option<&str>, code: &str, message: impl Into<String>) -> Self {
        Self {
            line,
            field: field.map(str::to_owned),
            code: code.into(),
            message: message.into(),
            matches: None,
            duplicate_of_line: None,
        }
    }

    /// The violations of a rule, as problems of `line`.
    pub fn from_rule(line: u64, e: DomainError) -> Vec<Self> {
        match e {
            DomainError::Validation(v) => v
                .into_iter()
                .map(|f| Self::new(line, Some(&f.field), &f.code, f.message))
                .collect(),
            other => vec![Self::new(line, None, "invalid", other.to_string())],
        }
    }
}

/// What an import found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: u64,
    pub valid: u64,
    pub invalid: u64,
    /// Records written.
    pub created: u64,
    /// Problems, by line (at most 1,000 listed).
    pub errors: Vec<RowError>,
    /// More problems exist than are listed.
    pub errors_truncated: bool,
    /// Header columns that were not recognised and were ignored.
    pub ignored_columns: Vec<String>,
}

impl ImportReport {
    /// An empty report.
    pub fn new(dry_run: bool, ignored_columns: Vec<String>) -> Self {
        Self {
            dry_run,
            rows: 0,
            valid: 0,
            invalid: 0,
            created: 0,
            errors: vec![],
            errors_truncated: false,
            ignored_columns,
        }
    }

    /// Counts one invalid row and lists its problems, up to the report's limit.
    pub fn reject(&mut self, problems: Vec<RowError>) {
        self.invalid += 1;
        for p in problems {
            if self.errors.len() < MAX_REPORTED {
                self.errors.push(p);
            } else {
                self.errors_truncated = true;
            }
        }
    }

    /// All or nothing: an import with invalid rows writes nothing unless invalid rows
    /// may be skipped. The refusal lists every reported problem as `line[N].field`.
    pub fn check_complete(&self, skip_invalid: bool) -> Result<(), DomainError> {
        if self.invalid == 0 || skip_invalid {
            return Ok(());
        }
        let violations = self
            .errors
            .iter()
            .map(|e| {
                let field = match &e.field {
                    Some(f) => format!("line[{}].{f}", e.line),
                    None => format!("line[{}]", e.line),
                };
                FieldViolation::new(field, &e.code, e.message.clone())
            })
            .collect();
        Err(DomainError::ImportRejected {
            rows: self.rows,
            invalid: self.invalid,
            violations,
        })
    }
}

/// The keys of the rows seen so far in one file, each with the line that had it first.
/// Keys are kept as 64-bit hashes, so that a 100,000-row file costs a few megabytes.
#[derive(Debug, Default)]
pub struct SeenKeys(HashMap<u64, u64>);

impl SeenKeys {
    /// The earlier line sharing one of `keys` (a kind and a value each), else records
    /// them under `line` and returns `None`.
    pub fn check(&mut self, keys: &[(u8, String)], line: u64) -> Option<u64> {
        let hashed: Vec<u64> = keys
            .iter()
            .map(|k| {
                let mut h = DefaultHasher::new();
                k.hash(&mut h);
                h.finish()
            })
            .collect();
        if let Some(first) = hashed.iter().find_map(|k| self.0.get(k).copied()) {
            return Some(first);
        }
        for k in hashed {
            self.0.insert(k, line);
        }
        None
    }
}

/// A cell as written to an exported CSV file: text a spreadsheet would run as a formula
/// (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`;
/// a number (`-12.50`) or a phone number (`+86 138 0013 8000`) stays as it is, so that an
/// export imports back unchanged.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = crate::money::parse_decimal_text(cell).is_some();
    let phone = cell.strip_prefix('+').is_some_and(|rest| {
        rest.chars().any(|c| c.is_ascii_digit())
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
    });
    if risky && !number && !phone {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_cells_never_run_as_formulas() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-1+2", "'-1+2"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-12.50", "-12.50"),
            ("+86 138 0013 8000", "+86 138 0013 8000"),
            ("+1 (555) 010-9999", "+1 (555) 010-9999"),
            ("杭州西湖科技", "杭州西湖科技"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn repeated_keys_point_at_the_first_line() {
        let mut seen = SeenKeys::default();
        let k = |kind: u8, v: &str| (kind, v.to_owned());
        assert_eq!(seen.check(&[k(0, "a"), k(1, "138")], 2), None);
        assert_eq!(seen.check(&[k(0, "b")], 3), None);
        assert_eq!(seen.check(&[k(0, "c"), k(1, "138")], 4), Some(2));
        assert_eq!(seen.check(&[k(0, "b")], 5), Some(3));
        assert_eq!(seen.check(&[k(1, "b")], 6), None, "kinds are apart");
    }

    #[test]
    fn all_or_nothing_lists_every_problem() {
        let mut r = ImportReport::new(false, vec![]);
        r.rows = 3;
        assert_eq!(r.check_complete(false), Ok(()));
        r.reject(vec![
            RowError::new(2, Some("email"), "invalid_email", "bad"),
            RowError::new(2, None, "duplicate_in_file", "again"),
        ]);
        assert!(r.check_complete(true).is_ok());
        match r.check_complete(false) {
            Err(DomainError::ImportRejected {
                rows: 3,
                invalid: 1,
                violations,
            }) => assert_eq!(
                violations
                    .iter()
                    .map(|v| v.field.as_str())
                    .collect::<Vec<_>>(),
                vec!["line[2].email", "line[2]"]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reports_list_at_most_a_thousand_problems() {
        let mut r = ImportReport::new(true, vec![]);
        for line in 0..1001 {
            r.reject(vec![RowError::new(line, None, "x", "y")]);
        }
        assert_eq!(
            (r.invalid, r.errors.len(), r.errors_truncated),
            (1001, 1000, true)
        );
    }
}
