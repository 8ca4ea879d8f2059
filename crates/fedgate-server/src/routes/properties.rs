//! Properties of an application.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use fedgate_domain::ValidationError;
use fedgate_domain::claims;
use fedgate_domain::ports::StoreError;
use fedgate_domain::property::{
    self as domain, ClientSecret, Oauth2ProviderInput, PropertyInput, PropertyKind,
    PropertySettings, StoredProperty,
};
use fedgate_provider::Discovered;
use fedgate_wire::error::ErrorBody;
use fedgate_wire::error::ErrorCode;
use fedgate_wire::properties::{
    ClaimMapping, ClientAuthentication, DevelopmentProviderDto, DiscoveryCheckRequest,
    DiscoveryDto, GoogleCredentialsDto, MappingPreviewDto, MappingPreviewRequest,
    Oauth2ProviderDto, OauthIntegrationDto, OpenidConnectProviderDto, PropertyDto, PropertyRequest,
    ResultDelivery, WebhookDto,
};
use secrecy::SecretString;

use super::{owned_application, owned_property};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

const fn auth_in(a: ClientAuthentication) -> domain::ClientAuthentication {
    match a {
        ClientAuthentication::ClientSecretBasic => domain::ClientAuthentication::ClientSecretBasic,
        ClientAuthentication::ClientSecretPost => domain::ClientAuthentication::ClientSecretPost,
    }
}

const fn auth_out(a: domain::ClientAuthentication) -> ClientAuthentication {
    match a {
        domain::ClientAuthentication::ClientSecretBasic => ClientAuthentication::ClientSecretBasic,
        domain::ClientAuthentication::ClientSecretPost => ClientAuthentication::ClientSecretPost,
    }
}

fn mapping_in(m: ClaimMapping) -> claims::ClaimMapping {
    claims::ClaimMapping {
        subject: m.subject,
        email: m.email,
        email_verified: m.email_verified,
        name: m.name,
        given_name: m.given_name,
        family_name: m.family_name,
        picture: m.picture,
        username: m.username,
    }
}

fn mapping_out(m: claims::ClaimMapping) -> ClaimMapping {
    ClaimMapping {
        subject: m.subject,
        email: m.email,
        email_verified: m.email_verified,
        name: m.name,
        given_name: m.given_name,
        family_name: m.family_name,
        picture: m.picture,
        username: m.username,
    }
}

fn to_input(req: PropertyRequest) -> PropertyInput {
    match req {
        PropertyRequest::GoogleOauthCredentials(g) => PropertyInput::GoogleOauthCredentials {
            instance_name: g.instance_name,
            client_id: g.client_id,
            client_secret: g.client_secret.map(SecretString::from),
            project_number: g.project_number,
            application_name: g.application_name,
        },
        PropertyRequest::OauthIntegration(i) => PropertyInput::OauthIntegration {
            instance_name: i.instance_name,
            redirect_uris: i.redirect_uris,
            require_state_signing: i.require_state_signing,
            result_delivery: match i.result_delivery {
                ResultDelivery::Query => domain::ResultDelivery::Query,
                ResultDelivery::Code => domain::ResultDelivery::Code,
            },
            auto_create_users: i.auto_create_users,
        },
        PropertyRequest::OpenidConnectProvider(o) => PropertyInput::OpenidConnectProvider {
            instance_name: o.instance_name,
            slug: o.slug,
            display_name: o.display_name,
            issuer: o.issuer,
            client_id: o.client_id,
            client_secret: o.client_secret.map(SecretString::from),
            client_authentication: auth_in(o.client_authentication),
            scopes: o.scopes,
            verifies_emails: o.verifies_emails,
            allowed_email_domains: o.allowed_email_domains,
            allowed_tenants: o.allowed_tenants,
        },
        PropertyRequest::DevelopmentProvider(d) => PropertyInput::DevelopmentProvider {
            instance_name: d.instance_name,
        },
        PropertyRequest::Webhook(w) => PropertyInput::Webhook {
            instance_name: w.instance_name,
            url: w.url,
            event_types: w.event_types,
        },
        PropertyRequest::Oauth2Provider(o) => {
            PropertyInput::Oauth2Provider(Box::new(Oauth2ProviderInput {
                instance_name: o.instance_name,
                slug: o.slug,
                display_name: o.display_name,
                authorization_url: o.authorization_url,
                token_url: o.token_url,
                profile_url: o.profile_url,
                emails_url: o.emails_url,
                client_id: o.client_id,
                client_secret: o.client_secret.map(SecretString::from),
                client_authentication: auth_in(o.client_authentication),
                scopes: o.scopes,
                pkce: o.pkce,
                issuer: o.issuer,
                claim_mapping: mapping_in(o.claim_mapping),
                verifies_emails: o.verifies_emails,
                allowed_email_domains: o.allowed_email_domains,
            }))
        }
    }
}

/// The wire form of a stored property. A row whose settings no longer parse is an
/// internal error: writes validate, so only tampering or a bad migration gets here.
fn dto(p: &StoredProperty) -> Result<PropertyDto, ApiError> {
    let settings = p
        .parsed_settings()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("property {}: {e}", p.id)))?;
    Ok(match settings {
        PropertySettings::GoogleOauthCredentials(g) => {
            PropertyDto::GoogleOauthCredentials(GoogleCredentialsDto {
                id: p.id.to_string(),
                instance_name: p.instance_name.clone(),
                client_id: g.client_id.as_str().to_owned(),
                client_secret_set: p.sealed_secret.is_some(),
                project_number: g.project_number,
                application_name: g.application_name,
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
        }
        PropertySettings::OauthIntegration(i) => {
            PropertyDto::OauthIntegration(OauthIntegrationDto {
                id: p.id.to_string(),
                instance_name: p.instance_name.clone(),
                redirect_uris: i.redirect_uris,
                require_state_signing: i.require_state_signing,
                result_delivery: match i.result_delivery {
                    domain::ResultDelivery::Query => ResultDelivery::Query,
                    domain::ResultDelivery::Code => ResultDelivery::Code,
                },
                auto_create_users: i.auto_create_users,
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
        }
        PropertySettings::OpenidConnectProvider(o) => {
            let multi_tenant = o.is_entra_multi_tenant();
            PropertyDto::OpenidConnectProvider(OpenidConnectProviderDto {
                id: p.id.to_string(),
                instance_name: p.instance_name.clone(),
                slug: o.slug.as_str().to_owned(),
                display_name: o.display_name,
                issuer: o.issuer,
                client_id: o.client_id.as_str().to_owned(),
                client_secret_set: p.sealed_secret.is_some(),
                client_authentication: auth_out(o.client_authentication),
                scopes: o.scopes,
                verifies_emails: o.verifies_emails,
                allowed_email_domains: o.allowed_email_domains,
                multi_tenant,
                allowed_tenants: o.allowed_tenants,
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
        }
        PropertySettings::Webhook(w) => PropertyDto::Webhook(WebhookDto {
            id: p.id.to_string(),
            instance_name: p.instance_name.clone(),
            url: w.url,
            event_types: w.event_types,
            signing_secret: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }),
        PropertySettings::DevelopmentProvider => {
            PropertyDto::DevelopmentProvider(DevelopmentProviderDto {
                id: p.id.to_string(),
                instance_name: p.instance_name.clone(),
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
        }
        PropertySettings::Oauth2Provider(o) => PropertyDto::Oauth2Provider(Oauth2ProviderDto {
            id: p.id.to_string(),
            instance_name: p.instance_name.clone(),
            slug: o.slug.as_str().to_owned(),
            display_name: o.display_name,
            authorization_url: o.authorization_url,
            token_url: o.token_url,
            profile_url: o.profile_url,
            emails_url: o.emails_url,
            client_id: o.client_id.as_str().to_owned(),
            client_secret_set: p.sealed_secret.is_some(),
            client_authentication: auth_out(o.client_authentication),
            scopes: o.scopes,
            pkce: o.pkce,
            issuer: o.issuer,
            claim_mapping: mapping_out(o.claim_mapping),
            verifies_emails: o.verifies_emails,
            allowed_email_domains: o.allowed_email_domains,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }),
    })
}

/// Fetches a saved OpenID Connect provider's discovery document now, so its tile
/// shows the result at once. A failure does not fail the save: the tile says why.
async fn discover_on_save(state: &AppState, row: &StoredProperty) {
    if let Ok(PropertySettings::OpenidConnectProvider(p)) = row.parsed_settings() {
        let _found = state.registry.client().discover(&p.issuer, true).await;
    }
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(what) if what.contains("slug") => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::SlugTaken,
            "another provider of this application has this slug; choose another",
        )
        .with_field("slug"),
        StoreError::Conflict(what) => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::PropertyExists,
            format!("{what} already exists on this application; edit it instead"),
        ),
        other => other.into(),
    }
}

/// `GET /manage/v1/applications/{appId}/properties`
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/properties",
    tag = "properties",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id")),
    responses((status = 200, body = [PropertyDto]), (status = 404, body = ErrorBody))
)]
pub async fn list(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let props = state.store.list_properties(app.id).await?;
    let dtos = props.iter().map(dto).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(dtos))
}

/// `POST /manage/v1/applications/{appId}/properties`
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/properties",
    tag = "properties",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    request_body = PropertyRequest,
    responses(
        (status = 201, body = PropertyDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`property_exists`: at most one Google credentials and one integration per application; `slug_taken`; `limit_reached`: at most 20 OpenID Connect and 20 OAuth2 providers; `dev_provider_off`: a Development sign-in while the development provider is off", body = ErrorBody),
        (status = 422, description = "`validation_failed`, with `field`", body = ErrorBody)
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
    body: JsonBody<PropertyRequest>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let valid = to_input(body.into_inner()).validate(true)?;
    let kind = valid.settings.kind();
    if kind == PropertyKind::DevelopmentProvider && state.registry.development().is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::DevProviderOff,
            "the development provider is off on this Fedgate (it is on only for the embedded default listening on loopback, or with dev_provider = on)",
        ));
    }
    if let Some(most) = kind.most_per_application() {
        let existing = state.store.list_properties(app.id).await?;
        if existing.iter().filter(|p| p.kind == kind).count() >= most {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::LimitReached,
                format!(
                    "an application may have at most {most} properties of the kind {}",
                    kind.as_str()
                ),
            ));
        }
    }
    check_webhook_url(&state, &valid.settings)?;
    let mut valid = valid;
    // A webhook's signing secret is Fedgate's to make, and shown once: now.
    let signing_secret = (kind == PropertyKind::Webhook).then(fedgate_domain::webhook::new_secret);
    if let Some(secret) = &signing_secret {
        valid.secret = Some(ClientSecret::parse(&SecretString::from(secret.clone()))?);
    }
    let row = StoredProperty::create(app.id, valid, &state.sealer, state.clock.now());
    state.store.insert_property(&row).await.map_err(conflict)?;
    discover_on_save(&state, &row).await;
    state.registry.invalidate(app.id);
    tracing::info!(app_id = %app.id, property_id = %row.id, kind = row.kind.as_str(), "property created");
    let mut created = dto(&row)?;
    if let PropertyDto::Webhook(w) = &mut created {
        w.signing_secret = signing_secret;
    }
    Ok(HttpResponse::Created().json(created))
}

/// A webhook URL Fedgate would never call (a private or metadata address, plain http
/// where loopback calls are not allowed) is refused when saved, not at delivery.
fn check_webhook_url(state: &AppState, settings: &PropertySettings) -> Result<(), ApiError> {
    let PropertySettings::Webhook(w) = settings else {
        return Ok(());
    };
    let url = url::Url::parse(&w.url).map_err(|_| ValidationError::new("url", "is not a URL"))?;
    match state.registry.client().refusal(&url) {
        Some(why) => Err(ValidationError::new("url", why).into()),
        None => Ok(()),
    }
}

/// `GET /manage/v1/applications/{appId}/properties/{propertyId}`
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/properties/{propertyId}",
    tag = "properties",
    security(("session" = [])),
    params(("appId" = String, Path, description = "Application id"), ("propertyId" = String, Path, description = "Property id")),
    responses((status = 200, body = PropertyDto), (status = 404, body = ErrorBody))
)]
pub async fn get(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app_id, property_id) = path.into_inner();
    let row = owned_property(&state, &session, &app_id, &property_id).await?;
    Ok(HttpResponse::Ok().json(dto(&row)?))
}

/// `PUT /manage/v1/applications/{appId}/properties/{propertyId}`: replaces every
/// field; an omitted `clientSecret` keeps the stored one; a provider's `slug` cannot
/// change.
#[utoipa::path(
    put,
    path = "/manage/v1/applications/{appId}/properties/{propertyId}",
    tag = "properties",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("propertyId" = String, Path, description = "Property id")),
    request_body = PropertyRequest,
    responses(
        (status = 200, body = PropertyDto),
        (status = 400, description = "`kind_mismatch`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn replace(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
    body: JsonBody<PropertyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (app_id, property_id) = path.into_inner();
    let row = owned_property(&state, &session, &app_id, &property_id).await?;
    let input = to_input(body.into_inner());
    if input.kind() != row.kind {
        return Err(ApiError::bad_request(
            ErrorCode::KindMismatch,
            format!(
                "this property is of kind {}; its kind cannot change",
                row.kind.as_str()
            ),
        ));
    }
    let valid = input.validate(false)?;
    check_webhook_url(&state, &valid.settings)?;
    if let Ok(old) = row.parsed_settings() {
        domain::check_replacement(&old, &valid.settings)?;
    }
    let updated = row.replaced(valid, &state.sealer, state.clock.now());
    if !state
        .store
        .update_property(&updated)
        .await
        .map_err(conflict)?
    {
        return Err(ApiError::not_found("property"));
    }
    discover_on_save(&state, &updated).await;
    state.registry.invalidate(updated.application_id);
    tracing::info!(property_id = %updated.id, "property updated");
    Ok(HttpResponse::Ok().json(dto(&updated)?))
}

/// `DELETE /manage/v1/applications/{appId}/properties/{propertyId}`
#[utoipa::path(
    delete,
    path = "/manage/v1/applications/{appId}/properties/{propertyId}",
    tag = "properties",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id"), ("propertyId" = String, Path, description = "Property id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody))
)]
pub async fn delete(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app_id, property_id) = path.into_inner();
    let row = owned_property(&state, &session, &app_id, &property_id).await?;
    if !state
        .store
        .delete_property(row.application_id, row.id)
        .await?
    {
        return Err(ApiError::not_found("property"));
    }
    state.registry.invalidate(row.application_id);
    tracing::info!(property_id = %row.id, "property deleted");
    Ok(HttpResponse::NoContent().finish())
}

fn discovery_dto(d: &Discovered) -> DiscoveryDto {
    DiscoveryDto {
        issuer: d.issuer.clone(),
        authorization_endpoint: d.authorization_endpoint.to_string(),
        token_endpoint: d.token_endpoint.to_string(),
        userinfo_endpoint: d.userinfo_endpoint.as_ref().map(ToString::to_string),
        jwks_uri: d.jwks_uri.to_string(),
        signing_algorithms: d.advertised_algorithms.clone(),
        accepted_algorithms: d.algorithms.iter().map(|a| format!("{a:?}")).collect(),
        iss_parameter_supported: d.iss_parameter_supported,
        token_endpoint_auth_methods: d.token_auth_methods.clone(),
        multi_tenant: d.tenant_template,
    }
}

/// `POST /manage/v1/applications/{appId}/discovery-check`: fetches an issuer's
/// discovery document now (through the same address guard as logins) and says what it
/// found or exactly why it is unusable. A saved provider with this issuer uses the
/// fresh result at once, so this is also how a subscriber re-checks an INACTIVE tile.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/discovery-check",
    tag = "properties",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    request_body = DiscoveryCheckRequest,
    responses(
        (status = 200, body = DiscoveryDto),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed` (not a URL), or the discovery failure: `discovery_unreachable`, `discovery_address_refused`, `discovery_not_https`, `discovery_http_status`, `discovery_invalid_json`, `discovery_issuer_mismatch`, `discovery_no_jwks`, `discovery_no_code_flow`, `discovery_no_s256`, `discovery_no_usable_algorithm` — with `field` = `issuer`", body = ErrorBody)
    )
)]
pub async fn check_discovery(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
    body: JsonBody<DiscoveryCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    let app = owned_application(&state, &session, &path).await?;
    let issuer = domain::parse_issuer(&body.into_inner().issuer)?;
    let found = state.registry.client().discover(&issuer, true).await;
    state.registry.invalidate(app.id);
    match found {
        Ok(d) => Ok(HttpResponse::Ok().json(discovery_dto(&d))),
        Err(e) => Err(e.into()),
    }
}

/// Longest sample accepted by the mapping preview.
const MAX_PREVIEW_SAMPLE: usize = 64 * 1024;

fn sample(field: &'static str, text: &str) -> Result<serde_json::Value, ValidationError> {
    if text.len() > MAX_PREVIEW_SAMPLE {
        return Err(ValidationError::new(field, "must be at most 64 KiB"));
    }
    serde_json::from_str(text).map_err(|e| ValidationError::new(field, format!("is not JSON: {e}")))
}

/// `POST /manage/v1/applications/{appId}/mapping-preview`: what an OAuth2 provider's
/// claim mapping yields for a sample profile (and emails list) — the subject, email
/// and name a login would record, or why it would fail. Nothing is stored.
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/mapping-preview",
    tag = "properties",
    security(("session" = [], "csrf" = [])),
    params(("appId" = String, Path, description = "Application id")),
    request_body = MappingPreviewRequest,
    responses(
        (status = 200, body = MappingPreviewDto),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: a pointer is not a JSON pointer (`field` = `claimMapping.…`), or a sample is not JSON (`profile`, `emails`)", body = ErrorBody)
    )
)]
pub async fn preview_mapping(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<String>,
    body: JsonBody<MappingPreviewRequest>,
) -> Result<HttpResponse, ApiError> {
    owned_application(&state, &session, &path).await?;
    let req = body.into_inner();
    let mapping = claims::ClaimMapping::parse(mapping_in(req.claim_mapping))?;
    let profile = sample("profile", &req.profile)?;
    let emails = req
        .emails
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| sample("emails", t))
        .transpose()?;
    let dto = match mapping.apply(&profile) {
        Ok(mut mapped) => {
            if let Some(list) = &emails {
                mapped.with_email_list(list);
            }
            MappingPreviewDto {
                subject: Some(mapped.subject),
                email: mapped.email,
                email_verified: mapped.email_verified,
                name: mapped.name,
                given_name: mapped.given_name,
                family_name: mapped.family_name,
                picture: mapped.picture,
                username: mapped.username,
                failure: None,
            }
        }
        Err(e) => MappingPreviewDto {
            failure: Some(format!("{}: {e}", e.code())),
            ..MappingPreviewDto::default()
        },
    };
    Ok(HttpResponse::Ok().json(dto))
}
