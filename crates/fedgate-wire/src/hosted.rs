//! Hosted services: the tiles of the Hosted Services page.

use serde::{Deserialize, Serialize};

/// ACTIVE or INACTIVE, spelled as the reference manual does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum ServiceStatusDto {
    /// Ready for logins.
    Active,
    /// Missing or invalid configuration; see `reasons`.
    Inactive,
}

/// One missing or invalid piece.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InactiveReasonDto {
    /// Stable code: `missing_google_credentials`, `missing_oauth_integration`,
    /// `missing_client_secret`, `unreadable_client_secret`,
    /// `invalid_google_credentials`, `invalid_oauth_integration`,
    /// `invalid_openid_connect_provider`, `client_authentication_unsupported`, or a
    /// discovery failure: `discovery_unreachable`, `discovery_address_refused`,
    /// `discovery_not_https`, `discovery_http_status`, `discovery_invalid_json`,
    /// `discovery_issuer_mismatch`, `discovery_no_jwks`, `discovery_no_code_flow`,
    /// `discovery_no_s256`, `discovery_no_usable_algorithm`.
    pub code: String,
    /// What to do.
    pub message: String,
    /// The property kind that fixes it.
    pub property_kind: String,
    /// The offending property, if it exists.
    pub property_id: Option<String>,
    /// For a discovery failure: the issuer to check again
    /// (`POST …/discovery-check`) once the provider or the issuer is fixed.
    pub recheck_issuer: Option<String>,
}

/// A hosted service of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HostedServiceDto {
    /// Stable id of the kind: `google_authentication`, `openid_connect`.
    pub service: String,
    /// The provider's slug (`google` for Google): the URL segment of its endpoints and
    /// the `federationProvider` of its logins.
    pub slug: String,
    /// The provider's display name, e.g. "Google", "Acme SSO".
    pub display_name: String,
    /// Tile title, e.g. "Google Authentication Service".
    pub name: String,
    /// Label of `providerRedirectUri`, e.g. "Google Redirect URI".
    pub provider_redirect_uri_label: String,
    /// The callback to register at the provider (paste into the Google console).
    pub provider_redirect_uri: String,
    /// Label of `loginEndpoint`, e.g. "Google OAuth endpoint".
    pub login_endpoint_label: String,
    /// Where your app sends users to sign in.
    pub login_endpoint: String,
    /// ACTIVE or INACTIVE.
    pub status: ServiceStatusDto,
    /// Why it is INACTIVE (empty when ACTIVE).
    pub reasons: Vec<InactiveReasonDto>,
}
