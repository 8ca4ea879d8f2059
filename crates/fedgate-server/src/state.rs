//! What every handler shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use actix_web::HttpRequest;
use fedgate_domain::clock::Clock;
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::password::PasswordHashString;
use fedgate_domain::ports::{StateStore, Store};
use fedgate_domain::seal::Sealer;
use fedgate_provider::{ProviderClient, ProviderEndpoints};
use fedgate_tokens::{TokenSigner, TokenVerifier};
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
    /// Outbound OAuth/OIDC client with its JWKS cache.
    pub provider: ProviderClient,
    /// Google's endpoints (or a test override).
    pub google: ProviderEndpoints,
    /// The event log writer.
    pub events: EventSink,
    /// Token signers by application, built on first use (keys never change in place).
    pub signers: Mutex<HashMap<ApplicationId, Arc<TokenSigner>>>,
    /// Token verifiers by application, likewise.
    pub verifiers: Mutex<HashMap<ApplicationId, Arc<TokenVerifier>>>,
    /// Resolved Google set-ups by application, for a few seconds.
    pub setups: crate::login_setup::SetupCache,
}

impl AppState {
    /// Whether cookies must carry `Secure`.
    #[must_use]
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.scheme() == "https"
    }

    /// The client's address: the peer, or the first `X-Forwarded-For` hop when the
    /// deployment says a trusted proxy sets it.
    #[must_use]
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        if self.settings.trust_forwarded_for
            && let Some(ip) = req
                .connection_info()
                .realip_remote_addr()
                .and_then(|a| a.parse::<IpAddr>().ok())
        {
            return ip.to_string();
        }
        req.peer_addr()
            .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
    }

    /// The origin (`scheme://host[:port]`) of the public URL.
    #[must_use]
    pub fn public_origin(&self) -> String {
        self.public_base_url.origin().ascii_serialization()
    }
}
