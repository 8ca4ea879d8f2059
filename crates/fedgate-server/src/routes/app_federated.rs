//! Application API: federated users, linking, and their upstream tokens.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::federation::{
    FederatedUser, LinkChange, LinkChangeOutcome, LinkState, TOKENS_PURPOSE, UpstreamTokens,
};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_domain::seal::SealContext;
use fedgate_wire::error::ErrorBody;
use fedgate_wire::users::{
    FederatedUserDto, FederatedUserListDto, IssuedTokenDto, LinkRequest, LinkResultDto,
    UpstreamTokensDto,
};

use super::app_api::{existing_user, federated_user_dto, providers_of};
use crate::error::ApiError;
use crate::signed::SignedRequest;
use crate::state::AppState;

fn path_federated_user_id(text: &str) -> Result<FederatedUserId, ApiError> {
    FederatedUserId::parse(text).ok_or_else(|| ApiError::not_found("federated user"))
}

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

/// The federated user named in a path, or 404.
async fn existing(
    state: &AppState,
    app: ApplicationId,
    text: &str,
) -> Result<FederatedUser, ApiError> {
    let id = path_federated_user_id(text)?;
    state
        .store
        .get_federated_user(app, id)
        .await?
        .ok_or_else(|| ApiError::not_found("federated user"))
}

/// One federated user of the application, or 404.
pub(crate) async fn get_one(
    state: &AppState,
    app: ApplicationId,
    text: &str,
) -> Result<FederatedUserDto, ApiError> {
    let f = existing(state, app, text).await?;
    Ok(federated_user_dto(&f, &providers_of(state, app).await?))
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

/// The identities linked to or detached from a user of the application.
pub(crate) async fn of_user(
    state: &AppState,
    app: ApplicationId,
    user: &str,
) -> Result<FederatedUserListDto, ApiError> {
    let user = existing_user(state, app, user).await?;
    let list = state.store.list_federated_users_of(app, &user).await?;
    let providers = providers_of(state, app).await?;
    Ok(FederatedUserListDto {
        federated_users: list
            .iter()
            .map(|f| federated_user_dto(f, &providers))
            .collect(),
    })
}

/// The user a link request names; an id that cannot exist names no user of this
/// application.
pub(crate) fn link_target(text: &str) -> Result<UserId, ApiError> {
    UserId::parse(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            "no such user in this application",
        )
    })
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

fn state_conflict(code: &'static str, message: &'static str, state: LinkState) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        code,
        format!("{message} (it is {})", state.as_str()),
    )
}

/// The answer to a link change: the federated user now, and a token if one was issued
/// (never cached).
pub(crate) async fn changed(
    state: &AppState,
    f: &FederatedUser,
    user_token: Option<IssuedTokenDto>,
) -> Result<HttpResponse, ApiError> {
    let providers = providers_of(state, f.application_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(LinkResultDto {
            federated_user: federated_user_dto(f, &providers),
            user_token,
        }))
}

/// Applies a link change and records its event, `detail` naming who made it.
pub(crate) async fn apply(
    state: &AppState,
    app: ApplicationId,
    detail: String,
    federated_user: &str,
    change: LinkChange,
) -> Result<FederatedUser, ApiError> {
    let id = path_federated_user_id(federated_user)?;
    let now = state.clock.now();
    let kind = match change {
        LinkChange::Link(_) => EventKind::FederatedUserLinked,
        LinkChange::Unlink => EventKind::FederatedUserUnlinked,
        LinkChange::Detach => EventKind::FederatedUserDetached,
    };
    let mut event = Event::new(app, kind, now);
    event.detail = Some(detail);
    match state
        .store
        .change_link(app, id, &change, now, event)
        .await?
    {
        LinkChangeOutcome::Changed(f) => Ok(*f),
        LinkChangeOutcome::NoSuchFederatedUser => Err(ApiError::not_found("federated user")),
        LinkChangeOutcome::NoSuchUser => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            "no such user in this application",
        )),
        LinkChangeOutcome::NotAllowed(current) => Err(match change {
            LinkChange::Link(_) => state_conflict(
                "federated_user_linked",
                "the federated user is already linked; unlink it first",
                current,
            ),
            LinkChange::Unlink => state_conflict(
                "federated_user_not_linked",
                "the federated user is not linked",
                current,
            ),
            LinkChange::Detach => state_conflict(
                "federated_user_detached",
                "the federated user is already detached",
                current,
            ),
        }),
    }
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
            "no_upstream_tokens",
            "no provider tokens are stored for this federated user",
        )
    })?;
    let row = f.id.to_string();
    let plain = state
        .sealer
        .open(
            &SealContext {
                purpose: TOKENS_PURPOSE,
                application_id: app,
                row_id: &row,
            },
            &sealed,
        )
        .map_err(ApiError::internal)?;
    let tokens: UpstreamTokens =
        serde_json::from_slice(secrecy::ExposeSecret::expose_secret(&plain))
            .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(UpstreamTokensDto {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
        }))
}
