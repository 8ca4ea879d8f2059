//! Applications of the signed-in subscriber.

use actix_web::{HttpResponse, web};
use fedgate_domain::application::{Application, ApplicationName};
use fedgate_domain::ids::ApplicationId;
use fedgate_wire::applications::{ApplicationDto, ApplicationRequest};
use fedgate_wire::error::ErrorBody;

use super::owned_application;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

/// The wire form of an application.
pub fn dto(a: &Application) -> ApplicationDto {
    ApplicationDto {
        id: a.id.to_string(),
        name: a.name.clone(),
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

/// `GET /manage/v1/applications`
#[utoipa::path(
    get,
    path = "/manage/v1/applications",
    tag = "applications",
    security(("session" = [])),
    responses((status = 200, body = [ApplicationDto]), (status = 401, body = ErrorBody))
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
) -> Result<HttpResponse, ApiError> {
    let apps = state.store.list_applications(session.subscriber_id).await?;
    Ok(HttpResponse::Ok().json(apps.iter().map(dto).collect::<Vec<_>>()))
}

/// `POST /manage/v1/applications`
#[utoipa::path(
    post,
    path = "/manage/v1/applications",
    tag = "applications",
    security(("session" = [], "csrf" = [])),
    request_body = ApplicationRequest,
    responses((status = 201, body = ApplicationDto), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn create(
    state: web::Data<AppState>,
    session: SubscriberSession,
    body: JsonBody<ApplicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let name = ApplicationName::parse(&body.name)?;
    let now = state.clock.now();
    let app = Application {
        id: ApplicationId::generate(),
        subscriber_id: session.subscriber_id,
        name: name.as_str().to_owned(),
        created_at: now,
        updated_at: now,
    };
    state.store.create_application(&app).await?;
    // Its user-token signing key comes with it: in the JWKS before any token needs it.
    state.tokens.create_first_key(app.id).await?;
    tracing::info!(app_id = %app.id, "application created");
    Ok(HttpResponse::Created().json(dto(&app)))
}

/// `GET /manage/v1/applications/{appId}`
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}",
    tag = "applications",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 200, body = ApplicationDto), (status = 404, body = ErrorBody))
)]
pub async fn get(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    Ok(HttpResponse::Ok().json(dto(&app)))
}

/// `PATCH /manage/v1/applications/{appId}`: renames.
#[utoipa::path(
    patch,
    path = "/manage/v1/applications/{appId}",
    tag = "applications",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    request_body = ApplicationRequest,
    responses((status = 200, body = ApplicationDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn rename(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
    body: JsonBody<ApplicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let name = ApplicationName::parse(&body.name)?;
    let renamed = state
        .store
        .rename_application(session.subscriber_id, app.id, &name, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("application"))?;
    Ok(HttpResponse::Ok().json(dto(&renamed)))
}

/// `DELETE /manage/v1/applications/{appId}`: deletes it with its properties and keys.
#[utoipa::path(
    delete,
    path = "/manage/v1/applications/{appId}",
    tag = "applications",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody))
)]
pub async fn delete(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    if !state
        .store
        .delete_application(session.subscriber_id, app.id)
        .await?
    {
        return Err(ApiError::not_found("application"));
    }
    state.registry.invalidate(app.id);
    state.hot.forget_application(app.id);
    tracing::info!(app_id = %app.id, "application deleted");
    Ok(HttpResponse::NoContent().finish())
}
