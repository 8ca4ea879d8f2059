//! The error body every endpoint returns.

use serde::{Deserialize, Serialize};

/// `{ "code": "...", "message": "...", "requestId": "..." }`, plus the offending
/// field for validation errors. `code` is stable; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request id, also in the `X-Request-Id` header and the server's logs.
    pub request_id: String,
    /// For `validation_failed`: the input field, e.g. `redirectUris[1]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
