//! Application API: the application's users and their locators.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use fedgate_domain::ValidationError;
use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::ids::UserId;
use fedgate_domain::ports::{LocatorChange, LocatorChangeOutcome, StoreError};
use fedgate_domain::user::{Locator, LocatorKind, User, UserLocator};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::error::ErrorCode;
use fedgate_wire::users::{
    CreateUserRequest, LocatorDto, LocatorKindDto, UpdateUserRequest, UserDto, UserListDto,
};

use crate::directory::users::{UserQuery, find, get_one, path_user_id, user_dto};
use crate::error::ApiError;
use crate::signed::SignedRequest;
use crate::state::AppState;

/// At most this many locators per user at creation.
const MAX_LOCATORS: usize = 20;
/// Screen names are at most this many characters.
const MAX_SCREEN_NAME: usize = 200;

fn screen_name(field: &'static str, name: Option<&str>) -> Result<Option<String>, ApiError> {
    match name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > MAX_SCREEN_NAME => {
            Err(ValidationError::new(field, "must be at most 200 characters").into())
        }
        Some(n) if n.chars().any(char::is_control) => {
            Err(ValidationError::new(field, "must not contain control characters").into())
        }
        Some(n) => Ok(Some(n.to_owned())),
    }
}

fn kind(k: LocatorKindDto) -> LocatorKind {
    match k {
        LocatorKindDto::Email => LocatorKind::Email,
        LocatorKindDto::Phone => LocatorKind::Phone,
    }
}

fn locator(field: &'static str, l: &LocatorDto) -> Result<UserLocator, ApiError> {
    Ok(UserLocator {
        locator: Locator::parse(kind(l.kind), field, &l.value)?,
        verified: l.verified,
    })
}

/// A locator named in a path: `email:ann@example.com` or `phone:+14155550123`.
fn path_locator(text: &str) -> Result<Locator, ApiError> {
    Locator::parse_prefixed("locator", text).map_err(|_| ApiError::not_found("locator"))
}

fn locator_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::LocatorTaken,
        "another user of this application has this locator",
    )
}

/// `POST /api/v1/users`: creates a user.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserDto),
        (status = 400, description = "`malformed_json`, `invalid_body`", body = ErrorBody),
        (status = 422, description = "`validation_failed`, with the offending `field`", body = ErrorBody),
        (status = 409, description = "`user_id_taken`, `locator_taken`", body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    signed: SignedRequest,
) -> Result<HttpResponse, ApiError> {
    let body: CreateUserRequest = signed.json()?;
    let app = signed.application.id;
    let id = match body.id.as_deref() {
        Some(text) => UserId::parse(text).ok_or_else(|| {
            ValidationError::new(
                "id",
                "must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
            )
        })?,
        None => UserId::generate(),
    };
    if body.locators.len() > MAX_LOCATORS {
        return Err(ValidationError::new("locators", "at most 20 locators").into());
    }
    let mut locators: Vec<UserLocator> = Vec::with_capacity(body.locators.len());
    for (i, l) in body.locators.iter().enumerate() {
        let parsed = locator("locators", l).map_err(|e| e.with_field(format!("locators[{i}]")))?;
        let same = |o: &UserLocator| {
            o.locator.kind() == parsed.locator.kind()
                && o.locator.normalized() == parsed.locator.normalized()
        };
        if locators.iter().any(same) {
            return Err(
                ApiError::from(ValidationError::new("locators", "the same locator twice"))
                    .with_field(format!("locators[{i}]")),
            );
        }
        locators.push(parsed);
    }
    let now = state.clock.now();
    let user = User {
        id,
        application_id: app,
        screen_name: screen_name("screenName", body.screen_name.as_deref())?,
        locators,
        created_at: now,
    };
    let mut event = Event::new(app, EventKind::UserCreated, now);
    event.user_id = Some(user.id.clone());
    match state.store.create_user(&user, Some(event)).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            // Which unique key: the id, or one of the locators.
            return Err(if state.store.get_user(app, &user.id).await?.is_some() {
                ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::UserIdTaken,
                    "a user with this id already exists",
                )
            } else {
                locator_taken()
            });
        }
        Err(e) => return Err(e.into()),
    }
    Ok(HttpResponse::Created().json(user_dto(&user)))
}

/// `GET /api/v1/users`: find by locator, get many by id, or list in id order.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(UserQuery),
    responses(
        (status = 200, body = UserListDto),
        (status = 400, description = "`invalid_query`, `validation_failed`", body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    signed: SignedRequest,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = find(&state, signed.application.id, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// `GET /api/v1/users/{userId}`.
#[utoipa::path(
    get,
    path = "/api/v1/users/{userId}",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    responses(
        (status = 200, body = UserDto),
        (status = 404, description = "`not_found`: no such user in this application", body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(get_one(&state, signed.application.id, &path).await?))
}

/// `PATCH /api/v1/users/{userId}`: updates the profile.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{userId}",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserDto),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_user_id(&path)?;
    let body: UpdateUserRequest = signed.json()?;
    let app = signed.application.id;
    let user = match body.screen_name {
        Some(name) => {
            let name = screen_name("screenName", name.as_deref())?;
            state
                .store
                .update_user(app, &id, name.as_deref(), state.clock.now())
                .await?
        }
        None => state.store.get_user(app, &id).await?,
    };
    let user = user.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(HttpResponse::Ok().json(user_dto(&user)))
}

/// `DELETE /api/v1/users/{userId}`: deletes the user, its locators and tokens; its
/// federated users become unlinked.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{userId}",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_user_id(&path)?;
    let app = signed.application.id;
    let now = state.clock.now();
    let event = Event::new(app, EventKind::UserDeleted, now);
    let deleted = state.store.delete_user(app, &id, now, event).await?;
    // Its tokens' verdicts go with it, deleted or not (a concurrent deletion elsewhere).
    state.hot.forget_application(app);
    if !deleted {
        return Err(ApiError::not_found("user"));
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn change(
    state: &AppState,
    signed: &SignedRequest,
    user: &str,
    change: LocatorChange,
) -> Result<HttpResponse, ApiError> {
    let id = path_user_id(user)?;
    let created = matches!(change, LocatorChange::Add(_));
    let outcome = state
        .store
        .change_locator(signed.application.id, &id, &change, state.clock.now())
        .await;
    match outcome {
        Ok(LocatorChangeOutcome::Changed(user)) => Ok(if created {
            HttpResponse::Created().json(user_dto(&user))
        } else {
            HttpResponse::Ok().json(user_dto(&user))
        }),
        Ok(LocatorChangeOutcome::NoSuchUser) => Err(ApiError::not_found("user")),
        Ok(LocatorChangeOutcome::NoSuchLocator) => Err(ApiError::not_found("locator")),
        Err(StoreError::Conflict(_)) => Err(locator_taken()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/users/{userId}/locators`: adds a locator.
#[utoipa::path(
    post,
    path = "/api/v1/users/{userId}/locators",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path)),
    request_body = LocatorDto,
    responses(
        (status = 201, description = "The user with the new locator", body = UserDto),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`locator_taken`", body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn add_locator(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body: LocatorDto = signed.json()?;
    let l = locator("value", &body)?;
    change(&state, &signed, &path, LocatorChange::Add(l)).await
}

/// `DELETE /api/v1/users/{userId}/locators/{locator}`: removes a locator, named as
/// `email:ann@example.com` or `phone:+14155550123` (percent-encoded in the path).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{userId}/locators/{locator}",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path), ("locator" = String, Path, description = "`email:<address>` or `phone:<E.164>`")),
    responses(
        (status = 200, description = "The user without the locator", body = UserDto),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn remove_locator(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (user, text) = path.into_inner();
    let l = path_locator(&text)?;
    change(&state, &signed, &user, LocatorChange::Remove(l)).await
}

/// `POST /api/v1/users/{userId}/locators/{locator}/verify`: marks a locator verified.
#[utoipa::path(
    post,
    path = "/api/v1/users/{userId}/locators/{locator}/verify",
    tag = "application api",
    security(("accessKeyId" = [], "timestamp" = [], "nonce" = [], "signature" = [])),
    params(("userId" = String, Path), ("locator" = String, Path, description = "`email:<address>` or `phone:<E.164>`")),
    responses(
        (status = 200, description = "The user with the locator verified", body = UserDto),
        (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn verify_locator(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (user, text) = path.into_inner();
    let l = path_locator(&text)?;
    change(&state, &signed, &user, LocatorChange::Verify(l)).await
}
