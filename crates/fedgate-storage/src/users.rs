//! Users and their locators.

use async_trait::async_trait;
use fedgate_domain::ids::{ApplicationId, UserId};
use fedgate_domain::ports::{StoreError, StoreResult, UserRepository};
use fedgate_domain::user::{Locator, LocatorKind, User, UserLocator};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::{user, user_locator};
use crate::{SeaStore, backend_err, conflict_or_backend};

/// Inserts a user and its locators with `db` (a transaction when called from one).
pub(crate) async fn insert_user(db: &impl ConnectionTrait, u: &User) -> Result<(), sea_orm::DbErr> {
    user::ActiveModel {
        application_id: Set(u.application_id.as_uuid()),
        id: Set(u.id.as_str().to_owned()),
        screen_name: Set(u.screen_name.clone()),
        created_at: Set(u.created_at),
        updated_at: Set(u.created_at),
    }
    .insert(db)
    .await?;
    for l in &u.locators {
        user_locator::ActiveModel {
            application_id: Set(u.application_id.as_uuid()),
            kind: Set(l.locator.kind().as_str().to_owned()),
            normalized: Set(l.locator.normalized().to_owned()),
            value: Set(l.locator.value().to_owned()),
            user_id: Set(u.id.as_str().to_owned()),
            verified: Set(l.verified),
            created_at: Set(u.created_at),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub(crate) fn locator_from(m: &user_locator::Model) -> StoreResult<UserLocator> {
    let kind = LocatorKind::parse(&m.kind)
        .ok_or_else(|| StoreError::Backend(format!("unknown locator kind {:?}", m.kind)))?;
    Ok(UserLocator {
        locator: Locator::from_stored(kind, m.value.clone(), m.normalized.clone()),
        verified: m.verified,
    })
}

#[async_trait]
impl UserRepository for SeaStore {
    async fn create_user(&self, u: &User) -> StoreResult<()> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let txn = &write.txn;
        insert_user(txn, u)
            .await
            .map_err(|e| conflict_or_backend(&e, "a user with this id or locator"))?;
        write.commit().await.map_err(|e| backend_err(&e))
    }

    async fn get_user(&self, app: ApplicationId, id: &UserId) -> StoreResult<Option<User>> {
        let Some(m) = user::Entity::find_by_id((app.as_uuid(), id.as_str().to_owned()))
            .one(&self.db)
            .await
            .map_err(|e| backend_err(&e))?
        else {
            return Ok(None);
        };
        let locators = user_locator::Entity::find()
            .filter(user_locator::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user_locator::Column::UserId.eq(id.as_str()))
            .order_by_asc(user_locator::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(Some(User {
            id: id.clone(),
            application_id: app,
            screen_name: m.screen_name,
            locators: locators
                .iter()
                .map(locator_from)
                .collect::<StoreResult<_>>()?,
            created_at: m.created_at,
        }))
    }
}
