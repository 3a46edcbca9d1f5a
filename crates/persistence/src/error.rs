//! Persistence errors, with database errors mapped once.

use sea_orm::{DbErr, SqlErr};
use sims_domain::DomainError;
use uuid::Uuid;

/// An order line that stock could not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLine {
    /// Index of the line in the order.
    pub index: usize,
    pub line_id: Uuid,
    pub product_id: Uuid,
    /// Quantities in thousandths.
    pub requested_milli: i64,
    pub available_milli: i64,
}

/// What a repository call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    /// No such record within the caller's scope.
    #[error("not found")]
    NotFound,
    /// `If-Match` named another version than the stored one.
    #[error("version mismatch")]
    VersionMismatch,
    /// A uniqueness rule or a state rule refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The customer matches existing customers (查重).
    #[error("duplicate customer")]
    DuplicateCustomer(Vec<Uuid>),
    /// A referenced record does not exist or may not be referenced.
    #[error("unprocessable: {field}: {message}")]
    Unprocessable { field: String, message: String },
    /// Confirming an order found lines without enough available stock.
    #[error("insufficient stock")]
    InsufficientStock(Vec<ShortLine>),
    /// A business rule refused the change.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Anything else the database said.
    #[error("database error: {0}")]
    Database(DbErr),
}

impl From<DbErr> for PersistenceError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(m)) => {
                PersistenceError::Conflict(unique_message(&m))
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => PersistenceError::Conflict(
                "the record is still referenced, or references a record that does not exist".into(),
            ),
            _ => PersistenceError::Database(e),
        }
    }
}

fn unique_message(raw: &str) -> String {
    if raw.contains("email") {
        "a record with this email already exists".into()
    } else if raw.contains("primary") {
        "another contact became primary at the same time; retry".into()
    } else {
        "a record with these values already exists".into()
    }
}

/// Result of a repository call.
pub type Result<T> = std::result::Result<T, PersistenceError>;
