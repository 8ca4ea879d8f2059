//! The hosted login, for every provider: [`LoginFlow::start`] checks the request and
//! sends the browser to the provider; [`LoginFlow::complete`] takes the login record
//! once, redeems the code, validates, resolves the person into a user in one
//! transaction, and tells the handler where to send the browser.

use std::sync::Arc;
use std::time::Duration;

use fedgate_domain::clock::Clock;
use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::federation::{LinkState, ProviderProfile, UpstreamTokens};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_domain::linking::AssertedLocator;
use fedgate_domain::login::{self, LoginRecord, LoginResult, RESULT_CODE_TTL_SECONDS};
use fedgate_domain::ports::{
    Charge, Charged, ClaimedIdentity, IdentityKey, IdentityUpdate, LoginAttempt, PlannedToken,
    StateStore, Store, StoreError,
};
use fedgate_domain::property::ResultDelivery;
use fedgate_domain::request_auth::{self, ReceivedRequest, SignatureHeaders};
use fedgate_domain::seal::Sealer;
use fedgate_domain::user::{Locator, LocatorKind, User, UserLocator};
use fedgate_provider::{
    AuthorizationRequest, CodeRedemption, IdTokenClaims, OfflineAccess, ProviderError, TokenSet,
};
use fedgate_tokens::TokenKeys;

use crate::diagnostics::{
    Diagnostics, Finding, InactiveDiagnosis, RedirectUriDiagnosis, RefusedStart, SignatureDiagnosis,
};
use crate::outcome::{CallbackRefusal, ErrorPage, LoginFailure, StartRefusal};
use crate::provider::{Identity, ProfileSource, ProviderConfig, ProviderRef};
use crate::registry::{ActiveProvider, Lookup, Registry};
use crate::resolution::{self, Plan};
use crate::services::InactiveReason;

/// Query parameters that carry a login request's signature (state signing).
const SIGNATURE_PARAMS: [&str; 4] = ["accessKeyId", "timestamp", "nonce", "signature"];
/// Longest `state` Fedgate sends to providers (and accepts back): a login record
/// sealed into it, up to this length; a larger record (a long app `state` or
/// `login_hint`) is kept in the state store under a random `state` instead.
const MAX_PROVIDER_STATE: usize = 1024;
/// Longest login-start query accepted.
const MAX_START_QUERY: usize = 8 * 1024;
/// Longest app `state` kept in a login record.
const MAX_APP_STATE: usize = 2 * 1024;
/// Longest `login_hint` passed on (an email address is at most 320 bytes).
const MAX_LOGIN_HINT: usize = 320;

/// The clock's time in Unix seconds (never before the epoch).
fn unix_seconds(clock: &dyn Clock) -> u64 {
    u64::try_from(clock.now().timestamp()).unwrap_or_default()
}

/// A random token as Fedgate issues them (43 characters): a browser-binding cookie's
/// value, or the `state` of a login whose record is kept in the state store.
fn is_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a login record keeps of a browser-binding cookie.
fn binding_hash(value: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

/// Where events go that are not written in a login's own transaction.
pub trait EventPublisher: Send + Sync + std::fmt::Debug {
    /// Records an event (written soon, in a batch).
    fn publish(&self, event: Event);
    /// Sees an event that a login's own transaction has stored (counted, not stored
    /// again).
    fn committed(&self, event: &Event);
}

/// What a login start ends in.
#[derive(Debug)]
pub enum Started {
    /// Send the browser to the provider, holding the browser-binding cookie `browser`
    /// (scoped to the application's hosted path) that its callback must carry.
    Redirect {
        /// The provider's authorization URL.
        url: String,
        /// The cookie value: the one the browser sent if well-formed, else a new one,
        /// so logins in several tabs of one browser all stay valid.
        browser: String,
    },
    /// Show an error page.
    Refused(StartRefusal),
    /// Refused before any work: the request passed the limit of the charge at this
    /// index of [`StartRequest::charges`].
    Limited(usize),
}

/// The rate-limit charges of a login start or callback, counted once: before the
/// request's first read or write that the registry's memory cannot answer — or
/// together with the login record stored (a start whose record is too large to travel
/// sealed) or spent (a callback), in one round trip to the state store — or, when it
/// needs the store for nothing, at its end. A start's are counted with
/// [`StateStore::charge_soon`].
struct Meter<'a> {
    charges: &'a [Charge],
    counted: bool,
    /// Counted by [`StateStore::charge_soon`]: a login start's.
    soon: bool,
}

impl<'a> Meter<'a> {
    const fn new(charges: &'a [Charge]) -> Self {
        Self {
            charges,
            counted: false,
            soon: false,
        }
    }

    /// A meter whose charges a shared store may share with other instances soon after
    /// judging them (a login start's; see [`StateStore::charge_soon`]).
    const fn soon(charges: &'a [Charge]) -> Self {
        Self {
            soon: true,
            ..Self::new(charges)
        }
    }

    /// Counts the charges now, unless counted already: the index of the one past its
    /// limit.
    async fn count(&mut self, state: &dyn StateStore) -> Result<Option<usize>, StoreError> {
        if self.counted {
            return Ok(None);
        }
        self.counted = true;
        if self.soon {
            state.charge_soon(self.charges).await
        } else {
            state.charge(self.charges).await
        }
    }

    /// The charges not counted yet (none once counted), now counted by the caller.
    fn rest(&mut self) -> &'a [Charge] {
        if std::mem::replace(&mut self.counted, true) {
            &[]
        } else {
            self.charges
        }
    }
}

/// One round at the provider: its `state`, the login record to keep in the state store
/// when it was too large to travel sealed in that `state`, and where the round sends
/// the browser.
struct Round {
    state: String,
    stored: Option<Vec<u8>>,
    url: String,
}

impl Round {
    /// Where a record kept in the state store is kept.
    fn key(&self) -> String {
        format!("login:{}", self.state)
    }
}

/// What a callback's `state` leads to.
enum Taken {
    /// The login record, spent now.
    Record(Box<LoginRecord>),
    /// Unknown, expired or spent already.
    Refused(CallbackRefusal),
    /// Past the limit of the charge at this index.
    Over(usize),
}

/// What a callback ends in.
#[derive(Debug)]
pub enum Completed {
    /// Send the browser back to the app (with the result or an error).
    Redirect(String),
    /// Show an error page.
    Refused(ErrorPage),
    /// Refused before any work: the request passed the limit of the charge at this
    /// index of [`CallbackRequest::charges`].
    Limited(usize),
}

/// A login start as received.
#[derive(Debug, Clone, Copy)]
pub struct StartRequest<'a> {
    /// The application id from the path.
    pub app: &'a str,
    /// The provider slug from the path.
    pub slug: &'a str,
    /// The request path (signed starts cover it).
    pub path: &'a str,
    /// The raw query.
    pub query: &'a str,
    /// The browser-binding cookie the browser sent, if any.
    pub browser: Option<&'a str>,
    /// The rate limits this start counts against, in order: a request past one is
    /// refused ([`Started::Limited`]) before any work, and not counted against the
    /// later ones.
    pub charges: &'a [Charge],
}

/// A provider's callback as received.
#[derive(Debug, Clone, Copy)]
pub struct CallbackRequest<'a> {
    /// The application id from the path.
    pub app: &'a str,
    /// The provider slug from the path.
    pub slug: &'a str,
    /// The raw query.
    pub query: &'a str,
    /// The browser-binding cookie the browser sent, if any.
    pub browser: Option<&'a str>,
    /// The limits this callback counts against, in order.
    pub charges: &'a [Charge],
}

/// The query parameters of a request, refusing any named twice (an app and a
/// provider must never disagree about which one counts).
fn parameters(query: &str, known: &[&str]) -> Option<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if known.contains(&k.as_ref()) && out.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(out)
}

/// RFC 9207: whether an authorization response's `iss` names the login's issuer — for
/// Entra's templated issuer, that template with a tenant id (the ID token's own `tid`
/// is checked against it later).
fn issuer_matches(expected: &str, iss: &str) -> bool {
    if iss == expected {
        return true;
    }
    let placeholder = fedgate_domain::property::TENANT_PLACEHOLDER;
    expected
        .split_once(placeholder)
        .is_some_and(|(before, after)| {
            iss.strip_prefix(before)
                .and_then(|rest| rest.strip_suffix(after))
                .is_some_and(fedgate_domain::property::is_guid)
        })
}

/// The raw query without the signature parameters: what a signed start covers.
fn unsigned_query(raw: &str) -> String {
    raw.split('&')
        .filter(|piece| {
            let name = piece.split('=').next().unwrap_or("");
            !SIGNATURE_PARAMS.contains(&name)
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The state-store key of a result code: scoped to its application, so another
/// application's key cannot even consume it.
#[must_use]
pub fn result_key(app: ApplicationId, code: &str) -> String {
    format!("result:{app}:{code}")
}

/// The hosted login service.
pub struct LoginFlow {
    registry: Arc<Registry>,
    store: Arc<dyn Store>,
    state: Arc<dyn StateStore>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    tokens: Arc<TokenKeys>,
    events: Arc<dyn EventPublisher>,
    diagnostics: Diagnostics,
    user_token_ttl_seconds: i64,
    login_ttl: Duration,
}

impl std::fmt::Debug for LoginFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginFlow").finish_non_exhaustive()
    }
}

/// The handles a [`LoginFlow`] works with.
#[derive(Debug)]
pub struct FlowParts {
    /// Providers and hosted services.
    pub registry: Arc<Registry>,
    /// Durable storage.
    pub store: Arc<dyn Store>,
    /// Short-lived state (login records, result codes, nonces).
    pub state: Arc<dyn StateStore>,
    /// Seals upstream tokens, opens access-key secrets.
    pub sealer: Sealer,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// User-token keys.
    pub tokens: Arc<TokenKeys>,
    /// Events outside a login's transaction.
    pub events: Arc<dyn EventPublisher>,
    /// Lifetime of `autoLoginToken`s.
    pub user_token_ttl_seconds: i64,
    /// How long a login record waits for its callback.
    pub login_ttl: Duration,
}

/// What a resolved login established.
struct Resolved {
    federated_user_id: FederatedUserId,
    user_id: Option<UserId>,
    candidates: Vec<UserId>,
    /// This response's refresh token, or the one stored for this person before.
    refresh_token: Option<String>,
}

/// What one login's resolving transaction works from.
struct Resolution<'a> {
    record: &'a LoginRecord,
    config: &'a ProviderConfig,
    key: &'a IdentityKey,
    profile: &'a ProviderProfile,
    asserted: Vec<AssertedLocator>,
    tokens: &'a TokenSet,
    plan_token: PlannedToken,
    /// Said in the `login_succeeded` event.
    notes: Vec<String>,
}

fn text(map: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<String> {
    map.get(k).and_then(|v| v.as_str()).map(str::to_owned)
}

fn truthy(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    }
}

/// The profile from a validated ID token and userinfo (claims the token lacks are
/// taken from userinfo, which was checked to describe the same subject).
fn profile_from(
    config: &ProviderConfig,
    claims: &IdTokenClaims,
    userinfo: &serde_json::Map<String, serde_json::Value>,
) -> ProviderProfile {
    let (email, email_verified) = match &claims.email {
        Some(e) => (Some(e.clone()), claims.email_verified),
        None => (
            text(userinfo, "email"),
            truthy(userinfo.get("email_verified")),
        ),
    };
    let hosted_domain = claims.hd.clone();
    ProviderProfile {
        subject: claims.sub.clone(),
        email_vouched: config.email_trust.vouches(
            email.as_deref(),
            email_verified,
            hosted_domain.as_deref(),
        ),
        email,
        email_verified,
        name: claims.name.clone().or_else(|| text(userinfo, "name")),
        given_name: claims
            .given_name
            .clone()
            .or_else(|| text(userinfo, "given_name")),
        family_name: claims
            .family_name
            .clone()
            .or_else(|| text(userinfo, "family_name")),
        picture: claims.picture.clone().or_else(|| text(userinfo, "picture")),
        locale: claims.locale.clone().or_else(|| text(userinfo, "locale")),
        hosted_domain,
        username: text(userinfo, "preferred_username"),
    }
}

impl LoginFlow {
    /// The service over its parts.
    #[must_use]
    pub fn new(parts: FlowParts) -> Self {
        Self {
            registry: parts.registry,
            store: parts.store,
            diagnostics: Diagnostics::new(Arc::clone(&parts.state)),
            state: parts.state,
            sealer: parts.sealer,
            clock: parts.clock,
            tokens: parts.tokens,
            events: parts.events,
            user_token_ttl_seconds: parts.user_token_ttl_seconds,
            login_ttl: parts.login_ttl,
        }
    }

    /// The redirect diagnostics this login keeps.
    #[must_use]
    pub const fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    fn record(&self, app: ApplicationId, kind: EventKind, provider: &str) -> Event {
        let mut e = Event::new(app, kind, self.clock.now());
        e.provider = Some(provider.to_owned());
        e
    }

    fn fail(&self, app: ApplicationId, provider: &str, reason: String, detail: String) {
        let mut e = self.record(app, EventKind::LoginFailed, provider);
        e.reason = Some(reason);
        e.detail = Some(detail);
        self.events.publish(e);
    }

    /// Checks a login start against its rate limits and, when it is valid, stores the
    /// login record and returns the provider URL to send the browser to.
    #[tracing::instrument(skip_all, fields(app_id = %req.app, provider = %req.slug))]
    pub async fn start(&self, req: StartRequest<'_>) -> Result<Started, StoreError> {
        let mut meter = Meter::soon(req.charges);
        let started = self.start_metered(req, &mut meter).await?;
        // A refusal that read and wrote nothing is counted now: no earlier than that.
        if let Some(over) = meter.count(self.state.as_ref()).await? {
            return Ok(Started::Limited(over));
        }
        Ok(started)
    }

    async fn start_metered(
        &self,
        req: StartRequest<'_>,
        meter: &mut Meter<'_>,
    ) -> Result<Started, StoreError> {
        let known = [
            "redirect_uri",
            "state",
            "login_hint",
            "prompt",
            "accessKeyId",
            "timestamp",
            "nonce",
            "signature",
        ];
        if req.query.len() > MAX_START_QUERY {
            return Ok(Started::Refused(StartRefusal::TooLarge("query (8 KiB)")));
        }
        let Some(params) = parameters(req.query, &known) else {
            return Ok(Started::Refused(StartRefusal::Malformed));
        };
        if params.get("state").is_some_and(|s| s.len() > MAX_APP_STATE) {
            return Ok(Started::Refused(StartRefusal::TooLarge("state (2 KiB)")));
        }
        if params
            .get("login_hint")
            .is_some_and(|h| h.len() > MAX_LOGIN_HINT)
        {
            return Ok(Started::Refused(StartRefusal::TooLarge(
                "login_hint (320 bytes)",
            )));
        }
        let Some(app) = ApplicationId::parse(req.app) else {
            return Ok(Started::Refused(StartRefusal::UnknownApplication));
        };
        let lookup = match self.registry.cached(app, req.slug) {
            Some(lookup) => lookup,
            None => {
                if let Some(over) = meter.count(self.state.as_ref()).await? {
                    return Ok(Started::Limited(over));
                }
                self.registry.lookup(app, req.slug).await?
            }
        };
        let inactive = match lookup {
            Lookup::UnknownApplication => {
                return Ok(Started::Refused(StartRefusal::UnknownApplication));
            }
            Lookup::Active(active) => Ok(active),
            Lookup::UnknownProvider => Err(None),
            Lookup::Inactive(provider, reasons) => Err(Some((provider, reasons))),
        };
        let active = match inactive {
            Ok(active) => active,
            Err(inactive) => {
                if let Some(over) = meter.count(self.state.as_ref()).await? {
                    return Ok(Started::Limited(over));
                }
                return Ok(self.refuse_provider(app, req.slug, inactive).await);
            }
        };
        let provider_key = active.config.provider.key.clone();
        let registered = &active.integration.redirect_uris;
        let received = params.get("redirect_uri");
        let redirect_uri = match received {
            Some(uri) if registered.iter().any(|r| r == uri) => uri.clone(),
            None if registered.len() == 1 => registered[0].clone(),
            _ => {
                let refusal = if received.is_some() {
                    StartRefusal::RedirectUriUnregistered
                } else {
                    StartRefusal::RedirectUriMissing
                };
                let finding = Finding::RedirectUri(RedirectUriDiagnosis::new(
                    received.map(String::as_str),
                    registered,
                ));
                if let Some(over) = meter.count(self.state.as_ref()).await? {
                    return Ok(Started::Limited(over));
                }
                return Ok(self
                    .refuse(app, &provider_key, req.slug, refusal, finding)
                    .await);
            }
        };
        if active.integration.require_state_signing {
            if let Some(over) = meter.count(self.state.as_ref()).await? {
                return Ok(Started::Limited(over));
            }
            if let Some((refusal, diagnosis)) = self.check_signature(app, &req, &params).await {
                return Ok(self
                    .refuse(
                        app,
                        &provider_key,
                        req.slug,
                        refusal,
                        Finding::Signature(diagnosis),
                    )
                    .await);
            }
        }
        let browser = req
            .browser
            .filter(|b| is_token(b))
            .map_or_else(fedgate_domain::random::token, str::to_owned);
        let config = &active.config;
        let record = LoginRecord {
            application_id: app,
            provider_config: provider_key.clone(),
            issuer: config.endpoints.canonical_issuer.clone(),
            client_id: config.client_id.clone(),
            redirect_uri,
            app_state: params.get("state").cloned(),
            pkce_verifier: None,
            nonce: String::new(),
            offline: active.integration.require_state_signing,
            result_delivery: active.integration.result_delivery,
            auto_create_users: active.integration.auto_create_users,
            iss_required: config.iss_required,
            login_hint: params.get("login_hint").cloned(),
            prompt: params.get("prompt").cloned(),
            consent_asked: false,
            browser_binding: Some(binding_hash(&browser)),
        };
        let prompt = record.prompt.clone();
        let round = self.round(&active, record, prompt.as_deref())?;
        // A record sealed into the state is kept nowhere: only the charges count.
        let over = match &round.stored {
            None => meter.count(self.state.as_ref()).await?,
            Some(record) => {
                self.state
                    .put_new_charged(&round.key(), record, self.login_ttl, meter.rest())
                    .await?
            }
        };
        if let Some(over) = over {
            return Ok(Started::Limited(over));
        }
        self.events
            .publish(self.record(app, EventKind::LoginStarted, &provider_key));
        Ok(Started::Redirect {
            url: round.url,
            browser,
        })
    }

    /// Refuses a start whose provider is unknown (`None`) or inactive: a diagnostic,
    /// and for an inactive provider an event.
    async fn refuse_provider(
        &self,
        app: ApplicationId,
        slug: &str,
        inactive: Option<(ProviderRef, Vec<InactiveReason>)>,
    ) -> Started {
        let Some((provider, reasons)) = inactive else {
            let refusal = StartRefusal::UnknownProvider;
            self.diagnose(app, slug, &refusal, Finding::Nothing).await;
            return Started::Refused(refusal);
        };
        let codes = reasons.iter().map(|r| r.code).collect::<Vec<_>>().join(",");
        let finding = Finding::Inactive(
            reasons
                .iter()
                .map(|r| InactiveDiagnosis {
                    code: r.code.to_owned(),
                    message: r.message.clone(),
                })
                .collect(),
        );
        let refusal = StartRefusal::Inactive {
            provider: provider.display_name,
            codes,
        };
        self.refuse(app, &provider.key, slug, refusal, finding)
            .await
    }

    /// A round at the provider — a login record with its own nonce and PKCE verifier,
    /// sealed into the round's `state` (or, when too large for that, kept in the state
    /// store under a random one) — and where to send the browser.
    fn round(
        &self,
        active: &ActiveProvider,
        mut record: LoginRecord,
        prompt: Option<&str>,
    ) -> Result<Round, StoreError> {
        let config = &active.config;
        let (verifier, challenge) = fedgate_provider::pkce_pair();
        record.pkce_verifier = config.pkce.then_some(verifier);
        record.nonce = fedgate_domain::random::token();
        let now = unix_seconds(self.clock.as_ref());
        let sealed = record.seal_into_state(&self.sealer, now, now + self.login_ttl.as_secs());
        let (state, stored) = if sealed.len() <= MAX_PROVIDER_STATE {
            (sealed, None)
        } else {
            let bytes = serde_json::to_vec(&record)
                .map_err(|e| StoreError::Backend(format!("login record: {e}")))?;
            (fedgate_domain::random::token(), Some(bytes))
        };
        let url = active.authorization.url(&AuthorizationRequest {
            state: &state,
            nonce: (config.identity == Identity::IdToken).then_some(record.nonce.as_str()),
            pkce_challenge: config.pkce.then_some(challenge.as_str()),
            login_hint: record.login_hint.as_deref(),
            prompt,
            scope: &config.scope,
            offline: if record.offline {
                config.offline
            } else {
                OfflineAccess::No
            },
        });
        Ok(Round { state, stored, url })
    }

    /// With offline access wanted and no refresh token in hand — none in this
    /// response, none stored for this person — the person is sent back once to consent
    /// (providers issue a new refresh token only then). Never when the app asked for
    /// no screen (`prompt=none`).
    async fn consent_round(
        &self,
        record: &LoginRecord,
        active: &ActiveProvider,
        key: &IdentityKey,
        tokens: &TokenSet,
    ) -> Result<Option<String>, StoreError> {
        let config = &active.config;
        if !record.offline
            || config.offline == OfflineAccess::No
            || record.consent_asked
            || tokens.refresh_token.is_some()
            || record.prompt.as_deref() == Some("none")
        {
            return Ok(None);
        }
        let stored = self.store.stored_tokens(key).await?;
        let has_refresh = stored
            .and_then(|(id, sealed)| {
                UpstreamTokens::open(&self.sealer, record.application_id, id, &sealed?).ok()
            })
            .is_some_and(|t| t.refresh_token.is_some());
        if has_refresh {
            return Ok(None);
        }
        let mut again = record.clone();
        again.consent_asked = true;
        let round = self.round(active, again, Some("consent"))?;
        if let Some(record) = &round.stored {
            // Not new work: the login under way finishes even with the store nearly full.
            self.state.put(&round.key(), record, self.login_ttl).await?;
        }
        Ok(Some(round.url))
    }

    /// Refuses a start of `app` at the provider `provider` (reached as `slug`): an
    /// event and a diagnostic.
    async fn refuse(
        &self,
        app: ApplicationId,
        provider: &str,
        slug: &str,
        refusal: StartRefusal,
        finding: Finding,
    ) -> Started {
        if let Some((reason, detail)) = refusal.event() {
            self.fail(app, provider, reason, detail);
        }
        self.diagnose(app, slug, &refusal, finding).await;
        Started::Refused(refusal)
    }

    /// Keeps a refused start among the application's redirect diagnostics.
    async fn diagnose(
        &self,
        app: ApplicationId,
        slug: &str,
        refusal: &StartRefusal,
        finding: Finding,
    ) {
        let refused = RefusedStart::new(
            self.clock.now(),
            slug,
            refusal.reason(),
            refusal.page().detail,
            finding,
        );
        self.diagnostics.record_refused_start(app, refused).await;
    }

    async fn check_signature(
        &self,
        app: ApplicationId,
        req: &StartRequest<'_>,
        params: &std::collections::HashMap<String, String>,
    ) -> Option<(StartRefusal, SignatureDiagnosis)> {
        let get = |k: &str| params.get(k).map(String::as_str);
        let headers = SignatureHeaders {
            key_id: get("accessKeyId"),
            timestamp: get("timestamp"),
            nonce: get("nonce"),
            signature: get("signature"),
        };
        let query = unsigned_query(req.query);
        let received = ReceivedRequest {
            method: "GET",
            path: req.path,
            query: &query,
            body: b"",
        };
        match request_auth::authenticate(
            self.store.as_ref(),
            self.state.as_ref(),
            &self.sealer,
            self.clock.as_ref(),
            headers,
            received,
        )
        .await
        {
            Ok(key) if key.application_id == app => None,
            Ok(key) => Some((
                StartRefusal::SignatureForeignKey,
                SignatureDiagnosis::new(
                    "signature_foreign_key",
                    Some("X-Fedgate-Key-Id"),
                    headers.key_id,
                    format!(
                        "the signature is correct, but access key {} belongs to another application",
                        key.id
                    ),
                ),
            )),
            Err(e) => Some((
                StartRefusal::SignatureInvalid(e.code()),
                SignatureDiagnosis::new(e.code(), e.header(), headers.key_id, e.to_string()),
            )),
        }
    }

    /// Handles the provider's callback: the browser goes back to the app with the
    /// result or an error, or — when the callback cannot be trusted — to an error page.
    #[tracing::instrument(skip_all, fields(app_id = %req.app, provider = %req.slug))]
    pub async fn complete(&self, req: CallbackRequest<'_>) -> Result<Completed, StoreError> {
        let mut meter = Meter::new(req.charges);
        let completed = self.complete_metered(req, &mut meter).await?;
        // A refusal that read and wrote nothing is counted now: no earlier than that.
        if let Some(over) = meter.count(self.state.as_ref()).await? {
            return Ok(Completed::Limited(over));
        }
        Ok(completed)
    }

    async fn complete_metered(
        &self,
        req: CallbackRequest<'_>,
        meter: &mut Meter<'_>,
    ) -> Result<Completed, StoreError> {
        let known = ["state", "code", "error", "error_description", "iss"];
        let params = parameters(req.query, &known).unwrap_or_default();
        let path_app = ApplicationId::parse(req.app);
        let Some(provider_state) = params
            .get("state")
            .filter(|s| !s.is_empty() && s.len() <= MAX_PROVIDER_STATE)
        else {
            return Ok(Completed::Refused(CallbackRefusal::NoState.page()));
        };
        let taken = if is_token(provider_state) {
            self.take_stored(provider_state, meter).await?
        } else {
            self.take_sealed(provider_state, meter).await?
        };
        let record = match taken {
            Taken::Record(record) => *record,
            Taken::Over(over) => return Ok(Completed::Limited(over)),
            Taken::Refused(refusal) => return self.refuse_callback(path_app, refusal).await,
        };
        let app = record.application_id;
        // From here the record says where the browser goes back to: storage failing
        // now is an error redirect to the app, not a page. (Nothing is redeemed.)
        // Mix-up defence: the record must belong to this application and to the
        // provider whose callback this is.
        let looked_up = match path_app {
            Some(a) if a == app => self.registry.lookup(app, req.slug).await.map(Some),
            _ => Ok(None),
        };
        let lookup = match looked_up {
            Ok(lookup) => lookup,
            Err(e) => {
                return Ok(self
                    .back_with_error(
                        &record,
                        &record.provider_config,
                        "the provider",
                        (&e).into(),
                    )
                    .await);
            }
        };
        let provider_of_path = match &lookup {
            Some(Lookup::Active(a)) => Some(a.config.provider.clone()),
            Some(Lookup::Inactive(p, _)) => Some(p.clone()),
            _ => None,
        };
        let Some(provider) = provider_of_path.filter(|p| p.key == record.provider_config) else {
            let refusal = CallbackRefusal::Mismatch;
            if let Some((reason, detail)) = refusal.event() {
                self.fail(app, &record.provider_config, reason.into(), detail.into());
            }
            return Ok(Completed::Refused(refusal.page()));
        };
        // Login CSRF: the response must reach the browser that started the login, or
        // someone could hand a victim the callback of their own finished sign-in. The
        // record is spent and the code is never redeemed. (Hashes of 256-bit random
        // values: comparing them needs no constant time.)
        if let Some(expected) = &record.browser_binding
            && req.browser.map(binding_hash).as_ref() != Some(expected)
        {
            let refusal = CallbackRefusal::OtherBrowser;
            if let Some((reason, detail)) = refusal.event() {
                self.fail(app, &provider.key, reason.into(), detail.into());
            }
            return Ok(Completed::Refused(refusal.page()));
        }

        let active = match lookup {
            Some(Lookup::Active(a)) => Some(a),
            _ => None,
        };
        let outcome = self
            .finish(&record, &params, &provider.display_name, active)
            .await;
        Ok(match outcome {
            Ok(location) => Completed::Redirect(location),
            Err(failure) => {
                self.back_with_error(&record, &provider.key, &provider.display_name, failure)
                    .await
            }
        })
    }

    /// The record kept in the state store under `state`, taken once; its marker tells
    /// a replay from a stranger.
    async fn take_stored(&self, state: &str, meter: &mut Meter<'_>) -> Result<Taken, StoreError> {
        let marker = format!("login-used:{state}");
        let taken = self
            .state
            .take_marking_charged(
                &format!("login:{state}"),
                &marker,
                b"1",
                self.login_ttl,
                meter.rest(),
            )
            .await?;
        Ok(match taken {
            Charged::Over(over) => Taken::Over(over),
            Charged::Done(Some(bytes)) => Taken::Record(Box::new(
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Backend(format!("login record: {e}")))?,
            )),
            Charged::Done(None) if self.state.get(&marker).await?.is_some() => {
                Taken::Refused(CallbackRefusal::Replayed)
            }
            Charged::Done(None) => Taken::Refused(CallbackRefusal::Unknown),
        })
    }

    /// The record sealed into `state`, spent once: the first callback with it leaves
    /// the round's marker (named by its nonce, random and never reused) for as long as
    /// the record could still be presented; any later one finds the marker.
    async fn take_sealed(&self, state: &str, meter: &mut Meter<'_>) -> Result<Taken, StoreError> {
        let now = unix_seconds(self.clock.as_ref());
        let Some((record, expires_at)) = LoginRecord::open_state(&self.sealer, state, now) else {
            return Ok(Taken::Refused(CallbackRefusal::Unknown));
        };
        let spent = self
            .state
            .put_if_absent_charged(
                &format!("login-spent:{}", record.nonce),
                b"1",
                Duration::from_secs(expires_at - now),
                meter.rest(),
            )
            .await?;
        Ok(match spent {
            Charged::Over(over) => Taken::Over(over),
            Charged::Done(true) => Taken::Record(Box::new(record)),
            Charged::Done(false) => Taken::Refused(CallbackRefusal::Replayed),
        })
    }

    /// A callback refused before its record was in hand: an event when the path names
    /// a known application, and the error page.
    async fn refuse_callback(
        &self,
        path_app: Option<ApplicationId>,
        refusal: CallbackRefusal,
    ) -> Result<Completed, StoreError> {
        if let Some(app) = path_app
            && self.store.find_application(app).await?.is_some()
            && let Some((reason, detail)) = refusal.event()
        {
            let mut e = Event::new(app, EventKind::LoginFailed, self.clock.now());
            e.reason = Some(reason.to_owned());
            e.detail = Some(detail.to_owned());
            self.events.publish(e);
        }
        Ok(Completed::Refused(refusal.page()))
    }

    /// A failed login: its event, the provider's upstream error when it was the
    /// provider's, and the browser back at the app with `error`.
    async fn back_with_error(
        &self,
        record: &LoginRecord,
        provider_key: &str,
        provider_name: &str,
        failure: LoginFailure,
    ) -> Completed {
        let app = record.application_id;
        self.fail(app, provider_key, failure.reason(), failure.detail());
        if let Some(upstream) = failure.upstream(self.clock.now()) {
            self.diagnostics
                .record_upstream_error(app, provider_key, &upstream)
                .await;
        }
        let pairs = [
            ("error", failure.oauth_error().to_owned()),
            ("error_description", failure.description(provider_name)),
        ];
        Completed::Redirect(login::redirect_to_app(
            &record.redirect_uri,
            &pairs,
            record.app_state.as_deref(),
        ))
    }

    /// Everything after the record was taken: where the browser goes on success.
    async fn finish(
        &self,
        record: &LoginRecord,
        params: &std::collections::HashMap<String, String>,
        provider_name: &str,
        active: Option<Arc<ActiveProvider>>,
    ) -> Result<String, LoginFailure> {
        // RFC 9207, before anything else: a response naming another issuer is a mix-up,
        // even when it carries an error.
        match params.get("iss") {
            Some(iss) if !issuer_matches(&record.issuer, iss) => {
                return Err(LoginFailure::IssuerMismatch);
            }
            None if record.iss_required => return Err(LoginFailure::IssuerMissing),
            _ => {}
        }
        if let Some(error) = params.get("error") {
            return Err(LoginFailure::ProviderError {
                error: fedgate_provider::clean(error, 64),
                description: params
                    .get("error_description")
                    .map(|d| fedgate_provider::clean(d, 300)),
            });
        }
        let code = params
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or(LoginFailure::CodeMissing)?;
        let Some(active) = active else {
            return Err(LoginFailure::ConfigurationChanged(format!(
                "the {provider_name} Authentication Service is no longer ACTIVE"
            )));
        };
        let config = &active.config;
        if config.client_id != record.client_id {
            return Err(LoginFailure::ConfigurationChanged(format!(
                "the {} client id changed during sign-in",
                config.provider.display_name
            )));
        }
        if config.endpoints.canonical_issuer != record.issuer {
            return Err(LoginFailure::ConfigurationChanged(format!(
                "the {} issuer changed during sign-in",
                config.provider.display_name
            )));
        }
        let app = record.application_id;
        let client = self.registry.client();
        let tokens = client
            .redeem_code(
                &config.endpoints,
                &CodeRedemption {
                    client_id: &config.client_id,
                    client_secret: config.client_secret.expose(),
                    auth: config.client_auth,
                    redirect_uri: &active.callback,
                    code,
                    pkce_verifier: record.pkce_verifier.as_deref(),
                },
            )
            .await?;
        // The identity's issuer: the provider's, or — Entra multi-tenant — the token's
        // own tenant's.
        let (profile, issuer) = match &config.identity {
            Identity::IdToken => self.id_token_profile(config, record, &tokens).await?,
            Identity::Profile(source) => (
                self.mapped_profile(config, source, &tokens).await?,
                record.issuer.clone(),
            ),
        };
        let key = IdentityKey {
            application_id: app,
            provider_config: record.provider_config.clone(),
            issuer,
            subject: profile.subject.clone(),
        };
        if let Some(url) = self
            .consent_round(record, &active, &key, &tokens)
            .await
            .map_err(|e| LoginFailure::from(&e))?
        {
            return Ok(url);
        }
        let mut notes = Vec::new();
        if let Some(granted) = &tokens.scope {
            let missing =
                fedgate_provider::missing_scopes(&config.scope, granted, config.scope_aliases);
            if !missing.is_empty() {
                notes.push(format!("scopes not granted: {}", missing.join(" ")));
            }
        }

        let plan_token = self.tokens.plan(self.user_token_ttl_seconds);
        // The key exists before the token is recorded in the resolving transaction.
        let signer = self.tokens.signer(app).await.map_err(|e| internal(&e))?;
        let resolved = self
            .resolve(record, config, &key, &profile, &tokens, plan_token, notes)
            .await
            .map_err(|e| LoginFailure::from(&e))?;
        let auto_login_token = match &resolved.user_id {
            Some(user) => Some(
                fedgate_tokens::mint(&signer, user, &plan_token)
                    .map_err(|e| internal(&e))?
                    .token,
            ),
            None => None,
        };
        let mut external = tokens.access_token.clone();
        if record.offline
            && let Some(refresh) = &resolved.refresh_token
        {
            external.push(',');
            external.push_str(refresh);
        }
        let result = LoginResult {
            federating_service: config.provider.kind.federating_service().to_owned(),
            federation_provider: config.provider.slug.clone(),
            link_candidates: resolved.candidates,
            auto_login_token,
            federated_user_id: resolved.federated_user_id,
            linked_user: resolved.user_id,
            external_service_tokens: external,
        };
        self.deliver(record, &result).await
    }

    /// Who signed in, from a validated ID token (and userinfo for what it lacks), and
    /// the token's issuer.
    async fn id_token_profile(
        &self,
        config: &ProviderConfig,
        record: &LoginRecord,
        tokens: &TokenSet,
    ) -> Result<(ProviderProfile, String), LoginFailure> {
        let client = self.registry.client();
        let id_token = tokens.id_token.as_deref().ok_or(ProviderError::NoIdToken)?;
        let claims = client
            .validate_id_token(
                &config.endpoints,
                id_token,
                &config.client_id,
                &record.nonce,
                self.clock.now().timestamp(),
            )
            .await
            .map_err(ProviderError::from)?;
        let userinfo = client
            .userinfo(&config.endpoints, &tokens.access_token, &claims.sub)
            .await?;
        Ok((profile_from(config, &claims, &userinfo), claims.iss))
    }

    /// Who signed in at a plain OAuth2 provider: its profile (and emails list) read
    /// with the access token, through the claim mapping.
    async fn mapped_profile(
        &self,
        config: &ProviderConfig,
        source: &ProfileSource,
        tokens: &TokenSet,
    ) -> Result<ProviderProfile, LoginFailure> {
        let client = self.registry.client();
        let endpoints = &config.endpoints;
        let Some(profile_url) = &endpoints.userinfo else {
            return Err(LoginFailure::Internal);
        };
        let body = client
            .read_json(endpoints, profile_url, &tokens.access_token, "profile")
            .await?;
        let mut mapped = source.mapping.apply(&body).map_err(LoginFailure::Mapping)?;
        if let Some(emails_url) = &source.emails {
            // A provider that will not list addresses (a scope not granted) leaves the
            // profile's own email: the sign-in itself does not depend on the list.
            match client
                .read_json(endpoints, emails_url, &tokens.access_token, "emails")
                .await
            {
                Ok(list) => mapped.with_email_list(&list),
                Err(e) => tracing::info!(error = %e, "the emails endpoint gave no list"),
            }
        }
        Ok(ProviderProfile {
            email_vouched: config.email_trust.vouches(
                mapped.email.as_deref(),
                mapped.email_verified,
                None,
            ),
            subject: mapped.subject,
            email: mapped.email,
            email_verified: mapped.email_verified,
            name: mapped.name,
            given_name: mapped.given_name,
            family_name: mapped.family_name,
            picture: mapped.picture,
            locale: None,
            hosted_domain: None,
            username: mapped.username,
        })
    }

    async fn deliver(
        &self,
        record: &LoginRecord,
        result: &LoginResult,
    ) -> Result<String, LoginFailure> {
        Ok(match record.result_delivery {
            ResultDelivery::Query => login::redirect_to_app(
                &record.redirect_uri,
                &result.query_pairs(),
                record.app_state.as_deref(),
            ),
            ResultDelivery::Code => {
                let code = fedgate_domain::random::token();
                let stored = serde_json::to_vec(result).map_err(|e| internal(&e))?;
                self.state
                    .put(
                        &result_key(record.application_id, &code),
                        &stored,
                        Duration::from_secs(RESULT_CODE_TTL_SECONDS),
                    )
                    .await
                    .map_err(|e| LoginFailure::from(&e))?;
                login::redirect_to_app(
                    &record.redirect_uri,
                    &[("resultCode", code)],
                    record.app_state.as_deref(),
                )
            }
        })
    }

    /// Resolves the person in one transaction, retrying when a concurrent first login
    /// of the same person won a uniqueness race.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one login's result, all distinct"
    )]
    async fn resolve(
        &self,
        record: &LoginRecord,
        config: &ProviderConfig,
        key: &IdentityKey,
        profile: &ProviderProfile,
        tokens: &TokenSet,
        plan_token: PlannedToken,
        notes: Vec<String>,
    ) -> Result<Resolved, StoreError> {
        let asserted: Vec<AssertedLocator> = profile
            .email
            .as_deref()
            .and_then(|e| Locator::parse(LocatorKind::Email, "email", e).ok())
            .map(|locator| AssertedLocator {
                locator,
                vouched: profile.email_vouched,
            })
            .into_iter()
            .collect();
        let r = Resolution {
            record,
            config,
            key,
            profile,
            asserted,
            tokens,
            plan_token,
            notes,
        };
        // The first attempt reads without locking; the retries lock what they claim
        // (one for a race the first lost, two more for a locator another login took).
        let mut attempt = LoginAttempt::First;
        let mut retries = 0;
        loop {
            match self.resolve_once(&r, attempt).await {
                Err(StoreError::Conflict(_)) if retries < 3 => {
                    attempt = LoginAttempt::Retry;
                    retries += 1;
                }
                other => return other,
            }
        }
    }

    async fn resolve_once(
        &self,
        r: &Resolution<'_>,
        attempt: LoginAttempt,
    ) -> Result<Resolved, StoreError> {
        let now = self.clock.now();
        let app = r.record.application_id;
        let mut txn = self.store.begin_login(attempt).await?;
        let locators: Vec<Locator> = r.asserted.iter().map(|a| a.locator.clone()).collect();
        let mut claimed: ClaimedIdentity =
            txn.claim_identity(r.key, r.profile, now, &locators).await?;
        let owners = match claimed.owners.take() {
            _ if !resolution::needs_owners(&claimed) => Vec::new(),
            Some(owners) => owners,
            None => txn.locator_owners(r.key, &locators).await?,
        };
        let plan = resolution::plan(&claimed, &r.asserted, &owners, r.record.auto_create_users);
        let (state, user) = match &plan {
            Plan::Returning(u) | Plan::Link(u) => (LinkState::Linked, Some(u.clone())),
            Plan::Kept {
                state,
                detached_from,
                ..
            } => (*state, detached_from.clone()),
            Plan::Create => {
                let user = User {
                    id: UserId::generate(),
                    application_id: app,
                    screen_name: r
                        .profile
                        .name
                        .as_deref()
                        .map(|n| n.chars().take(200).collect()),
                    locators: r
                        .asserted
                        .iter()
                        .map(|a| UserLocator {
                            locator: a.locator.clone(),
                            verified: a.vouched,
                        })
                        .collect(),
                    created_at: now,
                };
                txn.create_user(&user).await?;
                (LinkState::Linked, Some(user.id))
            }
            Plan::Candidates(_) => (LinkState::Unlinked, None),
        };
        let candidates = plan.candidates();
        // A sign-in without a refresh token keeps the one issued before.
        let refresh_token = r.tokens.refresh_token.clone().or_else(|| {
            claimed
                .sealed_tokens
                .as_deref()
                .and_then(|s| UpstreamTokens::open(&self.sealer, app, claimed.id, s).ok())
                .and_then(|t| t.refresh_token)
        });
        let upstream = UpstreamTokens {
            access_token: r.tokens.access_token.clone(),
            refresh_token: refresh_token.clone(),
            granted_scope: r.tokens.scope.clone(),
        };
        txn.update_identity(
            claimed.id,
            &IdentityUpdate {
                link_state: state,
                user_id: user.as_ref(),
                candidates: &candidates,
                profile: r.profile,
                sealed_tokens: Some(upstream.seal(&self.sealer, app, claimed.id)),
                now,
            },
        )
        .await?;
        let signed_in = (state == LinkState::Linked).then_some(user).flatten();
        if let Some(user) = &signed_in {
            txn.record_user_token(&fedgate_tokens::record(app, user, &r.plan_token))
                .await?;
        }
        let mut event = self.record(app, EventKind::LoginSucceeded, &r.config.provider.key);
        event.outcome = Some(plan.outcome());
        event.federated_user_id = Some(claimed.id);
        event.user_id.clone_from(&signed_in);
        let mut notes = r.notes.clone();
        if signed_in.is_none() {
            notes.insert(0, format!("{} candidate(s)", candidates.len()));
        }
        if r.record.offline && refresh_token.is_none() {
            notes.push("the provider issued no refresh token".into());
        }
        if !notes.is_empty() {
            event.detail = Some(notes.join("; "));
        }
        txn.append_events(std::slice::from_ref(&event)).await?;
        txn.commit().await?;
        self.events.committed(&event);
        Ok(Resolved {
            federated_user_id: claimed.id,
            user_id: signed_in,
            candidates,
            refresh_token,
        })
    }
}

fn internal(e: &dyn std::fmt::Display) -> LoginFailure {
    tracing::error!(error = %e, "login could not be completed");
    LoginFailure::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_named_twice_makes_the_query_malformed() {
        let known = ["state", "redirect_uri"];
        assert!(parameters("state=a&state=b", &known).is_none());
        let p = parameters("state=a&other=1&other=2&redirect_uri=x%20y", &known).unwrap();
        assert_eq!(p["redirect_uri"], "x y");
        assert!(!p.contains_key("other"));
    }

    #[test]
    fn the_signed_query_leaves_out_the_signature() {
        assert_eq!(
            unsigned_query("state=a&accessKeyId=k&timestamp=1&nonce=n&signature=s&login_hint=x"),
            "state=a&login_hint=x"
        );
    }
}
