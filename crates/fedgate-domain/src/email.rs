//! Email addresses.

use std::fmt;

use crate::ValidationError;

/// A syntactically plausible email address, kept as given (trimmed) and compared
/// case-insensitively through [`Email::normalized`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address: one `@`, a non-empty local part of at most 64 characters,
    /// a dotted domain, at most 254 characters in all, no whitespace or control
    /// characters.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, ValidationError> {
        let text = text.trim();
        let bad = |m: &'static str| Err(ValidationError::new(field, m));
        if text.is_empty() {
            return bad("must not be empty");
        }
        if text.len() > 254 {
            return bad("must be at most 254 characters");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("must not contain spaces or control characters");
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return bad("must be an email address like name@example.com");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return bad("must be an email address like name@example.com");
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.') || !labels_ok || ascii_domain(domain).is_none() {
            return bad("must be an email address with a domain like example.com");
        }
        Ok(Self(text.to_owned()))
    }

    /// The address as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased form used for lookups and uniqueness.
    #[must_use]
    pub fn normalized(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let domain = ascii_domain(domain).unwrap_or_else(|| domain.to_ascii_lowercase());
        format!("{}@{domain}", local.to_ascii_lowercase())
    }
}

/// The domain in its ASCII (IDNA) form, lower-case: `BÜCHER.example` and
/// `xn--bcher-kva.example` are one domain.
fn ascii_domain(domain: &str) -> Option<String> {
    match url::Host::parse(domain).ok()? {
        url::Host::Domain(d) => Some(d),
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => None,
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ascii_case_folds_and_domains_compare_in_their_idna_form() {
        let n = |t: &str| Email::parse("email", t).unwrap().normalized();
        // U+212A KELVIN SIGN lower-cases to "k" in Unicode: two addresses would merge.
        assert_ne!(n("\u{212A}im@example.com"), n("kim@example.com"));
        assert_eq!(n("Kim@Example.com"), n("kim@example.com"));
        assert_eq!(n("ann@BÜCHER.example"), "ann@xn--bcher-kva.example");
        assert_eq!(n("ann@xn--bcher-kva.example"), n("ann@bücher.example"));
        assert!(Email::parse("email", "ann@exa mple.com").is_err());
        assert!(Email::parse("email", "ann@1.2.3.4").is_err());
    }

    #[test]
    fn accepts_ordinary_addresses_and_normalizes_case() {
        let e = Email::parse("email", " Ann.Lee+x@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ann.Lee+x@Example.COM");
        assert_eq!(e.normalized(), "ann.lee+x@example.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a@.com",
            "a@b..com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} accepted");
        }
    }
}
