//! Background upkeep of the database: records of expired user tokens, and events and
//! finished webhook deliveries past their retention, are deleted. Runs at start and
//! every ten minutes on every instance (each delete is idempotent, so instances need no
//! coordination).

use std::sync::Arc;
use std::time::Duration;

use fedgate_domain::clock::Clock;
use fedgate_domain::ports::Store;

/// How often the upkeep runs.
const EVERY: Duration = Duration::from_secs(600);

/// What one pass deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Records of user tokens that had expired (they can no longer verify, and
    /// listings already leave them out).
    pub expired_tokens: u64,
    /// Events older than the retention period.
    pub old_events: u64,
    /// Delivered or failed webhook deliveries older than the retention period.
    pub old_deliveries: u64,
}

/// One pass at the clock's `now`.
pub async fn sweep(
    store: &dyn Store,
    clock: &dyn Clock,
    event_retention_days: u32,
) -> Result<Swept, fedgate_domain::ports::StoreError> {
    let now = clock.now();
    let expired_tokens = store.delete_expired_user_tokens(now).await?;
    let cutoff = now - chrono::Duration::days(i64::from(event_retention_days));
    let old_events = store.delete_events_before(cutoff).await?;
    let old_deliveries = store.delete_deliveries_before(cutoff).await?;
    Ok(Swept {
        expired_tokens,
        old_events,
        old_deliveries,
    })
}

/// Runs [`sweep`] now and every ten minutes, until aborted.
pub async fn run(store: Arc<dyn Store>, clock: Arc<dyn Clock>, event_retention_days: u32) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        match sweep(store.as_ref(), clock.as_ref(), event_retention_days).await {
            Ok(Swept {
                expired_tokens: 0,
                old_events: 0,
                old_deliveries: 0,
            }) => {}
            Ok(s) => tracing::debug!(
                expired_tokens = s.expired_tokens,
                old_events = s.old_events,
                old_deliveries = s.old_deliveries,
                "swept the database"
            ),
            Err(e) => tracing::warn!(error = %e, "could not sweep the database"),
        }
    }
}
