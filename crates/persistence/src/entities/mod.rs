//! sea-orm entities, one per table. The schema itself is owned by `sims-migrations`.

pub mod audit_log;
pub mod contacts;
pub mod customer_events;
pub mod customer_tags;
pub mod customers;
pub mod follow_ups;
pub mod idempotency_keys;
pub mod job_leases;
pub mod leads;
pub mod login_failures;
pub mod opportunities;
pub mod opportunity_stage_changes;
pub mod order_counters;
pub mod order_lines;
pub mod orders;
pub mod payments;
pub mod pipeline_stages;
pub mod pool_cooldowns;
pub mod products;
pub mod refresh_tokens;
pub mod settings;
pub mod stock_levels;
pub mod stock_movements;
pub mod teams;
pub mod users;
pub mod warehouses;
