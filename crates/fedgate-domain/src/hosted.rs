//! Hosted services: what an application's properties add up to, per provider.
//!
//! The Google Authentication Service is ACTIVE only when both the Google credentials
//! and the OAuth integration exist and are usable; otherwise every missing or
//! invalid piece is named, so the panel can link to where it is fixed.

use url::Url;

use crate::ids::{ApplicationId, PropertyId};
use crate::property::{PropertyKind, StoredProperty};
use crate::seal::Sealer;

/// A hosted service kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// Sign in with Google.
    GoogleAuthentication,
}

impl ServiceKind {
    /// Stable identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GoogleAuthentication => "google_authentication",
        }
    }

    /// Name shown on the tile.
    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::GoogleAuthentication => "Google Authentication Service",
        }
    }

    /// The `federatingService` value sent back to apps.
    #[must_use]
    pub const fn federating_service(self) -> &'static str {
        match self {
            Self::GoogleAuthentication => "GoogleFederationService",
        }
    }

    fn path_segment(self) -> &'static str {
        match self {
            Self::GoogleAuthentication => "google",
        }
    }
}

/// One missing or invalid piece of configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InactiveReason {
    /// Stable code, e.g. `missing_google_credentials`.
    pub code: &'static str,
    /// What to do, in a sentence.
    pub message: String,
    /// The property kind that fixes it.
    pub property_kind: PropertyKind,
    /// The offending property, when it exists.
    pub property_id: Option<PropertyId>,
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
    /// Which service.
    pub kind: ServiceKind,
    /// The callback URI to register at the provider (the "Google Redirect URI").
    pub provider_redirect_uri: Url,
    /// Where the app sends its users (the "Google OAuth endpoint").
    pub login_endpoint: Url,
    /// ACTIVE or why not.
    pub status: ServiceStatus,
}

/// `{base}/hosted/{application}/{provider}/{leaf}`, keeping any path prefix of `base`.
fn hosted_url(base: &Url, app: ApplicationId, kind: ServiceKind, leaf: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!(
        "{prefix}/hosted/{app}/{}/{leaf}",
        kind.path_segment()
    ));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// The Google Redirect URI of an application: Fedgate's callback for Google.
#[must_use]
pub fn google_callback_url(base: &Url, app: ApplicationId) -> Url {
    hosted_url(base, app, ServiceKind::GoogleAuthentication, "callback")
}

/// Derives the Google Authentication Service of an application from its properties.
#[must_use]
pub fn google_service(
    base: &Url,
    app: ApplicationId,
    properties: &[StoredProperty],
    sealer: &Sealer,
) -> HostedService {
    let kind = ServiceKind::GoogleAuthentication;
    HostedService {
        kind,
        provider_redirect_uri: google_callback_url(base, app),
        login_endpoint: hosted_url(base, app, kind, "login"),
        status: google_status(properties, sealer),
    }
}

fn google_status(properties: &[StoredProperty], sealer: &Sealer) -> ServiceStatus {
    let mut reasons = Vec::new();
    let of_kind = |k| properties.iter().find(|p| p.kind == k);

    let creds_kind = PropertyKind::GoogleOauthCredentials;
    match of_kind(creds_kind) {
        None => reasons.push(InactiveReason {
            code: "missing_google_credentials",
            message: format!(
                "No Google OAuth credentials: add New Property › {} with the client id and secret from the Google console.",
                creds_kind.menu_path()
            ),
            property_kind: creds_kind,
            property_id: None,
        }),
        Some(p) => {
            if let Err(e) = p.parsed_settings() {
                reasons.push(InactiveReason {
                    code: "invalid_google_credentials",
                    message: format!("The Google OAuth credentials \"{}\" are invalid: {e}. Edit them.", p.instance_name),
                    property_kind: creds_kind,
                    property_id: Some(p.id),
                });
            }
            match p.open_secret(sealer) {
                None => reasons.push(InactiveReason {
                    code: "missing_client_secret",
                    message: format!("The Google OAuth credentials \"{}\" have no client secret. Enter it.", p.instance_name),
                    property_kind: creds_kind,
                    property_id: Some(p.id),
                }),
                Some(Err(_)) => reasons.push(InactiveReason {
                    code: "unreadable_client_secret",
                    message: format!(
                        "The client secret of \"{}\" cannot be decrypted (was the master key changed?). Enter it again.",
                        p.instance_name
                    ),
                    property_kind: creds_kind,
                    property_id: Some(p.id),
                }),
                Some(Ok(_)) => {}
            }
        }
    }

    let integration_kind = PropertyKind::OauthIntegration;
    match of_kind(integration_kind) {
        None => reasons.push(InactiveReason {
            code: "missing_oauth_integration",
            message: format!(
                "No OAuth integration: add New Property › {} with your app's redirect URI.",
                integration_kind.menu_path()
            ),
            property_kind: integration_kind,
            property_id: None,
        }),
        Some(p) => {
            if let Err(e) = p.parsed_settings() {
                reasons.push(InactiveReason {
                    code: "invalid_oauth_integration",
                    message: format!(
                        "The OAuth integration \"{}\" is invalid: {e}. Edit it.",
                        p.instance_name
                    ),
                    property_kind: integration_kind,
                    property_id: Some(p.id),
                });
            }
        }
    }

    if reasons.is_empty() {
        ServiceStatus::Active
    } else {
        ServiceStatus::Inactive(reasons)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use secrecy::SecretString;

    use super::*;
    use crate::property::{PropertyInput, ResultDelivery};
    use crate::seal::MasterKey;

    fn creds(app: ApplicationId, sealer: &Sealer) -> StoredProperty {
        let input = PropertyInput::GoogleOauthCredentials {
            instance_name: "g".into(),
            client_id: "id".into(),
            client_secret: Some(SecretString::from("secret")),
            project_number: None,
            application_name: None,
        };
        StoredProperty::create(app, input.validate(true).unwrap(), sealer, Utc::now())
    }

    fn integration(app: ApplicationId, sealer: &Sealer) -> StoredProperty {
        let input = PropertyInput::OauthIntegration {
            instance_name: "web".into(),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            require_state_signing: false,
            result_delivery: ResultDelivery::Query,
            auto_create_users: true,
        };
        StoredProperty::create(app, input.validate(true).unwrap(), sealer, Utc::now())
    }

    fn codes(s: &ServiceStatus) -> Vec<&'static str> {
        match s {
            ServiceStatus::Active => vec![],
            ServiceStatus::Inactive(r) => r.iter().map(|r| r.code).collect(),
        }
    }

    #[test]
    fn active_only_with_both_pieces_usable() {
        let sealer = Sealer::new(&MasterKey::generate());
        let app = ApplicationId::generate();
        let base = Url::parse("https://login.example.com/prefix/").unwrap();
        let s = google_service(&base, app, &[], &sealer);
        assert_eq!(
            codes(&s.status),
            ["missing_google_credentials", "missing_oauth_integration"]
        );
        assert_eq!(
            s.provider_redirect_uri.as_str(),
            format!("https://login.example.com/prefix/hosted/{app}/google/callback")
        );
        assert_eq!(
            s.login_endpoint.as_str(),
            format!("https://login.example.com/prefix/hosted/{app}/google/login")
        );

        let c = creds(app, &sealer);
        assert_eq!(
            codes(&google_status(std::slice::from_ref(&c), &sealer)),
            ["missing_oauth_integration"]
        );
        let i = integration(app, &sealer);
        assert_eq!(
            google_status(&[c.clone(), i.clone()], &sealer),
            ServiceStatus::Active
        );

        let other_key = Sealer::new(&MasterKey::generate());
        assert_eq!(
            codes(&google_status(&[c, i], &other_key)),
            ["unreadable_client_secret"]
        );
    }
}
