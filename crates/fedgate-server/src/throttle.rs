//! Counters in the state store that turn repeated failures into 429s.

use std::time::Duration;

use fedgate_domain::ports::{Charge, StateStore};

use crate::error::ApiError;

/// The state-store key of the counter `name` for `subject`.
#[must_use]
pub fn key(name: &str, subject: &str) -> String {
    format!("throttle:{name}:{subject}")
}

/// The number stored under `key`, if any.
pub async fn count(state: &dyn StateStore, key: &str) -> Result<Option<u64>, ApiError> {
    Ok(state
        .get(key)
        .await?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.parse::<u64>().ok()))
}

/// A named limit: at most `limit` events per `window` per key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Key namespace, e.g. `signin-account`.
    pub name: &'static str,
    /// Events allowed per window.
    pub limit: u64,
    /// Window length.
    pub window: Duration,
}

impl Limit {
    /// At most `limit` events a minute per key.
    #[must_use]
    pub const fn per_minute(name: &'static str, limit: u64) -> Self {
        Self {
            name,
            limit,
            window: Duration::from_secs(60),
        }
    }

    fn key(&self, subject: &str) -> String {
        key(self.name, subject)
    }

    /// Refuses with 429 when `subject` has used up the limit (does not count).
    pub async fn check(&self, state: &dyn StateStore, subject: &str) -> Result<(), ApiError> {
        let used = count(state, &self.key(subject)).await?.unwrap_or(0);
        if used >= self.limit {
            return Err(ApiError::too_many(
                self.name,
                "too many attempts; wait and try again",
                self.window.as_secs(),
            ));
        }
        Ok(())
    }

    /// Counts one event for `subject`.
    pub async fn record(&self, state: &dyn StateStore, subject: &str) -> Result<u64, ApiError> {
        Ok(state.increment(&self.key(subject), self.window).await?)
    }

    /// One event of `subject`, for a state store to count ([`StateStore::charge`]).
    #[must_use]
    pub fn charge(&self, subject: &str) -> Charge {
        Charge {
            key: self.key(subject),
            window: self.window,
            limit: self.limit,
        }
    }

    /// The 429 of a request past this limit.
    #[must_use]
    pub fn refused(&self) -> ApiError {
        ApiError::too_many(
            self.name,
            "too many requests; wait and try again",
            self.window.as_secs(),
        )
    }

    /// Counts one event and refuses with 429 once the limit is passed.
    pub async fn hit(&self, state: &dyn StateStore, subject: &str) -> Result<(), ApiError> {
        match state
            .charge(std::slice::from_ref(&self.charge(subject)))
            .await?
        {
            Some(_) => Err(self.refused()),
            None => Ok(()),
        }
    }

    /// Forgets `subject`'s count.
    pub async fn reset(&self, state: &dyn StateStore, subject: &str) -> Result<(), ApiError> {
        Ok(state.delete(&self.key(subject)).await?)
    }
}
