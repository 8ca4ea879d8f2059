//! Typed configuration: defaults, then an optional TOML file, then `FEDGATE_*`
//! environment variables (`__` separates nested keys). Unknown keys are an error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Whether the built-in development provider (`/dev-provider/`) and result page
/// (`/dev-app/callback`) are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DevProvider {
    /// On for the embedded default (SQLite and the in-process store) listening on a
    /// loopback address only; off otherwise.
    #[default]
    Auto,
    /// On wherever Fedgate runs (never in production: anyone reaching it can sign in
    /// as anyone).
    On,
    /// Off everywhere: its URLs answer 404.
    Off,
}

/// Abuse limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Sign-in attempts for one account from one client address before each further
    /// attempt waits (2, 4, 8 … seconds, at most the window).
    pub signin_failures_per_account: u64,
    /// Consecutive failed sign-ins per account per day, across addresses, after which
    /// only addresses that have not failed for it may still try.
    pub signin_failures_per_account_per_day: u64,
    /// Sign-in attempts per client address (any account) within the window.
    pub signin_failures_per_address: u64,
    /// The sign-in throttling window.
    pub signin_window_seconds: u64,
    /// Sign-ups allowed per client address per hour.
    pub signups_per_address_per_hour: u64,
    /// Failed API authentications naming no existing access key (missing or malformed
    /// headers, unknown key) per client address per minute.
    pub api_auth_failures_per_minute: u64,
    /// Failed API authentications naming an existing access key, per key and client
    /// address per minute; past it that key is refused from that address.
    pub api_auth_failures_per_key_per_minute: u64,
    /// The same failures summed over an application's keys, per client address per
    /// minute; past it the application's keys are refused from that address.
    pub api_auth_failures_per_application_per_minute: u64,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Hosted login starts per client address per minute.
    pub login_starts_per_address_per_minute: u64,
    /// Hosted callbacks per client address per minute.
    pub callbacks_per_address_per_minute: u64,
    /// Hosted login starts per application per minute (all addresses together).
    pub login_starts_per_application_per_minute: u64,
    /// Hosted callbacks per application per minute (all addresses together).
    pub callbacks_per_application_per_minute: u64,
    /// Failed logins stored one by one per application and minute (per instance);
    /// the rest are counted in one summary event.
    pub failure_events_per_application_per_minute: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            signin_failures_per_account: 5,
            signin_failures_per_account_per_day: 100,
            signin_failures_per_address: 50,
            signin_window_seconds: 900,
            signups_per_address_per_hour: 20,
            api_auth_failures_per_minute: 30,
            api_auth_failures_per_key_per_minute: 30,
            api_auth_failures_per_application_per_minute: 100,
            body_limit_bytes: 64 * 1024,
            login_starts_per_address_per_minute: 600,
            callbacks_per_address_per_minute: 600,
            login_starts_per_application_per_minute: 60_000,
            callbacks_per_application_per_minute: 60_000,
            failure_events_per_application_per_minute: 120,
        }
    }
}

/// Provider endpoints that replace Google's, for tests and local development only:
/// Fedgate logs a warning at start whenever this is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleOverride {
    /// Authorization endpoint.
    pub authorization_url: Url,
    /// Token endpoint.
    pub token_url: Url,
    /// Userinfo endpoint.
    pub userinfo_url: Option<Url>,
    /// JWKS URI.
    pub jwks_url: Url,
    /// The issuer its ID tokens carry.
    pub issuer: String,
}

/// Test-only settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Testing {
    /// Replaces Google's endpoints (a fake or development provider).
    pub google: Option<GoogleOverride>,
    /// Calls to subscriber-given provider URLs may reach loopback addresses only, so a
    /// test run (e.g. a fuzzer inventing issuers) never sends traffic off the machine.
    pub outbound_loopback_only: bool,
}

/// Everything Fedgate can be configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on (`FEDGATE_LISTEN`); port 0 picks a free one.
    pub listen: SocketAddr,
    /// The URL users and providers reach this service at (`FEDGATE_PUBLIC_BASE_URL`).
    /// Defaults to `http://localhost:<port>`. Hosted-service URIs are built from it,
    /// and cookies are `Secure` when it is https.
    pub public_base_url: Option<Url>,
    /// Where the embedded database and generated master key live.
    pub data_dir: PathBuf,
    /// `postgres://...` or `sqlite://...`; default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Connection pool size.
    pub database_max_connections: u32,
    /// `redis://...`; default: the in-process store (one instance only).
    pub redis_url: Option<String>,
    /// A Redis Cluster instead of one Redis: some of its nodes' URLs (e.g.
    /// `["redis://10.0.0.5:6379", "redis://10.0.0.6:6379"]`); the rest are found
    /// from them. Not together with `redis_url`.
    pub redis_cluster_urls: Vec<String>,
    /// Prefix of every Redis key, to share a Redis between deployments.
    pub redis_prefix: String,
    /// Capacity of the in-process state store (without Redis), in MiB: past 90 % new
    /// logins get 503, past 100 % nothing new is stored; nothing is evicted early.
    pub memory_state_capacity_mib: u64,
    /// Base64 of 32 random bytes. Required with PostgreSQL; generated into
    /// `data_dir/master.key` on the embedded default.
    pub master_key: Option<SecretString>,
    /// Keys of earlier master keys, still accepted for opening while
    /// `fedgate rotate-master-key` re-seals everything under `master_key`.
    pub previous_master_keys: Vec<SecretString>,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `fedgate_server=debug,info`.
    pub log_level: String,
    /// Subscriber session lifetime.
    pub session_ttl_seconds: u64,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout_seconds: u64,
    /// Worker threads (0 = one per core).
    pub workers: usize,
    /// Reverse proxies in front of Fedgate (addresses or CIDR blocks, e.g.
    /// `["10.0.0.0/8"]`): when the peer is one of them, the client address is the
    /// right-most `X-Forwarded-For` address that is not. Empty (default): the peer.
    pub trusted_proxies: Vec<String>,
    /// Lifetime of user tokens (`autoLoginToken`).
    pub user_token_ttl_seconds: i64,
    /// How long a person has, from the login start, to come back from the provider;
    /// the login record and the browser-binding cookie last this long.
    pub login_ttl_seconds: u64,
    /// Events older than this many days are deleted.
    pub event_retention_days: u32,
    /// Timeout of each call to a provider.
    pub provider_timeout_seconds: u64,
    /// A provider's keys are refetched for an ID token with an unknown `kid` (a key
    /// rotation) at most once per this many seconds.
    pub provider_jwks_refetch_seconds: u64,
    /// Let subscriber-given provider URLs (OpenID Connect discovery, token, userinfo,
    /// JWKS) reach loopback addresses, over plain http too. For tests and local
    /// development only: every other private, link-local or metadata address stays
    /// refused whatever this says.
    pub allow_loopback_providers: bool,
    /// The built-in development provider: `auto` (default), `on` or `off`.
    pub dev_provider: DevProvider,
    /// Serve `/metrics` on a listener of its own at this address (e.g.
    /// `127.0.0.1:9464`), without authentication: keep it off the public network.
    pub metrics_listen: Option<SocketAddr>,
    /// Without `metrics_listen`: serve `/metrics` on the main port to requests carrying
    /// `Authorization: Bearer <this token>`. With neither, there is no `/metrics`.
    pub metrics_token: Option<SecretString>,
    /// Abuse limits.
    pub limits: Limits,
    /// Test-only settings; never set in production.
    pub testing: Testing,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: None,
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 10,
            redis_url: None,
            redis_cluster_urls: Vec::new(),
            redis_prefix: "fedgate:".into(),
            memory_state_capacity_mib: 256,
            master_key: None,
            previous_master_keys: Vec::new(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            session_ttl_seconds: 12 * 3600,
            shutdown_timeout_seconds: 30,
            workers: 0,
            trusted_proxies: Vec::new(),
            user_token_ttl_seconds: 3600,
            login_ttl_seconds: fedgate_domain::login::LOGIN_RECORD_TTL_SECONDS,
            event_retention_days: 90,
            provider_timeout_seconds: 10,
            provider_jwks_refetch_seconds: 30,
            allow_loopback_providers: false,
            dev_provider: DevProvider::Auto,
            metrics_listen: None,
            metrics_token: None,
            limits: Limits::default(),
            testing: Testing::default(),
        }
    }
}

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// The worker threads that serve requests: `workers`, or one per core.
    #[must_use]
    pub fn serving_threads(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        }
    }

    /// Loads defaults, then `file` if given (it must exist), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // FEDGATE_CONFIG names the file itself and is not a setting.
        figment = figment.merge(Env::prefixed("FEDGATE_").split("__").ignore(&["CONFIG"]));
        let settings: Self = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_base_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return Err(ConfigError(
                "public_base_url must be an http or https URL".into(),
            ));
        }
        if self.user_token_ttl_seconds < 60 {
            return Err(ConfigError(
                "user_token_ttl_seconds must be at least 60".into(),
            ));
        }
        if !(10..=3600).contains(&self.login_ttl_seconds) {
            return Err(ConfigError(
                "login_ttl_seconds must be between 10 and 3600".into(),
            ));
        }
        for p in &self.trusted_proxies {
            crate::client_address::Cidr::parse(p)
                .map_err(|e| ConfigError(format!("trusted_proxies: {e}")))?;
        }
        if self.event_retention_days == 0 {
            return Err(ConfigError(
                "event_retention_days must be at least 1".into(),
            ));
        }
        if self.memory_state_capacity_mib == 0 {
            return Err(ConfigError(
                "memory_state_capacity_mib must be at least 1".into(),
            ));
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError(
                "database_max_connections must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The database URL to use: the configured one, or SQLite in the data directory.
    #[must_use]
    pub fn effective_database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("fedgate.sqlite3").display()
            )
        })
    }

    /// Whether the database is the embedded SQLite file.
    #[must_use]
    pub fn is_embedded(&self) -> bool {
        self.effective_database_url().starts_with("sqlite:")
    }

    /// Whether short-lived state lives in Redis (one, or a cluster).
    #[must_use]
    pub fn uses_redis(&self) -> bool {
        self.redis_url.is_some() || !self.redis_cluster_urls.is_empty()
    }

    /// Whether the development provider is on, for a Fedgate listening on `listen`.
    #[must_use]
    pub fn dev_provider_on(&self, listen: SocketAddr) -> bool {
        match self.dev_provider {
            DevProvider::On => true,
            DevProvider::Off => false,
            DevProvider::Auto => {
                listen.ip().is_loopback() && self.is_embedded() && !self.uses_redis()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_provider_is_on_only_for_the_embedded_default_on_loopback() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let everywhere: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let embedded = Settings::default();
        assert!(embedded.dev_provider_on(loopback));
        assert!(embedded.dev_provider_on(v6));
        assert!(!embedded.dev_provider_on(everywhere));
        let postgres = Settings {
            database_url: Some("postgres://db/fedgate".into()),
            ..Settings::default()
        };
        assert!(!postgres.dev_provider_on(loopback));
        let redis = Settings {
            redis_url: Some("redis://cache".into()),
            ..Settings::default()
        };
        assert!(!redis.dev_provider_on(loopback));
        let forced = Settings {
            dev_provider: DevProvider::On,
            ..postgres
        };
        assert!(forced.dev_provider_on(everywhere));
        let off = Settings {
            dev_provider: DevProvider::Off,
            ..Settings::default()
        };
        assert!(!off.dev_provider_on(loopback));
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail fixes the closure's error type"
    )]
    fn file_then_environment_with_unknown_keys_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("f.toml", "listen = \"0.0.0.0:9000\"\nredis_prefix = \"a:\"\n[limits]\nbody_limit_bytes = 10\n")?;
            jail.set_env("FEDGATE_REDIS_PREFIX", "b:");
            jail.set_env("FEDGATE_LIMITS__SIGNIN_WINDOW_SECONDS", "60");
            let s = Settings::load(Some(Path::new("f.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(s.listen.port(), 9000);
            assert_eq!(s.redis_prefix, "b:");
            assert_eq!(s.limits.body_limit_bytes, 10);
            assert_eq!(s.limits.signin_window_seconds, 60);
            assert_eq!(
                s.limits.signin_failures_per_account, 5,
                "defaults fill the rest"
            );

            jail.set_env("FEDGATE_DATABSE_URL", "typo");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("databse_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail fixes the closure's error type"
    )]
    fn unknown_key_in_file_is_refused_and_missing_file_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("f.toml", "lissten = \"0.0.0.0:9000\"\n")?;
            assert!(Settings::load(Some(Path::new("f.toml"))).is_err());
            assert!(Settings::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail fixes the closure's error type"
    )]
    fn the_documented_example_and_the_compose_variables_load() {
        let example = include_str!("../../../docs/fedgate.example.toml");
        let compose = include_str!("../../../docker-compose.yml");
        figment::Jail::expect_with(|jail| {
            jail.create_file("example.toml", example)?;
            let s = Settings::load(Some(Path::new("example.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(
                s.public_base_url.as_ref().map(Url::as_str),
                Some("https://login.example.com/")
            );
            // Every FEDGATE_* variable docker-compose.yml sets must be a real setting.
            for line in compose
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("FEDGATE_"))
            {
                let (name, _) = line.split_once(':').ok_or("compose line without a value")?;
                let value = match name {
                    "FEDGATE_LISTEN" => "0.0.0.0:8080",
                    "FEDGATE_PUBLIC_BASE_URL" => "http://localhost:8080",
                    "FEDGATE_LOG_FORMAT" => "json",
                    "FEDGATE_DEV_PROVIDER" => "off",
                    "FEDGATE_METRICS_LISTEN" => "0.0.0.0:9464",
                    _ => "x",
                };
                jail.set_env(name, value);
            }
            Settings::load(None).map_err(|e| e.to_string())?;
            Ok(())
        });
    }

    #[test]
    fn the_image_build_context_leaves_out_keys_data_and_build_output() {
        let ignored: Vec<&str> = include_str!("../../../.dockerignore")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        for needed in ["target", "data", "*.key", "node_modules", ".git"] {
            assert!(ignored.contains(&needed), ".dockerignore lacks {needed}");
        }
        let compose = include_str!("../../../docker-compose.yml");
        let fedgate = compose
            .split("\n  fedgate:")
            .nth(1)
            .expect("docker-compose.yml has a fedgate service");
        assert!(
            fedgate.contains("healthcheck:") && fedgate.contains("/readyz"),
            "the fedgate service has a readiness health check"
        );
        assert!(
            compose.contains("--maxmemory-policy\", \"noeviction\""),
            "Redis never evicts login records"
        );
    }

    #[test]
    fn embedded_default_is_sqlite_in_the_data_dir() {
        let s = Settings::default();
        assert!(s.is_embedded());
        assert_eq!(
            s.effective_database_url(),
            "sqlite://data/fedgate.sqlite3?mode=rwc"
        );
    }
}
