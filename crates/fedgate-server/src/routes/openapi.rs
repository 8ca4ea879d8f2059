//! The OpenAPI document and the bundled (offline) Swagger UI.

use std::sync::LazyLock;

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::{
    access_keys, account, app_api, app_federated, app_tokens, app_users, applications, events,
    health, hosted_login, hosted_services, instance, jwks, metrics, properties, signing_keys,
    users, webhooks,
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
            "metricsToken",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
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

/// Gives every operation a unique id, and documents on every operation the error
/// responses any request of its kind can get (a malformed body, a failed signature or session, a rate limit, an outage), so
/// that clients and fuzzers know every status an endpoint may answer with.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let api = [
            ("400", "`malformed_json`, `invalid_body`, `invalid_query`"),
            (
                "401",
                "`signature_missing`, `signature_malformed`, `access_key_unknown`, `access_key_revoked`, `timestamp_out_of_window`, `signature_mismatch`, `nonce_reused`",
            ),
            ("404", "`not_found`"),
            ("413", "`payload_too_large`"),
            ("415", "`unsupported_media_type`: the body must be JSON"),
            ("422", "`validation_failed`, with the offending `field`"),
            (
                "429",
                "`too_many_requests`: too many failed authentications from this address",
            ),
            (
                "503",
                "`unavailable`: a backing service is unavailable; try again",
            ),
        ];
        let manage = [
            ("400", "`malformed_json`, `invalid_body`, `invalid_query`"),
            ("401", "`not_signed_in`, `session_expired`"),
            ("403", "`csrf_token_invalid`, `cross_origin_request`"),
            ("404", "`not_found`"),
            ("413", "`payload_too_large`"),
            ("415", "`unsupported_media_type`: the body must be JSON"),
            ("422", "`validation_failed`, with the offending `field`"),
            ("429", "`too_many_requests`"),
            (
                "503",
                "`unavailable`: a backing service is unavailable; try again",
            ),
        ];
        for (path, item) in &mut openapi.paths.paths {
            // Handlers of different resources share function names (`list`, `get`):
            // operation ids come from the method and path instead, unique by design.
            let slug: String = path
                .split('/')
                .filter(|p| !p.is_empty())
                .map(|p| p.trim_matches(|c| c == '{' || c == '}').replace('-', "_"))
                .collect::<Vec<_>>()
                .join("_");
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ] {
                if let Some(op) = op {
                    op.operation_id = Some(format!("{method}_{slug}"));
                }
            }
            let common: &[(&str, &str)] = if path.starts_with("/api/") {
                &api
            } else if path.starts_with("/manage/") {
                &manage
            } else {
                continue;
            };
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (status, description) in common {
                    op.responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| error(description).into());
                }
            }
        }
    }
}

/// The property request shapes are combined with their `kind` tag through `allOf`;
/// `additionalProperties: false` on a shape would then forbid the tag itself and make
/// the request unsatisfiable for generators. Unknown fields are still refused by the
/// server (400 `invalid_body`), as the description says.
struct TaggedShapes;

impl Modify for TaggedShapes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in [
            "GoogleCredentialsRequest",
            "OauthIntegrationRequest",
            "OpenidConnectProviderRequest",
            "Oauth2ProviderRequest",
        ] {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name)
                && matches!(
                    object.additional_properties.as_deref(),
                    Some(AdditionalProperties::FreeForm(false))
                )
            {
                object.additional_properties = None;
            }
        }
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
        metrics::guarded,
        account::sign_up,
        account::sign_in,
        account::sign_out,
        account::me,
        instance::instance,
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
        properties::check_discovery,
        properties::preview_mapping,
        access_keys::list,
        access_keys::create,
        access_keys::revoke,
        hosted_services::list,
        hosted_services::diagnostics,
        webhooks::deliveries,
        webhooks::redeliver,
        webhooks::test,
        signing_keys::list,
        signing_keys::rotate,
        events::list,
        users::list,
        users::get,
        users::federated_users_of,
        users::tokens_of,
        users::revoke_tokens,
        users::revoke_token,
        users::get_federated_user,
        users::link,
        users::unlink,
        users::detach,
        hosted_login::google_start,
        hosted_login::google_callback,
        hosted_login::start,
        hosted_login::callback,
        jwks::jwks,
        app_api::calling_application,
        app_api::redeem_result,
        app_users::create,
        app_users::list,
        app_users::get,
        app_users::update,
        app_users::delete,
        app_users::add_locator,
        app_users::remove_locator,
        app_users::verify_locator,
        app_federated::get,
        app_federated::list_of_user,
        app_federated::link,
        app_federated::unlink,
        app_federated::detach,
        app_federated::upstream_tokens,
        app_tokens::issue,
        app_tokens::list,
        app_tokens::revoke_all,
        app_tokens::revoke_one,
        app_tokens::verify,
    ),
    components(schemas(fedgate_wire::error::ErrorBody)),
    modifiers(&SecuritySchemes, &CommonResponses, &TaggedShapes),
    tags(
        (name = "account", description = "Subscriber sign-up, sign-in and session"),
        (name = "applications", description = "Applications: the tenant boundary"),
        (name = "properties", description = "Typed configuration of an application"),
        (name = "access keys", description = "Credentials for the application API"),
        (name = "hosted services", description = "What the properties add up to"),
        (name = "application api", description = "For app backends; signed with an access key"),
        (name = "hosted login", description = "Browser-facing sign-in endpoints and the public JWKS"),
        (name = "events", description = "The application's login event log"),
        (name = "users", description = "The application's users, federated users and user tokens, for the panel"),
        (name = "operations", description = "Health and readiness")
    )
)]
pub struct ApiDoc;

/// The document, built and serialized once per process: every worker serves the same
/// bytes (each worker used to build and keep a copy of its own and serialize it again
/// for every request).
static DOCUMENT: LazyLock<Option<web::Bytes>> =
    LazyLock::new(|| serde_json::to_vec(&ApiDoc::openapi()).ok().map(Into::into));

/// `GET /openapi.json`.
pub async fn document() -> HttpResponse {
    match &*DOCUMENT {
        Some(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes.clone()),
        None => HttpResponse::InternalServerError().finish(),
    }
}

/// Swagger UI at `/api-docs/`, assets compiled in (no CDN), reading `/openapi.json`.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/api-docs/{_:.*}").config(Config::from(DOCUMENT_PATH))
}
