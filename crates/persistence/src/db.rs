//! The database connection for SQLite and PostgreSQL (writes go through [`crate::uow`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::FutureExt;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseBackend, DatabaseConnection, DbErr};
use sims_domain::Principal;
use sims_migrations::{Migrator, MigratorTrait};

use crate::order_numbers::OrderNumbers;
use crate::principals::Principals;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection.
    pub acquire_timeout: Duration,
}

/// The pooled connection and what kind of database is behind it, with the sessions of
/// signed-in users it remembers ([`crate::principals`]).
#[derive(Debug, Clone)]
pub struct Database {
    conn: DatabaseConnection,
    principals: Arc<Principals>,
    statements: Arc<AtomicU64>,
    order_numbers: Arc<OrderNumbers>,
    /// SQLite only: the connection this process writes through ([`crate::uow`]).
    sqlite_writer: Option<Arc<SqliteWriter>>,
    /// Set once a runtime that opened pooled connections has ended
    /// ([`Database::check_connections_before_use`]).
    runtime_ended: Arc<AtomicBool>,
    /// The pool [`Database::connect`] opened (background jobs use it), when `conn` is a
    /// worker's.
    shared: DatabaseConnection,
    /// The HTTP workers' pools, for the pool gauges.
    worker_pools: Arc<WorkerPools>,
    /// Which of `worker_pools` `conn` is (`None`: the shared pool).
    worker: Option<u64>,
}

/// The pools of the running HTTP workers ([`Database::for_worker`]).
#[derive(Debug, Default)]
struct WorkerPools {
    next: AtomicU64,
    pools: Mutex<Vec<(u64, DatabaseConnection)>>,
}

impl WorkerPools {
    fn pools(&self) -> std::sync::MutexGuard<'_, Vec<(u64, DatabaseConnection)>> {
        self.pools.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// SQLite has one writer at a time. This process's write transactions queue for their
/// turn here, in order, instead of in SQLite's busy handler (which sleeps in growing
/// steps), and run on one connection of their own: its page cache holds what the writes
/// before it wrote, where a pooled connection would read back every page another
/// connection changed since it last ran.
#[derive(Debug)]
pub(crate) struct SqliteWriter {
    pub(crate) turn: tokio::sync::Mutex<()>,
    pub(crate) conn: DatabaseConnection,
}

/// Longest an SQLite write transaction waits for this process's others (as long as
/// SQLite's own busy timeout, below).
pub(crate) const WRITER_WAIT: Duration = Duration::from_secs(10);

/// What a pool is for.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// Reads, and writes on PostgreSQL.
    Pool,
    /// One HTTP worker's PostgreSQL connections ([`Database::for_worker`]), opened when
    /// first needed.
    Worker { max_connections: u32 },
    /// SQLite's one writing connection ([`SqliteWriter`]).
    SqliteWriter,
}

/// Who performs a mutation, for scope checks and the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The caller.
    pub principal: Principal,
    /// The request id the audit entry carries.
    pub request_id: Option<String>,
}

/// A pool for `role` on `options.url`, counting the statements it sends into
/// `statements`.
async fn open(
    options: &DbOptions,
    role: Role,
    runtime_ended: &Arc<AtomicBool>,
    statements: &Arc<AtomicU64>,
) -> Result<DatabaseConnection, DbErr> {
    let mut opt = ConnectOptions::new(options.url.clone());
    let max_connections = match role {
        Role::Pool => options.max_connections,
        Role::Worker { max_connections } => max_connections,
        Role::SqliteWriter => 1,
    };
    opt.max_connections(max_connections)
        .connect_lazy(matches!(role, Role::Worker { .. }))
        .min_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .connect_timeout(Duration::from_secs(5))
        // A ping on every checkout is a round trip more per request (the pool pings
        // again on every return): only a connection idle long enough to have been
        // dropped by the server or a proxy is tested first.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    let ended = Arc::clone(runtime_ended);
    opt.map_sqlx_postgres_before_acquire(move |conn, _| {
        let ended = ended.load(Ordering::Acquire);
        Box::pin(async move {
            if !ended {
                return Ok(true);
            }
            Ok(sea_orm::sqlx::Connection::ping(conn).await.is_ok())
        })
    });
    opt.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
        o.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(WRITER_WAIT)
            .foreign_keys(true)
    });
    // JIT compilation pays off for long analytic scans, not for the short statements
    // SIMS sends: on the reports' aggregates its planner estimates set it off and it
    // cost more than the query (receivables at the standard profile: 806 ms with it,
    // 423 ms without).
    opt.map_sqlx_postgres_opts(|o: PgConnectOptions| o.options([("jit", "off")]));
    let mut conn = sea_orm::Database::connect(opt).await?;
    // Every statement sent (transaction control aside) is counted for the metrics, and
    // written to the log at `RUST_LOG=sims::sql=trace` with its values and time.
    let counter = Arc::clone(statements);
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(
            target: "sims::sql",
            elapsed_us = info.elapsed.as_micros() as u64,
            failed = info.failed,
            statement = %info.statement,
        );
    });
    Ok(conn)
}

/// The current time at the precision both databases keep (microseconds), so that a
/// value read back equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

impl Database {
    /// Opens the pool. SQLite files are created when missing and run in WAL mode with a
    /// busy timeout, so that concurrent writers queue instead of failing; SQLite writes
    /// go through one connection of their own ([`SqliteWriter`]).
    pub async fn connect(options: &DbOptions) -> Result<Self, DbErr> {
        // A PostgreSQL connection's socket belongs to the runtime that opened it, and each
        // HTTP worker runs its own: once one has stopped (a graceful shutdown stops the idle
        // workers first), a connection it opened fails on first use. From then on every
        // connection is pinged before it is handed out, and a dead one replaced by a new
        // one opened where it is needed. (SQLite connections run on threads of their own.)
        let runtime_ended = Arc::new(AtomicBool::new(false));
        let statements = Arc::new(AtomicU64::new(0));
        let conn = open(options, Role::Pool, &runtime_ended, &statements).await?;
        // SQLite: this process is the only writer, and its writes forget for themselves.
        // PostgreSQL: only while `principals::listen` is subscribed.
        let sqlite = conn.get_database_backend() == DatabaseBackend::Sqlite;
        let sqlite_writer = match sqlite {
            true => Some(Arc::new(SqliteWriter {
                turn: tokio::sync::Mutex::new(()),
                conn: open(options, Role::SqliteWriter, &runtime_ended, &statements).await?,
            })),
            false => None,
        };
        Ok(Self {
            shared: conn.clone(),
            conn,
            principals: Arc::new(Principals::new(sqlite)),
            statements,
            order_numbers: Arc::default(),
            sqlite_writer,
            runtime_ended,
            worker_pools: Arc::default(),
            worker: None,
        })
    }

    /// This database as one of `workers` HTTP workers uses it: on PostgreSQL with a pool
    /// of its own (its share of `options.max_connections`, opened as needed), the rest
    /// shared. Call it on the worker's own runtime. A connection's socket answers to the
    /// runtime that opened it: in a pool shared by the workers, a reply to a query from
    /// one worker would wake the thread of the worker that opened the connection, which
    /// then hands it over; with a pool a worker, the thread that asked is the one woken.
    /// SQLite connections run on threads of their own, so SQLite keeps the one pool.
    pub fn for_worker(&self, options: &DbOptions, workers: usize) -> Result<Self, DbErr> {
        if self.backend() != DatabaseBackend::Postgres {
            return Ok(self.clone());
        }
        let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
        let role = Role::Worker {
            max_connections: options.max_connections.div_ceil(workers).max(1),
        };
        // A lazy pool opens nothing here: the future is ready at once. Its connections are
        // all opened on this worker's runtime, so it never needs to check them for a
        // runtime that ended: its flag stays unset.
        let own_runtime = Arc::new(AtomicBool::new(false));
        let conn = open(options, role, &own_runtime, &self.statements)
            .now_or_never()
            .ok_or_else(|| DbErr::Custom("a lazy pool waited to be opened".into()))??;
        let id = self.worker_pools.next.fetch_add(1, Ordering::Relaxed);
        self.worker_pools.pools().push((id, conn.clone()));
        Ok(Self {
            conn,
            worker: Some(id),
            ..self.clone()
        })
    }

    /// Says that the worker this copy serves has stopped: its pool leaves the gauges, and
    /// is dropped with its connections once nothing holds it any more.
    pub fn retire(&self) {
        if let Some(id) = self.worker {
            self.worker_pools.pools().retain(|(w, _)| *w != id);
        }
    }

    /// Says that a runtime which may have opened pooled connections has ended (an HTTP
    /// worker that stopped): from now on each pooled connection is checked before it is
    /// handed out, so a request still running elsewhere never gets one that died with it.
    pub fn check_connections_before_use(&self) {
        self.runtime_ended.store(true, Ordering::Release);
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// The pooled connection, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The next order number for an order dated `day` ([`crate::order_numbers`]); call it
    /// before the order's transaction, never inside one.
    pub(crate) async fn next_order_number(&self, day: chrono::NaiveDate) -> crate::Result<String> {
        self.order_numbers.next(self, day).await
    }

    /// The connection this process's SQLite write transactions take in turn (none on
    /// PostgreSQL).
    pub(crate) fn sqlite_writer(&self) -> Option<&SqliteWriter> {
        self.sqlite_writer.as_deref()
    }

    /// Hands back a number [`Database::next_order_number`] gave for an order that was not
    /// written, so that the next order takes it.
    pub(crate) async fn give_back_order_number(&self, day: chrono::NaiveDate, number: &str) {
        self.order_numbers.give_back(day, number).await;
    }

    /// The remembered sessions of signed-in users.
    pub fn principals(&self) -> &Arc<Principals> {
        &self.principals
    }

    /// Which database this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    /// How many statements this process has sent (transaction control aside).
    pub fn statements_sent(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Open and idle connections of the shared pool and the workers' pools, for metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        let stats = |conn: &DatabaseConnection| match self.backend() {
            DatabaseBackend::Postgres => {
                let p = conn.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
            _ => {
                let p = conn.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
        };
        let workers = self.worker_pools.pools();
        std::iter::once(&self.shared)
            .chain(workers.iter().map(|(_, conn)| conn))
            .map(stats)
            .fold((0, 0), |(size, idle), (s, i)| (size + s, idle + i))
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(writer) = &self.sqlite_writer {
            writer.conn.clone().close().await?;
        }
        self.conn.close().await
    }
}
