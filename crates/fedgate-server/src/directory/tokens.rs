//! A user's tokens: listing and revocation, for both APIs.

use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_wire::users::{RevokedDto, UserTokenDto, UserTokenListDto};

use super::users::existing_user;
use crate::error::ApiError;
use crate::state::AppState;

/// A user's unexpired tokens.
pub(crate) async fn of_user(
    state: &AppState,
    app: ApplicationId,
    user: &str,
) -> Result<UserTokenListDto, ApiError> {
    let user = existing_user(state, app, user).await?;
    let tokens = state
        .store
        .list_user_tokens(app, &user, state.clock.now())
        .await?;
    Ok(UserTokenListDto {
        tokens: tokens
            .into_iter()
            .map(|t| UserTokenDto {
                token_id: t.id.to_string(),
                issued_at: t.issued_at,
                expires_at: t.expires_at,
                last_seen_at: t.last_seen_at,
                revoked_at: t.revoked_at,
            })
            .collect(),
    })
}

/// Revokes all of a user's tokens.
pub(crate) async fn revoke_all_of(
    state: &AppState,
    app: ApplicationId,
    user: &str,
) -> Result<RevokedDto, ApiError> {
    let user = existing_user(state, app, user).await?;
    let revoked = revoke(state, app, &user, None).await?;
    Ok(RevokedDto { revoked })
}

/// Revokes one token of a user; 404 unless the token is that user's.
pub(crate) async fn revoke_one_of(
    state: &AppState,
    app: ApplicationId,
    user: &str,
    token: &str,
) -> Result<RevokedDto, ApiError> {
    let id = TokenId::parse(token).ok_or_else(|| ApiError::not_found("token"))?;
    // The token's record names its user, who exists while the record does.
    let owner = state
        .store
        .get_user_token(app, id)
        .await?
        .map(|t| t.user_id)
        .filter(|owner| owner.as_str() == user)
        .ok_or_else(|| ApiError::not_found("token"))?;
    let revoked = revoke(state, app, &owner, Some(id)).await?;
    Ok(RevokedDto { revoked })
}

async fn revoke(
    state: &AppState,
    app: ApplicationId,
    user: &UserId,
    token: Option<TokenId>,
) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let event = Event::new(app, EventKind::UserTokensRevoked, now);
    let revoked = state
        .store
        .revoke_user_tokens(app, user, token, now, event)
        .await;
    state.hot.forget_application(app);
    Ok(revoked?)
}
