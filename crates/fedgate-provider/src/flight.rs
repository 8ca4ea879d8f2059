//! One fetch at a time per key (an issuer, a JWKS URL): concurrent callers for the
//! same key wait for the first, while a slow or unreachable provider never holds up
//! the fetches of other providers.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// Locks by key, created on first use and dropped once nobody holds or waits for them.
#[derive(Debug)]
pub(crate) struct KeyedLocks<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    /// The lock of `key`; hold its guard while fetching.
    pub(crate) fn of(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        // Locks nobody else holds a handle to are idle: forget them.
        if locks.len() > 64 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        Arc::clone(locks.entry(key.clone()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_key_waits_for_its_fetch_another_does_not() {
        let locks = KeyedLocks::<String>::default();
        let slow = locks.of(&"slow".to_owned());
        let _held = slow.lock().await;
        let same = locks.of(&"slow".to_owned());
        assert!(same.try_lock().is_err(), "the same key waits");
        let other = locks.of(&"other".to_owned());
        let got = tokio::time::timeout(Duration::from_millis(100), other.lock()).await;
        assert!(got.is_ok(), "another key does not");
    }
}
