//! The event sink: handlers record events without waiting for the database; a
//! background task writes them in batches. `flush` waits until everything recorded
//! so far is stored (the events API calls it first, so reads see prior writes).

use std::sync::Arc;

use fedgate_domain::clock::Clock;
use fedgate_domain::events::{Event, FailureBudget};
use fedgate_domain::ports::EventRepository;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;

enum Message {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
}

/// Records events for the background writer.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Message>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

/// Largest batch written in one statement group.
const BATCH: usize = 500;

/// How long the writer lets events gather after the first one before writing them:
/// one transaction for many login starts instead of one each (a `flush` does not
/// wait for it).
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

/// How often minutes that ended are summarised when no event comes to do it.
const CLOSE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// How long after a failed write the batch is written again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Events kept for a database that does not answer; past it the oldest are dropped
/// (and counted in the log), so an outage cannot exhaust memory.
const MAX_UNWRITTEN: usize = 50_000;

impl EventSink {
    /// Starts the writer on the current runtime. Failed logins past
    /// `failures_per_minute` per application and minute are summarised
    /// ([`FailureBudget`]); `clock` says when a minute is over.
    pub fn start(
        store: Arc<dyn EventRepository>,
        clock: Arc<dyn Clock>,
        failures_per_minute: u64,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            let mut budget = FailureBudget::new(failures_per_minute);
            let mut batch = Vec::with_capacity(BATCH);
            let mut waiting = Vec::new();
            let mut close = tokio::time::interval(CLOSE_EVERY);
            let mut closed = false;
            // After a failed write: when to write again. Until then what arrives is
            // only gathered, so that an outage costs the database one attempt a
            // second, not one per event, and the queue does not grow behind it.
            let mut retry_at: Option<tokio::time::Instant> = None;
            loop {
                let retry = retry_at.unwrap_or_else(tokio::time::Instant::now);
                let first = tokio::select! {
                    m = rx.recv(), if !closed => match m {
                        Some(m) => Some(m),
                        None => {
                            closed = true;
                            None
                        }
                    },
                    _ = close.tick() => None,
                    () = tokio::time::sleep_until(retry), if retry_at.is_some() => None,
                };
                if matches!(first, Some(Message::Event(_))) && !closed && retry_at.is_none() {
                    tokio::time::sleep(LINGER).await;
                }
                let mut next = first;
                while let Some(msg) = next.take() {
                    match msg {
                        Message::Event(e) => {
                            let mut summaries = Vec::new();
                            let keep = budget.admit(&e, &mut summaries);
                            batch.extend(summaries);
                            if keep {
                                batch.push(*e);
                            }
                        }
                        Message::Flush(done) => waiting.push(done),
                    }
                    if batch.len() < BATCH || retry_at.is_some() {
                        next = rx.try_recv().ok();
                    }
                }
                batch.extend(budget.close_finished(clock.now()));
                if batch.len() > MAX_UNWRITTEN {
                    let lost = batch.len() - MAX_UNWRITTEN;
                    batch.drain(..lost);
                    tracing::error!(
                        lost,
                        "events dropped: the database has not answered for too long"
                    );
                }
                if retry_at.is_some_and(|at| tokio::time::Instant::now() < at) {
                    continue;
                }
                retry_at = None;
                if !batch.is_empty() {
                    match store.append_events(&batch).await {
                        Ok(()) => batch.clear(),
                        Err(e) => {
                            // Kept and written again: an outage delays events, it does
                            // not lose them (up to MAX_UNWRITTEN).
                            tracing::warn!(error = %e, pending = batch.len(), "could not store events yet; retrying");
                            retry_at = Some(tokio::time::Instant::now() + RETRY_AFTER);
                        }
                    }
                }
                // Answered once the events before them were written or tried.
                for done in waiting.drain(..) {
                    let _ignored = done.send(());
                }
                if closed && batch.is_empty() {
                    break;
                }
            }
        });
        Self { tx, metrics }
    }

    /// Queues an event (counted in the metrics whether or not the failure budget
    /// stores it one by one).
    pub fn record(&self, event: Event) {
        self.metrics.login_event(&event);
        if self.tx.send(Message::Event(Box::new(event))).is_err() {
            tracing::error!("event writer stopped; event dropped");
        }
    }

    /// Waits until every event recorded before this call is stored — or, while the
    /// database does not answer, until a write of them has been tried (they are kept
    /// and written later).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ignored = wait.await;
        }
    }
}

impl fedgate_login::EventPublisher for EventSink {
    fn publish(&self, event: Event) {
        self.record(event);
    }

    fn committed(&self, event: &Event) {
        self.metrics.login_event(event);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use fedgate_domain::clock::SystemClock;
    use fedgate_domain::events::{Event, EventKind, EventQuery};
    use fedgate_domain::ids::ApplicationId;
    use fedgate_domain::ports::{EventRepository, StoreError, StoreResult};

    use super::*;

    /// An event log whose database answers or not, as the test says.
    #[derive(Default)]
    struct Log {
        down: AtomicBool,
        attempts: AtomicUsize,
        stored: Mutex<Vec<Event>>,
    }

    #[async_trait]
    impl EventRepository for Log {
        async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Backend("database: connection refused".into()));
            }
            self.stored.lock().unwrap().extend_from_slice(events);
            Ok(())
        }

        async fn list_events(&self, _: ApplicationId, _: &EventQuery) -> StoreResult<Vec<Event>> {
            Ok(Vec::new())
        }

        async fn delete_events_before(&self, _: DateTime<Utc>) -> StoreResult<u64> {
            Ok(0)
        }
    }

    /// An event log whose database is down, its sink, and the application whose
    /// events the test records.
    fn outage() -> (Arc<Log>, EventSink, ApplicationId) {
        let log = Arc::new(Log::default());
        log.down.store(true, Ordering::SeqCst);
        let sink = EventSink::start(
            Arc::clone(&log) as Arc<dyn EventRepository>,
            Arc::new(SystemClock),
            100,
            Arc::new(Metrics::default()),
        );
        (log, sink, ApplicationId::generate())
    }

    fn started(app: ApplicationId) -> Event {
        Event::new(app, EventKind::LoginStarted, Utc::now())
    }

    #[tokio::test]
    async fn while_the_database_is_down_events_are_kept_and_tried_once_a_second() {
        let (log, sink, app) = outage();
        for _ in 0..3_000 {
            sink.record(started(app));
        }
        // Well past a batch: a flush is answered once the write was tried, not after a
        // try per event.
        tokio::time::timeout(Duration::from_secs(3), sink.flush())
            .await
            .expect("a flush is answered while the database is down");
        for _ in 0..3_000 {
            sink.record(started(app));
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let attempts = log.attempts.load(Ordering::SeqCst);
        assert!(
            (1..=4).contains(&attempts),
            "one write attempt a second while the database is down: {attempts}"
        );
        log.down.store(false, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(3), sink.flush())
            .await
            .unwrap();
        assert_eq!(
            log.stored.lock().unwrap().len(),
            6_000,
            "every event kept is written once the database answers"
        );
    }

    #[tokio::test]
    async fn an_outage_keeps_only_the_newest_events_it_has_room_for() {
        let (log, sink, app) = outage();
        let events: Vec<Event> = (0..MAX_UNWRITTEN + 2_000).map(|_| started(app)).collect();
        let oldest_kept = events[2_000].id;
        for e in events {
            sink.record(e);
        }
        tokio::time::timeout(Duration::from_secs(3), sink.flush())
            .await
            .unwrap();
        log.down.store(false, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(3), sink.flush())
            .await
            .unwrap();
        let stored = log.stored.lock().unwrap();
        assert_eq!(stored.len(), MAX_UNWRITTEN);
        assert_eq!(stored[0].id, oldest_kept, "the oldest were dropped");
    }
}
