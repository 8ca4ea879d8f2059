//! The hosted login: the one-time login record kept between start and callback, and
//! the result sent back to the app with the reference manual's parameter names.

use serde::{Deserialize, Serialize};
use url::Url;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;

use crate::ids::{ApplicationId, FederatedUserId, UserId};
use crate::property::ResultDelivery;
use crate::seal::Sealer;

/// How long a started login may take to come back, unless configured otherwise
/// (`login_ttl_seconds`).
pub const LOGIN_RECORD_TTL_SECONDS: u64 = 600;
/// How long a `resultCode` can be redeemed.
pub const RESULT_CODE_TTL_SECONDS: u64 = 60;

/// Everything the callback needs, stored once under the `state` sent to the provider
/// and taken exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    /// The application.
    pub application_id: ApplicationId,
    /// Provider configuration key.
    pub provider_config: String,
    /// Expected issuer (canonical).
    pub issuer: String,
    /// The OAuth client id used at start; the callback must use the same.
    pub client_id: String,
    /// The app's redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// The app's opaque `state`, returned untouched.
    pub app_state: Option<String>,
    /// PKCE code verifier (none when the provider is configured without PKCE).
    pub pkce_verifier: Option<String>,
    /// OIDC nonce the ID token must carry.
    pub nonce: String,
    /// Offline access was requested (state signing): return the refresh token too.
    pub offline: bool,
    /// How to deliver the result.
    pub result_delivery: ResultDelivery,
    /// Create users for new people.
    pub auto_create_users: bool,
    /// The provider sends `iss` with its authorization responses (RFC 9207): a
    /// callback without it is refused.
    #[serde(default)]
    pub iss_required: bool,
    /// The app's `login_hint`, passed through (again, when consent is asked for).
    #[serde(default)]
    pub login_hint: Option<String>,
    /// The app's `prompt`, passed through.
    #[serde(default)]
    pub prompt: Option<String>,
    /// This is the second round of a login, sent back to the provider to consent to
    /// offline access: no third.
    #[serde(default)]
    pub consent_asked: bool,
    /// SHA-256 (hex) of the browser-binding cookie set at start: the callback must
    /// come from the browser holding it (login CSRF). `None` only in records written
    /// by a version before the binding, still honoured during a rolling upgrade.
    #[serde(default)]
    pub browser_binding: Option<String>,
}

/// The compact form's own version.
const COMPACT_VERSION: u8 = 1;

/// Writes `n` as LEB128: a byte for lengths under 128.
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push(u8::try_from(n & 0x7f).unwrap_or_default() | 0x80);
        n >>= 7;
    }
    out.push(u8::try_from(n).unwrap_or_default());
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

/// An optional text: its length plus one, or 0 for none.
fn put_optional(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.push(0),
        Some(t) => {
            put_len(out, t.len() + 1);
            out.extend_from_slice(t.as_bytes());
        }
    }
}

/// Reads the compact form, refusing anything malformed or left over.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn len(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..21).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn text(&mut self) -> Option<String> {
        let n = self.len()?;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).ok()
    }

    fn optional(&mut self) -> Option<Option<String>> {
        let n = self.len()?;
        if n == 0 {
            return Some(None);
        }
        let b = self.bytes(n - 1)?;
        String::from_utf8(b.to_vec()).ok().map(Some)
    }
}

const OFFLINE: u8 = 1;
const AUTO_CREATE_USERS: u8 = 1 << 1;
const ISS_REQUIRED: u8 = 1 << 2;
const CONSENT_ASKED: u8 = 1 << 3;
const RESULT_CODE: u8 = 1 << 4;

impl LoginRecord {
    /// The record and the Unix second it expires at, in the compact binary form that
    /// is sealed into the `state` sent to the provider (a third of its JSON).
    #[must_use]
    pub fn to_compact(&self, expires_at: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        out.push(COMPACT_VERSION);
        out.extend_from_slice(self.application_id.as_uuid().as_bytes());
        out.extend_from_slice(&expires_at.to_be_bytes());
        let flags = [
            (self.offline, OFFLINE),
            (self.auto_create_users, AUTO_CREATE_USERS),
            (self.iss_required, ISS_REQUIRED),
            (self.consent_asked, CONSENT_ASKED),
            (self.result_delivery == ResultDelivery::Code, RESULT_CODE),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |all, (_, bit)| all | bit);
        out.push(flags);
        for text in [
            &self.provider_config,
            &self.issuer,
            &self.client_id,
            &self.redirect_uri,
            &self.nonce,
        ] {
            put_text(&mut out, text);
        }
        for text in [
            &self.app_state,
            &self.pkce_verifier,
            &self.login_hint,
            &self.prompt,
            &self.browser_binding,
        ] {
            put_optional(&mut out, text.as_deref());
        }
        out
    }

    /// The record and its expiry from [`Self::to_compact`]'s bytes; `None` for
    /// anything else.
    #[must_use]
    pub fn from_compact(bytes: &[u8]) -> Option<(Self, u64)> {
        let mut r = Reader(bytes);
        if r.byte()? != COMPACT_VERSION {
            return None;
        }
        let app = uuid::Uuid::from_slice(r.bytes(16)?).ok()?;
        let expires_at = u64::from_be_bytes(r.bytes(8)?.try_into().ok()?);
        let flags = r.byte()?;
        if flags & !(OFFLINE | AUTO_CREATE_USERS | ISS_REQUIRED | CONSENT_ASKED | RESULT_CODE) != 0
        {
            return None;
        }
        let record = Self {
            application_id: ApplicationId::from_uuid(app),
            provider_config: r.text()?,
            issuer: r.text()?,
            client_id: r.text()?,
            redirect_uri: r.text()?,
            nonce: r.text()?,
            app_state: r.optional()?,
            pkce_verifier: r.optional()?,
            login_hint: r.optional()?,
            prompt: r.optional()?,
            browser_binding: r.optional()?,
            offline: flags & OFFLINE != 0,
            auto_create_users: flags & AUTO_CREATE_USERS != 0,
            iss_required: flags & ISS_REQUIRED != 0,
            consent_asked: flags & CONSENT_ASKED != 0,
            result_delivery: if flags & RESULT_CODE == 0 {
                ResultDelivery::Query
            } else {
                ResultDelivery::Code
            },
        };
        r.0.is_empty().then_some((record, expires_at))
    }
}

/// What a login record sealed into a `state` is sealed for.
const STATE_PURPOSE: &str = "login.record";

/// The day (since the Unix epoch) of the Unix second `now`: whose key seals.
fn day(now: u64) -> u32 {
    u32::try_from(now / 86_400).unwrap_or(u32::MAX)
}

impl LoginRecord {
    /// The record, expiring at the Unix second `expires_at`, sealed into a `state`
    /// for the provider: base64url of its compact form sealed with the key of the day
    /// of `now` (AES-256-GCM; see [`Sealer::seal_transient`]). Nobody but Fedgate
    /// reads or alters it; it travels through the browser and the provider and comes
    /// back in the callback.
    #[must_use]
    pub fn seal_into_state(&self, sealer: &Sealer, now: u64, expires_at: u64) -> String {
        URL_SAFE_NO_PAD.encode(sealer.seal_transient(
            STATE_PURPOSE,
            day(now),
            &self.to_compact(expires_at),
        ))
    }

    /// The record sealed into `state` by [`Self::seal_into_state`] and its expiry,
    /// when it opens and has not expired at the Unix second `now`; `None` otherwise.
    #[must_use]
    pub fn open_state(sealer: &Sealer, state: &str, now: u64) -> Option<(Self, u64)> {
        let sealed = URL_SAFE_NO_PAD.decode(state).ok()?;
        let plain = sealer
            .open_transient(STATE_PURPOSE, day(now), &sealed)
            .ok()?;
        Self::from_compact(plain.expose_secret()).filter(|(_, expires_at)| *expires_at > now)
    }
}

/// The result of a completed login, in the reference manual's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// E.g. `GoogleFederationService`.
    pub federating_service: String,
    /// The provider's slug (`google` for Google).
    #[serde(default)]
    pub federation_provider: String,
    /// Candidate users for linking.
    pub link_candidates: Vec<UserId>,
    /// A user token, only when linked.
    pub auto_login_token: Option<String>,
    /// The federated user.
    pub federated_user_id: FederatedUserId,
    /// The linked user, only when linked.
    pub linked_user: Option<UserId>,
    /// The provider's access token, plus `,` and the refresh token with offline access.
    pub external_service_tokens: String,
}

impl LoginResult {
    /// The query parameters, in the reference manual's order, then Fedgate's own
    /// `federationProvider`.
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("federatingService", self.federating_service.clone()),
            (
                "linkCandidates",
                self.link_candidates
                    .iter()
                    .map(UserId::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ];
        if let Some(token) = &self.auto_login_token {
            pairs.push(("autoLoginToken", token.clone()));
        }
        pairs.push(("federatedUserId", self.federated_user_id.to_string()));
        if let Some(user) = &self.linked_user {
            pairs.push(("linkedUser", user.to_string()));
        }
        pairs.push((
            "externalServiceTokens",
            self.external_service_tokens.clone(),
        ));
        pairs.push(("federationProvider", self.federation_provider.clone()));
        pairs
    }
}

/// `redirect_uri` with `pairs` and the app's `state` appended to its query (existing
/// query parameters kept). The URI was validated at registration, so it parses.
#[must_use]
pub fn redirect_to_app(
    redirect_uri: &str,
    pairs: &[(&str, String)],
    app_state: Option<&str>,
) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(state) = app_state {
            q.append_pair("state", state);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_results_carry_every_reference_parameter_and_keep_the_apps_query() {
        let fed = FederatedUserId::generate();
        let r = LoginResult {
            federating_service: "GoogleFederationService".into(),
            federation_provider: "google".into(),
            link_candidates: vec![UserId::parse("u1").unwrap()],
            auto_login_token: Some("tok".into()),
            federated_user_id: fed,
            linked_user: Some(UserId::parse("u1").unwrap()),
            external_service_tokens: "at,rt".into(),
        };
        let to = redirect_to_app(
            "https://app.example.com/cb?x=1",
            &r.query_pairs(),
            Some("s p"),
        );
        assert_eq!(
            to,
            format!(
                "https://app.example.com/cb?x=1&federatingService=GoogleFederationService&linkCandidates=u1&autoLoginToken=tok&federatedUserId={fed}&linkedUser=u1&externalServiceTokens=at%2Crt&federationProvider=google&state=s+p"
            )
        );
    }

    #[test]
    fn unlinked_results_have_no_token_and_no_linked_user() {
        let r = LoginResult {
            federating_service: "OpenIdConnectFederationService".into(),
            federation_provider: "acme".into(),
            link_candidates: vec![],
            auto_login_token: None,
            federated_user_id: FederatedUserId::generate(),
            linked_user: None,
            external_service_tokens: "at".into(),
        };
        let names: Vec<&str> = r.query_pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "federatingService",
                "linkCandidates",
                "federatedUserId",
                "externalServiceTokens",
                "federationProvider"
            ]
        );
    }

    fn record() -> LoginRecord {
        LoginRecord {
            application_id: ApplicationId::generate(),
            provider_config: "google".into(),
            issuer: "https://accounts.google.com".into(),
            client_id: "123-abc.apps.googleusercontent.com".into(),
            redirect_uri: "https://app.example.com/cb?x=1".into(),
            app_state: Some("s p&=\"\u{e9}".into()),
            pkce_verifier: Some("v".repeat(43)),
            nonce: "n".repeat(43),
            offline: true,
            result_delivery: ResultDelivery::Code,
            auto_create_users: false,
            iss_required: true,
            login_hint: Some(String::new()),
            prompt: None,
            consent_asked: true,
            browser_binding: Some("b".repeat(64)),
        }
    }

    #[test]
    fn the_compact_form_keeps_every_field() {
        let mut r = record();
        assert_eq!(
            LoginRecord::from_compact(&r.to_compact(1_900_000_000)),
            Some((r.clone(), 1_900_000_000))
        );
        // Every flag off, every option absent, and texts past 127 and 16 383 bytes
        // (two- and three-byte lengths).
        r.offline = false;
        r.auto_create_users = true;
        r.iss_required = false;
        r.consent_asked = false;
        r.result_delivery = ResultDelivery::Query;
        r.pkce_verifier = None;
        r.app_state = Some("x".repeat(200));
        r.login_hint = Some("y".repeat(20_000));
        r.browser_binding = None;
        let compact = r.to_compact(7);
        assert_eq!(LoginRecord::from_compact(&compact), Some((r.clone(), 7)));
        assert!(compact.len() < serde_json::to_vec(&r).unwrap().len());
    }

    #[test]
    fn the_compact_form_refuses_anything_else() {
        let compact = record().to_compact(9);
        // Cut anywhere, or with a byte more, it is not a record.
        for n in 0..compact.len() {
            assert_eq!(LoginRecord::from_compact(&compact[..n]), None, "{n}");
        }
        let mut longer = compact.clone();
        longer.push(0);
        assert_eq!(LoginRecord::from_compact(&longer), None);
        // Another version, an unknown flag, text that is not UTF-8.
        let mut other = compact.clone();
        other[0] = 2;
        assert_eq!(LoginRecord::from_compact(&other), None);
        let mut flagged = compact.clone();
        flagged[25] |= 0x80;
        assert_eq!(LoginRecord::from_compact(&flagged), None);
        let mut bent = compact;
        let at = 27; // inside the provider key's text
        bent[at] = 0xff;
        assert_eq!(LoginRecord::from_compact(&bent), None);
    }

    #[test]
    fn a_record_sealed_into_a_state_opens_until_it_expires_and_only_with_its_key() {
        let sealer = Sealer::new(&crate::seal::MasterKey::generate());
        let r = record();
        let now = 1_900_000_000;
        let state = r.seal_into_state(&sealer, now, now + 600);
        assert!(
            state
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{state}"
        );
        assert_eq!(
            LoginRecord::open_state(&sealer, &state, now + 599),
            Some((r.clone(), now + 600))
        );
        assert_eq!(LoginRecord::open_state(&sealer, &state, now + 600), None);
        let stranger = Sealer::new(&crate::seal::MasterKey::generate());
        assert_eq!(LoginRecord::open_state(&stranger, &state, now), None);
        assert_eq!(LoginRecord::open_state(&sealer, "not base64!", now), None);
        assert_eq!(LoginRecord::open_state(&sealer, &state[1..], now), None);
        // The state keeps nothing readable: not the app's state, nonce or verifier.
        // A Google login with a short app state stays well under the 1024 characters
        // past which a record is kept in the store instead.
        let google = LoginRecord {
            client_id: format!(
                "{}-{}.apps.googleusercontent.com",
                "1".repeat(12),
                "a".repeat(32)
            ),
            app_state: Some("return-to-42".into()),
            login_hint: None,
            ..r.clone()
        };
        let typical = google.seal_into_state(&sealer, now, now + 600);
        eprintln!(
            "a typical Google login's state: {} characters",
            typical.len()
        );
        assert!(typical.len() < 600, "{}", typical.len());
        let raw = URL_SAFE_NO_PAD.decode(&state).unwrap();
        for clear in [&b"nnnnnnnn"[..], b"vvvvvvvv", b"app.example.com", b"s p&="] {
            assert!(!raw.windows(clear.len()).any(|w| w == clear));
        }
    }
}
