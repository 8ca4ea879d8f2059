//! Talking to a provider: code redemption, ID-token validation, userinfo.

use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::ProviderEndpoints;
use crate::id_token::{self, IdTokenClaims, IdTokenError};
use crate::jwks::{JwksCache, JwksError};

/// The `id_token` field OIDC adds to the token response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct IdTokenField {
    id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type OidcTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type OauthClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Tokens from the token endpoint.
#[derive(Clone)]
pub struct TokenSet {
    /// Access token.
    pub access_token: String,
    /// Refresh token, with offline access.
    pub refresh_token: Option<String>,
    /// The ID token (compact JWS), not yet validated.
    pub id_token: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSet([redacted])")
    }
}

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
    },
    /// Network failure or timeout.
    #[error("the provider is unreachable: {0}")]
    Unreachable(String),
    /// The provider answered with something that is not a valid response.
    #[error("the provider sent an invalid response: {0}")]
    BadResponse(String),
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
            Self::BadResponse(_) => "provider_bad_response".into(),
            Self::NoIdToken => "id_token_missing".into(),
            Self::IdToken(e) => format!("id_token_invalid:{}", e.check()),
            Self::UserinfoSubject => "userinfo_subject_mismatch".into(),
        }
    }
}

/// A client for providers, with its connection pool and JWKS cache.
#[derive(Debug)]
pub struct ProviderClient {
    http: reqwest::Client,
    jwks: JwksCache,
}

impl ProviderClient {
    /// A client whose every call gives up after `timeout`, refetching a provider's keys
    /// for an unknown `kid` at most once per `jwks_refetch_interval`. It never follows
    /// redirects.
    pub fn new(timeout: Duration, jwks_refetch_interval: Duration) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("fedgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        Ok(Self {
            http,
            jwks: JwksCache::new(jwks_refetch_interval),
        })
    }

    /// Redeems an authorization code with the application's client credentials and
    /// the login's PKCE verifier.
    pub async fn redeem_code(
        &self,
        endpoints: &ProviderEndpoints,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenSet, ProviderError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| ProviderError::BadResponse(e.to_string()))?;
        let client: OauthClient = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.to_owned()))
            .set_token_uri(TokenUrl::from_url(endpoints.token.clone()))
            .set_redirect_uri(redirect);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => ProviderError::Refused {
                    error: r.error().as_ref().to_owned(),
                    description: r.error_description().cloned(),
                },
                RequestTokenError::Request(e) => ProviderError::Unreachable(e.to_string()),
                RequestTokenError::Parse(e, _) => ProviderError::BadResponse(e.to_string()),
                RequestTokenError::Other(s) => ProviderError::BadResponse(s),
            })?;
        Ok(TokenSet {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            id_token: response.extra_fields().id_token.clone(),
        })
    }

    async fn key(&self, endpoints: &ProviderEndpoints, kid: &str) -> Result<Jwk, IdTokenError> {
        self.jwks
            .key(&self.http, &endpoints.jwks, kid)
            .await
            .map_err(|e| match e {
                JwksError::UnknownKid => IdTokenError::UnknownKey,
                JwksError::Fetch(m) => IdTokenError::KeysUnavailable(m),
            })
    }

    /// Validates an ID token completely: algorithm allow-list, key by `kid` from the
    /// provider's JWKS, signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, `sub`.
    pub async fn validate_id_token(
        &self,
        endpoints: &ProviderEndpoints,
        token: &str,
        client_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let (alg, kid) = id_token::header(token, &endpoints.algorithms)?;
        let key = self.key(endpoints, &kid).await?;
        id_token::validate(token, alg, &key, endpoints, client_id, nonce, now)
    }

    /// Reads userinfo with the access token and checks it describes `subject`.
    pub async fn userinfo(
        &self,
        endpoints: &ProviderEndpoints,
        access_token: &str,
        subject: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
        let Some(url) = &endpoints.userinfo else {
            return Ok(serde_json::Map::new());
        };
        let res = self
            .http
            .get(url.clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        if !res.status().is_success() {
            return Err(ProviderError::BadResponse(format!(
                "userinfo answered HTTP {}",
                res.status()
            )));
        }
        let body: serde_json::Map<String, serde_json::Value> = res
            .json()
            .await
            .map_err(|e| ProviderError::BadResponse(format!("userinfo: {e}")))?;
        if body.get("sub").and_then(|s| s.as_str()) != Some(subject) {
            return Err(ProviderError::UserinfoSubject);
        }
        Ok(body)
    }
}
