//! Properties: typed configuration of an application.

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

/// How login results reach the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResultDelivery {
    /// The reference parameters in the redirect's query.
    #[default]
    Query,
    /// A single-use `resultCode` the app's backend redeems.
    Code,
}

const fn yes() -> bool {
    true
}

/// Create or replace a property. `kind` selects the shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PropertyRequest {
    /// New Property › Google › Credentials › OAuth Credentials.
    GoogleOauthCredentials(GoogleCredentialsRequest),
    /// New Property › Fedgate › OAuth Integration.
    OauthIntegration(OauthIntegrationRequest),
}

/// Google OAuth credentials as shown in the Google console.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleCredentialsRequest {
    /// Your label for this property.
    pub instance_name: String,
    /// OAuth client id.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "1234-abc.apps.googleusercontent.com")
    )]
    pub client_id: String,
    /// OAuth client secret. Required on create; omit on update to keep the stored one.
    /// Never returned.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Password, write_only))]
    pub client_secret: Option<String>,
    /// Google project number (digits); informational.
    #[serde(default)]
    pub project_number: Option<String>,
    /// Google application name; informational.
    #[serde(default)]
    pub application_name: Option<String>,
}

/// How Fedgate talks back to your app.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OauthIntegrationRequest {
    /// Your label for this property.
    pub instance_name: String,
    /// 1 to 10 absolute https URIs (http only on localhost / 127.0.0.1 / [::1]),
    /// without fragment or wildcard; matched exactly at login.
    #[cfg_attr(feature = "openapi", schema(example = json!(["https://app.example.com/auth/callback"])))]
    pub redirect_uris: Vec<String>,
    /// Login requests must be signed with an access key (and a refresh token is returned).
    #[serde(default)]
    pub require_state_signing: bool,
    /// `query` (default) or `code`.
    #[serde(default)]
    pub result_delivery: ResultDelivery,
    /// Create a user when a new person signs in and no existing user matches (default true).
    #[serde(default = "yes")]
    pub auto_create_users: bool,
}

/// A property as stored (secrets never included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PropertyDto {
    /// Google OAuth credentials.
    GoogleOauthCredentials(GoogleCredentialsDto),
    /// OAuth integration.
    OauthIntegration(OauthIntegrationDto),
}

/// Stored Google OAuth credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GoogleCredentialsDto {
    /// Property id.
    pub id: String,
    /// Label.
    pub instance_name: String,
    /// OAuth client id.
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
    /// Project number.
    pub project_number: Option<String>,
    /// Application name.
    pub application_name: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Stored OAuth integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OauthIntegrationDto {
    /// Property id.
    pub id: String,
    /// Label.
    pub instance_name: String,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Signed login requests required.
    pub require_state_signing: bool,
    /// Result delivery.
    pub result_delivery: ResultDelivery,
    /// Auto-create users.
    pub auto_create_users: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for GoogleCredentialsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleCredentialsRequest")
            .field("instance_name", &self.instance_name)
            .field("client_id", &self.client_id)
            .field("project_number", &self.project_number)
            .field("application_name", &self.application_name)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}
