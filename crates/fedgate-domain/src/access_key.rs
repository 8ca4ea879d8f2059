//! Access keys: the application's credentials for the API and for signed logins.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::clock::Clock;
use crate::ids::ApplicationId;
use crate::ports::{AccessKeyRepository, StateStore, StoreError};
use crate::seal::{SealContext, Sealer};
use crate::signing::{self, RequestParts};

/// At most this many keys may be active (not revoked) per application.
pub const MAX_ACTIVE_ACCESS_KEYS: u64 = 5;
/// Sealing purpose of access-key secrets.
pub const SECRET_PURPOSE: &str = "access_key.secret";
/// `last_used_at` is written at most this often per key, to keep the hot path read-only.
pub const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::seconds(60);

const ID_PREFIX: &str = "fgk_";
const SECRET_PREFIX: &str = "fgs_";

/// A key id: `fgk_` followed by 24 lower-case hex characters. Not secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// A fresh random id.
    #[must_use]
    pub fn generate() -> Self {
        Self(format!(
            "{ID_PREFIX}{}",
            hex::encode(crate::random::bytes::<12>())
        ))
    }

    /// Parses the exact form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let hex_part = text.strip_prefix(ID_PREFIX)?;
        (hex_part.len() == 24
            && hex_part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(text.to_owned()))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKeyId({})", self.0)
    }
}

/// An access key's metadata (never its secret).
#[derive(Debug, Clone)]
pub struct AccessKey {
    /// Key id.
    pub id: AccessKeyId,
    /// The application it authenticates as.
    pub application_id: ApplicationId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last successful use, at [`LAST_USED_GRANULARITY`].
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An access key with its sealed secret, as storage holds it.
#[derive(Debug, Clone)]
pub struct StoredAccessKey {
    /// Metadata.
    pub key: AccessKey,
    /// The secret, sealed for this key's row.
    pub sealed_secret: Vec<u8>,
}

/// A newly created key and its secret, shown to the subscriber exactly once.
#[derive(Debug)]
pub struct NewAccessKey {
    /// The row to store.
    pub stored: StoredAccessKey,
    /// The secret in clear, for the one response that returns it.
    pub secret: SecretString,
}

fn seal_context(key: &AccessKey) -> SealContext<'_> {
    SealContext {
        purpose: SECRET_PURPOSE,
        application_id: key.application_id,
        row_id: key.id.as_str(),
    }
}

impl NewAccessKey {
    /// Generates a key id and a 256-bit secret, sealed for the new row.
    #[must_use]
    pub fn generate(application_id: ApplicationId, sealer: &Sealer, now: DateTime<Utc>) -> Self {
        let key = AccessKey {
            id: AccessKeyId::generate(),
            application_id,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let secret = SecretString::from(format!("{SECRET_PREFIX}{}", crate::random::token()));
        let sealed_secret = sealer.seal(&seal_context(&key), secret.expose_secret().as_bytes());
        Self {
            stored: StoredAccessKey { key, sealed_secret },
            secret,
        }
    }
}

/// Why a signed request was refused. Each maps to a stable API error code.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// One of the four signing headers is absent.
    #[error("the request is not signed: header {0} is missing")]
    MissingHeader(&'static str),
    /// A signing header is present but malformed.
    #[error("header {0} is malformed")]
    MalformedHeader(&'static str),
    /// No such key.
    #[error("unknown access key")]
    UnknownKey,
    /// The key was revoked.
    #[error("the access key has been revoked")]
    RevokedKey,
    /// Timestamp outside the allowed window.
    #[error("the timestamp is more than 5 minutes away from the server's clock")]
    StaleTimestamp,
    /// The signature does not match.
    #[error("the signature does not match the request")]
    BadSignature,
    /// The nonce was already used within the window.
    #[error("the nonce has already been used")]
    ReplayedNonce,
    /// The stored secret cannot be opened (wrong master key or a tampered row).
    #[error("the access key's stored secret cannot be opened")]
    UnreadableSecret,
    /// Storage or state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    /// The stable error code clients see (and signed login starts log).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "signature_missing",
            Self::MalformedHeader(_) => "signature_malformed",
            Self::UnknownKey => "access_key_unknown",
            Self::RevokedKey => "access_key_revoked",
            Self::StaleTimestamp => "timestamp_out_of_window",
            Self::BadSignature => "signature_mismatch",
            Self::ReplayedNonce => "nonce_reused",
            Self::UnreadableSecret => "access_key_unusable",
            Self::Store(_) => "unavailable",
        }
    }
}

/// The signing headers as received, before any checking.
#[derive(Debug, Clone, Copy)]
pub struct SignatureHeaders<'a> {
    /// `X-Fedgate-Key-Id`.
    pub key_id: Option<&'a str>,
    /// `X-Fedgate-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-Fedgate-Nonce`.
    pub nonce: Option<&'a str>,
    /// `X-Fedgate-Signature`.
    pub signature: Option<&'a str>,
}

/// The request as received.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedRequest<'a> {
    /// Method.
    pub method: &'a str,
    /// Raw path.
    pub path: &'a str,
    /// Raw query.
    pub query: &'a str,
    /// Raw body.
    pub body: &'a [u8],
}

/// Authenticates a signed request and returns the key it was signed with.
///
/// Order matters: cheap shape checks, then the key, the clock, the signature, and
/// only then the nonce is consumed, so an attacker cannot burn nonces with
/// unsigned requests.
pub async fn authenticate(
    keys: &dyn AccessKeyRepository,
    state: &dyn StateStore,
    sealer: &Sealer,
    clock: &dyn Clock,
    headers: SignatureHeaders<'_>,
    request: ReceivedRequest<'_>,
) -> Result<AccessKey, AuthError> {
    let key_id = headers
        .key_id
        .ok_or(AuthError::MissingHeader(signing::HEADER_KEY_ID))?;
    let timestamp = headers
        .timestamp
        .ok_or(AuthError::MissingHeader(signing::HEADER_TIMESTAMP))?;
    let nonce = headers
        .nonce
        .ok_or(AuthError::MissingHeader(signing::HEADER_NONCE))?;
    let signature = headers
        .signature
        .ok_or(AuthError::MissingHeader(signing::HEADER_SIGNATURE))?;
    let key_id =
        AccessKeyId::parse(key_id).ok_or(AuthError::MalformedHeader(signing::HEADER_KEY_ID))?;
    let timestamp: i64 = timestamp
        .parse()
        .map_err(|_| AuthError::MalformedHeader(signing::HEADER_TIMESTAMP))?;
    if !signing::nonce_is_well_formed(nonce) {
        return Err(AuthError::MalformedHeader(signing::HEADER_NONCE));
    }
    if signature.len() != 64 {
        return Err(AuthError::MalformedHeader(signing::HEADER_SIGNATURE));
    }

    let stored = keys
        .find_access_key(&key_id)
        .await?
        .ok_or(AuthError::UnknownKey)?;
    if stored.key.revoked_at.is_some() {
        return Err(AuthError::RevokedKey);
    }
    let now = clock.now();
    if (now.timestamp() - timestamp).abs() > signing::MAX_SKEW_SECONDS {
        return Err(AuthError::StaleTimestamp);
    }
    let secret = sealer
        .open(&seal_context(&stored.key), &stored.sealed_secret)
        .map_err(|_| AuthError::UnreadableSecret)?;
    let parts = RequestParts {
        key_id: key_id.as_str(),
        timestamp,
        nonce,
        method: request.method,
        path: request.path,
        query: request.query,
        body: request.body,
    };
    if !signing::verify(secret.expose_secret(), &parts, signature) {
        return Err(AuthError::BadSignature);
    }
    // Remember the nonce for the whole window in which its timestamp stays valid.
    let ttl = std::time::Duration::from_secs(2 * signing::MAX_SKEW_SECONDS.unsigned_abs());
    let fresh = state
        .put_if_absent(&format!("nonce:{}:{nonce}", key_id.as_str()), b"1", ttl)
        .await?;
    if !fresh {
        return Err(AuthError::ReplayedNonce);
    }
    if stored
        .key
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_GRANULARITY)
    {
        keys.touch_access_key(&key_id, now).await?;
    }
    Ok(stored.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_one_shape() {
        let id = AccessKeyId::generate();
        assert_eq!(AccessKeyId::parse(id.as_str()), Some(id.clone()));
        assert!(AccessKeyId::parse("fgk_XYZ").is_none());
        assert!(AccessKeyId::parse(&id.as_str().to_uppercase()).is_none());
    }

    #[test]
    fn generated_secret_is_sealed_for_its_row() {
        let sealer = Sealer::new(&crate::seal::MasterKey::generate());
        let k = NewAccessKey::generate(ApplicationId::generate(), &sealer, Utc::now());
        let opened = sealer
            .open_string(&seal_context(&k.stored.key), &k.stored.sealed_secret)
            .unwrap();
        assert_eq!(opened.expose_secret(), k.secret.expose_secret());
        assert!(k.secret.expose_secret().starts_with("fgs_"));
    }
}
