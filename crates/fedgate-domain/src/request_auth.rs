//! Authentication of signed requests (API calls and signed login starts): header
//! shapes, the key, the clock, the signature, and only then the nonce.

use secrecy::ExposeSecret;

use crate::access_key::{AccessKey, AccessKeyId, LAST_USED_GRANULARITY, seal_context};
use crate::clock::Clock;
use crate::ports::{AccessKeyRepository, StateStore, StoreError};
use crate::seal::Sealer;
use crate::signing::{self, RequestParts};

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
    /// The request named an existing access key (and failed for another reason): the
    /// failure is that key's and its application's, not only its address's.
    #[must_use]
    pub const fn names_existing_key(&self) -> bool {
        matches!(
            self,
            Self::RevokedKey
                | Self::StaleTimestamp
                | Self::BadSignature
                | Self::ReplayedNonce
                | Self::UnreadableSecret
        )
    }

    /// The signing header at fault, when one is.
    #[must_use]
    pub const fn header(&self) -> Option<&'static str> {
        match self {
            Self::MissingHeader(h) | Self::MalformedHeader(h) => Some(h),
            Self::UnknownKey | Self::RevokedKey => Some("X-Fedgate-Key-Id"),
            Self::StaleTimestamp => Some("X-Fedgate-Timestamp"),
            Self::ReplayedNonce => Some("X-Fedgate-Nonce"),
            Self::BadSignature => Some("X-Fedgate-Signature"),
            Self::UnreadableSecret | Self::Store(_) => None,
        }
    }

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
