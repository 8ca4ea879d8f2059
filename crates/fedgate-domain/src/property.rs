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
use url::Url;

use crate::ValidationError;
use crate::claims::ClaimMapping;
use crate::ids::{ApplicationId, PropertyId};
use crate::redirect_uri::RedirectUri;
use crate::seal::{SealContext, SealError, Sealer};

/// Sealing purpose of a property's secret (the Google client secret).
pub const SECRET_PURPOSE: &str = "property.client_secret";
/// Most redirect URIs one integration may register.
pub const MAX_REDIRECT_URIS: usize = 10;

/// Most providers of one kind (OpenID Connect, OAuth2) one application may have.
pub const MAX_PROVIDERS_PER_KIND: usize = 20;

/// Most webhooks one application may have.
pub const MAX_WEBHOOKS: usize = 10;

/// The kinds of property. Provider kinds other than Google are keyed by instance name
/// and slug, any number per application (up to a cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyKind {
    /// Google › Credentials › OAuth Credentials.
    GoogleOauthCredentials,
    /// Fedgate › OAuth Integration.
    OauthIntegration,
    /// OpenID Connect › Provider.
    OpenidConnectProvider,
    /// OAuth2 › Provider.
    Oauth2Provider,
    /// Fedgate › Development sign-in: the built-in development provider.
    DevelopmentProvider,
    /// Fedgate › Webhook: events delivered to a subscriber's endpoint.
    Webhook,
}

impl PropertyKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::GoogleOauthCredentials,
        Self::OauthIntegration,
        Self::OpenidConnectProvider,
        Self::Oauth2Provider,
        Self::DevelopmentProvider,
        Self::Webhook,
    ];

    /// The stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GoogleOauthCredentials => "google_oauth_credentials",
            Self::OauthIntegration => "oauth_integration",
            Self::OpenidConnectProvider => "openid_connect_provider",
            Self::Oauth2Provider => "oauth2_provider",
            Self::DevelopmentProvider => "development_provider",
            Self::Webhook => "webhook",
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
            Self::OpenidConnectProvider => "OpenID Connect › Provider",
            Self::Oauth2Provider => "OAuth2 › Provider",
            Self::DevelopmentProvider => "Fedgate › Development sign-in",
            Self::Webhook => "Fedgate › Webhook",
        }
    }

    /// Whether an application may hold at most one property of this kind. Google
    /// credentials and the integration are; a hosted service is derived from them.
    #[must_use]
    pub const fn is_singleton(self) -> bool {
        matches!(
            self,
            Self::GoogleOauthCredentials | Self::OauthIntegration | Self::DevelopmentProvider
        )
    }

    /// How many properties of this kind one application may hold, when more than one.
    #[must_use]
    pub const fn most_per_application(self) -> Option<usize> {
        match self {
            Self::OpenidConnectProvider | Self::Oauth2Provider => Some(MAX_PROVIDERS_PER_KIND),
            Self::Webhook => Some(MAX_WEBHOOKS),
            Self::GoogleOauthCredentials | Self::OauthIntegration | Self::DevelopmentProvider => {
                None
            }
        }
    }

    /// Whether properties of this kind each define a provider with its own slug.
    #[must_use]
    pub const fn is_slugged_provider(self) -> bool {
        matches!(self, Self::OpenidConnectProvider | Self::Oauth2Provider)
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

/// The URL segment naming a provider of an application: lowercase letters, digits
/// and `-`, 1..=40 characters, starting with a letter or digit. `google` is Google's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Google's slug.
pub const GOOGLE_SLUG: &str = "google";
/// The slug of the built-in development provider (reserved).
pub const DEVELOPMENT_SLUG: &str = "dev";

impl Slug {
    /// Parses a slug chosen by a subscriber (`google` is reserved).
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let t = text.trim();
        let ok_chars = t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if t.is_empty() || t.len() > 40 || !ok_chars || t.starts_with('-') || t.ends_with('-') {
            return Err(ValidationError::new(
                "slug",
                "must be 1 to 40 lowercase letters, digits or '-', not starting or ending with '-'",
            ));
        }
        if t == GOOGLE_SLUG {
            return Err(ValidationError::new(
                "slug",
                "\"google\" is reserved for Google",
            ));
        }
        if t == DEVELOPMENT_SLUG {
            return Err(ValidationError::new(
                "slug",
                "\"dev\" is reserved for the development sign-in",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The slug.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

/// How Fedgate authenticates at a provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthentication {
    /// HTTP Basic.
    #[default]
    ClientSecretBasic,
    /// Client id and secret in the form body.
    ClientSecretPost,
}

/// The scopes asked for when none are configured.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// Stored settings of an OpenID Connect › Provider property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenidConnectProvider {
    /// URL segment, fixed after creation.
    pub slug: Slug,
    /// Shown on the tile and to end users.
    pub display_name: String,
    /// The issuer URL; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: ClientId,
    /// Token endpoint authentication.
    pub client_authentication: ClientAuthentication,
    /// Scopes; always includes `openid`.
    pub scopes: Vec<String>,
    /// The subscriber vouches that this provider verifies email addresses.
    pub verifies_emails: bool,
    /// When non-empty, only emails of these domains count as verified.
    pub allowed_email_domains: Vec<String>,
    /// Microsoft Entra multi-tenant sign-in: the tenants (GUIDs) whose people may sign
    /// in; empty for any tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_tenants: Vec<String>,
}

impl OpenidConnectProvider {
    /// Whether the issuer is one of Entra's multi-tenant endpoints.
    #[must_use]
    pub fn is_entra_multi_tenant(&self) -> bool {
        entra_tenant_template(&self.issuer).is_some()
    }

    /// Whether the provider's email counts as verified for linking: the provider says
    /// so, the subscriber trusts the provider's verification, and the domain is allowed.
    #[must_use]
    pub fn vouches(&self, email: Option<&str>, email_verified: bool) -> bool {
        email_vouched(
            self.verifies_emails,
            &self.allowed_email_domains,
            email,
            email_verified,
        )
    }
}

/// The subscriber's email-trust rule for a provider: an email counts as verified for
/// linking when the provider says so, the subscriber trusts the provider's
/// verification, and the domain is allowed (any, when none are listed).
#[must_use]
pub fn email_vouched(
    verifies_emails: bool,
    allowed_domains: &[String],
    email: Option<&str>,
    email_verified: bool,
) -> bool {
    let Some(email) = email else { return false };
    if !(email_verified && verifies_emails) {
        return false;
    }
    if allowed_domains.is_empty() {
        return true;
    }
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    allowed_domains.contains(&domain)
}

/// Stored settings of an OAuth2 › Provider property: a plain OAuth 2.0 server with
/// no ID token and no discovery; who signed in is read from its profile endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Oauth2Provider {
    /// URL segment, fixed after creation.
    pub slug: Slug,
    /// Shown on the tile and to end users.
    pub display_name: String,
    /// Authorization endpoint (the browser goes here).
    pub authorization_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Profile (userinfo) endpoint, read with the access token.
    pub profile_url: String,
    /// GitHub-style list of email addresses (`email`, `primary`, `verified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails_url: Option<String>,
    /// OAuth client id.
    pub client_id: ClientId,
    /// Token endpoint authentication.
    pub client_authentication: ClientAuthentication,
    /// Scopes (may be empty).
    pub scopes: Vec<String>,
    /// Send a PKCE S256 challenge (off only for servers that reject it).
    pub pkce: bool,
    /// The issuer identifier recorded in identity keys.
    pub issuer: String,
    /// Where the subject and profile claims are in the profile response.
    pub claim_mapping: ClaimMapping,
    /// The subscriber vouches that this provider verifies email addresses.
    pub verifies_emails: bool,
    /// When non-empty, only emails of these domains count as verified.
    pub allowed_email_domains: Vec<String>,
}

impl Oauth2Provider {
    /// Re-validates stored settings.
    fn check(&self) -> Result<(), ValidationError> {
        parse_endpoint("authorizationUrl", &self.authorization_url)?;
        parse_endpoint("tokenUrl", &self.token_url)?;
        parse_endpoint("profileUrl", &self.profile_url)?;
        if let Some(u) = &self.emails_url {
            parse_endpoint("emailsUrl", u)?;
        }
        ClaimMapping::parse(self.claim_mapping.clone())?;
        Ok(())
    }
}

/// Parses a provider endpoint URL: http(s) with a host, no fragment or credentials;
/// kept as typed. (Whether its address may be called is the provider client's check.)
pub fn parse_endpoint(field: &'static str, text: &str) -> Result<String, ValidationError> {
    let t = text.trim();
    let bad = |m: &str| ValidationError::new(field, m.to_owned());
    if t.is_empty() || t.len() > 2048 {
        return Err(bad("must be a URL of at most 2048 characters"));
    }
    let url = url::Url::parse(t).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(bad("must be an https URL"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    Ok(t.to_owned())
}

/// The issuer identifier of an OAuth2 provider: as given, or the authorization URL's
/// origin.
fn oauth2_issuer(
    given: Option<String>,
    authorization_url: &str,
) -> Result<String, ValidationError> {
    match given.as_deref().map(str::trim) {
        None | Some("") => url::Url::parse(authorization_url)
            .map(|u| u.origin().ascii_serialization())
            .map_err(|e| ValidationError::new("authorizationUrl", format!("is not a URL: {e}"))),
        Some(t) => opaque_token("issuer", t, 2048),
    }
}

/// Microsoft Entra's sign-in hosts (global and national clouds).
const ENTRA_HOSTS: [&str; 3] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
];
/// Entra's multi-tenant endpoints, whose discovery publishes a templated issuer.
const ENTRA_MULTI_TENANT_PATHS: [&str; 2] = ["/common/v2.0", "/organizations/v2.0"];
/// The placeholder of Entra's templated issuer.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// For an issuer that is one of Microsoft Entra's multi-tenant endpoints
/// (`https://login.microsoftonline.com/common/v2.0` or `…/organizations/v2.0`, national
/// clouds too), the templated issuer its discovery publishes
/// (`https://login.microsoftonline.com/{tenantid}/v2.0`). No other issuer has one. A
/// loopback host stands in for Entra's in tests: such an issuer is only ever reached
/// with `allow_loopback_providers`.
#[must_use]
pub fn entra_tenant_template(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    let entra = url.scheme() == "https" && url.host_str().is_some_and(|h| ENTRA_HOSTS.contains(&h));
    let loopback = match url.host()? {
        url::Host::Domain(d) => d == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if !(entra || loopback) || url.query().is_some() {
        return None;
    }
    let path = ENTRA_MULTI_TENANT_PATHS
        .into_iter()
        .find(|p| url.path() == *p)?;
    let at = issuer.rfind(path)?;
    Some(format!(
        "{}/{TENANT_PLACEHOLDER}/v2.0{}",
        &issuer[..at],
        &issuer[at + path.len()..]
    ))
}

/// Whether `text` is a GUID (`8-4-4-4-12` hex digits), as Entra's tenant ids are.
#[must_use]
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn parse_tenants(tenants: Vec<String>, issuer: &str) -> Result<Vec<String>, ValidationError> {
    if tenants.is_empty() {
        return Ok(tenants);
    }
    if entra_tenant_template(issuer).is_none() {
        return Err(ValidationError::new(
            "allowedTenants",
            "only for Microsoft Entra's multi-tenant issuers (…/common/v2.0 or …/organizations/v2.0)",
        ));
    }
    if tenants.len() > 50 {
        return Err(ValidationError::new("allowedTenants", "at most 50 tenants"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in tenants.iter().enumerate() {
        let t = raw.trim().to_ascii_lowercase();
        if !is_guid(&t) {
            return Err(ValidationError::new(
                format!("allowedTenants[{i}]"),
                "must be a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)",
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Parses an OpenID Connect issuer URL: http(s), no query, fragment or credentials;
/// kept as typed.
pub fn parse_issuer(text: &str) -> Result<String, ValidationError> {
    let t = text.trim();
    let bad = |m: &str| ValidationError::new("issuer", m.to_owned());
    if t.is_empty() || t.len() > 2048 {
        return Err(bad("must be a URL of at most 2048 characters"));
    }
    let url = url::Url::parse(t).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(bad("must be an https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    // Kept as typed (minus surrounding blanks): discovery compares it character for
    // character with the provider's `issuer`.
    Ok(t.to_owned())
}

/// Scopes as asked for: `required` first (OpenID Connect's `openid`), `default` when
/// none are given.
fn parse_scopes(
    scopes: Option<Vec<String>>,
    required: Option<&str>,
    default: &[&str],
) -> Result<Vec<String>, ValidationError> {
    let given = scopes.unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect());
    let mut out: Vec<String> = required.map(str::to_owned).into_iter().collect();
    for (i, raw) in given.iter().enumerate() {
        let scope = raw.trim();
        let valid = !scope.is_empty()
            && scope.len() <= 100
            && scope
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            return Err(ValidationError::new(
                format!("scopes[{i}]"),
                "must be a scope token (printable ASCII, no spaces, quotes or backslashes)",
            ));
        }
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(ValidationError::new("scopes", "at most 20 scopes"));
    }
    Ok(out)
}

fn parse_domains(domains: Vec<String>) -> Result<Vec<String>, ValidationError> {
    if domains.len() > 50 {
        return Err(ValidationError::new(
            "allowedEmailDomains",
            "at most 50 domains",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in domains.iter().enumerate() {
        let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
            return Err(ValidationError::new(
                format!("allowedEmailDomains[{i}]"),
                "must be a domain name such as example.com",
            ));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
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
    /// An OpenID Connect provider.
    OpenidConnectProvider(OpenidConnectProvider),
    /// A plain OAuth2 provider.
    Oauth2Provider(Box<Oauth2Provider>),
    /// The built-in development provider (no settings).
    DevelopmentProvider,
    /// A webhook.
    Webhook(WebhookSettings),
}

/// Stored settings of a Fedgate › Webhook property (its signing secret is sealed
/// beside them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types subscribed to (`user.created`, …).
    pub event_types: Vec<String>,
}

impl WebhookSettings {
    fn check(&self) -> Result<(), ValidationError> {
        webhook_url(&self.url)?;
        webhook_event_types(&self.event_types)?;
        Ok(())
    }

    /// The subscribed types.
    #[must_use]
    pub fn types(&self) -> Vec<crate::webhook::WebhookEventType> {
        self.event_types
            .iter()
            .filter_map(|t| crate::webhook::WebhookEventType::parse(t))
            .collect()
    }
}

/// A webhook URL: absolute, `https` (plain `http` only to a loopback host, for local
/// development — and even then only where loopback calls are allowed), no user info,
/// no fragment, at most 2048 characters.
fn webhook_url(text: &str) -> Result<Url, ValidationError> {
    let field = "url";
    if text.len() > 2048 {
        return Err(ValidationError::new(
            field,
            "must be at most 2048 characters",
        ));
    }
    let url = Url::parse(text.trim())
        .map_err(|_| ValidationError::new(field, "must be an absolute https URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(ValidationError::new(field, "must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValidationError::new(field, "must not contain user info"));
    }
    if url.fragment().is_some() {
        return Err(ValidationError::new(field, "must not contain a fragment"));
    }
    Ok(url)
}

/// Subscribed event types: at least one, each known, none twice.
fn webhook_event_types(types: &[String]) -> Result<(), ValidationError> {
    let field = "eventTypes";
    if types.is_empty() {
        return Err(ValidationError::new(
            field,
            "must name at least one event type",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if crate::webhook::WebhookEventType::parse(t).is_none() {
            let known: Vec<&str> = crate::webhook::WebhookEventType::ALL
                .iter()
                .map(|t| t.as_str())
                .collect();
            return Err(ValidationError::new(
                field,
                format!("{t:?} is not an event type; one of {}", known.join(", ")),
            ));
        }
        if types[..i].contains(t) {
            return Err(ValidationError::new(field, format!("{t} is named twice")));
        }
    }
    Ok(())
}

impl PropertySettings {
    /// The kind these settings belong to.
    #[must_use]
    pub const fn kind(&self) -> PropertyKind {
        match self {
            Self::GoogleOauthCredentials(_) => PropertyKind::GoogleOauthCredentials,
            Self::OauthIntegration(_) => PropertyKind::OauthIntegration,
            Self::OpenidConnectProvider(_) => PropertyKind::OpenidConnectProvider,
            Self::Oauth2Provider(_) => PropertyKind::Oauth2Provider,
            Self::DevelopmentProvider => PropertyKind::DevelopmentProvider,
            Self::Webhook(_) => PropertyKind::Webhook,
        }
    }

    /// The provider slug these settings define, if any.
    #[must_use]
    pub fn slug(&self) -> Option<&Slug> {
        match self {
            Self::OpenidConnectProvider(p) => Some(&p.slug),
            Self::Oauth2Provider(p) => Some(&p.slug),
            _ => None,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Self::GoogleOauthCredentials(s) => serde_json::to_value(s),
            Self::OauthIntegration(s) => serde_json::to_value(s),
            Self::OpenidConnectProvider(s) => serde_json::to_value(s),
            Self::Oauth2Provider(s) => serde_json::to_value(s),
            Self::DevelopmentProvider => Ok(serde_json::json!({})),
            Self::Webhook(s) => serde_json::to_value(s),
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
            PropertyKind::OpenidConnectProvider => {
                let s: OpenidConnectProvider =
                    serde_json::from_value(json.clone()).map_err(|e| e.to_string())?;
                parse_issuer(&s.issuer).map_err(|e| e.to_string())?;
                Self::OpenidConnectProvider(s)
            }
            PropertyKind::Oauth2Provider => {
                let s: Oauth2Provider =
                    serde_json::from_value(json.clone()).map_err(|e| e.to_string())?;
                s.check().map_err(|e| e.to_string())?;
                Self::Oauth2Provider(Box::new(s))
            }
            PropertyKind::DevelopmentProvider => match json.as_object() {
                Some(o) if o.is_empty() => Self::DevelopmentProvider,
                _ => return Err("a development sign-in has no settings".into()),
            },
            PropertyKind::Webhook => {
                let s: WebhookSettings =
                    serde_json::from_value(json.clone()).map_err(|e| e.to_string())?;
                s.check().map_err(|e| e.to_string())?;
                Self::Webhook(s)
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
    /// OpenID Connect › Provider.
    OpenidConnectProvider {
        /// Label.
        instance_name: String,
        /// URL segment.
        slug: String,
        /// Shown to users.
        display_name: String,
        /// Issuer URL.
        issuer: String,
        /// Client id.
        client_id: String,
        /// Client secret; on update, `None` keeps the stored one.
        client_secret: Option<SecretString>,
        /// Token endpoint authentication.
        client_authentication: ClientAuthentication,
        /// Scopes; `None` for the default.
        scopes: Option<Vec<String>>,
        /// The provider verifies emails.
        verifies_emails: bool,
        /// Allowed email domains.
        allowed_email_domains: Vec<String>,
        /// Entra multi-tenant: allowed tenant ids (empty: any).
        allowed_tenants: Vec<String>,
    },
    /// OAuth2 › Provider.
    Oauth2Provider(Box<Oauth2ProviderInput>),
    /// Fedgate › Development sign-in.
    DevelopmentProvider {
        /// Label.
        instance_name: String,
    },
    /// Fedgate › Webhook. Its signing secret is made by Fedgate, not submitted.
    Webhook {
        /// Label.
        instance_name: String,
        /// Where deliveries are POSTed.
        url: String,
        /// The event types subscribed to.
        event_types: Vec<String>,
    },
}

/// What a subscriber submits for an OAuth2 › Provider.
#[derive(Debug)]
pub struct Oauth2ProviderInput {
    /// Label.
    pub instance_name: String,
    /// URL segment.
    pub slug: String,
    /// Shown to users.
    pub display_name: String,
    /// Authorization endpoint.
    pub authorization_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Profile endpoint.
    pub profile_url: String,
    /// Emails endpoint, optional.
    pub emails_url: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client secret; on update, `None` keeps the stored one.
    pub client_secret: Option<SecretString>,
    /// Token endpoint authentication.
    pub client_authentication: ClientAuthentication,
    /// Scopes; `None` for none.
    pub scopes: Option<Vec<String>>,
    /// PKCE S256.
    pub pkce: bool,
    /// Issuer identifier; `None` for the authorization URL's origin.
    pub issuer: Option<String>,
    /// Claim mapping.
    pub claim_mapping: ClaimMapping,
    /// The provider verifies emails.
    pub verifies_emails: bool,
    /// Allowed email domains.
    pub allowed_email_domains: Vec<String>,
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
            Self::OpenidConnectProvider { .. } => PropertyKind::OpenidConnectProvider,
            Self::Oauth2Provider(_) => PropertyKind::Oauth2Provider,
            Self::DevelopmentProvider { .. } => PropertyKind::DevelopmentProvider,
            Self::Webhook { .. } => PropertyKind::Webhook,
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
            Self::OpenidConnectProvider {
                instance_name,
                slug,
                display_name,
                issuer,
                client_id,
                client_secret,
                client_authentication,
                scopes,
                verifies_emails,
                allowed_email_domains,
                allowed_tenants,
            } => {
                let instance_name = InstanceName::parse(&instance_name)?;
                let slug = Slug::parse(&slug)?;
                let display_name = crate::error::label("displayName", &display_name, 100)?;
                let issuer = parse_issuer(&issuer)?;
                let client_id = ClientId::parse(&client_id)?;
                let secret = client_secret
                    .as_ref()
                    .map(ClientSecret::parse)
                    .transpose()?;
                if secret_required && secret.is_none() {
                    return Err(ValidationError::new("clientSecret", "is required"));
                }
                let scopes = parse_scopes(scopes, Some("openid"), &DEFAULT_SCOPES)?;
                let allowed_email_domains = parse_domains(allowed_email_domains)?;
                let allowed_tenants = parse_tenants(allowed_tenants, &issuer)?;
                if verifies_emails && entra_tenant_template(&issuer).is_some() {
                    return Err(ValidationError::new(
                        "verifiesEmails",
                        "Microsoft Entra does not verify the email addresses of multi-tenant sign-ins (any tenant's administrator can set any address), so they cannot count as verified",
                    ));
                }
                Ok(ValidProperty {
                    instance_name,
                    settings: PropertySettings::OpenidConnectProvider(OpenidConnectProvider {
                        slug,
                        display_name,
                        issuer,
                        client_id,
                        client_authentication,
                        scopes,
                        verifies_emails,
                        allowed_email_domains,
                        allowed_tenants,
                    }),
                    secret,
                })
            }
            Self::Oauth2Provider(o) => o.validate(secret_required),
            Self::DevelopmentProvider { instance_name } => Ok(ValidProperty {
                instance_name: InstanceName::parse(&instance_name)?,
                settings: PropertySettings::DevelopmentProvider,
                secret: None,
            }),
            Self::Webhook {
                instance_name,
                url,
                event_types,
            } => {
                let instance_name = InstanceName::parse(&instance_name)?;
                let settings = WebhookSettings {
                    url: webhook_url(&url)?.to_string(),
                    event_types,
                };
                settings.check()?;
                Ok(ValidProperty {
                    instance_name,
                    settings: PropertySettings::Webhook(settings),
                    secret: None,
                })
            }
        }
    }
}

impl Oauth2ProviderInput {
    fn validate(self, secret_required: bool) -> Result<ValidProperty, ValidationError> {
        let instance_name = InstanceName::parse(&self.instance_name)?;
        let slug = Slug::parse(&self.slug)?;
        let display_name = crate::error::label("displayName", &self.display_name, 100)?;
        let authorization_url = parse_endpoint("authorizationUrl", &self.authorization_url)?;
        let token_url = parse_endpoint("tokenUrl", &self.token_url)?;
        let profile_url = parse_endpoint("profileUrl", &self.profile_url)?;
        let emails_url = match self.emails_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(parse_endpoint("emailsUrl", u)?),
        };
        let client_id = ClientId::parse(&self.client_id)?;
        let secret = self
            .client_secret
            .as_ref()
            .map(ClientSecret::parse)
            .transpose()?;
        if secret_required && secret.is_none() {
            return Err(ValidationError::new("clientSecret", "is required"));
        }
        let scopes = parse_scopes(self.scopes, None, &[])?;
        let issuer = oauth2_issuer(self.issuer, &authorization_url)?;
        let claim_mapping = ClaimMapping::parse(self.claim_mapping)?;
        let allowed_email_domains = parse_domains(self.allowed_email_domains)?;
        Ok(ValidProperty {
            instance_name,
            settings: PropertySettings::Oauth2Provider(Box::new(Oauth2Provider {
                slug,
                display_name,
                authorization_url,
                token_url,
                profile_url,
                emails_url,
                client_id,
                client_authentication: self.client_authentication,
                scopes,
                pkce: self.pkce,
                issuer,
                claim_mapping,
                verifies_emails: self.verifies_emails,
                allowed_email_domains,
            })),
            secret,
        })
    }
}

/// Checks that replacing `old` settings by `new` keeps what may not change: the kind,
/// and a provider's slug (its URLs are registered at the provider and in apps).
pub fn check_replacement(
    old: &PropertySettings,
    new: &PropertySettings,
) -> Result<(), ValidationError> {
    if old.kind() != new.kind() {
        return Err(ValidationError::new("kind", "cannot be changed"));
    }
    if old.slug() != new.slug() {
        return Err(ValidationError::new(
            "slug",
            "cannot be changed after creation",
        ));
    }
    Ok(())
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
    /// The provider slug, for provider kinds (unique per application).
    pub slug: Option<String>,
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
            slug: valid.settings.slug().map(|s| s.as_str().to_owned()),
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
        self.slug = valid.settings.slug().map(|s| s.as_str().to_owned());
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

    fn oidc(
        slug: &str,
        issuer: &str,
        scopes: Option<Vec<&str>>,
        domains: Vec<&str>,
    ) -> PropertyInput {
        PropertyInput::OpenidConnectProvider {
            instance_name: "corp".into(),
            slug: slug.into(),
            display_name: "Acme SSO".into(),
            issuer: issuer.into(),
            client_id: "fedgate".into(),
            client_secret: Some(SecretString::from("s3cret")),
            client_authentication: ClientAuthentication::ClientSecretBasic,
            scopes: scopes.map(|v| v.into_iter().map(str::to_owned).collect()),
            verifies_emails: true,
            allowed_email_domains: domains.into_iter().map(str::to_owned).collect(),
            allowed_tenants: Vec::new(),
        }
    }

    #[test]
    fn openid_connect_providers_are_validated_field_by_field() {
        let issuer = "https://sso.acme.example/realms/staff";
        let field = |i: PropertyInput| i.validate(true).unwrap_err().field.into_owned();
        assert_eq!(field(oidc("Acme", issuer, None, vec![])), "slug");
        assert_eq!(field(oidc("google", issuer, None, vec![])), "slug");
        assert_eq!(field(oidc("-a", issuer, None, vec![])), "slug");
        assert_eq!(
            field(oidc("acme", "ftp://x.example", None, vec![])),
            "issuer"
        );
        assert_eq!(
            field(oidc("acme", "https://x.example/?a=1", None, vec![])),
            "issuer"
        );
        assert_eq!(
            field(oidc("acme", issuer, Some(vec!["a b"]), vec![])),
            "scopes[0]"
        );
        assert_eq!(
            field(oidc("acme", issuer, None, vec!["not a domain"])),
            "allowedEmailDomains[0]"
        );
        let ok = oidc(
            "acme-sso",
            issuer,
            Some(vec!["email", "openid", "email"]),
            vec!["@Acme.Example"],
        )
        .validate(true)
        .unwrap();
        let PropertySettings::OpenidConnectProvider(p) = ok.settings else {
            panic!()
        };
        assert_eq!(p.scopes, ["openid", "email"], "openid always, once");
        assert_eq!(p.allowed_email_domains, ["acme.example"]);
        let default = oidc("a1", issuer, None, vec![]).validate(true).unwrap();
        let PropertySettings::OpenidConnectProvider(d) = default.settings else {
            panic!()
        };
        assert_eq!(d.scopes, ["openid", "email", "profile"]);
    }

    #[test]
    fn a_provider_vouches_for_emails_only_when_trusted_verified_and_allowed() {
        let issuer = "https://sso.acme.example";
        let settings = |verifies: bool, domains: Vec<&str>| {
            let mut input = oidc("acme", issuer, None, domains);
            if let PropertyInput::OpenidConnectProvider {
                verifies_emails, ..
            } = &mut input
            {
                *verifies_emails = verifies;
            }
            match input.validate(true).unwrap().settings {
                PropertySettings::OpenidConnectProvider(p) => p,
                _ => unreachable!(),
            }
        };
        let trusting = settings(true, vec![]);
        assert!(trusting.vouches(Some("ann@any.example"), true));
        assert!(!trusting.vouches(Some("ann@any.example"), false));
        assert!(!trusting.vouches(None, true));
        assert!(!settings(false, vec![]).vouches(Some("ann@any.example"), true));
        let scoped = settings(true, vec!["acme.example"]);
        assert!(scoped.vouches(Some("Ann@ACME.example"), true));
        assert!(!scoped.vouches(Some("ann@evil.example"), true));
        assert!(!scoped.vouches(Some("ann@sub.acme.example"), true));
    }

    #[test]
    fn a_slug_and_a_kind_never_change() {
        let issuer = "https://sso.acme.example";
        let a = oidc("acme", issuer, None, vec![])
            .validate(true)
            .unwrap()
            .settings;
        let b = oidc("acme2", issuer, None, vec![])
            .validate(true)
            .unwrap()
            .settings;
        assert_eq!(check_replacement(&a, &b).unwrap_err().field, "slug");
        assert!(check_replacement(&a, &a).is_ok());
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

#[cfg(test)]
mod entra_tests {
    use super::*;

    #[test]
    fn only_entras_multi_tenant_issuers_have_a_template() {
        assert_eq!(
            entra_tenant_template("https://login.microsoftonline.com/common/v2.0").as_deref(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0")
        );
        assert_eq!(
            entra_tenant_template("https://login.microsoftonline.us/organizations/v2.0").as_deref(),
            Some("https://login.microsoftonline.us/{tenantid}/v2.0")
        );
        for single in [
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "https://login.microsoftonline.com/consumers/v2.0",
            "https://evil.example/common/v2.0",
            "http://login.microsoftonline.com/common/v2.0",
            "https://login.microsoftonline.com/common/v2.0/extra",
        ] {
            assert_eq!(entra_tenant_template(single), None, "{single}");
        }
    }

    #[test]
    fn tenants_are_guids_and_only_for_entra_multi_tenant() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("72f988bf86f141af91ab2d7cd011db47"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        let common = "https://login.microsoftonline.com/common/v2.0";
        assert_eq!(
            parse_tenants(
                vec![" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ".into()],
                common
            )
            .unwrap(),
            vec!["72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned()]
        );
        assert_eq!(
            parse_tenants(vec!["x".into()], common).unwrap_err().field,
            "allowedTenants[0]"
        );
        assert_eq!(
            parse_tenants(
                vec!["72f988bf-86f1-41af-91ab-2d7cd011db47".into()],
                "https://sso.acme.example"
            )
            .unwrap_err()
            .field,
            "allowedTenants"
        );
    }
}
