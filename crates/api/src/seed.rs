//! `sims seed`: fills a database with realistic synthetic data (see
//! [`sims_persistence::seed`]), with a progress bar on a terminal, and prints the accounts
//! to sign in with.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sims_persistence::seed::{Profile, Progress, Quiet, SeedOptions, SeedReport};

use crate::config::Settings;
use crate::startup::{StartupError, open_database};

/// The password every seeded user signs in with. Seeded data is for trying SIMS out and
/// for benchmarks, never for production: change it (or drop the data) before real use.
pub const DEMO_PASSWORD: &str = "sims-demo-password";

/// What to seed, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct SeedRequest {
    pub profile: Profile,
    pub seed: u64,
    pub force: bool,
    /// Draw a progress bar (only sensible on a terminal).
    pub progress: bool,
}

/// A progress bar on standard error, counting rows.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, rows: u64) {
        self.0.set_length(rows);
    }

    fn wrote(&self, table: &str, rows: u64) {
        // The total is an estimate: grow it rather than overflow the bar.
        if self.0.position() + rows > self.0.length().unwrap_or(0) {
            self.0.set_length(self.0.position() + rows);
        }
        self.0.inc(rows);
        self.0.set_message(table.to_owned());
    }

    fn finishing(&self) {
        self.0.set_position(self.0.length().unwrap_or(0));
        self.0.set_message("building indexes and keys");
    }
}

/// Whether standard error is a terminal (where a progress bar belongs).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// The moment seeded data ends: the start of the current hour (UTC), so that the same
/// seed within one hour makes the same data.
fn as_of(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::DurationRound;
    now.duration_trunc(chrono::TimeDelta::hours(1))
        .unwrap_or(now)
}

/// Migrates the database of `settings` and seeds it; returns what was written and how
/// long it took. A database that holds data is refused unless `force`.
pub async fn run(
    settings: &Settings,
    request: SeedRequest,
) -> Result<(SeedReport, Duration), StartupError> {
    let db = open_database(settings).await?;
    db.migrate()
        .await
        .map_err(|e| StartupError::Migrate(e.to_string()))?;
    let started = Instant::now();
    let password_hash = crate::auth::hash_password(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?;
    let options = SeedOptions {
        profile: request.profile,
        seed: request.seed,
        force: request.force,
        password_hash,
        now: as_of(sims_persistence::now()),
        pool_defaults: settings.pool.rules(),
    };
    let outcome = if request.progress {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:40}] {percent:>3}% {human_pos} rows  {msg}",
            )
            .map_err(|e| StartupError::Other(e.to_string()))?
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        let outcome = sims_persistence::seed::seed(&db, &options, &Bar(bar.clone())).await;
        bar.finish_and_clear();
        outcome
    } else {
        sims_persistence::seed::seed(&db, &options, &Quiet).await
    };
    let report = outcome.map_err(|e| StartupError::Other(e.to_string()))?;
    // The generator writes rows in clear (encryption is turned on only now, so that what
    // it derives from a contact, a lead's phone, is the value itself); with a key they are
    // sealed before any server reads them.
    crate::startup::encryption(&db, settings).await?;
    if sims_persistence::crypto::enabled() {
        sims_persistence::encryption::reseal(&db)
            .await
            .map_err(|e| StartupError::Other(e.to_string()))?;
    }
    let elapsed = started.elapsed();
    if let Err(e) = db.close().await {
        tracing::warn!(error = %e, "closing the database after seeding");
    }
    Ok((report, elapsed))
}

/// Groups digits by thousands: `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The summary line and the accounts to sign in with, as printed after a seed.
pub fn summary(report: &SeedReport, elapsed: Duration) -> String {
    let counts = [
        ("users", "users"),
        ("customers", "customers"),
        ("contacts", "contacts"),
        ("follow_ups", "follow-ups"),
        ("leads", "leads"),
        ("opportunities", "opportunities"),
        ("products", "products"),
        ("warehouses", "warehouses"),
        ("orders", "orders"),
        ("order_lines", "order lines"),
        ("payments", "payments"),
        ("payment_plan_instalments", "instalments"),
        ("stock_movements", "stock movements"),
    ]
    .iter()
    .map(|(table, label)| format!("{} {label}", thousands(report.count(table))))
    .collect::<Vec<_>>()
    .join(", ");
    let mut out = format!(
        "seeded profile {} (seed {}, run {}) in {:.1} s: {} rows — {counts}\n",
        report.profile.as_str(),
        report.seed,
        report.run,
        elapsed.as_secs_f64(),
        thousands(report.total_rows()),
    );
    if let Some(limit) = report.raised_owned_limit {
        out.push_str(&format!(
            "the pool rules now allow {limit} customers per rep (max_owned_per_rep), so that the seeded ownership fits them\n"
        ));
    }
    out.push_str(&format!(
        "sign in with any seeded user and the password {DEMO_PASSWORD}, for example:\n"
    ));
    for a in &report.accounts {
        out.push_str(&format!(
            "  {:<8} {:<28} {}\n",
            a.role.as_str(),
            a.email,
            a.name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(3_412_345), "3,412,345");
    }
}
