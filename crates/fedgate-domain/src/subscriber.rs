//! Subscriber accounts.

use chrono::{DateTime, Utc};

use crate::email::Email;
use crate::ids::SubscriberId;
use crate::password::PasswordHashString;

/// A subscriber account as the rest of the system sees it.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Its id.
    pub id: SubscriberId,
    /// Sign-in email, as given at sign-up.
    pub email: Email,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A subscriber with its password hash, only for signing in.
#[derive(Debug, Clone)]
pub struct SubscriberCredentials {
    /// The account.
    pub subscriber: Subscriber,
    /// Its Argon2id hash.
    pub password_hash: PasswordHashString,
}
