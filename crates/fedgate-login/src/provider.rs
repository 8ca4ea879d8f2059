//! Providers as values: what a login needs to know about one provider of one
//! application, whatever kind it is.

use fedgate_domain::claims::ClaimMapping;
use fedgate_domain::federation::{DEVELOPMENT_PROVIDER, GOOGLE_PROVIDER, ProviderProfile};
use fedgate_domain::ids::PropertyId;
use fedgate_domain::property::{ClientSecret, DEVELOPMENT_SLUG, GOOGLE_SLUG, email_vouched};
use fedgate_provider::{ClientAuth, OfflineAccess, ProviderEndpoints};
use url::Url;

/// The kinds of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Google (the preset).
    Google,
    /// Any OpenID Connect provider, found by discovery.
    OpenIdConnect,
    /// A plain OAuth2 server, read through a claim mapping.
    OAuth2,
    /// The built-in development provider (an OpenID Connect provider inside Fedgate).
    Development,
}

impl ProviderKind {
    /// The `federatingService` value sent back to apps.
    #[must_use]
    pub const fn federating_service(self) -> &'static str {
        match self {
            Self::Google => "GoogleFederationService",
            Self::OpenIdConnect | Self::Development => "OpenIdConnectFederationService",
            Self::OAuth2 => "OAuth2FederationService",
        }
    }

    /// The kind a provider configuration key names (`oidc:…`, `oauth2:…` or Google's).
    #[must_use]
    pub fn of_key(key: &str) -> Self {
        if key.starts_with("oidc:") {
            Self::OpenIdConnect
        } else if key.starts_with("oauth2:") {
            Self::OAuth2
        } else if key == DEVELOPMENT_PROVIDER {
            Self::Development
        } else {
            Self::Google
        }
    }

    /// Its name in metrics, and in the `kind` of the provider's endpoints.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::OpenIdConnect => "openid_connect",
            Self::OAuth2 => "oauth2",
            Self::Development => "development",
        }
    }

    /// The stable id of its hosted service tiles.
    #[must_use]
    pub const fn service_id(self) -> &'static str {
        match self {
            Self::Google => "google_authentication",
            Self::OpenIdConnect => "openid_connect",
            Self::OAuth2 => "oauth2",
            Self::Development => "development",
        }
    }
}

/// Which provider of an application something belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRef {
    /// Provider configuration key: `google`, `oidc:<property id>`, `oauth2:<property id>`.
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

    /// The development provider's, for an application whose activating property is
    /// `property` (if any).
    #[must_use]
    pub fn development(property: Option<PropertyId>) -> Self {
        Self {
            key: DEVELOPMENT_PROVIDER.to_owned(),
            kind: ProviderKind::Development,
            slug: DEVELOPMENT_SLUG.to_owned(),
            display_name: "Development sign-in".to_owned(),
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
    Configured {
        /// The subscriber trusts the provider's verification.
        verifies_emails: bool,
        /// Only these domains count (any, when empty).
        allowed_domains: Vec<String>,
    },
}

impl EmailTrust {
    /// Whether the provider's email counts as verified for linking.
    #[must_use]
    pub fn vouches(&self, email: Option<&str>, email_verified: bool, hd: Option<&str>) -> bool {
        match self {
            Self::Google => ProviderProfile::google_vouches(email, email_verified, hd),
            Self::Configured {
                verifies_emails,
                allowed_domains,
            } => email_vouched(*verifies_emails, allowed_domains, email, email_verified),
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
    /// How the person who signed in is established.
    pub identity: Identity,
    /// Send a PKCE S256 challenge.
    pub pkce: bool,
    /// Requested scopes the provider grants under another name (Google grants `email`
    /// as `https://www.googleapis.com/auth/userinfo.email`).
    pub scope_aliases: &'static [(&'static str, &'static str)],
}

/// How a login learns who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A validated ID token (then userinfo for claims it lacks).
    IdToken,
    /// A plain OAuth2 provider's profile, read through a claim mapping (the profile
    /// endpoint is the endpoints' `userinfo`).
    Profile(Box<ProfileSource>),
}

/// Where a plain OAuth2 provider's profile says who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSource {
    /// The claim mapping.
    pub mapping: ClaimMapping,
    /// A GitHub-style emails endpoint, when configured.
    pub emails: Option<Url>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_their_kind_as_metrics_do() {
        // fedgate-provider cannot see ProviderKind; its constructors spell the labels.
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            ProviderEndpoints::google().kind,
            ProviderKind::Google.label()
        );
        let plain =
            ProviderEndpoints::plain(u("https://a/"), u("https://t/"), u("https://p/"), "i");
        assert_eq!(plain.kind, ProviderKind::OAuth2.label());
        assert_eq!(
            ProviderKind::of_key("oidc:x").label(),
            "openid_connect",
            "the discovered kind"
        );
    }
}
