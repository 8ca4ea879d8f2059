//! Fedgate's user tokens: each application has its own Ed25519 signing keys (the first
//! created with the application, the next ones by rotation; private halves sealed at
//! rest); tokens are JWTs an app can verify offline against the application's public
//! JWKS. [`TokenKeys`] keeps the keys
//! and issues tokens for the login service and both APIs.

mod keys;
pub use keys::{
    JWKS_MAX_AGE_SECONDS, KeyError, KeyRing, KeyStatus, MAX_TOKEN_TTL_SECONDS,
    NEXT_KEY_DELAY_SECONDS, ScheduledKey, TokenKeys, mint, record, schedule,
};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use fedgate_domain::ids::UserId;
use jsonwebtoken::{Algorithm, Header};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The JOSE algorithm of every user token.
pub const ALGORITHM: &str = "EdDSA";
/// Sealing purpose of a signing key's private half.
pub const SEAL_PURPOSE: &str = "signing_key.private";
/// The JWT header `typ`.
pub const TOKEN_TYPE: &str = "JWT";

/// Token failures.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The stored key material is unusable.
    #[error("signing key unusable: {0}")]
    BadKey(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A token failed verification (bad signature, expired, wrong audience, ...).
    #[error("token invalid: {0}")]
    Invalid(String),
}

/// A new key pair: its `kid`, the PKCS#8 private key (to be sealed), and the public
/// key as base64url `x`.
#[derive(Debug)]
pub struct NewKeyPair {
    /// RFC 7638 JWK thumbprint of the public key.
    pub kid: String,
    /// PKCS#8 DER of the private key.
    pub private_pkcs8: SecretBox<[u8]>,
    /// Base64url of the 32-byte public key.
    pub public_x: String,
}

/// Generates an Ed25519 key pair from the OS CSPRNG.
pub fn generate_key() -> Result<NewKeyPair, TokenError> {
    let signing = SigningKey::from_bytes(&fedgate_domain::random::bytes::<32>());
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| TokenError::BadKey(e.to_string()))?;
    let public_x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    Ok(NewKeyPair {
        kid: thumbprint(&public_x),
        private_pkcs8: SecretBox::from(der.as_bytes().to_vec().into_boxed_slice()),
        public_x,
    })
}

/// RFC 7638 thumbprint of an Ed25519 public key.
#[must_use]
pub fn thumbprint(public_x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{public_x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The public JWK of a key, for the application's JWKS.
#[must_use]
pub fn public_jwk(kid: &str, public_x: &str) -> serde_json::Value {
    serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": public_x, "kid": kid, "alg": ALGORITHM, "use": "sig" })
}

/// The claims of a user token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTokenClaims {
    /// Fedgate's public base URL.
    pub iss: String,
    /// The application id.
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Token id, for revocation.
    pub jti: String,
}

/// A token just minted.
#[derive(Debug, Clone)]
pub struct MintedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: UserTokenClaims,
}

/// Signs compact JWS (EdDSA) with one Ed25519 key: the key is parsed, and the header
/// with its `kid` encoded, once — not on every token. (Parsing a PKCS#8 key derives
/// its public half, a scalar multiplication as dear as the signature itself.)
struct Ed25519Jws {
    /// Base64url of the header JSON (`typ`, `alg`, `kid`).
    header: String,
    key: SigningKey,
}

impl Ed25519Jws {
    fn from_pkcs8(kid: &str, private_pkcs8: &[u8]) -> Result<Self, TokenError> {
        let key = SigningKey::from_pkcs8_der(private_pkcs8)
            .map_err(|e| TokenError::BadKey(e.to_string()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        header.typ = Some(TOKEN_TYPE.to_owned());
        let json = serde_json::to_vec(&header).map_err(|e| TokenError::Sign(e.to_string()))?;
        Ok(Self {
            header: URL_SAFE_NO_PAD.encode(json),
            key,
        })
    }

    /// `header.claims.signature`, each part base64url.
    fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        let payload = serde_json::to_vec(claims).map_err(|e| TokenError::Sign(e.to_string()))?;
        // header, payload and the 64-byte signature (86 characters), with the dots
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 92);
        token.push_str(&self.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = self.key.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }
}

/// Mints user tokens for one application.
pub struct TokenSigner {
    kid: String,
    jws: Ed25519Jws,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A signer from an opened private key (PKCS#8 DER).
    pub fn new(
        kid: String,
        private_pkcs8: &SecretBox<[u8]>,
        issuer: String,
        audience: String,
    ) -> Result<Self, TokenError> {
        Ok(Self {
            jws: Ed25519Jws::from_pkcs8(&kid, private_pkcs8.expose_secret())?,
            kid,
            issuer,
            audience,
        })
    }

    /// Mints the token `jti` for `user`, valid from `iat` to `exp` (Unix seconds). The
    /// caller records `jti` so that the token can be listed and revoked.
    pub fn mint(
        &self,
        user: &UserId,
        jti: String,
        iat: i64,
        exp: i64,
    ) -> Result<MintedToken, TokenError> {
        let claims = UserTokenClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.to_string(),
            iat,
            exp,
            jti,
        };
        let token = self.jws.sign(&claims)?;
        Ok(MintedToken { token, claims })
    }
}

/// A signing key that lives only in memory (the built-in development provider's):
/// signs any claims as a JWT with its `kid`, and publishes its public JWK.
pub struct EphemeralSigner {
    kid: String,
    jws: Ed25519Jws,
    public_x: String,
}

impl std::fmt::Debug for EphemeralSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EphemeralSigner {
    /// A fresh Ed25519 key.
    pub fn generate() -> Result<Self, TokenError> {
        let pair = generate_key()?;
        Ok(Self {
            jws: Ed25519Jws::from_pkcs8(&pair.kid, pair.private_pkcs8.expose_secret())?,
            kid: pair.kid,
            public_x: pair.public_x,
        })
    }

    /// `claims` signed (EdDSA, with the key's `kid`).
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, TokenError> {
        self.jws.sign(claims)
    }

    /// The public key as a JWK set.
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [public_jwk(&self.kid, &self.public_x)] })
    }
}

/// Why a user token is not accepted, as the verification API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not a JWT with the claims of a user token.
    #[error("malformed")]
    Malformed,
    /// Not signed by the application's key.
    #[error("signature")]
    Signature,
    /// Issued by another Fedgate.
    #[error("issuer")]
    Issuer,
    /// Issued for another application.
    #[error("audience")]
    Audience,
    /// Past its `exp`.
    #[error("expired")]
    Expired,
}

impl Rejection {
    /// The stable reason code.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Signature => "signature",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::Expired => "expired",
        }
    }
}

/// A compact JWS split and decoded, its signature not checked yet.
pub(crate) struct Unverified<'a> {
    /// `header.payload`: what the signature covers.
    signed: &'a str,
    signature: &'a str,
    header: Header,
    claims: UserTokenClaims,
}

impl<'a> Unverified<'a> {
    /// Three base64url parts, a JOSE header and the claims of a user token: else
    /// `Malformed`.
    pub(crate) fn parse(token: &'a str) -> Result<Self, Rejection> {
        fn json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, Rejection> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| Rejection::Malformed)?;
            serde_json::from_slice(&bytes).map_err(|_| Rejection::Malformed)
        }
        let (signed, signature) = token.rsplit_once('.').ok_or(Rejection::Malformed)?;
        let (header, claims) = signed.split_once('.').ok_or(Rejection::Malformed)?;
        Ok(Self {
            signed,
            signature,
            header: json(header)?,
            claims: json(claims)?,
        })
    }

    /// The header's `kid`.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }
}

/// Verifies user tokens of one application against its public key.
pub struct TokenVerifier {
    kid: String,
    /// Decompressed once: building it from the 32 bytes of `x` is a field inversion's
    /// worth of work that every verification would repeat.
    key: VerifyingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for tokens of `audience` issued by `issuer` with this key.
    pub fn new(
        kid: String,
        public_x: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, TokenError> {
        let bad = |e: &dyn std::fmt::Display| TokenError::BadKey(e.to_string());
        let x: [u8; 32] = URL_SAFE_NO_PAD
            .decode(public_x)
            .map_err(|e| bad(&e))?
            .try_into()
            .map_err(|_| bad(&"an Ed25519 public key is 32 bytes"))?;
        Ok(Self {
            kid,
            key: VerifyingKey::from_bytes(&x).map_err(|e| bad(&e))?,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Checks audience, `kid`, signature, issuer and expiry at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<UserTokenClaims, Rejection> {
        self.check(Unverified::parse(token)?, now)
    }

    /// [`Self::verify`] of a token already split and decoded.
    pub(crate) fn check(
        &self,
        token: Unverified<'_>,
        now: i64,
    ) -> Result<UserTokenClaims, Rejection> {
        // A token of another application names it in `aud`; say so rather than
        // "signature" (it was signed by that application's key).
        if token.claims.aud != self.audience {
            return Err(Rejection::Audience);
        }
        if token.header.alg != Algorithm::EdDSA || token.kid() != Some(self.kid.as_str()) {
            return Err(Rejection::Signature);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(token.signature)
            .map_err(|_| Rejection::Malformed)?;
        let signature = Signature::from_slice(&signature).map_err(|_| Rejection::Signature)?;
        self.key
            .verify_strict(token.signed.as_bytes(), &signature)
            .map_err(|_| Rejection::Signature)?;
        let claims = token.claims;
        if claims.iss != self.issuer {
            return Err(Rejection::Issuer);
        }
        if claims.exp <= now {
            return Err(Rejection::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_carry_every_claim() {
        let pair = generate_key().unwrap();
        assert_eq!(pair.kid, thumbprint(&pair.public_x));
        let iss = "https://login.example.com";
        let signer = |aud: &str| {
            TokenSigner::new(
                pair.kid.clone(),
                &pair.private_pkcs8,
                iss.into(),
                aud.into(),
            )
            .unwrap()
        };
        let user = UserId::parse("u1").unwrap();
        let now = 1_767_225_600;
        let minted = signer("app-1")
            .mint(&user, "t1".into(), now, now + 3600)
            .unwrap();
        let header = jsonwebtoken::decode_header(&minted.token).unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref(), header.typ.as_deref()),
            (Algorithm::EdDSA, Some(pair.kid.as_str()), Some("JWT"))
        );
        assert_eq!(
            (
                minted.claims.jti.as_str(),
                minted.claims.exp - minted.claims.iat
            ),
            ("t1", 3600)
        );

        let verifier = TokenVerifier::new(pair.kid.clone(), &pair.public_x, iss, "app-1").unwrap();
        assert_eq!(verifier.verify(&minted.token, now + 10).unwrap().sub, "u1");
        assert_eq!(
            verifier.verify(&minted.token, now + 3600),
            Err(Rejection::Expired)
        );
        let other_app = TokenVerifier::new(pair.kid.clone(), &pair.public_x, iss, "app-2").unwrap();
        assert_eq!(
            other_app.verify(&minted.token, now),
            Err(Rejection::Audience)
        );
        let other_iss = TokenVerifier::new(
            pair.kid.clone(),
            &pair.public_x,
            "https://x.example",
            "app-1",
        )
        .unwrap();
        assert_eq!(other_iss.verify(&minted.token, now), Err(Rejection::Issuer));
        let other_key = generate_key().unwrap();
        let impostor =
            TokenVerifier::new(pair.kid.clone(), &other_key.public_x, iss, "app-1").unwrap();
        assert_eq!(
            impostor.verify(&minted.token, now),
            Err(Rejection::Signature)
        );
        // Another payload under the same signature.
        let parts: Vec<&str> = minted.token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&UserTokenClaims {
                sub: "admin".into(),
                ..minted.claims.clone()
            })
            .unwrap(),
        );
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert_eq!(verifier.verify(&forged, now), Err(Rejection::Signature));
        assert_eq!(verifier.verify("not.a.jwt", now), Err(Rejection::Malformed));
    }

    /// Tokens that are not three base64url parts with a JOSE header and a user token's
    /// claims are malformed; a wrong algorithm, a truncated or foreign signature fail
    /// on the signature — whatever the parts hold.
    #[test]
    fn hostile_tokens_are_refused_with_their_reason() {
        let pair = generate_key().unwrap();
        let iss = "https://login.example.com";
        let signer = TokenSigner::new(
            pair.kid.clone(),
            &pair.private_pkcs8,
            iss.into(),
            "a".into(),
        )
        .unwrap();
        let verifier = TokenVerifier::new(pair.kid.clone(), &pair.public_x, iss, "a").unwrap();
        let now = 1_767_225_600;
        let token = signer
            .mint(&UserId::parse("u1").unwrap(), "t1".into(), now, now + 60)
            .unwrap()
            .token;
        let parts: Vec<&str> = token.split('.').collect();
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let hs256 = b64(serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": pair.kid}));
        let none = b64(serde_json::json!({"alg": "none", "kid": pair.kid}));
        let cases = [
            (String::new(), Rejection::Malformed),
            (format!("{}.{}", parts[0], parts[1]), Rejection::Malformed),
            (format!("{token}.{}", parts[2]), Rejection::Malformed),
            (
                format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
                Rejection::Malformed,
            ),
            (format!("{}.{}.", parts[0], parts[1]), Rejection::Signature),
            (
                format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
                Rejection::Signature,
            ),
            (
                format!("{hs256}.{}.{}", parts[1], parts[2]),
                Rejection::Signature,
            ),
            (format!("{none}.{}.", parts[1]), Rejection::Malformed),
            (
                format!(
                    "{}.{}.{}",
                    parts[0],
                    b64(serde_json::json!({"aud": "a"})),
                    parts[2]
                ),
                Rejection::Malformed,
            ),
        ];
        for (hostile, reason) in cases {
            assert_eq!(verifier.verify(&hostile, now), Err(reason), "{hostile}");
        }
        assert_eq!(verifier.verify(&token, now).unwrap().sub, "u1");
    }

    /// The signer's hand-built JWS is, byte for byte, the one `jsonwebtoken` builds
    /// from the same key, header and claims (Ed25519 signatures are deterministic).
    #[test]
    fn tokens_are_the_ones_jsonwebtoken_would_sign() {
        let pair = generate_key().unwrap();
        let signer = TokenSigner::new(
            pair.kid.clone(),
            &pair.private_pkcs8,
            "https://login.example.com".into(),
            "app-1".into(),
        )
        .unwrap();
        let minted = signer
            .mint(&UserId::parse("u1").unwrap(), "t1".into(), 1, 2)
            .unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(pair.kid.clone());
        header.typ = Some(TOKEN_TYPE.to_owned());
        let key = jsonwebtoken::EncodingKey::from_ed_der(pair.private_pkcs8.expose_secret());
        assert_eq!(
            minted.token,
            jsonwebtoken::encode(&header, &minted.claims, &key).unwrap()
        );
        // and an app's JWT library verifies them against the published key
        let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["app-1"]);
        validation.set_issuer(&["https://login.example.com"]);
        validation.validate_exp = false;
        let public = jsonwebtoken::DecodingKey::from_ed_components(&pair.public_x).unwrap();
        let decoded =
            jsonwebtoken::decode::<UserTokenClaims>(&minted.token, &public, &validation).unwrap();
        assert_eq!(decoded.claims, minted.claims);
        assert!(matches!(
            TokenSigner::new(
                pair.kid,
                &SecretBox::from(vec![0_u8; 16].into_boxed_slice()),
                String::new(),
                String::new()
            ),
            Err(TokenError::BadKey(_))
        ));
    }
}
