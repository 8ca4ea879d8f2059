//! A cache of providers' JWKS, honouring Cache-Control, with at most one refetch per
//! interval when a token names an unknown key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::RwLock;
use url::Url;

use crate::observe::CallResult;

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

/// Largest JWKS read.
const MAX_JWKS_BYTES: usize = 512 * 1024;

/// Why a key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The JWKS could not be fetched or parsed.
    #[error("cannot fetch the provider's keys: {0}")]
    Fetch(String),
    /// No key with this `kid` (or, without `kid`, none usable), even after a refetch.
    #[error("no provider key with this kid")]
    UnknownKid,
    /// No `kid`, and several keys would fit: Fedgate never tries keys one by one.
    #[error("the token names no key and several of the provider's keys would fit")]
    Ambiguous,
}

/// Whether `key` may verify a signature made with `alg`: its type fits, its `use` (if
/// any) is `sig`, and its `alg` (if any) is `alg`.
fn usable_for(key: &Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, PublicKeyUse};
    let fits = match (&key.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
            ec.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA) => true,
        _ => false,
    };
    let use_ok = matches!(
        key.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let alg_ok = key
        .common
        .key_algorithm
        .is_none_or(|a| format!("{a:?}") == format!("{alg:?}"));
    fits && use_ok && alg_ok
}

/// The key a token names by `kid`, or — without `kid` — the one key usable for `alg`.
fn pick(keys: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Result<Jwk, JwksError> {
    match kid {
        Some(kid) => keys.find(kid).cloned().ok_or(JwksError::UnknownKid),
        None => {
            let mut usable = keys.keys.iter().filter(|k| usable_for(k, alg));
            match (usable.next(), usable.next()) {
                (Some(only), None) => Ok(only.clone()),
                (None, _) => Err(JwksError::UnknownKid),
                (Some(_), Some(_)) => Err(JwksError::Ambiguous),
            }
        }
    }
}

/// Cached key sets by JWKS URL.
#[derive(Debug)]
pub struct JwksCache {
    entries: RwLock<HashMap<Url, Arc<Entry>>>,
    /// One fetch at a time per JWKS URL.
    fetching: crate::flight::KeyedLocks<Url>,
    refetch_interval: Duration,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new(UNKNOWN_KID_REFETCH_INTERVAL)
    }
}

pub(crate) fn max_age(headers: &reqwest::header::HeaderMap) -> Duration {
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

/// Told how each key-set fetch went (seconds taken, result).
pub(crate) type Observe<'a> = dyn Fn(f64, CallResult) + Send + Sync + 'a;

impl JwksCache {
    /// An empty cache that refetches a key set for an unknown `kid` at most once per
    /// `refetch_interval` (a provider rotating its keys is picked up; a flood of
    /// tokens with made-up `kid`s is not amplified into requests to the provider).
    #[must_use]
    pub fn new(refetch_interval: Duration) -> Self {
        Self {
            entries: RwLock::default(),
            fetching: crate::flight::KeyedLocks::default(),
            refetch_interval,
        }
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        url: &Url,
        observe: &Observe<'_>,
    ) -> Result<Arc<Entry>, JwksError> {
        let started = Instant::now();
        let end = |result: CallResult| observe(started.elapsed().as_secs_f64(), result);
        let res = http.get(url.clone()).send().await.map_err(|e| {
            end(CallResult::of(&e));
            JwksError::Fetch(crate::client::describe(&e))
        })?;
        if !res.status().is_success() {
            end(CallResult::HttpStatus);
            return Err(JwksError::Fetch(format!("HTTP {}", res.status())));
        }
        let age = max_age(res.headers());
        let keys = crate::net::read_capped(res, MAX_JWKS_BYTES)
            .await
            .and_then(|body| {
                serde_json::from_slice::<JwkSet>(&body)
                    .map_err(|e| format!("the JWKS is not valid: {e}"))
            });
        end(if keys.is_ok() {
            CallResult::Ok
        } else {
            CallResult::BadResponse
        });
        let keys = keys.map_err(JwksError::Fetch)?;
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

    /// The key `kid` (or, without `kid`, the one key usable for `alg`) from the JWKS at
    /// `url`: from cache while fresh, fetched when stale, refetched once (rate-limited)
    /// when the cached set has no such key.
    pub async fn key(
        &self,
        http: &reqwest::Client,
        url: &Url,
        kid: Option<&str>,
        alg: Algorithm,
        observe: &Observe<'_>,
    ) -> Result<Jwk, JwksError> {
        let cached = self.entries.read().await.get(url).cloned();
        let entry = match cached {
            Some(e) if e.expires > Instant::now() => e,
            _ => {
                let turn = self.fetching.of(url);
                let _single_flight = turn.lock().await;
                // Another task may have refreshed it while this one waited. (Bind the
                // lookup first: a read guard alive in the match would deadlock fetch.)
                let refreshed = self.entries.read().await.get(url).cloned();
                match refreshed {
                    Some(e) if e.expires > Instant::now() => e,
                    _ => self.fetch(http, url, observe).await?,
                }
            }
        };
        match pick(&entry.keys, kid, alg) {
            Err(JwksError::UnknownKid) => {}
            found => return found,
        }
        let turn = self.fetching.of(url);
        let _single_flight = turn.lock().await;
        let current = self.entries.read().await.get(url).cloned().unwrap_or(entry);
        match pick(&current.keys, kid, alg) {
            Err(JwksError::UnknownKid) => {}
            found => return found,
        }
        if current.fetched.elapsed() < self.refetch_interval {
            return Err(JwksError::UnknownKid);
        }
        let refreshed = self.fetch(http, url, observe).await?;
        pick(&refreshed.keys, kid, alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keys: serde_json::Value) -> JwkSet {
        serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn without_kid_exactly_one_usable_key_is_taken() {
        let rsa = |kid: &str| serde_json::json!({"kty":"RSA","kid":kid,"n":"sXch","e":"AQAB"});
        let ec = serde_json::json!({"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let enc = serde_json::json!({"kty":"RSA","kid":"x","use":"enc","n":"sXch","e":"AQAB"});
        let one = set(serde_json::json!([rsa("a"), ec, enc]));
        assert_eq!(
            pick(&one, None, Algorithm::RS256)
                .unwrap()
                .common
                .key_id
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            pick(&one, None, Algorithm::ES256)
                .unwrap()
                .common
                .key_id
                .as_deref(),
            Some("e")
        );
        let two = set(serde_json::json!([rsa("a"), rsa("b")]));
        assert!(matches!(
            pick(&two, None, Algorithm::RS256),
            Err(JwksError::Ambiguous)
        ));
        assert!(pick(&two, Some("b"), Algorithm::RS256).is_ok());
        assert!(matches!(
            pick(&two, None, Algorithm::EdDSA),
            Err(JwksError::UnknownKid)
        ));
        let pinned = set(serde_json::json!([
            {"kty":"RSA","kid":"a","alg":"RS512","n":"sXch","e":"AQAB"},
            rsa("b")
        ]));
        assert_eq!(
            pick(&pinned, None, Algorithm::RS256)
                .unwrap()
                .common
                .key_id
                .as_deref(),
            Some("b")
        );
    }

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
