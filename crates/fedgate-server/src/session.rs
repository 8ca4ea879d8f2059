//! Subscriber sessions: a random id in an HttpOnly cookie, the session itself in the
//! state store (so any instance can serve it), keyed by the id's SHA-256 so a copy of
//! the store holds no usable cookie. State-changing requests must echo the session's
//! CSRF token in `X-CSRF-Token`.

use fedgate_wire::error::ErrorCode;
use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use fedgate_domain::ids::SubscriberId;
use fedgate_domain::ports::StateStore;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name over plain http (local development).
pub const COOKIE_NAME: &str = "fedgate_session";
/// Its name over https: the `__Host-` prefix makes browsers insist on `Secure`,
/// `Path=/` and no `Domain`, so no sibling host can set or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-fedgate_session";

/// The session cookie's name for this deployment.
#[must_use]
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies() {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Serialize, Deserialize)]
struct SessionRecord {
    subscriber_id: SubscriberId,
    csrf_token: String,
}

fn storage_key(token: &str) -> String {
    format!("session:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// A new session: the cookie value and its CSRF token.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value.
    pub token: String,
    /// The CSRF token.
    pub csrf_token: String,
}

/// Starts a session for `subscriber_id`.
pub async fn start(state: &AppState, subscriber_id: SubscriberId) -> Result<NewSession, ApiError> {
    let token = fedgate_domain::random::token();
    let csrf_token = fedgate_domain::random::token();
    let record = SessionRecord {
        subscriber_id,
        csrf_token: csrf_token.clone(),
    };
    let bytes = serde_json::to_vec(&record).map_err(ApiError::internal)?;
    state
        .state
        .put(
            &storage_key(&token),
            &bytes,
            Duration::from_secs(state.settings.session_ttl_seconds),
        )
        .await?;
    Ok(NewSession { token, csrf_token })
}

/// A cookie scripts cannot read (`HttpOnly`), sent on top-level navigations from
/// other sites but not on their subrequests (`SameSite=Lax`), `Secure` when Fedgate is
/// served over https: the shape of every cookie Fedgate sets.
#[must_use]
pub fn private_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    path: String,
    lifetime: Duration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .secure(state.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(
            i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// The cookie carrying a session.
#[must_use]
pub fn cookie(state: &AppState, token: String) -> Cookie<'static> {
    private_cookie(
        state,
        cookie_name(state),
        token,
        "/".to_owned(),
        Duration::from_secs(state.settings.session_ttl_seconds),
    )
}

/// A cookie that makes the browser forget the session.
#[must_use]
pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, String::new());
    c.make_removal();
    c
}

/// The signed-in subscriber of this request. Extracting it refuses requests without
/// a live session (401) and state-changing requests without the CSRF token (403).
#[derive(Debug)]
pub struct SubscriberSession {
    /// Who is signed in.
    pub subscriber_id: SubscriberId,
    /// The session's CSRF token.
    pub csrf_token: String,
    token: String,
}

impl SubscriberSession {
    /// Ends the session.
    pub async fn end(&self, state: &dyn StateStore) -> Result<(), ApiError> {
        Ok(state.delete(&storage_key(&self.token)).await?)
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequest for SubscriberSession {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = state
            .as_ref()
            .and_then(|st| req.cookie(cookie_name(st)))
            .map(|c| c.value().to_owned());
        let needs_csrf = !is_safe(req.method());
        let sent_csrf = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state missing")))?;
            let token = token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::unauthorized(ErrorCode::NotSignedIn, "sign in first"))?;
            let record = state
                .state
                .get(&storage_key(&token))
                .await?
                .and_then(|bytes| serde_json::from_slice::<SessionRecord>(&bytes).ok())
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        ErrorCode::SessionExpired,
                        "your session has expired; sign in again",
                    )
                })?;
            if needs_csrf {
                let ok = sent_csrf.is_some_and(|sent| {
                    bool::from(sent.as_bytes().ct_eq(record.csrf_token.as_bytes()))
                });
                if !ok {
                    return Err(ApiError::forbidden(
                        ErrorCode::CsrfTokenInvalid,
                        "missing or wrong X-CSRF-Token header; use the csrfToken from sign-in or GET /manage/v1/me",
                    ));
                }
            }
            Ok(Self {
                subscriber_id: record.subscriber_id,
                csrf_token: record.csrf_token,
                token,
            })
        })
    }
}

/// Refuses a cross-site request: when the browser names an `Origin`, it must be ours.
/// Used where no session exists yet (sign-up, sign-in) to stop login CSRF.
pub fn require_same_origin(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    match req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => Ok(()),
        Some(origin) if origin == state.public_origin() => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            ErrorCode::CrossOriginRequest,
            "requests from another origin are not accepted",
        )),
    }
}
