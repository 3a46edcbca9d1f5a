//! API keys (SPEC §4): long-lived credentials an admin issues for an integration. A key
//! acts as one user, with that user's role and scope; it is shown once, kept hashed, and
//! works until it is revoked, it expires, or its user is deactivated.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation, Violations};
use crate::values::{NAME_MAX, bounded_text};

/// What every secret starts with, so that a key is told from a JWT at a glance.
pub const SECRET_PREFIX: &str = "sims_";
/// How many characters of the secret are kept in the clear to tell keys apart.
pub const PREFIX_LEN: usize = 12;

/// An API key as stored and listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ApiKeyView))]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub name: String,
    /// The user the key acts as.
    pub user_id: Uuid,
    /// The secret's first 12 characters (`sims_` and 7 more).
    pub prefix: String,
    /// `null`: the key does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the key was last used, to the minute (`null`: never).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A valid new key's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyDraft {
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiKeyDraft {
    /// Checks a name (1–200 characters) and an expiry, which must lie after `now`.
    pub fn parse(
        name: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let name = v.check(bounded_text("name", name, NAME_MAX));
        if expires_at.is_some_and(|e| e <= now) {
            v.push(FieldViolation::new(
                "expires_at",
                "in_the_past",
                "expires_at must be in the future",
            ));
        }
        v.finish()?;
        Ok(Self {
            name: name.unwrap_or_default(),
            expires_at,
        })
    }
}

/// The part of `secret` kept in the clear.
pub fn prefix_of(secret: &str) -> String {
    secret.chars().take(PREFIX_LEN).collect()
}

/// Whether a bearer credential is an API key rather than an access token.
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with(SECRET_PREFIX)
}

/// Whether a key last recorded as used at `recorded` should be recorded again at `now`:
/// at most once a minute, so that using a key costs no write on most requests.
pub fn use_is_due(recorded: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    recorded.is_none_or(|r| now - r >= chrono::Duration::seconds(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_needs_a_name_and_a_future_expiry() {
        let now = Utc::now();
        assert!(ApiKeyDraft::parse("ERP sync", None, now).is_ok());
        assert!(ApiKeyDraft::parse("ERP sync", Some(now + chrono::Duration::days(1)), now).is_ok());
        match ApiKeyDraft::parse(" ", Some(now), now) {
            Err(DomainError::Validation(v)) => {
                let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, vec!["name", "expires_at"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_are_told_from_tokens_and_show_a_prefix() {
        let secret = "sims_abcdefghijklmnopqrstuvwxyz0123456789";
        assert!(is_api_key(secret));
        assert!(!is_api_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
        assert_eq!(prefix_of(secret), "sims_abcdefg");
    }

    #[test]
    fn use_is_recorded_at_most_once_a_minute() {
        let now = Utc::now();
        assert!(use_is_due(None, now));
        assert!(!use_is_due(Some(now - chrono::Duration::seconds(59)), now));
        assert!(use_is_due(Some(now - chrono::Duration::seconds(60)), now));
    }
}
