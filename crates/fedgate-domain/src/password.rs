//! Subscriber passwords: policy and Argon2id hashing.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::ValidationError;

/// Argon2id memory cost in KiB (19 MiB, the OWASP minimum).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id iterations.
pub const ARGON2_ITERATIONS: u32 = 2;

/// A password a subscriber chose, checked against the policy. Never printed.
#[derive(Debug)]
pub struct NewPassword(SecretString);

impl NewPassword {
    /// At least 10 and at most 256 characters (length beats composition rules).
    pub fn parse(text: SecretString) -> Result<Self, ValidationError> {
        let n = text.expose_secret().chars().count();
        if n < 10 {
            return Err(ValidationError::new(
                "password",
                "must be at least 10 characters",
            ));
        }
        if n > 256 {
            return Err(ValidationError::new(
                "password",
                "must be at most 256 characters",
            ));
        }
        Ok(Self(text))
    }

    /// Hashes the password into a PHC string. CPU-heavy: call off the async executor.
    pub fn hash(&self) -> Result<PasswordHashString, PasswordError> {
        let argon = hasher()?;
        let salt = Salt::new(&crate::random::bytes::<16>()).map_err(|_| PasswordError)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        hash_into(&argon, self.0.expose_secret().as_bytes(), &salt, &mut out)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(|_| PasswordError)?,
            salt: Some(salt),
            hash: Some(Output::new(&out).map_err(|_| PasswordError)?),
        };
        Ok(PasswordHashString(phc.to_string()))
    }
}

/// A PHC-format Argon2id hash as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHashString(pub String);

/// Hashing failed (a bad parameter set or a corrupt stored hash).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing failed")]
pub struct PasswordError;

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, 1, None).map_err(|_| PasswordError)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Argon2 of `password` and `salt` into `out`. The working memory (19 MiB) lives for
/// one hash: the server's allocator hands it back to the system after a wave of
/// sign-ins (docs/performance.md), so no thread keeps it for good.
fn hash_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let mut memory = vec![Block::default(); argon.params().block_count()];
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory)
        .map_err(|_| PasswordError)
}

/// Checks `candidate` against a stored hash (of any Argon2 variant and parameters).
/// CPU-heavy: call off the async executor. A corrupt stored hash verifies nothing.
#[must_use]
pub fn verify(candidate: &SecretString, stored: &PasswordHashString) -> bool {
    let check = || -> Option<bool> {
        let phc = PasswordHash::new(&stored.0).ok()?;
        let (salt, expected) = (phc.salt.as_ref()?, phc.hash.as_ref()?);
        let algorithm = Algorithm::try_from(phc.algorithm.as_str()).ok()?;
        let version = match phc.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&phc).ok()?;
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        hash_into(&argon, candidate.expose_secret().as_bytes(), salt, &mut out).ok()?;
        // `Output` compares in constant time.
        Some(Output::new(&out).ok()? == *expected)
    };
    check().unwrap_or(false)
}

/// Whether `stored` was made with other Argon2 parameters than today's (it is replaced
/// at the next successful sign-in).
#[must_use]
pub fn needs_rehash(stored: &PasswordHashString) -> bool {
    !stored.0.starts_with(&format!(
        "$argon2id$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_ITERATIONS},p=1$"
    ))
}

/// A hash of `candidate` (a password that just verified) with today's parameters.
pub fn rehash(candidate: &SecretString) -> Result<PasswordHashString, PasswordError> {
    NewPassword(candidate.clone()).hash()
}

/// A hash of a random password, verified against when the account does not exist so
/// that sign-in takes the same time either way.
pub fn dummy_hash() -> Result<PasswordHashString, PasswordError> {
    NewPassword(SecretString::from(crate::random::token())).hash()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn a_hash_of_older_parameters_is_recognised_and_replaced() {
        let pw = SecretString::from("correct horse battery");
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let old = PasswordHashString(
            weak.hash_password_with_salt(pw.expose_secret().as_bytes(), &[7u8; 16])
                .unwrap()
                .to_string(),
        );
        assert!(verify(&pw, &old), "older hashes still verify");
        assert!(needs_rehash(&old));
        let new = rehash(&pw).unwrap();
        assert!(!needs_rehash(&new) && verify(&pw, &new));
    }

    #[test]
    fn hashes_with_argon2id_at_the_required_cost_and_verifies() {
        let pw = NewPassword::parse(SecretString::from("correct horse battery")).unwrap();
        let hash = pw.hash().unwrap();
        assert!(
            hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.0
        );
        assert!(verify(&SecretString::from("correct horse battery"), &hash));
        // The same PHC string the argon2 crate writes and reads.
        assert!(
            hasher()
                .unwrap()
                .verify_password(b"correct horse battery", hash.0.as_str())
                .is_ok()
        );
        assert!(!verify(
            &SecretString::from("correct horse battery!"),
            &hash
        ));
        assert!(!verify(
            &SecretString::from("x"),
            &PasswordHashString("garbage".into())
        ));
    }

    #[test]
    fn enforces_length_policy() {
        assert!(NewPassword::parse(SecretString::from("short")).is_err());
        assert!(NewPassword::parse(SecretString::from("x".repeat(257))).is_err());
    }
}
