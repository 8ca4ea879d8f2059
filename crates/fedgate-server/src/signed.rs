//! The application API's authentication: requests signed with an access key.

use fedgate_wire::error::ErrorCode;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use fedgate_domain::access_key::{AccessKey, AccessKeyId};
use fedgate_domain::application::Application;
use fedgate_domain::request_auth::{self, ReceivedRequest, SignatureHeaders};
use fedgate_domain::signing;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::Limit;

/// An authenticated application API request: the key, its application, the raw body.
#[derive(Debug)]
pub struct SignedRequest {
    /// The access key that signed the request.
    pub key: AccessKey,
    /// The application it belongs to.
    pub application: Application,
    body: Bytes,
    content_type: String,
}

impl SignedRequest {
    /// Parses the signed body as a JSON object of shape `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        crate::body::parse(&self.content_type, &self.body)
    }
}

/// Authenticates a signed request (API call or signed login start) with this
/// instance's storage, state store, sealer and clock.
pub async fn authenticate(
    state: &AppState,
    headers: SignatureHeaders<'_>,
    received: ReceivedRequest<'_>,
) -> Result<AccessKey, request_auth::AuthError> {
    request_auth::authenticate(
        &state.hot.keys(state.store.as_ref()),
        state.state.as_ref(),
        &state.sealer,
        state.clock.as_ref(),
        headers,
        received,
    )
    .await
}

/// The failure limits of signed requests. Every bucket is per client address, so
/// nobody elsewhere can use up the owner's; failures naming an existing key count
/// against that key and its application only, so one tenant's broken backend behind
/// a shared address does not lock out the others.
struct FailureLimits {
    /// Failures naming no existing key.
    address: Limit,
    /// Failures of one key.
    key: Limit,
    /// Failures of one application's keys.
    application: Limit,
}

impl FailureLimits {
    fn of(state: &AppState) -> Self {
        let l = &state.settings.limits;
        Self {
            address: Limit::per_minute("api-auth-failures", l.api_auth_failures_per_minute),
            key: Limit::per_minute(
                "api-auth-failures-key",
                l.api_auth_failures_per_key_per_minute,
            ),
            application: Limit::per_minute(
                "api-auth-failures-app",
                l.api_auth_failures_per_application_per_minute,
            ),
        }
    }

    /// Counts a failure where it belongs; past the application's limit the answer is
    /// 429 rather than the failure itself.
    async fn record(
        &self,
        state: &AppState,
        client: &str,
        key_id: Option<&AccessKeyId>,
        error: &request_auth::AuthError,
    ) -> Result<(), ApiError> {
        let store = state.state.as_ref();
        match key_id {
            Some(id) if error.names_existing_key() => {
                self.key.record(store, &format!("{id}@{client}")).await?;
                if let Some(stored) = state.store.find_access_key(id).await? {
                    let app = format!("{}@{client}", stored.key.application_id);
                    self.application.hit(store, &app).await?;
                }
            }
            _ => {
                self.address.record(store, client).await?;
            }
        }
        Ok(())
    }
}

impl FromRequest for SignedRequest {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state missing")))?;
            let limits = FailureLimits::of(&state);
            let client = state.client_ip(&req);
            let key_id = req
                .headers()
                .get(signing::HEADER_KEY_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(AccessKeyId::parse);
            limits.address.check(state.state.as_ref(), &client).await?;
            if let Some(id) = &key_id {
                limits
                    .key
                    .check(state.state.as_ref(), &format!("{id}@{client}"))
                    .await?;
            }
            let body =
                crate::body::read(&mut payload, state.settings.limits.body_limit_bytes).await?;
            let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
            let headers = SignatureHeaders {
                key_id: header(signing::HEADER_KEY_ID),
                timestamp: header(signing::HEADER_TIMESTAMP),
                nonce: header(signing::HEADER_NONCE),
                signature: header(signing::HEADER_SIGNATURE),
            };
            let received = ReceivedRequest {
                method: req.method().as_str(),
                path: req.uri().path(),
                query: req.uri().query().unwrap_or(""),
                body: &body,
            };
            let outcome = authenticate(&state, headers, received).await;
            let key = match outcome {
                Ok(key) => key,
                Err(e) => {
                    limits.record(&state, &client, key_id.as_ref(), &e).await?;
                    return Err(e.into());
                }
            };
            // The application's other keys may have failed from here too often.
            limits
                .application
                .check(
                    state.state.as_ref(),
                    &format!("{}@{client}", key.application_id),
                )
                .await?;
            let application = match state.hot.application(key.application_id) {
                Some(application) => application,
                None => {
                    let seen = state.hot.generation();
                    let application = state
                        .store
                        .find_application(key.application_id)
                        .await?
                        .ok_or_else(|| {
                            ApiError::unauthorized(
                                ErrorCode::AccessKeyUnknown,
                                "unknown access key",
                            )
                        })?;
                    state.hot.put_application(application.clone(), seen);
                    application
                }
            };
            let content_type = crate::body::media_type(&req);
            Ok(Self {
                key,
                application,
                body,
                content_type,
            })
        })
    }
}
