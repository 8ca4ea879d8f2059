//! The event log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One event of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventDto {
    /// Event id (time-ordered; use as `before` to page).
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// `login_started`, `login_succeeded`, `login_failed`, `federated_user_linked`,
    /// `federated_user_unlinked`, `federated_user_detached`, `user_created`,
    /// `user_deleted`, `user_tokens_revoked`.
    pub kind: String,
    /// For successes: `new_user`, `linked_by_email`, `returning`, `candidates`, `unlinked`.
    pub outcome: Option<String>,
    /// For failures: a stable reason, e.g. `id_token_invalid:nonce`, `provider_error:access_denied`,
    /// `state_replayed`, `provider_unreachable`.
    pub reason: Option<String>,
    /// Detail for people.
    pub detail: Option<String>,
    /// Provider configuration key, e.g. `google`, `oidc:<property id>`.
    pub provider: Option<String>,
    /// The provider's slug (filter with `?provider=`), when it still exists.
    pub federation_provider: Option<String>,
    /// The provider's display name, when it still exists.
    pub provider_name: Option<String>,
    /// The federated user involved.
    pub federated_user_id: Option<String>,
    /// The user involved.
    pub user_id: Option<String>,
}
