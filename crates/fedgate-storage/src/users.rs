//! Users and their locators.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::federation::LinkState;
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_domain::ports::{
    LocatorChange, LocatorChangeOutcome, StoreError, StoreResult, UserRepository,
};
use fedgate_domain::user::{Locator, LocatorKind, User, UserLocator};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::{federated_user, user, user_locator};
use crate::events::insert_events;
use crate::{SeaStore, WriteTxn, backend_err, conflict_or_backend};

/// Queues in `write` the inserts of a user and of its locators, in that order.
pub(crate) fn defer_user_inserts(write: &mut WriteTxn, u: &User) {
    write.defer(&user::Entity::insert(user::ActiveModel {
        application_id: Set(u.application_id.as_uuid()),
        id: Set(u.id.as_str().to_owned()),
        screen_name: Set(u.screen_name.clone()),
        created_at: Set(u.created_at),
        updated_at: Set(u.created_at),
    }));
    for l in &u.locators {
        write.defer(&locator_insert(u.application_id, &u.id, l, u.created_at));
    }
}

/// The insert of one locator of user `id`; a unique violation means someone has it.
fn locator_insert(
    app: ApplicationId,
    id: &UserId,
    l: &UserLocator,
    now: DateTime<Utc>,
) -> sea_orm::Insert<user_locator::ActiveModel> {
    user_locator::Entity::insert(user_locator::ActiveModel {
        application_id: Set(app.as_uuid()),
        kind: Set(l.locator.kind().as_str().to_owned()),
        normalized: Set(l.locator.normalized().to_owned()),
        value: Set(l.locator.value().to_owned()),
        user_id: Set(id.as_str().to_owned()),
        verified: Set(l.verified),
        created_at: Set(now),
    })
}

pub(crate) fn locator_from(m: &user_locator::Model) -> StoreResult<UserLocator> {
    let kind = LocatorKind::parse(&m.kind)
        .ok_or_else(|| StoreError::Backend(format!("unknown locator kind {:?}", m.kind)))?;
    Ok(UserLocator {
        locator: Locator::from_stored(kind, m.value.clone(), m.normalized.clone()),
        verified: m.verified,
    })
}

/// Loads users (with their locators, two queries) from their rows, keeping row order.
async fn with_locators(
    db: &impl ConnectionTrait,
    app: ApplicationId,
    rows: Vec<user::Model>,
) -> StoreResult<Vec<User>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let locators = user_locator::Entity::find()
        .filter(user_locator::Column::ApplicationId.eq(app.as_uuid()))
        .filter(user_locator::Column::UserId.is_in(ids))
        .order_by_asc(user_locator::Column::CreatedAt)
        .order_by_asc(user_locator::Column::Normalized)
        .all(db)
        .await
        .map_err(|e| backend_err(&e))?;
    let mut by_user: HashMap<String, Vec<UserLocator>> = HashMap::new();
    for l in &locators {
        by_user
            .entry(l.user_id.clone())
            .or_default()
            .push(locator_from(l)?);
    }
    rows.into_iter()
        .map(|m| {
            Ok(User {
                id: UserId::parse(&m.id)
                    .ok_or_else(|| StoreError::Backend(format!("stored user id {:?}", m.id)))?,
                application_id: app,
                screen_name: m.screen_name,
                locators: by_user.remove(&m.id).unwrap_or_default(),
                created_at: m.created_at,
            })
        })
        .collect()
}

async fn one_user(
    db: &impl ConnectionTrait,
    app: ApplicationId,
    id: &UserId,
) -> StoreResult<Option<User>> {
    let row = user::Entity::find_by_id((app.as_uuid(), id.as_str().to_owned()))
        .one(db)
        .await
        .map_err(|e| backend_err(&e))?;
    Ok(with_locators(db, app, row.into_iter().collect())
        .await?
        .pop())
}

fn locator_filter(app: ApplicationId, id: &UserId, l: &Locator) -> Condition {
    Condition::all()
        .add(user_locator::Column::ApplicationId.eq(app.as_uuid()))
        .add(user_locator::Column::UserId.eq(id.as_str()))
        .add(user_locator::Column::Kind.eq(l.kind().as_str()))
        .add(user_locator::Column::Normalized.eq(l.normalized()))
}

#[async_trait]
impl UserRepository for SeaStore {
    async fn create_user(&self, u: &User, event: Option<Event>) -> StoreResult<()> {
        let mut write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        defer_user_inserts(&mut write, u);
        write
            .flush()
            .await
            .map_err(|e| conflict_or_backend(&e, "a user with this id or locator"))?;
        if let Some(event) = event {
            insert_events(&mut write, &[event])
                .await
                .map_err(|e| backend_err(&e))?;
        }
        write.commit().await.map_err(|e| backend_err(&e))
    }

    async fn get_user(&self, app: ApplicationId, id: &UserId) -> StoreResult<Option<User>> {
        one_user(self.db(), app, id).await
    }

    async fn get_users(&self, app: ApplicationId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = user::Entity::find()
            .filter(user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user::Column::Id.is_in(ids.iter().map(|i| i.as_str().to_owned())))
            .order_by_asc(user::Column::Id)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        with_locators(self.db(), app, rows).await
    }

    async fn list_users(
        &self,
        app: ApplicationId,
        after: Option<&UserId>,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        let mut find = user::Entity::find().filter(user::Column::ApplicationId.eq(app.as_uuid()));
        if let Some(after) = after {
            find = find.filter(user::Column::Id.gt(after.as_str()));
        }
        let rows = find
            .order_by_asc(user::Column::Id)
            .limit(limit)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        with_locators(self.db(), app, rows).await
    }

    async fn find_user_by_locator(
        &self,
        app: ApplicationId,
        locator: &Locator,
    ) -> StoreResult<Option<User>> {
        let owner = user_locator::Entity::find_by_id((
            app.as_uuid(),
            locator.kind().as_str().to_owned(),
            locator.normalized().to_owned(),
        ))
        .one(self.db())
        .await
        .map_err(|e| backend_err(&e))?;
        match owner.and_then(|o| UserId::parse(&o.user_id)) {
            Some(id) => one_user(self.db(), app, &id).await,
            None => Ok(None),
        }
    }

    async fn update_user(
        &self,
        app: ApplicationId,
        id: &UserId,
        screen_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let updated = user::Entity::update_many()
            .col_expr(
                user::Column::ScreenName,
                Expr::value(screen_name.map(ToOwned::to_owned)),
            )
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user::Column::Id.eq(id.as_str()))
            .exec(&write.txn)
            .await
            .map_err(|e| backend_err(&e))?
            .rows_affected;
        if updated == 0 {
            return Ok(None);
        }
        let user = one_user(&write.txn, app, id).await?;
        write.commit().await.map_err(|e| backend_err(&e))?;
        Ok(user)
    }

    async fn change_locator(
        &self,
        app: ApplicationId,
        id: &UserId,
        change: &LocatorChange,
        now: DateTime<Utc>,
    ) -> StoreResult<LocatorChangeOutcome> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let txn = &write.txn;
        let exists = user::Entity::find_by_id((app.as_uuid(), id.as_str().to_owned()))
            .one(txn)
            .await
            .map_err(|e| backend_err(&e))?
            .is_some();
        if !exists {
            return Ok(LocatorChangeOutcome::NoSuchUser);
        }
        let affected = match change {
            LocatorChange::Add(l) => {
                locator_insert(app, id, l, now)
                    .exec_without_returning(txn)
                    .await
                    .map_err(|e| conflict_or_backend(&e, "a user with this locator"))?;
                1
            }
            LocatorChange::Remove(l) => {
                user_locator::Entity::delete_many()
                    .filter(locator_filter(app, id, l))
                    .exec(txn)
                    .await
                    .map_err(|e| backend_err(&e))?
                    .rows_affected
            }
            LocatorChange::Verify(l) => {
                user_locator::Entity::update_many()
                    .col_expr(user_locator::Column::Verified, Expr::value(true))
                    .filter(locator_filter(app, id, l))
                    .exec(txn)
                    .await
                    .map_err(|e| backend_err(&e))?
                    .rows_affected
            }
        };
        if affected == 0 {
            return Ok(LocatorChangeOutcome::NoSuchLocator);
        }
        user::Entity::update_many()
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user::Column::Id.eq(id.as_str()))
            .exec(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        let user = one_user(txn, app, id)
            .await?
            .ok_or_else(|| StoreError::Backend("user vanished in its transaction".into()))?;
        write.commit().await.map_err(|e| backend_err(&e))?;
        Ok(LocatorChangeOutcome::Changed(user))
    }

    async fn delete_user(
        &self,
        app: ApplicationId,
        id: &UserId,
        now: DateTime<Utc>,
        mut event: Event,
    ) -> StoreResult<bool> {
        let mut write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let txn = &write.txn;
        let identities = federated_user::Entity::find()
            .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(federated_user::Column::UserId.eq(id.as_str()))
            .all(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        // Its federated users lose their user (the foreign key would refuse otherwise);
        // locators and token records go with the user (ON DELETE CASCADE).
        federated_user::Entity::update_many()
            .col_expr(
                federated_user::Column::LinkState,
                Expr::value(LinkState::Unlinked.as_str()),
            )
            .col_expr(federated_user::Column::UserId, Expr::value(None::<String>))
            .col_expr(federated_user::Column::UpdatedAt, Expr::value(now))
            .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(federated_user::Column::UserId.eq(id.as_str()))
            .exec(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        // Nor is it offered as a candidate any more. (Ids cannot contain `%`; a `_` in
        // the pattern may over-match, which the exact filter below undoes.)
        let offering = federated_user::Entity::find()
            .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(federated_user::Column::Candidates.like(format!("%\"{id}\"%")))
            .all(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        for f in offering {
            let mut candidates: Vec<String> = serde_json::from_str(&f.candidates)
                .map_err(|e| StoreError::Backend(format!("stored candidates: {e}")))?;
            let before = candidates.len();
            candidates.retain(|c| c != id.as_str());
            if candidates.len() == before {
                continue;
            }
            let json = serde_json::to_string(&candidates)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            federated_user::Entity::update_many()
                .col_expr(federated_user::Column::Candidates, Expr::value(json))
                .filter(federated_user::Column::Id.eq(f.id))
                .exec(txn)
                .await
                .map_err(|e| backend_err(&e))?;
        }
        let deleted = user::Entity::delete_many()
            .filter(user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user::Column::Id.eq(id.as_str()))
            .exec(txn)
            .await
            .map_err(|e| backend_err(&e))?
            .rows_affected;
        if deleted == 0 {
            return Ok(false);
        }
        event.user_id = Some(id.clone());
        let mut events = vec![event.clone()];
        for f in &identities {
            let mut unlinked = Event::new(app, EventKind::FederatedUserUnlinked, now);
            unlinked.federated_user_id = Some(FederatedUserId::from_uuid(f.id));
            unlinked.user_id = Some(id.clone());
            unlinked.provider = Some(f.provider_config.clone());
            unlinked.detail = Some("its user was deleted".into());
            events.push(unlinked);
        }
        insert_events(&mut write, &events)
            .await
            .map_err(|e| backend_err(&e))?;
        write.commit().await.map_err(|e| backend_err(&e))?;
        Ok(true)
    }
}
