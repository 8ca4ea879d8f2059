//! Federated users (federated identities) and what providers say about them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, FederatedUserId, UserId};
use crate::seal::{SealContext, Sealer};

/// The stable key of the Google provider configuration of an application. OpenID
/// Connect providers use `oidc:<property id>` ([`oidc_provider_key`]).
pub const GOOGLE_PROVIDER: &str = "google";
/// The provider configuration key of an OpenID Connect provider property.
#[must_use]
pub fn oidc_provider_key(property: crate::ids::PropertyId) -> String {
    format!("oidc:{property}")
}
/// The provider configuration key of the built-in development provider.
pub const DEVELOPMENT_PROVIDER: &str = "dev";
/// The provider configuration key of an OAuth2 provider property.
#[must_use]
pub fn oauth2_provider_key(property: crate::ids::PropertyId) -> String {
    format!("oauth2:{property}")
}

/// Sealing purpose of a federated user's upstream tokens.
pub const TOKENS_PURPOSE: &str = "federated_user.tokens";

/// Whether a federated user signs in as a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Not linked; may carry candidates.
    Unlinked,
    /// Linked to exactly one user.
    Linked,
    /// Kept, but treated as unlinked.
    Detached,
}

impl LinkState {
    /// The stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unlinked => "unlinked",
            Self::Linked => "linked",
            Self::Detached => "detached",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Unlinked, Self::Linked, Self::Detached]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The profile a provider gave for a person, after validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderProfile {
    /// The provider's subject identifier.
    pub subject: String,
    /// Email, as the provider gave it.
    pub email: Option<String>,
    /// The provider's own `email_verified`.
    pub email_verified: bool,
    /// Whether Fedgate trusts the email as verified (provider-specific rule).
    pub email_vouched: bool,
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
    /// Google Workspace hosted domain (`hd`).
    pub hosted_domain: Option<String>,
    /// Login name at the provider (OAuth2 claim mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl ProviderProfile {
    /// Google's rule: an email counts as verified only when `email_verified` is true
    /// and the address is `@gmail.com` or the token carries `hd` (the domain is managed
    /// by Google Workspace).
    #[must_use]
    pub fn google_vouches(
        email: Option<&str>,
        email_verified: bool,
        hosted_domain: Option<&str>,
    ) -> bool {
        let Some(email) = email else { return false };
        email_verified
            && (email.to_ascii_lowercase().ends_with("@gmail.com")
                || hosted_domain.is_some_and(|d| !d.is_empty()))
    }
}

/// A federated user as stored.
#[derive(Debug, Clone)]
pub struct FederatedUser {
    /// The `federatedUserId`.
    pub id: FederatedUserId,
    /// The application.
    pub application_id: ApplicationId,
    /// Provider configuration key, e.g. [`GOOGLE_PROVIDER`].
    pub provider_config: String,
    /// The issuer, canonical form.
    pub issuer: String,
    /// The provider's subject.
    pub subject: String,
    /// Link state.
    pub link_state: LinkState,
    /// The linked user when `Linked`; the user it was detached from when `Detached`.
    pub user_id: Option<UserId>,
    /// Candidates found when it was not linked.
    pub candidates: Vec<UserId>,
    /// The latest profile.
    pub profile: ProviderProfile,
    /// First seen.
    pub created_at: DateTime<Utc>,
    /// Last sign-in.
    pub last_login_at: DateTime<Utc>,
    /// The provider's tokens, sealed (never leave the application API unopened).
    pub sealed_tokens: Option<Vec<u8>>,
}

/// A federated user's provider tokens from its latest sign-in, sealed at rest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamTokens {
    /// The provider's access token.
    pub access_token: String,
    /// The refresh token: the latest the provider issued (kept across sign-ins that
    /// return none).
    pub refresh_token: Option<String>,
    /// The scopes the provider said it granted with the access token, as it wrote them.
    #[serde(default)]
    pub granted_scope: Option<String>,
}

impl std::fmt::Debug for UpstreamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTokens")
            .field("granted_scope", &self.granted_scope)
            .finish_non_exhaustive()
    }
}

fn tokens_context(app: ApplicationId, row: &str) -> SealContext<'_> {
    SealContext {
        purpose: TOKENS_PURPOSE,
        application_id: app,
        row_id: row,
    }
}

impl UpstreamTokens {
    /// Sealed for the federated user `id` of `app`.
    #[must_use]
    pub fn seal(&self, sealer: &Sealer, app: ApplicationId, id: FederatedUserId) -> Vec<u8> {
        let row = id.to_string();
        // A struct of strings always serializes.
        let plain = serde_json::to_vec(self).unwrap_or_default();
        sealer.seal(&tokens_context(app, &row), &plain)
    }

    /// Opens what [`UpstreamTokens::seal`] sealed for this very federated user.
    pub fn open(
        sealer: &Sealer,
        app: ApplicationId,
        id: FederatedUserId,
        sealed: &[u8],
    ) -> Result<Self, String> {
        let row = id.to_string();
        let plain = sealer
            .open(&tokens_context(app, &row), sealed)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(secrecy::ExposeSecret::expose_secret(&plain))
            .map_err(|e| format!("upstream tokens: {e}"))
    }
}

/// A change of a federated user's link, requested by the app's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    /// Link to this user (from `Unlinked` or `Detached` only).
    Link(UserId),
    /// Back to `Unlinked` (from `Linked` or `Detached`).
    Unlink,
    /// Keep, but treat as unlinked (from `Linked` or `Unlinked`); remembers the user.
    Detach,
}

impl LinkChange {
    /// Whether the change may be applied to a federated user in `state`.
    #[must_use]
    pub const fn allowed_from(&self, state: LinkState) -> bool {
        match self {
            Self::Link(_) => !matches!(state, LinkState::Linked),
            Self::Unlink => !matches!(state, LinkState::Unlinked),
            Self::Detach => !matches!(state, LinkState::Detached),
        }
    }

    /// The state after the change.
    #[must_use]
    pub const fn target(&self) -> LinkState {
        match self {
            Self::Link(_) => LinkState::Linked,
            Self::Unlink => LinkState::Unlinked,
            Self::Detach => LinkState::Detached,
        }
    }
}

/// What became of a requested link change.
#[derive(Debug, Clone)]
pub enum LinkChangeOutcome {
    /// Applied; the federated user as it is now.
    Changed(Box<FederatedUser>),
    /// No such federated user in the application.
    NoSuchFederatedUser,
    /// The user to link to does not exist in the application.
    NoSuchUser,
    /// Not allowed from the current state.
    NotAllowed(LinkState),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_vouches_only_for_verified_gmail_or_hosted_domains() {
        assert!(ProviderProfile::google_vouches(
            Some("Ann@GMAIL.com"),
            true,
            None
        ));
        assert!(ProviderProfile::google_vouches(
            Some("ann@corp.example"),
            true,
            Some("corp.example")
        ));
        assert!(!ProviderProfile::google_vouches(
            Some("ann@corp.example"),
            true,
            None
        ));
        assert!(!ProviderProfile::google_vouches(
            Some("ann@gmail.com"),
            false,
            None
        ));
        assert!(!ProviderProfile::google_vouches(
            None,
            true,
            Some("corp.example")
        ));
    }
}
