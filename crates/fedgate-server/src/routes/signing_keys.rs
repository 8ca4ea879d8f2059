//! An application's user-token signing keys: their life, and rotation.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use fedgate_domain::ids::ApplicationId;
use fedgate_tokens::{KeyError, MAX_TOKEN_TTL_SECONDS, NEXT_KEY_DELAY_SECONDS, ScheduledKey};
use fedgate_wire::applications::{SigningKeyDto, SigningKeysDto};
use fedgate_wire::error::{ErrorBody, ErrorCode};

use super::owned_application;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

fn dto(state: &AppState, app: ApplicationId, keys: Vec<ScheduledKey>) -> SigningKeysDto {
    SigningKeysDto {
        keys: keys
            .into_iter()
            .map(|k| SigningKeyDto {
                kid: k.kid,
                status: k.status.as_str().to_owned(),
                created_at: k.created_at,
                activates_at: k.activates_at,
                retired_at: k.retired_at,
                removed_at: k.removed_at,
            })
            .collect(),
        jwks_uri: format!(
            "{}/hosted/{app}/jwks.json",
            state.public_base_url.as_str().trim_end_matches('/')
        ),
        next_key_delay_seconds: NEXT_KEY_DELAY_SECONDS,
        retired_key_retention_seconds: MAX_TOKEN_TTL_SECONDS,
    }
}

/// `GET /manage/v1/applications/{appId}/signing-keys`
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/signing-keys",
    tag = "applications",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 200, body = SigningKeysDto), (status = 404, body = ErrorBody))
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let keys = state.tokens.schedule(app.id).await?;
    Ok(HttpResponse::Ok().json(dto(&state, app.id, keys)))
}

/// `POST /manage/v1/applications/{appId}/signing-keys/rotate`: publishes a next key
/// at once; it becomes the signing key after `nextKeyDelaySeconds`, and the current
/// one is then retired.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/signing-keys/rotate",
    tag = "applications",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses(
        (status = 200, body = SigningKeysDto, description = "The keys, with the new one `next`"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`rotation_pending`: the previous rotation's key does not sign yet")
    )
)]
pub async fn rotate(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    match state.tokens.rotate(app.id).await {
        Ok(keys) => {
            tracing::info!(app_id = %app.id, "user-token signing key rotation started");
            Ok(HttpResponse::Ok().json(dto(&state, app.id, keys)))
        }
        Err(KeyError::RotationPending(at)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::RotationPending,
            format!(
                "a rotation is under way: its next key becomes the signing key at {}; rotate again after that",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )),
        Err(e) => Err(e.into()),
    }
}
