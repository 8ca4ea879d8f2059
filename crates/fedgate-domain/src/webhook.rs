//! Webhooks: which events a subscriber's endpoint hears about, the typed JSON each
//! delivery carries, how it is signed (the Standard Webhooks specification), and when
//! a failed delivery is tried again.
//!
//! Deliveries are written in the same transaction as the change they report (a
//! transactional outbox): see [`deliveries_for`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::events::{Event, EventKind, LoginOutcome};
use crate::ids::{ApplicationId, PropertyId};

/// What a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEventType {
    /// A user was created (by the app, or by a login of a new person).
    UserCreated,
    /// A user was deleted.
    UserDeleted,
    /// A federated user (an identity at a provider) was linked to a user.
    IdentityLinked,
    /// A federated user was unlinked from its user.
    IdentityUnlinked,
    /// A federated user was detached: its logins no longer link automatically.
    IdentityDetached,
    /// A hosted login completed.
    LoginSucceeded,
    /// A hosted login was refused or failed.
    LoginFailed,
    /// User tokens were revoked.
    TokenRevoked,
}

impl WebhookEventType {
    /// Every type.
    pub const ALL: [Self; 8] = [
        Self::UserCreated,
        Self::UserDeleted,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::IdentityDetached,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::TokenRevoked,
    ];

    /// Its name in subscriptions and payloads.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserDeleted => "user.deleted",
            Self::IdentityLinked => "identity.linked",
            Self::IdentityUnlinked => "identity.unlinked",
            Self::IdentityDetached => "identity.detached",
            Self::LoginSucceeded => "login.succeeded",
            Self::LoginFailed => "login.failed",
            Self::TokenRevoked => "token.revoked",
        }
    }

    /// Parses a name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The types an event reports: a first login of a new person creates a user and
    /// links the identity to it, as well as succeeding.
    #[must_use]
    pub fn of(event: &Event) -> Vec<Self> {
        match event.kind {
            EventKind::LoginStarted => Vec::new(),
            EventKind::LoginSucceeded => match event.outcome {
                Some(LoginOutcome::NewUser) => vec![
                    Self::UserCreated,
                    Self::IdentityLinked,
                    Self::LoginSucceeded,
                ],
                Some(LoginOutcome::LinkedByEmail) => {
                    vec![Self::IdentityLinked, Self::LoginSucceeded]
                }
                _ => vec![Self::LoginSucceeded],
            },
            EventKind::LoginFailed => vec![Self::LoginFailed],
            EventKind::FederatedUserLinked => vec![Self::IdentityLinked],
            EventKind::FederatedUserUnlinked => vec![Self::IdentityUnlinked],
            EventKind::FederatedUserDetached => vec![Self::IdentityDetached],
            EventKind::UserCreated => vec![Self::UserCreated],
            EventKind::UserDeleted => vec![Self::UserDeleted],
            EventKind::UserTokensRevoked => vec![Self::TokenRevoked],
        }
    }
}

/// The type of the test event the panel sends (delivered whatever the subscription).
pub const TEST_EVENT_TYPE: &str = "webhook.test";

/// Where a webhook delivers and what it hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The webhook property.
    pub webhook_id: PropertyId,
    /// Its application.
    pub application_id: ApplicationId,
    /// The event types it subscribed to.
    pub event_types: Vec<WebhookEventType>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up after 24 hours of attempts.
    Failed,
}

impl DeliveryStatus {
    /// Stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One message to one webhook, with its attempts so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message id (`msg_…`): the `webhook-id` of every attempt, so receivers can
    /// drop duplicates.
    pub id: String,
    /// The application.
    pub application_id: ApplicationId,
    /// The webhook property.
    pub webhook_id: PropertyId,
    /// The event type (`user.created`, …, or `webhook.test`).
    pub event_type: String,
    /// The JSON body, fixed when the delivery is written.
    pub payload: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The start of its retry window: when it was written, or redelivered.
    pub scheduled_at: DateTime<Utc>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt, if the endpoint answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// A new message id.
#[must_use]
pub fn message_id() -> String {
    format!("msg_{}", crate::ids::new_v7().simple())
}

impl Delivery {
    /// A pending delivery of `payload`, due at once.
    #[must_use]
    pub fn new(
        subscription: &Subscription,
        event_type: &str,
        payload: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: message_id(),
            application_id: subscription.application_id,
            webhook_id: subscription.webhook_id,
            event_type: event_type.to_owned(),
            payload,
            created_at: now,
            scheduled_at: now,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_attempt_at: None,
            last_status_code: None,
            last_error: None,
        }
    }
}

/// The JSON body of a delivery of `event` as `ty`: `{type, timestamp, data}` with the
/// event's ids, outcome or reason.
#[must_use]
pub fn payload(event: &Event, ty: WebhookEventType) -> String {
    let mut data = serde_json::Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            data.insert(k.to_owned(), serde_json::Value::String(v));
        }
    };
    put("applicationId", Some(event.application_id.to_string()));
    put("eventId", Some(event.id.to_string()));
    put("userId", event.user_id.as_ref().map(ToString::to_string));
    put(
        "federatedUserId",
        event.federated_user_id.map(|f| f.to_string()),
    );
    put("provider", event.provider.clone());
    put("outcome", event.outcome.map(|o| o.as_str().to_owned()));
    put("reason", event.reason.clone());
    put("detail", event.detail.clone());
    serde_json::json!({
        "type": ty.as_str(),
        "timestamp": event.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The test event's body.
#[must_use]
pub fn test_payload(app: ApplicationId, now: DateTime<Utc>) -> String {
    serde_json::json!({
        "type": TEST_EVENT_TYPE,
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "applicationId": app.to_string(),
            "message": "A test event sent from the Fedgate panel.",
        },
    })
    .to_string()
}

/// The deliveries `events` cause for `subscriptions` (of the events' applications):
/// one per event, type and webhook subscribed to that type.
#[must_use]
pub fn deliveries_for(events: &[Event], subscriptions: &[Subscription]) -> Vec<Delivery> {
    let mut out = Vec::new();
    for event in events {
        for ty in WebhookEventType::of(event) {
            for s in subscriptions
                .iter()
                .filter(|s| s.application_id == event.application_id && s.event_types.contains(&ty))
            {
                out.push(Delivery::new(s, ty.as_str(), payload(event, ty), event.at));
            }
        }
    }
    out
}

/// How an attempt ended, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// What comes next.
    pub next: AttemptNext,
}

/// What comes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptNext {
    /// Delivered: nothing.
    Delivered,
    /// Try again then.
    RetryAt(DateTime<Utc>),
    /// Given up.
    GaveUp,
}

impl DeliveryAttempt {
    /// The result of attempt number `attempt` (from 1) of `delivery`: a 2xx answer
    /// delivers it, anything else schedules the next attempt or gives up.
    #[must_use]
    pub fn judged(
        delivery: &Delivery,
        attempt: u32,
        at: DateTime<Utc>,
        status_code: Option<u16>,
        error: Option<String>,
        jitter: f64,
    ) -> Self {
        let ok = error.is_none() && status_code.is_some_and(|c| (200..300).contains(&c));
        let next = if ok {
            AttemptNext::Delivered
        } else {
            retry_at(attempt, delivery.scheduled_at, at, jitter)
                .map_or(AttemptNext::GaveUp, AttemptNext::RetryAt)
        };
        let error = match (ok, error, status_code) {
            (true, _, _) => None,
            (false, Some(e), _) => Some(e),
            (false, None, Some(c)) => Some(format!("the endpoint answered HTTP {c}")),
            (false, None, None) => Some("no answer".to_owned()),
        };
        Self {
            at,
            status_code,
            error,
            next,
        }
    }
}

/// Deliveries are given up this long after they were written.
pub const GIVE_UP_AFTER_SECONDS: i64 = 24 * 3600;

/// When to try a delivery again after `attempts` failed attempts: 5 s after the
/// first, four times longer after each further one up to 6 hours, each stretched or
/// shortened by `jitter` (−0.2 ..= 0.2) so receivers recovering from an outage are not
/// hit by every retry at once. `None` once the next attempt would fall more than 24
/// hours after `created_at` (the start of the retry window): the delivery has failed.
#[must_use]
pub fn retry_at(
    attempts: u32,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Option<DateTime<Utc>> {
    let exponent = attempts.saturating_sub(1).min(10);
    let base = (5_i64 * 4_i64.pow(exponent)).min(6 * 3600);
    let factor = 1.0 + jitter.clamp(-0.2, 0.2);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "at most 6 hours in milliseconds, far inside both types"
    )]
    let delay_ms = ((base * 1000) as f64 * factor) as i64;
    let next = now + chrono::Duration::milliseconds(delay_ms);
    (next <= created_at + chrono::Duration::seconds(GIVE_UP_AFTER_SECONDS)).then_some(next)
}

/// A webhook's signing secret: `whsec_` and the base64 of 32 random bytes, the form
/// Standard Webhooks libraries take.
#[must_use]
pub fn new_secret() -> String {
    format!("whsec_{}", STANDARD.encode(crate::random::bytes::<32>()))
}

/// The HMAC key of a `whsec_…` secret.
#[must_use]
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()
}

/// The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under `key`.
#[must_use]
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_new_persons_first_login_creates_links_and_succeeds() {
        let mut e = Event::new(ApplicationId::generate(), EventKind::LoginSucceeded, at(0));
        e.outcome = Some(LoginOutcome::NewUser);
        assert_eq!(
            WebhookEventType::of(&e),
            [
                WebhookEventType::UserCreated,
                WebhookEventType::IdentityLinked,
                WebhookEventType::LoginSucceeded
            ]
        );
        e.kind = EventKind::LoginStarted;
        assert!(WebhookEventType::of(&e).is_empty());
    }

    #[test]
    fn only_subscribed_webhooks_of_the_events_application_get_deliveries() {
        let app = ApplicationId::generate();
        let other = ApplicationId::generate();
        let sub = |a, types: &[WebhookEventType]| Subscription {
            webhook_id: PropertyId::generate(),
            application_id: a,
            event_types: types.to_vec(),
        };
        let subs = [
            sub(app, &[WebhookEventType::UserDeleted]),
            sub(app, &[WebhookEventType::LoginFailed]),
            sub(other, &[WebhookEventType::UserDeleted]),
        ];
        let mut e = Event::new(app, EventKind::UserDeleted, at(0));
        e.user_id = crate::ids::UserId::parse("u-1");
        let d = deliveries_for(&[e], &subs);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].webhook_id, subs[0].webhook_id);
        let body: serde_json::Value = serde_json::from_str(&d[0].payload).unwrap();
        assert_eq!(body["type"], "user.deleted");
        assert_eq!(body["data"]["userId"], "u-1");
        assert!(body["data"].get("reason").is_none());
    }

    #[test]
    fn retries_back_off_exponentially_and_stop_after_a_day() {
        let created = at(0);
        assert_eq!(retry_at(1, created, at(0), 0.0), Some(at(5)));
        assert_eq!(retry_at(2, created, at(5), 0.0), Some(at(25)));
        assert_eq!(retry_at(3, created, at(25), 0.0), Some(at(105)));
        assert_eq!(
            retry_at(9, created, at(1000), 0.0),
            Some(at(1000 + 6 * 3600))
        );
        assert_eq!(retry_at(3, created, at(25), 0.2), Some(at(25 + 96)));
        assert_eq!(retry_at(9, created, at(20 * 3600), 0.0), None);
    }

    #[test]
    fn the_signature_is_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(new_secret().starts_with("whsec_"));
        assert_eq!(secret_key(&new_secret()).unwrap().len(), 32);
    }
}
