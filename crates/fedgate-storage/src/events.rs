//! The event log and the signing keys.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use fedgate_domain::events::{Event, EventKind, EventQuery, LoginOutcome};
use fedgate_domain::ids::{ApplicationId, EventId, FederatedUserId, UserId};
use fedgate_domain::ports::{EventRepository, SigningKeyRepository, StoreResult, StoredSigningKey};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde::Serialize;

use crate::entity::{event, signing_key};
use crate::{SeaStore, WriteTxn, backend_err, clamp, conflict_or_backend};

/// An event's texts cut to their columns' lengths: reason, detail, provider.
fn clamped(e: &Event) -> (Option<String>, Option<String>, Option<String>) {
    (
        e.reason.as_deref().map(|r| clamp(r, 100)),
        e.detail.as_deref().map(|d| clamp(d, 1000)),
        e.provider.as_deref().map(|p| clamp(p, 100)),
    )
}

fn to_active(e: &Event) -> event::ActiveModel {
    let (reason, detail, provider) = clamped(e);
    event::ActiveModel {
        id: Set(e.id.as_uuid()),
        application_id: Set(e.application_id.as_uuid()),
        at: Set(e.at),
        kind: Set(e.kind.as_str().to_owned()),
        outcome: Set(e.outcome.map(|o| o.as_str().to_owned())),
        reason: Set(reason),
        detail: Set(detail),
        provider: Set(provider),
        federated_user_id: Set(e.federated_user_id.map(|f| f.as_uuid())),
        user_id: Set(e.user_id.as_ref().map(|u| u.as_str().to_owned())),
    }
}

/// An event as one element of the JSON array [`POSTGRES_INSERT`] reads: the `events`
/// table's columns by name, each value in the text its column type reads.
#[derive(Serialize)]
struct EventRow<'a> {
    id: uuid::Uuid,
    application_id: uuid::Uuid,
    at: String,
    kind: &'static str,
    outcome: Option<&'static str>,
    reason: Option<String>,
    detail: Option<String>,
    provider: Option<String>,
    federated_user_id: Option<uuid::Uuid>,
    user_id: Option<&'a str>,
}

impl<'a> EventRow<'a> {
    fn of(e: &'a Event) -> Self {
        let (reason, detail, provider) = clamped(e);
        Self {
            id: e.id.as_uuid(),
            application_id: e.application_id.as_uuid(),
            // Microseconds, cut as the database's own timestamps are.
            at: e.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            kind: e.kind.as_str(),
            outcome: e.outcome.map(LoginOutcome::as_str),
            reason,
            detail,
            provider,
            federated_user_id: e.federated_user_id.map(|f| f.as_uuid()),
            user_id: e.user_id.as_ref().map(UserId::as_str),
        }
    }
}

/// PostgreSQL: every event in one statement with one parameter, a JSON array of rows
/// that `json_populate_recordset` reads as the table's own row type. The text is the
/// same for any number of events, so it is prepared once per connection, and the rows
/// go as one value instead of ten parameters each.
const POSTGRES_INSERT: &str = "INSERT INTO events (id, application_id, at, kind, outcome, \
     reason, detail, provider, federated_user_id, user_id) SELECT id, application_id, at, \
     kind, outcome, reason, detail, provider, federated_user_id, user_id \
     FROM json_populate_recordset(NULL::events, $1::json)";

fn postgres_insert(events: &[Event]) -> Result<Statement, sea_orm::DbErr> {
    let rows: Vec<EventRow<'_>> = events.iter().map(EventRow::of).collect();
    let rows = serde_json::to_string(&rows).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        POSTGRES_INSERT,
        [rows.into()],
    ))
}

/// Inserts events in `write` (the transaction whose changes they record), and the
/// webhook deliveries they cause. The inserts are queued: they go with the
/// transaction's other queued writes before its next read or its commit.
pub(crate) async fn insert_events(
    write: &mut WriteTxn,
    events: &[Event],
) -> Result<(), sea_orm::DbErr> {
    if write.txn.get_database_backend() == DbBackend::Postgres {
        if !events.is_empty() {
            write.defer_statement(postgres_insert(events)?);
        }
    } else {
        // Bounded chunks keep each statement under SQLite's parameter limit.
        for chunk in events.chunks(500) {
            write.defer(&event::Entity::insert_many(chunk.iter().map(to_active)));
        }
    }
    // The transactional outbox: webhook deliveries commit or roll back with the events.
    crate::webhooks::enqueue(write, events).await
}

#[async_trait]
impl EventRepository for SeaStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let mut write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        insert_events(&mut write, events)
            .await
            .map_err(|e| backend_err(&e))?;
        write.commit().await.map_err(|e| backend_err(&e))
    }

    async fn delete_events_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = event::Entity::delete_many()
            .filter(event::Column::At.lt(before))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(done.rows_affected)
    }

    async fn list_events(&self, app: ApplicationId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let mut find = event::Entity::find().filter(event::Column::ApplicationId.eq(app.as_uuid()));
        if let Some(kind) = q.kind {
            find = find.filter(event::Column::Kind.eq(kind.as_str()));
        }
        if let Some(provider) = &q.provider {
            find = find.filter(event::Column::Provider.eq(provider.as_str()));
        }
        if let Some(before) = q.before {
            find = find.filter(event::Column::Id.lt(before.as_uuid()));
        }
        let rows = find
            .order_by_desc(event::Column::Id)
            .limit(q.limit)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(rows
            .into_iter()
            // A kind this version does not know (written by a newer one) is skipped.
            .filter_map(|m| Some((EventKind::parse(&m.kind)?, m)))
            .map(|(kind, m)| Event {
                id: EventId::from_uuid(m.id),
                application_id: ApplicationId::from_uuid(m.application_id),
                at: m.at,
                kind,
                outcome: m.outcome.as_deref().and_then(LoginOutcome::parse),
                reason: m.reason,
                detail: m.detail,
                provider: m.provider,
                federated_user_id: m.federated_user_id.map(FederatedUserId::from_uuid),
                user_id: m.user_id.as_deref().and_then(UserId::parse),
            })
            .collect())
    }
}

#[async_trait]
impl SigningKeyRepository for SeaStore {
    async fn list_signing_keys(&self, app: ApplicationId) -> StoreResult<Vec<StoredSigningKey>> {
        let rows = signing_key::Entity::find()
            .filter(signing_key::Column::ApplicationId.eq(app.as_uuid()))
            .order_by_asc(signing_key::Column::ActivatesAt)
            .order_by_asc(signing_key::Column::Kid)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(rows
            .into_iter()
            .map(|m| StoredSigningKey {
                kid: m.kid,
                application_id: ApplicationId::from_uuid(m.application_id),
                algorithm: m.algorithm,
                sealed_private: m.sealed_private,
                public_key: m.public_key,
                created_at: m.created_at,
                activates_at: m.activates_at,
            })
            .collect())
    }

    async fn insert_signing_key(&self, k: &StoredSigningKey) -> StoreResult<()> {
        signing_key::ActiveModel {
            kid: Set(k.kid.clone()),
            application_id: Set(k.application_id.as_uuid()),
            algorithm: Set(k.algorithm.clone()),
            sealed_private: Set(k.sealed_private.clone()),
            public_key: Set(k.public_key.clone()),
            created_at: Set(k.created_at),
            activates_at: Set(k.activates_at),
        }
        .insert(self.db())
        .await
        .map_err(|e| conflict_or_backend(&e, "a signing key with this id"))?;
        Ok(())
    }

    async fn delete_signing_keys(&self, app: ApplicationId, kids: &[String]) -> StoreResult<()> {
        if kids.is_empty() {
            return Ok(());
        }
        signing_key::Entity::delete_many()
            .filter(signing_key::Column::ApplicationId.eq(app.as_uuid()))
            .filter(signing_key::Column::Kid.is_in(kids.iter().cloned()))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(())
    }
}
