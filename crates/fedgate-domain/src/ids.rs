//! Identifiers. Row ids are UUID v7 (time-ordered, index friendly); each kind of id is
//! its own type so one cannot be passed where another is expected.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::random;

/// The last version-7 id this process made, as milliseconds `<< 12 |` a sequence.
static LAST_V7: AtomicU64 = AtomicU64::new(0);

/// A fresh version-7 UUID: the Unix time in milliseconds, a 12-bit sequence, and 62
/// random bits from this thread's pool of OS randomness ([`random::bytes`]; `Uuid::now_v7`
/// made a system call for each id). Ids made by this process increase in the order they
/// are made, as `now_v7`'s did: within one millisecond the sequence counts up, and past
/// 4 096 ids it borrows the next millisecond.
#[must_use]
pub fn new_v7() -> Uuid {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() * 1000 + u64::from(d.subsec_millis()));
    let after = |last: u64| (now << 12).max(last + 1);
    let (Ok(last) | Err(last)) =
        LAST_V7.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| Some(after(l)));
    let next = after(last);
    let mut counter_random = random::bytes::<10>();
    let [high, low] = u16::try_from(next & 0xFFF).unwrap_or(0).to_be_bytes();
    counter_random[0] = high;
    counter_random[1] = low;
    uuid::Builder::from_unix_timestamp_millis(next >> 12, &counter_random).into_uuid()
}

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
                Self(new_v7())
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

uuid_id!(
    /// A federated user (federated identity): the `federatedUserId` apps see.
    FederatedUserId
);
uuid_id!(
    /// A login event.
    EventId
);
uuid_id!(
    /// A user token: its `jti`.
    TokenId
);

/// A user id: generated (a UUID) or chosen by the app within the documented syntax,
/// 1 to 64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
/// Unique within its application.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// A fresh, time-ordered id.
    #[must_use]
    pub fn generate() -> Self {
        Self(new_v7().to_string())
    }

    /// Parses an id in the documented syntax.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let ok = (1..=64).contains(&text.len())
            && text.as_bytes()[0].is_ascii_alphanumeric()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| Self(text.to_owned()))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({})", self.0)
    }
}

impl TryFrom<String> for UserId {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or(InvalidId)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

/// Text that is not a valid id of the expected kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_7_ids_increase_in_the_order_they_are_made_and_carry_the_time() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        // Far more than one millisecond's 4 096 sequence numbers, on several threads.
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..20_000).map(|_| new_v7()).collect::<Vec<_>>()))
            .collect();
        let mut all = Vec::new();
        for t in threads {
            let ids = t.join().unwrap();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "each thread's ids increase"
            );
            all.extend(ids);
        }
        let made = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), made, "no id repeats");
        for id in [all[0], all[made - 1]] {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
            let millis = u128::from(secs) * 1000 + u128::from(nanos / 1_000_000);
            // Borrowing milliseconds runs ahead of the clock by at most the ids made.
            assert!(
                millis >= before && millis < before + 60_000,
                "{millis} vs {before}"
            );
        }
        assert_eq!(random::uuid().get_version_num(), 4);
        assert_ne!(random::uuid(), random::uuid());
    }

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

    #[test]
    fn user_ids_follow_the_documented_syntax() {
        for ok in ["u1", "alice.smith", "A-b_c.9", &"x".repeat(64)] {
            assert!(UserId::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "-lead",
            ".lead",
            "has space",
            "ümlaut",
            "a/b",
            &"x".repeat(65),
        ] {
            assert!(UserId::parse(bad).is_none(), "{bad}");
        }
        assert!(UserId::parse(UserId::generate().as_str()).is_some());
    }
}
