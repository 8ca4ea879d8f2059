//! Redirect diagnostics — the answers to "redirect_uri mismatch" and "the provider
//! said no": for each application the last [`KEPT_REFUSALS`] refused login starts with
//! what was sent and why, and for each of its providers the last upstream error. Kept
//! in the state store (every instance sees them) for [`KEPT_FOR`]; recording is best
//! effort and never fails a login.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{StateStore, StoreResult};
use serde::{Deserialize, Serialize};

/// Refused starts kept per application.
pub const KEPT_REFUSALS: usize = 20;
/// How long diagnostics are kept after the last one was recorded.
pub const KEPT_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longest received value kept (a `redirect_uri`, an access key id).
const MAX_KEPT_TEXT: usize = 2048;

/// One refused login start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedStart {
    /// When.
    pub at: DateTime<Utc>,
    /// The provider slug the start named.
    pub provider: String,
    /// The stable reason (`redirect_uri_unregistered`, `signature_invalid:…`, …).
    pub reason: String,
    /// What the person was told.
    pub message: String,
    /// For a redirect URI refusal: what was received next to what is registered.
    #[serde(default)]
    pub redirect_uri: Option<RedirectUriDiagnosis>,
    /// For a signature refusal: which check failed.
    #[serde(default)]
    pub signature: Option<SignatureDiagnosis>,
    /// For an inactive service: every reason.
    #[serde(default)]
    pub inactive: Vec<InactiveDiagnosis>,
}

/// What a refusal found, beyond its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Nothing more to show.
    Nothing,
    /// The redirect URI received and the registered ones.
    RedirectUri(RedirectUriDiagnosis),
    /// The failed signature check.
    Signature(SignatureDiagnosis),
    /// Why the service is INACTIVE.
    Inactive(Vec<InactiveDiagnosis>),
}

impl RefusedStart {
    /// A refusal of a start at `provider`, with what it found.
    #[must_use]
    pub fn new(
        at: DateTime<Utc>,
        provider: &str,
        reason: String,
        message: String,
        finding: Finding,
    ) -> Self {
        let mut refused = Self {
            at,
            provider: provider.chars().take(64).collect(),
            reason,
            message,
            redirect_uri: None,
            signature: None,
            inactive: Vec::new(),
        };
        match finding {
            Finding::Nothing => {}
            Finding::RedirectUri(d) => refused.redirect_uri = Some(d),
            Finding::Signature(d) => refused.signature = Some(d),
            Finding::Inactive(d) => refused.inactive = d,
        }
        refused
    }
}

/// The `redirect_uri` received next to the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectUriDiagnosis {
    /// What the start sent (none: it sent no `redirect_uri`).
    pub received: Option<String>,
    /// Every registered redirect URI, each with where it first differs.
    pub registered: Vec<RegisteredUri>,
}

/// A registered redirect URI compared with the received one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredUri {
    /// The registered URI.
    pub uri: String,
    /// The index (in characters) of the first character where the received URI
    /// differs from it — its length when one is a prefix of the other.
    pub first_difference: usize,
}

/// Which part of a signed login start failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureDiagnosis {
    /// The failed check's code (`signature_missing`, `signature_mismatch`,
    /// `timestamp_out_of_window`, `nonce_reused`, `access_key_unknown`, …, or
    /// `signature_foreign_key` for a correct signature by another application's key).
    pub check: String,
    /// The query parameter at fault, when one is (`accessKeyId`, `timestamp`, `nonce`,
    /// `signature`).
    pub parameter: Option<String>,
    /// The access key id the start named.
    pub access_key_id: Option<String>,
    /// The check's explanation.
    pub detail: String,
}

/// One reason a hosted service is INACTIVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InactiveDiagnosis {
    /// Stable code.
    pub code: String,
    /// What to do.
    pub message: String,
}

/// The last error a provider answered a login with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamError {
    /// When.
    pub at: DateTime<Utc>,
    /// The login's failure reason (`provider_refused:invalid_client`, `provider_timeout`, …).
    pub reason: String,
    /// The HTTP status the provider answered with, when that was the trouble.
    pub status: Option<u16>,
    /// The OAuth `error` it sent, if any.
    pub error: Option<String>,
    /// What happened, in words.
    pub detail: String,
}

/// The index (in characters) of the first difference between `a` and `b`: the shorter
/// one's length when one is a prefix of the other.
#[must_use]
pub fn first_difference(a: &str, b: &str) -> usize {
    let mut i = 0;
    let mut left = a.chars();
    let mut right = b.chars();
    loop {
        match (left.next(), right.next()) {
            (Some(x), Some(y)) if x == y => i += 1,
            _ => return i,
        }
    }
}

impl RedirectUriDiagnosis {
    /// `received` compared with each of `registered`.
    #[must_use]
    pub fn new(received: Option<&str>, registered: &[String]) -> Self {
        let received = received.map(|r| r.chars().take(MAX_KEPT_TEXT).collect::<String>());
        Self {
            registered: registered
                .iter()
                .map(|uri| RegisteredUri {
                    uri: uri.clone(),
                    first_difference: first_difference(received.as_deref().unwrap_or(""), uri),
                })
                .collect(),
            received,
        }
    }
}

impl SignatureDiagnosis {
    /// A failed check; `header` is the signing header at fault, named here by its
    /// login-start query parameter.
    #[must_use]
    pub fn new(
        check: &str,
        header: Option<&str>,
        access_key_id: Option<&str>,
        detail: String,
    ) -> Self {
        let parameter = header.map(|h| match h.to_ascii_lowercase().as_str() {
            "x-fedgate-key-id" => "accessKeyId".to_owned(),
            "x-fedgate-timestamp" => "timestamp".to_owned(),
            "x-fedgate-nonce" => "nonce".to_owned(),
            "x-fedgate-signature" => "signature".to_owned(),
            _ => h.to_owned(),
        });
        let detail = match (&parameter, header) {
            (Some(p), Some(h)) => detail.replace(&format!("header {h}"), &format!("parameter {p}")),
            _ => detail,
        };
        Self {
            check: check.to_owned(),
            parameter,
            access_key_id: access_key_id.map(|k| k.chars().take(MAX_KEPT_TEXT).collect()),
            detail,
        }
    }
}

fn starts_key(app: ApplicationId) -> String {
    format!("diag:starts:{app}")
}

fn upstream_key(app: ApplicationId, provider: &str) -> String {
    format!("diag:upstream:{app}:{provider}")
}

/// Records and reads an application's diagnostics.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    state: Arc<dyn StateStore>,
}

impl Diagnostics {
    /// Over the shared state store.
    #[must_use]
    pub fn new(state: Arc<dyn StateStore>) -> Self {
        Self { state }
    }

    /// Keeps a refused start, newest first, dropping the oldest past
    /// [`KEPT_REFUSALS`]. (Two refusals recorded at the same instant on two instances
    /// may keep only one: this is a diagnostic, not an audit log — that is the events.)
    pub async fn record_refused_start(&self, app: ApplicationId, refused: RefusedStart) {
        let key = starts_key(app);
        let result = async {
            let mut kept = self.refused_starts(app).await?;
            kept.insert(0, refused);
            kept.truncate(KEPT_REFUSALS);
            let bytes = serde_json::to_vec(&kept).unwrap_or_default();
            self.state.put(&key, &bytes, KEPT_FOR).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not keep a refused login start for diagnostics");
        }
    }

    /// The kept refused starts, newest first.
    pub async fn refused_starts(&self, app: ApplicationId) -> StoreResult<Vec<RefusedStart>> {
        Ok(self
            .state
            .get(&starts_key(app))
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default())
    }

    /// Keeps a provider's last upstream error.
    pub async fn record_upstream_error(
        &self,
        app: ApplicationId,
        provider: &str,
        error: &UpstreamError,
    ) {
        let bytes = serde_json::to_vec(error).unwrap_or_default();
        if let Err(e) = self
            .state
            .put(&upstream_key(app, provider), &bytes, KEPT_FOR)
            .await
        {
            tracing::warn!(error = %e, "could not keep a provider's error for diagnostics");
        }
    }

    /// A provider's last upstream error, if one is kept.
    pub async fn upstream_error(
        &self,
        app: ApplicationId,
        provider: &str,
    ) -> StoreResult<Option<UpstreamError>> {
        Ok(self
            .state
            .get(&upstream_key(app, provider))
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_counted_in_characters() {
        assert_eq!(
            first_difference(
                "https://app.example.com/auth/callback/",
                "https://app.example.com/auth/callback"
            ),
            37
        );
        assert_eq!(first_difference("http://a", "https://a"), 4);
        assert_eq!(
            first_difference("https://ä.example/x", "https://ä.example/y"),
            18
        );
        assert_eq!(first_difference("same", "same"), 4);
        assert_eq!(first_difference("", "https://a"), 0);
    }

    #[test]
    fn a_missing_header_is_named_as_the_login_start_parameter() {
        let d = SignatureDiagnosis::new(
            "signature_missing",
            Some("X-Fedgate-Nonce"),
            Some("AK1"),
            "the request is not signed: header X-Fedgate-Nonce is missing".into(),
        );
        assert_eq!(d.parameter.as_deref(), Some("nonce"));
        assert_eq!(
            d.detail,
            "the request is not signed: parameter nonce is missing"
        );
    }
}
