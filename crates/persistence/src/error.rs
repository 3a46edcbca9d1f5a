//! Persistence errors, with database errors mapped once: constraint violations by the
//! constraint they broke, lock and serialization failures as contention that the unit
//! of work retries.

use sea_orm::DbErr;
use sea_orm::sqlx;
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
    /// A value that must be unique is already taken by another record.
    #[error("{field}: {message}")]
    Taken {
        field: &'static str,
        message: String,
    },
    /// A referenced record does not exist or may not be referenced.
    #[error("unprocessable: {field}: {message}")]
    Unprocessable { field: String, message: String },
    /// A concurrent change got in the way and retrying did not help, or the record is
    /// still referenced by others.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The customer matches existing customers (查重).
    #[error("duplicate customer")]
    DuplicateCustomer(Vec<Uuid>),
    /// Confirming an order found lines without enough available stock.
    #[error("insufficient stock")]
    InsufficientStock(Vec<ShortLine>),
    /// An `Idempotency-Key` already used with another request.
    #[error("idempotency key reused with another request")]
    KeyReused,
    /// A business rule refused the change.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A stored value the code cannot read: the database holds something no version of
    /// this code wrote. Never replaced by a default.
    #[error("corrupt data: {table}.{column} holds {value:?}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    /// The answer of a write could not be rendered.
    #[error("cannot render the answer: {0}")]
    Answer(String),
    /// A lock or serialization failure: the unit of work runs the transaction again.
    #[error("contention: {0}")]
    Contention(DbErr),
    /// Anything else the database said.
    #[error("database error: {0}")]
    Database(DbErr),
}

impl PersistenceError {
    /// A reference in the request that names no usable record.
    pub fn unusable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The error of a delete that other records still reference.
    pub(crate) fn still_referenced(self) -> Self {
        match self {
            Self::Unprocessable { .. } => Self::Conflict(
                "the record is still referenced by other records; remove them first".into(),
            ),
            other => other,
        }
    }
}

impl From<sims_domain::Refusal> for PersistenceError {
    fn from(r: sims_domain::Refusal) -> Self {
        Self::Domain(r.into())
    }
}

/// Whether a unique constraint guards a user-visible value (a `409` naming the field)
/// or a row two writers may race to create (retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnViolation {
    Taken {
        field: &'static str,
        message: &'static str,
    },
    Retry,
}

/// A unique constraint: its PostgreSQL name, and the table and columns SQLite names.
struct Unique {
    name: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
    on_violation: OnViolation,
}

const UNIQUES: &[Unique] = &[
    Unique {
        name: "users_email_norm_key",
        table: "users",
        columns: &["email_norm"],
        on_violation: OnViolation::Taken {
            field: "email",
            message: "a user with this email already exists",
        },
    },
    Unique {
        name: "products_sku_key",
        table: "products",
        columns: &["sku"],
        on_violation: OnViolation::Taken {
            field: "sku",
            message: "this sku is already in use",
        },
    },
    Unique {
        name: "warehouses_code_key",
        table: "warehouses",
        columns: &["code"],
        on_violation: OnViolation::Taken {
            field: "code",
            message: "this warehouse code is already in use",
        },
    },
    Unique {
        name: "uq_targets_user_month",
        table: "targets",
        columns: &["user_id", "month"],
        on_violation: OnViolation::Taken {
            field: "month",
            message: "this user already has a target for the month",
        },
    },
    Unique {
        name: "uq_targets_team_month",
        table: "targets",
        columns: &["team_id", "month"],
        on_violation: OnViolation::Taken {
            field: "month",
            message: "this team already has a target for the month",
        },
    },
    Unique {
        name: "uq_contacts_primary",
        table: "contacts",
        columns: &["customer_id"],
        on_violation: OnViolation::Retry,
    },
    Unique {
        name: "stock_levels_pkey",
        table: "stock_levels",
        columns: &["product_id", "warehouse_id"],
        on_violation: OnViolation::Retry,
    },
    Unique {
        name: "pool_cooldowns_pkey",
        table: "pool_cooldowns",
        columns: &["customer_id", "user_id"],
        on_violation: OnViolation::Retry,
    },
    Unique {
        name: "idempotency_keys_pkey",
        table: "idempotency_keys",
        columns: &["caller_id", "key"],
        on_violation: OnViolation::Retry,
    },
    Unique {
        name: "job_leases_pkey",
        table: "job_leases",
        columns: &["name"],
        on_violation: OnViolation::Retry,
    },
    Unique {
        name: "login_failures_pkey",
        table: "login_failures",
        columns: &["key"],
        on_violation: OnViolation::Retry,
    },
];

/// Foreign keys by name, with the request field that names the referenced record.
const FOREIGN_KEYS: &[(&str, &str)] = &[
    ("fk_teams_parent", "parent_id"),
    ("fk_users_team", "team_id"),
    ("fk_customers_owner", "owner_id"),
    ("fk_follow_ups_customer", "customer_id"),
    ("fk_contacts_customer", "customer_id"),
    ("fk_leads_owner", "owner_id"),
    ("fk_leads_customer", "customer_id"),
    ("fk_opportunities_customer", "customer_id"),
    ("fk_opportunities_stage", "stage_id"),
    ("fk_opportunities_owner", "owner_id"),
    ("fk_stock_levels_product", "product_id"),
    ("fk_stock_levels_warehouse", "warehouse_id"),
    ("fk_stock_movements_product", "product_id"),
    ("fk_stock_movements_warehouse", "warehouse_id"),
    ("fk_orders_customer", "customer_id"),
    ("fk_orders_owner", "owner_id"),
    ("fk_orders_warehouse", "warehouse_id"),
    ("fk_order_lines_product", "lines"),
    ("fk_api_keys_user", "user_id"),
    ("fk_targets_user", "user_id"),
    ("fk_targets_team", "team_id"),
];

/// The table and columns of a SQLite `UNIQUE constraint failed: t.a, t.b` message:
/// SQLite reports no constraint name, only this fixed form.
fn sqlite_unique_columns(message: &str) -> Option<(&str, Vec<&str>)> {
    let list = message.strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut columns = Vec::new();
    for part in list.split(", ") {
        let (t, c) = part.split_once('.')?;
        if table.is_some_and(|known| known != t) {
            return None;
        }
        table = Some(t);
        columns.push(c);
    }
    table.map(|t| (t, columns))
}

/// What a unique violation means, by the constraint it broke.
fn unique_violation(db: &dyn sqlx::error::DatabaseError) -> Option<OnViolation> {
    let found = match db.constraint() {
        Some(name) => UNIQUES.iter().find(|u| u.name == name),
        None => sqlite_unique_columns(db.message()).and_then(|(table, columns)| {
            UNIQUES
                .iter()
                .find(|u| u.table == table && u.columns == columns.as_slice())
        }),
    };
    found.map(|u| u.on_violation)
}

/// The request field a foreign-key violation is about, by the constraint it broke.
fn foreign_key_field(db: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
    db.constraint()
        .and_then(|name| FOREIGN_KEYS.iter().find(|(n, _)| *n == name))
        .map(|(_, field)| *field)
}

/// Whether the database refused because of a lock, a deadlock or a serialization
/// failure: PostgreSQL `40001`, `40P01`, `55P03`; SQLite `BUSY` and `LOCKED` (with their
/// extended codes).
fn is_contention(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        return matches!(code.as_ref(), "40001" | "40P01" | "55P03");
    }
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// How a database error is answered.
enum Class {
    Contention,
    Taken(&'static str, &'static str),
    Unusable(&'static str),
    StillReferenced,
    Other,
}

fn classify(e: &DbErr) -> Class {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(inner))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(inner))) = e
    else {
        return Class::Other;
    };
    let sqlx::Error::Database(db) = inner.as_ref() else {
        return Class::Other;
    };
    let db = db.as_ref();
    if is_contention(db) {
        return Class::Contention;
    }
    match db.kind() {
        sqlx::error::ErrorKind::UniqueViolation => match unique_violation(db) {
            Some(OnViolation::Taken { field, message }) => Class::Taken(field, message),
            Some(OnViolation::Retry) => Class::Contention,
            None => Class::Other,
        },
        // SQLite names no constraint: within a write transaction, which SQLite runs one
        // at a time after the repository checked its references, only a delete of a
        // record that others reference gets here.
        sqlx::error::ErrorKind::ForeignKeyViolation => match foreign_key_field(db) {
            Some(field) => Class::Unusable(field),
            None => Class::StillReferenced,
        },
        _ => Class::Other,
    }
}

impl From<DbErr> for PersistenceError {
    fn from(e: DbErr) -> Self {
        match classify(&e) {
            Class::Contention => PersistenceError::Contention(e),
            Class::Taken(field, message) => PersistenceError::Taken {
                field,
                message: message.into(),
            },
            Class::Unusable(field) => PersistenceError::unusable(field, "no such record"),
            Class::StillReferenced => {
                PersistenceError::unusable("id", "referenced").still_referenced()
            }
            Class::Other => PersistenceError::Database(e),
        }
    }
}

/// Result of a repository call.
pub type Result<T> = std::result::Result<T, PersistenceError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_unique_messages_name_table_and_columns() {
        assert_eq!(
            sqlite_unique_columns("UNIQUE constraint failed: users.email_norm"),
            Some(("users", vec!["email_norm"]))
        );
        assert_eq!(
            sqlite_unique_columns(
                "UNIQUE constraint failed: stock_levels.product_id, stock_levels.warehouse_id"
            ),
            Some(("stock_levels", vec!["product_id", "warehouse_id"]))
        );
        assert_eq!(sqlite_unique_columns("FOREIGN KEY constraint failed"), None);
        assert_eq!(
            sqlite_unique_columns("UNIQUE constraint failed: a.x, b.y"),
            None
        );
    }

    #[test]
    fn every_unique_constraint_is_named_once() {
        for (i, u) in UNIQUES.iter().enumerate() {
            assert!(
                UNIQUES[i + 1..].iter().all(|o| o.name != u.name),
                "{}",
                u.name
            );
        }
        for (i, (name, _)) in FOREIGN_KEYS.iter().enumerate() {
            assert!(
                FOREIGN_KEYS[i + 1..].iter().all(|(o, _)| o != name),
                "{name}"
            );
        }
    }
}
