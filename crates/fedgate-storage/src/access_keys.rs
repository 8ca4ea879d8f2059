//! Access keys of an application.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::access_key::{AccessKey, AccessKeyId, StoredAccessKey};
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{AccessKeyRepository, StoreError, StoreResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::{access_key, application};
use crate::{SeaStore, backend_err, conflict_or_backend};

fn to_domain(m: access_key::Model) -> StoreResult<StoredAccessKey> {
    let id = AccessKeyId::parse(&m.id)
        .ok_or_else(|| StoreError::Backend(format!("malformed stored key id {:?}", m.id)))?;
    Ok(StoredAccessKey {
        key: AccessKey {
            id,
            application_id: ApplicationId::from_uuid(m.application_id),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        },
        sealed_secret: m.sealed_secret,
    })
}

fn in_app(app: ApplicationId, id: &AccessKeyId) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(access_key::Column::Id.eq(id.as_str()))
        .add(access_key::Column::ApplicationId.eq(app.as_uuid()))
}

#[async_trait]
impl AccessKeyRepository for SeaStore {
    async fn insert_access_key(&self, k: &StoredAccessKey, max_active: u64) -> StoreResult<()> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let txn = &write.txn;
        // A no-op write to the application row first: it takes the row lock on
        // PostgreSQL and the write lock on SQLite, so concurrent creations for one
        // application queue here and the count below cannot be stale.
        application::Entity::update_many()
            .col_expr(
                application::Column::UpdatedAt,
                Expr::col(application::Column::UpdatedAt),
            )
            .filter(application::Column::Id.eq(k.key.application_id.as_uuid()))
            .exec(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        let active = access_key::Entity::find()
            .filter(access_key::Column::ApplicationId.eq(k.key.application_id.as_uuid()))
            .filter(access_key::Column::RevokedAt.is_null())
            .count(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        if active >= max_active {
            return Err(StoreError::LimitReached("active access keys"));
        }
        access_key::ActiveModel {
            id: Set(k.key.id.as_str().to_owned()),
            application_id: Set(k.key.application_id.as_uuid()),
            sealed_secret: Set(k.sealed_secret.clone()),
            created_at: Set(k.key.created_at),
            last_used_at: Set(k.key.last_used_at),
            revoked_at: Set(k.key.revoked_at),
        }
        .insert(txn)
        .await
        .map_err(|e| conflict_or_backend(&e, "an access key with this id"))?;
        write.commit().await.map_err(|e| backend_err(&e))
    }

    async fn list_access_keys(&self, app: ApplicationId) -> StoreResult<Vec<AccessKey>> {
        access_key::Entity::find()
            .filter(access_key::Column::ApplicationId.eq(app.as_uuid()))
            .order_by_desc(access_key::Column::CreatedAt)
            .order_by_desc(access_key::Column::Id)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .into_iter()
            .map(|m| to_domain(m).map(|s| s.key))
            .collect()
    }

    async fn find_access_key(&self, id: &AccessKeyId) -> StoreResult<Option<StoredAccessKey>> {
        access_key::Entity::find_by_id(id.as_str().to_owned())
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .map(to_domain)
            .transpose()
    }

    async fn revoke_access_key(
        &self,
        app: ApplicationId,
        id: &AccessKeyId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccessKey>> {
        access_key::Entity::update_many()
            .col_expr(access_key::Column::RevokedAt, Expr::value(now))
            .filter(in_app(app, id))
            .filter(access_key::Column::RevokedAt.is_null())
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        let m = access_key::Entity::find()
            .filter(in_app(app, id))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(m.map(to_domain).transpose()?.map(|s| s.key))
    }

    async fn touch_access_key(&self, id: &AccessKeyId, now: DateTime<Utc>) -> StoreResult<()> {
        access_key::Entity::update_many()
            .col_expr(access_key::Column::LastUsedAt, Expr::value(now))
            .filter(access_key::Column::Id.eq(id.as_str()))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(())
    }
}
