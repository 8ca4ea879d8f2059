//! Properties of an application.

use async_trait::async_trait;
use fedgate_domain::ids::{ApplicationId, PropertyId};
use fedgate_domain::ports::{PropertyRepository, StoreError, StoreResult};
use fedgate_domain::property::{PropertyKind, StoredProperty};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::property;
use crate::{SeaStore, backend_err, unique_violation};

fn to_domain(m: property::Model) -> StoreResult<StoredProperty> {
    let kind = PropertyKind::parse(&m.kind)
        .ok_or_else(|| StoreError::Backend(format!("unknown property kind {:?}", m.kind)))?;
    let settings = serde_json::from_str(&m.settings)
        .map_err(|e| StoreError::Backend(format!("property settings: {e}")))?;
    Ok(StoredProperty {
        id: PropertyId::from_uuid(m.id),
        application_id: ApplicationId::from_uuid(m.application_id),
        kind,
        instance_name: m.instance_name,
        settings,
        sealed_secret: m.sealed_secret,
        slug: m.slug,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_active(p: &StoredProperty) -> property::ActiveModel {
    property::ActiveModel {
        id: Set(p.id.as_uuid()),
        application_id: Set(p.application_id.as_uuid()),
        kind: Set(p.kind.as_str().to_owned()),
        instance_name: Set(p.instance_name.clone()),
        singleton_kind: Set(p.kind.is_singleton().then(|| p.kind.as_str().to_owned())),
        settings: Set(p.settings.to_string()),
        sealed_secret: Set(p.sealed_secret.clone()),
        slug: Set(p.slug.clone()),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    }
}

fn write_err(e: &DbErr) -> StoreError {
    match unique_violation(e) {
        // Both backends name the violated index or its columns in the message.
        Some(msg) if msg.contains("singleton") => StoreError::Conflict("a property of this kind"),
        Some(msg) if msg.contains("slug") => StoreError::Conflict("a provider with this slug"),
        Some(_) => StoreError::Conflict("a property with this kind and instance name"),
        None => backend_err(e),
    }
}

fn in_app(app: ApplicationId, id: PropertyId) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(property::Column::Id.eq(id.as_uuid()))
        .add(property::Column::ApplicationId.eq(app.as_uuid()))
}

#[async_trait]
impl PropertyRepository for SeaStore {
    async fn insert_property(&self, p: &StoredProperty) -> StoreResult<()> {
        to_active(p)
            .insert(self.db())
            .await
            .map_err(|e| write_err(&e))?;
        self.webhooks.forget(p.application_id);
        Ok(())
    }

    async fn list_properties(&self, app: ApplicationId) -> StoreResult<Vec<StoredProperty>> {
        property::Entity::find()
            .filter(property::Column::ApplicationId.eq(app.as_uuid()))
            .order_by_asc(property::Column::CreatedAt)
            .order_by_asc(property::Column::Id)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn get_property(
        &self,
        app: ApplicationId,
        id: PropertyId,
    ) -> StoreResult<Option<StoredProperty>> {
        property::Entity::find()
            .filter(in_app(app, id))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .map(to_domain)
            .transpose()
    }

    async fn update_property(&self, p: &StoredProperty) -> StoreResult<bool> {
        let mut model = to_active(p);
        model.id = sea_orm::ActiveValue::Unchanged(p.id.as_uuid());
        model.application_id = sea_orm::ActiveValue::NotSet;
        model.kind = sea_orm::ActiveValue::NotSet;
        model.singleton_kind = sea_orm::ActiveValue::NotSet;
        model.created_at = sea_orm::ActiveValue::NotSet;
        let res = property::Entity::update_many()
            .set(model)
            .filter(in_app(p.application_id, p.id))
            .exec(self.db())
            .await
            .map_err(|e| write_err(&e))?;
        self.webhooks.forget(p.application_id);
        Ok(res.rows_affected > 0)
    }

    async fn delete_property(&self, app: ApplicationId, id: PropertyId) -> StoreResult<bool> {
        let res = property::Entity::delete_many()
            .filter(in_app(app, id))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        self.webhooks.forget(app);
        Ok(res.rows_affected > 0)
    }
}
