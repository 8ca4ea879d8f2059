//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database and the state store answer within 2 s.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Database and state store reachable"),
        (status = 503, description = "A dependency is unreachable; the body says which")
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let limit = Duration::from_secs(2);
    let db = matches!(
        tokio::time::timeout(limit, state.store.ping()).await,
        Ok(Ok(()))
    );
    let kv = matches!(
        tokio::time::timeout(limit, state.state.ping()).await,
        Ok(Ok(()))
    );
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let body = json!({ "status": word(db && kv), "database": word(db), "stateStore": word(kv) });
    if db && kv {
        HttpResponse::Ok().json(body)
    } else {
        tracing::warn!(database = db, state_store = kv, "not ready");
        HttpResponse::ServiceUnavailable().json(body)
    }
}
