//! Properties: typed, named configuration on an application.
//!
//! Each kind has an input form (what a subscriber submits, validated field by field)
//! and a stored form (non-secret settings as JSON plus an optional sealed secret).
//! Reading a stored property re-validates it, so a value that no longer passes the
//! rules shows up as a problem instead of flowing into a login.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::ids::{ApplicationId, PropertyId};
use crate::redirect_uri::RedirectUri;
use crate::seal::{SealContext, SealError, Sealer};

/// Sealing purpose of a property's secret (the Google client secret).
pub const SECRET_PURPOSE: &str = "property.client_secret";
/// Most redirect URIs one integration may register.
pub const MAX_REDIRECT_URIS: usize = 10;

/// The kinds of property. More provider kinds (generic OIDC, generic OAuth2) join
/// this list; each may be a singleton per application or keyed by instance name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyKind {
    /// Google › Credentials › OAuth Credentials.
    GoogleOauthCredentials,
    /// Fedgate › OAuth Integration.
    OauthIntegration,
}

impl PropertyKind {
    /// Every kind.
    pub const ALL: [Self; 2] = [Self::GoogleOauthCredentials, Self::OauthIntegration];

    /// The stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GoogleOauthCredentials => "google_oauth_credentials",
            Self::OauthIntegration => "oauth_integration",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The panel's menu path for this kind.
    #[must_use]
    pub const fn menu_path(self) -> &'static str {
        match self {
            Self::GoogleOauthCredentials => "Google › Credentials › OAuth Credentials",
            Self::OauthIntegration => "Fedgate › OAuth Integration",
        }
    }

    /// Whether an application may hold at most one property of this kind. Google
    /// credentials and the integration are; a hosted service is derived from them.
    #[must_use]
    pub const fn is_singleton(self) -> bool {
        matches!(self, Self::GoogleOauthCredentials | Self::OauthIntegration)
    }
}

/// The subscriber's label for a property: 1..=100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceName(String);

impl InstanceName {
    /// Parses a label.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        crate::error::label("instanceName", text, 100).map(Self)
    }

    /// The label.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn opaque_token(field: &'static str, text: &str, max: usize) -> Result<String, ValidationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if t.len() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if !t.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ValidationError::new(
            field,
            "must be printable ASCII without spaces",
        ));
    }
    Ok(t.to_owned())
}

/// An OAuth client id as issued by the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Printable ASCII, no spaces, 1..=512 characters.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        opaque_token("clientId", text, 512).map(Self)
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ClientId> for String {
    fn from(c: ClientId) -> Self {
        c.0
    }
}

/// An OAuth client secret. Write-only: never printed, never returned.
pub struct ClientSecret(SecretString);

impl ClientSecret {
    /// Printable ASCII, no spaces, 1..=512 characters.
    pub fn parse(text: &SecretString) -> Result<Self, ValidationError> {
        opaque_token("clientSecret", text.expose_secret(), 512).map(|s| Self(SecretString::from(s)))
    }

    /// The secret, for the token endpoint call only.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// How the login result travels back to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultDelivery {
    /// The reference manual's query parameters on the redirect.
    #[default]
    Query,
    /// Only a single-use `resultCode`, redeemed by the app's backend.
    Code,
}

/// Stored settings of a Google › Credentials › OAuth Credentials property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleOauthCredentials {
    /// The OAuth client id from the Google console.
    pub client_id: ClientId,
    /// Google project number (digits), informational.
    pub project_number: Option<String>,
    /// Google application name, informational.
    pub application_name: Option<String>,
}

/// Stored settings of a Fedgate › OAuth Integration property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OauthIntegration {
    /// Registered redirect URIs (exact strings).
    pub redirect_uris: Vec<String>,
    /// Login requests must be signed with an access key.
    pub require_state_signing: bool,
    /// How results travel back.
    pub result_delivery: ResultDelivery,
    /// Create a user when no link candidate exists.
    pub auto_create_users: bool,
}

impl OauthIntegration {
    /// The redirect URIs, re-validated.
    pub fn parsed_redirect_uris(&self) -> Result<Vec<RedirectUri>, ValidationError> {
        self.redirect_uris
            .iter()
            .enumerate()
            .map(|(i, u)| RedirectUri::parse(format!("redirectUris[{i}]"), u))
            .collect()
    }
}

/// The validated settings of one property, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertySettings {
    /// Google credentials.
    GoogleOauthCredentials(GoogleOauthCredentials),
    /// The OAuth integration.
    OauthIntegration(OauthIntegration),
}

impl PropertySettings {
    /// The kind these settings belong to.
    #[must_use]
    pub const fn kind(&self) -> PropertyKind {
        match self {
            Self::GoogleOauthCredentials(_) => PropertyKind::GoogleOauthCredentials,
            Self::OauthIntegration(_) => PropertyKind::OauthIntegration,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Self::GoogleOauthCredentials(s) => serde_json::to_value(s),
            Self::OauthIntegration(s) => serde_json::to_value(s),
        };
        // Plain structs of strings and bools always serialize.
        value.unwrap_or(serde_json::Value::Null)
    }

    /// Reads stored settings back, re-validating them.
    pub fn from_stored(kind: PropertyKind, json: &serde_json::Value) -> Result<Self, String> {
        let settings = match kind {
            PropertyKind::GoogleOauthCredentials => Self::GoogleOauthCredentials(
                serde_json::from_value(json.clone()).map_err(|e| e.to_string())?,
            ),
            PropertyKind::OauthIntegration => {
                let s: OauthIntegration =
                    serde_json::from_value(json.clone()).map_err(|e| e.to_string())?;
                s.parsed_redirect_uris().map_err(|e| e.to_string())?;
                if s.redirect_uris.is_empty() {
                    return Err("no redirect URI is registered".into());
                }
                Self::OauthIntegration(s)
            }
        };
        Ok(settings)
    }
}

/// What a subscriber submits to create or replace a property.
#[derive(Debug)]
pub enum PropertyInput {
    /// Google › Credentials › OAuth Credentials.
    GoogleOauthCredentials {
        /// Label.
        instance_name: String,
        /// Client id.
        client_id: String,
        /// Client secret; on update, `None` keeps the stored one.
        client_secret: Option<SecretString>,
        /// Project number (digits), optional.
        project_number: Option<String>,
        /// Application name, optional.
        application_name: Option<String>,
    },
    /// Fedgate › OAuth Integration.
    OauthIntegration {
        /// Label.
        instance_name: String,
        /// Redirect URIs, exact strings.
        redirect_uris: Vec<String>,
        /// Require signed login requests.
        require_state_signing: bool,
        /// Result delivery.
        result_delivery: ResultDelivery,
        /// Auto-create users.
        auto_create_users: bool,
    },
}

/// A property input that passed validation.
#[derive(Debug)]
pub struct ValidProperty {
    /// Label.
    pub instance_name: InstanceName,
    /// Non-secret settings.
    pub settings: PropertySettings,
    /// New secret, if one was given.
    pub secret: Option<ClientSecret>,
}

fn optional_text(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => crate::error::label(field, v, max).map(Some),
    }
}

impl PropertyInput {
    /// The kind of property this input describes.
    #[must_use]
    pub const fn kind(&self) -> PropertyKind {
        match self {
            Self::GoogleOauthCredentials { .. } => PropertyKind::GoogleOauthCredentials,
            Self::OauthIntegration { .. } => PropertyKind::OauthIntegration,
        }
    }

    /// Validates every field, reporting the first problem by field name.
    /// `secret_required` is true on create (a Google property needs its secret).
    pub fn validate(self, secret_required: bool) -> Result<ValidProperty, ValidationError> {
        match self {
            Self::GoogleOauthCredentials {
                instance_name,
                client_id,
                client_secret,
                project_number,
                application_name,
            } => {
                let instance_name = InstanceName::parse(&instance_name)?;
                let client_id = ClientId::parse(&client_id)?;
                let secret = client_secret
                    .as_ref()
                    .map(ClientSecret::parse)
                    .transpose()?;
                if secret_required && secret.is_none() {
                    return Err(ValidationError::new("clientSecret", "is required"));
                }
                let project_number = optional_text("projectNumber", project_number, 30)?;
                if let Some(p) = &project_number
                    && !p.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(ValidationError::new(
                        "projectNumber",
                        "must contain digits only",
                    ));
                }
                let application_name = optional_text("applicationName", application_name, 200)?;
                Ok(ValidProperty {
                    instance_name,
                    settings: PropertySettings::GoogleOauthCredentials(GoogleOauthCredentials {
                        client_id,
                        project_number,
                        application_name,
                    }),
                    secret,
                })
            }
            Self::OauthIntegration {
                instance_name,
                redirect_uris,
                require_state_signing,
                result_delivery,
                auto_create_users,
            } => {
                let instance_name = InstanceName::parse(&instance_name)?;
                if redirect_uris.is_empty() {
                    return Err(ValidationError::new(
                        "redirectUris",
                        "at least one redirect URI is required",
                    ));
                }
                if redirect_uris.len() > MAX_REDIRECT_URIS {
                    return Err(ValidationError::new(
                        "redirectUris",
                        format!("at most {MAX_REDIRECT_URIS} redirect URIs may be registered"),
                    ));
                }
                for (i, uri) in redirect_uris.iter().enumerate() {
                    RedirectUri::parse(format!("redirectUris[{i}]"), uri)?;
                    if redirect_uris[..i].contains(uri) {
                        return Err(ValidationError::new(
                            format!("redirectUris[{i}]"),
                            "is listed twice",
                        ));
                    }
                }
                Ok(ValidProperty {
                    instance_name,
                    settings: PropertySettings::OauthIntegration(OauthIntegration {
                        redirect_uris,
                        require_state_signing,
                        result_delivery,
                        auto_create_users,
                    }),
                    secret: None,
                })
            }
        }
    }
}

/// A property row as storage holds it.
#[derive(Debug, Clone)]
pub struct StoredProperty {
    /// Its id.
    pub id: PropertyId,
    /// Owning application.
    pub application_id: ApplicationId,
    /// Its kind.
    pub kind: PropertyKind,
    /// Label.
    pub instance_name: String,
    /// Non-secret settings as JSON.
    pub settings: serde_json::Value,
    /// The sealed secret, if the kind has one.
    pub sealed_secret: Option<Vec<u8>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl StoredProperty {
    /// A new row from validated input, sealing its secret for this very row.
    #[must_use]
    pub fn create(
        application_id: ApplicationId,
        valid: ValidProperty,
        sealer: &Sealer,
        now: DateTime<Utc>,
    ) -> Self {
        let id = PropertyId::generate();
        let mut row = Self {
            id,
            application_id,
            kind: valid.settings.kind(),
            instance_name: valid.instance_name.as_str().to_owned(),
            settings: valid.settings.to_json(),
            sealed_secret: None,
            created_at: now,
            updated_at: now,
        };
        if let Some(secret) = valid.secret {
            row.sealed_secret = Some(sealer.seal(
                &row.seal_context(&id.to_string()),
                secret.expose().as_bytes(),
            ));
        }
        row
    }

    /// This row replaced by validated input; a missing secret keeps the sealed one.
    #[must_use]
    pub fn replaced(mut self, valid: ValidProperty, sealer: &Sealer, now: DateTime<Utc>) -> Self {
        self.instance_name = valid.instance_name.as_str().to_owned();
        self.settings = valid.settings.to_json();
        self.updated_at = now;
        if let Some(secret) = valid.secret {
            let row_id = self.id.to_string();
            self.sealed_secret =
                Some(sealer.seal(&self.seal_context(&row_id), secret.expose().as_bytes()));
        }
        self
    }

    fn seal_context<'a>(&self, row_id: &'a str) -> SealContext<'a> {
        SealContext {
            purpose: SECRET_PURPOSE,
            application_id: self.application_id,
            row_id,
        }
    }

    /// The stored settings, re-validated.
    pub fn parsed_settings(&self) -> Result<PropertySettings, String> {
        PropertySettings::from_stored(self.kind, &self.settings)
    }

    /// Opens the sealed secret, if any.
    pub fn open_secret(&self, sealer: &Sealer) -> Option<Result<ClientSecret, SealError>> {
        let row_id = self.id.to_string();
        self.sealed_secret.as_ref().map(|sealed| {
            sealer
                .open_string(&self.seal_context(&row_id), sealed)
                .map(ClientSecret)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(secret: Option<&str>, project: Option<&str>) -> PropertyInput {
        PropertyInput::GoogleOauthCredentials {
            instance_name: " main ".into(),
            client_id: "123.apps.googleusercontent.com".into(),
            client_secret: secret.map(|s| SecretString::from(s.to_owned())),
            project_number: project.map(str::to_owned),
            application_name: None,
        }
    }

    #[test]
    fn google_credentials_need_a_secret_on_create_and_digit_project_numbers() {
        assert_eq!(
            google(None, None).validate(true).unwrap_err().field,
            "clientSecret"
        );
        assert!(google(None, None).validate(false).is_ok());
        assert_eq!(
            google(Some("s"), Some("12a"))
                .validate(true)
                .unwrap_err()
                .field,
            "projectNumber"
        );
        let ok = google(Some("s"), Some(" 1234 ")).validate(true).unwrap();
        assert_eq!(ok.instance_name.as_str(), "main");
        let PropertySettings::GoogleOauthCredentials(g) = ok.settings else {
            panic!()
        };
        assert_eq!(g.project_number.as_deref(), Some("1234"));
    }

    #[test]
    fn integration_validates_each_redirect_uri_by_index_and_rejects_duplicates() {
        let input = |uris: &[&str]| PropertyInput::OauthIntegration {
            instance_name: "web".into(),
            redirect_uris: uris.iter().map(|s| (*s).to_owned()).collect(),
            require_state_signing: false,
            result_delivery: ResultDelivery::Query,
            auto_create_users: true,
        };
        assert_eq!(input(&[]).validate(true).unwrap_err().field, "redirectUris");
        let e = input(&["https://a.example.com/cb", "http://b.example.com/cb"])
            .validate(true)
            .unwrap_err();
        assert_eq!(e.field, "redirectUris[1]");
        let e = input(&["https://a.example.com/cb", "https://a.example.com/cb"])
            .validate(true)
            .unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.message.as_ref()),
            ("redirectUris[1]", "is listed twice")
        );
    }

    #[test]
    fn stored_secret_opens_only_in_its_own_row() {
        let sealer = Sealer::new(&crate::seal::MasterKey::generate());
        let app = ApplicationId::generate();
        let a = StoredProperty::create(
            app,
            google(Some("secret-a"), None).validate(true).unwrap(),
            &sealer,
            Utc::now(),
        );
        let mut b = StoredProperty::create(
            app,
            google(Some("secret-b"), None).validate(true).unwrap(),
            &sealer,
            Utc::now(),
        );
        assert_eq!(
            a.open_secret(&sealer).unwrap().unwrap().expose(),
            "secret-a"
        );
        b.sealed_secret.clone_from(&a.sealed_secret);
        assert_eq!(
            b.open_secret(&sealer).unwrap().unwrap_err(),
            SealError::CannotOpen
        );
        assert!(a.parsed_settings().is_ok());
    }
}
