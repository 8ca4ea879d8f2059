//! Sealing secrets at rest with AES-256-GCM.
//!
//! Every sealed value's associated data names its purpose, its application and its
//! row, so a ciphertext copied into another row (or another application) fails to
//! open instead of silently becoming that row's secret.
//!
//! Every sealed value also names the key that sealed it (its *key version*: the first
//! 8 bytes of a hash of the key), so that during a master-key rotation values sealed
//! with the previous key and with the new one open side by side, and the rotation can
//! tell which ones still need re-sealing. Values of the first format (no key version,
//! written before rotation existed) open with any accepted key.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::ids::ApplicationId;

/// The first format: version byte, nonce, ciphertext (no key version).
const FORMAT_V1: u8 = 1;
/// The current format: version byte, key version, nonce, ciphertext.
const FORMAT_V2: u8 = 2;
/// The associated data's own format (unchanged by the envelope's).
const AAD_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const KEY_VERSION_LEN: usize = 8;
const TAG_LEN: usize = 16;

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

    /// The key's version: the first 8 bytes of SHA-256 over a label and the key. It
    /// names the key in sealed values and logs without revealing it.
    #[must_use]
    pub fn version(&self) -> [u8; KEY_VERSION_LEN] {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(b"fedgate master key version\0")
            .chain_update(self.0.expose_secret())
            .finalize();
        let mut v = [0u8; KEY_VERSION_LEN];
        v.copy_from_slice(&digest[..KEY_VERSION_LEN]);
        v
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

    /// Whether `check` was made by [`Sealer::check_value`] with one of this sealer's
    /// keys (the current one or, during a rotation, a previous one).
    #[must_use]
    pub fn opens_check(&self, check: &[u8]) -> bool {
        self.open(&CHECK, check)
            .is_ok_and(|p| p.expose_secret() == CHECK_PLAINTEXT)
    }

    /// The check value sealed anew with the current key, or `None` when it already is.
    pub fn reseal_check(&self, check: &[u8]) -> Result<Option<Vec<u8>>, SealError> {
        self.reseal(&CHECK, check)
    }
}

impl SealContext<'_> {
    fn aad(&self) -> String {
        format!(
            "fedgate/v{AAD_VERSION}/{}/{}/{}",
            self.purpose, self.application_id, self.row_id
        )
    }
}

/// Seals with the current master key; opens with it or, during a rotation, with a
/// previous one.
#[derive(Clone)]
pub struct Sealer {
    current: ([u8; KEY_VERSION_LEN], Aes256Gcm),
    previous: Vec<([u8; KEY_VERSION_LEN], Aes256Gcm)>,
    days: Arc<DayKeys>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

/// Appends to `out` a random 96-bit nonce and `plaintext` encrypted under it, with its
/// tag.
fn encrypt(cipher: &Aes256Gcm, aad: &str, plaintext: &[u8], out: &mut Vec<u8>) {
    let nonce = crate::random::bytes::<NONCE_LEN>();
    // Encryption with a valid key and in-memory buffers cannot fail.
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    out.reserve(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
}

/// Opens what [`encrypt`] appended: a nonce, then ciphertext and tag.
fn decrypt(cipher: &Aes256Gcm, aad: &str, nonce_and_ct: &[u8]) -> Result<Vec<u8>, SealError> {
    if nonce_and_ct.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::CannotOpen);
    }
    let (nonce, ct) = nonce_and_ct.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::CannotOpen)?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SealError::CannotOpen)
}

fn cipher(key: &MasterKey) -> ([u8; KEY_VERSION_LEN], Aes256Gcm) {
    let k = aes_gcm::Key::<Aes256Gcm>::from(*key.0.expose_secret());
    (key.version(), Aes256Gcm::new(&k))
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
        Self::rotating(key, &[])
    }

    /// A sealer sealing with `current` and also opening what `previous` keys sealed
    /// (while a master-key rotation re-seals everything under `current`).
    #[must_use]
    pub fn rotating(current: &MasterKey, previous: &[MasterKey]) -> Self {
        let previous: Vec<&MasterKey> = previous
            .iter()
            .filter(|k| k.version() != current.version())
            .collect();
        Self {
            current: cipher(current),
            previous: previous.iter().copied().map(cipher).collect(),
            days: Arc::new(DayKeys {
                roots: std::iter::once(current)
                    .chain(previous)
                    .map(|k| (k.version(), transient_root(k)))
                    .collect(),
                cache: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The current key's version, as hex.
    #[must_use]
    pub fn key_version(&self) -> String {
        hex::encode(self.current.0)
    }

    /// Seals `plaintext` for `ctx` with the current key: format byte, key version,
    /// random 96-bit nonce, ciphertext+tag.
    #[must_use]
    pub fn seal(&self, ctx: &SealContext<'_>, plaintext: &[u8]) -> Vec<u8> {
        let (version, cipher) = &self.current;
        let mut out = vec![FORMAT_V2];
        out.extend_from_slice(version);
        encrypt(cipher, &ctx.aad(), plaintext, &mut out);
        out
    }

    fn keys(&self) -> impl Iterator<Item = &([u8; KEY_VERSION_LEN], Aes256Gcm)> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// Opens a value sealed for exactly `ctx` with any accepted key.
    pub fn open(&self, ctx: &SealContext<'_>, sealed: &[u8]) -> Result<SecretBox<[u8]>, SealError> {
        let aad = ctx.aad();
        let attempt = |cipher: &Aes256Gcm, rest: &[u8]| decrypt(cipher, &aad, rest);
        let plaintext = match sealed.split_first() {
            Some((&FORMAT_V2, rest)) if rest.len() > KEY_VERSION_LEN => {
                let (version, rest) = rest.split_at(KEY_VERSION_LEN);
                let (_, cipher) = self
                    .keys()
                    .find(|(v, _)| v.as_slice() == version)
                    .ok_or(SealError::CannotOpen)?;
                attempt(cipher, rest)?
            }
            Some((&FORMAT_V1, rest)) => self
                .keys()
                .find_map(|(_, cipher)| attempt(cipher, rest).ok())
                .ok_or(SealError::CannotOpen)?,
            _ => return Err(SealError::CannotOpen),
        };
        Ok(SecretBox::from(plaintext.into_boxed_slice()))
    }

    /// Whether `sealed` is sealed with the current key in the current format.
    #[must_use]
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.first() == Some(&FORMAT_V2)
            && sealed.get(1..=KEY_VERSION_LEN) == Some(self.current.0.as_slice())
    }

    /// `sealed` sealed anew for the same `ctx` with the current key, or `None` when it
    /// already is. Fails when no accepted key opens it.
    pub fn reseal(
        &self,
        ctx: &SealContext<'_>,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>, SealError> {
        if self.is_current(sealed) {
            return Ok(None);
        }
        let plaintext = self.open(ctx, sealed)?;
        Ok(Some(self.seal(ctx, plaintext.expose_secret())))
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

/// The format of a transient value: format byte, key version, day, nonce, ciphertext.
const FORMAT_TRANSIENT: u8 = 3;
/// How many day keys are kept derived (two days of two keys during a rotation, and
/// room for a clock near midnight).
const DAY_KEYS_KEPT: usize = 8;
/// The days either side of today whose keys open a transient value.
const DAYS_ACCEPTED: u32 = 1;

/// Keys for *transient* values — short-lived ones that leave Fedgate and come back,
/// like a login record sealed into the `state` sent through a provider. There are
/// as many of those as logins, far more than secrets at rest, so they are not
/// sealed with the master key itself: each day has a key of its own, derived from
/// the master key (HMAC-SHA256), and no key seals more values than a day's logins
/// — well inside what AES-GCM with random nonces allows one key.
struct DayKeys {
    /// Per master key (the current one first), the root the day keys are derived from.
    roots: Vec<([u8; KEY_VERSION_LEN], SecretBox<[u8; 32]>)>,
    /// Day keys derived so far: `(key version, day, cipher)`, the newest last.
    cache: Mutex<Vec<([u8; KEY_VERSION_LEN], u32, Aes256Gcm)>>,
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn transient_root(key: &MasterKey) -> SecretBox<[u8; 32]> {
    SecretBox::new(Box::new(hmac_sha256(
        key.0.expose_secret(),
        &[b"fedgate transient root v1"],
    )))
}

impl DayKeys {
    /// The cipher of `day` under the master key named by `version`, derived once.
    fn cipher(&self, version: &[u8], day: u32) -> Option<Aes256Gcm> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, c)) = cache
            .iter()
            .find(|(v, d, _)| v.as_slice() == version && *d == day)
        {
            return Some(c.clone());
        }
        let (v, root) = self.roots.iter().find(|(v, _)| v.as_slice() == version)?;
        let key = hmac_sha256(root.expose_secret(), &[b"day ", &day.to_be_bytes()]);
        let cipher = Aes256Gcm::new(&aes_gcm::Key::<Aes256Gcm>::from(key));
        if cache.len() == DAY_KEYS_KEPT {
            cache.remove(0);
        }
        cache.push((*v, day, cipher.clone()));
        Some(cipher)
    }
}

fn transient_aad(purpose: &str, day: u32) -> String {
    format!("fedgate/v{AAD_VERSION}/transient/{purpose}/{day}")
}

impl Sealer {
    /// Seals a transient value for `purpose` with the key of `day` (days since the
    /// Unix epoch) under the current master key.
    #[must_use]
    pub fn seal_transient(&self, purpose: &str, day: u32, plaintext: &[u8]) -> Vec<u8> {
        let version = self.current.0;
        let Some(cipher) = self.days.cipher(&version, day) else {
            unreachable!("the current key always has a root")
        };
        let mut out = vec![FORMAT_TRANSIENT];
        out.extend_from_slice(&version);
        out.extend_from_slice(&day.to_be_bytes());
        encrypt(&cipher, &transient_aad(purpose, day), plaintext, &mut out);
        out
    }

    /// Opens a transient value sealed for `purpose` on a day within one of `today`,
    /// with the current master key or a previous one.
    pub fn open_transient(
        &self,
        purpose: &str,
        today: u32,
        sealed: &[u8],
    ) -> Result<SecretBox<[u8]>, SealError> {
        const HEAD: usize = 1 + KEY_VERSION_LEN + 4;
        if sealed.len() < HEAD || sealed[0] != FORMAT_TRANSIENT {
            return Err(SealError::CannotOpen);
        }
        let version = &sealed[1..=KEY_VERSION_LEN];
        let day_bytes: [u8; 4] = sealed[1 + KEY_VERSION_LEN..HEAD]
            .try_into()
            .map_err(|_| SealError::CannotOpen)?;
        let day = u32::from_be_bytes(day_bytes);
        if day.abs_diff(today) > DAYS_ACCEPTED {
            return Err(SealError::CannotOpen);
        }
        let cipher = self
            .days
            .cipher(version, day)
            .ok_or(SealError::CannotOpen)?;
        let plaintext = decrypt(&cipher, &transient_aad(purpose, day), &sealed[HEAD..])?;
        Ok(SecretBox::from(plaintext.into_boxed_slice()))
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

    /// A value in the first format, as versions before key versions wrote it.
    fn seal_v1(key: &MasterKey, ctx: &SealContext<'_>, plaintext: &[u8]) -> Vec<u8> {
        let (_, cipher) = cipher(key);
        let nonce = [7u8; NONCE_LEN];
        let aad = ctx.aad();
        let ct = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap();
        [&[FORMAT_V1][..], &nonce, &ct].concat()
    }

    #[test]
    fn during_a_rotation_both_keys_open_and_resealing_moves_values_to_the_new_one() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let app = ApplicationId::generate();
        let c = ctx(app, "row");
        let by_old = Sealer::new(&old).seal(&c, b"one");
        let first_format = seal_v1(&old, &c, b"two");
        assert_eq!(by_old[0], FORMAT_V2);
        assert_eq!(by_old[1..=KEY_VERSION_LEN], old.version());

        let rotating = Sealer::rotating(&new, &[MasterKey::parse(&old.to_base64()).unwrap()]);
        for (sealed, text) in [(&by_old, b"one"), (&first_format, b"two")] {
            assert_eq!(rotating.open(&c, sealed).unwrap().expose_secret(), text);
            assert!(!rotating.is_current(sealed));
            let moved = rotating.reseal(&c, sealed).unwrap().unwrap();
            assert!(rotating.is_current(&moved));
            assert_eq!(rotating.reseal(&c, &moved).unwrap(), None, "done once");
            // The new key alone opens the re-sealed value; the old key alone does not.
            assert_eq!(
                Sealer::new(&new).open(&c, &moved).unwrap().expose_secret(),
                text
            );
            assert!(Sealer::new(&old).open(&c, &moved).is_err());
        }
        // The row binding still holds through a re-seal.
        assert!(rotating.reseal(&ctx(app, "other-row"), &by_old).is_err());
        // A key that is neither opens nothing.
        let stranger = Sealer::new(&MasterKey::generate());
        assert!(stranger.open(&c, &by_old).is_err());
        assert!(stranger.open(&c, &first_format).is_err());
        // The check value follows the same path.
        let check = Sealer::new(&old).check_value();
        assert!(rotating.opens_check(&check) && !stranger.opens_check(&check));
        let moved = rotating.reseal_check(&check).unwrap().unwrap();
        assert!(Sealer::new(&new).opens_check(&moved));
        assert_ne!(old.version(), new.version());
    }

    #[test]
    fn master_key_parses_base64_of_32_bytes_only() {
        let key = MasterKey::generate();
        assert!(MasterKey::parse(&key.to_base64()).is_ok());
        assert!(MasterKey::parse(&SecretString::from("c2hvcnQ=")).is_err());
        assert!(MasterKey::parse(&SecretString::from("not base64!")).is_err());
        assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
    }

    #[test]
    fn transient_values_open_for_their_purpose_near_their_day_only() {
        let key = MasterKey::generate();
        let sealer = Sealer::new(&key);
        let day = 20_000;
        let sealed = sealer.seal_transient("login.record", day, b"record");
        for today in [day - 1, day, day + 1] {
            let opened = sealer
                .open_transient("login.record", today, &sealed)
                .unwrap();
            assert_eq!(opened.expose_secret(), b"record");
        }
        // Too far from its day, for another purpose, or under another key: never.
        assert!(
            sealer
                .open_transient("login.record", day + 2, &sealed)
                .is_err()
        );
        assert!(
            sealer
                .open_transient("login.record", day - 2, &sealed)
                .is_err()
        );
        assert!(sealer.open_transient("other", day, &sealed).is_err());
        assert!(
            Sealer::new(&MasterKey::generate())
                .open_transient("login.record", day, &sealed)
                .is_err()
        );
        // Any byte changed — the day in the clear included — and it does not open.
        for i in 0..sealed.len() {
            let mut bent = sealed.clone();
            bent[i] ^= 0x01;
            assert!(
                sealer.open_transient("login.record", day, &bent).is_err(),
                "byte {i}"
            );
        }
        assert!(
            sealer
                .open_transient("login.record", day, &sealed[..20])
                .is_err()
        );
        // Secrets at rest and transient values do not open as each other.
        let at_rest = sealer.seal(&ctx(ApplicationId::generate(), "r"), b"record");
        assert!(
            sealer
                .open_transient("login.record", day, &at_rest)
                .is_err()
        );
        // Each day has its own key: the same plaintext sealed on two days differs
        // beyond the day, and a day's value relabelled as another's does not open.
        let next = sealer.seal_transient("login.record", day + 1, b"record");
        let mut relabelled = next.clone();
        relabelled[1 + KEY_VERSION_LEN..1 + KEY_VERSION_LEN + 4]
            .copy_from_slice(&day.to_be_bytes());
        assert!(
            sealer
                .open_transient("login.record", day, &relabelled)
                .is_err()
        );
        // During a rotation the previous key's values still open, and a sealer
        // built anew from the same key opens what another instance sealed.
        let rotated = Sealer::rotating(&MasterKey::generate(), &[key]);
        assert_eq!(
            rotated
                .open_transient("login.record", day, &sealed)
                .unwrap()
                .expose_secret(),
            b"record"
        );
        let fresh = rotated.seal_transient("login.record", day, b"new");
        assert!(sealer.open_transient("login.record", day, &fresh).is_err());
    }
}
