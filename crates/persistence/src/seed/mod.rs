//! Realistic synthetic data (`sims seed`): teams and users, customers with contacts,
//! follow-ups and ownership history, leads, an opportunity funnel with stage ages,
//! products and a stock ledger, seasonal orders, lagging payments and payment plans.
//!
//! Guarantees:
//! - **Money and quantities are integers**: every amount, price and quantity is drawn and
//!   summed in stored minor units (`i64`) and priced by the domain's `Decimal` arithmetic.
//!   `f64` appears only as a probability or a Poisson rate that decides *how many* rows or
//!   *whether* something happens (`PLAN_SHARE`, `level_factor` choosing an amount band,
//!   contacts per customer), never as a value that is stored or added up.
//! - **Deterministic**: the same profile, seed, clock (`now`) and database state give the
//!   same content; ids (UUID v7, stamped with each record's creation time) come from a
//!   separate stream that also depends on the run, so that a forced second run never
//!   collides with the first.
//! - **Valid as the API writes it**: attributes pass the domain's validation, normalised
//!   columns come from the same functions, order lines are priced by the domain's pricing,
//!   stock levels equal the sums of their movements, paid amounts the sums of payments;
//!   nothing is dated after `now` except expected close dates, instalment due dates and
//!   planned next follow-ups.
//! - **All or nothing**: everything is written in one transaction, in batches (`COPY` on
//!   PostgreSQL, multi-row inserts on SQLite), generated on another thread than the one
//!   writing.
//! - **Refuses** a database that holds customers, orders or users other than one admin,
//!   unless forced; a forced run adds to what is there without breaking a unique constraint
//!   (emails, SKUs and warehouse codes carry the run's tag or avoid stored ones; order
//!   numbers continue the stored counters).
//!
//! Not written: audit entries (the seed is not anybody's action) and outbox events.

mod catalog;
mod clock;
mod customers;
mod fake;
mod generate;
mod names;
mod orders;
mod payments;
mod pipeline;
mod rows;
mod stock;
mod targets;
pub(crate) mod writer;

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sims_domain::Role;
use sims_domain::pipeline::StageKind;
use sims_domain::pool::{MAX_OWNED_RANGE, PoolRules};

use crate::entities::pipeline_stages;
use crate::entities::{customers as customer_rows, order_counters, orders as order_rows};
use crate::entities::{products, users, warehouses};
use crate::{Database, PersistenceError};
use generate::{Plan, StageRef, Taken};
use rows::{Chunk, Flush};
use writer::Writer;

pub use generate::USER_DOMAIN;

/// How much data to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A few hundred customers: seconds on SQLite, for trying the API.
    Demo,
    /// The benchmark profile of SPEC §9 (100,000 customers, 200,000 orders).
    Standard,
    /// Ten times `standard`.
    Large,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::Demo, Profile::Standard, Profile::Large];

    /// The profile's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Demo => "demo",
            Profile::Standard => "standard",
            Profile::Large => "large",
        }
    }

    /// How many records of each kind the profile makes (customers, contacts, follow-ups,
    /// leads, opportunities, orders and payments come out close to these, not exactly).
    pub fn sizes(self) -> Sizes {
        let standard = Sizes {
            teams: 5,
            reps: 44,
            customers: 100_000,
            contacts: 200_000,
            follow_ups: 300_000,
            leads: 50_000,
            opportunities: 50_000,
            products: 2_000,
            warehouses: 3,
            orders: 200_000,
            order_lines: 600_000,
            payments: 150_000,
        };
        match self {
            Profile::Demo => Sizes {
                teams: 2,
                reps: 6,
                customers: 300,
                contacts: 600,
                follow_ups: 1_000,
                leads: 150,
                opportunities: 150,
                products: 50,
                warehouses: 2,
                orders: 600,
                order_lines: 1_800,
                payments: 450,
            },
            Profile::Standard => standard,
            Profile::Large => Sizes {
                teams: 50,
                reps: 449,
                customers: 1_000_000,
                contacts: 2_000_000,
                follow_ups: 3_000_000,
                leads: 500_000,
                opportunities: 500_000,
                products: 20_000,
                warehouses: 30,
                orders: 2_000_000,
                order_lines: 6_000_000,
                payments: 1_500_000,
            },
        }
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown profile {s:?}: use demo, standard or large"))
    }
}

/// The sizes of a profile. Users are one admin, one manager per team and `reps` reps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Teams, each with a manager (a national team over regional ones from three on).
    pub teams: usize,
    /// Sales reps, spread over the regional teams.
    pub reps: usize,
    /// Customers, exactly; about a tenth in the pool.
    pub customers: usize,
    /// Contacts aimed at (about two per customer).
    pub contacts: usize,
    /// Follow-ups aimed at.
    pub follow_ups: usize,
    /// Leads, exactly; some converted into the customers.
    pub leads: usize,
    /// Opportunities aimed at.
    pub opportunities: usize,
    /// Products, exactly, each stocked in every warehouse.
    pub products: usize,
    /// Warehouses, exactly.
    pub warehouses: usize,
    /// Orders, exactly (unless the first days have no customer yet).
    pub orders: usize,
    /// The order lines aimed at (about three per order).
    pub order_lines: usize,
    /// The payments aimed at.
    pub payments: usize,
}

impl Sizes {
    /// Roughly how many rows the profile writes in all, for a progress bar.
    pub fn expected_rows(&self) -> u64 {
        let s = self;
        (1 + 2 * s.teams
            + s.reps
            + s.customers * 3
            + s.contacts
            + s.follow_ups
            + s.leads
            + s.opportunities * 3
            + s.products * (1 + s.warehouses * 4)
            + s.orders
            + s.order_lines * 3
            + s.payments * 3 / 2) as u64
    }
}

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub profile: Profile,
    /// The random seed: the same seed makes the same data.
    pub seed: u64,
    /// Add to a database that already holds data.
    pub force: bool,
    /// The argon2 hash every seeded user signs in with (one shared password).
    pub password_hash: String,
    /// The moment the data is generated as of: nothing happens after it.
    pub now: DateTime<Utc>,
    /// The configured pool rules, in force unless admins stored others.
    pub pool_defaults: PoolRules,
}

/// Told how the seed advances. Implemented by the CLI's progress bar.
pub trait Progress: Sync {
    /// About `rows` rows are coming.
    fn start(&self, rows: u64);
    /// `rows` more rows of `table` are written.
    fn wrote(&self, table: &str, rows: u64);
    /// Every row is written; indexes and keys are being built.
    fn finishing(&self) {}
}

/// A progress that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64) {}
    fn wrote(&self, _: &str, _: u64) {}
}

/// A seeded user with a fixed email, to sign in with at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub role: Role,
    pub email: String,
    pub name: String,
}

/// What a seed wrote.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub profile: Profile,
    pub seed: u64,
    /// 1 for the first seed of this database, 2 for the next forced one, …
    pub run: u32,
    /// Rows written per table, in the order the tables were first written.
    pub rows: Vec<(&'static str, u64)>,
    /// The admin, a manager and two of their reps.
    pub accounts: Vec<DemoAccount>,
    /// The new `max_owned_per_rep` of the pool rules, when the seeded reps own more
    /// customers than the rules in force allowed.
    pub raised_owned_limit: Option<u32>,
}

impl SeedReport {
    /// Rows written in all.
    pub fn total_rows(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }

    /// Rows written to `table`.
    pub fn count(&self, table: &str) -> u64 {
        self.rows
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// Why a seed did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The database already holds data and the seed was not forced.
    #[error(
        "the database already holds data ({0}); seed an empty database, or pass --force to add to what is there"
    )]
    NotEmpty(String),
    /// The generator made a record the domain refuses: a bug in the generator.
    #[error("the generator made invalid data: {0}")]
    Generator(String),
    /// The database refused a statement; nothing was written.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The driver failed (the `COPY` path on PostgreSQL); nothing was written.
    #[error("database error: {0}")]
    Driver(#[from] sea_orm::sqlx::Error),
    /// A repository call failed (reading stages or pool rules, seeding default stages).
    #[error(transparent)]
    Persistence(#[from] PersistenceError),
}

/// Describes what the database holds when that forbids an unforced seed: customers,
/// orders, or users other than a lone admin (the one the server creates on first start).
async fn holdings(db: &Database) -> Result<Option<String>, SeedError> {
    let conn = db.conn();
    let customers = customer_rows::Entity::find().count(conn).await?;
    let orders = order_rows::Entity::find().count(conn).await?;
    let users = users::Entity::find().count(conn).await?;
    let admins = users::Entity::find()
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .count(conn)
        .await?;
    let lone_admin = users == 1 && admins == 1;
    if customers == 0 && orders == 0 && (users == 0 || lone_admin) {
        return Ok(None);
    }
    Ok(Some(format!(
        "{users} users, {customers} customers, {orders} orders"
    )))
}

/// Reads what generation depends on: stages, stored unique values, counters, the run.
async fn plan(db: &Database, options: &SeedOptions) -> Result<Plan, SeedError> {
    let conn = db.conn();
    let stages = pipeline_stages::Entity::find()
        .order_by_asc(pipeline_stages::Column::Position)
        .order_by_asc(pipeline_stages::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|s| {
            StageKind::parse(&s.kind)
                .map(|kind| StageRef { id: s.id, kind })
                .ok_or(PersistenceError::Corrupt {
                    table: "pipeline_stages",
                    column: "kind",
                    value: s.kind,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let emails: Vec<String> = users::Entity::find()
        .select_only()
        .column(users::Column::EmailNorm)
        .into_tuple()
        .all(conn)
        .await?;
    let skus: Vec<String> = products::Entity::find()
        .select_only()
        .column(products::Column::Sku)
        .into_tuple()
        .all(conn)
        .await?;
    let codes: Vec<String> = warehouses::Entity::find()
        .select_only()
        .column(warehouses::Column::Code)
        .into_tuple()
        .all(conn)
        .await?;
    let (pool, _) = crate::pool::rules(conn, options.pool_defaults).await?;
    let counters: HashMap<String, i64> = order_counters::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.month, c.last))
        .collect();
    let taken = Taken {
        emails: emails.into_iter().collect(),
        skus: skus.into_iter().collect(),
        warehouse_codes: codes.into_iter().collect(),
    };
    let mut run = 1;
    while taken.emails.contains(&admin_email(run)) {
        run += 1;
    }
    Ok(Plan {
        sizes: options.profile.sizes(),
        seed: options.seed,
        now: options.now,
        run,
        password_hash: options.password_hash.clone(),
        stages,
        taken,
        counters,
        pool,
    })
}

/// The printed admin's email in run `run`.
fn admin_email(run: u32) -> String {
    match run {
        0 | 1 => format!("admin@{USER_DOMAIN}"),
        n => format!("admin+run{n}@{USER_DOMAIN}"),
    }
}

/// Seeds `db` with the profile's data, all in one transaction. The default pipeline
/// stages are created first when there are none. Refuses a database that already holds
/// data unless `options.force`.
pub async fn seed(
    db: &Database,
    options: &SeedOptions,
    progress: &dyn Progress,
) -> Result<SeedReport, SeedError> {
    let holds = holdings(db).await?;
    if !options.force
        && let Some(what) = holds
    {
        return Err(SeedError::NotEmpty(what));
    }
    // Into an empty database, indexes and keys are built once at the end.
    let bulk = holds.is_none();
    crate::stages::seed_defaults(db).await?;
    let plan = plan(db, options).await?;
    let (run, pool) = (plan.run, plan.pool);
    progress.start(plan.sizes.expected_rows());
    let copy = Writer::wants_copy(db);
    // Few large COPY statements: every statement costs a round trip that the driver's
    // socket (Nagle on) can stall. Without keys to check, each table goes on its own.
    let flush = match (copy, bulk) {
        (true, true) => Flush::PerTable { bytes: 16 << 20 },
        (true, false) => Flush::Together { rows: 200_000 },
        (false, _) => Flush::Together { rows: 20_000 },
    };
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Chunk>(4);
    let generator = tokio::task::spawn_blocking(move || {
        generate::generate(&plan, flush, &mut |chunk| {
            let chunk = if copy {
                Chunk::Copy(chunk.into_copy()?)
            } else {
                chunk
            };
            sender
                .blocking_send(chunk)
                .map_err(|_| SeedError::Generator("the writer stopped".into()))
        })
    });
    let mut writer = Writer::begin(db).await?;
    let restore = if bulk {
        writer
            .set_aside_indexes(&[rows::TABLES, &["product_sales"]].concat())
            .await?
    } else {
        Vec::new()
    };
    let mut rows: Vec<(&'static str, u64, std::time::Duration)> = Vec::new();
    let mut failed = None;
    while let Some(chunk) = batches.recv().await {
        let (table, n) = chunk.size();
        let started = std::time::Instant::now();
        if let Err(e) = writer.write(chunk).await {
            failed = Some(e);
            break;
        }
        let took = started.elapsed();
        match rows.iter_mut().find(|(t, ..)| *t == table) {
            Some((_, count, time)) => {
                *count += n as u64;
                *time += took;
            }
            None => rows.push((table, n as u64, took)),
        }
        progress.wrote(table, n as u64);
    }
    for (table, n, took) in &rows {
        tracing::debug!(table, rows = n, seconds = took.as_secs_f64(), "seeded");
    }
    let rows: Vec<(&'static str, u64)> = rows.into_iter().map(|(t, n, _)| (t, n)).collect();
    // A writer that failed stops the generator at its next batch.
    drop(batches);
    let generated = generator
        .await
        .map_err(|e| SeedError::Generator(format!("the generator stopped: {e}")));
    if let Some(e) = failed {
        return Err(e);
    }
    let outcome = generated??;
    progress.finishing();
    let started = std::time::Instant::now();
    writer.derive_product_sales().await?;
    writer.restore_indexes(&restore).await?;
    tracing::debug!(
        statements = restore.len(),
        seconds = started.elapsed().as_secs_f64(),
        "indexes and keys rebuilt"
    );
    writer.raise_counters(&outcome.counters).await?;
    // Reps own what the profile gives them; the rules must allow it, or every claim fails.
    let most_owned = u32::try_from(outcome.most_owned).unwrap_or(u32::MAX);
    let raised_owned_limit = (most_owned > pool.max_owned_per_rep)
        .then(|| (most_owned.div_ceil(500) * 500).clamp(pool.max_owned_per_rep, MAX_OWNED_RANGE.1));
    if let Some(limit) = raised_owned_limit {
        let rules = PoolRules {
            max_owned_per_rep: limit,
            ..pool
        };
        let value = serde_json::to_string(&rules)
            .map_err(|e| SeedError::Generator(format!("pool rules: {e}")))?;
        writer.store_pool_rules(&value, options.now).await?;
    }
    writer.commit().await?;
    // Fresh statistics, so that the planner sees the tables as they now are (a report
    // planned on an empty table's statistics ran nested loops over 35,000 rows).
    db.conn().execute_unprepared("ANALYZE").await?;
    Ok(SeedReport {
        profile: options.profile,
        seed: options.seed,
        run,
        rows,
        accounts: outcome.accounts,
        raised_owned_limit,
    })
}

#[cfg(test)]
mod tests;
