//! Subscriber accounts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::email::Email;
use fedgate_domain::ids::SubscriberId;
use fedgate_domain::password::PasswordHashString;
use fedgate_domain::ports::{StoreError, StoreResult, SubscriberRepository};
use fedgate_domain::subscriber::{Subscriber, SubscriberCredentials};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entity::subscriber;
use crate::{SeaStore, backend_err, conflict_or_backend};

fn to_domain(m: subscriber::Model) -> StoreResult<SubscriberCredentials> {
    let email = Email::parse("email", &m.email)
        .map_err(|e| StoreError::Backend(format!("stored email invalid: {e}")))?;
    Ok(SubscriberCredentials {
        subscriber: Subscriber {
            id: SubscriberId::from_uuid(m.id),
            email,
            created_at: m.created_at,
        },
        password_hash: PasswordHashString(m.password_hash),
    })
}

#[async_trait]
impl SubscriberRepository for SeaStore {
    async fn create_subscriber(
        &self,
        id: SubscriberId,
        email: &Email,
        hash: &PasswordHashString,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let model = subscriber::ActiveModel {
            id: Set(id.as_uuid()),
            email: Set(email.as_str().to_owned()),
            email_normalized: Set(email.normalized()),
            password_hash: Set(hash.0.clone()),
            created_at: Set(now),
        };
        let m = model
            .insert(self.db())
            .await
            .map_err(|e| conflict_or_backend(&e, "an account with this email"))?;
        Ok(to_domain(m)?.subscriber)
    }

    async fn find_subscriber_by_email(
        &self,
        email: &Email,
    ) -> StoreResult<Option<SubscriberCredentials>> {
        subscriber::Entity::find()
            .filter(subscriber::Column::EmailNormalized.eq(email.normalized()))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .map(to_domain)
            .transpose()
    }

    async fn get_subscriber(&self, id: SubscriberId) -> StoreResult<Option<Subscriber>> {
        let m = subscriber::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(m.map(to_domain).transpose()?.map(|c| c.subscriber))
    }

    async fn update_password_hash(
        &self,
        id: SubscriberId,
        hash: &PasswordHashString,
    ) -> StoreResult<()> {
        subscriber::Entity::update_many()
            .col_expr(
                subscriber::Column::PasswordHash,
                sea_orm::sea_query::Expr::value(hash.0.clone()),
            )
            .filter(subscriber::Column::Id.eq(id.as_uuid()))
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(())
    }
}
