//! Application API: federated users, linking, and their upstream tokens.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use fedgate_domain::federation::{FederatedUser, LinkChange, UpstreamTokens};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::error::ErrorCode;
use fedgate_wire::users::{
    FederatedUserDto, FederatedUserListDto, LinkRequest, LinkResultDto, UpstreamTokensDto,
};

use crate::directory::federated::{apply, changed, existing, get_one, link_target, of_user};
use crate::error::ApiError;
use crate::signed::SignedRequest;
use crate::state::AppState;

/// `GET /api/v1/federated-users/{federatedUserId}`.
#[utoipa::path(
    get,
    path = "/api/v1/federated-users/{federatedUserId}",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("federatedUserId" = String, Path)),
    responses(
        (status = 200, body = FederatedUserDto),
        (status = 404, description = "`not_found`: no such federated user in this application", body = ErrorBody)
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(get_one(&state, signed.application.id, &path).await?))
}

/// `GET /api/v1/users/{userId}/federated-users`: the identities linked to (or
/// detached from) a user.
#[utoipa::path(
    get,
    path = "/api/v1/users/{userId}/federated-users",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    responses(
        (status = 200, body = FederatedUserListDto),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn list_of_user(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(of_user(&state, signed.application.id, &path).await?))
}

/// A link change made with an access key, which its event names.
async fn apply_by_key(
    state: &AppState,
    signed: &SignedRequest,
    federated_user: &str,
    change: LinkChange,
) -> Result<FederatedUser, ApiError> {
    let detail = format!("by access key {}", signed.key.id);
    apply(state, signed.application.id, detail, federated_user, change).await
}

/// `POST /api/v1/federated-users/{federatedUserId}/link`: links an unlinked or
/// detached federated user to a user of the application; its next sign-in signs in
/// as that user.
#[utoipa::path(
    post,
    path = "/api/v1/federated-users/{federatedUserId}/link",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("federatedUserId" = String, Path)),
    request_body = LinkRequest,
    responses(
        (status = 200, body = LinkResultDto),
        (status = 404, description = "`not_found` (federated user), `user_not_found`", body = ErrorBody),
        (status = 409, description = "`federated_user_linked`: unlink it first", body = ErrorBody)
    )
)]
pub async fn link(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body: LinkRequest = signed.json()?;
    let user = link_target(&body.user_id)?;
    let f = apply_by_key(&state, &signed, &path, LinkChange::Link(user.clone())).await?;
    let user_token = if body.issue_token {
        let ttl = state.settings.user_token_ttl_seconds;
        Some(crate::tokens::issue(&state, signed.application.id, &user, ttl).await?)
    } else {
        None
    };
    changed(&state, &f, user_token).await
}

/// `POST /api/v1/federated-users/{federatedUserId}/unlink`: back to unlinked.
#[utoipa::path(
    post,
    path = "/api/v1/federated-users/{federatedUserId}/unlink",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("federatedUserId" = String, Path)),
    responses(
        (status = 200, body = LinkResultDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`federated_user_not_linked`", body = ErrorBody)
    )
)]
pub async fn unlink(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let f = apply_by_key(&state, &signed, &path, LinkChange::Unlink).await?;
    changed(&state, &f, None).await
}

/// `POST /api/v1/federated-users/{federatedUserId}/detach`: kept, but its sign-ins
/// sign in nobody and create nobody until it is linked again.
#[utoipa::path(
    post,
    path = "/api/v1/federated-users/{federatedUserId}/detach",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("federatedUserId" = String, Path)),
    responses(
        (status = 200, body = LinkResultDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`federated_user_detached`", body = ErrorBody)
    )
)]
pub async fn detach(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let f = apply_by_key(&state, &signed, &path, LinkChange::Detach).await?;
    changed(&state, &f, None).await
}

/// `GET /api/v1/federated-users/{federatedUserId}/upstream-tokens`: the provider's
/// tokens from the federated user's latest sign-in.
#[utoipa::path(
    get,
    path = "/api/v1/federated-users/{federatedUserId}/upstream-tokens",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("federatedUserId" = String, Path)),
    responses(
        (status = 200, body = UpstreamTokensDto),
        (status = 404, description = "`not_found`; `no_upstream_tokens` when none are stored", body = ErrorBody)
    )
)]
pub async fn upstream_tokens(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = signed.application.id;
    let f = existing(&state, app, &path).await?;
    let sealed = f.sealed_tokens.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoUpstreamTokens,
            "no provider tokens are stored for this federated user",
        )
    })?;
    let tokens = UpstreamTokens::open(&state.sealer, app, f.id, &sealed)
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(UpstreamTokensDto {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            granted_scope: tokens.granted_scope,
        }))
}
