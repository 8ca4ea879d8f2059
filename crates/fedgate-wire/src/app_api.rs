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

/// Body of `POST /api/v1/login-results/redeem`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedeemResultRequest {
    /// The `resultCode` from the redirect (single use, 60 seconds).
    pub result_code: String,
}

/// A login result: the reference manual's redirect parameters as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginResultDto {
    /// `GoogleFederationService` for Google, `OpenIdConnectFederationService` for
    /// OpenID Connect providers.
    pub federating_service: String,
    /// The provider's slug (`google` for Google).
    pub federation_provider: String,
    /// Candidate user ids for linking.
    pub link_candidates: Vec<String>,
    /// A user token, only when linked.
    pub auto_login_token: Option<String>,
    /// The federated user (not a user id).
    pub federated_user_id: String,
    /// The linked user, only when linked.
    pub linked_user: Option<String>,
    /// The provider's access token, plus `,` and the refresh token with state signing.
    pub external_service_tokens: String,
}
