//! Hosted services: the tiles of the Hosted Services page.

use actix_web::{HttpResponse, web};
use fedgate_domain::hosted::{self, HostedService, ServiceKind, ServiceStatus};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::hosted::{HostedServiceDto, InactiveReasonDto, ServiceStatusDto};

use super::owned_application;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

fn labels(kind: ServiceKind) -> (&'static str, &'static str) {
    match kind {
        ServiceKind::GoogleAuthentication => ("Google Redirect URI", "Google OAuth endpoint"),
    }
}

fn dto(s: HostedService) -> HostedServiceDto {
    let (redirect_label, endpoint_label) = labels(s.kind);
    let (status, reasons) = match s.status {
        ServiceStatus::Active => (ServiceStatusDto::Active, Vec::new()),
        ServiceStatus::Inactive(reasons) => (
            ServiceStatusDto::Inactive,
            reasons
                .into_iter()
                .map(|r| InactiveReasonDto {
                    code: r.code.to_owned(),
                    message: r.message,
                    property_kind: r.property_kind.as_str().to_owned(),
                    property_id: r.property_id.map(|id| id.to_string()),
                })
                .collect(),
        ),
    };
    HostedServiceDto {
        service: s.kind.as_str().to_owned(),
        name: s.kind.display_name().to_owned(),
        provider_redirect_uri_label: redirect_label.to_owned(),
        provider_redirect_uri: s.provider_redirect_uri.to_string(),
        login_endpoint_label: endpoint_label.to_owned(),
        login_endpoint: s.login_endpoint.to_string(),
        status,
        reasons,
    }
}

/// `GET /manage/v1/applications/{appId}/hosted-services`
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/hosted-services",
    tag = "hosted services",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 200, body = [HostedServiceDto]), (status = 404, body = ErrorBody))
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let props = state.store.list_properties(app.id).await?;
    let google = hosted::google_service(&state.public_base_url, app.id, &props, &state.sealer);
    Ok(HttpResponse::Ok().json(vec![dto(google)]))
}
