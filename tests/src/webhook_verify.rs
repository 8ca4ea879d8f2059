//! The Rust verification example of docs/webhooks.md, verbatim (a test keeps the two
//! the same and verifies real deliveries with it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Checks a Fedgate webhook delivery: `secret` is the webhook's `whsec_…` signing
/// secret, `now` the current Unix time.
pub fn verify_webhook(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "malformed secret")?;
    let sent: i64 = timestamp.parse().map_err(|_| "malformed timestamp")?;
    if (now - sent).abs() > 300 {
        return Err("timestamp too far from now");
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|_| "bad key")?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    for candidate in signatures.split(' ') {
        if let Some(("v1", signature)) = candidate.split_once(',')
            && let Ok(given) = STANDARD.decode(signature)
            && bool::from(given.ct_eq(&expected))
        {
            return Ok(());
        }
    }
    Err("no valid signature")
}
