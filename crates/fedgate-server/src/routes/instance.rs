//! What the panel needs to know about this Fedgate.

use actix_web::{HttpResponse, web};
use fedgate_wire::properties::InstanceDto;

use crate::state::AppState;

/// `GET /manage/v1/instance`: the public base URL and whether the development provider
/// is on (the panel then shows its notice, the Development sign-in tile and the
/// development result page as a redirect URI).
#[utoipa::path(
    get,
    path = "/manage/v1/instance",
    tag = "account",
    responses((status = 200, body = InstanceDto))
)]
pub async fn instance(state: web::Data<AppState>) -> HttpResponse {
    let base = state.public_base_url.as_str().trim_end_matches('/');
    HttpResponse::Ok().json(InstanceDto {
        public_base_url: base.to_owned(),
        dev_provider: state.dev.is_some(),
        dev_app_callback: state
            .dev
            .as_ref()
            .map(|_| format!("{base}/dev-app/callback")),
    })
}
