//! Settings: defaults < optional `sims.toml` < `SIMS_*` environment variables.
//!
//! Nested keys use a double underscore in the environment
//! (`SIMS_RATE_LIMIT__PER_MINUTE=0`). `DATABASE_URL` and `DATABASE_READ_URL` are read
//! without the prefix, as every tool expects.

use std::fmt;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A secret that never appears in logs or debug output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<unset>)"
        } else {
            "Secret(***)"
        })
    }
}

/// Whether the server runs for development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A missing JWT secret is replaced by a random one (tokens die with the process).
    Development,
    /// A missing JWT secret is a start-up error.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// Sign-in settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Access token lifetime in seconds.
    pub access_ttl_secs: u64,
    /// Refresh token lifetime in seconds.
    pub refresh_ttl_secs: u64,
    /// Failed sign-ins per account (or per client address ×4) before `429`.
    pub max_login_failures: u32,
    /// The window failures are counted in, in seconds.
    pub login_failure_window_secs: u64,
    /// Most password hashes (argon2id, 19 MiB each) computed at once; more sign-ins queue.
    pub max_concurrent_hashes: usize,
    /// Most days a refresh family lives however often it rotates; then sign in again.
    pub refresh_family_max_days: u32,
    /// Requests per minute per client address for everything sent without credentials
    /// (sign-in, refresh, logout, health); `0` turns this budget off.
    pub requests_per_minute_per_address: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            max_login_failures: 5,
            login_failure_window_secs: 15 * 60,
            requests_per_minute_per_address: 600,
            refresh_family_max_days: 90,
            max_concurrent_hashes: 4,
        }
    }
}

/// The per-caller request budget.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// Requests per minute per authenticated caller; `0` turns the budget off.
    pub per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { per_minute: 1200 }
    }
}

/// Defaults of the customer pool rules (admins override them at `/settings/pool`) and
/// the return job's schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSettings {
    pub max_owned_per_rep: u32,
    pub return_after_days: u32,
    pub reclaim_cooldown_days: u32,
    /// Seconds between runs of the pool-return job; `0` turns the schedule off (the job
    /// still runs on `POST /admin/jobs/pool-return`).
    pub return_interval_secs: u64,
}

impl Default for PoolSettings {
    fn default() -> Self {
        let rules = sims_domain::pool::PoolRules::default();
        Self {
            max_owned_per_rep: rules.max_owned_per_rep,
            return_after_days: rules.return_after_days,
            reclaim_cooldown_days: rules.reclaim_cooldown_days,
            return_interval_secs: 3600,
        }
    }
}

impl PoolSettings {
    /// The configured rules.
    pub fn rules(&self) -> sims_domain::pool::PoolRules {
        sims_domain::pool::PoolRules {
            max_owned_per_rep: self.max_owned_per_rep,
            return_after_days: self.return_after_days,
            reclaim_cooldown_days: self.reclaim_cooldown_days,
        }
    }
}

/// CSV import limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportSettings {
    /// Largest CSV body accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
        }
    }
}

/// How receivables are dated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReceivablesSettings {
    /// Days after its order date that an order without a payment plan is due.
    pub default_terms_days: u32,
}

impl Default for ReceivablesSettings {
    fn default() -> Self {
        Self {
            default_terms_days: 30,
        }
    }
}

/// How long mobile clients can sync deletions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSettings {
    /// Days a deletion stays in `GET /deletions`; a client away for longer syncs afresh.
    pub tombstone_days: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self { tombstone_days: 90 }
    }
}

/// Field encryption at rest of customer and contact phone and email (SPEC §8).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncryptionSettings {
    /// `SIMS_ENCRYPTION__KEY`: 32 bytes in base64 (`openssl rand -base64 32`); unset: off.
    pub key: Option<Secret>,
    /// `SIMS_ENCRYPTION__OLD_KEYS`: earlier keys, comma-separated, that still open the
    /// values written under them until `sims rotate-key` has run.
    pub old_keys: Option<Secret>,
}

/// Parsed encryption keys: the current one and the old ones.
pub type FieldKeys = ([u8; 32], Vec<[u8; 32]>);

impl EncryptionSettings {
    /// The keys, when encryption is on.
    pub fn keys(&self) -> Result<Option<FieldKeys>, ConfigError> {
        let Some(key) = self.key.as_ref().filter(|k| !k.expose().trim().is_empty()) else {
            if self
                .old_keys
                .as_ref()
                .is_some_and(|k| !k.expose().trim().is_empty())
            {
                return Err(ConfigError(
                    "SIMS_ENCRYPTION__OLD_KEYS is set without SIMS_ENCRYPTION__KEY".into(),
                ));
            }
            return Ok(None);
        };
        let parse = |name: &str, text: &str| {
            sims_persistence::crypto::parse_key(name, text).map_err(|e| ConfigError(e.0))
        };
        let current = parse("SIMS_ENCRYPTION__KEY", key.expose())?;
        let old = self
            .old_keys
            .as_ref()
            .map(|k| {
                k.expose()
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(|k| parse("SIMS_ENCRYPTION__OLD_KEYS", k))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Some((current, old)))
    }
}

/// How webhook deliveries are made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Seconds a receiver has to answer 2xx.
    pub timeout_secs: u64,
    /// The first retry's wait in seconds; each later one doubles it, up to 12 hours.
    pub retry_base_secs: u64,
    /// Allow loopback, private and link-local targets (local development only).
    pub allow_private_targets: bool,
    /// How often the dispatcher looks for due deliveries, in milliseconds (0: this
    /// instance sends none; another instance on the same database does).
    pub poll_interval_ms: u64,
    /// Days delivered events and their delivery log are kept.
    pub retention_days: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout_secs: 10,
            retry_base_secs: 60,
            allow_private_targets: false,
            poll_interval_ms: 1000,
            retention_days: 30,
        }
    }
}

/// Everything the server is configured with. Its `Debug` hides the database passwords
/// (and `Secret`s hide themselves).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub mode: Mode,
    /// `host:port` to listen on; port 0 picks a free port.
    pub bind: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Optional replica for reports.
    pub database_read_url: Option<String>,
    pub database_max_connections: u32,
    /// HS256 signing secret for access tokens (at least 32 bytes in production).
    pub jwt_secret: Secret,
    /// First admin, created on an empty database.
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    /// Exact origins allowed by CORS (comma-separated in the environment).
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub pool: PoolSettings,
    pub import: ImportSettings,
    pub receivables: ReceivablesSettings,
    pub sync: SyncSettings,
    pub webhooks: WebhookSettings,
    pub encryption: EncryptionSettings,
    pub server: ServerSettings,
    /// Whether `jwt_secret` was made up at start-up (logged once logging runs).
    #[serde(skip)]
    pub jwt_secret_generated: bool,
}

/// How the server sees its clients.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Reverse proxies (IPs or CIDRs) whose `X-Forwarded-For` is believed; none by default.
    /// In the environment: `SIMS_SERVER__TRUSTED_PROXIES=10.0.0.0/8,192.168.1.5`.
    pub trusted_proxies: Vec<String>,
    /// A PEM certificate chain: with `tls_key_path`, the server speaks HTTPS (TLS 1.2 and
    /// 1.3) instead of plain HTTP. `SIMS_SERVER__TLS_CERT_PATH`.
    pub tls_cert_path: Option<String>,
    /// The PEM private key of `tls_cert_path`. `SIMS_SERVER__TLS_KEY_PATH`.
    pub tls_key_path: Option<String>,
}

/// A database URL with its password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("mode", &self.mode)
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field(
                "database_read_url",
                &self.database_read_url.as_deref().map(redact_url),
            )
            .field("database_max_connections", &self.database_max_connections)
            .field("jwt_secret", &self.jwt_secret)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &self.admin_password)
            .field("cors_origins", &self.cors_origins)
            .field("log_format", &self.log_format)
            .field("workers", &self.workers)
            .field("auth", &self.auth)
            .field("rate_limit", &self.rate_limit)
            .field("pool", &self.pool)
            .field("import", &self.import)
            .field("receivables", &self.receivables)
            .field("sync", &self.sync)
            .field("webhooks", &self.webhooks)
            .field("encryption", &self.encryption)
            .field("server", &self.server)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Development,
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://./data/sims.db?mode=rwc".into(),
            database_read_url: None,
            database_max_connections: 16,
            jwt_secret: Secret::default(),
            admin_email: None,
            admin_password: None,
            cors_origins: vec![],
            log_format: LogFormat::Text,
            workers: 0,
            auth: AuthSettings::default(),
            rate_limit: RateLimitSettings::default(),
            pool: PoolSettings::default(),
            receivables: ReceivablesSettings::default(),
            import: ImportSettings::default(),
            sync: SyncSettings::default(),
            webhooks: WebhookSettings::default(),
            encryption: EncryptionSettings::default(),
            server: ServerSettings::default(),
            jwt_secret_generated: false,
        }
    }
}

/// A configuration that cannot be used, with a one-line reason.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Loads defaults, then `sims.toml` (or `SIMS_CONFIG`) when present, then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var("SIMS_CONFIG").unwrap_or_else(|_| "sims.toml".into());
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if Path::new(&file).exists() {
            fig = fig.merge(Toml::file(&file));
        }
        let fig = fig
            .merge(
                Env::prefixed("SIMS_")
                    .ignore(&["config", "cors_origins", "server__trusted_proxies"])
                    .split("__"),
            )
            .merge(Env::raw().only(&["database_url", "database_read_url"]));
        let mut s: Settings = fig
            .extract()
            .map_err(|e| ConfigError(e.to_string().replace('\n', "; ")))?;
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(String::from)
                .collect()
        };
        if let Ok(origins) = std::env::var("SIMS_CORS_ORIGINS") {
            s.cors_origins = list(origins);
        }
        if let Ok(proxies) = std::env::var("SIMS_SERVER__TRUSTED_PROXIES") {
            s.server.trusted_proxies = list(proxies);
        }
        s.validate()?;
        Ok(s)
    }

    /// Checks values that the types cannot.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        if let Err(bad) = crate::client::TrustedProxies::parse(&self.server.trusted_proxies) {
            return Err(ConfigError(format!(
                "server.trusted_proxies: {bad:?} is not an IP address or a CIDR"
            )));
        }
        // An empty variable (as docker compose passes an unset one) means "not set".
        if self
            .admin_password
            .as_ref()
            .is_some_and(|p| p.expose().is_empty())
        {
            self.admin_password = None;
        }
        if self
            .admin_email
            .as_ref()
            .is_some_and(|e| e.trim().is_empty())
        {
            self.admin_email = None;
        }
        if self.jwt_secret.expose().is_empty() {
            if self.mode == Mode::Production {
                return Err(ConfigError(
                    "SIMS_JWT_SECRET must be set in production mode".into(),
                ));
            }
            self.jwt_secret = Secret::new(crate::auth::random_token(48));
            self.jwt_secret_generated = true;
        } else if self.jwt_secret.expose().len() < 32 {
            return Err(ConfigError(
                "SIMS_JWT_SECRET must be at least 32 characters".into(),
            ));
        }
        self.pool
            .rules()
            .validate()
            .map_err(|e| ConfigError(format!("pool: {e:?}")))?;
        match (&self.server.tls_cert_path, &self.server.tls_key_path) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError(
                    "server.tls_cert_path and server.tls_key_path go together: set both or neither"
                        .into(),
                ));
            }
            _ => {}
        }
        self.encryption.keys()?;
        if self.database_max_connections == 0 {
            return Err(ConfigError(
                "database_max_connections must be at least 1".into(),
            ));
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "DATABASE_URL must start with sqlite:, postgres:// or postgresql://".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
// figment's Jail closures return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn debug_output_hides_passwords() {
        let s = Settings {
            database_url: "postgres://sims:hunter2-db@db:5432/sims".into(),
            database_read_url: Some("postgres://ro:hunter3-ro@replica/sims".into()),
            ..Settings::default()
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3"),
            "{shown}"
        );
        assert!(
            shown.contains("postgres://sims:***@db:5432/sims"),
            "{shown}"
        );
    }

    #[test]
    fn tls_needs_a_certificate_and_its_key() {
        for (cert, key) in [(Some("c.pem"), None), (None, Some("k.pem"))] {
            let mut s = Settings::default();
            s.server.tls_cert_path = cert.map(str::to_owned);
            s.server.tls_key_path = key.map(str::to_owned);
            match s.validate() {
                Err(ConfigError(m)) => assert!(m.contains("set both or neither"), "{m}"),
                Ok(()) => panic!("half a TLS configuration was accepted"),
            }
        }
        let mut s = Settings::default();
        s.server.tls_cert_path = Some("c.pem".into());
        s.server.tls_key_path = Some("k.pem".into());
        assert!(s.validate().is_ok(), "the files are read at start-up");
    }

    #[test]
    fn the_example_file_loads_and_states_the_defaults() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("sims.toml", include_str!("../../../sims.example.toml"))?;
            let s = Settings::load().map_err(|e| e.to_string())?;
            let d = Settings::default();
            assert_eq!(s.webhooks.timeout_secs, d.webhooks.timeout_secs);
            assert_eq!(s.webhooks.retry_base_secs, d.webhooks.retry_base_secs);
            assert_eq!(s.webhooks.poll_interval_ms, d.webhooks.poll_interval_ms);
            assert_eq!(s.webhooks.retention_days, d.webhooks.retention_days);
            assert!(!s.webhooks.allow_private_targets);
            assert_eq!(s.sync.tombstone_days, d.sync.tombstone_days);
            assert_eq!(s.auth.max_login_failures, d.auth.max_login_failures);
            Ok(())
        });
    }

    #[test]
    fn file_then_environment_override_defaults() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "sims.toml",
                "bind = \"0.0.0.0:9000\"\nworkers = 3\n[rate_limit]\nper_minute = 10\n",
            )?;
            jail.set_env("SIMS_RATE_LIMIT__PER_MINUTE", "0");
            jail.set_env("SIMS_JWT_SECRET", "s".repeat(32));
            jail.set_env("DATABASE_URL", "postgres://sims@db/sims");
            jail.set_env("SIMS_CORS_ORIGINS", "https://a.example, https://b.example");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(s.bind, "0.0.0.0:9000", "from the file");
            assert_eq!(s.workers, 3);
            assert_eq!(
                s.rate_limit.per_minute, 0,
                "the environment wins over the file"
            );
            assert_eq!(s.database_url, "postgres://sims@db/sims");
            assert_eq!(
                s.cors_origins,
                vec!["https://a.example", "https://b.example"]
            );
            assert_eq!(s.auth.access_ttl_secs, 900, "defaults fill the rest");
            assert_eq!(
                format!("{:?}", s.jwt_secret),
                "Secret(***)",
                "secrets never print"
            );
            Ok(())
        });
    }

    #[test]
    fn production_needs_a_real_secret() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("SIMS_MODE", "production");
            let e = Settings::load()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("SIMS_JWT_SECRET"), "{e}");
            jail.set_env("SIMS_JWT_SECRET", "short");
            let e = Settings::load()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("32"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("sims.toml", "colour = \"red\"\n")?;
            let e = Settings::load()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("colour"), "{e}");
            jail.create_file("sims.toml", "workers = \"many\"\n")?;
            assert!(Settings::load().is_err());
            jail.create_file("sims.toml", "database_url = \"mysql://x\"\n")?;
            assert!(Settings::load().is_err());
            Ok(())
        });
    }

    #[test]
    fn empty_admin_variables_mean_unset() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("SIMS_ADMIN_PASSWORD", "");
            jail.set_env("SIMS_ADMIN_EMAIL", "");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert!(s.admin_password.is_none() && s.admin_email.is_none());
            Ok(())
        });
    }
}
