//! Access keys of an application.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use fedgate_domain::access_key::{AccessKey, AccessKeyId, MAX_ACTIVE_ACCESS_KEYS, NewAccessKey};
use fedgate_domain::ports::AccessKeyRepository as _;
use fedgate_domain::ports::StoreError;
use fedgate_wire::error::ErrorBody;
use fedgate_wire::error::ErrorCode;
use fedgate_wire::keys::{AccessKeyDto, CreatedAccessKeyDto};
use secrecy::ExposeSecret;

use super::owned_application;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

fn dto(k: &AccessKey) -> AccessKeyDto {
    AccessKeyDto {
        id: k.id.to_string(),
        created_at: k.created_at,
        last_used_at: k.last_used_at,
        revoked_at: k.revoked_at,
    }
}

/// `GET /manage/v1/applications/{appId}/access-keys`: newest first, no secrets.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/access-keys",
    tag = "access keys",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 200, body = [AccessKeyDto]), (status = 404, body = ErrorBody))
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let keys = state.store.list_access_keys(app.id).await?;
    Ok(HttpResponse::Ok().json(keys.iter().map(dto).collect::<Vec<_>>()))
}

/// `POST /manage/v1/applications/{appId}/access-keys`: the only response that
/// contains the secret.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/access-keys",
    tag = "access keys",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses(
        (status = 201, body = CreatedAccessKeyDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`access_key_limit`: 5 keys are already active", body = ErrorBody)
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let new = NewAccessKey::generate(app.id, &state.sealer, state.clock.now());
    match state
        .store
        .insert_access_key(&new.stored, MAX_ACTIVE_ACCESS_KEYS)
        .await
    {
        Ok(()) => {}
        Err(StoreError::LimitReached(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::AccessKeyLimit,
                format!(
                    "an application may have at most {MAX_ACTIVE_ACCESS_KEYS} active access keys; revoke one first"
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(app_id = %app.id, key_id = %new.stored.key.id, "access key created");
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CreatedAccessKeyDto {
            key: dto(&new.stored.key),
            secret: new.secret.expose_secret().to_owned(),
        }))
}

/// `DELETE /manage/v1/applications/{appId}/access-keys/{keyId}`: revokes at once.
#[utoipa::path(
    delete,
    path = "/manage/v1/applications/{appId}/access-keys/{keyId}",
    tag = "access keys",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("keyId" = String, Path, description = "Access key id")),
    responses((status = 200, description = "Revoked (or already revoked)", body = AccessKeyDto), (status = 404, body = ErrorBody))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app_id, key_id) = path.into_inner();
    let app = owned_application(&state, &session, &app_id).await?;
    let id = AccessKeyId::parse(&key_id).ok_or_else(|| ApiError::not_found("access key"))?;
    let key = state
        .hot
        .keys(state.store.as_ref())
        .revoke_access_key(app.id, &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("access key"))?;
    tracing::info!(app_id = %app.id, key_id = %key.id, "access key revoked");
    Ok(HttpResponse::Ok().json(dto(&key)))
}
