//! Federated users: reads and the link changes an app's backend asks for.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::Event;
use fedgate_domain::federation::{FederatedUser, LinkChange, LinkChangeOutcome, LinkState};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_domain::ports::{FederationRepository, StoreError, StoreResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{federated_user, user};
use crate::events::insert_events;
use crate::{SeaStore, backend_err};

pub(crate) fn to_domain(m: federated_user::Model) -> StoreResult<FederatedUser> {
    let bad =
        |what: &str| StoreError::Backend(format!("stored federated user {}: bad {what}", m.id));
    Ok(FederatedUser {
        id: FederatedUserId::from_uuid(m.id),
        application_id: ApplicationId::from_uuid(m.application_id),
        provider_config: m.provider_config.clone(),
        issuer: m.issuer.clone(),
        subject: m.subject.clone(),
        link_state: LinkState::parse(&m.link_state).ok_or_else(|| bad("link state"))?,
        user_id: m
            .user_id
            .as_deref()
            .map(|u| UserId::parse(u).ok_or_else(|| bad("user id")))
            .transpose()?,
        candidates: serde_json::from_str(&m.candidates).map_err(|_| bad("candidates"))?,
        profile: serde_json::from_str(&m.profile).map_err(|_| bad("profile"))?,
        created_at: m.created_at,
        last_login_at: m.last_login_at,
        sealed_tokens: m.sealed_tokens,
    })
}

#[async_trait]
impl FederationRepository for SeaStore {
    async fn list_federated_users_of(
        &self,
        app: ApplicationId,
        user: &UserId,
    ) -> StoreResult<Vec<FederatedUser>> {
        federated_user::Entity::find()
            .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(federated_user::Column::UserId.eq(user.as_str()))
            .order_by_asc(federated_user::Column::CreatedAt)
            .all(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn change_link(
        &self,
        app: ApplicationId,
        id: FederatedUserId,
        change: &LinkChange,
        now: DateTime<Utc>,
        mut event: Event,
    ) -> StoreResult<LinkChangeOutcome> {
        let mut write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let txn = &write.txn;
        let find = || {
            federated_user::Entity::find()
                .filter(federated_user::Column::Id.eq(id.as_uuid()))
                .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
        };
        // Locks the row on PostgreSQL (SQLite's single writer already serialises), so
        // two concurrent links cannot both see `Unlinked`.
        let locked = match self.db().get_database_backend() {
            sea_orm::DbBackend::Postgres => find().lock_exclusive().one(txn).await,
            _ => find().one(txn).await,
        };
        let Some(row) = locked.map_err(|e| backend_err(&e))? else {
            return Ok(LinkChangeOutcome::NoSuchFederatedUser);
        };
        let current = to_domain(row)?;
        if !change.allowed_from(current.link_state) {
            return Ok(LinkChangeOutcome::NotAllowed(current.link_state));
        }
        let user = match change {
            LinkChange::Link(user) => {
                let exists = user::Entity::find_by_id((app.as_uuid(), user.as_str().to_owned()))
                    .one(txn)
                    .await
                    .map_err(|e| backend_err(&e))?
                    .is_some();
                if !exists {
                    return Ok(LinkChangeOutcome::NoSuchUser);
                }
                Some(user.clone())
            }
            LinkChange::Unlink => None,
            // Remembers whom it was detached from.
            LinkChange::Detach => current.user_id.clone(),
        };
        let candidates = if matches!(change, LinkChange::Link(_)) {
            Vec::new()
        } else {
            current.candidates.clone()
        };
        let candidates_json =
            serde_json::to_string(&candidates).map_err(|e| StoreError::Backend(e.to_string()))?;
        federated_user::Entity::update_many()
            .col_expr(
                federated_user::Column::LinkState,
                Expr::value(change.target().as_str()),
            )
            .col_expr(
                federated_user::Column::UserId,
                Expr::value(user.as_ref().map(|u| u.as_str().to_owned())),
            )
            .col_expr(
                federated_user::Column::Candidates,
                Expr::value(candidates_json),
            )
            .col_expr(federated_user::Column::UpdatedAt, Expr::value(now))
            .filter(federated_user::Column::Id.eq(id.as_uuid()))
            .exec(txn)
            .await
            .map_err(|e| backend_err(&e))?;
        event.federated_user_id = Some(id);
        event.user_id = user.clone().or_else(|| current.user_id.clone());
        event.provider = Some(current.provider_config.clone());
        insert_events(&mut write, std::slice::from_ref(&event))
            .await
            .map_err(|e| backend_err(&e))?;
        write.commit().await.map_err(|e| backend_err(&e))?;
        Ok(LinkChangeOutcome::Changed(Box::new(FederatedUser {
            link_state: change.target(),
            user_id: user,
            candidates,
            ..current
        })))
    }

    async fn get_federated_user(
        &self,
        app: ApplicationId,
        id: FederatedUserId,
    ) -> StoreResult<Option<FederatedUser>> {
        federated_user::Entity::find()
            .filter(federated_user::Column::Id.eq(id.as_uuid()))
            .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .map(to_domain)
            .transpose()
    }
}
