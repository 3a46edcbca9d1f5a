//! `sims`: the SIMS server and its operations commands.

use std::process::ExitCode;

use mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use sims_api::config::Settings;
use sims_api::startup::{Application, StartupError, open_database};

/// Returns freed memory to the system (see `Cargo.toml`): an idle server stays small.
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[derive(Parser)]
#[command(
    name = "sims",
    version,
    about = "SIMS — Sales Information Management System"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write every row of the database (`DATABASE_URL`) to a compressed archive, as one
    /// consistent snapshot; a server may keep serving meanwhile.
    Backup {
        /// The archive to write (`-` for standard output). Written under a temporary
        /// name and renamed when whole.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Load an archive `sims backup` wrote into an empty database (`DATABASE_URL`) of
    /// either kind, then apply the migrations that came after it.
    Restore {
        /// The archive (`-` for standard input).
        file: std::path::PathBuf,
    },
    /// Encrypt every customer and contact phone and email stored in clear (and every
    /// stored copy) under `SIMS_ENCRYPTION__KEY`. Safe to run again; a server may serve.
    EncryptExisting,
    /// Re-encrypt every value sealed under `SIMS_ENCRYPTION__OLD_KEYS` under the new
    /// `SIMS_ENCRYPTION__KEY`; afterwards the old keys can be dropped.
    RotateKey,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Fill the database with realistic synthetic data: teams and users, customers,
    /// contacts, follow-ups, leads, opportunities, products and stock, orders and
    /// payments. Prints the accounts to sign in with. Refuses a database that already
    /// holds data unless --force.
    Seed {
        /// demo (seconds, for trying the API), standard (the benchmark profile: 100,000
        /// customers, 200,000 orders) or large (ten times standard).
        #[arg(long, default_value = "demo", value_parser = parse_profile)]
        profile: sims_persistence::seed::Profile,
        /// The random seed: the same seed makes the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Add to a database that already holds data.
        #[arg(long)]
        force: bool,
    },
}

fn parse_profile(s: &str) -> Result<sims_persistence::seed::Profile, String> {
    s.parse()
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin user. The password comes from `SIMS_ADMIN_PASSWORD`, or else the
    /// first line of standard input — never the command line, which other users can read.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
}

fn main() -> ExitCode {
    sims_api::memory::configure();
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", sims_api::openapi::to_pretty_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sims: {e}");
            return ExitCode::from(2);
        }
    };
    sims_api::telemetry::init(settings.log_format, "info,sqlx=warn,sea_orm=warn");
    let serving = matches!(cli.command, None | Some(Command::Serve));
    if settings.jwt_secret_generated && serving {
        tracing::warn!(
            "SIMS_JWT_SECRET is not set: using a random secret; tokens will not survive a restart"
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sims: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sims: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<(), StartupError> {
    match command {
        Command::Serve | Command::Openapi => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "SIMS is listening");
            app.run_until_stopped()
                .await
                .map_err(|e| StartupError::Other(e.to_string()))
        }
        Command::Seed {
            profile,
            seed,
            force,
        } => {
            let request = sims_api::seed::SeedRequest {
                profile,
                seed,
                force,
                progress: sims_api::seed::stderr_is_terminal(),
            };
            let (report, elapsed) = sims_api::seed::run(&settings, request).await?;
            print!("{}", sims_api::seed::summary(&report, elapsed));
            Ok(())
        }
        Command::Backup { out } => {
            let db = open_database(&settings).await?;
            let started = std::time::Instant::now();
            let summary = sims_api::backup::write(&db, &out).await?;
            eprintln!(
                "backed up {} rows of {} tables (schema at migration {}) to {} in {:.1} s",
                summary.rows,
                summary.tables,
                summary.migrations,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file } => {
            let db = open_database(&settings).await?;
            let started = std::time::Instant::now();
            let summary = sims_api::backup::read(&db, &file).await?;
            eprintln!(
                "restored {} rows of {} tables from {} (schema at migration {}, {} migrations applied after) in {:.1} s",
                summary.rows,
                summary.tables,
                file.display(),
                summary.migrations,
                summary.migrated_after,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::EncryptExisting | Command::RotateKey => {
            let db = open_database(&settings).await?;
            db.migrate()
                .await
                .map_err(|e| StartupError::Migrate(e.to_string()))?;
            sims_api::startup::encryption(&db, &settings).await?;
            let started = std::time::Instant::now();
            let done = sims_persistence::encryption::reseal(&db)
                .await
                .map_err(|e| StartupError::Other(e.to_string()))?;
            println!(
                "sealed under key {}: {} customers, {} contacts, {} stored copies, in {:.1} s",
                sims_persistence::crypto::current_key_id().unwrap_or("?"),
                done.customers,
                done.contacts,
                done.copies,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Migrate => {
            let db = open_database(&settings).await?;
            db.migrate()
                .await
                .map_err(|e| StartupError::Migrate(e.to_string()))?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => {
            let password = match &settings.admin_password {
                Some(p) => p.expose().to_owned(),
                None => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map_err(|e| {
                        StartupError::Other(format!("cannot read the password: {e}"))
                    })?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let db = open_database(&settings).await?;
            db.migrate()
                .await
                .map_err(|e| StartupError::Migrate(e.to_string()))?;
            let parsed = sims_domain::values::Email::parse("--email", &email)
                .map_err(|v| StartupError::Other(v.message))?;
            sims_domain::values::check_password("the password", &password)
                .map_err(|v| StartupError::Other(v.message))?;
            let password_hash = sims_api::auth::hash_password(password)
                .await
                .map_err(|e| StartupError::Other(e.to_string()))?;
            let new = sims_persistence::users::NewUser {
                email: parsed.as_str().to_owned(),
                name,
                password_hash,
                role: sims_domain::Role::Admin,
                team_id: None,
            };
            let user = sims_persistence::users::create(&db, None, new)
                .await
                .map_err(|e| StartupError::Other(e.to_string()))?;
            println!("created admin {} ({})", user.email, user.id);
            Ok(())
        }
    }
}
