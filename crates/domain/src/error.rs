//! Errors a business rule can raise, independent of how they are rendered.

use serde::Serialize;

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
    /// A rule refused the action given the current state; `code` is a stable snake_case
    /// error code (`claim_cooldown`, `owned_limit_reached`, `not_in_pool`, …).
    #[error("{code}: {message}")]
    Refused { code: &'static str, message: String },
}

impl DomainError {
    /// A refusal with a stable code.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    /// A validation error on a single field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldViolation::new(field, code, message)])
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
