//! SIMS persistence: sea-orm entities and one repository module per aggregate.
//!
//! Every read takes the caller's [`Scope`](sims_domain::Scope) and turns it into a
//! `WHERE` clause; every mutation writes its audit entry in the same transaction.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod contacts;
pub mod customers;
mod db;
pub mod entities;
mod error;
pub mod follow_ups;
pub mod idempotency;
pub mod leads;
pub mod listing;
pub mod orders;
pub mod pipeline;
pub mod pool;
mod scope;
pub mod stock;
pub mod teams;
pub mod timeline;
pub mod users;

pub use db::{Actor, Database, DbOptions, now};
pub use error::{PersistenceError, Result, ShortLine};
pub use listing::{ListRequest, Page};
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
