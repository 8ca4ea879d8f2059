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
#[allow(
    clippy::large_enum_variant,
    reason = "a transient JSON shape, built once per request (the lint fires on 64-bit targets only)"
)]
pub enum PropertyRequest {
    /// New Property › Google › Credentials › OAuth Credentials.
    GoogleOauthCredentials(GoogleCredentialsRequest),
    /// New Property › Fedgate › OAuth Integration.
    OauthIntegration(OauthIntegrationRequest),
    /// New Property › OpenID Connect › Provider.
    OpenidConnectProvider(OpenidConnectProviderRequest),
    /// New Property › OAuth2 › Provider.
    Oauth2Provider(Oauth2ProviderRequest),
    /// Fedgate › Development sign-in (only while the development provider is on).
    DevelopmentProvider(DevelopmentProviderRequest),
    /// New Property › Fedgate › Webhook.
    Webhook(WebhookRequest),
}

/// A webhook: Fedgate POSTs the subscribed events to `url`, signed as the Standard
/// Webhooks specification says with a secret Fedgate makes and shows once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookRequest {
    /// Your label for this property.
    #[cfg_attr(feature = "openapi", schema(example = "Audit log"))]
    pub instance_name: String,
    /// Where deliveries are POSTed: https (the same address rules as provider URLs).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://app.example.com/hooks/fedgate")
    )]
    pub url: String,
    /// Event types: `user.created`, `user.deleted`, `identity.linked`,
    /// `identity.unlinked`, `identity.detached`, `login.succeeded`, `login.failed`,
    /// `token.revoked`.
    #[cfg_attr(feature = "openapi", schema(example = json!(["user.created", "login.failed"])))]
    pub event_types: Vec<String>,
}

/// A stored webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDto {
    /// Property id.
    pub id: String,
    /// Label.
    pub instance_name: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types subscribed to.
    pub event_types: Vec<String>,
    /// The signing secret (`whsec_…`): in the response that created the webhook only,
    /// never again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One message to a webhook and its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryDto {
    /// The message id: the `webhook-id` header of every attempt.
    pub id: String,
    /// The event type (or `webhook.test`).
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (given up after 24 hours).
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// When the message was written.
    pub created_at: DateTime<Utc>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt, if the endpoint answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The JSON body.
    pub payload: String,
}

/// Turns on an application's Development sign-in: the built-in development provider,
/// with no credentials. Refused (`409 dev_provider_off`) when it is off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevelopmentProviderRequest {
    /// Your label for this property.
    #[cfg_attr(feature = "openapi", schema(example = "Development sign-in"))]
    pub instance_name: String,
}

/// A stored Development sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DevelopmentProviderDto {
    /// Property id.
    pub id: String,
    /// Label.
    pub instance_name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What the panel needs to know about this Fedgate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstanceDto {
    /// The public base URL.
    pub public_base_url: String,
    /// The built-in development provider is on: applications can activate a
    /// Development sign-in, and `devAppCallback` may be registered as a redirect URI.
    pub dev_provider: bool,
    /// The development result page, when the development provider is on.
    pub dev_app_callback: Option<String>,
}

/// How Fedgate authenticates at a provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthentication {
    /// HTTP Basic (the default).
    #[default]
    ClientSecretBasic,
    /// Client id and secret in the form body.
    ClientSecretPost,
}

/// An OpenID Connect provider: a company's own identity server (Keycloak, GitLab,
/// Entra, Okta, Auth0, Authentik, ...), found by discovery.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenidConnectProviderRequest {
    /// Your label for this property.
    pub instance_name: String,
    /// URL segment of the provider's login and callback (`/hosted/{appId}/{slug}/…`):
    /// lowercase letters, digits and `-`; unique per application; fixed after creation.
    #[cfg_attr(feature = "openapi", schema(example = "acme-sso"))]
    pub slug: String,
    /// Shown on the Hosted Services tile and to end users.
    #[cfg_attr(feature = "openapi", schema(example = "Acme SSO"))]
    pub display_name: String,
    /// Issuer URL; discovery is at `{issuer}/.well-known/openid-configuration` and its
    /// `issuer` must equal this value character for character.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://sso.acme.example/realms/staff")
    )]
    pub issuer: String,
    /// OAuth client id registered at the provider.
    pub client_id: String,
    /// OAuth client secret. Required on create; omit on update to keep the stored one.
    /// Never returned.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Password, write_only))]
    pub client_secret: Option<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default)]
    pub client_authentication: ClientAuthentication,
    /// Scopes to ask for (default `openid email profile`; `openid` is always included).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// This provider verifies email addresses: its `email_verified` counts for linking
    /// to existing users (default false).
    #[serde(default)]
    pub verifies_emails: bool,
    /// When set, only emails of these domains count as verified.
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
    /// Microsoft Entra multi-tenant sign-in (issuer `…/common/v2.0` or
    /// `…/organizations/v2.0`) only: the tenant ids (GUIDs) whose people may sign in.
    /// Empty: any Microsoft Entra tenant — anyone with a work or school account.
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
}

/// Where each claim is in an OAuth2 provider's profile response: JSON pointers
/// (RFC 6901) such as `/id` or `/data/user/email`. Only `subject` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimMapping {
    /// The stable user id: a string or an integer (`123` and `"123"` are the same person).
    #[cfg_attr(feature = "openapi", schema(example = "/id"))]
    pub subject: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "/email"))]
    pub email: Option<String>,
    /// Whether the provider verified the email (`true` or `"true"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "/name"))]
    pub name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Login name at the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "/login"))]
    pub username: Option<String>,
}

/// A plain OAuth 2.0 server — no ID token, no discovery (GitHub, many in-house
/// platforms): who signed in is read from its profile endpoint through a claim mapping.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Oauth2ProviderRequest {
    /// Your label for this property.
    pub instance_name: String,
    /// URL segment of the provider's login and callback (`/hosted/{appId}/{slug}/…`):
    /// lowercase letters, digits and `-`; unique per application; fixed after creation.
    #[cfg_attr(feature = "openapi", schema(example = "platform"))]
    pub slug: String,
    /// Shown on the Hosted Services tile and to end users.
    #[cfg_attr(feature = "openapi", schema(example = "Our Platform"))]
    pub display_name: String,
    /// Authorization endpoint (the browser goes here).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://platform.example/oauth/authorize")
    )]
    pub authorization_url: String,
    /// Token endpoint. JSON and form-encoded answers are both read.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://platform.example/oauth/token")
    )]
    pub token_url: String,
    /// Profile (userinfo) endpoint, read with the access token in an
    /// `Authorization: Bearer` header.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://platform.example/api/me")
    )]
    pub profile_url: String,
    /// Optional GitHub-style list of the person's addresses (`email`, `primary`,
    /// `verified`): the primary address and its verification are used.
    #[serde(default)]
    pub emails_url: Option<String>,
    /// OAuth client id registered at the provider.
    pub client_id: String,
    /// OAuth client secret. Required on create; omit on update to keep the stored one.
    /// Never returned.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Password, write_only))]
    pub client_secret: Option<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default)]
    pub client_authentication: ClientAuthentication,
    /// Scopes to ask for (default none).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Send a PKCE S256 challenge (default true; turn off only for servers that
    /// reject it).
    #[serde(default = "yes")]
    pub pkce: bool,
    /// Issuer identifier recorded with each identity (default: the authorization
    /// URL's origin). Changing it makes returning people new identities.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Where the subject and profile claims are in the profile response.
    pub claim_mapping: ClaimMapping,
    /// This provider verifies email addresses: the mapped verification counts for
    /// linking to existing users (default false: mapped emails are never verified).
    #[serde(default)]
    pub verifies_emails: bool,
    /// When set, only emails of these domains count as verified.
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
}

/// A stored OAuth2 provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Oauth2ProviderDto {
    /// Property id.
    pub id: String,
    /// Label.
    pub instance_name: String,
    /// URL segment (fixed).
    pub slug: String,
    /// Display name.
    pub display_name: String,
    /// Authorization endpoint.
    pub authorization_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Profile endpoint.
    pub profile_url: String,
    /// Emails endpoint, if any.
    pub emails_url: Option<String>,
    /// OAuth client id.
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
    /// Token endpoint authentication.
    pub client_authentication: ClientAuthentication,
    /// Scopes.
    pub scopes: Vec<String>,
    /// PKCE S256 is sent.
    pub pkce: bool,
    /// Issuer identifier.
    pub issuer: String,
    /// Claim mapping.
    pub claim_mapping: ClaimMapping,
    /// The mapped email verification counts.
    pub verifies_emails: bool,
    /// Allowed email domains (empty: any).
    pub allowed_email_domains: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Try a claim mapping on a sample profile, before saving it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingPreviewRequest {
    /// The mapping to try.
    pub claim_mapping: ClaimMapping,
    /// A sample profile response, as JSON text (at most 64 KiB).
    #[cfg_attr(
        feature = "openapi",
        schema(example = r#"{"id": 4711, "login": "ann", "name": "Ann Example", "email": null}"#)
    )]
    pub profile: String,
    /// A sample emails-endpoint response, as JSON text (optional).
    #[serde(default)]
    pub emails: Option<String>,
}

/// What a claim mapping yields for a sample profile: what a login would record, or
/// why it would fail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MappingPreviewDto {
    /// The subject in its string form (none when the login would fail).
    pub subject: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// The provider says the email is verified (it counts only when the provider is
    /// marked as verifying emails).
    pub email_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Login name.
    pub username: Option<String>,
    /// Why a login with this profile would fail (`profile_subject_missing`,
    /// `profile_subject_invalid`), in words.
    pub failure: Option<String>,
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
#[allow(
    clippy::large_enum_variant,
    reason = "a transient JSON shape, built once per request (the lint fires on 64-bit targets only)"
)]
pub enum PropertyDto {
    /// Google OAuth credentials.
    GoogleOauthCredentials(GoogleCredentialsDto),
    /// OAuth integration.
    OauthIntegration(OauthIntegrationDto),
    /// OpenID Connect provider.
    OpenidConnectProvider(OpenidConnectProviderDto),
    /// OAuth2 provider.
    Oauth2Provider(Oauth2ProviderDto),
    /// Development sign-in.
    DevelopmentProvider(DevelopmentProviderDto),
    /// Webhook.
    Webhook(WebhookDto),
}

/// A stored OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OpenidConnectProviderDto {
    /// Property id.
    pub id: String,
    /// Label.
    pub instance_name: String,
    /// URL segment (fixed).
    pub slug: String,
    /// Display name.
    pub display_name: String,
    /// Issuer URL.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
    /// Token endpoint authentication.
    pub client_authentication: ClientAuthentication,
    /// Scopes.
    pub scopes: Vec<String>,
    /// The provider's `email_verified` counts.
    pub verifies_emails: bool,
    /// Allowed email domains (empty: any).
    pub allowed_email_domains: Vec<String>,
    /// The issuer is one of Microsoft Entra's multi-tenant endpoints: ID tokens of
    /// any tenant (or of `allowedTenants`) are accepted, each with its own issuer.
    pub multi_tenant: bool,
    /// Allowed Entra tenants (empty: any).
    pub allowed_tenants: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Check an issuer's discovery document (before or after saving a provider).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscoveryCheckRequest {
    /// The issuer URL to check.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://sso.acme.example/realms/staff")
    )]
    pub issuer: String,
}

/// What an issuer's discovery document says (fetched just now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryDto {
    /// The issuer (equal to the one checked).
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// Userinfo endpoint, if any.
    pub userinfo_endpoint: Option<String>,
    /// JWKS URI.
    pub jwks_uri: String,
    /// ID-token signing algorithms the provider lists.
    pub signing_algorithms: Vec<String>,
    /// Those Fedgate accepts (asymmetric only).
    pub accepted_algorithms: Vec<String>,
    /// RFC 9207: the provider sends `iss` on every authorization response (Fedgate then
    /// requires it).
    pub iss_parameter_supported: bool,
    /// Token endpoint authentication methods.
    pub token_endpoint_auth_methods: Vec<String>,
    /// Microsoft Entra multi-tenant: the issuer is a template (`…/{tenantid}/v2.0`),
    /// each ID token carrying its own tenant's.
    pub multi_tenant: bool,
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

impl std::fmt::Debug for OpenidConnectProviderRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenidConnectProviderRequest")
            .field("instance_name", &self.instance_name)
            .field("slug", &self.slug)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Oauth2ProviderRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oauth2ProviderRequest")
            .field("instance_name", &self.instance_name)
            .field("slug", &self.slug)
            .field("authorization_url", &self.authorization_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
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
