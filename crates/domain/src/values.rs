//! Value types for people and organisations: names, emails, phones, free text.
//!
//! Each is built with `parse(field, input)`, which trims the input and names the
//! request field in the violation it returns.

use crate::error::FieldViolation;

/// Longest accepted name (customers, contacts, users, teams), in characters.
pub const NAME_MAX: usize = 200;
/// Longest accepted note or free-text body, in characters.
pub const NOTES_MAX: usize = 10_000;
/// Longest accepted short attribute (industry, source, title, city…), in characters.
pub const SHORT_TEXT_MAX: usize = 100;
/// Longest accepted address line, in characters.
pub const ADDRESS_MAX: usize = 500;
/// Longest accepted email address, in characters.
pub const EMAIL_MAX: usize = 254;
/// Longest accepted phone number as typed, in characters.
pub const PHONE_MAX: usize = 40;
/// Longest accepted customer tag, in characters.
pub const TAG_MAX: usize = 50;
/// Shortest password a user may set, in characters.
pub const PASSWORD_MIN: usize = 10;
/// Longest password accepted anywhere (sign-in included), in characters.
pub const PASSWORD_MAX: usize = 200;

/// Checks that a list holds at least one and at most `max` items; `what` says what the
/// list needs when it is empty ("an order has at least one line").
pub fn check_items(field: &str, len: usize, max: usize, what: &str) -> Result<(), FieldViolation> {
    if len == 0 {
        return Err(FieldViolation::new(field, "required", what));
    }
    if len > max {
        return Err(FieldViolation::new(
            field,
            "too_many",
            format!("{field} takes at most {max} items"),
        ));
    }
    Ok(())
}

/// Checks `input` holds at most `max` characters as sent (so the limit a client reads in
/// the API description is the one applied), then trims it and checks it is not empty.
pub fn bounded_text(field: &str, input: &str, max: usize) -> Result<String, FieldViolation> {
    check_length(field, input, max)?;
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldViolation::new(
            field,
            "required",
            format!("{field} must not be empty"),
        ));
    }
    if trimmed.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Checks `input` holds at most `max` characters as sent.
pub fn check_length(field: &str, input: &str, max: usize) -> Result<(), FieldViolation> {
    if input.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Like [`bounded_text`], but an empty or blank input means "no value".
pub fn optional_text(
    field: &str,
    input: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldViolation> {
    match input {
        Some(s) if s.chars().count() > max => bounded_text(field, s, max).map(Some),
        Some(s) if !s.trim().is_empty() => bounded_text(field, s, max).map(Some),
        _ => Ok(None),
    }
}

/// A phone number, or none when the input is absent or blank.
pub fn optional_phone(field: &str, input: Option<&str>) -> Result<Option<String>, FieldViolation> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Phone::parse(field, s).map(|p| Some(p.as_str().to_owned())),
    }
}

/// An email address, or none when the input is absent or blank.
pub fn optional_email(field: &str, input: Option<&str>) -> Result<Option<String>, FieldViolation> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Email::parse(field, s).map(|e| Some(e.as_str().to_owned())),
    }
}

/// A display name: 1–200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Validates a name for `field`.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldViolation> {
        bounded_text(field, input, NAME_MAX).map(Self)
    }

    /// The trimmed name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as compared for duplicates and searched by `q`: lower case, inner
    /// whitespace collapsed to one space, full-width ASCII folded to half-width.
    pub fn normalized(&self) -> String {
        normalize_name(&self.0)
    }

    /// Gives up the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Normalises a name for comparison: folds full-width ASCII (common in Chinese input),
/// lower-cases, and collapses runs of whitespace.
pub fn normalize_name(input: &str) -> String {
    let folded: String = input
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect();
    folded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An email address, kept as typed (trimmed) and compared lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates an address: one `@`, a non-empty local part, a dotted domain, no spaces
    /// and no `:` (which only quoted local parts may hold, and which marks an encrypted
    /// value at rest), at most 254 characters.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldViolation> {
        check_length(field, input, EMAIL_MAX)?;
        let s = input.trim();
        let invalid = || {
            FieldViolation::new(
                field,
                "invalid_email",
                format!("{field} is not a valid email address"),
            )
        };
        if s.is_empty() {
            return Err(FieldViolation::new(
                field,
                "required",
                format!("{field} must not be empty"),
            ));
        }
        let (local, domain) = s.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty()
            || !domain_ok
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ':')
        {
            return Err(invalid());
        }
        Ok(Self(s.to_owned()))
    }

    /// The address as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased address used for duplicate checks and search.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A phone number as typed, with the digits it is matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Accepts digits, spaces, `+`, `-`, `.`, parentheses and an `ext`/`x` suffix-free
    /// number of 5 to 20 digits.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldViolation> {
        let s = input.trim();
        if s.is_empty() {
            return Err(FieldViolation::new(
                field,
                "required",
                format!("{field} must not be empty"),
            ));
        }
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')'));
        let digits = s.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(5..=20).contains(&digits) || input.chars().count() > PHONE_MAX {
            return Err(FieldViolation::new(
                field,
                "invalid_phone",
                format!("{field} must be a phone number of 5 to 20 digits"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The number as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every digit of the number, in order: what `q` searches.
    pub fn digits(&self) -> String {
        phone_digits(&self.0)
    }

    /// The number compared for duplicates: its digits without an international prefix
    /// for mainland China (`+86 138 0013 8000` and `13800138000` are the same number).
    pub fn normalized(&self) -> String {
        normalize_phone_digits(&self.digits())
    }
}

/// The digits of a phone number or a search term.
pub fn phone_digits(input: &str) -> String {
    input.chars().filter(char::is_ascii_digit).collect()
}

/// Drops a leading `0086`/`86` country code from an 11-digit mainland mobile number.
pub fn normalize_phone_digits(digits: &str) -> String {
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix)
            && rest.len() == 11
            && rest.starts_with('1')
        {
            return rest.to_owned();
        }
    }
    digits.to_owned()
}

/// A tag on a customer: 1–50 characters after trimming, no commas.
pub fn parse_tag(field: &str, input: &str) -> Result<String, FieldViolation> {
    let tag = bounded_text(field, input, TAG_MAX)?;
    if tag.contains(',') {
        return Err(FieldViolation::new(
            field,
            "invalid_tag",
            format!("{field} must not contain a comma"),
        ));
    }
    Ok(tag)
}

/// A password a user may set: at least [`PASSWORD_MIN`] characters, at most
/// [`PASSWORD_MAX`].
pub fn check_password(field: &str, input: &str) -> Result<(), FieldViolation> {
    if input.chars().count() < PASSWORD_MIN {
        return Err(FieldViolation::new(
            field,
            "too_short",
            format!("{field} must be at least {PASSWORD_MIN} characters"),
        ));
    }
    check_password_length(field, input)
}

/// The one password rule sign-in applies before hashing: at most [`PASSWORD_MAX`]
/// characters, so that nobody makes the server hash a megabyte.
pub fn check_password_length(field: &str, input: &str) -> Result<(), FieldViolation> {
    check_length(field, input, PASSWORD_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("name", "  Acme  ").map(|n| n.into_inner()),
            Ok("Acme".into())
        );
        assert_eq!(
            Name::parse("name", "   ").map_err(|e| e.code),
            Err("required".into())
        );
        let long = "名".repeat(201);
        assert_eq!(
            Name::parse("name", &long).map_err(|e| e.code),
            Err("too_long".into())
        );
        assert!(
            Name::parse("name", &"名".repeat(200)).is_ok(),
            "limit counts characters, not bytes"
        );
    }

    #[test]
    fn names_normalise_case_space_and_full_width() {
        assert_eq!(normalize_name("  ACME   Trading  Co "), "acme trading co");
        assert_eq!(normalize_name("ＡＣＭＥ　科技"), "acme 科技");
    }

    #[test]
    fn emails() {
        assert!(Email::parse("email", "li.lei@example.com").is_ok());
        for bad in [
            "nope",
            "a@b",
            "@example.com",
            "a@@example.com",
            "a b@example.com",
            "a@example..com",
            "a@.example.com",
            "enc:v1:deadbeef:x@a.cn",
        ] {
            assert_eq!(
                Email::parse("email", bad).map_err(|e| e.code),
                Err("invalid_email".into()),
                "{bad}"
            );
        }
        let e = Email::parse("email", " Li.Lei@Example.COM ").map(|e| e.normalized());
        assert_eq!(e, Ok("li.lei@example.com".into()));
    }

    #[test]
    fn phones_match_on_digits() {
        let p = Phone::parse("phone", "+86 138 0013 8000").map(|p| (p.digits(), p.normalized()));
        assert_eq!(p, Ok(("8613800138000".into(), "13800138000".into())));
        assert_eq!(
            Phone::parse("phone", "13800138000").map(|p| p.normalized()),
            Ok("13800138000".into())
        );
        assert_eq!(
            Phone::parse("phone", "010-6552 1234").map(|p| p.normalized()),
            Ok("01065521234".into())
        );
        for bad in [
            "abc",
            "12",
            "+86 138 0013 8000 ext 5",
            "1".repeat(21).as_str(),
        ] {
            assert_eq!(
                Phone::parse("phone", bad).map_err(|e| e.code),
                Err("invalid_phone".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_and_passwords() {
        assert_eq!(parse_tag("tags[0]", " vip "), Ok("vip".into()));
        assert_eq!(
            parse_tag("tags[0]", "a,b").map_err(|e| e.code),
            Err("invalid_tag".into())
        );
        assert!(check_password("password", "0123456789").is_ok());
        assert_eq!(
            check_password("password", "short").map_err(|e| e.code),
            Err("too_short".into())
        );
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(optional_text("city", Some("  "), 100), Ok(None));
        assert_eq!(optional_text("city", None, 100), Ok(None));
        assert_eq!(
            optional_text("city", Some(" 杭州 "), 100),
            Ok(Some("杭州".into()))
        );
    }
}
