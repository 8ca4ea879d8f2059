//! The development provider as a service: a real OpenID Connect provider — discovery,
//! a JWKS with its own in-memory key, authorization code with PKCE S256, ID tokens,
//! userinfo — whose people are whoever the tester types. Its clients are Fedgate's
//! applications (credentials from [`Development`]); codes, access tokens and browser
//! sessions live in the state store.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{StateStore, StoreError};
use fedgate_domain::property::DEVELOPMENT_SLUG;
use fedgate_login::development::Development;
use fedgate_tokens::EphemeralSigner;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

/// How long a code may wait to be redeemed.
const CODE_TTL: Duration = Duration::from_secs(60);
/// How long an access token (and so userinfo) works.
const ACCESS_TTL: Duration = Duration::from_secs(600);
/// How long the browser stays signed in at the development provider.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Someone the tester signed in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Email address, as typed.
    pub email: String,
    /// Name, as typed.
    pub name: Option<String>,
    /// The tester said the address is verified.
    pub email_verified: bool,
}

impl Person {
    /// The subject: the same address is the same person.
    #[must_use]
    pub fn subject(&self) -> String {
        let digest = Sha256::digest(format!("dev:{}", self.email.to_ascii_lowercase()).as_bytes());
        format!("dev-{}", hex::encode(&digest[..12]))
    }
}

/// An authorization request, as received.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuthorizeParams {
    /// `code`.
    #[serde(default)]
    pub response_type: String,
    /// An application's development client id.
    #[serde(default)]
    pub client_id: String,
    /// Fedgate's callback for the application's development sign-in.
    #[serde(default)]
    pub redirect_uri: String,
    /// Fedgate's state.
    #[serde(default)]
    pub state: String,
    /// OpenID Connect nonce.
    #[serde(default)]
    pub nonce: Option<String>,
    /// PKCE challenge.
    #[serde(default)]
    pub code_challenge: String,
    /// `S256`.
    #[serde(default)]
    pub code_challenge_method: String,
    /// `none`, `login`, `consent`, `select_account`.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Prefills the email.
    #[serde(default)]
    pub login_hint: Option<String>,
}

/// What an authorization request comes to.
#[derive(Debug)]
pub enum Authorize {
    /// Not a request this provider can answer at all: a page, never a redirect (the
    /// redirect URI is not trusted).
    Refused(String),
    /// Back to Fedgate's callback (a code or an error).
    Redirect(Url),
    /// The sign-in form.
    SignIn,
    /// This browser signed in before: a code for this person, no screen.
    Silent(Person),
}

#[derive(Debug, Serialize, Deserialize)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    person: Person,
}

/// Why a token request is refused (its OAuth `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Wrong client credentials.
    InvalidClient,
    /// Unknown, used or mismatched code, or a wrong verifier.
    InvalidGrant,
    /// Not `authorization_code`.
    UnsupportedGrantType,
}

impl TokenError {
    /// The OAuth `error` code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// A token request, as received (client credentials already taken from the header or
/// the body).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenParams {
    /// `authorization_code`.
    #[serde(default)]
    pub grant_type: String,
    /// The code.
    #[serde(default)]
    pub code: String,
    /// As in the authorization request.
    #[serde(default)]
    pub redirect_uri: String,
    /// PKCE verifier.
    #[serde(default)]
    pub code_verifier: String,
    /// Client id (body authentication).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Client secret (body authentication).
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// The built-in development provider.
pub struct DevProvider {
    dev: Development,
    signer: EphemeralSigner,
    base: Url,
    state: Arc<dyn StateStore>,
}

impl std::fmt::Debug for DevProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevProvider")
            .field("issuer", &self.dev.issuer())
            .finish_non_exhaustive()
    }
}

fn store_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl DevProvider {
    /// The provider for `dev`'s issuer, with a fresh signing key.
    pub fn new(dev: Development, base: Url, state: Arc<dyn StateStore>) -> anyhow::Result<Self> {
        Ok(Self {
            dev,
            signer: EphemeralSigner::generate()?,
            base,
            state,
        })
    }

    /// The credentials shared with the registry.
    #[must_use]
    pub const fn development(&self) -> &Development {
        &self.dev
    }

    fn issuer(&self) -> &str {
        self.dev.issuer()
    }

    /// The discovery document.
    #[must_use]
    pub fn discovery(&self) -> serde_json::Value {
        let i = self.issuer();
        serde_json::json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "userinfo_endpoint": format!("{i}/userinfo"),
            "jwks_uri": format!("{i}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    /// The public keys.
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        self.signer.jwks()
    }

    /// The redirect URI a client (application) must use: its development callback.
    fn expected_redirect(&self, app: ApplicationId) -> String {
        fedgate_login::services::callback_url(&self.base, app, DEVELOPMENT_SLUG).to_string()
    }

    /// `redirect_uri` with `pairs`, `state` and `iss` (RFC 9207).
    fn back(&self, p: &AuthorizeParams, pairs: &[(&str, &str)]) -> Result<Url, String> {
        let mut url = Url::parse(&p.redirect_uri).map_err(|e| e.to_string())?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            q.append_pair("state", &p.state)
                .append_pair("iss", self.issuer());
        }
        Ok(url)
    }

    /// Checks an authorization request; `session` is whoever this browser signed in as.
    pub fn authorize(&self, p: &AuthorizeParams, session: Option<&Person>) -> Authorize {
        let Some(app) = self.dev.application_of(&p.client_id) else {
            return Authorize::Refused(
                "Unknown client: only Fedgate's applications sign in here.".into(),
            );
        };
        if p.redirect_uri != self.expected_redirect(app) {
            return Authorize::Refused(
                "The redirect_uri is not this application's development sign-in callback.".into(),
            );
        }
        let error = |code: &str| match self.back(p, &[("error", code)]) {
            Ok(url) => Authorize::Redirect(url),
            Err(e) => Authorize::Refused(e),
        };
        if p.response_type != "code"
            || p.code_challenge_method != "S256"
            || p.code_challenge.is_empty()
            || p.state.is_empty()
        {
            return error("invalid_request");
        }
        let prompts: Vec<&str> = p.prompt.as_deref().unwrap_or("").split(' ').collect();
        let asks_screen = prompts
            .iter()
            .any(|x| matches!(*x, "login" | "select_account" | "consent"));
        match session {
            // Signed in before in this browser: back at once, no screen.
            Some(person) if !asks_screen => Authorize::Silent(person.clone()),
            _ if prompts.contains(&"none") => error("login_required"),
            _ => Authorize::SignIn,
        }
    }

    /// Issues a code for `person` and says where the browser goes.
    pub async fn grant(&self, p: &AuthorizeParams, person: &Person) -> Result<Url, StoreError> {
        let code = fedgate_domain::random::token();
        let grant = Grant {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            challenge: p.code_challenge.clone(),
            nonce: p.nonce.clone(),
            person: person.clone(),
        };
        let bytes = serde_json::to_vec(&grant).map_err(store_err)?;
        self.state
            .put(&format!("dev-code:{code}"), &bytes, CODE_TTL)
            .await?;
        self.back(p, &[("code", &code)]).map_err(store_err)
    }

    /// Remembers this browser as `person`; the cookie value.
    pub async fn remember(&self, person: &Person) -> Result<String, StoreError> {
        let id = fedgate_domain::random::token();
        let bytes = serde_json::to_vec(person).map_err(store_err)?;
        self.state
            .put(&format!("dev-session:{id}"), &bytes, SESSION_TTL)
            .await?;
        Ok(id)
    }

    /// Whoever the browser with this cookie signed in as.
    pub async fn session(&self, cookie: &str) -> Result<Option<Person>, StoreError> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let Some(bytes) = self.state.get(&format!("dev-session:{cookie}")).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// Redeems a code: the token response, or the OAuth error.
    pub async fn token(
        &self,
        p: &TokenParams,
        basic: Option<(String, String)>,
        now: i64,
    ) -> Result<Result<serde_json::Value, TokenError>, StoreError> {
        if p.grant_type != "authorization_code" {
            return Ok(Err(TokenError::UnsupportedGrantType));
        }
        let (client_id, secret) = match basic {
            Some(pair) => pair,
            None => (
                p.client_id.clone().unwrap_or_default(),
                p.client_secret.clone().unwrap_or_default(),
            ),
        };
        if !self.dev.authenticates(&client_id, &secret) {
            return Ok(Err(TokenError::InvalidClient));
        }
        let Some(bytes) = self.state.take(&format!("dev-code:{}", p.code)).await? else {
            return Ok(Err(TokenError::InvalidGrant));
        };
        let grant: Grant = serde_json::from_slice(&bytes).map_err(store_err)?;
        let verifier = URL_SAFE_NO_PAD.encode(Sha256::digest(p.code_verifier.as_bytes()));
        if grant.client_id != client_id
            || grant.redirect_uri != p.redirect_uri
            || verifier != grant.challenge
        {
            return Ok(Err(TokenError::InvalidGrant));
        }
        let person = &grant.person;
        let mut claims = serde_json::json!({
            "iss": self.issuer(),
            "sub": person.subject(),
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "exp": now + 300,
            "email": person.email,
            "email_verified": person.email_verified,
        });
        if let Some(nonce) = &grant.nonce {
            claims["nonce"] = serde_json::json!(nonce);
        }
        if let Some(name) = &person.name {
            claims["name"] = serde_json::json!(name);
        }
        let id_token = self.signer.sign(&claims).map_err(store_err)?;
        let access = fedgate_domain::random::token();
        let bytes = serde_json::to_vec(person).map_err(store_err)?;
        self.state
            .put(&format!("dev-access:{access}"), &bytes, ACCESS_TTL)
            .await?;
        Ok(Ok(serde_json::json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL.as_secs(),
            "id_token": id_token,
            "scope": "openid email profile",
        })))
    }

    /// Userinfo for an access token.
    pub async fn userinfo(&self, access: &str) -> Result<Option<serde_json::Value>, StoreError> {
        if access.is_empty() || access.len() > 128 {
            return Ok(None);
        }
        let Some(bytes) = self.state.get(&format!("dev-access:{access}")).await? else {
            return Ok(None);
        };
        let person: Person = serde_json::from_slice(&bytes).map_err(store_err)?;
        Ok(Some(serde_json::json!({
            "sub": person.subject(),
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
        })))
    }
}
