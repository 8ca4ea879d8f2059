//! A typed client for Fedgate's application API, with request signing built in.
//!
//! Every call is signed with an access key (`FEDGATE-HMAC-SHA256`, see
//! `docs/api-signing.md`): a fresh timestamp and nonce per request, the exact path,
//! query and body that are sent. Errors from Fedgate come back as
//! [`Error::Api`] with the stable `code` of the JSON error body.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fedgate_client::Error> {
//! use fedgate_client::Client;
//! use fedgate_client::wire::users::CreateUserRequest;
//!
//! let fedgate = Client::new("https://login.example.com", "fgk_...", "fgs_...")?;
//! let user = fedgate
//!     .create_user(&CreateUserRequest {
//!         screen_name: Some("Ann".into()),
//!         ..CreateUserRequest::default()
//!     })
//!     .await?;
//! let token = fedgate.issue_token(&user.id, None).await?;
//! let verdict = fedgate.verify_token(&token.token).await?;
//! assert!(verdict.active);
//! # Ok(()) }
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use fedgate_signing::{self as signing, RequestParts};
use fedgate_wire::app_api::{CallingApplicationDto, LoginResultDto, RedeemResultRequest};
use fedgate_wire::error::{ErrorBody, ErrorCode};
use fedgate_wire::users::{
    CreateUserRequest, FederatedUserDto, FederatedUserListDto, IssueTokenRequest, IssuedTokenDto,
    LinkRequest, LinkResultDto, LocatorDto, RevokedDto, TokenVerdictDto, UpdateUserRequest,
    UpstreamTokensDto, UserDto, UserListDto, UserTokenDto, UserTokenListDto, VerifyTokenRequest,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

/// The wire types of requests and responses.
pub use fedgate_wire as wire;

/// Path segments keep only RFC 3986 unreserved characters bare, so the path Fedgate
/// receives is byte for byte the path that was signed.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What can go wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fedgate answered with an error: `status` and its JSON body (`body.code` is
    /// stable, e.g. `not_found`, `locator_taken`, `signature_mismatch`).
    #[error("Fedgate answered {status}: {} ({})", .body.code, .body.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The error body.
        body: ErrorBody,
    },
    /// The request could not be made or the response not read.
    #[error("cannot reach Fedgate: {0}")]
    Transport(#[from] reqwest::Error),
    /// The response was not what the API documents.
    #[error("unexpected response from Fedgate: {0}")]
    Unexpected(String),
    /// The base URL is not an absolute http(s) URL.
    #[error("invalid base URL: {0}")]
    InvalidBaseUrl(String),
}

impl Error {
    /// The stable error code, when Fedgate answered with an error body.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.error_code().map(ErrorCode::as_str)
    }

    /// The stable error code as the typed list, when Fedgate answered with an error body.
    #[must_use]
    pub const fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The HTTP status, when Fedgate answered.
    #[must_use]
    pub const fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A client for one application, authenticated by one of its access keys.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    key_id: String,
    secret: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

fn nonce() -> String {
    let mut bytes = [0_u8; 16];
    // The OS generator failing is not recoverable here; a zero nonce would be refused
    // as a replay on the second use rather than silently weaken anything.
    getrandom::fill(&mut bytes).unwrap_or_default();
    hex::encode(bytes)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Client {
    /// A client for Fedgate at `base_url` (e.g. `https://login.example.com`) signing
    /// with access key `key_id` and its `secret`.
    pub fn new(
        base_url: &str,
        key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("fedgate-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Self::with_http_client(http, base_url, key_id, secret)
    }

    /// Like [`Client::new`] with your own `reqwest` client (timeouts, proxies, pool).
    pub fn with_http_client(
        http: reqwest::Client,
        base_url: &str,
        key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<Self, Error> {
        let mut base =
            Url::parse(base_url).map_err(|e| Error::InvalidBaseUrl(format!("{base_url}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidBaseUrl(base_url.to_owned()));
        }
        base.set_query(None);
        base.set_fragment(None);
        Ok(Self {
            http,
            base,
            key_id: key_id.into(),
            secret: secret.into(),
        })
    }

    /// Sends a signed request: `path_and_query` is appended to the base URL as given
    /// (already percent-encoded), `body` is sent as JSON. Returns the raw response,
    /// whatever its status.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, Error> {
        let mut url = self.base.clone();
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url.set_query((!query.is_empty()).then_some(query));
        let body = body.unwrap_or_default();
        let timestamp = unix_now();
        let nonce = nonce();
        let signature = signing::sign(
            self.secret.as_bytes(),
            &RequestParts {
                key_id: &self.key_id,
                timestamp,
                nonce: &nonce,
                method: method.as_str(),
                path: url.path(),
                query: url.query().unwrap_or(""),
                body: &body,
            },
        );
        let mut request = self
            .http
            .request(method, url)
            .header(signing::HEADER_KEY_ID, &self.key_id)
            .header(signing::HEADER_TIMESTAMP, timestamp.to_string())
            .header(signing::HEADER_NONCE, nonce)
            .header(signing::HEADER_SIGNATURE, signature);
        if !body.is_empty() {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        Ok(request.send().await?)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, Error> {
        let bytes = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::Unexpected(e.to_string()))?;
        let res = self.send(method, path, bytes).await?;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_str(&text)
                .map_err(|_| Error::Unexpected(format!("{status} without an error body")))?;
            return Err(Error::Api {
                status: status.as_u16(),
                body,
            });
        }
        // `204 No Content` reads as JSON `null`.
        let text = if status == StatusCode::NO_CONTENT || text.is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text).map_err(|e| Error::Unexpected(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.call(Method::GET, path, None::<&()>).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, Error> {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.call(Method::DELETE, path, None::<&()>).await
    }

    /// The application this client's key belongs to.
    pub async fn application(&self) -> Result<CallingApplicationDto, Error> {
        self.get("/api/v1/application").await
    }

    /// Redeems a `resultCode` (result delivery `code`) for the login result, once.
    pub async fn redeem_result(&self, result_code: &str) -> Result<LoginResultDto, Error> {
        let body = RedeemResultRequest {
            result_code: result_code.to_owned(),
        };
        self.post("/api/v1/login-results/redeem", &body).await
    }

    /// Creates a user.
    pub async fn create_user(&self, user: &CreateUserRequest) -> Result<UserDto, Error> {
        self.post("/api/v1/users", user).await
    }

    /// One user.
    pub async fn get_user(&self, id: &str) -> Result<UserDto, Error> {
        self.get(&format!("/api/v1/users/{}", encode(id))).await
    }

    /// The users among `ids` that exist (at most 100 ids), in id order.
    pub async fn get_users(&self, ids: &[&str]) -> Result<Vec<UserDto>, Error> {
        let ids = encode(&ids.join(","));
        let list: UserListDto = self.get(&format!("/api/v1/users?ids={ids}")).await?;
        Ok(list.users)
    }

    /// The user owning `locator` (`email:ann@example.com`, `phone:+14155550123`).
    pub async fn find_user(&self, locator: &str) -> Result<Option<UserDto>, Error> {
        let path = format!("/api/v1/users?locator={}", encode(locator));
        let list: UserListDto = self.get(&path).await?;
        Ok(list.users.into_iter().next())
    }

    /// A page of users in id order; pass the previous page's `next` as `after`.
    pub async fn list_users(
        &self,
        after: Option<&str>,
        limit: Option<u64>,
    ) -> Result<UserListDto, Error> {
        let mut query = Vec::new();
        if let Some(a) = after {
            query.push(format!("after={}", encode(a)));
        }
        if let Some(l) = limit {
            query.push(format!("limit={l}"));
        }
        let path = if query.is_empty() {
            "/api/v1/users".to_owned()
        } else {
            format!("/api/v1/users?{}", query.join("&"))
        };
        self.get(&path).await
    }

    /// Updates a user's profile.
    pub async fn update_user(
        &self,
        id: &str,
        update: &UpdateUserRequest,
    ) -> Result<UserDto, Error> {
        let path = format!("/api/v1/users/{}", encode(id));
        self.call(Method::PATCH, &path, Some(update)).await
    }

    /// Deletes a user: its locators and tokens go, its federated users become unlinked.
    pub async fn delete_user(&self, id: &str) -> Result<(), Error> {
        self.delete::<Option<()>>(&format!("/api/v1/users/{}", encode(id)))
            .await
            .map(|_| ())
    }

    /// Adds a locator to a user.
    pub async fn add_locator(&self, id: &str, locator: &LocatorDto) -> Result<UserDto, Error> {
        self.post(&format!("/api/v1/users/{}/locators", encode(id)), locator)
            .await
    }

    /// Removes a user's locator (`email:ann@example.com`).
    pub async fn remove_locator(&self, id: &str, locator: &str) -> Result<UserDto, Error> {
        let path = format!("/api/v1/users/{}/locators/{}", encode(id), encode(locator));
        self.delete(&path).await
    }

    /// Marks a user's locator verified.
    pub async fn verify_locator(&self, id: &str, locator: &str) -> Result<UserDto, Error> {
        let path = format!(
            "/api/v1/users/{}/locators/{}/verify",
            encode(id),
            encode(locator)
        );
        self.call(Method::POST, &path, None::<&()>).await
    }

    /// One federated user, with its link state and candidates.
    pub async fn federated_user(&self, id: &str) -> Result<FederatedUserDto, Error> {
        self.get(&format!("/api/v1/federated-users/{}", encode(id)))
            .await
    }

    /// The federated identities linked to (or detached from) a user.
    pub async fn federated_users_of(&self, user: &str) -> Result<Vec<FederatedUserDto>, Error> {
        let path = format!("/api/v1/users/{}/federated-users", encode(user));
        let list: FederatedUserListDto = self.get(&path).await?;
        Ok(list.federated_users)
    }

    /// Links a federated user to a user; with `issue_token`, also returns a user token.
    pub async fn link(
        &self,
        federated_user: &str,
        user: &str,
        issue_token: bool,
    ) -> Result<LinkResultDto, Error> {
        let path = format!("/api/v1/federated-users/{}/link", encode(federated_user));
        let body = LinkRequest {
            user_id: user.to_owned(),
            issue_token,
        };
        self.post(&path, &body).await
    }

    /// Unlinks a federated user.
    pub async fn unlink(&self, federated_user: &str) -> Result<LinkResultDto, Error> {
        let path = format!("/api/v1/federated-users/{}/unlink", encode(federated_user));
        self.call(Method::POST, &path, None::<&()>).await
    }

    /// Detaches a federated user.
    pub async fn detach(&self, federated_user: &str) -> Result<LinkResultDto, Error> {
        let path = format!("/api/v1/federated-users/{}/detach", encode(federated_user));
        self.call(Method::POST, &path, None::<&()>).await
    }

    /// The provider tokens stored for a federated user.
    pub async fn upstream_tokens(&self, federated_user: &str) -> Result<UpstreamTokensDto, Error> {
        let path = format!(
            "/api/v1/federated-users/{}/upstream-tokens",
            encode(federated_user)
        );
        self.get(&path).await
    }

    /// Issues a user token, living `ttl_seconds` (default: the service's setting).
    pub async fn issue_token(
        &self,
        user: &str,
        ttl_seconds: Option<i64>,
    ) -> Result<IssuedTokenDto, Error> {
        let path = format!("/api/v1/users/{}/tokens", encode(user));
        self.post(&path, &IssueTokenRequest { ttl_seconds }).await
    }

    /// A user's unexpired tokens, newest first.
    pub async fn list_tokens(&self, user: &str) -> Result<Vec<UserTokenDto>, Error> {
        let path = format!("/api/v1/users/{}/tokens", encode(user));
        let list: UserTokenListDto = self.get(&path).await?;
        Ok(list.tokens)
    }

    /// Revokes one of a user's tokens; returns 1, or 0 if it was already revoked.
    pub async fn revoke_token(&self, user: &str, token_id: &str) -> Result<u64, Error> {
        let path = format!("/api/v1/users/{}/tokens/{}", encode(user), encode(token_id));
        let r: RevokedDto = self.delete(&path).await?;
        Ok(r.revoked)
    }

    /// Revokes all of a user's tokens; returns how many were revoked.
    pub async fn revoke_tokens(&self, user: &str) -> Result<u64, Error> {
        let r: RevokedDto = self
            .delete(&format!("/api/v1/users/{}/tokens", encode(user)))
            .await?;
        Ok(r.revoked)
    }

    /// Verifies a user token: `active` with its user, or the reason it is not.
    pub async fn verify_token(&self, token: &str) -> Result<TokenVerdictDto, Error> {
        let body = VerifyTokenRequest {
            token: token.to_owned(),
        };
        self.post("/api/v1/tokens/verify", &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_http() {
        assert!(Client::new("https://login.example.com/", "k", "s").is_ok());
        assert!(Client::new("ftp://login.example.com", "k", "s").is_err());
        assert!(Client::new("login.example.com", "k", "s").is_err());
    }

    #[test]
    fn path_segments_are_encoded_so_the_signed_path_is_the_sent_path() {
        assert_eq!(
            encode("email:ann+x@example.com"),
            "email%3Aann%2Bx%40example.com"
        );
        assert_eq!(encode("user_1.a-b~c"), "user_1.a-b~c");
        let mut url = Url::parse("http://h/").unwrap();
        url.set_path(&format!("/api/v1/users/{}", encode("a b/ü")));
        assert_eq!(url.path(), "/api/v1/users/a%20b%2F%C3%BC");
    }
}
