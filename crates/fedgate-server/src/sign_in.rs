//! Subscriber sign-in, hardened against guessing and against exhausting the machine:
//!
//! - every attempt is counted **before** the password is checked (increment, then
//!   compare), so a burst of parallel requests cannot all pass the throttle;
//! - attempts are counted per (account, address): after a few, that pair gets one
//!   attempt at a time, each after a wait that doubles with every failure (a single
//!   turn, taken atomically, so a burst of parallel requests gets one check) — an
//!   attacker failing from one address never stops the owner signing in from another;
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

use fedgate_domain::clock::Clock;
use fedgate_domain::email::Email;
use fedgate_domain::password::{self, PasswordHashString};
use fedgate_domain::ports::StateStore;
use fedgate_domain::subscriber::{Subscriber, SubscriberCredentials};
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
    clock: &'a dyn Clock,
    limits: &'a Limits,
    account: String,
    pair: String,
    address: String,
}

/// How an attempt was let through to the password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admitted {
    /// As one of the pair's free attempts.
    Free,
    /// Past them, on the pair's turn, which this attempt holds until its password is
    /// checked.
    Turn,
}

const DAY: Duration = Duration::from_secs(24 * 3600);

impl Attempt<'_> {
    fn key(kind: &str, subject: &str) -> String {
        crate::throttle::key(kind, subject)
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.limits.signin_window_seconds.max(1))
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// Counts the attempt, then refuses it when a limit is passed.
    async fn admit(&self) -> Result<Admitted, ApiError> {
        let window = self.window();
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
        // This account from this address: a few free attempts, counted before the
        // check so that parallel requests cannot slip past together; past them one
        // attempt at a time, on the pair's turn, which a failure gives out again after
        // a wait that doubles with every failure.
        let by_pair = state
            .increment(&Self::key("signin-pair", &self.pair), window)
            .await?;
        let admitted = if by_pair <= self.limits.signin_failures_per_account {
            Admitted::Free
        } else {
            self.take_turn().await?;
            Admitted::Turn
        };
        // Guessing spread over many addresses: past the daily ceiling, only an address
        // that has not failed for this account may still try.
        let by_account = state
            .increment(&Self::key("signin-account-day", &self.account), DAY)
            .await?;
        if by_account > self.limits.signin_failures_per_account_per_day && by_pair > 1 {
            if admitted == Admitted::Turn {
                self.put_turn(self.now_ms()).await?;
            }
            return Err(ApiError::too_many(
                "signin-account-day",
                "too many failed sign-ins for this account today; try from a device you have signed in from, or later",
                window.as_secs(),
            ));
        }
        Ok(admitted)
    }

    fn turn_key(&self) -> String {
        Self::key("signin-pair-turn", &self.pair)
    }

    /// The time (ms since the epoch) from which a stored turn may be taken.
    fn due(value: Option<Vec<u8>>) -> Option<i64> {
        value
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|s| s.parse().ok())
    }

    /// Gives out the pair's turn, to be taken from `due` on.
    async fn put_turn(&self, due: i64) -> Result<(), ApiError> {
        self.state
            .put(&self.turn_key(), due.to_string().as_bytes(), self.window())
            .await?;
        Ok(())
    }

    /// 429 until `due`; a second when no turn is out (an attempt is being checked).
    fn wait_until(&self, due: Option<i64>) -> ApiError {
        let left = due.map_or(0, |due| due.saturating_sub(self.now_ms()));
        let secs = u64::try_from(left.saturating_add(999) / 1000)
            .unwrap_or(1)
            .max(1);
        ApiError::too_many(
            "signin-pair",
            "too many failed sign-ins for this account from this address; wait and try again",
            secs,
        )
    }

    /// Takes the pair's turn if it is due; of parallel attempts, one gets it.
    async fn take_turn(&self) -> Result<(), ApiError> {
        let key = self.turn_key();
        // Read first: a refusal while the pair waits writes nothing.
        match Self::due(self.state.get(&key).await?) {
            Some(due) if due <= self.now_ms() => {}
            other => return Err(self.wait_until(other)),
        }
        match Self::due(self.state.take(&key).await?) {
            Some(due) if due <= self.now_ms() => Ok(()),
            // Given out anew between the read and the take: not due yet, so back.
            Some(due) => {
                self.put_turn(due).await?;
                Err(self.wait_until(Some(due)))
            }
            None => Err(self.wait_until(None)),
        }
    }

    /// A wrong password. From the last free attempt's failure on, and after every
    /// failure on a turn, the pair gets one more turn after 2, 4, 8 … seconds (at most
    /// the window).
    async fn failed(&self, admitted: Admitted) -> Result<(), ApiError> {
        let window = self.window();
        let failures = self
            .state
            .increment(&Self::key("signin-pair-failed", &self.pair), window)
            .await?;
        let free = self.limits.signin_failures_per_account;
        if admitted == Admitted::Turn || failures >= free {
            let exponent = u32::try_from(failures.max(free) - free + 1)
                .unwrap_or(u32::MAX)
                .min(30);
            let wait = 1u64
                .checked_shl(exponent)
                .unwrap_or(u64::MAX)
                .min(window.as_secs());
            let wait_ms = i64::try_from(wait.saturating_mul(1000)).unwrap_or(i64::MAX);
            self.put_turn(self.now_ms().saturating_add(wait_ms)).await?;
        }
        Ok(())
    }

    /// The password could not be checked (too many checks at once, a store error):
    /// the attempt's place goes back as a turn due now, so the pair is not left
    /// waiting for a failure that never comes.
    async fn unchecked(&self) {
        if let Err(e) = self.put_turn(self.now_ms()).await {
            tracing::warn!(error = %e, "a sign-in's turn could not be given back");
        }
    }

    /// A correct password: this pair and the account's run of failures start over.
    async fn succeeded(&self) -> Result<(), ApiError> {
        for key in [
            Self::key("signin-pair", &self.pair),
            Self::key("signin-pair-failed", &self.pair),
            self.turn_key(),
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
        clock: state.clock.as_ref(),
        limits: &state.settings.limits,
        pair: format!("{account}|{address}"),
        account,
        address: address.to_owned(),
    };
    let admitted = attempt.admit().await?;
    let (found, matches, upgraded) = match check(state, &email, password).await {
        Ok(checked) => checked,
        Err(e) => {
            attempt.unchecked().await;
            return Err(e);
        }
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
            attempt.failed(admitted).await?;
            Err(invalid())
        }
    }
}

/// The account's credentials (if any), whether `password` matches them (a dummy hash
/// is checked when there is no account, taking as long), and the hash with current
/// parameters when the stored one is older.
async fn check(
    state: &AppState,
    email: &Email,
    password: String,
) -> Result<
    (
        Option<SubscriberCredentials>,
        bool,
        Option<PasswordHashString>,
    ),
    ApiError,
> {
    let found = state.store.find_subscriber_by_email(email).await?;
    let stored = found
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |c| c.password_hash.clone());
    let candidate = SecretString::from(password);
    let (matches, upgraded) = state
        .hashing
        .run(move || {
            let matches = password::verify(&candidate, &stored);
            let upgraded: Option<PasswordHashString> = (matches && password::needs_rehash(&stored))
                .then(|| password::rehash(&candidate).ok())
                .flatten();
            (matches, upgraded)
        })
        .await?;
    Ok((found, matches, upgraded))
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
