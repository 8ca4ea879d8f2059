//! The app's OAuth redirect URI: where Fedgate sends the browser back.

use std::fmt;

use url::{Host, Url};

use crate::ValidationError;

/// Longest redirect URI accepted.
pub const MAX_LEN: usize = 2048;

/// A registered redirect URI: absolute, `https` (or `http` on a loopback host), no
/// fragment, no wildcard, no user information. The exact string is kept, because
/// matching at login time is exact string comparison (RFC 9700 §4.1.3).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Validates `text` as a redirect URI.
    pub fn parse(
        field: impl Into<std::borrow::Cow<'static, str>>,
        text: &str,
    ) -> Result<Self, ValidationError> {
        let field = field.into();
        let bad = |m: &'static str| Err(ValidationError::new(field.clone(), m));
        if text.is_empty() {
            return bad("must not be empty");
        }
        if text.len() > MAX_LEN {
            return bad("must be at most 2048 characters");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("must not contain spaces or control characters");
        }
        if text.contains('#') {
            return bad("must not contain a fragment (#...)");
        }
        if text.contains('*') {
            return bad("must not contain wildcards (*); register every URI exactly");
        }
        let Ok(url) = Url::parse(text) else {
            return bad("must be an absolute URI such as https://app.example.com/callback");
        };
        if !url.username().is_empty() || url.password().is_some() {
            return bad("must not contain user information (user:password@)");
        }
        let loopback = match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return bad("must name a host"),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return bad(
                    "must use https (http is allowed only for localhost, 127.0.0.1 or [::1])",
                );
            }
            _ => {
                return bad(
                    "must use https (http is allowed only for localhost, 127.0.0.1 or [::1])",
                );
            }
        }
        Ok(Self(text.to_owned()))
    }

    /// The exact registered string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUri({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http_exactly_as_given() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "https://APP.example.com/Callback/",
        ] {
            assert_eq!(RedirectUri::parse("u", ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_every_unsafe_shape_with_a_reason() {
        for (bad, why) in [
            ("/callback", "absolute"),
            ("app.example.com/cb", "absolute"),
            ("http://app.example.com/cb", "https"),
            ("ftp://app.example.com/cb", "https"),
            ("javascript:alert(1)", "host"),
            ("https://app.example.com/cb#frag", "fragment"),
            ("https://*.example.com/cb", "wildcard"),
            ("https://app.example.com/*", "wildcard"),
            ("https://user:pw@app.example.com/cb", "user information"),
            ("https://app.example.com/a b", "spaces"),
            (" https://app.example.com/cb", "spaces"),
            ("", "empty"),
        ] {
            let err = RedirectUri::parse("redirectUris[0]", bad).unwrap_err();
            assert!(err.message.contains(why), "{bad:?}: {}", err.message);
            assert_eq!(err.field, "redirectUris[0]");
        }
        assert!(
            RedirectUri::parse("u", &format!("https://a.example.com/{}", "x".repeat(2048)))
                .is_err()
        );
    }
}
