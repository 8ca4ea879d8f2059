//! Randomness from the operating system, for ids, secrets, nonces and tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` bytes from the OS CSPRNG.
///
/// # Panics
/// Only if the operating system cannot provide randomness, in which case nothing
/// secure can be done at all.
#[must_use]
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    #[expect(
        clippy::expect_used,
        reason = "without OS randomness no secret can be made; failing loudly is right"
    )]
    getrandom::fill(&mut buf).expect("the operating system random number generator failed");
    buf
}

/// A URL-safe token carrying 256 bits of randomness (43 characters).
#[must_use]
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<32>())
}
