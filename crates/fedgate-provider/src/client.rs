//! Talking to a provider: discovery, code redemption, ID-token validation, userinfo.
//! Calls to subscriber-given URLs go through a guarded HTTP client (see [`crate::net`]).

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use reqwest::dns::Resolve;
use thread_local::ThreadLocal;

use crate::ProviderEndpoints;
use crate::discovery::{self, Discovered, DiscoveryCache, DiscoveryError};
use crate::id_token::{self, IdTokenClaims, IdTokenError};
use crate::jwks::{JwksCache, JwksError};
use crate::net::{self, ConnectTap, GuardedResolver, Refusal, SystemResolver};
use crate::observe::{CallObserver, CallResult, Endpoint, Timer};
use crate::token::{self, CodeRedemption, TokenSet};

/// Largest token response read.
const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;
/// Largest userinfo response read.
const MAX_USERINFO_BYTES: usize = 256 * 1024;

/// Why talking to the provider failed. [`ProviderError::reason`] gives the stable code.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an OAuth error (e.g. `invalid_grant`).
    #[error("the provider refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// OAuth error code.
        error: String,
        /// Its description.
        description: Option<String>,
        /// The HTTP status it came with.
        status: u16,
    },
    /// Network failure.
    #[error("the provider is unreachable: {0}")]
    Unreachable(String),
    /// The provider did not answer in time.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The URL is not https, or resolves to an address Fedgate does not call.
    #[error("the provider's address is refused: {0}")]
    AddressRefused(String),
    /// The provider answered with something that is not a valid response.
    #[error("the provider sent an invalid response: {0}")]
    BadResponse(String),
    /// An endpoint answered with an HTTP status that is not an answer.
    #[error("the provider sent an invalid response: the {what} endpoint answered HTTP {status}")]
    HttpStatus {
        /// The endpoint (`token`, `userinfo`, `profile`).
        what: String,
        /// The status.
        status: u16,
    },
    /// The token response had no ID token.
    #[error("the provider sent no ID token")]
    NoIdToken,
    /// The ID token failed a check.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// Userinfo's `sub` differs from the ID token's.
    #[error("userinfo describes another subject")]
    UserinfoSubject,
}

impl ProviderError {
    /// A stable reason code for events and error redirects.
    #[must_use]
    pub fn reason(&self) -> String {
        match self {
            Self::Refused { error, .. } => format!("provider_refused:{error}"),
            Self::Unreachable(_) => "provider_unreachable".into(),
            Self::Timeout => "provider_timeout".into(),
            Self::AddressRefused(_) => "provider_address_refused".into(),
            Self::BadResponse(_) | Self::HttpStatus { .. } => "provider_bad_response".into(),
            Self::NoIdToken => "id_token_missing".into(),
            Self::IdToken(e) => format!("id_token_invalid:{}", e.check()),
            Self::UserinfoSubject => "userinfo_subject_mismatch".into(),
        }
    }

    /// The HTTP status the provider answered with, when that is what went wrong.
    #[must_use]
    pub const fn http_status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } | Self::HttpStatus { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Provider-supplied text cut to `max` characters, without control characters.
#[must_use]
pub fn clean(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// A reqwest error in words, naming a refused address when that is the cause.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    match net::refusal_in(e) {
        Some(r) => r.to_string(),
        None if e.is_timeout() => "timed out".to_owned(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

fn request_error(e: &reqwest::Error) -> ProviderError {
    match net::refusal_in(e) {
        Some(r) => ProviderError::AddressRefused(r.to_string()),
        None if e.is_timeout() => ProviderError::Timeout,
        None => ProviderError::Unreachable(describe(e)),
    }
}

/// How outbound calls to subscriber-given URLs are made.
#[derive(Clone, Default)]
pub struct Outbound {
    /// Allow loopback addresses (tests and local development only).
    pub allow_loopback: bool,
    /// The resolver behind the address guard (the system's by default; tests inject
    /// one that maps names to the addresses they need).
    pub resolver: Option<Arc<dyn Resolve>>,
    /// Sees the addresses the guarded client would connect to, and lets only loopback
    /// ones through — resolved or written as literals (tests: nothing leaves the
    /// machine).
    pub connect_tap: Option<ConnectTap>,
    /// Fedgate's own origin, when its built-in development provider is on: calls to it
    /// (that provider's discovery, token, userinfo and keys) are Fedgate calling
    /// itself, not a subscriber-given address, and skip the guard.
    pub own_origin: Option<url::Origin>,
    /// Told about every call made to a provider (metrics).
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("allow_loopback", &self.allow_loopback)
            .field("resolver", &self.resolver.as_ref().map(|_| "custom"))
            .finish_non_exhaustive()
    }
}

/// A client for providers, with its connection pools, JWKS and discovery caches.
#[derive(Debug)]
pub struct ProviderClient {
    /// For Fedgate's own fixed endpoints (Google).
    http: PerThread,
    /// For subscriber-given URLs: addresses guarded.
    guarded: PerThread,
    allow_loopback: bool,
    /// A test's tap is installed: only loopback addresses may be reached.
    loopback_only: bool,
    own_origin: Option<url::Origin>,
    observer: Option<Arc<dyn CallObserver>>,
    jwks: JwksCache,
    discovery: DiscoveryCache,
}

/// HTTP clients made alike, one for each thread that calls providers.
///
/// A pooled connection's reading and writing run as a task of the runtime that opened
/// it, on that runtime's thread. With one pool for every thread (each actix worker
/// runs a runtime of its own), a call that found a connection another worker had
/// opened crossed threads twice — the request handed to that task, the answer handed
/// back — each a wake-up of the other thread. With a pool per thread a call stays on
/// its thread. A thread that takes the id of a thread that has ended finds that
/// thread's pool; its connections ended with their runtime, and the pool replaces
/// them.
struct PerThread {
    make: Box<dyn Fn() -> reqwest::Result<reqwest::Client> + Send + Sync>,
    clients: ThreadLocal<reqwest::Client>,
}

impl PerThread {
    /// Makes this thread's client at once, so that settings no client can be made
    /// with are an error here rather than on a later call.
    fn new(
        make: impl Fn() -> reqwest::Result<reqwest::Client> + Send + Sync + 'static,
    ) -> Result<Self, ProviderError> {
        let this = Self {
            make: Box::new(make),
            clients: ThreadLocal::new(),
        };
        this.get()?;
        Ok(this)
    }

    /// The calling thread's client.
    fn get(&self) -> Result<&reqwest::Client, ProviderError> {
        self.clients
            .get_or_try(|| (self.make)())
            .map_err(|e| ProviderError::Unreachable(e.to_string()))
    }
}

impl std::fmt::Debug for PerThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerThread").finish_non_exhaustive()
    }
}

fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("fedgate/", env!("CARGO_PKG_VERSION")))
}

impl ProviderClient {
    /// A client whose every call gives up after `timeout`, refetching a provider's keys
    /// for an unknown `kid` at most once per `jwks_refetch_interval`. It never follows
    /// redirects.
    pub fn new(
        timeout: Duration,
        jwks_refetch_interval: Duration,
        outbound: Outbound,
    ) -> Result<Self, ProviderError> {
        let http = PerThread::new(move || builder(timeout).build())?;
        let inner = outbound
            .resolver
            .clone()
            .unwrap_or_else(|| Arc::new(SystemResolver));
        let resolver = Arc::new(
            GuardedResolver::new(inner, outbound.allow_loopback)
                .tapped(outbound.connect_tap.clone()),
        );
        // No proxy from the environment: through a proxy the proxy would resolve the
        // host, and the address guard would never see it.
        let guarded = PerThread::new(move || {
            builder(timeout)
                .no_proxy()
                .dns_resolver(Arc::clone(&resolver))
                .build()
        })?;
        Ok(Self {
            http,
            guarded,
            allow_loopback: outbound.allow_loopback,
            loopback_only: outbound.connect_tap.is_some(),
            own_origin: outbound.own_origin,
            observer: outbound.observer,
            jwks: JwksCache::new(jwks_refetch_interval),
            discovery: DiscoveryCache::default(),
        })
    }

    /// The client for `endpoints`, after checking `url` when it is subscriber-given.
    fn client_for(
        &self,
        endpoints: &ProviderEndpoints,
        url: &url::Url,
    ) -> Result<&reqwest::Client, ProviderError> {
        if !endpoints.guarded || self.is_own(url) {
            return self.http.get();
        }
        self.check(url)
            .map_err(|r| ProviderError::AddressRefused(r.to_string()))?;
        self.guarded.get()
    }

    /// Starts timing a call of `kind` to `endpoint`.
    fn timer(&self, kind: &'static str, endpoint: Endpoint) -> Timer<'_> {
        Timer::start(self.observer.as_deref(), kind, endpoint)
    }

    /// Whether `url` is Fedgate's own (its development provider).
    fn is_own(&self, url: &url::Url) -> bool {
        self.own_origin.as_ref() == Some(&url.origin())
    }

    /// [`net::check_url`], and with a test's tap, loopback literals only.
    fn check(&self, url: &url::Url) -> Result<(), Refusal> {
        if self.is_own(url) {
            return Ok(());
        }
        net::check_url(url, self.allow_loopback)?;
        if self.loopback_only {
            net::check_url(url, true)?;
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(ip) = literal.filter(|ip| !ip.is_loopback()) {
                return Err(Refusal::Address {
                    host: ip.to_string(),
                    what: "an address outside this machine (tests reach loopback only)",
                });
            }
        }
        Ok(())
    }

    /// Why a subscriber-given URL would not be called, if it would not: not https, or
    /// an address Fedgate does not call (checked again, after resolution, on every call).
    #[must_use]
    pub fn refusal(&self, url: &url::Url) -> Option<String> {
        self.check(url).err().map(|r| r.to_string())
    }

    /// The provider's discovery document, validated: from cache while fresh unless
    /// `force`, fetched otherwise.
    pub async fn discover(
        &self,
        issuer: &str,
        force: bool,
    ) -> Result<Arc<Discovered>, DiscoveryError> {
        if !force && let Some(hit) = self.discovery.fresh(issuer).await {
            return hit;
        }
        let turn = self.discovery.single_flight(issuer);
        let _turn = turn.lock().await;
        if !force && let Some(hit) = self.discovery.fresh(issuer).await {
            return hit;
        }
        let (result, max_age) = match self.fetch_discovery(issuer).await {
            Ok((d, age)) => (Ok(Arc::new(d)), age),
            Err(e) => (Err(e), Duration::ZERO),
        };
        if let Err(e) = &result {
            tracing::info!(%issuer, code = e.code(), error = %e, "discovery failed");
        }
        self.discovery.store(issuer, result.clone(), max_age).await;
        result
    }

    async fn fetch_discovery(
        &self,
        issuer: &str,
    ) -> Result<(Discovered, Duration), DiscoveryError> {
        let text = discovery::document_url(issuer);
        let url = url::Url::parse(&text).map_err(|e| DiscoveryError::Unreachable {
            url: text.clone(),
            detail: format!("not a URL: {e}"),
        })?;
        self.check(&url).map_err(|r| match r {
            Refusal::NotHttps(_) => DiscoveryError::NotHttps {
                field: "issuer".into(),
                url: issuer.to_owned(),
            },
            Refusal::Address { .. } => DiscoveryError::AddressRefused(r.to_string()),
        })?;
        let own = self.is_own(&url);
        let client = (if own { &self.http } else { &self.guarded })
            .get()
            .map_err(|e| DiscoveryError::Unreachable {
                url: text.clone(),
                detail: e.to_string(),
            })?;
        let timer = self.timer(
            if own { "development" } else { "openid_connect" },
            Endpoint::Discovery,
        );
        let res = match client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
        {
            Ok(res) => res,
            Err(e) => {
                timer.end(CallResult::of(&e));
                return Err(match net::refusal_in(&e) {
                    Some(r) => DiscoveryError::AddressRefused(r.to_string()),
                    None => DiscoveryError::Unreachable {
                        url: text.clone(),
                        detail: describe(&e),
                    },
                });
            }
        };
        if res.status() != reqwest::StatusCode::OK {
            timer.end(CallResult::HttpStatus);
            return Err(DiscoveryError::HttpStatus(res.status().as_u16()));
        }
        let age = crate::jwks::max_age(res.headers());
        let body = discovery::read_document(res).await;
        timer.end(if body.is_ok() {
            CallResult::Ok
        } else {
            CallResult::BadResponse
        });
        let body = body?;
        Ok((
            discovery::validate_with(
                issuer,
                &body,
                self.allow_loopback,
                self.own_origin.as_ref().filter(|_| own),
            )?,
            age,
        ))
    }

    /// Redeems an authorization code with the application's client credentials and
    /// the login's PKCE verifier.
    pub async fn redeem_code(
        &self,
        endpoints: &ProviderEndpoints,
        redemption: &CodeRedemption<'_>,
    ) -> Result<TokenSet, ProviderError> {
        let client = self.client_for(endpoints, &endpoints.token)?;
        let (form, authorization) = token::request_parts(redemption);
        let mut req = client
            .post(endpoints.token.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form);
        if let Some(value) = authorization {
            req = req.header(reqwest::header::AUTHORIZATION, value);
        }
        let timer = self.timer(endpoints.kind, Endpoint::Token);
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => {
                timer.end(CallResult::of(&e));
                return Err(request_error(&e));
            }
        };
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let result = match net::read_capped(res, MAX_TOKEN_RESPONSE_BYTES).await {
            Ok(body) => token::interpret(status, &content_type, &body),
            Err(e) => Err(ProviderError::BadResponse(e)),
        };
        timer.end(match &result {
            Ok(_) => CallResult::Ok,
            Err(ProviderError::Refused { .. }) => CallResult::Refused,
            Err(ProviderError::HttpStatus { .. }) => CallResult::HttpStatus,
            Err(_) => CallResult::BadResponse,
        });
        result
    }

    async fn key(
        &self,
        endpoints: &ProviderEndpoints,
        kid: Option<&str>,
        alg: jsonwebtoken::Algorithm,
    ) -> Result<Jwk, IdTokenError> {
        let Some(jwks) = &endpoints.jwks else {
            return Err(IdTokenError::KeysUnavailable(
                "the provider publishes no keys".into(),
            ));
        };
        let client = self
            .client_for(endpoints, jwks)
            .map_err(|e| IdTokenError::KeysUnavailable(e.to_string()))?;
        let observe = |seconds: f64, result: CallResult| {
            if let Some(o) = &self.observer {
                o.observe(crate::observe::Call {
                    kind: endpoints.kind,
                    endpoint: Endpoint::Jwks,
                    result,
                    seconds,
                });
            }
        };
        self.jwks
            .key(client, jwks, kid, alg, &observe)
            .await
            .map_err(|e| match e {
                JwksError::UnknownKid | JwksError::Ambiguous => IdTokenError::UnknownKey,
                JwksError::Fetch(m) => IdTokenError::KeysUnavailable(m),
            })
    }

    /// Validates an ID token completely: algorithm allow-list, key by `kid` from the
    /// provider's JWKS (without `kid`: the one key usable for the algorithm, refused
    /// when several are), signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, `sub`.
    pub async fn validate_id_token(
        &self,
        endpoints: &ProviderEndpoints,
        token: &str,
        client_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let (alg, kid) = id_token::header(token, &endpoints.algorithms)?;
        let key = self.key(endpoints, kid.as_deref(), alg).await?;
        id_token::validate(token, alg, &key, endpoints, client_id, nonce, now)
    }

    /// Reads userinfo with the access token (in the `Authorization` header only) and
    /// checks it describes `subject`.
    pub async fn userinfo(
        &self,
        endpoints: &ProviderEndpoints,
        access_token: &str,
        subject: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
        let Some(url) = &endpoints.userinfo else {
            return Ok(serde_json::Map::new());
        };
        let body = match self
            .read_json(endpoints, url, access_token, "userinfo")
            .await?
        {
            serde_json::Value::Object(map) => map,
            _ => {
                return Err(ProviderError::BadResponse(
                    "userinfo is not a JSON object".into(),
                ));
            }
        };
        if body.get("sub").and_then(|s| s.as_str()) != Some(subject) {
            return Err(ProviderError::UserinfoSubject);
        }
        Ok(body)
    }

    /// POSTs a webhook delivery (a JSON `body` with `headers`) to a subscriber-given
    /// URL through the address guard — no redirects, the provider timeout — and
    /// returns the status the endpoint answered with, or why there was no answer.
    pub async fn post_webhook(
        &self,
        url: &url::Url,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<u16, String> {
        self.check(url).map_err(|r| r.to_string())?;
        let mut req = self
            .guarded
            .get()
            .map_err(|e| e.to_string())?
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let res = req.send().await.map_err(|e| describe(&e))?;
        let status = res.status().as_u16();
        // Read (a bounded part of) the answer so the connection can be reused.
        let _body = net::read_capped(res, 64 * 1024).await;
        Ok(status)
    }

    /// Reads a JSON resource of the provider (a plain OAuth2 provider's profile or
    /// emails endpoint, `what` naming it in errors) with the access token, which goes
    /// in the `Authorization` header only — never in the URL.
    pub async fn read_json(
        &self,
        endpoints: &ProviderEndpoints,
        url: &url::Url,
        access_token: &str,
        what: &str,
    ) -> Result<serde_json::Value, ProviderError> {
        let client = self.client_for(endpoints, url)?;
        let timer = self.timer(endpoints.kind, Endpoint::Userinfo);
        let res = match client
            .get(url.clone())
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
        {
            Ok(res) => res,
            Err(e) => {
                timer.end(CallResult::of(&e));
                return Err(request_error(&e));
            }
        };
        if !res.status().is_success() {
            timer.end(CallResult::HttpStatus);
            return Err(ProviderError::HttpStatus {
                what: what.to_owned(),
                status: res.status().as_u16(),
            });
        }
        let body = net::read_capped(res, MAX_USERINFO_BYTES)
            .await
            .map_err(ProviderError::BadResponse)
            .and_then(|body| {
                serde_json::from_slice(&body).map_err(|e| {
                    ProviderError::BadResponse(format!("the {what} response is not JSON: {e}"))
                })
            });
        timer.end(if body.is_ok() {
            CallResult::Ok
        } else {
            CallResult::BadResponse
        });
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn client(outbound: Outbound) -> ProviderClient {
        ProviderClient::new(Duration::from_secs(1), Duration::from_secs(1), outbound).unwrap()
    }

    /// A loopback HTTP/1.1 server that answers 200 to every request and keeps each
    /// connection open; it counts the connections it accepted.
    fn counting_server() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || answer_each_request(stream));
            }
        });
        (addr, accepted)
    }

    fn answer_each_request(stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            writer
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Each thread calls through connections of its own (a connection runs on the
    /// thread whose runtime opened it), and a thread whose runtime ended and that runs
    /// a new one gets working connections again.
    #[test]
    fn each_thread_calls_through_connections_of_its_own() {
        let (addr, accepted) = counting_server();
        let url = url::Url::parse(&format!("http://{addr}/hook")).unwrap();
        let client = client(Outbound {
            allow_loopback: true,
            ..Outbound::default()
        });
        let post = |rt: &tokio::runtime::Runtime| rt.block_on(client.post_webhook(&url, &[], "{}"));

        let here = runtime();
        assert_eq!(post(&here), Ok(200));
        assert_eq!(post(&here), Ok(200));
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "the connection is kept");

        std::thread::scope(|s| {
            let there = s.spawn(|| post(&runtime())).join().unwrap();
            assert_eq!(there, Ok(200));
        });
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "another thread opens its own while this thread's is idle and open"
        );

        drop(here);
        assert_eq!(
            post(&runtime()),
            Ok(200),
            "after this thread's runtime ended"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn with_a_tap_only_loopback_literals_pass() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let tapped = client(Outbound {
            allow_loopback: true,
            connect_tap: Some(ConnectTap::default()),
            ..Outbound::default()
        });
        assert!(tapped.check(&url("http://127.0.0.1:9000/x")).is_ok());
        assert!(tapped.check(&url("http://localhost:9000/x")).is_ok());
        let public = tapped.check(&url("https://93.184.216.34/x")).unwrap_err();
        assert!(
            public.to_string().contains("outside this machine"),
            "{public}"
        );
        // Without a tap, a public address is what providers are.
        let open = client(Outbound::default());
        assert!(open.check(&url("https://93.184.216.34/x")).is_ok());
        assert!(open.check(&url("https://10.0.0.1/x")).is_err());
    }
}
