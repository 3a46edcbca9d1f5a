//! One table of error codes, and the RFC 9457 problem+json every failure is rendered as.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use sims_domain::catalog::quantity_decimal;
use sims_domain::{DomainError, FieldViolation, Refusal};
use sims_persistence::PersistenceError;
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! error_codes {
    ($($variant:ident => ($status:expr, $code:literal, $title:literal)),+ $(,)?) => {
        /// Every stable error `code` the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),+ }

        impl ErrorCode {
            /// The HTTP status of this error.
            pub fn status(self) -> StatusCode { match self { $(ErrorCode::$variant => $status),+ } }
            /// The stable snake_case code.
            pub fn code(self) -> &'static str { match self { $(ErrorCode::$variant => $code),+ } }
            /// A short, fixed title.
            pub fn title(self) -> &'static str { match self { $(ErrorCode::$variant => $title),+ } }
            /// Every code, for documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];
        }
    };
}

error_codes! {
    MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json", "The request body is not valid JSON"),
    BadRequest => (StatusCode::BAD_REQUEST, "bad_request", "The request is malformed"),
    InvalidParameter => (StatusCode::BAD_REQUEST, "invalid_parameter", "A path or query parameter is invalid"),
    ValidationFailed => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The request breaks a validation rule"),
    Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Authentication is required"),
    Forbidden => (StatusCode::FORBIDDEN, "forbidden", "You may not do this"),
    NotFound => (StatusCode::NOT_FOUND, "not_found", "No such resource"),
    MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
    Conflict => (StatusCode::CONFLICT, "conflict", "The request conflicts with the current state"),
    DuplicateCustomer => (StatusCode::CONFLICT, "duplicate_customer", "A matching customer already exists"),
    InvalidTransition => (StatusCode::CONFLICT, "invalid_transition", "The record cannot move to that state"),
    NotInPool => (StatusCode::CONFLICT, "not_in_pool", "The customer is no longer in the pool"),
    NotOwned => (StatusCode::CONFLICT, "not_owned", "The customer is already in the pool"),
    ClaimCooldown => (StatusCode::CONFLICT, "claim_cooldown", "You may not claim this customer back yet"),
    StageInUse => (StatusCode::CONFLICT, "stage_in_use", "Opportunities are still in this stage"),
    CustomerInUse => (StatusCode::CONFLICT, "customer_in_use", "The customer has orders or opportunities"),
    InsufficientStock => (StatusCode::CONFLICT, "insufficient_stock", "Not enough stock is available"),
    Overpayment => (StatusCode::CONFLICT, "overpayment", "The payment exceeds what is owed"),
    OwnedLimitReached => (StatusCode::CONFLICT, "owned_limit_reached", "You own as many customers as allowed"),
    VersionMismatch => (StatusCode::PRECONDITION_FAILED, "version_mismatch", "The record has changed since you read it"),
    PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large"),
    UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "The request body must be JSON"),
    RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
    Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error"),
    Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The service is not ready"),
}

/// Longest `detail` or `message` in a problem, in characters.
pub const DETAIL_MAX: usize = 2000;
/// Longest field name in a problem's `errors`, in characters.
pub const FIELD_NAME_MAX: usize = 200;
/// Most entries in a problem's `errors`.
pub const ERRORS_MAX: usize = 1000;

/// `s` cut to at most `max` characters, marked with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) if s.chars().count() > max => format!("{}…", &s[..i]),
        _ => s.to_owned(),
    }
}

/// One broken rule on one field, as rendered in `errors`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The request field as sent, dotted for nested fields (`lines[0].quantity`).
    pub field: String,
    /// A stable snake_case code for the rule.
    pub code: String,
    /// A sentence for a human.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"type": "urn:sims:problem:validation_failed", "title": "The request breaks a validation rule", "status": 422, "detail": "1 field is invalid", "code": "validation_failed", "errors": [{"field": "email", "code": "invalid_email", "message": "email is not a valid email address"}]}))]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Per-field violations, empty when the problem is not about fields.
    pub errors: Vec<ProblemField>,
    /// For `duplicate_customer`: the ids of the matching customers (ids only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<Uuid>>,
}

/// An error a handler returns; rendered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<ProblemField>,
    pub matches: Option<Vec<Uuid>>,
    /// Seconds before retrying, for `rate_limited`.
    pub retry_after: Option<u64>,
    /// The methods the path serves, for `method_not_allowed`.
    pub allow: Option<String>,
}

impl ApiError {
    /// An error with a detail sentence.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: vec![],
            matches: None,
            retry_after: None,
            allow: None,
        }
    }

    /// A 422 naming the broken fields.
    pub fn validation(violations: Vec<FieldViolation>) -> Self {
        Self::fields(ErrorCode::ValidationFailed, violations)
    }

    /// An error of `code` naming the broken fields.
    pub fn fields(code: ErrorCode, violations: Vec<FieldViolation>) -> Self {
        let detail = match violations.len() {
            1 => violations[0].message.clone(),
            n => format!("{n} fields are invalid"),
        };
        Self {
            code,
            detail,
            errors: violations
                .into_iter()
                .map(|v| ProblemField {
                    field: v.field,
                    code: v.code,
                    message: v.message,
                })
                .collect(),
            matches: None,
            retry_after: None,
            allow: None,
        }
    }

    /// A 404 that says nothing about whether the record exists elsewhere.
    pub fn not_found() -> Self {
        Self::new(
            ErrorCode::NotFound,
            "no such resource, or it is not visible to you",
        )
    }

    /// A 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }

    /// A 500 whose cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            "an unexpected error occurred; it has been logged",
        )
    }

    /// The problem document of this error.
    /// `405` for a path that serves other methods, listed in `Allow`.
    pub fn method_not_allowed(req: &actix_web::HttpRequest, allow: String) -> Self {
        let mut e = Self::new(
            ErrorCode::MethodNotAllowed,
            format!("{} {} is not served; use {allow}", req.method(), req.path()),
        );
        e.allow = Some(allow);
        e
    }

    /// The problem document, clipped to the limits the API description states (a
    /// message may quote what the client sent, which can be long).
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:sims:problem:{}", self.code.code()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: clip(&self.detail, DETAIL_MAX),
            code: self.code.code().to_owned(),
            errors: self
                .errors
                .iter()
                .take(ERRORS_MAX)
                .map(|e| ProblemField {
                    field: clip(&e.field, FIELD_NAME_MAX),
                    code: e.code.clone(),
                    message: clip(&e.message, DETAIL_MAX),
                })
                .collect(),
            matches: self.matches.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.code(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.code.status());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.clone()));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// The error code of each refusal: one exhaustive match, so that a new refusal cannot
/// fall through to a generic code unnoticed.
fn refusal_code(r: &Refusal) -> ErrorCode {
    match r {
        Refusal::NotInPool => ErrorCode::NotInPool,
        Refusal::NotOwned => ErrorCode::NotOwned,
        Refusal::ClaimCooldown { .. } => ErrorCode::ClaimCooldown,
        Refusal::OwnedLimitReached { .. } => ErrorCode::OwnedLimitReached,
        Refusal::StageInUse { .. } => ErrorCode::StageInUse,
        Refusal::CustomerInUse { .. } => ErrorCode::CustomerInUse,
        Refusal::SecondClosedStage { .. }
        | Refusal::TooManyStages { .. }
        | Refusal::ClosedStageFixed
        | Refusal::LastOpenStage
        | Refusal::SelfDemotion
        | Refusal::TeamNotEmpty => ErrorCode::Conflict,
        Refusal::NotPayable { .. } => ErrorCode::InvalidTransition,
        Refusal::Overpayment { .. } => ErrorCode::Overpayment,
        Refusal::InsufficientStock => ErrorCode::InsufficientStock,
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(v) => ApiError::validation(v),
            DomainError::Forbidden(m) => ApiError::new(ErrorCode::Forbidden, m),
            DomainError::Refused(r) => ApiError::new(refusal_code(&r), r.to_string()),
            DomainError::InvalidTransition { from, to } => ApiError::new(
                ErrorCode::InvalidTransition,
                format!("cannot move from {from} to {to}"),
            ),
            DomainError::ImportRejected {
                rows,
                invalid,
                violations,
            } => {
                let mut err = ApiError::validation(violations);
                err.detail = format!(
                    "{invalid} of {rows} rows are invalid; nothing was imported (send skip_invalid=true to import the valid rows)"
                );
                err
            }
        }
    }
}

impl From<PersistenceError> for ApiError {
    fn from(e: PersistenceError) -> Self {
        match e {
            PersistenceError::NotFound => ApiError::not_found(),
            PersistenceError::VersionMismatch => ApiError::new(
                ErrorCode::VersionMismatch,
                "the record has changed since the version in If-Match; read it again",
            ),
            PersistenceError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            PersistenceError::Taken { field, message } => ApiError::fields(
                ErrorCode::Conflict,
                vec![FieldViolation::new(field, "taken", message)],
            ),
            PersistenceError::DuplicateCustomer(ids) => {
                let mut err = ApiError::new(
                    ErrorCode::DuplicateCustomer,
                    "a customer with the same name, phone or email exists; resend with ?allow_duplicate=true to create it anyway",
                );
                err.matches = Some(ids);
                err
            }
            PersistenceError::Unprocessable { field, message } => {
                let (code, rule) = if field == "after" {
                    (ErrorCode::InvalidParameter, "invalid_cursor")
                } else {
                    (ErrorCode::ValidationFailed, "invalid_reference")
                };
                ApiError::fields(code, vec![FieldViolation::new(field, rule, message)])
            }
            PersistenceError::KeyReused => ApiError::fields(
                ErrorCode::ValidationFailed,
                vec![FieldViolation::new(
                    "Idempotency-Key",
                    "key_reused",
                    "this Idempotency-Key was used with another request body",
                )],
            ),
            PersistenceError::InsufficientStock(lines) => {
                let violations = lines
                    .iter()
                    .map(|l| {
                        FieldViolation::new(
                            format!("lines[{}].quantity", l.index),
                            "insufficient_stock",
                            format!(
                                "line {} asks for {} of product {} but {} is available",
                                l.line_id,
                                quantity_decimal(l.requested_milli),
                                l.product_id,
                                quantity_decimal(l.available_milli)
                            ),
                        )
                    })
                    .collect();
                let mut e = ApiError::fields(ErrorCode::InsufficientStock, violations);
                e.detail = format!(
                    "{} line(s) cannot be covered by available stock; nothing was reserved",
                    lines.len()
                );
                e
            }
            PersistenceError::Domain(d) => d.into(),
            e @ (PersistenceError::Corrupt { .. } | PersistenceError::Answer(_)) => {
                ApiError::internal(e)
            }
            PersistenceError::Contention(db) | PersistenceError::Database(db) => {
                ApiError::internal(db)
            }
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
