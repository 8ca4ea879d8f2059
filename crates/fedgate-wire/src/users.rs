//! Application API: users, federated users, user tokens, upstream tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// `email` or `phone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LocatorKindDto {
    /// An email address.
    Email,
    /// A phone number in E.164 form (`+14155550123`).
    Phone,
}

/// One of a user's locators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocatorDto {
    /// What it locates.
    pub kind: LocatorKindDto,
    /// The address or number as given.
    pub value: String,
    /// Whether the app (or a provider Fedgate trusts) verified it. Only verified
    /// emails make a user a link target for a provider login.
    #[serde(default)]
    pub verified: bool,
}

/// A user of the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    /// User id: 1-64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
    pub id: String,
    /// Display name.
    pub screen_name: Option<String>,
    /// Email addresses and phone numbers, each unique within the application.
    pub locators: Vec<LocatorDto>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserRequest {
    /// The id to use; generated (a UUID) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name (at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_name: Option<String>,
    /// Locators (at most 20).
    #[serde(default)]
    pub locators: Vec<LocatorDto>,
}

/// Reads a present-but-null field as `Some(None)`, an absent one as `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Body of `PATCH /api/v1/users/{userId}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New display name; `null` clears it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub screen_name: Option<Option<String>>,
}

/// A page or selection of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserListDto {
    /// Users in id order.
    pub users: Vec<UserDto>,
    /// When listing: pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// `unlinked`, `linked` or `detached`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkStateDto {
    /// Signs in as nobody; the app may link it.
    Unlinked,
    /// Signs in as `linkedUser`.
    Linked,
    /// Kept but treated as unlinked; `detachedFrom` names the user it was linked to.
    Detached,
}

/// What the provider said about the person at the last sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProviderProfileDto {
    /// Email as the provider gave it.
    pub email: Option<String>,
    /// The provider's own `email_verified`.
    pub email_verified: bool,
    /// Whether Fedgate trusts the email as verified (Google: verified and `@gmail.com`
    /// or a Workspace `hd`).
    pub email_trusted: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Google Workspace domain.
    pub hosted_domain: Option<String>,
    /// Login name at the provider (`preferred_username`, or an OAuth2 provider's
    /// mapped username).
    #[serde(default)]
    pub username: Option<String>,
}

/// A federated user (federated identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FederatedUserDto {
    /// The `federatedUserId`.
    pub federated_user_id: String,
    /// `GoogleFederationService` for Google, `OpenIdConnectFederationService` for
    /// OpenID Connect providers, `OAuth2FederationService` for OAuth2 providers.
    pub federating_service: String,
    /// Provider configuration key, e.g. `google`, `oidc:<property id>`,
    /// `oauth2:<property id>`.
    pub provider: String,
    /// The provider's slug (`google` for Google); absent when its property was deleted.
    pub federation_provider: Option<String>,
    /// The provider's display name, e.g. "Google", "Acme SSO".
    pub provider_name: Option<String>,
    /// The provider's issuer.
    pub issuer: String,
    /// The provider's subject identifier.
    pub subject: String,
    /// Link state.
    pub link_state: LinkStateDto,
    /// The user it signs in as, when linked.
    pub linked_user: Option<String>,
    /// When detached: the user it was linked to.
    pub detached_from: Option<String>,
    /// Candidate users found at the last sign-in, when not linked.
    pub link_candidates: Vec<String>,
    /// The provider's profile.
    pub profile: ProviderProfileDto,
    /// Whether upstream (provider) tokens are stored.
    pub has_upstream_tokens: bool,
    /// First sign-in.
    pub created_at: DateTime<Utc>,
    /// Last sign-in.
    pub last_login_at: DateTime<Utc>,
}

/// The federated identities of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FederatedUserListDto {
    /// Linked to, or detached from, the user; oldest first.
    pub federated_users: Vec<FederatedUserDto>,
}

/// Body of `POST /api/v1/federated-users/{federatedUserId}/link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkRequest {
    /// The user to link to (same application).
    pub user_id: String,
    /// Also issue a user token for that user.
    #[serde(default)]
    pub issue_token: bool,
}

/// Body of the management API's `POST …/federated-users/{federatedUserId}/link`: the
/// panel links, but never receives user tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManageLinkRequest {
    /// The user to link to (same application).
    pub user_id: String,
}

/// Result of a link change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LinkResultDto {
    /// The federated user after the change.
    pub federated_user: FederatedUserDto,
    /// A fresh user token, when linking asked for one.
    pub user_token: Option<IssuedTokenDto>,
}

/// Body of `POST /api/v1/users/{userId}/tokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueTokenRequest {
    /// Lifetime in seconds, 60 to 2 592 000 (30 days); default: the service's
    /// `user_token_ttl_seconds` (1 hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<i64>,
}

/// A user token just issued: the only time the JWT itself is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IssuedTokenDto {
    /// The JWT (EdDSA; verify offline with the application's JWKS).
    pub token: String,
    /// Its `jti`.
    pub token_id: String,
    /// Its `sub`.
    pub user_id: String,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
}

/// A user token as listed (never the JWT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserTokenDto {
    /// Its `jti`.
    pub token_id: String,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
    /// When a verification last saw it (to the minute).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A user's unexpired tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserTokenListDto {
    /// Newest first.
    pub tokens: Vec<UserTokenDto>,
}

/// How many tokens a revocation revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevokedDto {
    /// Tokens revoked by this call (already revoked ones are not counted).
    pub revoked: u64,
}

/// Body of `POST /api/v1/tokens/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyTokenRequest {
    /// The user token (JWT).
    pub token: String,
}

/// The verdict on a user token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenVerdictDto {
    /// Whether the token is valid now: signature, issuer, audience (this
    /// application), expiry, not revoked, user still exists.
    pub active: bool,
    /// When not active: `malformed`, `signature`, `issuer`, `audience`, `expired`,
    /// `revoked` or `unknown_user`.
    pub reason: Option<String>,
    /// When active: the token's `jti`.
    pub token_id: Option<String>,
    /// When active: `exp`.
    pub expires_at: Option<DateTime<Utc>>,
    /// When active: the user.
    pub user: Option<UserDto>,
}

/// A federated user's stored provider tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpstreamTokensDto {
    /// The provider's access token from the latest sign-in (it may have expired).
    pub access_token: String,
    /// The latest refresh token the provider issued (with state signing on), kept
    /// across sign-ins that return none.
    pub refresh_token: Option<String>,
    /// The scopes the provider said it granted with the access token, as it wrote
    /// them (space- or comma-separated), when it said.
    #[serde(default)]
    pub granted_scope: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_tells_absent_from_null() {
        let absent: UpdateUserRequest = serde_json::from_str("{}").unwrap();
        let null: UpdateUserRequest = serde_json::from_str(r#"{"screenName":null}"#).unwrap();
        let set: UpdateUserRequest = serde_json::from_str(r#"{"screenName":"Ann"}"#).unwrap();
        assert_eq!(absent.screen_name, None);
        assert_eq!(null.screen_name, Some(None));
        assert_eq!(set.screen_name, Some(Some("Ann".into())));
        assert!(serde_json::from_str::<UpdateUserRequest>(r#"{"name":"x"}"#).is_err());
    }
}
