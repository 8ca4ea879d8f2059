//! The webhook worker: on every instance, claims due deliveries from the outbox,
//! signs each attempt (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), POSTs it through the provider calls' address guard, and
//! records the result — delivered, tried again later with backoff and jitter, or
//! given up after 24 hours. At least once: a delivery whose worker died is claimed
//! again when its lease ends, with the same `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use fedgate_domain::clock::Clock;
use fedgate_domain::ports::Store;
use fedgate_domain::property::PropertySettings;
use fedgate_domain::seal::Sealer;
use fedgate_domain::webhook::{self, AttemptNext, Delivery, DeliveryAttempt};
use fedgate_provider::ProviderClient;

use crate::metrics::Metrics;

/// Deliveries claimed per round.
const BATCH: u64 = 32;
/// How often the outbox is looked at when the last round found nothing.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Delivers webhooks.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The outbox and the webhooks' properties.
    pub store: Arc<dyn Store>,
    /// Posts through the address guard.
    pub client: Arc<ProviderClient>,
    /// Opens the webhooks' signing secrets.
    pub sealer: Sealer,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Counts attempts.
    pub metrics: Arc<Metrics>,
    /// How long a claimed delivery is this worker's: longer than any attempt can take
    /// (twice the provider timeout, plus a margin).
    pub lease: chrono::Duration,
}

/// What became of one attempt.
enum Attempted {
    /// The endpoint answered with this status.
    Answered(u16),
    /// The endpoint did not answer (or could not be called): the subscriber's trouble.
    Failed(String),
    /// Fedgate could not prepare the request (its database did not answer): not an
    /// attempt; the delivery is claimed again when its lease ends.
    NotMade(String),
}

impl Worker {
    /// Delivers until aborted.
    pub async fn run(self) {
        loop {
            match self.round().await {
                Ok(0) => tokio::time::sleep(IDLE_POLL).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim webhook deliveries");
                    tokio::time::sleep(IDLE_POLL * 4).await;
                }
            }
        }
    }

    /// Claims the due deliveries and attempts each once, side by side; how many.
    pub async fn round(&self) -> Result<usize, fedgate_domain::ports::StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_due_deliveries(now, now + self.lease, BATCH)
            .await?;
        let n = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|d| self.attempt(d))).await;
        Ok(n)
    }

    async fn attempt(&self, delivery: Delivery) {
        let (status, error) = match self.post(&delivery).await {
            Attempted::Answered(status) => (Some(status), None),
            Attempted::Failed(e) => (None, Some(e)),
            Attempted::NotMade(e) => {
                tracing::warn!(error = %e, delivery = %delivery.id, "webhook delivery postponed");
                return;
            }
        };
        let attempt = DeliveryAttempt::judged(
            &delivery,
            delivery.attempts + 1,
            self.clock.now(),
            status,
            error,
            jitter(),
        );
        self.metrics.webhook_delivery(match attempt.next {
            AttemptNext::Delivered => "delivered",
            AttemptNext::RetryAt(_) => "retry",
            AttemptNext::GaveUp => "failed",
        });
        if let AttemptNext::GaveUp = attempt.next {
            tracing::warn!(webhook_id = %delivery.webhook_id, delivery = %delivery.id, error = ?attempt.error, "webhook delivery given up");
        }
        if let Err(e) = self
            .store
            .record_delivery_attempt(&delivery.id, &attempt)
            .await
        {
            // The lease ends and another round tries again: at least once.
            tracing::warn!(error = %e, delivery = %delivery.id, "could not record a webhook attempt");
        }
    }

    /// One signed POST; the endpoint's status, or why there was none.
    async fn post(&self, delivery: &Delivery) -> Attempted {
        let property = match self
            .store
            .get_property(delivery.application_id, delivery.webhook_id)
            .await
        {
            Ok(Some(property)) => property,
            Ok(None) => return Attempted::Failed("the webhook was deleted".to_owned()),
            Err(e) => {
                return Attempted::NotMade(format!("Fedgate could not read the webhook: {e}"));
            }
        };
        let Ok(PropertySettings::Webhook(settings)) = property.parsed_settings() else {
            return Attempted::Failed("the webhook's settings are unreadable".to_owned());
        };
        let secret = match property.open_secret(&self.sealer) {
            Some(Ok(secret)) => secret,
            _ => {
                return Attempted::Failed(
                    "the webhook's signing secret cannot be opened".to_owned(),
                );
            }
        };
        let Some(key) = webhook::secret_key(secret.expose()) else {
            return Attempted::Failed("the webhook's signing secret is malformed".to_owned());
        };
        let url = match url::Url::parse(&settings.url) {
            Ok(url) => url,
            Err(e) => return Attempted::Failed(format!("bad URL: {e}")),
        };
        let timestamp = self.clock.now().timestamp();
        let signature =
            webhook::signature(&key, &delivery.id, timestamp, delivery.payload.as_bytes());
        let headers = [
            ("webhook-id", delivery.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        match self
            .client
            .post_webhook(&url, &headers, &delivery.payload)
            .await
        {
            Ok(status) => Attempted::Answered(status),
            Err(e) => Attempted::Failed(e),
        }
    }
}

/// A factor in −0.2 ..= 0.2 from the OS random source, spreading retries.
fn jitter() -> f64 {
    let [byte] = fedgate_domain::random::bytes::<1>();
    (f64::from(byte) / 255.0).mul_add(0.4, -0.2)
}
