//! SIMS persistence: sea-orm entities and one repository module per aggregate.
//!
//! Every read takes the caller's [`Scope`](sims_domain::Scope) and turns it into a
//! `WHERE` clause; every write runs through the unit of work ([`Database::write`]),
//! which commits the change, its audit entry and its idempotency answer together.
//! Repositories return typed records, never sea-orm models.

pub mod access;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod contacts;
pub mod crypto;
pub mod customers;
mod db;
mod decode;
pub mod deletions;
pub mod encryption;
pub mod entities;
mod error;
pub mod follow_ups;
pub mod idempotency;
pub mod import;
pub mod leads;
pub mod listing;
pub mod merge;
pub mod opportunities;
pub mod order_numbers;
pub mod orders;
pub mod payments;
pub mod pool;
pub mod principals;
pub mod products;
mod records;
pub mod reports;
mod scope;
pub mod seed;
pub mod stages;
pub mod stock;
pub mod targets;
pub mod teams;
pub mod timeline;
mod uow;
pub mod users;
pub mod warehouses;
pub mod webhooks;

pub use db::{Actor, Database, DbOptions, now};
pub use error::{PersistenceError, Result, ShortLine};
pub use listing::{ListRequest, Page};
pub use sea_orm::ConnectionTrait;
