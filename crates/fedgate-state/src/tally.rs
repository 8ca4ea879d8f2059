//! Counters counted in this instance and added to the shared ones soon after: how the
//! Redis store counts the charges of events that come often and need a limit that
//! holds across instances, but not to the request (login starts).
//!
//! Each counter keeps the shared count as Redis last told it, what this instance sent
//! and has no answer for yet, and what it counted since. An event is judged at once
//! against the sum; every [`FLUSH_EVERY`] the counts pending are added to Redis, whose
//! answer brings the other instances' counts in — and a counter at half its limit or
//! more is asked for its shared count even with nothing to add, so that an instance
//! near a limit hears of the others' events without counting any itself. A limit thus
//! holds across instances within one flush: each instance may let through, past the
//! limit, what it counted in the last [`FLUSH_EVERY`] before it heard of the
//! others'. Within one instance a limit holds exactly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use fedgate_domain::ports::Charge;

/// How often counts pending are added to the shared counters.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// How many counters are kept here at most; past that, events on counters not kept
/// are charged in Redis directly (a flood from very many addresses costs round trips,
/// not memory).
const MOST_COUNTERS: usize = 100_000;

/// One counter.
#[derive(Debug)]
struct Tally {
    /// The shared count, as last heard from Redis.
    shared: u64,
    /// Sent to Redis, not answered yet.
    sending: u64,
    /// Counted here since the last send.
    pending: u64,
    /// The limit it was last charged with.
    limit: u64,
    window: Duration,
    /// When the window ends, as last heard (or, before hearing, as counted here).
    until: Instant,
}

impl Tally {
    /// A window starting `now` for `charge`, with `sending` still unanswered.
    fn fresh(charge: &Charge, now: Instant, sending: u64) -> Self {
        Self {
            shared: 0,
            sending,
            pending: 0,
            limit: charge.limit,
            window: charge.window,
            until: now + charge.window,
        }
    }

    const fn count(&self) -> u64 {
        self.shared + self.sending + self.pending
    }
}

/// A count to add to a shared counter: its key, how much, and its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub key: String,
    pub add: u64,
    pub window: Duration,
}

/// Why [`Tallies::charge`] could not judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unjudged {
    /// Redis did not answer the last flush: nothing can be shared.
    Unreachable,
    /// Too many counters are kept here already: charge in Redis directly.
    Crowded,
}

/// The counters of one store.
#[derive(Debug)]
pub struct Tallies {
    counters: Mutex<HashMap<String, Tally>>,
    reachable: AtomicBool,
}

impl Default for Tallies {
    fn default() -> Self {
        Self {
            counters: Mutex::default(),
            reachable: AtomicBool::new(true),
        }
    }
}

impl Tallies {
    /// Counts one event against each of `charges` in order, stopping at the first
    /// past its limit, whose index it returns: the same judgement as a charge in
    /// Redis, on the counts known here.
    pub fn charge(&self, charges: &[Charge], now: Instant) -> Result<Option<usize>, Unjudged> {
        if !self.reachable.load(Ordering::Relaxed) {
            return Err(Unjudged::Unreachable);
        }
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if counters.len() + charges.len() > MOST_COUNTERS
            && charges.iter().any(|c| !counters.contains_key(&c.key))
        {
            return Err(Unjudged::Crowded);
        }
        for (i, c) in charges.iter().enumerate() {
            if !counters.contains_key(&c.key) {
                counters.insert(c.key.clone(), Tally::fresh(c, now, 0));
            }
            let Some(tally) = counters.get_mut(&c.key) else {
                unreachable!("inserted above")
            };
            if tally.until <= now {
                // The window ended: what was counted in it no longer counts (a send
                // under way is answered for the new window, or the old one's end).
                *tally = Tally::fresh(c, now, tally.sending);
            }
            tally.limit = c.limit;
            tally.pending += 1;
            if tally.count() > c.limit {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// The counts to add to the shared counters now — and a 0 for each counter at
    /// half its limit or more with nothing to add, to hear its shared count; they are
    /// *sending* until [`Self::settle`] or [`Self::unsent`].
    pub fn take_pending(&self, now: Instant) -> Vec<Pending> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters
            .iter_mut()
            .filter(|(_, t)| {
                t.pending > 0 || (t.sending == 0 && t.until > now && t.count() * 2 >= t.limit)
            })
            .map(|(key, t)| {
                let add = std::mem::take(&mut t.pending);
                t.sending += add;
                Pending {
                    key: key.clone(),
                    add,
                    window: t.window,
                }
            })
            .collect()
    }

    /// Redis added `sent` and answered the shared count `shared`, whose window ends
    /// in `left`.
    pub fn settle(&self, sent: &Pending, shared: u64, left: Duration, now: Instant) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = counters.get_mut(&sent.key) {
            t.sending = t.sending.saturating_sub(sent.add);
            t.shared = shared;
            t.until = now + left;
        }
    }

    /// Redis did not take `sent`: it is pending again, for the next flush.
    pub fn unsent(&self, sent: &Pending) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = counters.get_mut(&sent.key) {
            t.sending = t.sending.saturating_sub(sent.add);
            t.pending += sent.add;
        }
    }

    /// Forgets counters whose window ended with nothing left to send.
    pub fn forget_ended(&self, now: Instant) {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, t| t.until > now || t.pending + t.sending > 0);
    }

    /// Records whether Redis answered the last flush (or ping).
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::Relaxed);
    }

    /// Whether Redis answered the last flush (or ping).
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// How many counters are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(key: &str, limit: u64) -> Charge {
        Charge {
            key: key.to_owned(),
            window: Duration::from_secs(60),
            limit,
        }
    }

    #[test]
    fn within_one_instance_a_limit_holds_exactly_and_stops_at_the_first_passed() {
        let t = Tallies::default();
        let now = Instant::now();
        let both = [charge("address", 2), charge("app", 100)];
        assert_eq!(t.charge(&both, now), Ok(None));
        assert_eq!(t.charge(&both, now), Ok(None));
        assert_eq!(t.charge(&both, now), Ok(Some(0)));
        // The refused event counted against the address only.
        let sent = t.take_pending(now);
        let mut adds: Vec<_> = sent.iter().map(|p| (p.key.as_str(), p.add)).collect();
        adds.sort_unstable();
        assert_eq!(adds, [("address", 3), ("app", 2)]);
        // While a send is under way its counts still count.
        assert_eq!(t.charge(&both, now), Ok(Some(0)));
    }

    #[test]
    fn the_shared_count_heard_back_brings_the_other_instances_in() {
        let t = Tallies::default();
        let now = Instant::now();
        let limit = [charge("address", 4)];
        assert_eq!(t.charge(&limit, now), Ok(None));
        let sent = t.take_pending(now);
        assert_eq!(sent.len(), 1);
        // Another instance counted 2 meanwhile: Redis answers 3.
        t.settle(&sent[0], 3, Duration::from_secs(59), now);
        assert_eq!(t.charge(&limit, now), Ok(None));
        assert_eq!(t.charge(&limit, now), Ok(Some(0)));
        // Nothing pending is sent twice; while a send is under way nothing more is
        // asked, and once answered a counter near its limit is asked again.
        let sent = t.take_pending(now);
        assert_eq!(sent[0].add, 2);
        assert_eq!(t.take_pending(now), []);
        t.settle(&sent[0], 5, Duration::from_secs(58), now);
        assert_eq!(t.take_pending(now)[0].add, 0);
        // Far below its limit, a counter with nothing to add is not asked.
        let quiet = Tallies::default();
        assert_eq!(quiet.charge(&[charge("a", 600)], now), Ok(None));
        let sent = quiet.take_pending(now);
        quiet.settle(&sent[0], 2, Duration::from_secs(59), now);
        assert_eq!(quiet.take_pending(now), []);
    }

    #[test]
    fn a_failed_send_is_sent_again_and_an_ended_window_starts_afresh() {
        let t = Tallies::default();
        let now = Instant::now();
        let limit = [charge("address", 2)];
        assert_eq!(t.charge(&limit, now), Ok(None));
        let sent = t.take_pending(now);
        t.unsent(&sent[0]);
        assert_eq!(t.take_pending(now)[0].add, 1);
        t.settle(&sent[0], 1, Duration::from_secs(1), now);
        assert_eq!(t.charge(&limit, now), Ok(None));
        assert_eq!(t.charge(&limit, now), Ok(Some(0)));
        let later = now + Duration::from_secs(2);
        assert_eq!(t.charge(&limit, later), Ok(None), "a new window");
        t.take_pending(now);
        t.forget_ended(later + Duration::from_secs(61));
        assert_eq!(t.len(), 1, "still sending");
        t.settle(
            &Pending {
                key: "address".into(),
                add: 1,
                window: Duration::from_secs(60),
            },
            1,
            Duration::ZERO,
            later,
        );
        t.forget_ended(later + Duration::from_secs(61));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn unreachable_or_crowded_it_does_not_judge() {
        let t = Tallies::default();
        let now = Instant::now();
        t.set_reachable(false);
        assert_eq!(t.charge(&[charge("a", 1)], now), Err(Unjudged::Unreachable));
        t.set_reachable(true);
        for i in 0..MOST_COUNTERS {
            assert_eq!(t.charge(&[charge(&i.to_string(), 5)], now), Ok(None));
        }
        assert_eq!(
            t.charge(&[charge("one more", 5)], now),
            Err(Unjudged::Crowded)
        );
        assert_eq!(t.charge(&[charge("7", 5)], now), Ok(None), "kept ones");
    }
}
