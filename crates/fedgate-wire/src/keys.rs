//! Access keys.

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

/// An access key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyDto {
    /// Key id, sent as `X-Fedgate-Key-Id`.
    #[cfg_attr(feature = "openapi", schema(example = "fgk_3f9a0c1d2e4b5a6978c0d1e2"))]
    pub id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last successful use (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time; revoked keys authenticate nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just created, with its secret: shown this once, never again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccessKeyDto {
    /// The key.
    pub key: AccessKeyDto,
    /// The secret. Store it now: Fedgate cannot show it again.
    pub secret: String,
}

impl std::fmt::Debug for CreatedAccessKeyDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAccessKeyDto")
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .finish()
    }
}
