//! Users of an application and their locators (email addresses, phone numbers).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::email::Email;
use crate::ids::{ApplicationId, UserId};

/// What a locator locates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocatorKind {
    /// An email address.
    Email,
    /// A phone number in E.164 form.
    Phone,
}

impl LocatorKind {
    /// The stored and wire spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "phone" => Some(Self::Phone),
            _ => None,
        }
    }
}

/// A locator: kind, value as given, and the normalized value used for uniqueness
/// (emails lower-cased, phone numbers as `+` and digits).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Locator {
    kind: LocatorKind,
    value: String,
    normalized: String,
}

impl Locator {
    /// An email locator.
    #[must_use]
    pub fn email(email: &Email) -> Self {
        Self {
            kind: LocatorKind::Email,
            value: email.as_str().to_owned(),
            normalized: email.normalized(),
        }
    }

    /// Parses a value of the given kind.
    pub fn parse(
        kind: LocatorKind,
        field: &'static str,
        text: &str,
    ) -> Result<Self, ValidationError> {
        match kind {
            LocatorKind::Email => Email::parse(field, text).map(|e| Self::email(&e)),
            LocatorKind::Phone => {
                let t = text.trim();
                let digits = t.strip_prefix('+').unwrap_or("");
                if !(8..=15).contains(&digits.len())
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || digits.starts_with('0')
                {
                    return Err(ValidationError::new(
                        field,
                        "must be a phone number in E.164 form, like +14155550123",
                    ));
                }
                Ok(Self {
                    kind,
                    value: t.to_owned(),
                    normalized: t.to_owned(),
                })
            }
        }
    }

    /// Parses `kind:value`, e.g. `email:a@example.com` or `phone:+14155550123`.
    pub fn parse_prefixed(field: &'static str, text: &str) -> Result<Self, ValidationError> {
        let (kind, value) = text.split_once(':').ok_or_else(|| {
            ValidationError::new(
                field,
                "must look like email:name@example.com or phone:+14155550123",
            )
        })?;
        let kind = LocatorKind::parse(kind).ok_or_else(|| {
            ValidationError::new(field, "the locator kind must be email or phone")
        })?;
        Self::parse(kind, field, value)
    }

    /// Rebuilds a locator read from storage.
    #[must_use]
    pub fn from_stored(kind: LocatorKind, value: String, normalized: String) -> Self {
        Self {
            kind,
            value,
            normalized,
        }
    }

    /// Its kind.
    #[must_use]
    pub const fn kind(&self) -> LocatorKind {
        self.kind
    }

    /// The value as given.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The normalized value.
    #[must_use]
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Debug for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// A user's locator with its verification status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLocator {
    /// The locator.
    pub locator: Locator,
    /// Whether the app (or a trusted provider) verified that the user controls it.
    pub verified: bool,
}

/// A user of an application.
#[derive(Debug, Clone)]
pub struct User {
    /// Its id, unique within the application.
    pub id: UserId,
    /// The owning application.
    pub application_id: ApplicationId,
    /// Display name.
    pub screen_name: Option<String>,
    /// Email addresses and phone numbers.
    pub locators: Vec<UserLocator>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_normalize_and_validate() {
        let e = Locator::parse_prefixed("q", "email:Ann@Example.COM").unwrap();
        assert_eq!(
            (e.kind(), e.value(), e.normalized()),
            (LocatorKind::Email, "Ann@Example.COM", "ann@example.com")
        );
        let p = Locator::parse_prefixed("q", "phone:+14155550123").unwrap();
        assert_eq!(p.normalized(), "+14155550123");
        for bad in [
            "email:nope",
            "phone:4155550123",
            "phone:+0123456789",
            "fax:+14155550123",
            "plain",
        ] {
            assert!(Locator::parse_prefixed("q", bad).is_err(), "{bad}");
        }
    }
}
