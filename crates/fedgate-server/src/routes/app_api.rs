//! The application API: endpoints for app backends, signed with an access key.

use actix_web::{HttpResponse, web};
use fedgate_domain::federation::{FederatedUser, LinkState};
use fedgate_domain::ids::{ApplicationId, UserId};
use fedgate_domain::login::LoginResult;
use fedgate_domain::user::{LocatorKind, User};
use fedgate_login::ProviderRef;
use fedgate_wire::app_api::{CallingApplicationDto, LoginResultDto, RedeemResultRequest};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::users::{
    FederatedUserDto, LinkStateDto, LocatorDto, LocatorKindDto, ProviderProfileDto, UserDto,
};

use crate::error::ApiError;
use crate::signed::SignedRequest;
use crate::state::AppState;

/// `GET /api/v1/application`: the application the request is signed as. Useful to
/// check a signing implementation.
#[utoipa::path(
    get,
    path = "/api/v1/application",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    responses(
        (status = 200, body = CallingApplicationDto),
        (status = 401, description = "`signature_missing`, `signature_malformed`, `access_key_unknown`, `access_key_revoked`, `timestamp_out_of_window`, `signature_mismatch`, `nonce_reused`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many failed authentications from this address", body = ErrorBody)
    )
)]
pub async fn calling_application(signed: SignedRequest) -> HttpResponse {
    HttpResponse::Ok().json(CallingApplicationDto {
        id: signed.application.id.to_string(),
        name: signed.application.name.clone(),
        access_key_id: signed.key.id.to_string(),
    })
}

/// `POST /api/v1/login-results/redeem`: exchanges a `resultCode` (result delivery
/// `code`) for the login result, once, within 60 seconds, for the application it was
/// issued to only.
#[utoipa::path(
    post,
    path = "/api/v1/login-results/redeem",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    request_body = RedeemResultRequest,
    responses(
        (status = 200, body = LoginResultDto),
        (status = 404, description = "`not_found`: unknown, expired, already redeemed, or another application's code", body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn redeem_result(
    state: web::Data<AppState>,
    signed: SignedRequest,
) -> Result<HttpResponse, ApiError> {
    let body: RedeemResultRequest = signed.json()?;
    if body.result_code.is_empty() || body.result_code.len() > 128 {
        return Err(ApiError::not_found("result code"));
    }
    let key = fedgate_login::result_key(signed.application.id, &body.result_code);
    let bytes = state
        .state
        .take(&key)
        .await?
        .ok_or_else(|| ApiError::not_found("result code"))?;
    let r: LoginResult = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(LoginResultDto {
            federating_service: r.federating_service,
            federation_provider: r.federation_provider,
            link_candidates: r.link_candidates.iter().map(ToString::to_string).collect(),
            auto_login_token: r.auto_login_token,
            federated_user_id: r.federated_user_id.to_string(),
            linked_user: r.linked_user.map(|u| u.to_string()),
            external_service_tokens: r.external_service_tokens,
        }))
}

/// The wire form of a user.
pub(crate) fn user_dto(u: &User) -> UserDto {
    UserDto {
        id: u.id.to_string(),
        screen_name: u.screen_name.clone(),
        locators: u
            .locators
            .iter()
            .map(|l| LocatorDto {
                kind: match l.locator.kind() {
                    LocatorKind::Email => LocatorKindDto::Email,
                    LocatorKind::Phone => LocatorKindDto::Phone,
                },
                value: l.locator.value().to_owned(),
                verified: l.verified,
            })
            .collect(),
        created_at: u.created_at,
    }
}

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
        },
        has_upstream_tokens: f.sealed_tokens.is_some(),
        created_at: f.created_at,
        last_login_at: f.last_login_at,
    }
}

/// The user named in a path, or 404 (malformed ids name nobody).
pub(crate) fn path_user_id(text: &str) -> Result<UserId, ApiError> {
    UserId::parse(text).ok_or_else(|| ApiError::not_found("user"))
}

/// The user named in a path, if it exists in the application; 404 otherwise.
pub(crate) async fn existing_user(
    state: &AppState,
    app: ApplicationId,
    text: &str,
) -> Result<UserId, ApiError> {
    let id = path_user_id(text)?;
    if state.store.get_user(app, &id).await?.is_none() {
        return Err(ApiError::not_found("user"));
    }
    Ok(id)
}
