//! The application's event log, for the panel and scripts.

use actix_web::{HttpResponse, web};
use fedgate_domain::events::{EventKind, EventQuery};
use fedgate_domain::ids::EventId;
use fedgate_wire::error::ErrorBody;
use fedgate_wire::error::ErrorCode;
use fedgate_wire::events::EventDto;
use serde::Deserialize;

use super::owned_application;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

/// Filters and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only events of this kind: `login_started`, `login_succeeded`, `login_failed`,
    /// `federated_user_linked`, `federated_user_unlinked`, `federated_user_detached`,
    /// `user_created`, `user_deleted`, `user_tokens_revoked`.
    kind: Option<String>,
    /// Only events of the provider with this slug (`google`, or an OpenID Connect
    /// provider's).
    provider: Option<String>,
    /// Only events older than this event id (the last id of the previous page).
    before: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// `GET /manage/v1/applications/{appId}/events`: newest first.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/events",
    tag = "events",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), EventParams),
    responses((status = 200, body = [EventDto]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let params = params.into_inner();
    let kind = match params.kind.as_deref() {
        None => None,
        Some(k) => Some(EventKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::InvalidQuery,
                "kind must be one of the event kinds listed in the API documentation",
            )
        })?),
    };
    let providers = crate::directory::federated::providers_of(&state, app.id).await?;
    let provider = match params.provider.as_deref() {
        None => None,
        Some(slug) => Some(
            providers
                .iter()
                .find(|p| p.slug == slug)
                .map(|p| p.key.clone())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        ErrorCode::InvalidQuery,
                        "provider must be the slug of one of this application's providers",
                    )
                })?,
        ),
    };
    let before = match params.before.as_deref() {
        Some(b) => Some(EventId::parse(b).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::InvalidQuery, "before must be an event id")
        })?),
        None => None,
    };
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "limit must be between 1 and 200",
        ));
    }
    state.events.flush().await;
    let events = state
        .store
        .list_events(
            app.id,
            &EventQuery {
                kind,
                provider,
                before,
                limit,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(
        events
            .into_iter()
            .map(|e| {
                let named = e
                    .provider
                    .as_deref()
                    .and_then(|key| providers.iter().find(|p| p.key == key));
                EventDto {
                    id: e.id.to_string(),
                    at: e.at,
                    kind: e.kind.as_str().to_owned(),
                    outcome: e.outcome.map(|o| o.as_str().to_owned()),
                    reason: e.reason,
                    detail: e.detail,
                    federation_provider: named.map(|p| p.slug.clone()),
                    provider_name: named.map(|p| p.display_name.clone()),
                    provider: e.provider,
                    federated_user_id: e.federated_user_id.map(|f| f.to_string()),
                    user_id: e.user_id.map(|u| u.to_string()),
                }
            })
            .collect::<Vec<_>>(),
    ))
}
