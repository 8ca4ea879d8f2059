//! The application's public signing keys, for verifying user tokens offline.

use actix_web::{HttpResponse, web};
use fedgate_domain::ids::ApplicationId;
use fedgate_wire::error::ErrorBody;

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /hosted/{appId}/jwks.json`: public, cacheable.
#[utoipa::path(
    get,
    path = "/hosted/{appId}/jwks.json",
    tag = "hosted login",
    params(("appId" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "`{\"keys\": [{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":…,\"kid\":…,\"alg\":\"EdDSA\",\"use\":\"sig\"}]}`"),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn jwks(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = ApplicationId::parse(&path).ok_or_else(|| ApiError::not_found("application"))?;
    state
        .store
        .find_application(app)
        .await?
        .ok_or_else(|| ApiError::not_found("application"))?;
    // The next key of a rotation, the signing key, and retired keys until the tokens
    // they signed have expired.
    let keys = state.tokens.jwks(app).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            format!("public, max-age={}", fedgate_tokens::JWKS_MAX_AGE_SECONDS),
        ))
        .json(serde_json::json!({ "keys": keys })))
}
