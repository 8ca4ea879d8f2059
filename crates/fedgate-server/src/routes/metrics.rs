//! `/metrics`: Prometheus metrics — on a listener of their own (`metrics_listen`,
//! unauthenticated there), or on the main port behind a bearer token
//! (`metrics_token`); with neither, the main port has no `/metrics`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

fn exposition(state: &AppState) -> HttpResponse {
    let text = state.metrics.render(
        state.database.pool_connections(),
        fedgate_storage::database_errors(),
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// `GET /metrics` on the main port: for requests carrying the configured bearer token.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(("metricsToken" = [])),
    responses(
        (status = 200, description = "Metrics in the OpenMetrics text format", content_type = "application/openmetrics-text"),
        (status = 401, description = "`metrics_token` is set and the request's bearer token is missing or wrong", body = fedgate_wire::error::ErrorBody),
        (status = 404, description = "Metrics are not served on this port (`metrics_listen` is set, or no `metrics_token`)", body = fedgate_wire::error::ErrorBody)
    )
)]
pub async fn guarded(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = match (
        &state.settings.metrics_listen,
        &state.settings.metrics_token,
    ) {
        (None, Some(token)) => token,
        _ => return Err(ApiError::not_found("resource")),
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = token.expose_secret().as_bytes();
    if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected)) {
        return Err(ApiError::unauthorized(
            fedgate_wire::error::ErrorCode::MetricsTokenInvalid,
            "metrics need Authorization: Bearer <metrics_token>",
        ));
    }
    Ok(exposition(&state))
}

/// `GET /metrics` on the metrics listener.
pub async fn open(state: web::Data<AppState>) -> HttpResponse {
    exposition(&state)
}
