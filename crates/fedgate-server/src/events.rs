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

/// How often minutes that ended are summarised when no event comes to do it.
const CLOSE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

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
            loop {
                let first = tokio::select! {
                    m = rx.recv() => match m {
                        Some(m) => Some(m),
                        None => break,
                    },
                    _ = close.tick() => None,
                };
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
                    if let Err(e) = store.append_events(&batch).await {
                        tracing::error!(error = %e, lost = batch.len(), "could not store events");
                    }
                    batch.clear();
                }
                for done in waiting.drain(..) {
                    let _ignored = done.send(());
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
