//! Fedgate's side of OAuth 2.0 and OpenID Connect: discovery, building authorization
//! requests, redeeming codes, validating ID tokens completely against the provider's
//! JWKS (cached per Cache-Control), and reading userinfo — strictly after the ID token
//! passed. Google is one [`ProviderEndpoints`]; OpenID Connect providers found by
//! discovery are others. Calls to subscriber-given URLs are guarded against SSRF
//! ([`net`]).

mod client;
pub mod discovery;
mod flight;
mod id_token;
mod jwks;
pub mod net;
pub mod observe;
pub mod token;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use client::{Outbound, ProviderClient, ProviderError, clean};
pub use discovery::{Discovered, DiscoveryError};
pub use id_token::{IdTokenClaims, IdTokenError};
use jsonwebtoken::Algorithm;
use sha2::{Digest, Sha256};
pub use token::{ClientAuth, CodeRedemption, TokenSet};
use url::Url;

/// Where a provider lives and what its ID tokens look like.
#[derive(Debug, Clone)]
pub struct ProviderEndpoints {
    /// Authorization endpoint (the browser goes here).
    pub authorization: Url,
    /// Token endpoint.
    pub token: Url,
    /// Userinfo endpoint, if the provider has one.
    pub userinfo: Option<Url>,
    /// JWKS URI (none for a plain OAuth2 provider: it issues no ID tokens).
    pub jwks: Option<Url>,
    /// Accepted `iss` values, exactly.
    pub issuers: Vec<String>,
    /// The issuer recorded for federated users (one spelling per provider).
    pub canonical_issuer: String,
    /// Accepted ID-token algorithms (asymmetric only).
    pub algorithms: Vec<Algorithm>,
    /// The URLs are subscriber-given: calls go through the address guard.
    pub guarded: bool,
    /// Microsoft Entra multi-tenant: ID tokens are checked against the issuer template
    /// with their own `tid` instead of `issuers`.
    pub tenants: Option<TenantPolicy>,
    /// The provider kind named in metrics (`google`, `openid_connect`, `oauth2`,
    /// `development`).
    pub kind: &'static str,
}

/// Which Entra tenants' ID tokens a multi-tenant provider accepts, and how their
/// issuer is spelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPolicy {
    /// The discovery document's issuer, `…/{tenantid}/v2.0`.
    pub template: String,
    /// Tenant ids (lowercase GUIDs) allowed; empty for any.
    pub allowed: Vec<String>,
}

impl TenantPolicy {
    /// The tenant of `iss` when it is the template with an allowed tenant's GUID.
    #[must_use]
    pub fn tenant_of<'a>(&self, iss: &'a str) -> Option<&'a str> {
        let (before, after) = self
            .template
            .split_once(fedgate_domain::property::TENANT_PLACEHOLDER)?;
        let tid = iss.strip_prefix(before)?.strip_suffix(after)?;
        (fedgate_domain::property::is_guid(tid) && self.allows(tid)).then_some(tid)
    }

    /// Whether the tenant may sign in.
    #[must_use]
    pub fn allows(&self, tid: &str) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|t| t.eq_ignore_ascii_case(tid))
    }
}

/// A URL constant known to parse.
fn fixed(url: &str) -> Url {
    Url::parse(url).unwrap_or_else(|_| unreachable!("constant URL {url}"))
}

impl ProviderEndpoints {
    /// Google's production endpoints. Google signs ID tokens with RS256 and spells its
    /// issuer two ways.
    #[must_use]
    pub fn google() -> Self {
        Self {
            authorization: fixed("https://accounts.google.com/o/oauth2/v2/auth"),
            token: fixed("https://oauth2.googleapis.com/token"),
            userinfo: Some(fixed("https://openidconnect.googleapis.com/v1/userinfo")),
            jwks: Some(fixed("https://www.googleapis.com/oauth2/v3/certs")),
            issuers: vec![
                "https://accounts.google.com".into(),
                "accounts.google.com".into(),
            ],
            canonical_issuer: "https://accounts.google.com".into(),
            algorithms: vec![Algorithm::RS256],
            guarded: false,
            tenants: None,
            kind: "google",
        }
    }

    /// A discovered OpenID Connect provider's endpoints (subscriber-given: guarded).
    #[must_use]
    pub fn discovered(d: &Discovered) -> Self {
        Self {
            authorization: d.authorization_endpoint.clone(),
            token: d.token_endpoint.clone(),
            userinfo: d.userinfo_endpoint.clone(),
            jwks: Some(d.jwks_uri.clone()),
            issuers: vec![d.issuer.clone()],
            canonical_issuer: d.issuer.clone(),
            algorithms: d.algorithms.clone(),
            guarded: true,
            tenants: d.tenant_template.then(|| TenantPolicy {
                template: d.issuer.clone(),
                allowed: Vec::new(),
            }),
            kind: "openid_connect",
        }
    }

    /// A plain OAuth2 provider's endpoints (subscriber-given: guarded): no ID tokens,
    /// so no JWKS and no algorithms; `issuer` is the identifier recorded for its users.
    #[must_use]
    pub fn plain(authorization: Url, token: Url, profile: Url, issuer: &str) -> Self {
        Self {
            authorization,
            token,
            userinfo: Some(profile),
            jwks: None,
            issuers: vec![issuer.to_owned()],
            canonical_issuer: issuer.to_owned(),
            algorithms: Vec::new(),
            guarded: true,
            tenants: None,
            kind: "oauth2",
        }
    }
}

/// How a login asks for a refresh token (offline access, with state signing). Whether
/// the person is also asked to consent again (`prompt=consent`, which providers need to
/// issue a *new* refresh token) is the login's decision, made per person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineAccess {
    /// Not asked for.
    No,
    /// Google's way: `access_type=offline`.
    GoogleAccessType,
    /// OpenID Connect's way: the `offline_access` scope.
    OfflineAccessScope,
}

/// What one authorization request adds to its [`AuthorizationBase`].
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// Fedgate's one-time state (the login record's key).
    pub state: &'a str,
    /// OIDC nonce (none for a plain OAuth2 provider).
    pub nonce: Option<&'a str>,
    /// PKCE S256 challenge (none when the provider is configured without PKCE).
    pub pkce_challenge: Option<&'a str>,
    /// `login_hint` from the app, passed through.
    pub login_hint: Option<&'a str>,
    /// `prompt`: the app's, passed through, or `consent` when the login asks for it.
    pub prompt: Option<&'a str>,
    /// The scopes, space-separated.
    pub scope: &'a str,
    /// Whether and how to ask for a refresh token.
    pub offline: OfflineAccess,
}

/// A provider's authorization URL with what every request of one application shares —
/// the endpoint, `response_type`, the client id and Fedgate's callback — encoded once
/// (the callback's encoding was the larger part of a login start's URL work);
/// [`AuthorizationBase::url`] adds one request's own parameters.
#[derive(Debug, Clone)]
pub struct AuthorizationBase {
    /// The URL up to the end of its query.
    head: String,
    /// The endpoint's fragment (`#…`), if it has one: it stays last.
    tail: String,
}

impl AuthorizationBase {
    /// The shared part of the authorization requests of `client_id` coming back to
    /// `redirect_uri`.
    #[must_use]
    pub fn new(endpoints: &ProviderEndpoints, client_id: &str, redirect_uri: &str) -> Self {
        let mut url = endpoints.authorization.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri);
        let (head, tail) = url
            .as_str()
            .split_at(url[..url::Position::AfterQuery].len());
        Self {
            head: head.to_owned(),
            tail: tail.to_owned(),
        }
    }

    /// The provider URL the browser is sent to.
    #[must_use]
    pub fn url(&self, req: &AuthorizationRequest<'_>) -> String {
        let mut url = String::with_capacity(self.head.len() + self.tail.len() + 320);
        url.push_str(&self.head);
        let add_offline_scope = req.offline == OfflineAccess::OfflineAccessScope
            && !req.scope.split(' ').any(|s| s == "offline_access");
        if !req.scope.is_empty() || add_offline_scope {
            append_pair(&mut url, "scope", req.scope);
            if add_offline_scope {
                url.push_str("+offline_access");
            }
        }
        append_pair(&mut url, "state", req.state);
        if let Some(nonce) = req.nonce {
            append_pair(&mut url, "nonce", nonce);
        }
        if let Some(challenge) = req.pkce_challenge {
            append_pair(&mut url, "code_challenge", challenge);
            append_pair(&mut url, "code_challenge_method", "S256");
        }
        if let Some(hint) = req.login_hint {
            append_pair(&mut url, "login_hint", hint);
        }
        if req.offline == OfflineAccess::GoogleAccessType {
            append_pair(&mut url, "access_type", "offline");
        }
        if let Some(prompt) = req.prompt {
            append_pair(&mut url, "prompt", prompt);
        }
        url.push_str(&self.tail);
        url
    }
}

/// The scopes of `requested` (space-separated) that `granted` (as the provider wrote it:
/// space- or comma-separated) does not list. `offline_access` is left out (its grant is
/// the refresh token); `aliases` maps a requested scope to the name the provider grants
/// it under (Google grants `email` as `…/auth/userinfo.email`).
#[must_use]
pub fn missing_scopes(requested: &str, granted: &str, aliases: &[(&str, &str)]) -> Vec<String> {
    let granted: Vec<&str> = granted
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    requested
        .split_whitespace()
        .filter(|s| *s != "offline_access")
        .filter(|s| {
            let alias = aliases.iter().find(|(a, _)| a == s).map(|(_, g)| *g);
            !granted.iter().any(|g| g == s || Some(*g) == alias)
        })
        .map(str::to_owned)
        .collect()
}

/// Appends `&name=value` to a URL whose query has begun, the value form-encoded as
/// `Url::query_pairs_mut` encodes it.
fn append_pair(url: &mut String, name: &str, value: &str) {
    url.push('&');
    url.push_str(name);
    url.push('=');
    // A sealed `state`, a nonce and a PKCE challenge are base64url: every byte stays as
    // it is. Checked without a branch per byte (the encoder's own scan branches on each
    // byte's class, which random base64 text mispredicts: 8 % of a login start's CPU).
    if value.bytes().fold(true, |all, b| all & form_unchanged(b)) {
        url.push_str(value);
    } else {
        url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    }
}

/// Whether form-encoding leaves `b` as it is: ASCII letters and digits, `*`, `-`,
/// `.` and `_` (as `url::form_urlencoded::byte_serialize`).
fn form_unchanged(b: u8) -> bool {
    (b.wrapping_sub(b'0') < 10)
        | ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b == b'*')
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
}

/// A PKCE verifier (256 random bits) and its S256 challenge.
#[must_use]
pub fn pkce_pair() -> (String, String) {
    let verifier = fedgate_domain::random::token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_of(url: &str) -> std::collections::HashMap<String, String> {
        Url::parse(url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    #[test]
    fn a_value_is_kept_as_is_exactly_when_form_encoding_would_keep_it() {
        for b in 0..=u8::MAX {
            let encoded: String = url::form_urlencoded::byte_serialize(&[b]).collect();
            assert_eq!(
                form_unchanged(b),
                encoded.as_bytes() == [b],
                "byte {b:#04x} encodes as {encoded:?}"
            );
        }
        for value in ["aZ09-_.*", "a b", "a+b", "ä", "x=1&y", ""] {
            let mut url = String::new();
            append_pair(&mut url, "v", value);
            let expected: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            assert_eq!(url, format!("&v={expected}"));
        }
    }

    #[test]
    fn authorization_url_carries_state_nonce_pkce_and_scope() {
        let ep = ProviderEndpoints::google();
        let (verifier, challenge) = pkce_pair();
        assert_eq!(
            challenge,
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
        let base = AuthorizationBase::new(&ep, "cid", "https://fg.example.com/cb?x=1&y");
        let req = AuthorizationRequest {
            state: "st",
            nonce: Some("no"),
            pkce_challenge: Some(&challenge),
            login_hint: Some("ann+1@example.com & co"),
            prompt: Some("none"),
            scope: "openid email profile",
            offline: OfflineAccess::No,
        };
        let url = base.url(&req);
        let q = query_of(&url);
        assert_eq!(q.len(), 10, "{url}");
        assert_eq!(
            (
                q["response_type"].as_str(),
                q["client_id"].as_str(),
                q["redirect_uri"].as_str()
            ),
            ("code", "cid", "https://fg.example.com/cb?x=1&y")
        );
        assert_eq!(q["scope"], "openid email profile");
        assert_eq!(q["code_challenge"], challenge);
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            (
                q["state"].as_str(),
                q["nonce"].as_str(),
                q["prompt"].as_str()
            ),
            ("st", "no", "none")
        );
        assert_eq!(q["login_hint"], "ann+1@example.com & co");
        assert!(!q.contains_key("access_type"));
        // Encoded as `Url::query_pairs_mut` encodes, the way this URL used to be built.
        let mut expected = ep.authorization.clone();
        expected
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "cid")
            .append_pair("redirect_uri", "https://fg.example.com/cb?x=1&y")
            .append_pair("scope", "openid email profile")
            .append_pair("state", "st")
            .append_pair("nonce", "no")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("login_hint", "ann+1@example.com & co")
            .append_pair("prompt", "none");
        assert_eq!(url, expected.as_str());

        // Offline access does not force consent: the prompt is the caller's.
        let offline = base.url(&AuthorizationRequest {
            offline: OfflineAccess::GoogleAccessType,
            prompt: None,
            ..req
        });
        let q = query_of(&offline);
        assert_eq!(q["access_type"], "offline");
        assert!(!q.contains_key("prompt"));

        let oidc = base.url(&AuthorizationRequest {
            offline: OfflineAccess::OfflineAccessScope,
            prompt: Some("consent"),
            ..req
        });
        let q = query_of(&oidc);
        assert_eq!(
            (q["scope"].as_str(), q["prompt"].as_str()),
            ("openid email profile offline_access", "consent")
        );
        assert!(!q.contains_key("access_type"));
        let already = base.url(&AuthorizationRequest {
            offline: OfflineAccess::OfflineAccessScope,
            scope: "openid offline_access",
            ..req
        });
        assert_eq!(query_of(&already)["scope"], "openid offline_access");
        let none = base.url(&AuthorizationRequest { scope: "", ..req });
        assert!(!query_of(&none).contains_key("scope"));
    }

    #[test]
    fn an_endpoint_s_own_query_is_kept_and_its_fragment_stays_last() {
        let mut ep = ProviderEndpoints::google();
        ep.authorization = Url::parse("https://idp.example.com/auth?tenant=a%20b#frag").unwrap();
        let url = AuthorizationBase::new(&ep, "cid", "https://fg.example.com/cb").url(
            &AuthorizationRequest {
                state: "st",
                nonce: None,
                pkce_challenge: None,
                login_hint: None,
                prompt: None,
                scope: "openid",
                offline: OfflineAccess::No,
            },
        );
        assert_eq!(
            url,
            "https://idp.example.com/auth?tenant=a%20b&response_type=code&client_id=cid\
             &redirect_uri=https%3A%2F%2Ffg.example.com%2Fcb&scope=openid&state=st#frag"
        );
    }

    #[test]
    fn missing_scopes_reads_both_separators_and_aliases() {
        let google = [("email", "https://www.googleapis.com/auth/userinfo.email")];
        assert!(
            missing_scopes(
                "openid email offline_access",
                "openid https://www.googleapis.com/auth/userinfo.email",
                &google
            )
            .is_empty()
        );
        assert_eq!(
            missing_scopes("read:user user:email", "read:user", &[]),
            vec!["user:email".to_owned()]
        );
        assert!(missing_scopes("read:user user:email", "read:user,user:email", &[]).is_empty());
    }
}
