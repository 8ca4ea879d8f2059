//! Records of issued user tokens: listing, revocation, verification.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::Event;
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_domain::ports::{StoreError, StoreResult, UserTokenRecord, UserTokenRepository};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::user_token;
use crate::events::insert_events;
use crate::{SeaStore, backend_err};

/// The insert of a token record.
pub(crate) fn token_insert(t: &UserTokenRecord) -> sea_orm::Insert<user_token::ActiveModel> {
    user_token::Entity::insert(user_token::ActiveModel {
        id: Set(t.id.as_uuid()),
        application_id: Set(t.application_id.as_uuid()),
        user_id: Set(t.user_id.as_str().to_owned()),
        issued_at: Set(t.issued_at),
        expires_at: Set(t.expires_at),
        revoked_at: Set(t.revoked_at),
        last_seen_at: Set(t.last_seen_at),
    })
}

fn to_domain(m: user_token::Model) -> StoreResult<UserTokenRecord> {
    Ok(UserTokenRecord {
        id: TokenId::from_uuid(m.id),
        application_id: ApplicationId::from_uuid(m.application_id),
        user_id: UserId::parse(&m.user_id)
            .ok_or_else(|| StoreError::Backend(format!("stored token {}: bad user id", m.id)))?,
        issued_at: m.issued_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
        last_seen_at: m.last_seen_at,
    })
}

#[async_trait]
impl UserTokenRepository for SeaStore {
    async fn record_user_token(&self, token: &UserTokenRecord) -> StoreResult<()> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        token_insert(token)
            .exec_without_returning(&write.txn)
            .await
            .map_err(|e| backend_err(&e))?;
        write.commit().await.map_err(|e| backend_err(&e))
    }

    async fn get_user_token(
        &self,
        app: ApplicationId,
        id: TokenId,
    ) -> StoreResult<Option<UserTokenRecord>> {
        user_token::Entity::find_by_id(id.as_uuid())
            .filter(user_token::Column::ApplicationId.eq(app.as_uuid()))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .map(to_domain)
            .transpose()
    }

    async fn list_user_tokens(
        &self,
        app: ApplicationId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<UserTokenRecord>> {
        user_token::Entity::find()
            .filter(user_token::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user_token::Column::UserId.eq(user.as_str()))
            .filter(user_token::Column::ExpiresAt.gt(now))
            .order_by_desc(user_token::Column::IssuedAt)
            .order_by_desc(user_token::Column::Id)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn revoke_user_tokens(
        &self,
        app: ApplicationId,
        user: &UserId,
        id: Option<TokenId>,
        now: DateTime<Utc>,
        mut event: Event,
    ) -> StoreResult<u64> {
        let mut write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let mut update = user_token::Entity::update_many()
            .col_expr(user_token::Column::RevokedAt, Expr::value(now))
            .filter(user_token::Column::ApplicationId.eq(app.as_uuid()))
            .filter(user_token::Column::UserId.eq(user.as_str()))
            .filter(user_token::Column::RevokedAt.is_null());
        if let Some(id) = id {
            update = update.filter(user_token::Column::Id.eq(id.as_uuid()));
        }
        let revoked = update
            .exec(&write.txn)
            .await
            .map_err(|e| backend_err(&e))?
            .rows_affected;
        if revoked > 0 {
            event.user_id = Some(user.clone());
            event.detail = Some(match id {
                Some(id) => format!("token {id}"),
                None => format!("{revoked} token(s)"),
            });
            insert_events(&mut write, std::slice::from_ref(&event))
                .await
                .map_err(|e| backend_err(&e))?;
        }
        write.commit().await.map_err(|e| backend_err(&e))?;
        Ok(revoked)
    }

    async fn touch_user_token(&self, id: TokenId, now: DateTime<Utc>) -> StoreResult<()> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        user_token::Entity::update_many()
            .col_expr(user_token::Column::LastSeenAt, Expr::value(now))
            .filter(user_token::Column::Id.eq(id.as_uuid()))
            .exec(&write.txn)
            .await
            .map_err(|e| backend_err(&e))?;
        write.commit().await.map_err(|e| backend_err(&e))
    }

    async fn delete_expired_user_tokens(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let deleted = user_token::Entity::delete_many()
            .filter(user_token::Column::ExpiresAt.lt(before))
            .exec(&write.txn)
            .await
            .map_err(|e| backend_err(&e))?
            .rows_affected;
        write.commit().await.map_err(|e| backend_err(&e))?;
        Ok(deleted)
    }
}
