//! Follow-ups (跟进记录): what happened with a customer and when to follow up next.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation, Violations};
use crate::values::{NOTES_MAX, bounded_text};

crate::stored_enum! {
    /// How the customer was followed up.
    pub enum FollowUpKind {
        Call => "call",
        Visit => "visit",
        Email => "email",
        Meeting => "meeting",
        Note => "note",
    }
}

/// A follow-up as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = FollowUpView))]
pub struct FollowUpRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub kind: FollowUpKind,
    pub content: String,
    pub occurred_at: DateTime<Utc>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub author_id: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
