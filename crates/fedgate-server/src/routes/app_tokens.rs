//! Application API: user tokens — issue, list, revoke, verify.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use fedgate_domain::ValidationError;
use fedgate_domain::ids::TokenId;
use fedgate_wire::error::ErrorBody;
use fedgate_wire::users::{
    IssueTokenRequest, IssuedTokenDto, RevokedDto, TokenVerdictDto, UserTokenListDto,
    VerifyTokenRequest,
};

use crate::directory::tokens::{of_user, revoke_all_of, revoke_one_of};
use crate::directory::users::{existing_user, user_dto};
use crate::error::ApiError;
use crate::signed::SignedRequest;
use crate::state::AppState;

/// Token lifetimes the API accepts: one minute to 30 days.
const MIN_TTL: i64 = 60;
const MAX_TTL: i64 = fedgate_tokens::MAX_TOKEN_TTL_SECONDS;
/// Longer strings are not tokens Fedgate issued.
const MAX_TOKEN_LEN: usize = 4096;
/// `lastSeenAt` is refreshed at most this often.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// `POST /api/v1/users/{userId}/tokens`: issues a user token.
#[utoipa::path(
    post,
    path = "/api/v1/users/{userId}/tokens",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    request_body = IssueTokenRequest,
    responses(
        (status = 201, body = IssuedTokenDto),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `ttlSeconds` out of range", body = ErrorBody)
    )
)]
pub async fn issue(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body: IssueTokenRequest = signed.json()?;
    let ttl = body
        .ttl_seconds
        .unwrap_or(state.settings.user_token_ttl_seconds);
    if !(MIN_TTL..=MAX_TTL).contains(&ttl) {
        return Err(ValidationError::new("ttlSeconds", "must be 60 to 2592000").into());
    }
    let app = signed.application.id;
    let user = existing_user(&state, app, &path).await?;
    // A user deleted between the check and the record makes the record fail its
    // foreign key: reported as unavailable, nothing issued.
    let issued = crate::tokens::issue(&state, app, &user, ttl).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(issued))
}

/// `GET /api/v1/users/{userId}/tokens`: the user's unexpired tokens (revoked ones
/// included, with `revokedAt`).
#[utoipa::path(
    get,
    path = "/api/v1/users/{userId}/tokens",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    responses(
        (status = 200, body = UserTokenListDto),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(of_user(&state, signed.application.id, &path).await?))
}

/// `DELETE /api/v1/users/{userId}/tokens`: revokes all of the user's tokens.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{userId}/tokens",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    responses(
        (status = 200, body = RevokedDto),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn revoke_all(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(revoke_all_of(&state, signed.application.id, &path).await?))
}

/// `DELETE /api/v1/users/{userId}/tokens/{tokenId}`: revokes one token.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{userId}/tokens/{tokenId}",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path), ("tokenId" = String, Path)),
    responses(
        (status = 200, description = "`revoked` is 0 when it was already revoked", body = RevokedDto),
        (status = 404, description = "`not_found`: no such user, or no such token of this user", body = ErrorBody)
    )
)]
pub async fn revoke_one(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (user, token) = path.into_inner();
    let revoked = revoke_one_of(&state, signed.application.id, &user, &token).await?;
    Ok(HttpResponse::Ok().json(revoked))
}

fn inactive(reason: &str) -> TokenVerdictDto {
    TokenVerdictDto {
        active: false,
        reason: Some(reason.to_owned()),
        token_id: None,
        expires_at: None,
        user: None,
    }
}

/// `POST /api/v1/tokens/verify`: checks a user token — signature, issuer, audience
/// (this application), expiry, revocation, the user still existing — and returns its
/// user. An invalid token is a `200` with `active: false` and the reason.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/verify",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    request_body = VerifyTokenRequest,
    responses(
        (status = 200, body = TokenVerdictDto)
    )
)]
pub async fn verify(
    state: web::Data<AppState>,
    signed: SignedRequest,
) -> Result<HttpResponse, ApiError> {
    let body: VerifyTokenRequest = signed.json()?;
    let app = signed.application.id;
    let now = state.clock.now();
    let no_store = (actix_web::http::header::CACHE_CONTROL, "no-store");
    if body.token.len() > MAX_TOKEN_LEN {
        return Ok(HttpResponse::Ok()
            .insert_header(no_store)
            .json(inactive("malformed")));
    }
    // An active verdict reached less than a second ago for this exact token, which
    // has not expired since, is given again (see `crate::hot`).
    let digest = crate::hot::token_digest(&body.token);
    if let Some(cached) = state.hot.verdict(app, digest, now) {
        return Ok(HttpResponse::Ok()
            .insert_header(no_store)
            .content_type("application/json")
            .body(cached.body));
    }
    let seen = state.hot.generation();
    let verdict = check_token(&state, app, &body.token, now).await?;
    let bytes = actix_web::web::Bytes::from(
        serde_json::to_vec(&verdict).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?,
    );
    if let (true, Some(expires_at)) = (verdict.active, verdict.expires_at) {
        state.hot.put_verdict(
            app,
            digest,
            crate::hot::CachedVerdict {
                body: bytes.clone(),
                expires_at,
            },
            seen,
        );
    }
    Ok(HttpResponse::Ok()
        .insert_header(no_store)
        .content_type("application/json")
        .body(bytes))
}

/// The full check of a user token: signature, issuer, audience, expiry, its record
/// (revocation) and its user.
async fn check_token(
    state: &AppState,
    app: fedgate_domain::ids::ApplicationId,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<TokenVerdictDto, ApiError> {
    let verifier = state.tokens.verifier(app).await?;
    let claims = match verifier.verify(token, now.timestamp()) {
        Ok(c) => c,
        Err(r) => return Ok(inactive(r.as_str())),
    };
    let Some(id) = TokenId::parse(&claims.jti) else {
        return Ok(inactive("malformed"));
    };
    // Revocation lives in the database, so it holds on every instance; a deleted
    // user's records are gone with it.
    let record = match state.store.get_user_token(app, id).await? {
        Some(r) if r.revoked_at.is_none() && r.user_id.as_str() == claims.sub => r,
        _ => return Ok(inactive("revoked")),
    };
    let Some(user) = state.store.get_user(app, &record.user_id).await? else {
        return Ok(inactive("unknown_user"));
    };
    let stale = record
        .last_seen_at
        .is_none_or(|seen| now - seen >= Duration::seconds(TOUCH_INTERVAL_SECONDS));
    if stale {
        state.store.touch_user_token(id, now).await?;
    }
    Ok(TokenVerdictDto {
        active: true,
        reason: None,
        token_id: Some(id.to_string()),
        expires_at: Some(record.expires_at),
        user: Some(user_dto(&user)),
    })
}
