//! Management API: an application's users, federated users and user tokens, as the
//! panel browses them. The same reads and link changes as the application API, on a
//! subscriber session instead of an access key; the panel never receives a user
//! token or a provider's tokens.

use actix_web::{HttpResponse, web};
use fedgate_domain::federation::LinkChange;
use fedgate_domain::ids::ApplicationId;
use fedgate_wire::error::ErrorBody;
use fedgate_wire::users::{
    FederatedUserDto, FederatedUserListDto, LinkResultDto, ManageLinkRequest, RevokedDto, UserDto,
    UserListDto, UserTokenListDto,
};

use super::owned_application;
use crate::body::JsonBody;
use crate::directory::users::UserQuery;
use crate::directory::{federated, tokens, users as people};
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

async fn app_of(
    state: &AppState,
    session: &SubscriberSession,
    app: &str,
) -> Result<ApplicationId, ApiError> {
    Ok(owned_application(state, session, app).await?.id)
}

/// `GET /manage/v1/applications/{appId}/users`: find by locator, get by ids, or list.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/users",
    tag = "users",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), UserQuery),
    responses(
        (status = 200, body = UserListDto),
        (status = 400, description = "`invalid_query`, `validation_failed`", body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let app = app_of(&state, &session, &path).await?;
    Ok(HttpResponse::Ok().json(people::find(&state, app, query.into_inner()).await?))
}

/// `GET /manage/v1/applications/{appId}/users/{userId}`.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/users/{userId}",
    tag = "users",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), ("userId" = String, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody))
)]
pub async fn get(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user) = path.into_inner();
    let app = app_of(&state, &session, &app).await?;
    Ok(HttpResponse::Ok().json(people::get_one(&state, app, &user).await?))
}

/// `GET /manage/v1/applications/{appId}/users/{userId}/federated-users`.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/users/{userId}/federated-users",
    tag = "users",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), ("userId" = String, Path)),
    responses((status = 200, body = FederatedUserListDto), (status = 404, body = ErrorBody))
)]
pub async fn federated_users_of(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user) = path.into_inner();
    let app = app_of(&state, &session, &app).await?;
    Ok(HttpResponse::Ok().json(federated::of_user(&state, app, &user).await?))
}

/// `GET /manage/v1/applications/{appId}/users/{userId}/tokens`: unexpired tokens,
/// revoked ones included (never the tokens themselves).
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/users/{userId}/tokens",
    tag = "users",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), ("userId" = String, Path)),
    responses((status = 200, body = UserTokenListDto), (status = 404, body = ErrorBody))
)]
pub async fn tokens_of(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user) = path.into_inner();
    let app = app_of(&state, &session, &app).await?;
    Ok(HttpResponse::Ok().json(tokens::of_user(&state, app, &user).await?))
}

/// `DELETE /manage/v1/applications/{appId}/users/{userId}/tokens`: revokes them all.
#[utoipa::path(
    delete,
    path = "/manage/v1/applications/{appId}/users/{userId}/tokens",
    tag = "users",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("userId" = String, Path)),
    responses((status = 200, body = RevokedDto), (status = 404, body = ErrorBody))
)]
pub async fn revoke_tokens(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user) = path.into_inner();
    let app = app_of(&state, &session, &app).await?;
    Ok(HttpResponse::Ok().json(tokens::revoke_all_of(&state, app, &user).await?))
}

/// `DELETE /manage/v1/applications/{appId}/users/{userId}/tokens/{tokenId}`.
#[utoipa::path(
    delete,
    path = "/manage/v1/applications/{appId}/users/{userId}/tokens/{tokenId}",
    tag = "users",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("userId" = String, Path), ("tokenId" = String, Path)),
    responses(
        (status = 200, description = "`revoked` is 0 when it was already revoked", body = RevokedDto),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn revoke_token(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user, token) = path.into_inner();
    let app = app_of(&state, &session, &app).await?;
    Ok(HttpResponse::Ok().json(tokens::revoke_one_of(&state, app, &user, &token).await?))
}

/// `GET /manage/v1/applications/{appId}/federated-users/{federatedUserId}`: with its
/// link state and candidates.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/federated-users/{federatedUserId}",
    tag = "users",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), ("federatedUserId" = String, Path)),
    responses((status = 200, body = FederatedUserDto), (status = 404, body = ErrorBody))
)]
pub async fn get_federated_user(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, federated_user) = path.into_inner();
    let app = app_of(&state, &session, &app).await?;
    Ok(HttpResponse::Ok().json(federated::get_one(&state, app, &federated_user).await?))
}

async fn change(
    state: &AppState,
    session: &SubscriberSession,
    path: (String, String),
    change: LinkChange,
) -> Result<HttpResponse, ApiError> {
    let (app, federated_user) = path;
    let app = app_of(state, session, &app).await?;
    let detail = format!("in the panel by subscriber {}", session.subscriber_id);
    let f = federated::apply(state, app, detail, &federated_user, change).await?;
    federated::changed(state, &f, None).await
}

/// `POST /manage/v1/applications/{appId}/federated-users/{federatedUserId}/link`:
/// links an unlinked or detached federated user to a user of the application.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/federated-users/{federatedUserId}/link",
    tag = "users",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("federatedUserId" = String, Path)),
    request_body = ManageLinkRequest,
    responses(
        (status = 200, body = LinkResultDto),
        (status = 404, description = "`not_found` (federated user), `user_not_found`", body = ErrorBody),
        (status = 409, description = "`federated_user_linked`: unlink it first", body = ErrorBody)
    )
)]
pub async fn link(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
    body: JsonBody<ManageLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = federated::link_target(&body.user_id)?;
    change(&state, &session, path.into_inner(), LinkChange::Link(user)).await
}

/// `POST /manage/v1/applications/{appId}/federated-users/{federatedUserId}/unlink`.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/federated-users/{federatedUserId}/unlink",
    tag = "users",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("federatedUserId" = String, Path)),
    responses(
        (status = 200, body = LinkResultDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`federated_user_not_linked`", body = ErrorBody)
    )
)]
pub async fn unlink(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    change(&state, &session, path.into_inner(), LinkChange::Unlink).await
}

/// `POST /manage/v1/applications/{appId}/federated-users/{federatedUserId}/detach`.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/federated-users/{federatedUserId}/detach",
    tag = "users",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("federatedUserId" = String, Path)),
    responses(
        (status = 200, body = LinkResultDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`federated_user_detached`", body = ErrorBody)
    )
)]
pub async fn detach(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    change(&state, &session, path.into_inner(), LinkChange::Detach).await
}
