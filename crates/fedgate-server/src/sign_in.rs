//! Subscriber sign-in, hardened against guessing and against exhausting the machine:
//!
//! - every attempt is counted **before** the password is checked (increment, then
//!   compare), so a burst of parallel requests cannot all pass the throttle;
//! - failures are counted per (account, address): after a few, that pair waits longer
//!   and longer — an attacker failing from one address never stops the owner signing
//!   in from another;
//! - a per-account ceiling of consecutive failures a day slows guessing spread over
//!   many addresses, while an address that has not failed may still try the correct
//!   password;
//! - a per-address ceiling across accounts stops one client from spraying;
//! - Argon2 runs on a bounded number of threads with a short queue; beyond it the
//!   answer is 503 with `Retry-After`, never unbounded memory;
//! - a stored hash made with older Argon2 parameters is replaced at the next
//!   successful sign-in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fedgate_domain::email::Email;
use fedgate_domain::password::{self, PasswordHashString};
use fedgate_domain::ports::StateStore;
use fedgate_domain::subscriber::Subscriber;
use fedgate_wire::error::ErrorCode;
use secrecy::SecretString;

use crate::config::Limits;
use crate::error::ApiError;
use crate::state::AppState;

type Job = Box<dyn FnOnce() + Send>;

/// Password hashing on a fixed set of threads of its own, with a short queue.
///
/// Its own threads, not a blocking pool: Argon2 takes 19 MiB per hash, and the
/// allocator keeps what a thread freed for that thread — on a pool of hundreds of
/// threads the process would keep 19 MiB per thread that ever hashed.
#[derive(Debug)]
pub struct Hashing {
    jobs: std::sync::mpsc::Sender<Job>,
    /// Hashes running or waiting.
    in_flight: AtomicUsize,
    /// Most running plus waiting.
    capacity: usize,
}

impl Hashing {
    /// `parallel` threads hashing, `queue` more hashes waiting.
    #[must_use]
    pub fn new(parallel: usize, queue: usize) -> Self {
        let parallel = parallel.max(1);
        let (jobs, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for i in 0..parallel {
            let receiver = std::sync::Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("fedgate-hash-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only to take a job; the sender's drop ends
                        // every thread.
                        let job = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking job fails its own request, not the thread.
                            Ok(job) => {
                                let _ignored =
                                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        Self {
            jobs,
            in_flight: AtomicUsize::new(0),
            capacity: parallel + queue,
        }
    }

    /// Sized from the machine: one hashing thread per core (each hash needs 19 MiB),
    /// twice as many waiting.
    #[must_use]
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::new(cores, 2 * cores)
    }

    /// Runs `work` (a password hash or check) on a hashing thread; 503 when too many
    /// are running and waiting already.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        struct Slot<'a>(&'a AtomicUsize);
        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::busy(
                "too many sign-ins are being checked right now; try again in a moment",
                1,
            ));
        }
        let _slot = Slot(&self.in_flight);
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ignored = done.send(work());
            }))
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the hashing threads stopped")))?;
        result
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a hashing thread failed")))
    }
}

/// The counters of one sign-in attempt.
struct Attempt<'a> {
    state: &'a dyn StateStore,
    limits: &'a Limits,
    account: String,
    pair: String,
    address: String,
}

const DAY: Duration = Duration::from_secs(24 * 3600);

impl Attempt<'_> {
    fn key(kind: &str, subject: &str) -> String {
        crate::throttle::key(kind, subject)
    }

    /// Counts the attempt, then refuses it when a limit is passed.
    async fn admit(&self) -> Result<(), ApiError> {
        let window = Duration::from_secs(self.limits.signin_window_seconds);
        let state = self.state;
        // One client spraying many accounts.
        let by_address = state
            .increment(&Self::key("signin-address", &self.address), window)
            .await?;
        if by_address > self.limits.signin_failures_per_address {
            return Err(ApiError::too_many(
                "signin-address",
                "too many sign-in attempts from this address; wait and try again",
                window.as_secs(),
            ));
        }
        // This account from this address: a few attempts, then one more after each
        // wait, the wait doubling with every failure (set below on failure). Counting
        // first means parallel requests cannot slip past together.
        if let Some(wait) = state
            .get(&Self::key("signin-pair-wait", &self.pair))
            .await?
        {
            let secs = String::from_utf8_lossy(&wait).parse().unwrap_or(1);
            return Err(ApiError::too_many(
                "signin-pair",
                "too many failed sign-ins for this account from this address; wait and try again",
                secs,
            ));
        }
        let by_pair = state
            .increment(&Self::key("signin-pair", &self.pair), window)
            .await?;
        if by_pair > self.allowed().await? {
            return Err(ApiError::too_many(
                "signin-pair",
                "too many failed sign-ins for this account from this address; wait and try again",
                1,
            ));
        }
        // Guessing spread over many addresses: past the daily ceiling, only an address
        // that has not failed for this account may still try.
        let by_account = state
            .increment(&Self::key("signin-account-day", &self.account), DAY)
            .await?;
        if by_account > self.limits.signin_failures_per_account_per_day && by_pair > 1 {
            return Err(ApiError::too_many(
                "signin-account-day",
                "too many failed sign-ins for this account today; try from a device you have signed in from, or later",
                window.as_secs(),
            ));
        }
        Ok(())
    }

    /// How many attempts this pair may have made by now.
    async fn allowed(&self) -> Result<u64, ApiError> {
        let key = Self::key("signin-pair-allowed", &self.pair);
        Ok(crate::throttle::count(self.state, &key)
            .await?
            .unwrap_or(self.limits.signin_failures_per_account))
    }

    /// A failed password. Past the free attempts this pair waits 2, 4, 8 … seconds
    /// (at most the window), after which exactly one more attempt is allowed.
    async fn failed(&self) -> Result<(), ApiError> {
        let window = Duration::from_secs(self.limits.signin_window_seconds.max(1));
        let made = crate::throttle::count(self.state, &Self::key("signin-pair", &self.pair))
            .await?
            .unwrap_or(0);
        let allowed = self.allowed().await?;
        if made >= allowed {
            let free = self.limits.signin_failures_per_account;
            let exponent = u32::try_from(made.saturating_sub(free) + 1)
                .unwrap_or(u32::MAX)
                .min(30);
            let wait = 1u64
                .checked_shl(exponent)
                .unwrap_or(u64::MAX)
                .min(window.as_secs());
            self.state
                .put(
                    &Self::key("signin-pair-wait", &self.pair),
                    wait.to_string().as_bytes(),
                    Duration::from_secs(wait),
                )
                .await?;
            self.state
                .put(
                    &Self::key("signin-pair-allowed", &self.pair),
                    (made + 1).to_string().as_bytes(),
                    window,
                )
                .await?;
        }
        Ok(())
    }

    /// A correct password: this pair and the account's run of failures start over.
    async fn succeeded(&self) -> Result<(), ApiError> {
        for key in [
            Self::key("signin-pair", &self.pair),
            Self::key("signin-pair-wait", &self.pair),
            Self::key("signin-pair-allowed", &self.pair),
            Self::key("signin-account-day", &self.account),
        ] {
            self.state.delete(&key).await?;
        }
        Ok(())
    }
}

/// Checks `password` for `email` from `address`: the subscriber, or why not.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    address: &str,
) -> Result<Subscriber, ApiError> {
    let invalid = || {
        ApiError::unauthorized(
            ErrorCode::InvalidCredentials,
            "the email or password is wrong",
        )
    };
    let Ok(email) = Email::parse("email", email) else {
        return Err(invalid());
    };
    let account = email.normalized();
    let attempt = Attempt {
        state: state.state.as_ref(),
        limits: &state.settings.limits,
        pair: format!("{account}|{address}"),
        account,
        address: address.to_owned(),
    };
    attempt.admit().await?;

    let found = state.store.find_subscriber_by_email(&email).await?;
    let stored = found
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |c| c.password_hash.clone());
    let candidate = SecretString::from(password);
    let (matches, upgraded) = {
        let candidate = candidate.clone();
        state
            .hashing
            .run(move || {
                let matches = password::verify(&candidate, &stored);
                let upgraded: Option<PasswordHashString> = (matches
                    && password::needs_rehash(&stored))
                .then(|| password::rehash(&candidate).ok())
                .flatten();
                (matches, upgraded)
            })
            .await?
    };
    match found {
        Some(creds) if matches => {
            attempt.succeeded().await?;
            if let Some(hash) = upgraded {
                state
                    .store
                    .update_password_hash(creds.subscriber.id, &hash)
                    .await?;
                tracing::info!(subscriber_id = %creds.subscriber.id, "password hash upgraded to the current parameters");
            }
            Ok(creds.subscriber)
        }
        _ => {
            attempt.failed().await?;
            Err(invalid())
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;

    use super::*;

    #[tokio::test]
    async fn hashing_beyond_its_threads_and_queue_is_refused_busy() {
        let hashing = std::sync::Arc::new(Hashing::new(1, 1));
        let slow = || std::thread::sleep(Duration::from_millis(300));
        let (a, b) = (hashing.clone(), hashing.clone());
        let running = tokio::spawn(async move { a.run(slow).await });
        let waiting = tokio::spawn(async move { b.run(slow).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = hashing.run(|| ()).await.unwrap_err();
        assert_eq!(
            refused.status_code(),
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(running.await.unwrap().is_ok() && waiting.await.unwrap().is_ok());
        // Room again once they finished.
        assert!(hashing.run(|| ()).await.is_ok());
    }
}
