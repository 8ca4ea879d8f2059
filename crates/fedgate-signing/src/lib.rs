//! Access-key request signing (HMAC-SHA256), shared by the server, the client crate
//! and the tests. `docs/api-signing.md` specifies the same scheme in prose.

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// First line of the string to sign.
pub const SCHEME: &str = "FEDGATE-HMAC-SHA256";
/// Header carrying the access key id.
pub const HEADER_KEY_ID: &str = "x-fedgate-key-id";
/// Header carrying the Unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "x-fedgate-timestamp";
/// Header carrying the single-use nonce.
pub const HEADER_NONCE: &str = "x-fedgate-nonce";
/// Header carrying the lower-case hex signature.
pub const HEADER_SIGNATURE: &str = "x-fedgate-signature";
/// How far a timestamp may be from the server's clock, either way.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// RFC 3986 unreserved characters stay; everything else is `%XX` (upper-case hex).
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The parts of a request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// Access key id.
    pub key_id: &'a str,
    /// Unix seconds.
    pub timestamp: i64,
    /// Nonce: 16..=64 characters of `A-Z a-z 0-9 - _`.
    pub nonce: &'a str,
    /// HTTP method (any case; upper-cased).
    pub method: &'a str,
    /// Path exactly as sent, still percent-encoded, without the query.
    pub path: &'a str,
    /// Raw query string without `?` (may be empty).
    pub query: &'a str,
    /// Raw request body (empty for none).
    pub body: &'a [u8],
}

/// The query in canonical form: pairs decoded (`+` is a space), re-encoded with only
/// RFC 3986 unreserved characters left bare, sorted by name then value, joined
/// with `&`. Empty pieces between `&&` are dropped.
#[must_use]
pub fn canonical_query(raw: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| {
            (
                utf8_percent_encode(&k, QUERY_ENCODE).to_string(),
                utf8_percent_encode(&v, QUERY_ENCODE).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string to sign: seven lines joined by `\n`, no trailing newline.
#[must_use]
pub fn string_to_sign(p: &RequestParts<'_>) -> String {
    let body_hash = hex::encode(Sha256::digest(p.body));
    format!(
        "{SCHEME}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        p.key_id,
        p.timestamp,
        p.nonce,
        p.method.to_ascii_uppercase(),
        p.path,
        canonical_query(p.query),
        body_hash
    )
}

fn mac(secret: &[u8], p: &RequestParts<'_>) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign(p).as_bytes());
    mac
}

/// The lower-case hex HMAC-SHA256 of the string to sign under `secret`.
#[must_use]
pub fn sign(secret: &[u8], p: &RequestParts<'_>) -> String {
    hex::encode(mac(secret, p).finalize().into_bytes())
}

/// Checks `signature_hex` in constant time.
#[must_use]
pub fn verify(secret: &[u8], p: &RequestParts<'_>, signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    mac(secret, p).verify_slice(&sig).is_ok()
}

/// Whether a nonce has the required shape.
#[must_use]
pub fn nonce_is_well_formed(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(query: &'a str, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            key_id: "fgk_0123456789abcdef01234567",
            timestamp: 1_767_225_600,
            nonce: "n0nce-0000000001",
            method: "post",
            path: "/api/v1/users",
            query,
            body,
        }
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("q=a+b&x=%7e&y=*"), "q=a%20b&x=~&y=%2A");
        assert_eq!(
            canonical_query("email=Ann%40Example.com"),
            "email=Ann%40Example.com"
        );
        assert_eq!(canonical_query(""), "");
        // Pairs sort before joining ("a" < "a-b"), bare names get empty values, and
        // empty pieces vanish: the same as the Python snippet in docs/api-signing.md.
        assert_eq!(canonical_query("a-b=2&a=1&flag&&z="), "a=1&a-b=2&flag=&z=");
    }

    #[test]
    fn the_documented_worked_example_holds() {
        // Same values as docs/api-signing.md, computed there with Python's hmac module.
        let p = parts("b=2&a=1", br#"{"name":"x"}"#);
        assert_eq!(
            string_to_sign(&p),
            "FEDGATE-HMAC-SHA256\nfgk_0123456789abcdef01234567\n1767225600\nn0nce-0000000001\nPOST\n/api/v1/users\na=1&b=2\n\
             0229d37e33daae149bf40543a5ce1db4459d10f830d5139279aa2bfd5f6485a1"
        );
        let sig = sign(b"fgs_example-secret", &p);
        assert_eq!(
            sig,
            "9147f8914b2fbb6d43f543b010d121382b95bab0d80afbf596467223892ff691"
        );
        assert!(verify(b"fgs_example-secret", &p, &sig));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let p = parts("a=1", b"{}");
        let sig = sign(b"secret", &p);
        assert!(!verify(b"other", &p, &sig));
        assert!(!verify(
            b"secret",
            &RequestParts { body: b"{ }", ..p },
            &sig
        ));
        assert!(!verify(
            b"secret",
            &RequestParts { query: "a=2", ..p },
            &sig
        ));
        assert!(!verify(
            b"secret",
            &RequestParts {
                path: "/api/v1/user",
                ..p
            },
            &sig
        ));
        assert!(!verify(
            b"secret",
            &RequestParts { method: "PUT", ..p },
            &sig
        ));
        assert!(!verify(
            b"secret",
            &RequestParts {
                timestamp: p.timestamp + 1,
                ..p
            },
            &sig
        ));
        assert!(!verify(
            b"secret",
            &RequestParts {
                nonce: "n0nce-0000000002",
                ..p
            },
            &sig
        ));
        assert!(!verify(b"secret", &p, "zz"));
        // Query order does not matter.
        assert!(verify(b"secret", &RequestParts { query: "a=1", ..p }, &sig));
    }

    #[test]
    fn nonce_shape() {
        assert!(nonce_is_well_formed("abcdefghijklmnop"));
        assert!(!nonce_is_well_formed("short"));
        assert!(!nonce_is_well_formed("abcdefghijklmnop!"));
    }
}
