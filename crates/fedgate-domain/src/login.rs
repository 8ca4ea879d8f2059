//! The hosted login: the one-time login record kept between start and callback, and
//! the result sent back to the app with the reference manual's parameter names.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::ids::{ApplicationId, FederatedUserId, UserId};
use crate::property::ResultDelivery;

/// How long a started login may take to come back, unless configured otherwise
/// (`login_ttl_seconds`).
pub const LOGIN_RECORD_TTL_SECONDS: u64 = 600;
/// How long a `resultCode` can be redeemed.
pub const RESULT_CODE_TTL_SECONDS: u64 = 60;

/// Everything the callback needs, stored once under the `state` sent to the provider
/// and taken exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    /// The application.
    pub application_id: ApplicationId,
    /// Provider configuration key.
    pub provider_config: String,
    /// Expected issuer (canonical).
    pub issuer: String,
    /// The OAuth client id used at start; the callback must use the same.
    pub client_id: String,
    /// The app's redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// The app's opaque `state`, returned untouched.
    pub app_state: Option<String>,
    /// PKCE code verifier (none when the provider is configured without PKCE).
    pub pkce_verifier: Option<String>,
    /// OIDC nonce the ID token must carry.
    pub nonce: String,
    /// Offline access was requested (state signing): return the refresh token too.
    pub offline: bool,
    /// How to deliver the result.
    pub result_delivery: ResultDelivery,
    /// Create users for new people.
    pub auto_create_users: bool,
    /// The provider sends `iss` with its authorization responses (RFC 9207): a
    /// callback without it is refused.
    #[serde(default)]
    pub iss_required: bool,
    /// The app's `login_hint`, passed through (again, when consent is asked for).
    #[serde(default)]
    pub login_hint: Option<String>,
    /// The app's `prompt`, passed through.
    #[serde(default)]
    pub prompt: Option<String>,
    /// This is the second round of a login, sent back to the provider to consent to
    /// offline access: no third.
    #[serde(default)]
    pub consent_asked: bool,
    /// SHA-256 (hex) of the browser-binding cookie set at start: the callback must
    /// come from the browser holding it (login CSRF). `None` only in records written
    /// by a version before the binding, still honoured during a rolling upgrade.
    #[serde(default)]
    pub browser_binding: Option<String>,
}

/// The result of a completed login, in the reference manual's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// E.g. `GoogleFederationService`.
    pub federating_service: String,
    /// The provider's slug (`google` for Google).
    #[serde(default)]
    pub federation_provider: String,
    /// Candidate users for linking.
    pub link_candidates: Vec<UserId>,
    /// A user token, only when linked.
    pub auto_login_token: Option<String>,
    /// The federated user.
    pub federated_user_id: FederatedUserId,
    /// The linked user, only when linked.
    pub linked_user: Option<UserId>,
    /// The provider's access token, plus `,` and the refresh token with offline access.
    pub external_service_tokens: String,
}

impl LoginResult {
    /// The query parameters, in the reference manual's order, then Fedgate's own
    /// `federationProvider`.
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("federatingService", self.federating_service.clone()),
            (
                "linkCandidates",
                self.link_candidates
                    .iter()
                    .map(UserId::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ];
        if let Some(token) = &self.auto_login_token {
            pairs.push(("autoLoginToken", token.clone()));
        }
        pairs.push(("federatedUserId", self.federated_user_id.to_string()));
        if let Some(user) = &self.linked_user {
            pairs.push(("linkedUser", user.to_string()));
        }
        pairs.push((
            "externalServiceTokens",
            self.external_service_tokens.clone(),
        ));
        pairs.push(("federationProvider", self.federation_provider.clone()));
        pairs
    }
}

/// `redirect_uri` with `pairs` and the app's `state` appended to its query (existing
/// query parameters kept). The URI was validated at registration, so it parses.
#[must_use]
pub fn redirect_to_app(
    redirect_uri: &str,
    pairs: &[(&str, String)],
    app_state: Option<&str>,
) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(state) = app_state {
            q.append_pair("state", state);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_results_carry_every_reference_parameter_and_keep_the_apps_query() {
        let fed = FederatedUserId::generate();
        let r = LoginResult {
            federating_service: "GoogleFederationService".into(),
            federation_provider: "google".into(),
            link_candidates: vec![UserId::parse("u1").unwrap()],
            auto_login_token: Some("tok".into()),
            federated_user_id: fed,
            linked_user: Some(UserId::parse("u1").unwrap()),
            external_service_tokens: "at,rt".into(),
        };
        let to = redirect_to_app(
            "https://app.example.com/cb?x=1",
            &r.query_pairs(),
            Some("s p"),
        );
        assert_eq!(
            to,
            format!(
                "https://app.example.com/cb?x=1&federatingService=GoogleFederationService&linkCandidates=u1&autoLoginToken=tok&federatedUserId={fed}&linkedUser=u1&externalServiceTokens=at%2Crt&federationProvider=google&state=s+p"
            )
        );
    }

    #[test]
    fn unlinked_results_have_no_token_and_no_linked_user() {
        let r = LoginResult {
            federating_service: "OpenIdConnectFederationService".into(),
            federation_provider: "acme".into(),
            link_candidates: vec![],
            auto_login_token: None,
            federated_user_id: FederatedUserId::generate(),
            linked_user: None,
            external_service_tokens: "at".into(),
        };
        let names: Vec<&str> = r.query_pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "federatingService",
                "linkCandidates",
                "federatedUserId",
                "externalServiceTokens",
                "federationProvider"
            ]
        );
    }
}
