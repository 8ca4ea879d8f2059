//! Per-request context: a request id on every log line, in the `X-Request-Id`
//! response header and in every error body; one access-log line per request.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The current request's id (empty outside a request).
#[must_use]
pub fn current_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Middleware: assigns the id, opens the request span, logs the outcome.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = fedgate_domain::random::uuid().simple().to_string();
    let metrics = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|state| std::sync::Arc::clone(&state.metrics));
    let api = api_of(req.path());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let result = REQUEST_ID
        .scope(id.clone(), next.call(req))
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            if let Some(metrics) = &metrics {
                observe(metrics, api, &res);
            }
            if let Ok(v) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID_HEADER, v);
            }
            tracing::info!(
                status = res.status().as_u16(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request finished"
            );
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(error = %e, elapsed_ms = started.elapsed().as_secs_f64() * 1000.0, "request failed");
            Err(e)
        }
    }
}

/// The API a path belongs to, as metrics name it.
fn api_of(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/") {
        Some("app")
    } else if path.starts_with("/manage/") {
        Some("manage")
    } else {
        None
    }
}

/// Counts the response: API requests by outcome, rate-limit refusals by limit.
fn observe<B>(
    metrics: &crate::metrics::Metrics,
    api: Option<&'static str>,
    res: &ServiceResponse<B>,
) {
    let refused = res
        .response()
        .extensions()
        .get::<crate::error::Refused>()
        .copied();
    if let Some(limit) = refused.and_then(|r| r.limit) {
        metrics.rate_limited(limit);
    }
    if let Some(api) = api {
        let outcome = match refused {
            Some(r) => r.code.as_str(),
            None if res.status().is_success() || res.status().is_redirection() => "ok",
            None => "error",
        };
        metrics.api_request(api, outcome);
    }
}
