//! Identifiers. Row ids are UUID v7 (time-ordered, index friendly); each kind of id is
//! its own type so one cannot be passed where another is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            #[must_use]
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an id read back from storage.
            #[must_use]
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// Parses the hyphenated text form; anything else is rejected.
            pub fn parse(text: &str) -> Option<Self> {
                // Only the canonical hyphenated form, so one id has one spelling.
                if text.len() != 36 {
                    return None;
                }
                Uuid::try_parse(text).ok().map(Self)
            }

            /// The underlying UUID, for storage.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or(InvalidId)
            }
        }
    };
}

uuid_id!(
    /// A subscriber account (a company using Fedgate).
    SubscriberId
);
uuid_id!(
    /// An application: the tenant boundary.
    ApplicationId
);
uuid_id!(
    /// A property (typed configuration) of an application.
    PropertyId
);

/// Text that is not a valid id of the expected kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_reject_other_spellings() {
        let id = ApplicationId::generate();
        assert_eq!(ApplicationId::parse(&id.to_string()), Some(id));
        assert_eq!(
            ApplicationId::parse(&id.as_uuid().simple().to_string()),
            None
        );
        assert_eq!(ApplicationId::parse("not-an-id"), None);
    }
}
