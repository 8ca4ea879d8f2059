//! Fedgate's short-lived state store: login records, nonces, sessions and rate-limit
//! counters, with expiry. Two implementations of
//! [`fedgate_domain::ports::StateStore`]: [`MemoryStateStore`] for a single embedded
//! process and [`RedisStateStore`] for any number of instances sharing one Redis.

mod memory;
mod redis_store;
mod tally;

pub use memory::MemoryStateStore;
pub use redis_store::RedisStateStore;
