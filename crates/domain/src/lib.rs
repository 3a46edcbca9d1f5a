//! SIMS business rules with no I/O: value types that can only hold valid values,
//! the permission model, list conventions and money arithmetic.
//!
//! Nothing in this crate talks to a database or the network; every rule here is
//! unit-tested without either.

pub mod access;
pub mod api_key;
pub mod audit;
pub mod catalog;
pub mod customer;
pub mod error;
pub mod follow_up;
pub mod import;
pub mod lead;
pub mod listing;
pub mod merge;
pub mod money;
pub mod order;
pub mod payment;
pub mod pipeline;
pub mod pool;
pub mod pricing;
pub mod report;
pub mod stock;
mod stored;
pub mod sync;
pub mod target;
pub mod team;
pub mod values;
pub mod webhook;

pub use access::{Principal, Role, Scope};
pub use error::Violations;
pub use error::{DomainError, FieldViolation, Refusal};
pub use money::Money;
pub use stored::StoredName;
