//! The composition root: builds storage, the state store, the sealer and the HTTP
//! server from the settings, and binds the listener.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use fedgate_domain::clock::SystemClock;
use fedgate_domain::password;
use fedgate_domain::ports::{StateStore, Store};
use fedgate_domain::seal::{MasterKey, Sealer};
use fedgate_login::development::Development;
use fedgate_login::{FlowParts, LoginFlow, Registry};
use fedgate_provider::observe::CallObserver;
use fedgate_provider::{Outbound, ProviderClient, ProviderEndpoints};
use fedgate_state::{MemoryStateStore, RedisStateStore};
use fedgate_storage::SeaStore;
use fedgate_tokens::TokenKeys;
use secrecy::ExposeSecret;
use url::Url;

use crate::config::Settings;
use crate::events::EventSink;
use crate::metrics::{Metrics, ObservedStateStore};
use crate::state::AppState;
use crate::{error, request_context, routes};

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    /// The metrics listener (`metrics_listen`): its port and server.
    metrics: Option<(u16, Server)>,
    server: Server,
    store: SeaStore,
    events: EventSink,
    clock: Arc<dyn fedgate_domain::clock::Clock>,
    event_retention_days: u32,
    webhooks: crate::webhooks::Worker,
}

/// Opens the database and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<SeaStore> {
    if settings.is_embedded() {
        create_private_dir(&settings.data_dir)?;
    }
    let url = settings.effective_database_url();
    let store = SeaStore::connect_serving(
        &url,
        settings.database_max_connections,
        settings.serving_threads(),
    )
    .await
    .with_context(|| format!("cannot open the database ({})", redact_url(&url)))?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(store)
}

impl Application {
    /// Connects everything and binds `settings.listen`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Outbound::default()).await
    }

    /// Like [`Application::build`], with outbound calls to subscriber-given URLs made
    /// as `outbound` says (tests inject a resolver and count connection attempts;
    /// `allow_loopback` comes from the settings).
    pub async fn build_with(settings: Settings, outbound: Outbound) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, outbound, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build_with`], reading the time from `clock` (tests move
    /// it forward to see keys rotate and records expire).
    pub async fn build_with_clock(
        settings: Settings,
        mut outbound: Outbound,
        clock: Arc<dyn fedgate_domain::clock::Clock>,
    ) -> anyhow::Result<Self> {
        let store = open_database(&settings).await?;
        let metrics = Arc::new(Metrics::new());
        if settings.redis_url.is_some() && !settings.redis_cluster_urls.is_empty() {
            bail!("set redis_url (one Redis) or redis_cluster_urls (a Redis Cluster), not both");
        }
        let state_store: Arc<dyn StateStore> = match &settings.redis_url {
            Some(url) => Arc::new(
                RedisStateStore::connect(url, &settings.redis_prefix)
                    .await
                    .with_context(|| format!("cannot reach Redis ({})", redact_url(url)))?,
            ),
            None if !settings.redis_cluster_urls.is_empty() => Arc::new(
                RedisStateStore::connect_cluster(
                    &settings.redis_cluster_urls,
                    &settings.redis_prefix,
                )
                .await
                .with_context(|| {
                    let nodes: Vec<String> = settings
                        .redis_cluster_urls
                        .iter()
                        .map(|u| redact_url(u))
                        .collect();
                    format!("cannot reach the Redis Cluster ({})", nodes.join(", "))
                })?,
            ),
            None => Arc::new(MemoryStateStore::with_capacity(
                usize::try_from(
                    settings
                        .memory_state_capacity_mib
                        .saturating_mul(1024 * 1024),
                )
                .unwrap_or(usize::MAX),
            )),
        };
        let state_store: Arc<dyn StateStore> =
            Arc::new(ObservedStateStore::new(state_store, Arc::clone(&metrics)));
        let check = store
            .instance_fact(MASTER_KEY_CHECK)
            .await
            .context("cannot read the master-key check value")?;
        let (master_key, previous_keys) = master_keys(&settings, check.is_some())?;
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let local = listener.local_addr()?;
        let public_base_url = match &settings.public_base_url {
            Some(url) => url.clone(),
            None => default_public_url(local)?,
        };
        // On a thread of its own that ends at once: the thread's Argon2 working
        // memory (19 MiB) goes with it instead of staying with a pooled thread.
        let dummy_hash = tokio::task::spawn_blocking(|| {
            std::thread::spawn(password::dummy_hash)
                .join()
                .map_err(|_| anyhow::anyhow!("the start-up password hash panicked"))
        })
        .await???;
        if settings.allow_loopback_providers {
            tracing::warn!(
                "allow_loopback_providers is on: provider URLs may reach loopback addresses; never do this in production"
            );
        }
        outbound.allow_loopback = settings.allow_loopback_providers;
        let development = settings
            .dev_provider_on(local)
            .then(|| Development::new(&public_base_url));
        if development.is_some() {
            tracing::warn!(
                issuer = %format!("{}/dev-provider", public_base_url.as_str().trim_end_matches('/')),
                "the development provider is on: anyone who can reach this Fedgate can sign in as anyone through an application's Development sign-in; it is off whenever Fedgate listens beyond loopback or uses an external database (setting dev_provider)"
            );
            outbound.own_origin = Some(public_base_url.origin());
        }
        if settings.testing.outbound_loopback_only && outbound.connect_tap.is_none() {
            tracing::warn!(
                "testing.outbound_loopback_only is on: provider URLs reach loopback addresses only"
            );
            outbound.connect_tap = Some(fedgate_provider::net::ConnectTap::default());
        }
        outbound.observer = Some(Arc::clone(&metrics) as Arc<dyn CallObserver>);
        let provider = Arc::new(ProviderClient::new(
            Duration::from_secs(settings.provider_timeout_seconds),
            Duration::from_secs(settings.provider_jwks_refetch_seconds),
            outbound,
        )?);
        let google = match &settings.testing.google {
            None => ProviderEndpoints::google(),
            Some(o) => {
                tracing::warn!(issuer = %o.issuer, "Google endpoints are overridden by testing.google: never do this in production");
                ProviderEndpoints {
                    authorization: o.authorization_url.clone(),
                    token: o.token_url.clone(),
                    userinfo: o.userinfo_url.clone(),
                    jwks: Some(o.jwks_url.clone()),
                    tenants: None,
                    // Google's own issuer keeps both of Google's spellings.
                    issuers: if o.issuer == ProviderEndpoints::google().canonical_issuer {
                        ProviderEndpoints::google().issuers
                    } else {
                        vec![o.issuer.clone()]
                    },
                    canonical_issuer: o.issuer.clone(),
                    ..ProviderEndpoints::google()
                }
            }
        };
        let store_handle: Arc<dyn Store> = Arc::new(store.clone());
        let events = EventSink::start(
            store_handle.clone(),
            Arc::clone(&clock),
            settings.limits.failure_events_per_application_per_minute,
            Arc::clone(&metrics),
        );
        let sealer = Sealer::rotating(&master_key, &previous_keys);
        verify_master_key(&store, &sealer, check).await?;
        // The `iss` of user tokens: the public base URL without its trailing slash.
        let token_issuer = public_base_url.as_str().trim_end_matches('/').to_owned();
        let tokens = Arc::new(TokenKeys::new(
            Arc::clone(&store_handle),
            sealer.clone(),
            Arc::clone(&clock),
            token_issuer,
        ));
        let webhooks = crate::webhooks::Worker {
            store: Arc::clone(&store_handle),
            client: Arc::clone(&provider),
            sealer: sealer.clone(),
            clock: Arc::clone(&clock),
            metrics: Arc::clone(&metrics),
            lease: chrono::Duration::seconds(
                i64::try_from(settings.provider_timeout_seconds.saturating_mul(2))
                    .unwrap_or(i64::MAX / 2)
                    .saturating_add(10),
            ),
        };
        let registry = Arc::new(Registry::new(
            Arc::clone(&store_handle),
            sealer.clone(),
            public_base_url.clone(),
            google,
            provider,
            development.clone(),
        ));
        let dev = match development {
            Some(d) => Some(Arc::new(crate::dev::provider::DevProvider::new(
                d,
                public_base_url.clone(),
                Arc::clone(&state_store),
            )?)),
            None => None,
        };
        let login = LoginFlow::new(FlowParts {
            registry: Arc::clone(&registry),
            store: Arc::clone(&store_handle),
            state: Arc::clone(&state_store),
            sealer: sealer.clone(),
            clock: Arc::clone(&clock),
            tokens: Arc::clone(&tokens),
            events: Arc::new(events.clone()),
            user_token_ttl_seconds: settings.user_token_ttl_seconds,
            login_ttl: std::time::Duration::from_secs(settings.login_ttl_seconds),
        });

        let state = web::Data::new(AppState {
            store: store_handle,
            state: state_store,
            sealer,
            clock: Arc::clone(&clock),
            public_base_url,
            dummy_hash,
            settings: settings.clone(),
            events: events.clone(),
            tokens,
            registry,
            login,
            hashing: crate::sign_in::Hashing::for_this_machine(),
            trusted_proxies: settings
                .trusted_proxies
                .iter()
                .filter_map(|p| crate::client_address::Cidr::parse(p).ok())
                .collect(),
            dev,
            metrics,
            database: store.clone(),
            hot: crate::hot::HotCache::default(),
        });
        let metrics_server = match settings.metrics_listen {
            Some(address) => Some(metrics_server(address, state.clone())?),
            None => None,
        };
        let body_limit = settings.limits.body_limit_bytes;
        let data = state.clone();
        let panel = crate::panel::Panel::new();
        let server = HttpServer::new(move || {
            // Runs on each worker's thread, in its runtime, as the worker starts.
            data.database.serve_from_this_thread();
            App::new()
                .app_data(data.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(body_limit)
                        .error_handler(error::json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY")),
                )
                .wrap(from_fn(request_context::middleware))
                .configure(routes::configure)
                .configure(|cfg| {
                    if data.dev.is_some() {
                        crate::dev::configure(cfg);
                    }
                })
                .configure(|cfg| panel.configure(cfg))
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        .workers(settings.serving_threads());
        tracing::info!(address = %local, public_url = %state.public_base_url, embedded = settings.is_embedded(), redis = settings.uses_redis(), "fedgate listening");
        Ok(Self {
            port: local.port(),
            metrics: metrics_server,
            server: server.run(),
            store,
            events,
            clock,
            event_retention_days: settings.event_retention_days,
            webhooks,
        })
    }

    /// The bound port.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `metrics_listen` is set.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The database handle (tests use it to reach under the API).
    #[must_use]
    pub const fn database(&self) -> &SeaStore {
        &self.store
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (up to the
    /// shutdown timeout) and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let sweeper = tokio::spawn(crate::maintenance::run(
            Arc::new(self.store.clone()),
            Arc::clone(&self.clock),
            self.event_retention_days,
        ));
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let webhooks = tokio::spawn(self.webhooks.run());
        let result = self.server.await;
        sweeper.abort();
        webhooks.abort();
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ended = task.await;
        }
        self.events.flush().await;
        tracing::info!("fedgate stopped");
        result
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// The metrics listener: `/metrics` without authentication, nothing else.
fn metrics_server(
    address: std::net::SocketAddr,
    state: web::Data<AppState>,
) -> anyhow::Result<(u16, Server)> {
    let listener = TcpListener::bind(address)
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(routes::metrics::open))
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .run();
    tracing::info!(address = %address, "metrics listening");
    Ok((port, server))
}

fn default_public_url(local: std::net::SocketAddr) -> anyhow::Result<Url> {
    let host = if local.ip().is_loopback() || local.ip().is_unspecified() {
        "localhost".to_owned()
    } else if local.is_ipv6() {
        format!("[{}]", local.ip())
    } else {
        local.ip().to_string()
    };
    Ok(Url::parse(&format!("http://{host}:{}", local.port()))?)
}

/// The master key: configured, or (embedded only) read from or generated into
/// `data_dir/master.key` with mode 0600.
/// The name of the master-key check value in `instance_meta`.
pub(crate) const MASTER_KEY_CHECK: &str = "master_key_check";

/// Stops the start when the master key is not the one this database's secrets were
/// sealed with; records the check value at the first start.
pub(crate) async fn verify_master_key(
    store: &SeaStore,
    sealer: &Sealer,
    check: Option<Vec<u8>>,
) -> anyhow::Result<()> {
    let check = match check {
        Some(c) => c,
        None => store
            .record_instance_fact(MASTER_KEY_CHECK, &sealer.check_value())
            .await
            .context("cannot record the master-key check value")?,
    };
    if !sealer.opens_check(&check) {
        bail!(
            "the master key is not the one this database's secrets were sealed with: \
             start with that key (FEDGATE_MASTER_KEY, or master.key in the data directory) \
             restored from backup — or, after `fedgate rotate-master-key`, with the key it \
             rotated to; a different key cannot read stored client secrets, access keys or \
             signing keys"
        );
    }
    Ok(())
}

/// The current master key and the previous ones still accepted during a rotation.
pub(crate) fn master_keys(
    settings: &Settings,
    sealed_data: bool,
) -> anyhow::Result<(MasterKey, Vec<MasterKey>)> {
    let current = resolve_master_key(settings, sealed_data)?;
    let previous = settings
        .previous_master_keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            MasterKey::parse(k)
                .with_context(|| format!("previous_master_keys[{i}] must be base64 of 32 bytes"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((current, previous))
}

fn resolve_master_key(settings: &Settings, sealed_data: bool) -> anyhow::Result<MasterKey> {
    if let Some(text) = &settings.master_key {
        return MasterKey::parse(text)
            .context("FEDGATE_MASTER_KEY must be base64 of 32 bytes (openssl rand -base64 32)");
    }
    if !settings.is_embedded() {
        bail!(
            "FEDGATE_MASTER_KEY is required with an external database: every instance must share it. \
             Generate one with `openssl rand -base64 32`."
        );
    }
    let path = settings.data_dir.join("master.key");
    for _ in 0..2 {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return MasterKey::parse(&text.trim().to_owned().into()).with_context(|| {
                    format!("{} does not hold a valid master key", path.display())
                });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if sealed_data {
                    bail!(
                        "{} is missing, and this database holds secrets sealed with a master key: \
                         restore master.key from backup (a new key could not read them, so none is generated)",
                        path.display()
                    );
                }
                let key = MasterKey::generate();
                match write_private_new(&path, key.to_base64().expose_secret().as_bytes()) {
                    Ok(()) => {
                        tracing::warn!(path = %path.display(), "generated a new master key; back it up: without it stored secrets cannot be read");
                        return Ok(key);
                    }
                    // Another process created it first: read theirs.
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot write {}", path.display()));
                    }
                }
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    bail!("cannot read or create {}", path.display())
}

#[cfg(unix)]
fn write_private_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(contents)
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A URL with any password replaced, for messages.
fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ignored = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
