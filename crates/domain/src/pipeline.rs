//! The sales pipeline (商机): stages and the rules for moving an opportunity between them.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::access::{Principal, Role};
use crate::error::{DomainError, FieldViolation, Refusal, Violations};
use crate::money::Money;
use crate::values::{NAME_MAX, bounded_text};

/// Highest win probability, in percent.
pub const PROBABILITY_MAX: i32 = 100;
/// Highest stage position.
pub const POSITION_MAX: i32 = 10_000;
/// Most stages a pipeline may have.
pub const MAX_STAGES: usize = 50;
/// Longest reason given for losing an opportunity, in characters.
pub const LOST_REASON_MAX: usize = 1000;

crate::stored_enum! {
    /// Whether a stage is still in play, or closes the opportunity as won or lost.
    pub enum StageKind {
        Open => "open",
        Won => "won",
        Lost => "lost",
    }
}

/// A pipeline stage as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = StageView))]
pub struct StageRecord {
    pub id: Uuid,
    pub name: String,
    pub position: i32,
    /// Win probability in percent.
    pub probability: i32,
    pub kind: StageKind,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An opportunity as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = OpportunityView))]
pub struct OpportunityRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub amount: Money,
    /// ISO 4217.
    pub currency: String,
    pub stage_id: Uuid,
    /// The kind of the current stage.
    pub status: StageKind,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Uuid,
    pub lost_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One stage move of an opportunity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = StageChangeView))]
pub struct StageMove {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    /// `null` for the stage it was created in.
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub at: DateTime<Utc>,
    /// Who moved it.
    pub by: Uuid,
}

/// A stage as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub position: i32,
    /// Win probability in percent, 0..=100.
    pub probability: i32,
    pub kind: StageKind,
}

impl Stage {
    /// Validates a stage's fields.
    pub fn new(
        name: &str,
        position: i32,
        probability: i32,
        kind: StageKind,
    ) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let name = v.check(bounded_text("name", name, NAME_MAX));
        if !(0..=PROBABILITY_MAX).contains(&probability) {
            v.push(FieldViolation::new(
                "probability",
                "out_of_range",
                format!("probability must be between 0 and {PROBABILITY_MAX}"),
            ));
        }
        if !(0..=POSITION_MAX).contains(&position) {
            v.push(FieldViolation::new(
                "position",
                "out_of_range",
                format!("position must be between 0 and {POSITION_MAX}"),
            ));
        }
        let expected = match kind {
            StageKind::Won => Some(100),
            StageKind::Lost => Some(0),
            StageKind::Open => None,
        };
        if let Some(p) = expected
            && p != probability
        {
            v.push(FieldViolation::new(
                "probability",
                "inconsistent",
                format!("a {} stage has probability {p}", kind.as_str()),
            ));
        }
        v.finish()?;
        Ok(Self {
            name: name.unwrap_or_default(),
            position,
            probability,
            kind,
        })
    }
}

impl Stage {
    /// Admins add open stages only (the pipeline has exactly one won and one lost stage),
    /// to a pipeline of fewer than [`MAX_STAGES`] stages.
    pub fn check_addable(&self, stages: u64) -> Result<(), DomainError> {
        if self.kind != StageKind::Open {
            return Err(Refusal::SecondClosedStage { kind: self.kind }.into());
        }
        if stages >= MAX_STAGES as u64 {
            return Err(Refusal::TooManyStages { max: MAX_STAGES }.into());
        }
        Ok(())
    }
}

/// Whether a stage of `kind` that `opportunities` are in may be deleted from a pipeline
/// with `open_stages` open stages: the won and lost stages stay, a stage in use stays,
/// and at least one open stage remains.
pub fn check_stage_removal(
    kind: StageKind,
    opportunities: u64,
    open_stages: u64,
) -> Result<(), DomainError> {
    if kind != StageKind::Open {
        return Err(Refusal::ClosedStageFixed.into());
    }
    if opportunities > 0 {
        return Err(Refusal::StageInUse { opportunities }.into());
    }
    if open_stages <= 1 {
        return Err(Refusal::LastOpenStage.into());
    }
    Ok(())
}

/// A won opportunity keeps a positive amount.
pub fn check_amount(status: StageKind, amount_minor: i64) -> Result<(), DomainError> {
    if status == StageKind::Won && amount_minor <= 0 {
        Err(DomainError::field(
            "amount",
            "required",
            "a won opportunity keeps a positive amount",
        ))
    } else {
        Ok(())
    }
}

/// The pipeline seeded on first start.
pub fn default_stages() -> Vec<Stage> {
    [
        ("初步接洽 Initial contact", 10, StageKind::Open),
        ("需求确认 Needs confirmed", 30, StageKind::Open),
        ("方案报价 Proposal", 60, StageKind::Open),
        ("谈判审核 Negotiation", 80, StageKind::Open),
        ("赢单 Won", 100, StageKind::Won),
        ("输单 Lost", 0, StageKind::Lost),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, probability, kind))| Stage {
        name: name.into(),
        position: (i as i32 + 1) * 10,
        probability,
        kind,
    })
    .collect()
}

/// Checks a move of an opportunity from a stage of kind `from` to one of kind `to`:
/// won needs a positive amount, lost needs a reason, and leaving won or lost (reopening)
/// is for managers and admins.
pub fn check_move(
    principal: &Principal,
    same_stage: bool,
    from: StageKind,
    to: StageKind,
    amount_minor: i64,
    lost_reason: Option<&str>,
) -> Result<(), DomainError> {
    if same_stage {
        return Err(DomainError::InvalidTransition {
            from: from.as_str().into(),
            to: to.as_str().into(),
        });
    }
    if from != StageKind::Open && principal.role == Role::Sales {
        return Err(DomainError::Forbidden(format!(
            "only managers and admins may reopen a {} opportunity",
            from.as_str()
        )));
    }
    match to {
        StageKind::Won if amount_minor <= 0 => Err(DomainError::field(
            "amount",
            "required",
            "set an amount before marking the opportunity won",
        )),
        StageKind::Lost if lost_reason.is_none_or(|r| r.trim().is_empty()) => {
            Err(DomainError::field(
                "lost_reason",
                "required",
                "say why the opportunity was lost",
            ))
        }
        _ => Ok(()),
    }
}

/// A valid opportunity's name, amount and currency, as sent on creation or in a lead
/// conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityDraft {
    pub name: String,
    pub amount_minor: i64,
    pub currency: String,
}

impl OpportunityDraft {
    /// Validates the fields, naming them under `prefix` (`""` or `"opportunity."`).
    /// The currency defaults to `CNY`.
    pub fn parse(
        prefix: &str,
        name: &str,
        amount: rust_decimal::Decimal,
        currency: Option<&str>,
    ) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let name = v.check(bounded_text(&format!("{prefix}name"), name, NAME_MAX));
        let amount = v.check(crate::money::amount_minor(
            &format!("{prefix}amount"),
            amount,
        ));
        let currency = v.check(parse_currency(
            &format!("{prefix}currency"),
            currency.unwrap_or("CNY"),
        ));
        v.finish()?;
        match (name, amount, currency) {
            (Some(name), Some(amount_minor), Some(currency)) => Ok(Self {
                name,
                amount_minor,
                currency,
            }),
            _ => Err(DomainError::Validation(vec![])),
        }
    }
}

/// Validates an ISO 4217 currency code (three upper-case letters).
pub fn parse_currency(field: &str, input: &str) -> Result<String, FieldViolation> {
    let c = input;
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(c.to_owned())
    } else {
        Err(FieldViolation::new(
            field,
            "invalid_currency",
            format!("{field} must be an ISO 4217 code such as CNY"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn who(role: Role) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            role,
            team_id: None,
            managed_teams: vec![],
        }
    }

    #[test]
    fn moves_follow_the_rules() {
        use StageKind::*;
        let rep = who(Role::Sales);
        let manager = who(Role::Manager);
        assert!(check_move(&rep, false, Open, Open, 0, None).is_ok());
        assert!(check_move(&rep, false, Open, Won, 100, None).is_ok());
        assert!(matches!(
            check_move(&rep, false, Open, Won, 0, None),
            Err(DomainError::Validation(_))
        ));
        assert!(matches!(
            check_move(&rep, false, Open, Lost, 100, Some("  ")),
            Err(DomainError::Validation(_))
        ));
        assert!(check_move(&rep, false, Open, Lost, 0, Some("price")).is_ok());
        for closed in [Won, Lost] {
            assert!(matches!(
                check_move(&rep, false, closed, Open, 100, None),
                Err(DomainError::Forbidden(_))
            ));
            assert!(check_move(&manager, false, closed, Open, 100, None).is_ok());
        }
        assert!(matches!(
            check_move(&rep, true, Open, Open, 1, None),
            Err(DomainError::InvalidTransition { .. })
        ));
    }

    #[test]
    fn stages_validate() {
        assert!(Stage::new("Proposal", 30, 60, StageKind::Open).is_ok());
        assert!(
            Stage::new("Won", 50, 90, StageKind::Won).is_err(),
            "won means 100%"
        );
        assert!(Stage::new("", 10, 101, StageKind::Open).is_err());
        let d = default_stages();
        assert_eq!(d.iter().filter(|s| s.kind == StageKind::Won).count(), 1);
        assert_eq!(d.iter().filter(|s| s.kind == StageKind::Lost).count(), 1);
        assert!(d.windows(2).all(|w| w[0].position < w[1].position));
    }

    #[test]
    fn drafts_name_their_fields_under_a_prefix() {
        let ok = OpportunityDraft::parse("", "Deal", rust_decimal::Decimal::new(1050, 2), None);
        assert_eq!(
            ok.map(|d| (d.amount_minor, d.currency)),
            Ok((1050, "CNY".to_owned()))
        );
        match OpportunityDraft::parse(
            "opportunity.",
            " ",
            rust_decimal::Decimal::new(1, 3),
            Some("yuan"),
        ) {
            Err(DomainError::Validation(v)) => {
                let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(
                    fields,
                    vec![
                        "opportunity.name",
                        "opportunity.amount",
                        "opportunity.currency"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn closed_stages_stay_and_one_open_stage_remains() {
        let won = Stage::new("Won", 90, 100, StageKind::Won).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            won.check_addable(5),
            Err(Refusal::SecondClosedStage {
                kind: StageKind::Won
            }
            .into())
        );
        let open = Stage::new("Open", 10, 10, StageKind::Open).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(open.check_addable(MAX_STAGES as u64 - 1), Ok(()));
        assert_eq!(
            open.check_addable(MAX_STAGES as u64),
            Err(Refusal::TooManyStages { max: MAX_STAGES }.into())
        );
        assert_eq!(
            check_stage_removal(StageKind::Lost, 0, 5),
            Err(Refusal::ClosedStageFixed.into())
        );
        assert_eq!(
            check_stage_removal(StageKind::Open, 3, 5),
            Err(Refusal::StageInUse { opportunities: 3 }.into())
        );
        assert_eq!(
            check_stage_removal(StageKind::Open, 0, 1),
            Err(Refusal::LastOpenStage.into())
        );
        assert_eq!(check_stage_removal(StageKind::Open, 0, 2), Ok(()));
        assert!(check_amount(StageKind::Won, 0).is_err());
        assert!(check_amount(StageKind::Open, 0).is_ok());
    }

    #[test]
    fn currencies() {
        assert_eq!(parse_currency("currency", "CNY"), Ok("CNY".into()));
        assert!(parse_currency("currency", "cny").is_err());
        assert!(parse_currency("currency", "YUAN").is_err());
    }
}
