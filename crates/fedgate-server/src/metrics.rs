//! Prometheus metrics (`/metrics`, OpenMetrics text): what an operator watches once
//! real traffic flows. Every label takes a bounded set of values — provider kinds,
//! endpoints, typed reason codes, limit names, route groups — never free text or ids.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::ports::{Charge, Charged, StateStore, StoreError, StoreResult};
use fedgate_login::ProviderKind;
use fedgate_provider::observe::{Call, CallObserver};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider_kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SuccessLabels {
    provider_kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    provider_kind: &'static str,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    provider_kind: &'static str,
    endpoint: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    provider_kind: &'static str,
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Request and call latencies: 1 ms to about 16 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The reason a metric names: the code before any `:` detail (`provider_error`, not
/// `provider_error:invalid_scope`, whose detail is the provider's text).
fn reason_label(reason: &str) -> String {
    let code = reason.split(':').next().unwrap_or("");
    if !code.is_empty()
        && code.len() <= 48
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        code.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Every metric of one Fedgate instance.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    logins_started: Family<ProviderLabels, Counter>,
    logins_succeeded: Family<SuccessLabels, Counter>,
    logins_failed: Family<FailureLabels, Counter>,
    login_start_seconds: Histogram,
    login_callback_seconds: Histogram,
    provider_calls: Family<CallLabels, Counter>,
    provider_call_seconds: Family<EndpointLabels, Histogram, fn() -> Histogram>,
    api_requests: Family<ApiLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    state_store_errors: Family<OperationLabels, Counter>,
    database_errors: Counter,
    database_connections: Family<PoolLabels, Gauge>,
    webhook_deliveries: Family<DeliveryLabels, Counter>,
    /// One scrape at a time (the database error count is carried over at scrape).
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All metrics at zero, registered under `fedgate_`.
    #[must_use]
    pub fn new() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("fedgate"),
            logins_started: Family::default(),
            logins_succeeded: Family::default(),
            logins_failed: Family::default(),
            login_start_seconds: latency(),
            login_callback_seconds: latency(),
            provider_calls: Family::default(),
            provider_call_seconds: Family::new_with_constructor(latency),
            api_requests: Family::default(),
            rate_limited: Family::default(),
            state_store_errors: Family::default(),
            database_errors: Counter::default(),
            database_connections: Family::default(),
            webhook_deliveries: Family::default(),
            scrape: Mutex::new(()),
        };
        m.registry.register(
            "build",
            "Fedgate's version",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        m.registry.register(
            "logins_started",
            "Hosted logins started (sent to the provider), by provider kind",
            m.logins_started.clone(),
        );
        m.registry.register(
            "logins_succeeded",
            "Hosted logins completed, by provider kind and outcome",
            m.logins_succeeded.clone(),
        );
        m.registry.register(
            "logins_failed",
            "Hosted logins refused or failed, by provider kind (unknown before the provider is known) and typed reason",
            m.logins_failed.clone(),
        );
        m.registry.register_with_unit(
            "login_start_duration",
            "Time to answer a hosted login start",
            Unit::Seconds,
            m.login_start_seconds.clone(),
        );
        m.registry.register_with_unit(
            "login_callback_duration",
            "Time to answer a provider's callback (code redemption, token validation and the user's resolution included)",
            Unit::Seconds,
            m.login_callback_seconds.clone(),
        );
        m.registry.register(
            "provider_calls",
            "Calls to providers, by provider kind, endpoint (discovery, jwks, token, userinfo) and result",
            m.provider_calls.clone(),
        );
        m.registry.register_with_unit(
            "provider_call_duration",
            "Time of calls to providers, by provider kind and endpoint",
            Unit::Seconds,
            m.provider_call_seconds.clone(),
        );
        m.registry.register(
            "api_requests",
            "Requests to the signed application API (api=app) and the management API (api=manage), by outcome (ok or the error code)",
            m.api_requests.clone(),
        );
        m.registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by limit",
            m.rate_limited.clone(),
        );
        m.registry.register(
            "state_store_errors",
            "Failed state-store operations (Redis or the in-process store), by operation",
            m.state_store_errors.clone(),
        );
        m.registry.register(
            "database_errors",
            "Failed database operations of this process",
            m.database_errors.clone(),
        );
        m.registry.register(
            "database_connections",
            "Database pool connections, by state (in_use, idle)",
            m.database_connections.clone(),
        );
        m.registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome",
            m.webhook_deliveries.clone(),
        );
        m
    }

    /// The exposition, after sampling the database pool (`open`, `idle`) and the
    /// process's database error count.
    #[must_use]
    pub fn render(&self, pool: (u32, usize), database_errors: u64) -> String {
        let _one = self
            .scrape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (open, idle) = pool;
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let in_use = i64::from(open).saturating_sub(idle).max(0);
        self.database_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(in_use);
        self.database_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        let seen = self.database_errors.get();
        if database_errors > seen {
            self.database_errors.inc_by(database_errors - seen);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }

    /// Counts a login event (a start, a failure, a success).
    pub fn login_event(&self, event: &Event) {
        let provider_kind = event
            .provider
            .as_deref()
            .map_or("unknown", |key| ProviderKind::of_key(key).label());
        match event.kind {
            EventKind::LoginStarted => {
                self.logins_started
                    .get_or_create(&ProviderLabels { provider_kind })
                    .inc();
            }
            EventKind::LoginSucceeded => {
                let outcome = event.outcome.map_or("unknown", |o| o.as_str());
                self.logins_succeeded
                    .get_or_create(&SuccessLabels {
                        provider_kind,
                        outcome,
                    })
                    .inc();
            }
            EventKind::LoginFailed => {
                let reason = reason_label(event.reason.as_deref().unwrap_or(""));
                self.logins_failed
                    .get_or_create(&FailureLabels {
                        provider_kind,
                        reason,
                    })
                    .inc();
            }
            _ => {}
        }
    }

    /// Starts timing a login start (`callback` false) or a callback.
    #[must_use]
    pub fn login_timer(&self, callback: bool) -> LoginTimer<'_> {
        LoginTimer {
            histogram: if callback {
                &self.login_callback_seconds
            } else {
                &self.login_start_seconds
            },
            started: Instant::now(),
        }
    }

    /// Counts an API request's outcome (`ok` or its error code).
    pub fn api_request(&self, api: &'static str, outcome: &'static str) {
        self.api_requests
            .get_or_create(&ApiLabels { api, outcome })
            .inc();
    }

    /// Counts a refusal by the rate limit `limit`.
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// Counts a failed state-store operation.
    pub fn state_store_error(&self, operation: &'static str) {
        self.state_store_errors
            .get_or_create(&OperationLabels { operation })
            .inc();
    }

    /// Counts a webhook delivery attempt's outcome.
    pub fn webhook_delivery(&self, outcome: &'static str) {
        self.webhook_deliveries
            .get_or_create(&DeliveryLabels { outcome })
            .inc();
    }
}

impl CallObserver for Metrics {
    fn observe(&self, call: Call) {
        let endpoint = call.endpoint.as_str();
        self.provider_calls
            .get_or_create(&CallLabels {
                provider_kind: call.kind,
                endpoint,
                result: call.result.as_str(),
            })
            .inc();
        self.provider_call_seconds
            .get_or_create(&EndpointLabels {
                provider_kind: call.kind,
                endpoint,
            })
            .observe(call.seconds);
    }
}

/// Observes a login request's duration when dropped.
#[derive(Debug)]
pub struct LoginTimer<'a> {
    histogram: &'a Histogram,
    started: Instant,
}

impl Drop for LoginTimer<'_> {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

/// The state store, counting its failures by operation.
#[derive(Debug)]
pub struct ObservedStateStore {
    inner: Arc<dyn StateStore>,
    metrics: Arc<Metrics>,
}

impl ObservedStateStore {
    /// Wraps `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn StateStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn seen<T>(&self, operation: &'static str, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(StoreError::Backend(_)) = &result {
            self.metrics.state_store_error(operation);
        }
        result
    }
}

#[async_trait]
impl StateStore for ObservedStateStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        let r = self.inner.put(key, value, ttl).await;
        self.seen("put", r)
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        let r = self.inner.put_new(key, value, ttl).await;
        self.seen("put", r)
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let r = self.inner.get(key).await;
        self.seen("get", r)
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let r = self.inner.take(key).await;
        self.seen("take", r)
    }

    async fn take_marking(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl: Duration,
    ) -> StoreResult<Option<Vec<u8>>> {
        let r = self.inner.take_marking(key, marker, mark, ttl).await;
        self.seen("take", r)
    }

    async fn take_marking_charged(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Charged<Option<Vec<u8>>>> {
        let r = self
            .inner
            .take_marking_charged(key, marker, mark, ttl, charges)
            .await;
        self.seen("take", r)
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let r = self.inner.put_if_absent(key, value, ttl).await;
        self.seen("put", r)
    }

    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64> {
        let r = self.inner.increment(key, ttl).await;
        self.seen("increment", r)
    }

    async fn charge(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        let r = self.inner.charge(charges).await;
        self.seen("increment", r)
    }

    async fn charge_soon(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        let r = self.inner.charge_soon(charges).await;
        self.seen("increment", r)
    }

    async fn put_new_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Option<usize>> {
        let r = self.inner.put_new_charged(key, value, ttl, charges).await;
        self.seen("put", r)
    }

    async fn put_if_absent_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Charged<bool>> {
        let r = self
            .inner
            .put_if_absent_charged(key, value, ttl, charges)
            .await;
        self.seen("put", r)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let r = self.inner.delete(key).await;
        self.seen("delete", r)
    }

    async fn ping(&self) -> StoreResult<()> {
        let r = self.inner.ping().await;
        self.seen("ping", r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_the_grafana_dashboard_queries_exists() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/grafana-dashboard.json"))
                .expect("the dashboard is JSON");
        let m = Metrics::new();
        m.webhook_delivery("delivered");
        m.state_store_error("get");
        m.rate_limited("login-start");
        m.api_request("app", "ok");
        for kind in [
            EventKind::LoginStarted,
            EventKind::LoginSucceeded,
            EventKind::LoginFailed,
        ] {
            let app = fedgate_domain::ids::ApplicationId::generate();
            m.login_event(&Event::new(app, kind, chrono::Utc::now()));
        }
        drop(m.login_timer(false));
        drop(m.login_timer(true));
        m.observe(Call {
            kind: "google",
            endpoint: fedgate_provider::observe::Endpoint::Token,
            result: fedgate_provider::observe::CallResult::Ok,
            seconds: 0.1,
        });
        let text = m.render((1, 1), 0);
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let panels = dashboard["panels"].as_array().expect("panels");
        assert!(panels.len() >= 10);
        for target in panels
            .iter()
            .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        {
            let expr = target["expr"].as_str().expect("an expression");
            let names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("fedgate_"));
            for name in names {
                let family = ["_total", "_bucket", "_count", "_sum", "_info"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(name);
                assert!(
                    families.contains(&family),
                    "the dashboard queries {name}, which Fedgate does not expose"
                );
            }
        }
    }

    #[test]
    fn reasons_are_named_by_their_code_never_by_provider_text() {
        assert_eq!(
            reason_label("provider_error:invalid_scope"),
            "provider_error"
        );
        assert_eq!(reason_label("id_token_invalid:nonce"), "id_token_invalid");
        assert_eq!(
            reason_label("redirect_uri_unregistered"),
            "redirect_uri_unregistered"
        );
        assert_eq!(reason_label("Évil text\n"), "other");
        assert_eq!(reason_label(""), "other");
    }

    #[test]
    fn the_exposition_names_every_family_and_ends_like_openmetrics() {
        let m = Metrics::new();
        let mut e = Event::new(
            fedgate_domain::ids::ApplicationId::generate(),
            EventKind::LoginFailed,
            chrono::Utc::now(),
        );
        e.provider = Some("oidc:x".into());
        e.reason = Some("provider_error:something the provider said".into());
        m.login_event(&e);
        m.rate_limited("login-start");
        let text = m.render((4, 3), 0);
        assert!(text.contains(
            "fedgate_logins_failed_total{provider_kind=\"openid_connect\",reason=\"provider_error\"} 1"
        ));
        assert!(text.contains("fedgate_rate_limited_total{limit=\"login-start\"} 1"));
        assert!(text.contains("fedgate_database_connections{state=\"in_use\"} 1"));
        assert!(text.contains("fedgate_build_info{version="));
        assert!(!text.contains("something the provider said"));
        assert!(text.ends_with("# EOF\n"));
    }
}
