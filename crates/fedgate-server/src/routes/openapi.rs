//! The OpenAPI document and the bundled (offline) Swagger UI.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    access_keys, account, app_api, applications, events, health, hosted_login, hosted_services,
    jwks, properties,
};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let header = |name: &str, doc: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, doc)))
        };
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::session::COOKIE_NAME,
                "Subscriber session cookie set by sign-up and sign-in.",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            header(
                "X-CSRF-Token",
                "The session's csrfToken; required on POST, PUT, PATCH, DELETE.",
            ),
        );
        components.add_security_scheme(
            "accessKeyId",
            header(
                "X-Fedgate-Key-Id",
                "Access key id. See docs/api-signing.md.",
            ),
        );
        components.add_security_scheme(
            "timestamp",
            header(
                "X-Fedgate-Timestamp",
                "Unix seconds; within 5 minutes of the server's clock.",
            ),
        );
        components.add_security_scheme(
            "nonce",
            header(
                "X-Fedgate-Nonce",
                "16-64 characters of A-Z a-z 0-9 - _; single use.",
            ),
        );
        components.add_security_scheme(
            "signature",
            header(
                "X-Fedgate-Signature",
                "Lower-case hex HMAC-SHA256 of the string to sign (docs/api-signing.md).",
            ),
        );
    }
}

/// The whole API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Fedgate API",
        description = "Management API (subscriber session + CSRF token) and application API (requests signed with an access key; see docs/api-signing.md). Errors are `{ code, message, requestId }` with a stable `code`."
    ),
    paths(
        health::healthz,
        health::readyz,
        account::sign_up,
        account::sign_in,
        account::sign_out,
        account::me,
        applications::list,
        applications::create,
        applications::get,
        applications::rename,
        applications::delete,
        properties::list,
        properties::create,
        properties::get,
        properties::replace,
        properties::delete,
        access_keys::list,
        access_keys::create,
        access_keys::revoke,
        hosted_services::list,
        events::list,
        hosted_login::start,
        hosted_login::callback,
        jwks::jwks,
        app_api::calling_application,
        app_api::redeem_result,
    ),
    components(schemas(fedgate_wire::error::ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "account", description = "Subscriber sign-up, sign-in and session"),
        (name = "applications", description = "Applications: the tenant boundary"),
        (name = "properties", description = "Typed configuration of an application"),
        (name = "access keys", description = "Credentials for the application API"),
        (name = "hosted services", description = "What the properties add up to"),
        (name = "application api", description = "For app backends; signed with an access key"),
        (name = "hosted login", description = "Browser-facing sign-in endpoints and the public JWKS"),
        (name = "events", description = "The application's login event log"),
        (name = "operations", description = "Health and readiness")
    )
)]
pub struct ApiDoc;

/// Swagger UI at `/api-docs/`, assets compiled in (no CDN), reading `/openapi.json`.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/api-docs/{_:.*}").url(DOCUMENT_PATH, ApiDoc::openapi())
}
