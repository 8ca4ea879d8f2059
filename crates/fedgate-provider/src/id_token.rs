//! Complete ID-token validation (OIDC Core §3.1.3.7), each failure naming its check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
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
    /// No such key at the provider (or, without `kid`, no single key that fits).
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
    /// Entra multi-tenant: `tid` is not a tenant id, or not an allowed tenant.
    #[error("the ID token's tenant is not allowed to sign in here")]
    Tenant,
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
            Self::Tenant => "tid",
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
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Audience,
    exp: Option<serde_json::Number>,
    nbf: Option<serde_json::Number>,
    azp: Option<String>,
    iat: Option<serde_json::Number>,
    nonce: Option<String>,
    tid: Option<String>,
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
    Many(Vec<String>),
    One(String),
    #[default]
    None,
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Self::One(a) => a == client_id,
            Self::Many(v) => v.iter().any(|a| a == client_id),
            Self::None => false,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(v) => v.len(),
            Self::None => 0,
        }
    }
}

/// The algorithm named `name`, if Fedgate accepts it for ID tokens (asymmetric only).
pub(crate) fn algorithm(name: &str) -> Option<Algorithm> {
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

/// The header's `alg` and `kid` (if any), read before anything is trusted.
pub(crate) fn header(
    token: &str,
    allowed: &[Algorithm],
) -> Result<(Algorithm, Option<String>), IdTokenError> {
    let segment = token.split('.').next().ok_or(IdTokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| IdTokenError::Malformed)?;
    let h: RawHeader = serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)?;
    let alg = algorithm(&h.alg)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| IdTokenError::Algorithm(h.alg.clone()))?;
    Ok((alg, h.kid.filter(|k| !k.is_empty())))
}

/// Verifies the JWS signature of `message` (the token's `header.payload`) with `key`.
///
/// The key's type must fit the algorithm: an RSA key never verifies an EC or HMAC
/// signature, whatever the header claims. Verification runs on `ring` (constant-time,
/// assembly-optimised), several times faster than a pure-Rust RSA.
fn verify_signature(
    message: &[u8],
    signature: &[u8],
    alg: Algorithm,
    key: &Jwk,
) -> Result<(), IdTokenError> {
    let b64 = |v: &str| {
        URL_SAFE_NO_PAD
            .decode(v)
            .map_err(|_| IdTokenError::UnknownKey)
    };
    let wrong_key = || IdTokenError::Algorithm(format!("{alg:?}"));
    let verified = match &key.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let params: &'static signature::RsaParameters = match alg {
                Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return Err(wrong_key()),
            };
            let components = RsaPublicKeyComponents {
                n: b64(&rsa.n)?,
                e: b64(&rsa.e)?,
            };
            components.verify(params, message, signature)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let params: &'static signature::EcdsaVerificationAlgorithm = match (alg, &ec.curve) {
                (Algorithm::ES256, EllipticCurve::P256) => &signature::ECDSA_P256_SHA256_FIXED,
                (Algorithm::ES384, EllipticCurve::P384) => &signature::ECDSA_P384_SHA384_FIXED,
                _ => return Err(wrong_key()),
            };
            let mut point = vec![0x04];
            point.extend(b64(&ec.x)?);
            point.extend(b64(&ec.y)?);
            UnparsedPublicKey::new(params, point).verify(message, signature)
        }
        AlgorithmParameters::OctetKeyPair(okp) if alg == Algorithm::EdDSA => {
            UnparsedPublicKey::new(&signature::ED25519, b64(&okp.x)?).verify(message, signature)
        }
        _ => return Err(wrong_key()),
    };
    verified.map_err(|_| IdTokenError::Signature)
}

/// A numeric date claim as whole seconds (fractions allowed by RFC 7519 are floored).
fn seconds(n: Option<&serde_json::Number>) -> Result<Option<i64>, IdTokenError> {
    n.map(|n| {
        n.as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .ok_or(IdTokenError::Malformed)
    })
    .transpose()
}

/// Validates `token` with `key` (the provider's key named by its `kid`): the signature
/// first, then every claim, each failure naming its check.
pub(crate) fn validate(
    token: &str,
    alg: Algorithm,
    key: &Jwk,
    endpoints: &ProviderEndpoints,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<IdTokenClaims, IdTokenError> {
    let (message, signature) = token.rsplit_once('.').ok_or(IdTokenError::Malformed)?;
    let (_, payload) = message.split_once('.').ok_or(IdTokenError::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| IdTokenError::Malformed)?;
    verify_signature(message.as_bytes(), &signature, alg, key)?;

    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| IdTokenError::Malformed)?;
    let claims: RawClaims =
        serde_json::from_slice(&payload).map_err(|_| IdTokenError::Malformed)?;
    let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(60);
    let exp = seconds(claims.exp.as_ref())?.ok_or(IdTokenError::MissingClaim("exp"))?;
    let iss = claims.iss.ok_or(IdTokenError::MissingClaim("iss"))?;
    if matches!(claims.aud, Audience::None) {
        return Err(IdTokenError::MissingClaim("aud"));
    }
    if exp < now - leeway {
        return Err(IdTokenError::Expired);
    }
    if seconds(claims.nbf.as_ref())?.is_some_and(|nbf| nbf > now + leeway) {
        return Err(IdTokenError::NotYetValid);
    }
    match &endpoints.tenants {
        None if !endpoints.issuers.contains(&iss) => return Err(IdTokenError::Issuer),
        None => {}
        // Entra multi-tenant: the token's own tenant, a GUID and allowed, must be the
        // one its issuer names — the template with exactly that `tid`.
        Some(policy) => {
            let tid = claims
                .tid
                .as_deref()
                .ok_or(IdTokenError::MissingClaim("tid"))?;
            if !fedgate_domain::property::is_guid(tid) || !policy.allows(tid) {
                return Err(IdTokenError::Tenant);
            }
            if policy.tenant_of(&iss) != Some(tid) {
                return Err(IdTokenError::Issuer);
            }
        }
    }
    if !claims.aud.contains(client_id) {
        return Err(IdTokenError::Audience);
    }
    match (&claims.azp, claims.aud.len()) {
        (Some(azp), _) if azp != client_id => return Err(IdTokenError::AuthorizedParty),
        (None, n) if n > 1 => return Err(IdTokenError::AuthorizedParty),
        _ => {}
    }
    let iat = seconds(claims.iat.as_ref())?.ok_or(IdTokenError::MissingClaim("iat"))?;
    if iat > now + leeway {
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
        iss,
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
    fn header_refuses_none_and_hmac_and_reads_an_optional_kid() {
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
            header(&tok(r#"{"alg":"RS256"}"#), &allowed).unwrap(),
            (Algorithm::RS256, None)
        );
        assert_eq!(header("!!!", &allowed).unwrap_err().check(), "malformed");
        assert_eq!(
            header(&tok(r#"{"alg":"RS256","kid":"k"}"#), &allowed).unwrap(),
            (Algorithm::RS256, Some("k".into()))
        );
    }

    /// Signs `claims` with a fresh key of `alg`'s type; returns the token and its JWK.
    fn signed(alg: &str, claims: &serde_json::Value) -> (String, Jwk) {
        use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let message = format!(
            "{}.{}",
            b64(&format!(r#"{{"alg":"{alg}","kid":"k1"}}"#)),
            b64(&claims.to_string())
        );
        let (sig, jwk) = if alg == "EdDSA" {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
            let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
            let sig = pair.sign(message.as_bytes()).as_ref().to_vec();
            (
                sig,
                serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":"k1","x":x}),
            )
        } else {
            let params = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(params, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(params, pkcs8.as_ref(), &rng).unwrap();
            let point = pair.public_key().as_ref();
            let (x, y) = (&point[1..33], &point[33..]);
            let sig = pair
                .sign(&rng, message.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec();
            let jwk = serde_json::json!({"kty":"EC","crv":"P-256","kid":"k1",
                "x":URL_SAFE_NO_PAD.encode(x),"y":URL_SAFE_NO_PAD.encode(y)});
            (sig, jwk)
        };
        let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig));
        (token, serde_json::from_value(jwk).unwrap())
    }

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({"iss":"https://accounts.google.com","aud":"client","sub":"s1",
            "iat":now,"exp":now + 300,"nonce":"n1","email":"a@gmail.com","email_verified":true})
    }

    fn check(
        token: &str,
        alg: Algorithm,
        key: &Jwk,
        now: i64,
    ) -> Result<IdTokenClaims, IdTokenError> {
        validate(
            token,
            alg,
            key,
            &ProviderEndpoints::google(),
            "client",
            "n1",
            now,
        )
    }

    #[test]
    fn ecdsa_and_eddsa_tokens_verify_and_tampering_is_caught() {
        let now = 1_800_000_000;
        for (name, alg) in [("ES256", Algorithm::ES256), ("EdDSA", Algorithm::EdDSA)] {
            let (token, key) = signed(name, &claims(now));
            let ok = check(&token, alg, &key, now).unwrap();
            assert_eq!((ok.sub.as_str(), ok.email_verified), ("s1", true), "{name}");
            // Another payload under the same signature.
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = b64(&claims(now + 1).to_string());
            parts[1] = &forged;
            let err = check(&parts.join("."), alg, &key, now).unwrap_err();
            assert_eq!(err.check(), "signature", "{name}");
        }
    }

    #[test]
    fn a_key_of_another_type_never_verifies() {
        let now = 1_800_000_000;
        let (token, ed_key) = signed("EdDSA", &claims(now));
        // The header may claim anything: an EdDSA key is not used for ES256 or RS256.
        for alg in [Algorithm::ES256, Algorithm::RS256, Algorithm::PS256] {
            assert_eq!(check(&token, alg, &ed_key, now).unwrap_err().check(), "alg");
        }
        let (_, ec_key) = signed("ES256", &claims(now));
        assert_eq!(
            check(&token, Algorithm::ES384, &ec_key, now)
                .unwrap_err()
                .check(),
            "alg"
        );
    }

    #[test]
    fn claims_are_checked_with_leeway_and_fractional_dates() {
        let now = 1_800_000_000;
        let run = |c: serde_json::Value| {
            let (token, key) = signed("EdDSA", &c);
            check(&token, Algorithm::EdDSA, &key, now).map_err(|e| e.check())
        };
        let with = |k: &str, v: serde_json::Value| {
            let mut c = claims(now);
            c[k] = v;
            c
        };
        let without = |k: &str| {
            let mut c = claims(now);
            c.as_object_mut().unwrap().remove(k);
            c
        };
        assert!(
            run(with("exp", serde_json::json!(now - 30))).is_ok(),
            "within leeway"
        );
        assert_eq!(
            run(with("exp", serde_json::json!(now - 61))).unwrap_err(),
            "exp"
        );
        assert!(run(with("exp", serde_json::json!(now as f64 + 0.5))).is_ok());
        assert_eq!(
            run(with("exp", serde_json::json!("soon"))).unwrap_err(),
            "malformed"
        );
        assert_eq!(
            run(with("nbf", serde_json::json!(now + 120))).unwrap_err(),
            "iat"
        );
        assert_eq!(run(without("exp")).unwrap_err(), "exp");
        assert_eq!(run(without("iss")).unwrap_err(), "iss");
        assert_eq!(run(without("aud")).unwrap_err(), "aud");
        assert_eq!(
            run(with("iss", serde_json::json!("accounts.google.com"))).map(|c| c.iss),
            Ok("accounts.google.com".to_owned())
        );
        assert_eq!(
            run(with("aud", serde_json::json!(["other", "client"]))).unwrap_err(),
            "azp"
        );
        let mut both = with("aud", serde_json::json!(["other", "client"]));
        both["azp"] = serde_json::json!("client");
        assert!(run(both).is_ok());
        assert_eq!(
            run(with("aud", serde_json::json!(["other"]))).unwrap_err(),
            "aud"
        );
    }
}
