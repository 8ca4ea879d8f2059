//! Hosted services: the tiles of the Hosted Services page.

use chrono::{DateTime, Utc};
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
    /// The last error the provider answered a login with (kept 30 days).
    #[serde(default)]
    pub last_upstream_error: Option<UpstreamErrorDto>,
    /// The application's recent refused login starts at this provider, newest first.
    #[serde(default)]
    pub refused_starts: Vec<RefusedStartDto>,
}

/// A login start Fedgate refused, with what was sent and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefusedStartDto {
    /// When.
    pub at: DateTime<Utc>,
    /// The provider slug the start named.
    pub provider: String,
    /// Stable reason: `redirect_uri_unregistered`, `redirect_uri_missing`,
    /// `signature_invalid:<check>`, `signature_foreign_key`, `service_inactive`,
    /// `provider_unknown`.
    pub reason: String,
    /// What the person was told.
    pub message: String,
    /// For a redirect URI refusal: the received URI next to the registered ones.
    pub redirect_uri: Option<RedirectUriDiagnosisDto>,
    /// For a signature refusal: which check failed.
    pub signature: Option<SignatureDiagnosisDto>,
    /// For an inactive service: its reasons then.
    #[serde(default)]
    pub inactive_reasons: Vec<DiagnosedReasonDto>,
}

/// The `redirect_uri` a start sent next to the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RedirectUriDiagnosisDto {
    /// What the start sent (absent: no `redirect_uri`).
    pub received: Option<String>,
    /// Each registered redirect URI with where the received one first differs.
    pub registered: Vec<RegisteredUriDto>,
}

/// A registered redirect URI compared with the received one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegisteredUriDto {
    /// The registered URI.
    pub uri: String,
    /// Index (in characters, from 0) of the first character where the received URI
    /// differs; the shorter one's length when one is a prefix of the other.
    pub first_difference: usize,
}

/// The failed check of a signed login start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignatureDiagnosisDto {
    /// The check: `signature_missing`, `signature_malformed`, `access_key_unknown`,
    /// `access_key_revoked`, `timestamp_out_of_window`, `signature_mismatch`,
    /// `nonce_reused`, `access_key_unusable` or `signature_foreign_key`.
    pub check: String,
    /// The query parameter at fault: `accessKeyId`, `timestamp`, `nonce`, `signature`.
    pub parameter: Option<String>,
    /// The access key id the start named.
    pub access_key_id: Option<String>,
    /// The check's explanation.
    pub detail: String,
}

/// One reason, as diagnosed then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DiagnosedReasonDto {
    /// Stable code.
    pub code: String,
    /// What to do.
    pub message: String,
}

/// The last error a provider answered a login with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpstreamErrorDto {
    /// When.
    pub at: DateTime<Utc>,
    /// The login's failure reason, e.g. `provider_refused:invalid_client`,
    /// `provider_timeout`, `id_token_invalid:signature`.
    pub reason: String,
    /// The HTTP status the provider answered with, when that was the trouble.
    pub status: Option<u16>,
    /// The OAuth `error` it sent, if any.
    pub error: Option<String>,
    /// What happened.
    pub detail: String,
}

/// An application's redirect diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsDto {
    /// The last 20 refused login starts, newest first (every provider slug, unknown
    /// ones included).
    pub refused_starts: Vec<RefusedStartDto>,
    /// Each provider's last upstream error.
    pub providers: Vec<ProviderDiagnosisDto>,
}

/// One provider's last upstream error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProviderDiagnosisDto {
    /// The provider's slug.
    pub slug: String,
    /// Its display name.
    pub display_name: String,
    /// Its last upstream error, if one is kept.
    pub last_upstream_error: Option<UpstreamErrorDto>,
}
