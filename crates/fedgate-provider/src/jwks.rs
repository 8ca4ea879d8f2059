//! A cache of providers' JWKS, honouring Cache-Control, with at most one refetch per
//! interval when a token names an unknown key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::{Mutex, RwLock};
use url::Url;

/// Used when the provider sends no max-age.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// Never trust a JWKS longer than this.
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// By default an unknown `kid` triggers a refetch at most this often per JWKS URL.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Entry {
    keys: JwkSet,
    fetched: Instant,
    expires: Instant,
}

/// Why a key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The JWKS could not be fetched or parsed.
    #[error("cannot fetch the provider's keys: {0}")]
    Fetch(String),
    /// No key with this `kid`, even after a refetch.
    #[error("no provider key with this kid")]
    UnknownKid,
}

/// Cached key sets by JWKS URL.
#[derive(Debug)]
pub struct JwksCache {
    entries: RwLock<HashMap<Url, Arc<Entry>>>,
    fetching: Mutex<()>,
    refetch_interval: Duration,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new(UNKNOWN_KID_REFETCH_INTERVAL)
    }
}

fn max_age(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|d| {
                d.trim()
                    .strip_prefix("max-age=")
                    .and_then(|n| n.trim().parse::<u64>().ok())
            })
        })
        .map_or(DEFAULT_MAX_AGE, |s| Duration::from_secs(s).min(MAX_MAX_AGE))
}

impl JwksCache {
    /// An empty cache that refetches a key set for an unknown `kid` at most once per
    /// `refetch_interval` (a provider rotating its keys is picked up; a flood of
    /// tokens with made-up `kid`s is not amplified into requests to the provider).
    #[must_use]
    pub fn new(refetch_interval: Duration) -> Self {
        Self {
            entries: RwLock::default(),
            fetching: Mutex::default(),
            refetch_interval,
        }
    }

    async fn fetch(&self, http: &reqwest::Client, url: &Url) -> Result<Arc<Entry>, JwksError> {
        let res = http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| JwksError::Fetch(e.to_string()))?;
        if !res.status().is_success() {
            return Err(JwksError::Fetch(format!("HTTP {}", res.status())));
        }
        let age = max_age(res.headers());
        let keys: JwkSet = res
            .json()
            .await
            .map_err(|e| JwksError::Fetch(e.to_string()))?;
        let now = Instant::now();
        let entry = Arc::new(Entry {
            keys,
            fetched: now,
            expires: now + age,
        });
        self.entries
            .write()
            .await
            .insert(url.clone(), Arc::clone(&entry));
        tracing::debug!(jwks = %url, max_age_s = age.as_secs(), "fetched provider keys");
        Ok(entry)
    }

    /// The key `kid` from the JWKS at `url`: from cache while fresh, fetched when
    /// stale, refetched once (rate-limited) when the cached set lacks `kid`.
    pub async fn key(
        &self,
        http: &reqwest::Client,
        url: &Url,
        kid: &str,
    ) -> Result<Jwk, JwksError> {
        let cached = self.entries.read().await.get(url).cloned();
        let entry = match cached {
            Some(e) if e.expires > Instant::now() => e,
            _ => {
                let _single_flight = self.fetching.lock().await;
                // Another task may have refreshed it while this one waited. (Bind the
                // lookup first: a read guard alive in the match would deadlock fetch.)
                let refreshed = self.entries.read().await.get(url).cloned();
                match refreshed {
                    Some(e) if e.expires > Instant::now() => e,
                    _ => self.fetch(http, url).await?,
                }
            }
        };
        if let Some(k) = entry.keys.find(kid) {
            return Ok(k.clone());
        }
        let _single_flight = self.fetching.lock().await;
        let current = self.entries.read().await.get(url).cloned().unwrap_or(entry);
        if let Some(k) = current.keys.find(kid) {
            return Ok(k.clone());
        }
        if current.fetched.elapsed() < self.refetch_interval {
            return Err(JwksError::UnknownKid);
        }
        let refreshed = self.fetch(http, url).await?;
        refreshed
            .keys
            .find(kid)
            .cloned()
            .ok_or(JwksError::UnknownKid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_and_bounded() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(max_age(&h), DEFAULT_MAX_AGE);
        h.insert(
            reqwest::header::CACHE_CONTROL,
            "public, max-age=19684, must-revalidate".parse().unwrap(),
        );
        assert_eq!(max_age(&h), Duration::from_secs(19684));
        h.insert(
            reqwest::header::CACHE_CONTROL,
            "max-age=99999999".parse().unwrap(),
        );
        assert_eq!(max_age(&h), MAX_MAX_AGE);
    }
}
