//! The event sink: handlers record events without waiting for the database; a
//! background task writes them in batches. `flush` waits until everything recorded
//! so far is stored (the events API calls it first, so reads see prior writes).

use std::sync::Arc;

use fedgate_domain::clock::Clock;
use fedgate_domain::events::{Event, FailureBudget};
use fedgate_domain::ports::Store;
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
        store: Arc<dyn Store>,
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
            loop {
                // While a write failed, the batch is retried after a pause; messages
                // keep arriving meanwhile.
                let retry = !batch.is_empty();
                let first = tokio::select! {
                    m = rx.recv(), if !closed => match m {
                        Some(m) => Some(m),
                        None => {
                            closed = true;
                            None
                        }
                    },
                    _ = close.tick() => None,
                    () = tokio::time::sleep(RETRY_AFTER), if retry => None,
                };
                if matches!(first, Some(Message::Event(_))) && !closed {
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
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                batch.extend(budget.close_finished(clock.now()));
                if !batch.is_empty() {
                    match store.append_events(&batch).await {
                        Ok(()) => batch.clear(),
                        Err(e) => {
                            // Kept and written again: an outage delays events, it does
                            // not lose them (up to MAX_UNWRITTEN).
                            tracing::warn!(error = %e, pending = batch.len(), "could not store events yet; retrying");
                            if batch.len() > MAX_UNWRITTEN {
                                let lost = batch.len() - MAX_UNWRITTEN;
                                batch.drain(..lost);
                                tracing::error!(
                                    lost,
                                    "events dropped: the database has not answered for too long"
                                );
                            }
                        }
                    }
                }
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

    /// Waits until every event recorded before this call is stored.
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
