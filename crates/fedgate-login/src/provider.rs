//! Providers as values: what a login needs to know about one provider of one
//! application, whatever kind it is.

use fedgate_domain::federation::{GOOGLE_PROVIDER, ProviderProfile};
use fedgate_domain::ids::PropertyId;
use fedgate_domain::property::{ClientSecret, GOOGLE_SLUG, OpenidConnectProvider};
use fedgate_provider::{ClientAuth, OfflineAccess, ProviderEndpoints};

/// The kinds of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Google (the preset).
    Google,
    /// Any OpenID Connect provider, found by discovery.
    OpenIdConnect,
}

impl ProviderKind {
    /// The `federatingService` value sent back to apps.
    #[must_use]
    pub const fn federating_service(self) -> &'static str {
        match self {
            Self::Google => "GoogleFederationService",
            Self::OpenIdConnect => "OpenIdConnectFederationService",
        }
    }

    /// The kind a provider configuration key names (`oidc:…` or Google's).
    #[must_use]
    pub fn of_key(key: &str) -> Self {
        if key.starts_with("oidc:") {
            Self::OpenIdConnect
        } else {
            Self::Google
        }
    }

    /// The stable id of its hosted service tiles.
    #[must_use]
    pub const fn service_id(self) -> &'static str {
        match self {
            Self::Google => "google_authentication",
            Self::OpenIdConnect => "openid_connect",
        }
    }
}

/// Which provider of an application something belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRef {
    /// Provider configuration key: `google`, `oidc:<property id>`.
    pub key: String,
    /// Its kind.
    pub kind: ProviderKind,
    /// URL segment: `google`, or the property's slug.
    pub slug: String,
    /// Shown to subscribers and end users.
    pub display_name: String,
    /// The property defining it (Google's credentials, when present).
    pub property_id: Option<PropertyId>,
}

impl ProviderRef {
    /// Google's, for an application whose credentials are `property` (if any).
    #[must_use]
    pub fn google(property: Option<PropertyId>) -> Self {
        Self {
            key: GOOGLE_PROVIDER.to_owned(),
            kind: ProviderKind::Google,
            slug: GOOGLE_SLUG.to_owned(),
            display_name: "Google".to_owned(),
            property_id: property,
        }
    }
}

/// Whose word counts that an email is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTrust {
    /// Google's rule: verified and `@gmail.com` or a Workspace domain (`hd`).
    Google,
    /// The subscriber's settings for this provider.
    Configured(Box<OpenidConnectProvider>),
}

impl EmailTrust {
    /// Whether the provider's email counts as verified for linking.
    #[must_use]
    pub fn vouches(&self, email: Option<&str>, email_verified: bool, hd: Option<&str>) -> bool {
        match self {
            Self::Google => ProviderProfile::google_vouches(email, email_verified, hd),
            Self::Configured(p) => p.vouches(email, email_verified),
        }
    }
}

/// Everything a login needs about one usable provider.
#[derive(Debug)]
pub struct ProviderConfig {
    /// Which provider.
    pub provider: ProviderRef,
    /// Where it lives and what its ID tokens look like.
    pub endpoints: ProviderEndpoints,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret, opened.
    pub client_secret: ClientSecret,
    /// Token endpoint authentication.
    pub client_auth: ClientAuth,
    /// Scopes, space-separated.
    pub scope: String,
    /// How to ask for a refresh token when the integration wants one.
    pub offline: OfflineAccess,
    /// RFC 9207: the provider sends `iss` on authorization responses.
    pub iss_required: bool,
    /// Email trust for linking.
    pub email_trust: EmailTrust,
}
