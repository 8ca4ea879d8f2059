//! Subscriber accounts: sign up, sign in, sign out, me.

use fedgate_wire::error::ErrorCode;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use fedgate_domain::email::Email;
use fedgate_domain::ids::SubscriberId;
use fedgate_domain::password::NewPassword;
use fedgate_domain::ports::StoreError;
use fedgate_domain::subscriber::Subscriber;
use fedgate_wire::account::{Credentials, SessionDto, SubscriberDto};
use fedgate_wire::error::ErrorBody;
use secrecy::SecretString;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::session::{self, SubscriberSession};
use crate::state::AppState;
use crate::throttle::Limit;

fn dto(s: &Subscriber) -> SubscriberDto {
    SubscriberDto {
        id: s.id.to_string(),
        email: s.email.to_string(),
        created_at: s.created_at,
    }
}

async fn signed_in(
    state: &AppState,
    subscriber: &Subscriber,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let new = session::start(state, subscriber.id).await?;
    Ok(HttpResponse::build(status)
        .cookie(session::cookie(state, new.token))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(SessionDto {
            subscriber: dto(subscriber),
            csrf_token: new.csrf_token,
        }))
}

/// `POST /manage/v1/signup`: creates an account and signs it in.
#[utoipa::path(
    post,
    path = "/manage/v1/signup",
    tag = "account",
    request_body = Credentials,
    responses(
        (status = 201, description = "Account created; session cookie set", body = SessionDto),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody)
    )
)]
pub async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<Credentials>,
) -> Result<HttpResponse, ApiError> {
    session::require_same_origin(&state, &req)?;
    let Credentials { email, password } = body.into_inner();
    let email = Email::parse("email", &email)?;
    let password = NewPassword::parse(SecretString::from(password))?;
    let per_address = Limit {
        name: "signup-address",
        limit: state.settings.limits.signups_per_address_per_hour,
        window: Duration::from_secs(3600),
    };
    per_address
        .hit(state.state.as_ref(), &state.client_ip(&req))
        .await?;
    let hash = state
        .hashing
        .run(move || password.hash())
        .await?
        .map_err(ApiError::internal)?;
    let subscriber = match state
        .store
        .create_subscriber(SubscriberId::generate(), &email, &hash, state.clock.now())
        .await
    {
        Ok(s) => s,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "an account with this email already exists",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(subscriber_id = %subscriber.id, "subscriber signed up");
    signed_in(&state, &subscriber, StatusCode::CREATED).await
}

/// `POST /manage/v1/signin`: signs in with email and password.
#[utoipa::path(
    post,
    path = "/manage/v1/signin",
    tag = "account",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; session cookie set", body = SessionDto),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many failed attempts", body = ErrorBody)
    )
)]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<Credentials>,
) -> Result<HttpResponse, ApiError> {
    session::require_same_origin(&state, &req)?;
    let Credentials { email, password } = body.into_inner();
    let address = state.client_ip(&req);
    let subscriber = crate::sign_in::sign_in(&state, &email, password, &address).await?;
    tracing::info!(subscriber_id = %subscriber.id, "subscriber signed in");
    signed_in(&state, &subscriber, StatusCode::OK).await
}

/// `POST /manage/v1/signout`: ends the session.
#[utoipa::path(
    post,
    path = "/manage/v1/signout",
    tag = "account",
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Signed out; cookie cleared"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn sign_out(
    state: web::Data<AppState>,
    session: SubscriberSession,
) -> Result<HttpResponse, ApiError> {
    session.end(state.state.as_ref()).await?;
    Ok(HttpResponse::NoContent()
        .cookie(session::removal_cookie(&state))
        .finish())
}

/// `GET /manage/v1/me`: the signed-in subscriber and the session's CSRF token.
#[utoipa::path(
    get,
    path = "/manage/v1/me",
    tag = "account",
    security(("session" = [])),
    responses((status = 200, body = SessionDto), (status = 401, description = "`not_signed_in` or `session_expired`", body = ErrorBody))
)]
pub async fn me(
    state: web::Data<AppState>,
    session: SubscriberSession,
) -> Result<HttpResponse, ApiError> {
    let subscriber = state
        .store
        .get_subscriber(session.subscriber_id)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                ErrorCode::SessionExpired,
                "your session has expired; sign in again",
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(SessionDto {
            subscriber: dto(&subscriber),
            csrf_token: session.csrf_token,
        }))
}
