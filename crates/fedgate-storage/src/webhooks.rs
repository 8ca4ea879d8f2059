//! The webhook outbox: deliveries written beside the events they report, in the same
//! transaction, and claimed by the workers of every instance (on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so two instances never claim one delivery; SQLite has one
//! writer).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::Event;
use fedgate_domain::ids::{ApplicationId, PropertyId};
use fedgate_domain::ports::{StoreError, StoreResult, WebhookRepository};
use fedgate_domain::property::{PropertyKind, PropertySettings};
use fedgate_domain::webhook::{
    AttemptNext, Delivery, DeliveryAttempt, DeliveryStatus, Subscription, WebhookEventType,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::entity::{property, webhook_delivery};
use crate::{SeaStore, WriteTxn, backend_err, clamp};

fn to_active(d: &Delivery) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(d.id.clone()),
        application_id: Set(d.application_id.as_uuid()),
        webhook_id: Set(d.webhook_id.as_uuid()),
        event_type: Set(d.event_type.clone()),
        payload: Set(d.payload.clone()),
        created_at: Set(d.created_at),
        scheduled_at: Set(d.scheduled_at),
        status: Set(d.status.as_str().to_owned()),
        attempts: Set(i32::try_from(d.attempts).unwrap_or(i32::MAX)),
        next_attempt_at: Set(d.next_attempt_at),
        locked_until: Set(None),
        last_attempt_at: Set(d.last_attempt_at),
        last_status_code: Set(d.last_status_code.map(i32::from)),
        last_error: Set(d.last_error.as_deref().map(|e| clamp(e, 300))),
    }
}

fn to_domain(m: webhook_delivery::Model) -> StoreResult<Delivery> {
    Ok(Delivery {
        status: DeliveryStatus::parse(&m.status).ok_or_else(|| {
            StoreError::Backend(format!("delivery {}: unknown status {:?}", m.id, m.status))
        })?,
        id: m.id,
        application_id: ApplicationId::from_uuid(m.application_id),
        webhook_id: PropertyId::from_uuid(m.webhook_id),
        event_type: m.event_type,
        payload: m.payload,
        created_at: m.created_at,
        scheduled_at: m.scheduled_at,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        next_attempt_at: m.next_attempt_at,
        last_attempt_at: m.last_attempt_at,
        last_status_code: m.last_status_code.and_then(|c| u16::try_from(c).ok()),
        last_error: m.last_error,
    })
}

/// How long an instance trusts having read that an application has no webhook: one
/// created through another instance hears this one's events within this time
/// (through this one, at once).
const NO_WEBHOOKS_TTL: Duration = Duration::from_secs(1);

/// The applications this instance recently read to have no webhook, so that their
/// logins' transactions skip the read. Only that absence is remembered: an
/// application with webhooks has them read in each transaction, so a webhook deleted
/// elsewhere is never written a delivery.
#[derive(Debug, Default)]
pub(crate) struct SubscriptionCache {
    none: Mutex<HashMap<uuid::Uuid, Instant>>,
    /// Property changes made through this instance so far: a read that began before
    /// one is not remembered.
    changes: AtomicU64,
}

impl SubscriptionCache {
    fn has_none(&self, app: uuid::Uuid) -> bool {
        let none = self.none.lock().unwrap_or_else(PoisonError::into_inner);
        none.get(&app)
            .is_some_and(|at| at.elapsed() < NO_WEBHOOKS_TTL)
    }

    fn record_none(&self, read_at: Instant, seen: u64, apps: impl Iterator<Item = uuid::Uuid>) {
        let mut none = self.none.lock().unwrap_or_else(PoisonError::into_inner);
        if self.changes.load(Ordering::SeqCst) != seen {
            return;
        }
        if none.len() > 10_000 {
            none.retain(|_, at| at.elapsed() < NO_WEBHOOKS_TTL);
        }
        for app in apps {
            none.insert(app, read_at);
        }
    }

    /// Forgets what is known of `app` (its properties changed through this instance).
    pub(crate) fn forget(&self, app: ApplicationId) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.none
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&app.as_uuid());
    }
}

fn subscription(m: property::Model) -> Option<Subscription> {
    let json = serde_json::from_str(&m.settings).ok()?;
    match PropertySettings::from_stored(PropertyKind::Webhook, &json) {
        Ok(PropertySettings::Webhook(w)) => Some(Subscription {
            webhook_id: PropertyId::from_uuid(m.id),
            application_id: ApplicationId::from_uuid(m.application_id),
            event_types: w.types(),
        }),
        _ => None,
    }
}

/// The webhook subscriptions of `apps`, read with `db` except for applications
/// recently read to have none.
async fn subscriptions_of(
    db: &impl ConnectionTrait,
    cache: &SubscriptionCache,
    apps: &[uuid::Uuid],
) -> Result<Vec<Subscription>, sea_orm::DbErr> {
    let unknown: Vec<uuid::Uuid> = apps
        .iter()
        .copied()
        .filter(|a| !cache.has_none(*a))
        .collect();
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let read_at = Instant::now();
    let seen = cache.changes.load(Ordering::SeqCst);
    let read: Vec<Subscription> = property::Entity::find()
        .filter(property::Column::Kind.eq(PropertyKind::Webhook.as_str()))
        .filter(property::Column::ApplicationId.is_in(unknown.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(subscription)
        .collect();
    cache.record_none(
        read_at,
        seen,
        unknown
            .into_iter()
            .filter(|app| !read.iter().any(|s| s.application_id.as_uuid() == *app)),
    );
    Ok(read)
}

/// Writes, in `write` (the transaction storing `events`), the deliveries `events`
/// cause for the webhooks of their applications. Events no webhook can hear about
/// (login starts) cost no query, nor do applications this instance read to have no
/// webhook less than [`NO_WEBHOOKS_TTL`] ago.
pub(crate) async fn enqueue(write: &mut WriteTxn, events: &[Event]) -> Result<(), sea_orm::DbErr> {
    let mut apps: Vec<uuid::Uuid> = events
        .iter()
        .filter(|e| !WebhookEventType::of(e).is_empty())
        .map(|e| e.application_id.as_uuid())
        .collect();
    if apps.is_empty() {
        return Ok(());
    }
    apps.sort_unstable();
    apps.dedup();
    if apps.iter().all(|app| write.webhooks.has_none(*app)) {
        return Ok(());
    }
    // The read sees the transaction's queued writes.
    write.flush().await?;
    let subscriptions = subscriptions_of(&write.txn, &write.webhooks, &apps).await?;
    let deliveries = fedgate_domain::webhook::deliveries_for(events, &subscriptions);
    for chunk in deliveries.chunks(200) {
        write.defer(&webhook_delivery::Entity::insert_many(
            chunk.iter().map(to_active),
        ));
    }
    Ok(())
}

/// The claim: due pending deliveries not held by another worker, oldest due first,
/// leased to this one. PostgreSQL skips rows another transaction is claiming.
fn claim_statement(
    backend: DbBackend,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Statement {
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET locked_until = $1 \
         WHERE id IN (SELECT id FROM webhook_deliveries \
           WHERE status = 'pending' AND next_attempt_at <= $2 \
             AND (locked_until IS NULL OR locked_until <= $2) \
           ORDER BY next_attempt_at LIMIT $3{lock}) \
         RETURNING *"
    );
    Statement::from_sql_and_values(
        backend,
        sql,
        [
            lease_until.into(),
            now.into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ],
    )
}

#[async_trait]
impl WebhookRepository for SeaStore {
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<Delivery>> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let backend = self.db().get_database_backend();
        let rows = webhook_delivery::Entity::find()
            .from_raw_sql(claim_statement(backend, now, lease_until, limit))
            .all(&write.txn)
            .await
            .map_err(|e| backend_err(&e))?;
        write.commit().await.map_err(|e| backend_err(&e))?;
        rows.into_iter().map(to_domain).collect()
    }

    async fn record_delivery_attempt(
        &self,
        id: &str,
        attempt: &DeliveryAttempt,
    ) -> StoreResult<()> {
        let (status, next) = match attempt.next {
            AttemptNext::Delivered => (DeliveryStatus::Delivered, None),
            AttemptNext::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
            AttemptNext::GaveUp => (DeliveryStatus::Failed, None),
        };
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::col(webhook_delivery::Column::Attempts).add(1),
            )
            .col_expr(
                webhook_delivery::Column::Status,
                Expr::value(status.as_str()),
            )
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
            .col_expr(
                webhook_delivery::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_delivery::Column::LastAttemptAt,
                Expr::value(Some(attempt.at)),
            )
            .col_expr(
                webhook_delivery::Column::LastStatusCode,
                Expr::value(attempt.status_code.map(i32::from)),
            )
            .col_expr(
                webhook_delivery::Column::LastError,
                Expr::value(attempt.error.as_deref().map(|e| clamp(e, 300))),
            )
            .filter(webhook_delivery::Column::Id.eq(id))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        app: ApplicationId,
        webhook: PropertyId,
        limit: u64,
    ) -> StoreResult<Vec<Delivery>> {
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::ApplicationId.eq(app.as_uuid()))
            .filter(webhook_delivery::Column::WebhookId.eq(webhook.as_uuid()))
            .order_by_desc(webhook_delivery::Column::CreatedAt)
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn redeliver(
        &self,
        app: ApplicationId,
        webhook: PropertyId,
        id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Status,
                Expr::value(DeliveryStatus::Pending.as_str()),
            )
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(Some(now)),
            )
            .col_expr(webhook_delivery::Column::ScheduledAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::ApplicationId.eq(app.as_uuid()))
            .filter(webhook_delivery::Column::WebhookId.eq(webhook.as_uuid()))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(done.rows_affected > 0)
    }

    async fn insert_delivery(&self, delivery: &Delivery) -> StoreResult<()> {
        webhook_delivery::Entity::insert(to_active(delivery))
            .exec_without_returning(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(())
    }

    async fn delete_deliveries_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::CreatedAt.lt(before))
            .filter(webhook_delivery::Column::Status.ne(DeliveryStatus::Pending.as_str()))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(done.rows_affected)
    }
}
