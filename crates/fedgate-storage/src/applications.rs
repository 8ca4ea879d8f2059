//! Applications, scoped to their owner.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::application::{Application, ApplicationName};
use fedgate_domain::ids::{ApplicationId, SubscriberId};
use fedgate_domain::ports::{ApplicationRepository, StoreResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::application;
use crate::{SeaStore, backend_err};

fn to_domain(m: application::Model) -> Application {
    Application {
        id: ApplicationId::from_uuid(m.id),
        subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
        name: m.name,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn owned(owner: SubscriberId, id: ApplicationId) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(application::Column::Id.eq(id.as_uuid()))
        .add(application::Column::SubscriberId.eq(owner.as_uuid()))
}

#[async_trait]
impl ApplicationRepository for SeaStore {
    async fn create_application(&self, app: &Application) -> StoreResult<()> {
        application::ActiveModel {
            id: Set(app.id.as_uuid()),
            subscriber_id: Set(app.subscriber_id.as_uuid()),
            name: Set(app.name.clone()),
            created_at: Set(app.created_at),
            updated_at: Set(app.updated_at),
        }
        .insert(self.db())
        .await
        .map_err(|e| backend_err(&e))?;
        Ok(())
    }

    async fn list_applications(&self, owner: SubscriberId) -> StoreResult<Vec<Application>> {
        let rows = application::Entity::find()
            .filter(application::Column::SubscriberId.eq(owner.as_uuid()))
            .order_by_asc(application::Column::CreatedAt)
            .order_by_asc(application::Column::Id)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(rows.into_iter().map(to_domain).collect())
    }

    async fn get_application(
        &self,
        owner: SubscriberId,
        id: ApplicationId,
    ) -> StoreResult<Option<Application>> {
        let m = application::Entity::find()
            .filter(owned(owner, id))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(m.map(to_domain))
    }

    async fn find_application(&self, id: ApplicationId) -> StoreResult<Option<Application>> {
        let m = application::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(m.map(to_domain))
    }

    async fn rename_application(
        &self,
        owner: SubscriberId,
        id: ApplicationId,
        name: &ApplicationName,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Application>> {
        let res = application::Entity::update_many()
            .col_expr(application::Column::Name, Expr::value(name.as_str()))
            .col_expr(application::Column::UpdatedAt, Expr::value(now))
            .filter(owned(owner, id))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        self.get_application(owner, id).await
    }

    async fn delete_application(
        &self,
        owner: SubscriberId,
        id: ApplicationId,
    ) -> StoreResult<bool> {
        let res = application::Entity::delete_many()
            .filter(owned(owner, id))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        // Its properties went with it.
        self.webhooks.forget(id);
        Ok(res.rows_affected > 0)
    }
}
