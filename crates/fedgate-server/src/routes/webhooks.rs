//! A webhook's deliveries: the recent ones with their attempts, redelivery, and a
//! test event. (The webhook itself is a property: see `properties`.)

use actix_web::{HttpResponse, web};
use fedgate_domain::property::{PropertyKind, StoredProperty};
use fedgate_domain::webhook::{self, Delivery, Subscription};
use fedgate_wire::error::ErrorBody;
use fedgate_wire::properties::WebhookDeliveryDto;

use super::owned_property;
use crate::error::ApiError;
use crate::session::SubscriberSession;
use crate::state::AppState;

/// Deliveries listed per webhook.
const LISTED: u64 = 50;

fn dto(d: Delivery) -> WebhookDeliveryDto {
    WebhookDeliveryDto {
        id: d.id,
        event_type: d.event_type,
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        created_at: d.created_at,
        last_attempt_at: d.last_attempt_at,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        next_attempt_at: d.next_attempt_at,
        payload: d.payload,
    }
}

/// The session's webhook property `webhook` of application `app`; 404 for anything
/// else (another kind of property included).
async fn owned_webhook(
    state: &AppState,
    session: &SubscriberSession,
    app: &str,
    webhook: &str,
) -> Result<StoredProperty, ApiError> {
    let property = owned_property(state, session, app, webhook).await?;
    if property.kind != PropertyKind::Webhook {
        return Err(ApiError::not_found("webhook"));
    }
    Ok(property)
}

/// `GET /manage/v1/applications/{appId}/webhooks/{webhookId}/deliveries`
#[utoipa::path(
    get,
    path = "/manage/v1/applications/{appId}/webhooks/{webhookId}/deliveries",
    tag = "webhooks",
    security(("session" = [])),
    params(
        ("appId" = String, Path, description = "Application id"),
        ("webhookId" = String, Path, description = "The webhook property's id")
    ),
    responses(
        (status = 200, description = "The 50 most recent deliveries, newest first", body = [WebhookDeliveryDto]),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, webhook) = path.into_inner();
    let property = owned_webhook(&state, &session, &app, &webhook).await?;
    let list = state
        .store
        .list_deliveries(property.application_id, property.id, LISTED)
        .await?;
    Ok(HttpResponse::Ok().json(list.into_iter().map(dto).collect::<Vec<_>>()))
}

/// `POST /manage/v1/applications/{appId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver`
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    tag = "webhooks",
    security(("session" = [], "csrf" = [])),
    params(
        ("appId" = String, Path, description = "Application id"),
        ("webhookId" = String, Path, description = "The webhook property's id"),
        ("deliveryId" = String, Path, description = "The message id (`msg_…`)")
    ),
    responses(
        (status = 204, description = "Due now again, with the same message id and a new 24-hour retry window"),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, webhook, delivery) = path.into_inner();
    let property = owned_webhook(&state, &session, &app, &webhook).await?;
    if !state
        .store
        .redeliver(
            property.application_id,
            property.id,
            &delivery,
            state.clock.now(),
        )
        .await?
    {
        return Err(ApiError::not_found("delivery"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /manage/v1/applications/{appId}/webhooks/{webhookId}/test`
#[utoipa::path(
    post,
    path = "/manage/v1/applications/{appId}/webhooks/{webhookId}/test",
    tag = "webhooks",
    security(("session" = [], "csrf" = [])),
    params(
        ("appId" = String, Path, description = "Application id"),
        ("webhookId" = String, Path, description = "The webhook property's id")
    ),
    responses(
        (status = 202, description = "A `webhook.test` event, delivered like any other", body = WebhookDeliveryDto),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn test(
    state: web::Data<AppState>,
    session: SubscriberSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, webhook) = path.into_inner();
    let property = owned_webhook(&state, &session, &app, &webhook).await?;
    let now = state.clock.now();
    let subscription = Subscription {
        webhook_id: property.id,
        application_id: property.application_id,
        event_types: Vec::new(),
    };
    let delivery = Delivery::new(
        &subscription,
        webhook::TEST_EVENT_TYPE,
        webhook::test_payload(property.application_id, now),
        now,
    );
    state.store.insert_delivery(&delivery).await?;
    Ok(HttpResponse::Accepted().json(dto(delivery)))
}
