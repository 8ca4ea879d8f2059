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
        if !domain.contains('.') || !labels_ok {
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
        self.0.to_lowercase()
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
