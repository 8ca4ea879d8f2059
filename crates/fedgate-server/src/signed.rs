//! The application API's authentication: requests signed with an access key.

use fedgate_wire::error::ErrorCode;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use fedgate_domain::access_key::AccessKey;
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
        state.store.as_ref(),
        state.state.as_ref(),
        &state.sealer,
        state.clock.as_ref(),
        headers,
        received,
    )
    .await
}

fn auth_failure_limit(state: &AppState) -> Limit {
    Limit {
        name: "api-auth-failures",
        limit: state.settings.limits.api_auth_failures_per_minute,
        window: Duration::from_secs(60),
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
            let limiter = auth_failure_limit(&state);
            let client = state.client_ip(&req);
            limiter.check(state.state.as_ref(), &client).await?;
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
                    limiter.record(state.state.as_ref(), &client).await?;
                    return Err(e.into());
                }
            };
            let application = state
                .store
                .find_application(key.application_id)
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized(ErrorCode::AccessKeyUnknown, "unknown access key")
                })?;
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
