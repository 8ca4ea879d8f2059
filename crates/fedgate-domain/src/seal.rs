//! Sealing secrets at rest with AES-256-GCM.
//!
//! Every sealed value's associated data names its purpose, its application and its
//! row, so a ciphertext copied into another row (or another application) fails to
//! open instead of silently becoming that row's secret.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::ids::ApplicationId;

/// Format version written as the first byte of every sealed value.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The 256-bit master key from which all sealing is done. Never printed.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl MasterKey {
    /// A fresh random key.
    #[must_use]
    pub fn generate() -> Self {
        Self(SecretBox::new(Box::new(crate::random::bytes::<32>())))
    }

    /// Parses base64 (standard or URL-safe, padding optional) of exactly 32 bytes.
    pub fn parse(text: &SecretString) -> Result<Self, SealError> {
        let t = text.expose_secret().trim();
        let bytes = STANDARD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
            .map_err(|_| SealError::BadMasterKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadMasterKey)?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// The key as standard base64, for writing the key file once.
    #[must_use]
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.expose_secret()))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// What a sealed value belongs to; becomes the AEAD associated data.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    /// What the secret is, e.g. `property.client_secret`.
    pub purpose: &'static str,
    /// The owning application.
    pub application_id: ApplicationId,
    /// The row's id, as text.
    pub row_id: &'a str,
}

/// The check value's context: no application owns it.
const CHECK: SealContext<'static> = SealContext {
    purpose: "master_key.check",
    application_id: ApplicationId::from_uuid(uuid::Uuid::nil()),
    row_id: "master-key-check",
};
/// What the check value seals.
const CHECK_PLAINTEXT: &[u8] = b"fedgate master key check";

impl Sealer {
    /// A check value: a known plaintext sealed with this key. Stored once, it tells at
    /// every start whether the configured key is the one the data was sealed with.
    #[must_use]
    pub fn check_value(&self) -> Vec<u8> {
        self.seal(&CHECK, CHECK_PLAINTEXT)
    }

    /// Whether `check` was made by [`Sealer::check_value`] with this very key.
    #[must_use]
    pub fn opens_check(&self, check: &[u8]) -> bool {
        self.open(&CHECK, check)
            .is_ok_and(|p| p.expose_secret() == CHECK_PLAINTEXT)
    }
}

impl SealContext<'_> {
    fn aad(&self) -> String {
        format!(
            "fedgate/v{VERSION}/{}/{}/{}",
            self.purpose, self.application_id, self.row_id
        )
    }
}

/// Seals and opens secrets with the master key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

/// Sealing failures. Opening reports one kind of failure only, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The configured master key is not base64 of 32 bytes.
    #[error("the master key must be base64 of exactly 32 bytes")]
    BadMasterKey,
    /// The value is corrupt, was sealed with another key, or belongs to another row.
    #[error("the sealed value cannot be opened (wrong key, wrong row, or corrupt)")]
    CannotOpen,
}

impl Sealer {
    /// A sealer using `key`.
    #[must_use]
    pub fn new(key: &MasterKey) -> Self {
        let key = aes_gcm::Key::<Aes256Gcm>::from(*key.0.expose_secret());
        Self {
            cipher: Aes256Gcm::new(&key),
        }
    }

    /// Seals `plaintext` for `ctx`: version byte, random 96-bit nonce, ciphertext+tag.
    #[must_use]
    pub fn seal(&self, ctx: &SealContext<'_>, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = crate::random::bytes::<NONCE_LEN>();
        let nonce = Nonce::from(nonce_bytes);
        let aad = ctx.aad();
        // Encryption with a valid key and in-memory buffers cannot fail.
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a value sealed for exactly `ctx`.
    pub fn open(&self, ctx: &SealContext<'_>, sealed: &[u8]) -> Result<SecretBox<[u8]>, SealError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SealError::CannotOpen);
        }
        let nonce_bytes: [u8; NONCE_LEN] = sealed[1..=NONCE_LEN]
            .try_into()
            .map_err(|_| SealError::CannotOpen)?;
        let nonce = Nonce::from(nonce_bytes);
        let aad = ctx.aad();
        let pt = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::CannotOpen)?;
        Ok(SecretBox::from(pt.into_boxed_slice()))
    }

    /// Opens a value that must be UTF-8 text.
    pub fn open_string(
        &self,
        ctx: &SealContext<'_>,
        sealed: &[u8],
    ) -> Result<SecretString, SealError> {
        let bytes = self.open(ctx, sealed)?;
        let text = std::str::from_utf8(bytes.expose_secret()).map_err(|_| SealError::CannotOpen)?;
        Ok(SecretString::from(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(app: ApplicationId, row: &'a str) -> SealContext<'a> {
        SealContext {
            purpose: "test.secret",
            application_id: app,
            row_id: row,
        }
    }

    #[test]
    fn opens_only_for_the_same_key_application_row_and_purpose() {
        let sealer = Sealer::new(&MasterKey::generate());
        let app = ApplicationId::generate();
        let sealed = sealer.seal(&ctx(app, "row-1"), b"s3cret");
        assert_eq!(
            sealer
                .open(&ctx(app, "row-1"), &sealed)
                .unwrap()
                .expose_secret(),
            b"s3cret"
        );
        assert_eq!(
            sealer.open(&ctx(app, "row-2"), &sealed).unwrap_err(),
            SealError::CannotOpen
        );
        assert!(
            sealer
                .open(&ctx(ApplicationId::generate(), "row-1"), &sealed)
                .is_err()
        );
        let other_purpose = SealContext {
            purpose: "other",
            ..ctx(app, "row-1")
        };
        assert!(sealer.open(&other_purpose, &sealed).is_err());
        assert!(
            Sealer::new(&MasterKey::generate())
                .open(&ctx(app, "row-1"), &sealed)
                .is_err()
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&ctx(app, "row-1"), &tampered).is_err());
        assert!(sealer.open(&ctx(app, "row-1"), &sealed[..10]).is_err());
    }

    #[test]
    fn same_plaintext_seals_differently_each_time() {
        let sealer = Sealer::new(&MasterKey::generate());
        let app = ApplicationId::generate();
        assert_ne!(
            sealer.seal(&ctx(app, "r"), b"x"),
            sealer.seal(&ctx(app, "r"), b"x")
        );
    }

    #[test]
    fn master_key_parses_base64_of_32_bytes_only() {
        let key = MasterKey::generate();
        assert!(MasterKey::parse(&key.to_base64()).is_ok());
        assert!(MasterKey::parse(&SecretString::from("c2hvcnQ=")).is_err());
        assert!(MasterKey::parse(&SecretString::from("not base64!")).is_err());
        assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
    }
}
