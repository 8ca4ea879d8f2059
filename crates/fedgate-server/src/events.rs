//! The event sink: handlers record events without waiting for the database; a
//! background task writes them in batches. `flush` waits until everything recorded
//! so far is stored (the events API calls it first, so reads see prior writes).

use std::sync::Arc;

use fedgate_domain::events::Event;
use fedgate_domain::ports::Store;
use tokio::sync::{mpsc, oneshot};

enum Message {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
}

/// Records events for the background writer.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

/// Largest batch written in one statement group.
const BATCH: usize = 500;

impl EventSink {
    /// Starts the writer on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut waiting = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        Message::Event(e) => batch.push(*e),
                        Message::Flush(done) => waiting.push(done),
                    }
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
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
        Self { tx }
    }

    /// Queues an event.
    pub fn record(&self, event: Event) {
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
}
