//! The error body every endpoint returns, and the one list of its stable codes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $text:literal,)*) => {
        /// Every stable error code of both APIs. The server answers with these; the
        /// panel matches on them (never on strings). A code this version does not know
        /// (a newer server) reads as [`ErrorCode::Unknown`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
            /// A code this version does not know.
            Unknown,
        }

        impl ErrorCode {
            /// Every known code.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The code as it appears in JSON.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Unknown => "unknown",
                }
            }
        }
    };
}

error_codes! {
    /// The request body or a field failed validation (`field` names it).
    ValidationFailed => "validation_failed",
    /// No such resource (or someone else's).
    NotFound => "not_found",
    /// A uniqueness rule was violated.
    Conflict => "conflict",
    /// A limit would be exceeded.
    LimitReached => "limit_reached",
    /// A backing service (database, state store) is unavailable.
    Unavailable => "unavailable",
    /// An unexpected error; quote the request id.
    InternalError => "internal_error",
    /// Too many requests; see `Retry-After`.
    TooManyRequests => "too_many_requests",
    /// The body is not `application/json`.
    UnsupportedMediaType => "unsupported_media_type",
    /// The body is larger than the limit.
    PayloadTooLarge => "payload_too_large",
    /// The body is not JSON.
    MalformedJson => "malformed_json",
    /// The JSON does not have the expected shape.
    InvalidBody => "invalid_body",
    /// A query parameter is malformed.
    InvalidQuery => "invalid_query",
    /// Sign-up: the email has an account.
    EmailTaken => "email_taken",
    /// Sign-in: wrong email or password.
    InvalidCredentials => "invalid_credentials",
    /// No session.
    NotSignedIn => "not_signed_in",
    /// The session ended.
    SessionExpired => "session_expired",
    /// The CSRF token is missing or not this session's.
    CsrfTokenInvalid => "csrf_token_invalid",
    /// Sign-up or sign-in from another origin.
    CrossOriginRequest => "cross_origin_request",
    /// A property of this kind already exists.
    PropertyExists => "property_exists",
    /// A property's kind cannot change.
    KindMismatch => "kind_mismatch",
    /// Another provider of the application has this slug.
    SlugTaken => "slug_taken",
    /// `/metrics` on the main port: the bearer token is missing or not `metrics_token`.
    MetricsTokenInvalid => "metrics_token_invalid",
    /// The built-in development provider is off on this Fedgate.
    DevProviderOff => "dev_provider_off",
    /// Too many active access keys.
    AccessKeyLimit => "access_key_limit",
    /// A signing-key rotation is under way: its next key does not sign yet.
    RotationPending => "rotation_pending",
    /// A signing header is missing.
    SignatureMissing => "signature_missing",
    /// A signing header is malformed.
    SignatureMalformed => "signature_malformed",
    /// No such access key.
    AccessKeyUnknown => "access_key_unknown",
    /// The access key was revoked.
    AccessKeyRevoked => "access_key_revoked",
    /// The access key's stored secret cannot be opened.
    AccessKeyUnusable => "access_key_unusable",
    /// The timestamp is outside ±5 minutes.
    TimestampOutOfWindow => "timestamp_out_of_window",
    /// The signature does not match.
    SignatureMismatch => "signature_mismatch",
    /// The nonce was used already.
    NonceReused => "nonce_reused",
    /// A user id is taken.
    UserIdTaken => "user_id_taken",
    /// A locator belongs to another user.
    LocatorTaken => "locator_taken",
    /// The user to link to does not exist.
    UserNotFound => "user_not_found",
    /// The federated user is already linked.
    FederatedUserLinked => "federated_user_linked",
    /// The federated user is not linked.
    FederatedUserNotLinked => "federated_user_not_linked",
    /// The federated user is already detached.
    FederatedUserDetached => "federated_user_detached",
    /// No upstream tokens are stored.
    NoUpstreamTokens => "no_upstream_tokens",
    /// Discovery: no answer.
    DiscoveryUnreachable => "discovery_unreachable",
    /// Discovery: an address Fedgate does not call.
    DiscoveryAddressRefused => "discovery_address_refused",
    /// Discovery: not https.
    DiscoveryNotHttps => "discovery_not_https",
    /// Discovery: not 200 (redirects are not followed).
    DiscoveryHttpStatus => "discovery_http_status",
    /// Discovery: not a valid document.
    DiscoveryInvalidJson => "discovery_invalid_json",
    /// Discovery: another issuer.
    DiscoveryIssuerMismatch => "discovery_issuer_mismatch",
    /// Discovery: no JWKS.
    DiscoveryNoJwks => "discovery_no_jwks",
    /// Discovery: no authorization code flow.
    DiscoveryNoCodeFlow => "discovery_no_code_flow",
    /// Discovery: no PKCE S256.
    DiscoveryNoS256 => "discovery_no_s256",
    /// Discovery: no accepted ID-token algorithm.
    DiscoveryNoUsableAlgorithm => "discovery_no_usable_algorithm",
}

impl ErrorCode {
    /// The code spelled `text`, or [`ErrorCode::Unknown`].
    #[must_use]
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .unwrap_or(Self::Unknown)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Self::parse(&text))
    }
}

/// `{ "code": "...", "message": "...", "requestId": "..." }`, plus the offending
/// field for validation errors. `code` is stable; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "validation_failed"))]
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// The request id, also in the `X-Request-Id` header and the server's logs.
    pub request_id: String,
    /// For `validation_failed`: the input field, e.g. `redirectUris[1]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_and_write_as_their_spelling_and_unknown_ones_do_not_fail() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
        let spellings: std::collections::HashSet<_> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spellings.len(),
            ErrorCode::ALL.len(),
            "no code spelled twice"
        );
        assert_eq!(
            serde_json::from_str::<ErrorCode>("\"from_a_newer_server\"").unwrap(),
            ErrorCode::Unknown
        );
    }
}
