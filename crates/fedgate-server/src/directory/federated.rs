//! Federated users of an application: reads and link changes, for both APIs.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::federation::{FederatedUser, LinkChange, LinkChangeOutcome, LinkState};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_login::ProviderRef;
use fedgate_wire::error::ErrorCode;
use fedgate_wire::users::{
    FederatedUserDto, FederatedUserListDto, IssuedTokenDto, LinkResultDto, LinkStateDto,
    ProviderProfileDto,
};

use super::users::existing_user;
use crate::error::ApiError;
use crate::state::AppState;

/// The application's providers, to name them on federated users and events.
pub(crate) async fn providers_of(
    state: &AppState,
    app: ApplicationId,
) -> Result<Vec<ProviderRef>, ApiError> {
    Ok(state.registry.providers(app).await?)
}

/// The wire form of a federated user (never its tokens), its provider named from
/// `providers`.
pub(crate) fn federated_user_dto(f: &FederatedUser, providers: &[ProviderRef]) -> FederatedUserDto {
    let provider = providers.iter().find(|p| p.key == f.provider_config);
    let (linked_user, detached_from) = match f.link_state {
        LinkState::Linked => (f.user_id.as_ref().map(ToString::to_string), None),
        LinkState::Detached => (None, f.user_id.as_ref().map(ToString::to_string)),
        LinkState::Unlinked => (None, None),
    };
    let p = &f.profile;
    FederatedUserDto {
        federated_user_id: f.id.to_string(),
        federating_service: provider.map_or_else(
            || {
                fedgate_login::ProviderKind::of_key(&f.provider_config)
                    .federating_service()
                    .to_owned()
            },
            |p| p.kind.federating_service().to_owned(),
        ),
        provider: f.provider_config.clone(),
        federation_provider: provider.map(|p| p.slug.clone()),
        provider_name: provider.map(|p| p.display_name.clone()),
        issuer: f.issuer.clone(),
        subject: f.subject.clone(),
        link_state: match f.link_state {
            LinkState::Unlinked => LinkStateDto::Unlinked,
            LinkState::Linked => LinkStateDto::Linked,
            LinkState::Detached => LinkStateDto::Detached,
        },
        linked_user,
        detached_from,
        link_candidates: f.candidates.iter().map(ToString::to_string).collect(),
        profile: ProviderProfileDto {
            email: p.email.clone(),
            email_verified: p.email_verified,
            email_trusted: p.email_vouched,
            name: p.name.clone(),
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            picture: p.picture.clone(),
            locale: p.locale.clone(),
            hosted_domain: p.hosted_domain.clone(),
            username: p.username.clone(),
        },
        has_upstream_tokens: f.sealed_tokens.is_some(),
        created_at: f.created_at,
        last_login_at: f.last_login_at,
    }
}

fn path_federated_user_id(text: &str) -> Result<FederatedUserId, ApiError> {
    FederatedUserId::parse(text).ok_or_else(|| ApiError::not_found("federated user"))
}

/// The federated user named in a path, or 404.
pub(crate) async fn existing(
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
            ErrorCode::UserNotFound,
            "no such user in this application",
        )
    })
}

fn state_conflict(code: ErrorCode, message: &'static str, state: LinkState) -> ApiError {
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
            ErrorCode::UserNotFound,
            "no such user in this application",
        )),
        LinkChangeOutcome::NotAllowed(current) => Err(match change {
            LinkChange::Link(_) => state_conflict(
                ErrorCode::FederatedUserLinked,
                "the federated user is already linked; unlink it first",
                current,
            ),
            LinkChange::Unlink => state_conflict(
                ErrorCode::FederatedUserNotLinked,
                "the federated user is not linked",
                current,
            ),
            LinkChange::Detach => state_conflict(
                ErrorCode::FederatedUserDetached,
                "the federated user is already detached",
                current,
            ),
        }),
    }
}
