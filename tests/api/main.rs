//! Black-box tests: each starts the real server on a random port against a fresh
//! database (SQLite by default, PostgreSQL when `DATABASE_URL` names one) and speaks HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod api_keys;
mod helpers;
mod idempotency;

mod auth;
mod backup;
mod contacts;
mod conventions;
mod customers;
mod files;
mod follow_ups;
mod leads;
mod limits;
mod merge;
mod migrations;
mod openapi;
mod orders;
mod pipeline;
mod pool;
mod reports;
mod scope;
mod seed;
mod stock;
mod sync;
mod targets;
mod tls;
mod users_teams;
mod webhooks;
