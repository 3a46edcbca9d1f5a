//! List conventions shared by every collection: page sizes and whitelisted sorting.

use crate::error::FieldViolation;

/// Page size when the client names none.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 200;
/// How deep numbered pages reach: `page × per_page` at most this; deeper reads continue
/// with `after`, which costs the same at any depth.
pub const MAX_OFFSET_ITEMS: u32 = 10_000;
/// Longest `next_cursor` the API sends, and so the longest `after` it accepts.
pub const CURSOR_MAX: usize = 2048;
/// Longest value of any other query parameter (a search, a filter, a sort).
pub const QUERY_VALUE_MAX: usize = 200;

/// One key of a sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The whitelisted field name, as the client wrote it.
    pub field: &'static str,
    /// `true` for a `-field` (descending) key.
    pub descending: bool,
}

/// Parses `sort=-created_at,name` against a resource's whitelist. An empty or absent
/// parameter yields `default`. Unknown or repeated fields are a violation on `sort`.
pub fn parse_sort(
    input: Option<&str>,
    whitelist: &[&'static str],
    default: &[SortKey],
) -> Result<Vec<SortKey>, FieldViolation> {
    let Some(input) = input.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(default.to_vec());
    };
    let mut keys: Vec<SortKey> = Vec::new();
    for part in input.split(',') {
        let part = part.trim();
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let Some(field) = whitelist.iter().copied().find(|w| *w == name) else {
            return Err(FieldViolation::new(
                "sort",
                "unknown_sort_field",
                format!("cannot sort by '{name}'; allowed: {}", whitelist.join(", ")),
            ));
        };
        if keys.iter().any(|k| k.field == field) {
            return Err(FieldViolation::new(
                "sort",
                "repeated_sort_field",
                format!("'{name}' appears twice"),
            ));
        }
        keys.push(SortKey { field, descending });
    }
    if keys.len() > 3 {
        return Err(FieldViolation::new(
            "sort",
            "too_many",
            "sort by at most 3 fields",
        ));
    }
    Ok(keys)
}

/// Checks a page number (from 1) and a page size (1..=200), filling in the defaults.
pub fn check_page(page: Option<u32>, per_page: Option<u32>) -> Result<(u32, u32), FieldViolation> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(FieldViolation::new(
            "page",
            "out_of_range",
            "page starts at 1",
        ));
    }
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(FieldViolation::new(
            "per_page",
            "out_of_range",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    if u64::from(page) * u64::from(per_page) > u64::from(MAX_OFFSET_ITEMS) {
        return Err(FieldViolation::new(
            "page",
            "too_deep",
            format!(
                "page × per_page must be at most {MAX_OFFSET_ITEMS}; continue with after=<next_cursor>"
            ),
        ));
    }
    Ok((page, per_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: &[&str] = &["created_at", "name", "level"];
    const D: &[SortKey] = &[SortKey {
        field: "created_at",
        descending: true,
    }];

    #[test]
    fn sort_parses_directions() {
        let keys = parse_sort(Some("-created_at,name"), W, D);
        assert_eq!(
            keys,
            Ok(vec![
                SortKey {
                    field: "created_at",
                    descending: true
                },
                SortKey {
                    field: "name",
                    descending: false
                }
            ])
        );
        assert_eq!(parse_sort(None, W, D), Ok(D.to_vec()));
        assert_eq!(parse_sort(Some(""), W, D), Ok(D.to_vec()));
    }

    #[test]
    fn sort_rejects_unknown_and_repeated_fields() {
        assert_eq!(
            parse_sort(Some("password"), W, D).map_err(|e| e.code),
            Err("unknown_sort_field".into())
        );
        assert_eq!(
            parse_sort(Some("name,-name"), W, D).map_err(|e| e.code),
            Err("repeated_sort_field".into())
        );
        assert_eq!(
            parse_sort(Some("name;drop"), W, D).map_err(|e| e.field),
            Err("sort".into())
        );
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(check_page(None, None), Ok((1, 50)));
        assert_eq!(check_page(Some(3), Some(200)), Ok((3, 200)));
        assert_eq!(
            check_page(Some(1), Some(201)).map_err(|e| e.field),
            Err("per_page".into())
        );
        assert_eq!(
            check_page(Some(0), None).map_err(|e| e.field),
            Err("page".into())
        );
        assert_eq!(
            check_page(None, Some(0)).map_err(|e| e.field),
            Err("per_page".into())
        );
    }
}
