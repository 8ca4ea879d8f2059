//! What every handler shares.

use std::sync::Arc;

use actix_web::HttpRequest;
use fedgate_domain::clock::Clock;
use fedgate_domain::password::PasswordHashString;
use fedgate_domain::ports::{StateStore, Store};
use fedgate_domain::seal::Sealer;
use fedgate_login::{LoginFlow, Registry};
use fedgate_tokens::TokenKeys;
use url::Url;

use crate::config::Settings;
use crate::events::EventSink;

/// Shared handles and settings, built once at start-up.
#[derive(Debug)]
pub struct AppState {
    /// Durable storage.
    pub store: Arc<dyn Store>,
    /// Short-lived shared state.
    pub state: Arc<dyn StateStore>,
    /// Seals and opens secrets at rest.
    pub sealer: Sealer,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The loaded configuration.
    pub settings: Settings,
    /// The public URL of this service (no trailing slash in its path).
    pub public_base_url: Url,
    /// A hash verified against when a sign-in names no account, so both take as long.
    pub dummy_hash: PasswordHashString,
    /// The event log writer.
    pub events: EventSink,
    /// User-token keys, signers and verifiers.
    pub tokens: Arc<TokenKeys>,
    /// Each application's providers and hosted services.
    pub registry: Arc<Registry>,
    /// The hosted login.
    pub login: LoginFlow,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<crate::client_address::Cidr>,
    /// Password hashing on a bounded number of threads.
    pub hashing: crate::sign_in::Hashing,
    /// The built-in development provider, when it is on.
    pub dev: Option<Arc<crate::dev::provider::DevProvider>>,
    /// Prometheus metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The database pool, sampled for metrics.
    pub database: fedgate_storage::SeaStore,
    /// The application API's short-lived copies of keys and token verdicts.
    pub hot: crate::hot::HotCache,
}

impl AppState {
    /// Whether cookies must carry `Secure`.
    #[must_use]
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.scheme() == "https"
    }

    /// The client's address: the peer, or behind a trusted proxy the right-most
    /// `X-Forwarded-For` address that is not a trusted proxy.
    #[must_use]
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
            return "unknown".to_owned();
        };
        if self.trusted_proxies.is_empty() {
            return peer.to_string();
        }
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        crate::client_address::client_address(peer, &forwarded, &self.trusted_proxies).to_string()
    }

    /// The origin (`scheme://host[:port]`) of the public URL.
    #[must_use]
    pub fn public_origin(&self) -> String {
        self.public_base_url.origin().ascii_serialization()
    }
}
