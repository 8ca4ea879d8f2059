//! User tokens on the wire: issuing through [`fedgate_tokens::TokenKeys`] and mapping
//! key failures to API errors.

use fedgate_domain::ids::{ApplicationId, UserId};
use fedgate_tokens::KeyError;
use fedgate_wire::users::IssuedTokenDto;

use crate::error::ApiError;
use crate::state::AppState;

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Store(s) => s.into(),
            other => Self::internal(other),
        }
    }
}

/// Issues a token for `user`: records it, then mints it.
pub async fn issue(
    state: &AppState,
    app: ApplicationId,
    user: &UserId,
    ttl_seconds: i64,
) -> Result<IssuedTokenDto, ApiError> {
    let (plan, minted) = state.tokens.issue(app, user, ttl_seconds).await?;
    Ok(IssuedTokenDto {
        token: minted.token,
        token_id: plan.id.to_string(),
        user_id: user.to_string(),
        issued_at: plan.issued_at,
        expires_at: plan.expires_at,
    })
}
