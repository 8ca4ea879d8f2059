//! OpenID Connect discovery: `{issuer}/.well-known/openid-configuration`, validated
//! field by field (the issuer character for character, https endpoints, a JWKS, the
//! code flow with PKCE S256), cached per Cache-Control within bounds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use tokio::sync::RwLock;
use url::Url;

use crate::net::{self, Refusal};

/// Shortest time a discovery document is trusted.
pub const MIN_MAX_AGE: Duration = Duration::from_secs(300);
/// Longest time a discovery document is trusted.
pub const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How long a failed discovery is remembered before it is tried again (a re-check on
/// demand tries at once).
pub const FAILURE_TTL: Duration = Duration::from_secs(60);
/// Largest discovery document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why a provider's discovery failed. [`DiscoveryError::code`] is the stable code
/// shown on the Hosted Services tile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// Network failure, timeout or TLS error.
    #[error("the discovery document at {url} could not be fetched: {detail}")]
    Unreachable {
        /// Where.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The host resolves to an address Fedgate does not call.
    #[error("{0}")]
    AddressRefused(String),
    /// An endpoint (or the issuer) is not https.
    #[error("{field} is not an https URL: {url}")]
    NotHttps {
        /// The offending field.
        field: String,
        /// Its value.
        url: String,
    },
    /// The server answered with a status other than 200 (redirects are not followed).
    #[error("the discovery document answered HTTP {0} (redirects are not followed)")]
    HttpStatus(u16),
    /// The body is not a JSON object of the expected shape, or is too large.
    #[error("the discovery document is not valid JSON: {0}")]
    InvalidJson(String),
    /// The document's `issuer` is not the configured issuer.
    #[error(
        "the document's issuer {found:?} is not the configured issuer {expected:?} (they must be equal character for character)"
    )]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The document's.
        found: String,
    },
    /// No `jwks_uri`.
    #[error("the document has no jwks_uri")]
    NoJwks,
    /// `response_types_supported` lacks `code`, or there is no authorization or token
    /// endpoint.
    #[error("the provider does not offer the authorization code flow: {0}")]
    NoCodeFlow(String),
    /// `code_challenge_methods_supported` lacks `S256`.
    #[error("the provider does not offer PKCE with S256 (code_challenge_methods_supported)")]
    NoS256,
    /// No ID-token signing algorithm Fedgate accepts (asymmetric ones only).
    #[error("the provider signs ID tokens only with algorithms Fedgate does not accept: {0}")]
    NoUsableAlgorithm(String),
}

impl DiscoveryError {
    /// The stable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => "discovery_unreachable",
            Self::AddressRefused(_) => "discovery_address_refused",
            Self::NotHttps { .. } => "discovery_not_https",
            Self::HttpStatus(_) => "discovery_http_status",
            Self::InvalidJson(_) => "discovery_invalid_json",
            Self::IssuerMismatch { .. } => "discovery_issuer_mismatch",
            Self::NoJwks => "discovery_no_jwks",
            Self::NoCodeFlow(_) => "discovery_no_code_flow",
            Self::NoS256 => "discovery_no_s256",
            Self::NoUsableAlgorithm(_) => "discovery_no_usable_algorithm",
        }
    }
}

/// What a valid discovery document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The issuer (equal to the configured one, or Entra's template for it).
    pub issuer: String,
    /// Microsoft Entra multi-tenant: `issuer` is a template (`…/{tenantid}/v2.0`).
    pub tenant_template: bool,
    /// Authorization endpoint.
    pub authorization_endpoint: Url,
    /// Token endpoint.
    pub token_endpoint: Url,
    /// Userinfo endpoint, if any.
    pub userinfo_endpoint: Option<Url>,
    /// JWKS URI.
    pub jwks_uri: Url,
    /// ID-token algorithms Fedgate accepts from this provider.
    pub algorithms: Vec<Algorithm>,
    /// Every algorithm the document lists, as written.
    pub advertised_algorithms: Vec<String>,
    /// RFC 9207: the provider sends `iss` with every authorization response.
    pub iss_parameter_supported: bool,
    /// `token_endpoint_auth_methods_supported` (the default, when absent, is
    /// `client_secret_basic`).
    pub token_auth_methods: Vec<String>,
    /// `scopes_supported`, when listed.
    pub scopes_supported: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawDocument {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    jwks_uri: Option<String>,
    #[serde(default)]
    response_types_supported: Vec<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    scopes_supported: Vec<String>,
}

/// The discovery URL of an issuer (its trailing slash removed first).
#[must_use]
pub fn document_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

fn endpoint(
    field: &str,
    value: Option<&str>,
    allow_loopback: bool,
    own: Option<&url::Origin>,
) -> Result<Option<Url>, DiscoveryError> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = Url::parse(text)
        .map_err(|e| DiscoveryError::InvalidJson(format!("{field} is not a URL ({e}): {text}")))?;
    if own == Some(&url.origin()) {
        return Ok(Some(url));
    }
    net::check_url(&url, allow_loopback).map_err(|r| match r {
        Refusal::NotHttps(_) => DiscoveryError::NotHttps {
            field: field.to_owned(),
            url: text.to_owned(),
        },
        Refusal::Address { .. } => DiscoveryError::AddressRefused(format!("{field}: {r}")),
    })?;
    Ok(Some(url))
}

/// Validates a fetched document against the configured issuer.
pub fn validate(
    issuer: &str,
    body: &[u8],
    allow_loopback: bool,
) -> Result<Discovered, DiscoveryError> {
    validate_with(issuer, body, allow_loopback, None)
}

/// [`validate`], where endpoints on `own` — Fedgate's own origin, whose development
/// provider this is — need no address check.
pub fn validate_with(
    issuer: &str,
    body: &[u8],
    allow_loopback: bool,
    own: Option<&url::Origin>,
) -> Result<Discovered, DiscoveryError> {
    let raw: RawDocument =
        serde_json::from_slice(body).map_err(|e| DiscoveryError::InvalidJson(e.to_string()))?;
    let found = raw.issuer.clone().unwrap_or_default();
    // Entra's multi-tenant endpoints publish a templated issuer; nothing else may.
    let tenant_template = fedgate_domain::property::entra_tenant_template(issuer)
        .is_some_and(|template| template == found);
    if found != issuer && !tenant_template {
        return Err(DiscoveryError::IssuerMismatch {
            expected: issuer.to_owned(),
            found,
        });
    }
    let authorization = endpoint(
        "authorization_endpoint",
        raw.authorization_endpoint.as_deref(),
        allow_loopback,
        own,
    )?;
    let token = endpoint(
        "token_endpoint",
        raw.token_endpoint.as_deref(),
        allow_loopback,
        own,
    )?;
    let userinfo = endpoint(
        "userinfo_endpoint",
        raw.userinfo_endpoint.as_deref(),
        allow_loopback,
        own,
    )?;
    let jwks = endpoint("jwks_uri", raw.jwks_uri.as_deref(), allow_loopback, own)?
        .ok_or(DiscoveryError::NoJwks)?;
    let (Some(authorization), Some(token)) = (authorization, token) else {
        return Err(DiscoveryError::NoCodeFlow(
            "the authorization or token endpoint is missing".into(),
        ));
    };
    if !raw.response_types_supported.iter().any(|t| t == "code") {
        return Err(DiscoveryError::NoCodeFlow(
            "response_types_supported does not list \"code\"".into(),
        ));
    }
    if !raw
        .code_challenge_methods_supported
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|m| m == "S256")
    {
        return Err(DiscoveryError::NoS256);
    }
    // OIDC Discovery requires the list; RS256 is the algorithm every provider must
    // support when it is absent.
    let advertised = raw
        .id_token_signing_alg_values_supported
        .unwrap_or_else(|| vec!["RS256".to_owned()]);
    let algorithms: Vec<Algorithm> = advertised
        .iter()
        .filter_map(|a| crate::id_token::algorithm(a))
        .collect();
    if algorithms.is_empty() {
        return Err(DiscoveryError::NoUsableAlgorithm(advertised.join(", ")));
    }
    Ok(Discovered {
        issuer: found,
        tenant_template,
        authorization_endpoint: authorization,
        token_endpoint: token,
        userinfo_endpoint: userinfo,
        jwks_uri: jwks,
        algorithms,
        advertised_algorithms: advertised,
        iss_parameter_supported: raw.authorization_response_iss_parameter_supported,
        token_auth_methods: raw
            .token_endpoint_auth_methods_supported
            .unwrap_or_else(|| vec!["client_secret_basic".to_owned()]),
        scopes_supported: raw.scopes_supported,
    })
}

/// A discovery result and until when it holds.
#[derive(Debug)]
struct Entry {
    result: Result<Arc<Discovered>, DiscoveryError>,
    expires: Instant,
}

/// Discovery results by issuer: successes for the document's max-age (bounded by
/// [`MIN_MAX_AGE`] and [`MAX_MAX_AGE`]), failures for [`FAILURE_TTL`].
#[derive(Debug, Default)]
pub struct DiscoveryCache {
    entries: RwLock<HashMap<String, Arc<Entry>>>,
    fetching: crate::flight::KeyedLocks<String>,
}

impl DiscoveryCache {
    /// The cached result for `issuer`, if still fresh.
    pub(crate) async fn fresh(
        &self,
        issuer: &str,
    ) -> Option<Result<Arc<Discovered>, DiscoveryError>> {
        let entry = self.entries.read().await.get(issuer).cloned()?;
        (entry.expires > Instant::now()).then(|| entry.result.clone())
    }

    /// The lock that serialises fetches of `issuer`'s document (only that issuer's).
    pub(crate) fn single_flight(&self, issuer: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.fetching.of(&issuer.to_owned())
    }

    /// Remembers a result.
    pub(crate) async fn store(
        &self,
        issuer: &str,
        result: Result<Arc<Discovered>, DiscoveryError>,
        max_age: Duration,
    ) {
        let ttl = if result.is_ok() {
            max_age.clamp(MIN_MAX_AGE, MAX_MAX_AGE)
        } else {
            FAILURE_TTL
        };
        let entry = Arc::new(Entry {
            result,
            expires: Instant::now() + ttl,
        });
        let mut entries = self.entries.write().await;
        // Bounded: expired entries go when the cache grows.
        if entries.len() >= 10_000 {
            let now = Instant::now();
            entries.retain(|_, e| e.expires > now);
        }
        entries.insert(issuer.to_owned(), entry);
    }
}

/// Reads the document body, bounded.
pub(crate) async fn read_document(res: reqwest::Response) -> Result<Vec<u8>, DiscoveryError> {
    net::read_capped(res, MAX_DOCUMENT_BYTES)
        .await
        .map_err(DiscoveryError::InvalidJson)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://idp.example.com/realms/acme";

    fn doc() -> serde_json::Value {
        serde_json::json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://idp.example.com/realms/acme/auth",
            "token_endpoint": "https://idp.example.com/realms/acme/token",
            "userinfo_endpoint": "https://idp.example.com/realms/acme/userinfo",
            "jwks_uri": "https://idp.example.com/realms/acme/certs",
            "response_types_supported": ["code", "id_token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "ES256"],
            "authorization_response_iss_parameter_supported": true
        })
    }

    fn check(v: &serde_json::Value) -> Result<Discovered, &'static str> {
        validate(ISSUER, v.to_string().as_bytes(), false).map_err(|e| e.code())
    }

    fn with(k: &str, v: serde_json::Value) -> serde_json::Value {
        let mut d = doc();
        d[k] = v;
        d
    }

    fn without(k: &str) -> serde_json::Value {
        let mut d = doc();
        d.as_object_mut().unwrap().remove(k);
        d
    }

    #[test]
    fn only_entras_multi_tenant_issuer_may_be_answered_with_a_template() {
        let common = "https://login.microsoftonline.com/common/v2.0";
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let entra = with("issuer", serde_json::json!(template));
        let d = validate(common, entra.to_string().as_bytes(), false).unwrap();
        assert!(d.tenant_template);
        assert_eq!(d.issuer, template);
        // Anyone else answering with a template is a mismatch.
        let other = with(
            "issuer",
            serde_json::json!("https://idp.example.com/{tenantid}/v2.0"),
        );
        assert_eq!(
            validate(
                "https://idp.example.com/common/v2.0",
                other.to_string().as_bytes(),
                false
            )
            .unwrap_err()
            .code(),
            "discovery_issuer_mismatch"
        );
        assert!(!check(&doc()).unwrap().tenant_template);
    }

    #[test]
    fn a_complete_document_is_read() {
        let d = check(&doc()).unwrap();
        assert_eq!(d.algorithms, vec![Algorithm::RS256, Algorithm::ES256]);
        assert!(d.iss_parameter_supported);
        assert_eq!(d.token_auth_methods, ["client_secret_basic"]);
        assert_eq!(
            document_url("https://idp.example.com/realms/acme/"),
            "https://idp.example.com/realms/acme/.well-known/openid-configuration"
        );
    }

    #[test]
    fn each_defect_is_named() {
        assert_eq!(
            check(&with("issuer", serde_json::json!(format!("{ISSUER}/")))).unwrap_err(),
            "discovery_issuer_mismatch"
        );
        assert_eq!(
            check(&without("issuer")).unwrap_err(),
            "discovery_issuer_mismatch"
        );
        assert_eq!(
            check(&with(
                "token_endpoint",
                serde_json::json!("http://idp.example.com/token")
            ))
            .unwrap_err(),
            "discovery_not_https"
        );
        assert_eq!(
            check(&with(
                "jwks_uri",
                serde_json::json!("https://169.254.169.254/keys")
            ))
            .unwrap_err(),
            "discovery_address_refused"
        );
        assert_eq!(
            check(&without("jwks_uri")).unwrap_err(),
            "discovery_no_jwks"
        );
        assert_eq!(
            check(&with(
                "response_types_supported",
                serde_json::json!(["id_token"])
            ))
            .unwrap_err(),
            "discovery_no_code_flow"
        );
        assert_eq!(
            check(&without("authorization_endpoint")).unwrap_err(),
            "discovery_no_code_flow"
        );
        assert_eq!(
            check(&with(
                "code_challenge_methods_supported",
                serde_json::json!(["plain"])
            ))
            .unwrap_err(),
            "discovery_no_s256"
        );
        assert_eq!(
            check(&without("code_challenge_methods_supported")).unwrap_err(),
            "discovery_no_s256"
        );
        assert_eq!(
            check(&with(
                "id_token_signing_alg_values_supported",
                serde_json::json!(["HS256", "none"])
            ))
            .unwrap_err(),
            "discovery_no_usable_algorithm"
        );
        assert_eq!(
            validate(ISSUER, b"<html>", false).unwrap_err().code(),
            "discovery_invalid_json"
        );
        assert_eq!(
            validate(ISSUER, b"[1,2]", false).unwrap_err().code(),
            "discovery_invalid_json"
        );
    }

    #[test]
    fn plain_http_endpoints_pass_only_on_loopback_with_loopback_allowed() {
        let lo = "http://127.0.0.1:9000";
        let mut d = doc();
        d["issuer"] = serde_json::json!(lo);
        for k in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ] {
            d[k] = serde_json::json!(format!("{lo}/{k}"));
        }
        let body = d.to_string();
        assert!(validate(lo, body.as_bytes(), true).is_ok());
        assert_eq!(
            validate(lo, body.as_bytes(), false).unwrap_err().code(),
            "discovery_not_https"
        );
    }
}
