//! Follow-ups (跟进记录): what happened with a customer and when to follow up next.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldViolation, Violations};
use crate::values::{NOTES_MAX, bounded_text};

/// How the customer was followed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    Call,
    Visit,
    Email,
    Meeting,
    Note,
}

impl FollowUpKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Visit => "visit",
            Self::Email => "email",
            Self::Meeting => "meeting",
            Self::Note => "note",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "call" => Some(Self::Call),
            "visit" => Some(Self::Visit),
            "email" => Some(Self::Email),
            "meeting" => Some(Self::Meeting),
            "note" => Some(Self::Note),
            _ => None,
        }
    }
}

/// A valid follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub kind: FollowUpKind,
    pub content: String,
    pub occurred_at: DateTime<Utc>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
}

impl FollowUp {
    /// Validates a follow-up: content of 1–10,000 characters, not in the future by more
    /// than a day (clock skew), and a next follow-up after it happened.
    pub fn create(
        kind: FollowUpKind,
        content: &str,
        occurred_at: DateTime<Utc>,
        next_follow_up_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let content = v.check(bounded_text("content", content, NOTES_MAX));
        if occurred_at > now + chrono::Duration::days(1) {
            v.push(FieldViolation::new(
                "occurred_at",
                "in_future",
                "occurred_at cannot be in the future",
            ));
        }
        if next_follow_up_at.is_some_and(|n| n < occurred_at) {
            v.push(FieldViolation::new(
                "next_follow_up_at",
                "before_occurred_at",
                "next_follow_up_at must be after occurred_at",
            ));
        }
        v.finish()?;
        Ok(Self {
            kind,
            content: content.unwrap_or_default(),
            occurred_at,
            next_follow_up_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn follow_ups_validate() {
        let now = Utc::now();
        assert!(
            FollowUp::create(
                FollowUpKind::Call,
                "聊了报价",
                now,
                Some(now + Duration::days(3)),
                now
            )
            .is_ok()
        );
        let e = FollowUp::create(
            FollowUpKind::Call,
            " ",
            now + Duration::days(2),
            Some(now),
            now,
        );
        match e {
            Err(DomainError::Validation(v)) => {
                let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, vec!["content", "occurred_at", "next_follow_up_at"]);
            }
            other => panic!("{other:?}"),
        }
        for k in [
            FollowUpKind::Call,
            FollowUpKind::Visit,
            FollowUpKind::Email,
            FollowUpKind::Meeting,
            FollowUpKind::Note,
        ] {
            assert_eq!(FollowUpKind::parse(k.as_str()), Some(k));
        }
    }
}
