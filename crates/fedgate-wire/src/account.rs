//! Subscriber sign-up, sign-in and session.

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

/// Body of sign-up and sign-in.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    /// Sign-in email.
    #[cfg_attr(feature = "openapi", schema(example = "ops@example.com"))]
    pub email: String,
    /// Password: 10 to 256 characters.
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

/// A subscriber account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SubscriberDto {
    /// Account id.
    pub id: String,
    /// Sign-in email.
    pub email: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// The signed-in subscriber and the CSRF token to send as `X-CSRF-Token` with
/// every state-changing request of this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    /// The account.
    pub subscriber: SubscriberDto,
    /// Send back as the `X-CSRF-Token` header on POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}
