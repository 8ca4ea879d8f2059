//! Hosted services: what an application's properties add up to, one tile per
//! provider. A service is ACTIVE only when its provider and the OAuth integration are
//! both present and usable; otherwise every missing or invalid piece is named, so the
//! panel can link to where it is fixed.

use fedgate_domain::ids::{ApplicationId, PropertyId};
use fedgate_domain::property::PropertyKind;
use url::Url;

use crate::provider::ProviderRef;

/// One missing or invalid piece of configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InactiveReason {
    /// Stable code, e.g. `missing_google_credentials`, `discovery_issuer_mismatch`.
    pub code: &'static str,
    /// What to do, in a sentence.
    pub message: String,
    /// The property kind that fixes it.
    pub property_kind: PropertyKind,
    /// The offending property, when it exists.
    pub property_id: Option<PropertyId>,
    /// For a discovery failure: the issuer whose discovery can be checked again.
    pub recheck_issuer: Option<String>,
}

/// Whether a hosted service can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceStatus {
    /// Ready for logins.
    Active,
    /// Not usable, with every reason.
    Inactive(Vec<InactiveReason>),
}

/// A hosted service of one application, as the Hosted Services page shows it.
#[derive(Debug, Clone)]
pub struct HostedService {
    /// Which provider.
    pub provider: ProviderRef,
    /// The callback URI to register at the provider (the "Google Redirect URI").
    pub provider_redirect_uri: Url,
    /// Where the app sends its users (the "Google OAuth endpoint").
    pub login_endpoint: Url,
    /// ACTIVE or why not.
    pub status: ServiceStatus,
}

impl HostedService {
    /// The tile's title, e.g. "Google Authentication Service".
    #[must_use]
    pub fn name(&self) -> String {
        format!("{} Authentication Service", self.provider.display_name)
    }

    /// The label of the redirect URI, e.g. "Google Redirect URI".
    #[must_use]
    pub fn redirect_uri_label(&self) -> String {
        format!("{} Redirect URI", self.provider.display_name)
    }

    /// The label of the login endpoint, e.g. "Google OAuth endpoint".
    #[must_use]
    pub fn login_endpoint_label(&self) -> String {
        format!("{} OAuth endpoint", self.provider.display_name)
    }
}

/// `{base}/hosted/{application}/{slug}/{leaf}`, keeping any path prefix of `base`.
#[must_use]
pub fn hosted_url(base: &Url, app: ApplicationId, slug: &str, leaf: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/hosted/{app}/{slug}/{leaf}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// The path under which every hosted endpoint of an application lives,
/// `{base path}/hosted/{application}/` — the scope of its browser-binding cookie.
#[must_use]
pub fn hosted_path(base: &Url, app: ApplicationId) -> String {
    format!("{}/hosted/{app}/", base.path().trim_end_matches('/'))
}

/// Fedgate's callback for a provider of an application.
#[must_use]
pub fn callback_url(base: &Url, app: ApplicationId, slug: &str) -> Url {
    hosted_url(base, app, slug, "callback")
}

/// The login endpoint of a provider of an application.
#[must_use]
pub fn login_url(base: &Url, app: ApplicationId, slug: &str) -> Url {
    hosted_url(base, app, slug, "login")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_base_path_and_name_the_slug() {
        let app = ApplicationId::generate();
        let base = Url::parse("https://login.example.com/prefix/").unwrap();
        assert_eq!(
            callback_url(&base, app, "google").as_str(),
            format!("https://login.example.com/prefix/hosted/{app}/google/callback")
        );
        assert_eq!(
            login_url(&base, app, "acme-sso").as_str(),
            format!("https://login.example.com/prefix/hosted/{app}/acme-sso/login")
        );
    }
}
