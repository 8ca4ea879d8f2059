//! Complete ID-token validation (OIDC Core §3.1.3.7), each failure naming its check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

use crate::ProviderEndpoints;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 60;

/// A failed check on an ID token. [`IdTokenError::check`] names it for the event log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not a well-formed JWS.
    #[error("the ID token is malformed")]
    Malformed,
    /// `alg` is not in the allow-list (this covers `none` and HMAC).
    #[error("the ID token's algorithm {0:?} is not allowed")]
    Algorithm(String),
    /// No `kid`, or no such key at the provider.
    #[error("the ID token is signed with an unknown key")]
    UnknownKey,
    /// The provider's keys could not be fetched.
    #[error("the provider's keys are unavailable: {0}")]
    KeysUnavailable(String),
    /// The signature does not verify.
    #[error("the ID token's signature is invalid")]
    Signature,
    /// `iss` is not the provider's.
    #[error("the ID token's issuer is wrong")]
    Issuer,
    /// `aud` does not contain the client id.
    #[error("the ID token is not meant for this client")]
    Audience,
    /// `azp` is present and is not the client id (or absent with several audiences).
    #[error("the ID token's authorized party is wrong")]
    AuthorizedParty,
    /// Expired (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// Not yet valid, or issued in the future.
    #[error("the ID token is not valid yet")]
    NotYetValid,
    /// A required claim is missing.
    #[error("the ID token lacks the {0} claim")]
    MissingClaim(&'static str),
    /// `nonce` does not match the login's.
    #[error("the ID token's nonce does not match this login")]
    Nonce,
}

impl IdTokenError {
    /// The failed check, as used in event reasons (`id_token_invalid:<check>`).
    #[must_use]
    pub const fn check(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Algorithm(_) => "alg",
            Self::UnknownKey => "kid",
            Self::KeysUnavailable(_) => "jwks",
            Self::Signature => "signature",
            Self::Issuer => "iss",
            Self::Audience => "aud",
            Self::AuthorizedParty => "azp",
            Self::Expired => "exp",
            Self::NotYetValid => "iat",
            Self::MissingClaim(c) => c,
            Self::Nonce => "nonce",
        }
    }
}

/// The claims Fedgate uses, after validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Email.
    pub email: Option<String>,
    /// `email_verified` (Google once sent it as a string; both are read).
    pub email_verified: bool,
    /// Google Workspace hosted domain.
    pub hd: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale.
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawClaims {
    iss: String,
    sub: Option<String>,
    #[serde(default)]
    aud: Audience,
    azp: Option<String>,
    iat: Option<i64>,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    hd: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    picture: Option<String>,
    locale: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    // Order matters for untagged: an array must not be taken as one value.
    Many(Vec<serde::de::IgnoredAny>),
    One(serde::de::IgnoredAny),
    #[default]
    None,
}

impl Audience {
    fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(v) => v.len(),
            Self::None => 0,
        }
    }
}

fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// The header's `alg` and `kid`, read before anything is trusted.
pub(crate) fn header(
    token: &str,
    allowed: &[Algorithm],
) -> Result<(Algorithm, String), IdTokenError> {
    let segment = token.split('.').next().ok_or(IdTokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| IdTokenError::Malformed)?;
    let h: RawHeader = serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)?;
    let alg = algorithm(&h.alg)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| IdTokenError::Algorithm(h.alg.clone()))?;
    let kid = h
        .kid
        .filter(|k| !k.is_empty())
        .ok_or(IdTokenError::UnknownKey)?;
    Ok((alg, kid))
}

/// Validates `token` with `key` (the provider's key named by its `kid`).
pub(crate) fn validate(
    token: &str,
    alg: Algorithm,
    key: &Jwk,
    endpoints: &ProviderEndpoints,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<IdTokenClaims, IdTokenError> {
    // The key's type must fit the algorithm: an RSA key never verifies an EC or HMAC
    // signature, whatever the header claims.
    let fits = matches!(
        (&key.algorithm, alg),
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ) | (
            AlgorithmParameters::EllipticCurve(_),
            Algorithm::ES256 | Algorithm::ES384
        ) | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
    );
    if !fits {
        return Err(IdTokenError::Algorithm(format!("{alg:?}")));
    }
    let decoding = DecodingKey::from_jwk(key).map_err(|_| IdTokenError::UnknownKey)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&endpoints.issuers);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    let claims = jsonwebtoken::decode::<RawClaims>(token, &decoding, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => IdTokenError::Signature,
            ErrorKind::ExpiredSignature => IdTokenError::Expired,
            ErrorKind::ImmatureSignature => IdTokenError::NotYetValid,
            ErrorKind::InvalidIssuer => IdTokenError::Issuer,
            ErrorKind::InvalidAudience => IdTokenError::Audience,
            ErrorKind::InvalidAlgorithm => IdTokenError::Algorithm(format!("{alg:?}")),
            ErrorKind::MissingRequiredClaim(c) => IdTokenError::MissingClaim(match c.as_str() {
                "exp" => "exp",
                "iss" => "iss",
                "aud" => "aud",
                _ => "sub",
            }),
            _ => IdTokenError::Malformed,
        })?
        .claims;
    match (&claims.azp, claims.aud.len()) {
        (Some(azp), _) if azp != client_id => return Err(IdTokenError::AuthorizedParty),
        (None, n) if n > 1 => return Err(IdTokenError::AuthorizedParty),
        _ => {}
    }
    let iat = claims.iat.ok_or(IdTokenError::MissingClaim("iat"))?;
    if iat > now + i64::try_from(LEEWAY_SECONDS).unwrap_or(60) {
        return Err(IdTokenError::NotYetValid);
    }
    let sub = claims
        .sub
        .filter(|s| !s.is_empty())
        .ok_or(IdTokenError::MissingClaim("sub"))?;
    match &claims.nonce {
        Some(n) if n == nonce => {}
        Some(_) => return Err(IdTokenError::Nonce),
        None => return Err(IdTokenError::MissingClaim("nonce")),
    }
    let email_verified = match claims.email_verified {
        Some(serde_json::Value::Bool(b)) => b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    };
    Ok(IdTokenClaims {
        iss: claims.iss,
        sub,
        email: claims.email,
        email_verified,
        hd: claims.hd,
        name: claims.name,
        given_name: claims.given_name,
        family_name: claims.family_name,
        picture: claims.picture,
        locale: claims.locale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn header_refuses_none_hmac_and_missing_kid() {
        let allowed = [Algorithm::RS256];
        let tok = |h: &str| format!("{}.{}.sig", b64(h), b64("{}"));
        assert_eq!(
            header(&tok(r#"{"alg":"none","kid":"k"}"#), &allowed)
                .unwrap_err()
                .check(),
            "alg"
        );
        assert_eq!(
            header(&tok(r#"{"alg":"HS256","kid":"k"}"#), &allowed)
                .unwrap_err()
                .check(),
            "alg"
        );
        assert_eq!(
            header(&tok(r#"{"alg":"ES256","kid":"k"}"#), &allowed)
                .unwrap_err()
                .check(),
            "alg"
        );
        assert_eq!(
            header(&tok(r#"{"alg":"RS256"}"#), &allowed)
                .unwrap_err()
                .check(),
            "kid"
        );
        assert_eq!(header("!!!", &allowed).unwrap_err().check(), "malformed");
        assert_eq!(
            header(&tok(r#"{"alg":"RS256","kid":"k"}"#), &allowed).unwrap(),
            (Algorithm::RS256, "k".into())
        );
    }
}
