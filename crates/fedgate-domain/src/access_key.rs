//! Access keys: the application's credentials for the API and for signed logins.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::ids::ApplicationId;
use crate::seal::{SealContext, Sealer};

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

pub(crate) fn seal_context(key: &AccessKey) -> SealContext<'_> {
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
