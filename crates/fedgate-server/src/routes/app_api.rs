//! The application API: endpoints for app backends, signed with an access key.

use actix_web::{HttpResponse, web};
use fedgate_domain::login::LoginResult;
use fedgate_wire::app_api::{CallingApplicationDto, LoginResultDto, RedeemResultRequest};
use fedgate_wire::error::ErrorBody;

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
