//! Every way a login can be refused or fail, each mapped once to its event reason,
//! the OAuth `error` code the app receives, and the page a person sees.

use fedgate_provider::ProviderError;

use crate::diagnostics::UpstreamError;

/// A page for a person in a browser, when there is nowhere safe to redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    /// HTTP status.
    pub status: u16,
    /// Heading.
    pub title: &'static str,
    /// What happened and what to do.
    pub detail: String,
}

impl ErrorPage {
    fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
        }
    }
}

/// Why a login start was refused (an error page, never a redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// The query could not be read (or names a parameter twice).
    Malformed,
    /// The query, the app's `state` or `login_hint` is longer than Fedgate keeps.
    TooLarge(&'static str),
    /// No such application.
    UnknownApplication,
    /// The application has no provider with this slug.
    UnknownProvider,
    /// The provider's hosted service is INACTIVE.
    Inactive {
        /// The provider's display name.
        provider: String,
        /// The reason codes.
        codes: String,
    },
    /// `redirect_uri` is not registered.
    RedirectUriUnregistered,
    /// Several redirect URIs are registered and none was given.
    RedirectUriMissing,
    /// A correct signature by another application's key.
    SignatureForeignKey,
    /// State signing is required and the signature was refused (its error code).
    SignatureInvalid(&'static str),
}

impl StartRefusal {
    /// The stable reason code.
    #[must_use]
    pub fn reason(&self) -> String {
        match self {
            Self::Malformed => "start_malformed".into(),
            Self::TooLarge(_) => "start_too_large".into(),
            Self::UnknownApplication => "application_unknown".into(),
            Self::UnknownProvider => "provider_unknown".into(),
            Self::Inactive { .. } => "service_inactive".into(),
            Self::RedirectUriUnregistered => "redirect_uri_unregistered".into(),
            Self::RedirectUriMissing => "redirect_uri_missing".into(),
            Self::SignatureForeignKey => "signature_foreign_key".into(),
            Self::SignatureInvalid(code) => format!("signature_invalid:{code}"),
        }
    }

    /// The event reason and detail, for refusals that concern a known application.
    #[must_use]
    pub fn event(&self) -> Option<(String, String)> {
        let signature = "state signing is required and the request's signature was refused";
        let detail = match self {
            Self::Malformed
            | Self::TooLarge(_)
            | Self::UnknownApplication
            | Self::UnknownProvider => return None,
            Self::Inactive { provider, codes } => {
                format!("{provider} Authentication Service is INACTIVE: {codes}")
            }
            Self::RedirectUriUnregistered => "redirect_uri is not registered".into(),
            Self::RedirectUriMissing => {
                "several redirect URIs are registered; none was given".into()
            }
            Self::SignatureForeignKey | Self::SignatureInvalid(_) => signature.into(),
        };
        Some((self.reason(), detail))
    }

    /// The page shown.
    #[must_use]
    pub fn page(&self) -> ErrorPage {
        let refused = "Sign-in request refused";
        match self {
            Self::Malformed => ErrorPage::new(
                400,
                "Sign-in request not understood",
                "The request's parameters are malformed.",
            ),
            Self::TooLarge(what) => ErrorPage::new(
                400,
                "Sign-in request too large",
                format!("The request's {what} is longer than Fedgate accepts."),
            ),
            Self::UnknownApplication => ErrorPage::new(
                404,
                "Unknown application",
                "This sign-in link does not belong to any application.",
            ),
            Self::UnknownProvider => ErrorPage::new(
                404,
                "Unknown sign-in provider",
                "This application has no sign-in provider at this address.",
            ),
            Self::Inactive { provider, .. } => ErrorPage::new(
                400,
                "Sign-in is not available",
                format!(
                    "This application's {provider} sign-in is not set up (its Hosted Services status is INACTIVE)."
                ),
            ),
            Self::RedirectUriUnregistered => ErrorPage::new(
                400,
                refused,
                "The redirect_uri is not one of this application's registered redirect URIs (they must match exactly).",
            ),
            Self::RedirectUriMissing => ErrorPage::new(
                400,
                refused,
                "redirect_uri is required for this application.",
            ),
            Self::SignatureForeignKey | Self::SignatureInvalid(_) => ErrorPage::new(
                400,
                refused,
                "This application only accepts sign-in requests signed by its backend, and this one's signature was missing, wrong, stale or already used.",
            ),
        }
    }
}

/// Why a callback was refused before a login record could be trusted (an error page,
/// never a redirect: there is no verified place to send the browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackRefusal {
    /// No usable `state`.
    NoState,
    /// The state was used already.
    Replayed,
    /// No pending login has this state (expired or made up).
    Unknown,
    /// The login belongs to another application or provider (mix-up).
    Mismatch,
    /// The callback came from a browser without the login's binding cookie (login
    /// CSRF: a finished sign-in's callback handed to somebody else).
    OtherBrowser,
}

impl CallbackRefusal {
    /// The event reason and detail (logged when the application is known).
    #[must_use]
    pub const fn event(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::NoState => None,
            Self::Replayed => Some((
                "state_replayed",
                "the callback's state matches no pending login",
            )),
            Self::Unknown => Some((
                "state_unknown_or_expired",
                "the callback's state matches no pending login",
            )),
            Self::Mismatch => Some((
                "callback_mismatch",
                "the login came back to another application's or provider's callback",
            )),
            Self::OtherBrowser => Some((
                "browser_mismatch",
                "the callback came from a browser that did not start this login",
            )),
        }
    }

    /// The page shown.
    #[must_use]
    pub fn page(self) -> ErrorPage {
        let failed = "Sign-in failed";
        match self {
            Self::NoState => ErrorPage::new(
                400,
                failed,
                "The sign-in response has no state; start again from the app.",
            ),
            Self::Replayed | Self::Unknown => ErrorPage::new(
                400,
                failed,
                "This sign-in response was already used or has expired. Start again from the app.",
            ),
            Self::Mismatch => {
                ErrorPage::new(400, failed, "This sign-in response does not belong here.")
            }
            Self::OtherBrowser => ErrorPage::new(
                400,
                failed,
                "This sign-in was started in another browser (or this browser's cookies \
                 were cleared). Start again from the app, in the browser you sign in with.",
            ),
        }
    }
}

/// OAuth errors a provider may send that an app can act on (e.g. `prompt=none`
/// answered with `login_required`): they reach the app as themselves.
const PASSED_THROUGH: [&str; 6] = [
    "access_denied",
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
    "temporarily_unavailable",
];

/// Provider errors that are a person's choice or an app's `prompt=none` answered, not
/// trouble with the provider: no upstream error is kept for them.
const PERSON_OR_PROMPT: [&str; 5] = [
    "access_denied",
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
];

/// Why a login failed after a valid start: the app gets `error` and
/// `error_description` on its redirect URI.
#[derive(Debug)]
pub enum LoginFailure {
    /// The provider sent `error` to the callback.
    ProviderError {
        /// Its `error` (cleaned).
        error: String,
        /// Its `error_description` (cleaned).
        description: Option<String>,
    },
    /// Neither `code` nor `error`.
    CodeMissing,
    /// RFC 9207: `iss` names another issuer (mix-up).
    IssuerMismatch,
    /// RFC 9207: the provider always sends `iss`, and this response has none.
    IssuerMissing,
    /// The provider's configuration changed between start and callback.
    ConfigurationChanged(String),
    /// Talking to the provider failed, or its answer failed a check.
    Provider(ProviderError),
    /// The profile of a plain OAuth2 provider names nobody.
    Mapping(fedgate_domain::claims::MappingError),
    /// Fedgate's database or state store did not answer: try again.
    Unavailable,
    /// Fedgate failed (keys, a malformed stored value).
    Internal,
}

impl From<&fedgate_domain::ports::StoreError> for LoginFailure {
    fn from(e: &fedgate_domain::ports::StoreError) -> Self {
        match e {
            fedgate_domain::ports::StoreError::Backend(_)
            | fedgate_domain::ports::StoreError::Full => {
                tracing::warn!(error = %e, "a login failed: storage unavailable");
                Self::Unavailable
            }
            _ => {
                tracing::error!(error = %e, "login could not be completed");
                Self::Internal
            }
        }
    }
}

impl From<ProviderError> for LoginFailure {
    fn from(e: ProviderError) -> Self {
        Self::Provider(e)
    }
}

impl LoginFailure {
    /// The stable event reason.
    #[must_use]
    pub fn reason(&self) -> String {
        match self {
            Self::ProviderError { error, .. } => format!("provider_error:{error}"),
            Self::CodeMissing => "code_missing".into(),
            Self::IssuerMismatch => "issuer_mismatch".into(),
            Self::IssuerMissing => "issuer_missing".into(),
            Self::ConfigurationChanged(_) => "configuration_changed".into(),
            Self::Provider(e) => e.reason(),
            Self::Mapping(e) => e.code().into(),
            Self::Unavailable => "storage_unavailable".into(),
            Self::Internal => "internal_error".into(),
        }
    }

    /// The OAuth `error` the app receives.
    #[must_use]
    pub fn oauth_error(&self) -> &str {
        match self {
            Self::ProviderError { error, .. } if PASSED_THROUGH.contains(&error.as_str()) => error,
            Self::Provider(ProviderError::Unreachable(_) | ProviderError::Timeout)
            | Self::Unavailable => "temporarily_unavailable",
            _ => "server_error",
        }
    }

    /// What happened, for the event log.
    #[must_use]
    pub fn detail(&self) -> String {
        match self {
            Self::ProviderError { description, .. } => description
                .clone()
                .unwrap_or_else(|| "the provider refused the sign-in".into()),
            Self::CodeMissing => "the provider sent neither code nor error".into(),
            Self::IssuerMismatch => {
                "the response's iss names another issuer than the one this login went to".into()
            }
            Self::IssuerMissing => {
                "the provider sends iss with every response and this one has none".into()
            }
            Self::ConfigurationChanged(what) => what.clone(),
            Self::Provider(e) => e.to_string(),
            Self::Mapping(e) => e.to_string(),
            Self::Unavailable => {
                "Fedgate's storage did not answer; the sign-in can be tried again".into()
            }
            Self::Internal => "Fedgate could not complete the sign-in".into(),
        }
    }

    /// The provider's part in the failure, for its last-upstream-error diagnostic:
    /// none when the failure is Fedgate's, the person's choice or a `prompt` answer.
    #[must_use]
    pub fn upstream(&self, at: chrono::DateTime<chrono::Utc>) -> Option<UpstreamError> {
        let (status, error) = match self {
            Self::ProviderError { error, .. } if PERSON_OR_PROMPT.contains(&error.as_str()) => {
                return None;
            }
            Self::ProviderError { error, .. } => (None, Some(error.clone())),
            Self::Provider(e) => (
                e.http_status(),
                match e {
                    ProviderError::Refused { error, .. } => Some(error.clone()),
                    _ => None,
                },
            ),
            Self::CodeMissing | Self::IssuerMismatch | Self::IssuerMissing | Self::Mapping(_) => {
                (None, None)
            }
            Self::ConfigurationChanged(_) | Self::Unavailable | Self::Internal => return None,
        };
        Some(UpstreamError {
            at,
            reason: self.reason(),
            status,
            error,
            detail: self.detail(),
        })
    }

    /// The `error_description` the app receives.
    #[must_use]
    pub fn description(&self, provider: &str) -> String {
        match self {
            Self::ProviderError { .. } => format!("{provider}: {}", self.detail()),
            Self::CodeMissing => format!("{provider} sent no authorization code"),
            _ => self.detail(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_an_app_can_act_on_pass_through() {
        let e = |error: &str| LoginFailure::ProviderError {
            error: error.into(),
            description: None,
        };
        for passed in [
            "login_required",
            "interaction_required",
            "consent_required",
            "access_denied",
        ] {
            assert_eq!(e(passed).oauth_error(), passed);
            assert_eq!(e(passed).reason(), format!("provider_error:{passed}"));
        }
        assert_eq!(e("invalid_scope").oauth_error(), "server_error");
        assert_eq!(
            LoginFailure::Provider(ProviderError::Unreachable("x".into())).oauth_error(),
            "temporarily_unavailable"
        );
        assert_eq!(LoginFailure::IssuerMismatch.oauth_error(), "server_error");
        assert_eq!(
            e("access_denied").description("Acme SSO"),
            "Acme SSO: the provider refused the sign-in"
        );
    }
}
