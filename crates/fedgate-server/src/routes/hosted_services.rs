//! Hosted services: the tiles of the Hosted Services page, one per provider, with
//! their redirect diagnostics (refused starts, the provider's last upstream error).

use actix_web::{HttpResponse, web};
use fedgate_domain::ids::ApplicationId;
use fedgate_login::diagnostics::{RefusedStart, UpstreamError};
use fedgate_login::{HostedService, ServiceStatus};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::hosted::{
    DiagnosedReasonDto, DiagnosticsDto, HostedServiceDto, InactiveReasonDto, ProviderDiagnosisDto,
    RedirectUriDiagnosisDto, RefusedStartDto, RegisteredUriDto, ServiceStatusDto,
    SignatureDiagnosisDto, UpstreamErrorDto,
};

use super::owned_application;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

fn refused_dto(r: RefusedStart) -> RefusedStartDto {
    RefusedStartDto {
        at: r.at,
        provider: r.provider,
        reason: r.reason,
        message: r.message,
        redirect_uri: r.redirect_uri.map(|d| RedirectUriDiagnosisDto {
            received: d.received,
            registered: d
                .registered
                .into_iter()
                .map(|u| RegisteredUriDto {
                    uri: u.uri,
                    first_difference: u.first_difference,
                })
                .collect(),
        }),
        signature: r.signature.map(|d| SignatureDiagnosisDto {
            check: d.check,
            parameter: d.parameter,
            access_key_id: d.access_key_id,
            detail: d.detail,
        }),
        inactive_reasons: r
            .inactive
            .into_iter()
            .map(|d| DiagnosedReasonDto {
                code: d.code,
                message: d.message,
            })
            .collect(),
    }
}

fn upstream_dto(e: UpstreamError) -> UpstreamErrorDto {
    UpstreamErrorDto {
        at: e.at,
        reason: e.reason,
        status: e.status,
        error: e.error,
        detail: e.detail,
    }
}

fn dto(
    s: HostedService,
    last_upstream_error: Option<UpstreamError>,
    refused: &[RefusedStart],
) -> HostedServiceDto {
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
    let refused_starts = refused
        .iter()
        .filter(|r| r.provider == s.provider.slug)
        .cloned()
        .map(refused_dto)
        .collect();
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
        last_upstream_error: last_upstream_error.map(upstream_dto),
        refused_starts,
    }
}

/// Every tile of `app` with its provider's last upstream error.
async fn services_with_errors(
    state: &AppState,
    app: ApplicationId,
) -> Result<Vec<(HostedService, Option<UpstreamError>)>, ApiError> {
    let diagnostics = state.login.diagnostics();
    let mut out = Vec::new();
    for service in state.registry.services(app).await? {
        let error = diagnostics
            .upstream_error(app, &service.provider.key)
            .await?;
        out.push((service, error));
    }
    Ok(out)
}

/// `GET /manage/v1/applications/{appId}/hosted-services`: Google's tile first, then
/// one per other provider, each with its redirect diagnostics.
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
    let refused = state.login.diagnostics().refused_starts(app.id).await?;
    let tiles: Vec<HostedServiceDto> = services_with_errors(&state, app.id)
        .await?
        .into_iter()
        .map(|(service, error)| dto(service, error, &refused))
        .collect();
    Ok(HttpResponse::Ok().json(tiles))
}

/// `GET /manage/v1/applications/{appId}/diagnostics`: the last 20 refused login
/// starts with what was sent and why, and each provider's last upstream error.
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/diagnostics",
    tag = "hosted services",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 200, body = DiagnosticsDto), (status = 404, body = ErrorBody))
)]
pub async fn diagnostics(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let refused = state.login.diagnostics().refused_starts(app.id).await?;
    let providers = services_with_errors(&state, app.id)
        .await?
        .into_iter()
        .map(|(service, error)| ProviderDiagnosisDto {
            slug: service.provider.slug,
            display_name: service.provider.display_name,
            last_upstream_error: error.map(upstream_dto),
        })
        .collect();
    Ok(HttpResponse::Ok().json(DiagnosticsDto {
        refused_starts: refused.into_iter().map(refused_dto).collect(),
        providers,
    }))
}
