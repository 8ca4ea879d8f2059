//! Randomness from the operating system, for ids, secrets, nonces and tokens.

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes fetched from the operating system at a time, per thread.
const POOL: usize = 4096;

/// OS randomness fetched [`POOL`] bytes at a time: one system call for 128 tokens
/// instead of one each (a login start makes four). Every byte is handed out once and
/// wiped as it is.
struct Pool {
    bytes: [u8; POOL],
    used: usize,
}

thread_local! {
    static THIS_THREAD: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; POOL], used: POOL })
    };
}

fn fill(buf: &mut [u8]) {
    #[expect(
        clippy::expect_used,
        reason = "without OS randomness no secret can be made; failing loudly is right"
    )]
    getrandom::fill(buf).expect("the operating system random number generator failed");
}

/// `N` bytes from the OS CSPRNG.
///
/// # Panics
/// Only if the operating system cannot provide randomness, in which case nothing
/// secure can be done at all.
#[must_use]
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if N > POOL {
        fill(&mut buf);
        return buf;
    }
    THIS_THREAD.with_borrow_mut(|pool| {
        if pool.used + N > POOL {
            fill(&mut pool.bytes);
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + N];
        buf.copy_from_slice(taken);
        taken.fill(0);
        pool.used += N;
    });
    buf
}

/// A random (version-4) UUID, from this thread's pool like every draw here
/// (`Uuid::new_v4` made a system call for each).
#[must_use]
pub fn uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(bytes::<16>()).into_uuid()
}

/// A URL-safe token carrying 256 bits of randomness (43 characters).
#[must_use]
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_draws_repeat_across_refills_and_threads() {
        let mut seen = std::collections::HashSet::new();
        // Past several refills of this thread's pool, and on other threads.
        for _ in 0..1000 {
            assert!(seen.insert(bytes::<32>()));
        }
        let others: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..300).map(|_| bytes::<32>()).collect::<Vec<_>>()))
            .collect();
        for t in others {
            for b in t.join().expect("thread") {
                assert!(seen.insert(b));
            }
        }
        assert_ne!(bytes::<16>(), [0; 16]);
        assert_eq!(token().len(), 43);
        // Larger than the pool: straight from the system, never zero-filled.
        assert!(bytes::<8192>().iter().filter(|&&b| b == 0).count() < 100);
    }
}
