//! Application API (signed with an access key).

use serde::{Deserialize, Serialize};

/// The application a signed request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallingApplicationDto {
    /// Application id.
    pub id: String,
    /// Application name.
    pub name: String,
    /// The access key that signed the request.
    pub access_key_id: String,
}
