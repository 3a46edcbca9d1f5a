//! Leads (线索): their status machine and what a valid lead holds.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation, Violations};
use crate::values::{
    NAME_MAX, SHORT_TEXT_MAX, bounded_text, optional_email, optional_phone, optional_text,
};

crate::stored_enum! {
    /// Where a lead stands.
    pub enum LeadStatus {
        New => "new",
        Contacted => "contacted",
        Qualified => "qualified",
        Disqualified => "disqualified",
        Converted => "converted",
    }
}

impl LeadStatus {
    /// A status change a user asks for: `new → contacted → qualified | disqualified`.
    /// `converted` is reached only by converting the lead.
    pub fn transition(self, to: LeadStatus) -> Result<LeadStatus, DomainError> {
        use LeadStatus::*;
        let allowed = matches!(
            (self, to),
            (New, Contacted)
                | (New, Disqualified)
                | (Contacted, Qualified)
                | (Contacted, Disqualified)
                | (Qualified, Disqualified)
        );
        if allowed {
            Ok(to)
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str().into(),
                to: to.as_str().into(),
            })
        }
    }

    /// Whether the lead may be converted now (`new`, `contacted` or `qualified`).
    pub fn convertible(self) -> Result<(), DomainError> {
        match self {
            LeadStatus::New | LeadStatus::Contacted | LeadStatus::Qualified => Ok(()),
            other => Err(DomainError::InvalidTransition {
                from: other.as_str().into(),
                to: "converted".into(),
            }),
        }
    }
}

/// A lead as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = LeadView))]
pub struct LeadRecord {
    pub id: Uuid,
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: Option<String>,
    pub status: LeadStatus,
    pub owner_id: Uuid,
    /// Set once converted: the customer, contact and opportunity it became.
    pub customer_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub converted_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A lead's attributes as sent.
#[derive(Debug, Clone, Default)]
pub struct LeadInput {
    pub name: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: Option<String>,
}

/// A change to a lead: `Some(None)` clears a field.
#[derive(Debug, Clone, Default)]
pub struct LeadPatch {
    pub name: Option<String>,
    pub company: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub source: Option<Option<String>>,
}

/// A valid lead's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: Option<String>,
}

impl Lead {
    /// Validates a new lead.
    pub fn create(input: LeadInput) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let name = match input.name.as_deref() {
            None => {
                v.push(FieldViolation::new("name", "required", "name is required"));
                None
            }
            Some(n) => v.check(bounded_text("name", n, NAME_MAX)),
        };
        let company = v.check(optional_text("company", input.company.as_deref(), NAME_MAX));
        let phone = v.check(optional_phone("phone", input.phone.as_deref()));
        let email = v.check(optional_email("email", input.email.as_deref()));
        let source = v.check(optional_text(
            "source",
            input.source.as_deref(),
            SHORT_TEXT_MAX,
        ));
        v.finish()?;
        match (name, company, phone, email, source) {
            (Some(name), Some(company), Some(phone), Some(email), Some(source)) => Ok(Self {
                name,
                company,
                phone,
                email,
                source,
            }),
            _ => Err(DomainError::Validation(vec![])),
        }
    }

    /// Applies a change, validating the fields it touches.
    pub fn apply(mut self, patch: LeadPatch) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        v.patch(&mut self.name, patch.name.as_deref(), |n| {
            bounded_text("name", n, NAME_MAX)
        });
        v.patch(&mut self.company, patch.company, |c| {
            optional_text("company", c.as_deref(), NAME_MAX)
        });
        v.patch(&mut self.phone, patch.phone, |p| {
            optional_phone("phone", p.as_deref())
        });
        v.patch(&mut self.email, patch.email, |e| {
            optional_email("email", e.as_deref())
        });
        v.patch(&mut self.source, patch.source, |s| {
            optional_text("source", s.as_deref(), SHORT_TEXT_MAX)
        });
        v.finish()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LeadStatus::*;

    const ALL: [LeadStatus; 5] = [New, Contacted, Qualified, Disqualified, Converted];

    #[test]
    fn only_the_documented_moves_are_allowed() {
        let allowed = [
            (New, Contacted),
            (New, Disqualified),
            (Contacted, Qualified),
            (Contacted, Disqualified),
            (Qualified, Disqualified),
        ];
        for from in ALL {
            for to in ALL {
                let ok = from.transition(to).is_ok();
                assert_eq!(ok, allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn conversion_from_open_statuses_only() {
        for s in [New, Contacted, Qualified] {
            assert!(s.convertible().is_ok());
        }
        for s in [Disqualified, Converted] {
            assert!(matches!(
                s.convertible(),
                Err(DomainError::InvalidTransition { .. })
            ));
        }
        for s in ALL {
            assert_eq!(LeadStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn leads_validate() {
        assert!(
            Lead::create(LeadInput {
                name: Some("王五".into()),
                company: Some("五金公司".into()),
                ..Default::default()
            })
            .is_ok()
        );
        match Lead::create(LeadInput {
            email: Some("x".into()),
            ..Default::default()
        }) {
            Err(DomainError::Validation(v)) => assert_eq!(
                v.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
                vec!["name", "email"]
            ),
            other => panic!("{other:?}"),
        }
    }
}
