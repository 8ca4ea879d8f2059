//! The application API: endpoints for app backends, signed with an access key.

use actix_web::HttpResponse;
use fedgate_wire::app_api::CallingApplicationDto;
use fedgate_wire::error::ErrorBody;

use crate::signed::SignedRequest;

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
