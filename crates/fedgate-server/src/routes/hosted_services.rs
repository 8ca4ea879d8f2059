//! Hosted services: the tiles of the Hosted Services page, one per provider.

use actix_web::{HttpResponse, web};
use fedgate_login::{HostedService, ServiceStatus};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::hosted::{HostedServiceDto, InactiveReasonDto, ServiceStatusDto};

use super::owned_application;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

fn dto(s: HostedService) -> HostedServiceDto {
    let name = s.name();
    let provider_redirect_uri_label = s.redirect_uri_label();
    let login_endpoint_label = s.login_endpoint_label();
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
                    recheck_issuer: r.recheck_issuer,
                })
                .collect(),
        ),
    };
    HostedServiceDto {
        service: s.provider.kind.service_id().to_owned(),
        slug: s.provider.slug,
        display_name: s.provider.display_name,
        name,
        provider_redirect_uri_label,
        provider_redirect_uri: s.provider_redirect_uri.to_string(),
        login_endpoint_label,
        login_endpoint: s.login_endpoint.to_string(),
        status,
        reasons,
    }
}

/// `GET /manage/v1/applications/{appId}/hosted-services`: Google's tile first, then
/// one per OpenID Connect provider.
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
    let services = state.registry.services(app.id).await?;
    Ok(HttpResponse::Ok().json(services.into_iter().map(dto).collect::<Vec<_>>()))
}
