//! The registry: an application's providers and hosted services, derived from its
//! properties. A login start asks it for one provider by slug; the Hosted Services
//! page asks it for every tile. Properties are cached a few seconds per application
//! (changes through this instance invalidate at once); discovery documents and JWKS
//! are cached by the provider client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fedgate_domain::federation::{oauth2_provider_key, oidc_provider_key};
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{Store, StoreError};
use fedgate_domain::property::{
    ClientAuthentication, ClientSecret, Oauth2Provider, OauthIntegration, OpenidConnectProvider,
    PropertyKind, PropertySettings, StoredProperty,
};
use fedgate_domain::seal::Sealer;
use fedgate_provider::{
    AuthorizationBase, ClientAuth, OfflineAccess, ProviderClient, ProviderEndpoints,
};
use url::Url;

use crate::development::Development;
use crate::provider::{
    EmailTrust, Identity, ProfileSource, ProviderConfig, ProviderKind, ProviderRef,
};
use crate::services::{self, HostedService, InactiveReason, ServiceStatus};

/// How long another instance's change may take to be seen.
pub const SETUP_TTL: Duration = Duration::from_secs(5);

/// A usable provider of an application, with the application's OAuth integration.
#[derive(Debug)]
pub struct ActiveProvider {
    /// The provider.
    pub config: ProviderConfig,
    /// The integration every provider of the application shares.
    pub integration: OauthIntegration,
    /// Fedgate's callback for this provider of the application: the redirect URI the
    /// provider is given.
    pub callback: String,
    /// The provider's authorization URL with the client id and the callback, encoded
    /// once for every login.
    pub authorization: AuthorizationBase,
}

/// What a slug names in an application.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// No such application.
    UnknownApplication,
    /// The application has no provider with this slug.
    UnknownProvider,
    /// The provider exists but cannot be used.
    Inactive(ProviderRef, Vec<InactiveReason>),
    /// Ready.
    Active(Arc<ActiveProvider>),
}

type Cached<T> = Mutex<HashMap<ApplicationId, (Instant, T)>>;

/// Providers and hosted services of every application.
pub struct Registry {
    store: Arc<dyn Store>,
    sealer: Sealer,
    base: Url,
    google: ProviderEndpoints,
    client: Arc<ProviderClient>,
    development: Option<Development>,
    properties: Cached<Arc<Vec<StoredProperty>>>,
    lookups: Cached<HashMap<String, Lookup>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// One provider an application's properties define, before it is evaluated.
enum Definition<'a> {
    Google(Option<&'a StoredProperty>),
    OpenIdConnect(&'a StoredProperty),
    OAuth2(&'a StoredProperty),
    Development(Option<&'a StoredProperty>),
}

/// Google first, the development sign-in (when the development provider is on), then
/// the slugged providers in the order they were created.
fn definitions(properties: &[StoredProperty], development: bool) -> Vec<Definition<'_>> {
    let of_kind = |kind| properties.iter().find(|p| p.kind == kind);
    let mut defs = vec![Definition::Google(of_kind(
        PropertyKind::GoogleOauthCredentials,
    ))];
    if development {
        defs.push(Definition::Development(of_kind(
            PropertyKind::DevelopmentProvider,
        )));
    }
    defs.extend(properties.iter().filter_map(|p| match p.kind {
        PropertyKind::OpenidConnectProvider => Some(Definition::OpenIdConnect(p)),
        PropertyKind::Oauth2Provider => Some(Definition::OAuth2(p)),
        _ => None,
    }));
    defs
}

fn oidc_settings(p: &StoredProperty) -> Result<OpenidConnectProvider, String> {
    match p.parsed_settings()? {
        PropertySettings::OpenidConnectProvider(s) => Ok(s),
        _ => Err("not an OpenID Connect provider".into()),
    }
}

fn oauth2_settings(p: &StoredProperty) -> Result<Oauth2Provider, String> {
    match p.parsed_settings()? {
        PropertySettings::Oauth2Provider(s) => Ok(*s),
        _ => Err("not an OAuth2 provider".into()),
    }
}

impl Definition<'_> {
    fn provider(&self) -> ProviderRef {
        let slugged =
            |p: &StoredProperty, key: String, kind, display: Option<String>| ProviderRef {
                key,
                kind,
                slug: p.slug.clone().unwrap_or_else(|| p.id.to_string()),
                display_name: display.unwrap_or_else(|| p.instance_name.clone()),
                property_id: Some(p.id),
            };
        match self {
            Self::Google(p) => ProviderRef::google(p.map(|p| p.id)),
            Self::Development(p) => ProviderRef::development(p.map(|p| p.id)),
            Self::OpenIdConnect(p) => slugged(
                p,
                oidc_provider_key(p.id),
                ProviderKind::OpenIdConnect,
                oidc_settings(p).ok().map(|s| s.display_name),
            ),
            Self::OAuth2(p) => slugged(
                p,
                oauth2_provider_key(p.id),
                ProviderKind::OAuth2,
                oauth2_settings(p).ok().map(|s| s.display_name),
            ),
        }
    }
}

/// The integration, or why it is missing or invalid.
fn integration(properties: &[StoredProperty]) -> Result<OauthIntegration, InactiveReason> {
    let kind = PropertyKind::OauthIntegration;
    let Some(p) = properties.iter().find(|p| p.kind == kind) else {
        return Err(InactiveReason {
            code: "missing_oauth_integration",
            message: format!(
                "No OAuth integration: add New Property › {} with your app's redirect URI.",
                kind.menu_path()
            ),
            property_kind: kind,
            property_id: None,
            recheck_issuer: None,
        });
    };
    match p.parsed_settings() {
        Ok(PropertySettings::OauthIntegration(i)) => Ok(i),
        Ok(_) | Err(_) => Err(InactiveReason {
            code: "invalid_oauth_integration",
            message: format!(
                "The OAuth integration \"{}\" is invalid: {}. Edit it.",
                p.instance_name,
                p.parsed_settings().err().unwrap_or_default()
            ),
            property_kind: kind,
            property_id: Some(p.id),
            recheck_issuer: None,
        }),
    }
}

/// The opened client secret of `p`, or why there is none.
fn secret(p: &StoredProperty, sealer: &Sealer) -> Result<ClientSecret, InactiveReason> {
    match p.open_secret(sealer) {
        Some(Ok(s)) => Ok(s),
        None => Err(InactiveReason {
            code: "missing_client_secret",
            message: format!("\"{}\" has no client secret. Enter it.", p.instance_name),
            property_kind: p.kind,
            property_id: Some(p.id),
            recheck_issuer: None,
        }),
        Some(Err(_)) => Err(InactiveReason {
            code: "unreadable_client_secret",
            message: format!(
                "The client secret of \"{}\" cannot be decrypted (was the master key changed?). Enter it again.",
                p.instance_name
            ),
            property_kind: p.kind,
            property_id: Some(p.id),
            recheck_issuer: None,
        }),
    }
}

impl Registry {
    /// A registry reading `store`, opening secrets with `sealer`, building URLs on
    /// `base`, with Google at `google`, every provider reached through `client`, and
    /// the development provider when it is on.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        sealer: Sealer,
        base: Url,
        google: ProviderEndpoints,
        client: Arc<ProviderClient>,
        development: Option<Development>,
    ) -> Self {
        Self {
            store,
            sealer,
            base,
            google,
            client,
            development,
            properties: Mutex::default(),
            lookups: Mutex::default(),
        }
    }

    /// The provider client.
    #[must_use]
    pub fn client(&self) -> &ProviderClient {
        &self.client
    }

    /// The development provider, when it is on.
    #[must_use]
    pub const fn development(&self) -> Option<&Development> {
        self.development.as_ref()
    }

    /// Forgets what is cached for the application after a change through this instance.
    pub fn invalidate(&self, app: ApplicationId) {
        self.properties
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&app);
        self.lookups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&app);
    }

    /// The application's properties (`None` when it does not exist), from memory for
    /// a few seconds.
    async fn properties(
        &self,
        app: ApplicationId,
    ) -> Result<Option<Arc<Vec<StoredProperty>>>, StoreError> {
        if let Some((at, props)) = self
            .properties
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&app)
            && at.elapsed() < SETUP_TTL
        {
            return Ok(Some(Arc::clone(props)));
        }
        if self.store.find_application(app).await?.is_none() {
            // Unknown applications are not remembered: random ids must not grow memory.
            return Ok(None);
        }
        let props = Arc::new(self.store.list_properties(app).await?);
        self.properties
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app, (Instant::now(), Arc::clone(&props)));
        Ok(Some(props))
    }

    /// What [`Self::lookup`] answers without reading anything, when it does.
    #[must_use]
    pub fn cached(&self, app: ApplicationId, slug: &str) -> Option<Lookup> {
        let cache = self.lookups.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, found) = cache.get(&app)?;
        (at.elapsed() < SETUP_TTL)
            .then(|| found.get(slug).cloned())
            .flatten()
    }

    /// The provider of `app` named by `slug`, usable or with why not.
    pub async fn lookup(&self, app: ApplicationId, slug: &str) -> Result<Lookup, StoreError> {
        if let Some(hit) = self.cached(app, slug) {
            return Ok(hit);
        }
        let Some(props) = self.properties(app).await? else {
            return Ok(Lookup::UnknownApplication);
        };
        let defs = definitions(&props, self.development.is_some());
        let Some(def) = defs.iter().find(|d| d.provider().slug == slug) else {
            return Ok(Lookup::UnknownProvider);
        };
        let (provider, outcome) = self.evaluate(app, def, &props, false).await;
        let found = match outcome {
            Ok(active) => Lookup::Active(Arc::new(active)),
            Err(reasons) => Lookup::Inactive(provider, reasons),
        };
        let mut cache = self.lookups.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = cache
            .entry(app)
            .or_insert_with(|| (Instant::now(), HashMap::new()));
        if entry.0.elapsed() >= SETUP_TTL {
            *entry = (Instant::now(), HashMap::new());
        }
        entry.1.insert(slug.to_owned(), found.clone());
        Ok(found)
    }

    /// Every provider of the application (Google first), usable or not.
    pub async fn providers(&self, app: ApplicationId) -> Result<Vec<ProviderRef>, StoreError> {
        let Some(props) = self.properties(app).await? else {
            return Ok(Vec::new());
        };
        Ok(definitions(&props, self.development.is_some())
            .iter()
            .map(Definition::provider)
            .collect())
    }

    /// The application's hosted services, one per provider (Google first). Discovery
    /// runs for every provider whose document is not cached, concurrently.
    pub async fn services(&self, app: ApplicationId) -> Result<Vec<HostedService>, StoreError> {
        self.invalidate(app);
        let Some(props) = self.properties(app).await? else {
            return Ok(Vec::new());
        };
        let defs = definitions(&props, self.development.is_some());
        let evaluated = futures_util::future::join_all(
            defs.iter().map(|d| self.evaluate(app, d, &props, false)),
        )
        .await;
        Ok(evaluated
            .into_iter()
            .map(|(provider, outcome)| HostedService {
                provider_redirect_uri: services::callback_url(&self.base, app, &provider.slug),
                login_endpoint: services::login_url(&self.base, app, &provider.slug),
                status: match outcome {
                    Ok(_) => ServiceStatus::Active,
                    Err(reasons) => ServiceStatus::Inactive(reasons),
                },
                provider,
            })
            .collect())
    }

    /// Whether the provider can be used, and its configuration when it can.
    async fn evaluate(
        &self,
        app: ApplicationId,
        def: &Definition<'_>,
        props: &[StoredProperty],
        force_discovery: bool,
    ) -> (ProviderRef, Result<ActiveProvider, Vec<InactiveReason>>) {
        let provider = def.provider();
        let mut reasons = Vec::new();
        let config = match def {
            Definition::Google(p) => self.google_config(&provider, *p, &mut reasons),
            Definition::OpenIdConnect(p) => {
                self.oidc_config(&provider, p, force_discovery, &mut reasons)
                    .await
            }
            Definition::OAuth2(p) => self.oauth2_config(&provider, p, &mut reasons),
            Definition::Development(p) => {
                self.development_config(app, &provider, *p, force_discovery, &mut reasons)
                    .await
            }
        };
        let integration = integration(props).map_err(|r| reasons.push(r)).ok();
        let outcome = match (config, integration) {
            (Some(config), Some(integration)) if reasons.is_empty() => {
                let callback = services::callback_url(&self.base, app, &provider.slug).to_string();
                Ok(ActiveProvider {
                    authorization: AuthorizationBase::new(
                        &config.endpoints,
                        &config.client_id,
                        &callback,
                    ),
                    callback,
                    config,
                    integration,
                })
            }
            _ => Err(reasons),
        };
        (provider, outcome)
    }

    fn google_config(
        &self,
        provider: &ProviderRef,
        property: Option<&StoredProperty>,
        reasons: &mut Vec<InactiveReason>,
    ) -> Option<ProviderConfig> {
        let kind = PropertyKind::GoogleOauthCredentials;
        let Some(p) = property else {
            reasons.push(InactiveReason {
                code: "missing_google_credentials",
                message: format!(
                    "No Google OAuth credentials: add New Property › {} with the client id and secret from the Google console.",
                    kind.menu_path()
                ),
                property_kind: kind,
                property_id: None,
                recheck_issuer: None,
            });
            return None;
        };
        let client_id = match p.parsed_settings() {
            Ok(PropertySettings::GoogleOauthCredentials(g)) => Some(g.client_id),
            other => {
                reasons.push(InactiveReason {
                    code: "invalid_google_credentials",
                    message: format!(
                        "The Google OAuth credentials \"{}\" are invalid: {}. Edit them.",
                        p.instance_name,
                        other.err().unwrap_or_default()
                    ),
                    property_kind: kind,
                    property_id: Some(p.id),
                    recheck_issuer: None,
                });
                None
            }
        };
        let secret = secret(p, &self.sealer).map_err(|r| reasons.push(r)).ok();
        Some(ProviderConfig {
            provider: provider.clone(),
            endpoints: self.google.clone(),
            client_id: client_id?.as_str().to_owned(),
            client_secret: secret?,
            client_auth: ClientAuth::Basic,
            scope: "openid email profile".to_owned(),
            offline: OfflineAccess::GoogleAccessType,
            iss_required: false,
            email_trust: EmailTrust::Google,
            identity: Identity::IdToken,
            pkce: true,
            scope_aliases: &[
                ("email", "https://www.googleapis.com/auth/userinfo.email"),
                (
                    "profile",
                    "https://www.googleapis.com/auth/userinfo.profile",
                ),
            ],
        })
    }

    async fn oidc_config(
        &self,
        provider: &ProviderRef,
        p: &StoredProperty,
        force_discovery: bool,
        reasons: &mut Vec<InactiveReason>,
    ) -> Option<ProviderConfig> {
        let kind = PropertyKind::OpenidConnectProvider;
        let settings = match oidc_settings(p) {
            Ok(s) => s,
            Err(e) => {
                reasons.push(InactiveReason {
                    code: "invalid_openid_connect_provider",
                    message: format!(
                        "The OpenID Connect provider \"{}\" is invalid: {e}. Edit it.",
                        p.instance_name
                    ),
                    property_kind: kind,
                    property_id: Some(p.id),
                    recheck_issuer: None,
                });
                return None;
            }
        };
        let secret = secret(p, &self.sealer).map_err(|r| reasons.push(r)).ok();
        let discovered = match self
            .client
            .discover(&settings.issuer, force_discovery)
            .await
        {
            Ok(d) => d,
            Err(e) => {
                reasons.push(InactiveReason {
                    code: e.code(),
                    message: format!(
                        "Discovery of \"{}\" failed: {e}. Fix the issuer or the provider, then check discovery again.",
                        settings.display_name
                    ),
                    property_kind: kind,
                    property_id: Some(p.id),
                    recheck_issuer: Some(settings.issuer.clone()),
                });
                return None;
            }
        };
        let (client_auth, method) = match settings.client_authentication {
            ClientAuthentication::ClientSecretBasic => (ClientAuth::Basic, "client_secret_basic"),
            ClientAuthentication::ClientSecretPost => (ClientAuth::Post, "client_secret_post"),
        };
        if !discovered.token_auth_methods.iter().any(|m| m == method) {
            reasons.push(InactiveReason {
                code: "client_authentication_unsupported",
                message: format!(
                    "\"{}\" does not accept {method} at its token endpoint (it lists {}). Change the client authentication.",
                    settings.display_name,
                    discovered.token_auth_methods.join(", ")
                ),
                property_kind: kind,
                property_id: Some(p.id),
                recheck_issuer: None,
            });
        }
        let offline = if discovered
            .scopes_supported
            .iter()
            .any(|s| s == "offline_access")
        {
            OfflineAccess::OfflineAccessScope
        } else {
            OfflineAccess::No
        };
        let mut endpoints = ProviderEndpoints::discovered(&discovered);
        if let Some(tenants) = endpoints.tenants.as_mut() {
            tenants.allowed.clone_from(&settings.allowed_tenants);
        }
        Some(ProviderConfig {
            provider: provider.clone(),
            endpoints,
            client_id: settings.client_id.as_str().to_owned(),
            client_secret: secret?,
            client_auth,
            scope: settings.scopes.join(" "),
            offline,
            iss_required: discovered.iss_parameter_supported,
            email_trust: EmailTrust::Configured {
                verifies_emails: settings.verifies_emails,
                allowed_domains: settings.allowed_email_domains,
            },
            identity: Identity::IdToken,
            pkce: true,
            scope_aliases: &[],
        })
    }

    /// The development provider: an OpenID Connect provider at Fedgate's own
    /// `{base}/dev-provider`, found by discovery like any other.
    async fn development_config(
        &self,
        app: ApplicationId,
        provider: &ProviderRef,
        property: Option<&StoredProperty>,
        force_discovery: bool,
        reasons: &mut Vec<InactiveReason>,
    ) -> Option<ProviderConfig> {
        let kind = PropertyKind::DevelopmentProvider;
        let dev = self.development.as_ref()?;
        if property.is_none() {
            reasons.push(InactiveReason {
                code: "missing_development_provider",
                message: "Not activated yet: activate it to sign in as anyone you type, with no provider account. For trying Fedgate on this machine only.".into(),
                property_kind: kind,
                property_id: None,
                recheck_issuer: None,
            });
            return None;
        }
        let discovered = match self.client.discover(dev.issuer(), force_discovery).await {
            Ok(d) => d,
            Err(e) => {
                reasons.push(InactiveReason {
                    code: e.code(),
                    message: format!("Discovery of the development provider failed: {e}."),
                    property_kind: kind,
                    property_id: property.map(|p| p.id),
                    recheck_issuer: Some(dev.issuer().to_owned()),
                });
                return None;
            }
        };
        let secret = secrecy::SecretString::from(dev.client_secret(app));
        Some(ProviderConfig {
            provider: provider.clone(),
            endpoints: ProviderEndpoints {
                kind: crate::ProviderKind::Development.label(),
                ..ProviderEndpoints::discovered(&discovered)
            },
            client_id: dev.client_id(app),
            client_secret: ClientSecret::parse(&secret).ok()?,
            client_auth: ClientAuth::Basic,
            scope: "openid email profile".to_owned(),
            offline: OfflineAccess::No,
            iss_required: discovered.iss_parameter_supported,
            // The tester says whether the address is verified; that is the point.
            email_trust: EmailTrust::Configured {
                verifies_emails: true,
                allowed_domains: Vec::new(),
            },
            identity: Identity::IdToken,
            pkce: true,
            scope_aliases: &[],
        })
    }

    fn oauth2_config(
        &self,
        provider: &ProviderRef,
        p: &StoredProperty,
        reasons: &mut Vec<InactiveReason>,
    ) -> Option<ProviderConfig> {
        let kind = PropertyKind::Oauth2Provider;
        let reason = |code: &'static str, message: String| InactiveReason {
            code,
            message,
            property_kind: kind,
            property_id: Some(p.id),
            recheck_issuer: None,
        };
        let settings = match oauth2_settings(p) {
            Ok(s) => s,
            Err(e) => {
                reasons.push(reason(
                    "invalid_oauth2_provider",
                    format!(
                        "The OAuth2 provider \"{}\" is invalid: {e}. Edit it.",
                        p.instance_name
                    ),
                ));
                return None;
            }
        };
        let secret = secret(p, &self.sealer).map_err(|r| reasons.push(r)).ok();
        // Every URL the login will call or send the browser to, checked now so the
        // tile says what is wrong before anyone tries to sign in.
        let mut endpoint = |field: &str, text: &str| match Url::parse(text) {
            Ok(url) => match self.client().refusal(&url) {
                None => Some(url),
                Some(why) => {
                    reasons.push(reason(
                        "endpoint_refused",
                        format!(
                            "The {field} of \"{}\" is refused: {why}. Fix it.",
                            settings.display_name
                        ),
                    ));
                    None
                }
            },
            Err(e) => {
                reasons.push(reason(
                    "invalid_oauth2_provider",
                    format!(
                        "The {field} of \"{}\" is not a URL: {e}.",
                        settings.display_name
                    ),
                ));
                None
            }
        };
        let authorization = endpoint("authorization URL", &settings.authorization_url);
        let token = endpoint("token URL", &settings.token_url);
        let profile = endpoint("profile URL", &settings.profile_url);
        let emails = match settings.emails_url.as_deref() {
            Some(u) => Some(endpoint("emails URL", u)?),
            None => None,
        };
        let client_auth = match settings.client_authentication {
            ClientAuthentication::ClientSecretBasic => ClientAuth::Basic,
            ClientAuthentication::ClientSecretPost => ClientAuth::Post,
        };
        Some(ProviderConfig {
            provider: provider.clone(),
            endpoints: ProviderEndpoints::plain(authorization?, token?, profile?, &settings.issuer),
            client_id: settings.client_id.as_str().to_owned(),
            client_secret: secret?,
            client_auth,
            scope: settings.scopes.join(" "),
            offline: OfflineAccess::No,
            iss_required: false,
            email_trust: EmailTrust::Configured {
                verifies_emails: settings.verifies_emails,
                allowed_domains: settings.allowed_email_domains,
            },
            identity: Identity::Profile(Box::new(ProfileSource {
                mapping: settings.claim_mapping,
                emails,
            })),
            pkce: settings.pkce,
            scope_aliases: &[],
        })
    }
}
