//! Monthly revenue targets (销售目标) for a user or a team: what a target may be, and who
//! sets and reads which.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::access::{Principal, Role};
use crate::error::{DomainError, FieldViolation, Violations};
use crate::money::{Money, amount_minor};
use crate::pipeline::parse_currency;

/// A calendar month, `YYYY-MM`, from 2000-01 to 2100-12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    /// The month as sent (`2026-12`); anything else is a violation on `field`.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldViolation> {
        let bad = || {
            FieldViolation::new(
                field,
                "invalid_month",
                format!("{field} must be a month such as 2026-12 (2000-01 to 2100-12)"),
            )
        };
        let (y, m) = input.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.chars().chain(m.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|first| Self { first })
            .ok_or_else(bad)
    }

    /// The month holding `day`.
    pub fn of(day: NaiveDate) -> Self {
        Self {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first.pred_opt().unwrap_or(self.first)
    }

    /// The month after.
    pub fn next(self) -> Self {
        let (y, m) = if self.first.month() == 12 {
            (self.first.year() + 1, 1)
        } else {
            (self.first.year(), self.first.month() + 1)
        };
        Self {
            first: NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(self.first),
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

/// Whose target it is: exactly one user or one team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(Uuid),
    Team(Uuid),
}

impl Subject {
    /// Exactly one of `user_id` and `team_id`; both or neither is a violation.
    pub fn parse(user_id: Option<Uuid>, team_id: Option<Uuid>) -> Result<Self, FieldViolation> {
        match (user_id, team_id) {
            (Some(u), None) => Ok(Subject::User(u)),
            (None, Some(t)) => Ok(Subject::Team(t)),
            (Some(_), Some(_)) => Err(FieldViolation::new(
                "team_id",
                "exclusive",
                "a target is for a user or for a team, not both",
            )),
            (None, None) => Err(FieldViolation::new(
                "user_id",
                "required",
                "a target needs user_id or team_id",
            )),
        }
    }

    /// The user, if it is a user's.
    pub fn user_id(self) -> Option<Uuid> {
        match self {
            Subject::User(u) => Some(u),
            Subject::Team(_) => None,
        }
    }

    /// The team, if it is a team's.
    pub fn team_id(self) -> Option<Uuid> {
        match self {
            Subject::Team(t) => Some(t),
            Subject::User(_) => None,
        }
    }

    /// The request field naming the subject.
    pub fn field(self) -> &'static str {
        match self {
            Subject::User(_) => "user_id",
            Subject::Team(_) => "team_id",
        }
    }
}

/// A new target, checked: a month, one subject, a positive amount, a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTarget {
    pub month: Month,
    pub subject: Subject,
    pub amount_minor: i64,
    pub currency: String,
}

/// A positive target amount in minor units, else a violation on `amount`.
pub fn target_amount(amount: Decimal) -> Result<i64, FieldViolation> {
    let minor = amount_minor("amount", amount)?;
    if minor == 0 {
        return Err(FieldViolation::new(
            "amount",
            "out_of_range",
            "amount must be greater than 0",
        ));
    }
    Ok(minor)
}

impl NewTarget {
    /// Checks every field, naming each broken one.
    pub fn parse(
        month: &str,
        user_id: Option<Uuid>,
        team_id: Option<Uuid>,
        amount: Decimal,
        currency: Option<&str>,
    ) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let month = v.check(Month::parse("month", month));
        let subject = v.check(Subject::parse(user_id, team_id));
        let amount = v.check(target_amount(amount));
        let currency = v.check(parse_currency("currency", currency.unwrap_or("CNY")));
        v.finish()?;
        match (month, subject, amount, currency) {
            (Some(month), Some(subject), Some(amount_minor), Some(currency)) => Ok(Self {
                month,
                subject,
                amount_minor,
                currency,
            }),
            _ => Err(DomainError::Validation(vec![])),
        }
    }
}

/// A target as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TargetView))]
pub struct TargetRecord {
    pub id: Uuid,
    /// `YYYY-MM`.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12"))]
    pub month: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub amount: Money,
    pub currency: String,
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Principal {
    /// Whether the caller may set, change or delete a target for `subject`, whose team
    /// (the user's team, or the team itself) is `subject_team`: admins any; managers those
    /// of users and teams in the team subtree they manage; reps none (`403`). A manager
    /// naming a subject outside their subtree gets `false` (answered `422` naming it).
    pub fn may_set_target(
        &self,
        subject: Subject,
        subject_team: Option<Uuid>,
    ) -> Result<bool, DomainError> {
        match self.role {
            Role::Admin => Ok(true),
            Role::Manager => Ok(subject.user_id() == Some(self.user_id)
                || subject_team.is_some_and(|t| self.managed_teams.contains(&t))),
            Role::Sales => Err(DomainError::Forbidden(
                "targets are set by managers and admins".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn months_are_checked_and_bounded() {
        let m = Month::parse("month", "2026-12").map(|m| (m.to_string(), m.last_day().to_string()));
        assert_eq!(m, Ok(("2026-12".into(), "2026-12-31".into())));
        assert_eq!(
            Month::parse("month", "2028-02").map(|m| m.last_day().to_string()),
            Ok("2028-02-29".into())
        );
        for bad in [
            "2026-13",
            "2026-1",
            "26-12",
            "1999-12",
            "2101-01",
            "2026/12",
            "",
            "２０２６-12",
        ] {
            assert!(Month::parse("month", bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Month::of(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default())
                .next()
                .to_string(),
            "2027-01"
        );
    }

    #[test]
    fn a_target_is_for_exactly_one_user_or_team() {
        let u = Uuid::now_v7();
        assert_eq!(Subject::parse(Some(u), None), Ok(Subject::User(u)));
        assert_eq!(Subject::parse(None, Some(u)), Ok(Subject::Team(u)));
        assert!(Subject::parse(Some(u), Some(u)).is_err());
        assert!(Subject::parse(None, None).is_err());
    }

    #[test]
    fn new_targets_name_every_broken_field() {
        let Err(DomainError::Validation(v)) =
            NewTarget::parse("2026-13", None, None, d("0"), Some("rmb"))
        else {
            panic!("invalid");
        };
        let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["month", "user_id", "amount", "currency"]);
        let ok = NewTarget::parse("2026-12", Some(Uuid::nil()), None, d("100000.50"), None);
        assert_eq!(
            ok.map(|t| (t.amount_minor, t.currency)),
            Ok((10_000_050, "CNY".into()))
        );
    }

    #[test]
    fn managers_set_targets_inside_their_subtree_only() {
        let team = Uuid::now_v7();
        let other = Uuid::now_v7();
        let manager = Principal {
            user_id: Uuid::now_v7(),
            role: Role::Manager,
            team_id: Some(team),
            managed_teams: vec![team],
        };
        let someone = Subject::User(Uuid::now_v7());
        assert_eq!(manager.may_set_target(someone, Some(team)), Ok(true));
        assert_eq!(manager.may_set_target(someone, Some(other)), Ok(false));
        assert_eq!(
            manager.may_set_target(Subject::Team(other), Some(other)),
            Ok(false)
        );
        assert_eq!(
            manager.may_set_target(Subject::User(manager.user_id), None),
            Ok(true)
        );
        let rep = Principal {
            role: Role::Sales,
            ..manager.clone()
        };
        assert!(rep.may_set_target(someone, Some(team)).is_err());
        let admin = Principal {
            role: Role::Admin,
            ..manager
        };
        assert_eq!(
            admin.may_set_target(Subject::Team(other), Some(other)),
            Ok(true)
        );
    }
}
