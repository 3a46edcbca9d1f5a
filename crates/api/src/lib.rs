//! The SIMS HTTP API: routes, extractors, JWT auth, problem+json errors, OpenAPI,
//! configuration, telemetry and the CLI's building blocks.

pub mod auth;
pub mod backup;
pub mod caller;
pub mod client;
pub mod config;
pub mod csv;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod listing;
pub mod memory;
pub mod methods;
pub mod openapi;
pub mod reply;
pub mod responses;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;

pub use config::Settings;
pub use startup::Application;
