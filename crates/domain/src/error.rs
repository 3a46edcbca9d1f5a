//! Errors a business rule can raise, independent of how they are rendered.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::money::Money;
use crate::order::OrderStatus;
use crate::pipeline::StageKind;

/// One broken rule on one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    /// The request field's name as the client sent it, dotted for nested fields.
    pub field: String,
    /// A stable snake_case code (`required`, `too_long`, `invalid_email`, …).
    pub code: String,
    /// A sentence for a human.
    pub message: String,
}

impl FieldViolation {
    /// Builds a violation of `code` on `field`.
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// The same violation reported under a parent field (`lines[0]` + `quantity`).
    pub fn nested_under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// A business rule that refused an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input that breaks one or more field rules.
    #[error("validation failed")]
    Validation(Vec<FieldViolation>),
    /// The caller's role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A state machine refused a move.
    #[error("invalid transition from {from} to {to}")]
    InvalidTransition { from: String, to: String },
    /// A rule refused the action given what is stored now.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// An all-or-nothing import with invalid rows: nothing was written.
    #[error("{invalid} of {rows} rows are invalid")]
    ImportRejected {
        rows: u64,
        invalid: u64,
        violations: Vec<FieldViolation>,
    },
}

/// Why a rule refused an action that was well-formed but conflicts with the stored state.
/// The API maps each variant to its stable error code in one exhaustive `match`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Someone owns the customer now (公海 claims race).
    #[error("the customer is no longer in the pool")]
    NotInPool,
    /// The customer is already in the pool.
    #[error("the customer is already in the pool")]
    NotOwned,
    /// The rep released or lost the customer too recently to claim it back.
    #[error("you released or lost this customer; you may claim it again after {}", until.to_rfc3339())]
    ClaimCooldown { until: DateTime<Utc> },
    /// The rep owns as many customers as the pool rules allow.
    #[error("you already own {owned} customers, the most allowed ({max})")]
    OwnedLimitReached { owned: u64, max: u32 },
    /// A stage cannot be deleted while opportunities are in it.
    #[error("{opportunities} opportunities are in this stage; move them first")]
    StageInUse { opportunities: u64 },
    /// The pipeline has exactly one won and one lost stage.
    #[error("the pipeline already has its {kind} stage; add open stages only")]
    SecondClosedStage { kind: StageKind },
    /// The pipeline has as many stages as it may.
    #[error("the pipeline already has {max} stages, the most allowed")]
    TooManyStages { max: usize },
    /// The won and lost stages stay.
    #[error("the won and lost stages cannot be deleted")]
    ClosedStageFixed,
    /// The pipeline keeps at least one open stage.
    #[error("the pipeline needs at least one open stage")]
    LastOpenStage,
    /// Drafts and cancelled orders take no payments.
    #[error("a {status} order takes no payments")]
    NotPayable { status: OrderStatus },
    /// A payment larger than what is still owed.
    #[error("the order's outstanding amount is {outstanding}")]
    Overpayment { outstanding: Money },
    /// A stock change that would take away more than is available.
    #[error("the adjustment would take away more than is available")]
    InsufficientStock,
    /// Admins keep their own admin role and account.
    #[error("admins cannot deactivate or demote themselves")]
    SelfDemotion,
    /// A customer with orders or opportunities stays: they are someone's records.
    #[error(
        "the customer has {orders} orders and {opportunities} opportunities; they stay with it"
    )]
    CustomerInUse { orders: u64, opportunities: u64 },
    /// A team with members or sub-teams stays.
    #[error("the team still has members or sub-teams")]
    TeamNotEmpty,
}

impl DomainError {
    /// A validation error on a single field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldViolation::new(field, code, message)])
    }
}

impl From<FieldViolation> for DomainError {
    fn from(v: FieldViolation) -> Self {
        Self::Validation(vec![v])
    }
}

/// Collects violations across several fields so that one response names them all.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of `result`, or records its violations and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// For a change: when `given` holds a value, checks it with `rule` and, valid, stores
    /// what the rule made of it in `field`; an invalid one is recorded and `field` keeps
    /// its value.
    pub fn patch<V, T>(
        &mut self,
        field: &mut T,
        given: Option<V>,
        rule: impl FnOnce(V) -> Result<T, FieldViolation>,
    ) {
        if let Some(value) = given
            && let Some(value) = self.check(rule(value))
        {
            *field = value;
        }
    }

    /// Records one violation.
    pub fn push(&mut self, v: FieldViolation) {
        self.0.push(v);
    }

    /// `Ok(())` when nothing was recorded, else a validation error listing every violation.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.0))
        }
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
