//! Applications.

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

/// Body to create or rename an application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationRequest {
    /// 1 to 100 characters.
    #[cfg_attr(feature = "openapi", schema(example = "Chat"))]
    pub name: String,
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDto {
    /// Application id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One of an application's user-token signing keys and where it is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyDto {
    /// Key id (the JWT header's `kid`).
    pub kid: String,
    /// `next` (published, not signing yet), `signing`, `retired` (published for the
    /// tokens it signed) or `removed`.
    pub status: String,
    /// Created, and published in the JWKS.
    pub created_at: DateTime<Utc>,
    /// Becomes (or became) the signing key.
    pub activates_at: DateTime<Utc>,
    /// Stopped signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<DateTime<Utc>>,
    /// Leaves the JWKS: tokens it signed fail verification from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<DateTime<Utc>>,
}

/// An application's user-token signing keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SigningKeysDto {
    /// Every key not yet deleted, earliest activation first.
    pub keys: Vec<SigningKeyDto>,
    /// Where apps fetch the published keys.
    pub jwks_uri: String,
    /// After a rotation, the next key signs this many seconds later (the JWKS
    /// `max-age` plus the instances' key cache).
    pub next_key_delay_seconds: i64,
    /// A retired key stays published this long (the longest token lifetime).
    pub retired_key_retention_seconds: i64,
}
