//! sea-orm entities, one per table. The schema itself is owned by `sims-migrations`.

pub mod audit_log;
pub mod contacts;
pub mod customer_tags;
pub mod customers;
pub mod login_failures;
pub mod refresh_tokens;
pub mod teams;
pub mod users;
