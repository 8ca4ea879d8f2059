//! Users of an application, as both APIs read them.

use fedgate_domain::ValidationError;
use fedgate_domain::ids::{ApplicationId, UserId};
use fedgate_domain::user::{Locator, LocatorKind, User};
use fedgate_wire::users::{LocatorDto, LocatorKindDto, UserDto, UserListDto};
use serde::Deserialize;

use fedgate_wire::error::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

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

/// At most this many ids per `ids` query.
const MAX_IDS: usize = 100;

/// Page size bounds of the user list.
const DEFAULT_LIMIT: u64 = 50;

const MAX_LIMIT: u64 = 200;

/// Query of `GET /api/v1/users`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Find the user owning this locator, e.g. `email:ann@example.com`.
    locator: Option<String>,
    /// Get these users: comma-separated ids (at most 100); absent ones are left out.
    ids: Option<String>,
    /// List: ids after this one (the previous page's `next`).
    after: Option<String>,
    /// List: page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// Finds by locator, gets many by id, or lists a page: the user list of both APIs.
pub(crate) async fn find(
    state: &AppState,
    app: ApplicationId,
    q: UserQuery,
) -> Result<UserListDto, ApiError> {
    let selectors = [
        q.locator.is_some(),
        q.ids.is_some(),
        q.after.is_some() || q.limit.is_some(),
    ];
    if selectors.iter().filter(|s| **s).count() > 1 {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "use one of: locator, ids, or after/limit",
        ));
    }
    let (users, next) = if let Some(text) = q.locator {
        let l = Locator::parse_prefixed("locator", &text)?;
        (
            state
                .store
                .find_user_by_locator(app, &l)
                .await?
                .into_iter()
                .collect(),
            None,
        )
    } else if let Some(text) = q.ids {
        let ids: Vec<&str> = text.split(',').filter(|s| !s.is_empty()).collect();
        if ids.len() > MAX_IDS {
            return Err(ValidationError::new("ids", "at most 100 ids").into());
        }
        // Ids that cannot exist are simply absent, as unknown ones are.
        let ids: Vec<UserId> = ids.into_iter().filter_map(UserId::parse).collect();
        (state.store.get_users(app, &ids).await?, None)
    } else {
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new("limit", "must be 1 to 200").into());
        }
        let after = match q.after.as_deref() {
            Some(a) => Some(
                UserId::parse(a).ok_or_else(|| ValidationError::new("after", "not a user id"))?,
            ),
            None => None,
        };
        let users = state.store.list_users(app, after.as_ref(), limit).await?;
        let full = u64::try_from(users.len()).unwrap_or(u64::MAX) == limit;
        let next = users.last().filter(|_| full).map(|u| u.id.to_string());
        (users, next)
    };
    Ok(UserListDto {
        users: users.iter().map(user_dto).collect(),
        next,
    })
}

/// One user of the application, or 404.
pub(crate) async fn get_one(
    state: &AppState,
    app: ApplicationId,
    text: &str,
) -> Result<UserDto, ApiError> {
    let id = path_user_id(text)?;
    let user = state
        .store
        .get_user(app, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(user_dto(&user))
}
