//! HTTP handlers, one module per resource; `configure` mounts them all.

pub mod access_keys;
pub mod account;
pub mod app_api;
pub mod app_federated;
pub mod app_tokens;
pub mod app_users;
pub mod applications;
pub mod events;
pub mod health;
pub mod hosted_login;
pub mod hosted_services;
pub mod instance;
pub mod jwks;
pub mod metrics;
pub mod openapi;
pub mod properties;
pub mod signing_keys;
pub mod users;
pub mod webhooks;

use actix_web::web;
use fedgate_domain::application::Application;
use fedgate_domain::ids::ApplicationId;

use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::guarded))
        .route("/hosted/{app_id}/jwks.json", web::get().to(jwks::jwks))
        .route(
            "/hosted/{app_id}/google/login",
            web::get().to(hosted_login::google_start),
        )
        .route(
            "/hosted/{app_id}/google/callback",
            web::get().to(hosted_login::google_callback),
        )
        .route(
            "/hosted/{app_id}/{slug}/login",
            web::get().to(hosted_login::start),
        )
        .route(
            "/hosted/{app_id}/{slug}/callback",
            web::get().to(hosted_login::callback),
        )
        .service(
            web::scope("/manage/v1")
                .route("/signup", web::post().to(account::sign_up))
                .route("/signin", web::post().to(account::sign_in))
                .route("/signout", web::post().to(account::sign_out))
                .route("/me", web::get().to(account::me))
                .route("/instance", web::get().to(instance::instance))
                .service(
                    web::resource("/applications")
                        .get(applications::list)
                        .post(applications::create),
                )
                .service(
                    web::resource("/applications/{app_id}")
                        .get(applications::get)
                        .patch(applications::rename)
                        .delete(applications::delete),
                )
                .service(
                    web::resource("/applications/{app_id}/properties")
                        .get(properties::list)
                        .post(properties::create),
                )
                .route(
                    "/applications/{app_id}/discovery-check",
                    web::post().to(properties::check_discovery),
                )
                .route(
                    "/applications/{app_id}/mapping-preview",
                    web::post().to(properties::preview_mapping),
                )
                .service(
                    web::resource("/applications/{app_id}/properties/{property_id}")
                        .get(properties::get)
                        .put(properties::replace)
                        .delete(properties::delete),
                )
                .service(
                    web::resource("/applications/{app_id}/access-keys")
                        .get(access_keys::list)
                        .post(access_keys::create),
                )
                .route(
                    "/applications/{app_id}/access-keys/{key_id}",
                    web::delete().to(access_keys::revoke),
                )
                .route(
                    "/applications/{app_id}/hosted-services",
                    web::get().to(hosted_services::list),
                )
                .route(
                    "/applications/{app_id}/diagnostics",
                    web::get().to(hosted_services::diagnostics),
                )
                .route(
                    "/applications/{app_id}/webhooks/{webhook_id}/deliveries",
                    web::get().to(webhooks::deliveries),
                )
                .route(
                    "/applications/{app_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
                    web::post().to(webhooks::redeliver),
                )
                .route(
                    "/applications/{app_id}/webhooks/{webhook_id}/test",
                    web::post().to(webhooks::test),
                )
                .route(
                    "/applications/{app_id}/signing-keys",
                    web::get().to(signing_keys::list),
                )
                .route(
                    "/applications/{app_id}/signing-keys/rotate",
                    web::post().to(signing_keys::rotate),
                )
                .route("/applications/{app_id}/events", web::get().to(events::list))
                .route("/applications/{app_id}/users", web::get().to(users::list))
                .route(
                    "/applications/{app_id}/users/{user_id}",
                    web::get().to(users::get),
                )
                .route(
                    "/applications/{app_id}/users/{user_id}/federated-users",
                    web::get().to(users::federated_users_of),
                )
                .service(
                    web::resource("/applications/{app_id}/users/{user_id}/tokens")
                        .get(users::tokens_of)
                        .delete(users::revoke_tokens),
                )
                .route(
                    "/applications/{app_id}/users/{user_id}/tokens/{token_id}",
                    web::delete().to(users::revoke_token),
                )
                .route(
                    "/applications/{app_id}/federated-users/{federated_user_id}",
                    web::get().to(users::get_federated_user),
                )
                .route(
                    "/applications/{app_id}/federated-users/{federated_user_id}/link",
                    web::post().to(users::link),
                )
                .route(
                    "/applications/{app_id}/federated-users/{federated_user_id}/unlink",
                    web::post().to(users::unlink),
                )
                .route(
                    "/applications/{app_id}/federated-users/{federated_user_id}/detach",
                    web::post().to(users::detach),
                )
                .default_service(web::to(not_found)),
        )
        .service(
            web::scope("/api/v1")
                .route("/application", web::get().to(app_api::calling_application))
                .route(
                    "/login-results/redeem",
                    web::post().to(app_api::redeem_result),
                )
                .service(
                    web::resource("/users")
                        .get(app_users::list)
                        .post(app_users::create),
                )
                .service(
                    web::resource("/users/{user_id}")
                        .get(app_users::get)
                        .patch(app_users::update)
                        .delete(app_users::delete),
                )
                .route(
                    "/users/{user_id}/locators",
                    web::post().to(app_users::add_locator),
                )
                .route(
                    "/users/{user_id}/locators/{locator}",
                    web::delete().to(app_users::remove_locator),
                )
                .route(
                    "/users/{user_id}/locators/{locator}/verify",
                    web::post().to(app_users::verify_locator),
                )
                .route(
                    "/users/{user_id}/federated-users",
                    web::get().to(app_federated::list_of_user),
                )
                .service(
                    web::resource("/users/{user_id}/tokens")
                        .get(app_tokens::list)
                        .post(app_tokens::issue)
                        .delete(app_tokens::revoke_all),
                )
                .route(
                    "/users/{user_id}/tokens/{token_id}",
                    web::delete().to(app_tokens::revoke_one),
                )
                .route("/tokens/verify", web::post().to(app_tokens::verify))
                .route(
                    "/federated-users/{federated_user_id}",
                    web::get().to(app_federated::get),
                )
                .route(
                    "/federated-users/{federated_user_id}/link",
                    web::post().to(app_federated::link),
                )
                .route(
                    "/federated-users/{federated_user_id}/unlink",
                    web::post().to(app_federated::unlink),
                )
                .route(
                    "/federated-users/{federated_user_id}/detach",
                    web::post().to(app_federated::detach),
                )
                .route(
                    "/federated-users/{federated_user_id}/upstream-tokens",
                    web::get().to(app_federated::upstream_tokens),
                )
                .default_service(web::to(not_found)),
        )
        .route(openapi::DOCUMENT_PATH, web::get().to(openapi::document))
        .service(openapi::swagger_ui());
}

/// JSON 404 for unknown API routes.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}

/// The signed-in subscriber's application named in the path, or 404 (for absent and
/// someone else's alike).
pub async fn owned_application(
    state: &AppState,
    session: &SubscriberSession,
    app_id: &str,
) -> Result<Application, ApiError> {
    let id = ApplicationId::parse(app_id).ok_or_else(|| ApiError::not_found("application"))?;
    state
        .store
        .get_application(session.subscriber_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("application"))
}

/// A property of one of the session's applications; 404 for anything else.
pub async fn owned_property(
    state: &AppState,
    session: &SubscriberSession,
    app_id: &str,
    property_id: &str,
) -> Result<fedgate_domain::property::StoredProperty, ApiError> {
    let app = owned_application(state, session, app_id).await?;
    let id = fedgate_domain::ids::PropertyId::parse(property_id)
        .ok_or_else(|| ApiError::not_found("property"))?;
    state
        .store
        .get_property(app.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("property"))
}
