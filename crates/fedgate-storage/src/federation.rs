//! Federated users: resolving a provider login into a federated user and a user.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::Event;
use fedgate_domain::federation::{FederatedUser, LinkChange, LinkChangeOutcome, LinkState};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_domain::linking::{self, LinkDecision, LocatorOwner};
use fedgate_domain::ports::{
    FederatedLogin, FederationRepository, LoginResolution, StoreError, StoreResult, UserTokenRecord,
};
use fedgate_domain::user::{User, UserLocator};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr, TryInsertResult,
};

use crate::entity::{federated_user, user, user_locator};
use crate::events::insert_events;
use crate::tokens::insert_token;
use crate::users::{insert_user, locator_from};
use crate::{SeaStore, backend_err, clamp};

/// Why one attempt did not finish: retry on a lost race, fail otherwise.
enum Attempt {
    Retry,
    Fail(StoreError),
}

impl From<DbErr> for Attempt {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            // Another login created the same user id or locator first.
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Retry,
            _ => Self::Fail(backend_err(&e)),
        }
    }
}

fn json_err(e: &serde_json::Error) -> Attempt {
    Attempt::Fail(StoreError::Backend(format!("json: {e}")))
}

fn key_filter(login: &FederatedLogin) -> Condition {
    Condition::all()
        .add(federated_user::Column::ApplicationId.eq(login.application_id.as_uuid()))
        .add(federated_user::Column::ProviderConfig.eq(login.provider_config.as_str()))
        .add(federated_user::Column::Issuer.eq(login.issuer.as_str()))
        .add(federated_user::Column::Subject.eq(login.profile.subject.as_str()))
}

async fn owners(
    txn: &DatabaseTransaction,
    login: &FederatedLogin,
) -> Result<Vec<LocatorOwner>, Attempt> {
    if login.asserted.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for a in &login.asserted {
        any = any.add(
            Condition::all()
                .add(user_locator::Column::Kind.eq(a.locator.kind().as_str()))
                .add(user_locator::Column::Normalized.eq(a.locator.normalized())),
        );
    }
    let rows = user_locator::Entity::find()
        .filter(user_locator::Column::ApplicationId.eq(login.application_id.as_uuid()))
        .filter(any)
        .all(txn)
        .await?;
    rows.iter()
        .map(|m| {
            let l = locator_from(m).map_err(Attempt::Fail)?;
            let user_id = UserId::parse(&m.user_id).ok_or_else(|| {
                Attempt::Fail(StoreError::Backend("stored user id invalid".into()))
            })?;
            Ok(LocatorOwner {
                user_id,
                locator: l.locator,
                verified: l.verified,
            })
        })
        .collect()
}

async fn set_link(
    txn: &DatabaseTransaction,
    id: uuid::Uuid,
    state: LinkState,
    user: Option<&UserId>,
    candidates: &[UserId],
    login: &FederatedLogin,
) -> Result<(), Attempt> {
    let candidates = serde_json::to_string(candidates).map_err(|e| json_err(&e))?;
    let profile = serde_json::to_string(&login.profile).map_err(|e| json_err(&e))?;
    let mut update = federated_user::Entity::update_many()
        .col_expr(
            federated_user::Column::LinkState,
            Expr::value(state.as_str()),
        )
        .col_expr(
            federated_user::Column::UserId,
            Expr::value(user.map(|u| u.as_str().to_owned())),
        )
        .col_expr(federated_user::Column::Candidates, Expr::value(candidates))
        .col_expr(federated_user::Column::Profile, Expr::value(profile))
        .col_expr(federated_user::Column::UpdatedAt, Expr::value(login.now))
        .col_expr(federated_user::Column::LastLoginAt, Expr::value(login.now));
    if let Some(tokens) = &login.upstream_tokens {
        let sealed = tokens.seal(FederatedUserId::from_uuid(id));
        update = update.col_expr(federated_user::Column::SealedTokens, Expr::value(sealed));
    }
    update
        .filter(federated_user::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

impl SeaStore {
    async fn resolve_once(&self, login: &FederatedLogin) -> Result<LoginResolution, Attempt> {
        let write = self.begin_write().await?;
        let txn = &write.txn;
        let new_id = FederatedUserId::generate();
        let profile = serde_json::to_string(&login.profile).map_err(|e| json_err(&e))?;
        // Insert-or-nothing on the unique key: of concurrent first logins, one inserts;
        // the others wait for it to commit and then see its row.
        let inserted = federated_user::Entity::insert(federated_user::ActiveModel {
            id: sea_orm::Set(new_id.as_uuid()),
            application_id: sea_orm::Set(login.application_id.as_uuid()),
            provider_config: sea_orm::Set(login.provider_config.clone()),
            issuer: sea_orm::Set(login.issuer.clone()),
            subject: sea_orm::Set(login.profile.subject.clone()),
            link_state: sea_orm::Set(LinkState::Unlinked.as_str().to_owned()),
            user_id: sea_orm::Set(None),
            candidates: sea_orm::Set("[]".to_owned()),
            profile: sea_orm::Set(profile),
            sealed_tokens: sea_orm::Set(None),
            created_at: sea_orm::Set(login.now),
            updated_at: sea_orm::Set(login.now),
            last_login_at: sea_orm::Set(login.now),
        })
        .on_conflict_do_nothing_on([
            federated_user::Column::ApplicationId,
            federated_user::Column::ProviderConfig,
            federated_user::Column::Issuer,
            federated_user::Column::Subject,
        ])
        .exec_without_returning(txn)
        .await?;

        if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            let row = federated_user::Entity::find()
                .filter(key_filter(login))
                .one(txn)
                .await?
                .ok_or(Attempt::Retry)?;
            let resolution = if row.link_state == LinkState::Linked.as_str() {
                let user_id = row.user_id.as_deref().and_then(UserId::parse);
                set_link(txn, row.id, LinkState::Linked, user_id.as_ref(), &[], login).await?;
                LoginResolution {
                    federated_user_id: FederatedUserId::from_uuid(row.id),
                    user_id,
                    candidates: Vec::new(),
                    outcome: "returning",
                }
            } else {
                // Unlinked or detached by the app: never link or create on its behalf;
                // refresh the candidates so it can decide. A detached one keeps the user
                // it was detached from.
                let state = LinkState::parse(&row.link_state).unwrap_or(LinkState::Unlinked);
                let detached_from = match state {
                    LinkState::Detached => row.user_id.as_deref().and_then(UserId::parse),
                    _ => None,
                };
                let mut candidates: Vec<UserId> = owners(txn, login)
                    .await?
                    .into_iter()
                    .map(|o| o.user_id)
                    .collect();
                candidates.sort();
                candidates.dedup();
                set_link(
                    txn,
                    row.id,
                    state,
                    detached_from.as_ref(),
                    &candidates,
                    login,
                )
                .await?;
                LoginResolution {
                    federated_user_id: FederatedUserId::from_uuid(row.id),
                    user_id: None,
                    candidates,
                    outcome: "unlinked",
                }
            };
            record_login_token(txn, login, resolution.user_id.as_ref()).await?;
            write.commit().await?;
            return Ok(resolution);
        }

        let owners = owners(txn, login).await?;
        let resolution = match linking::decide(&login.asserted, &owners, login.auto_create) {
            LinkDecision::Link(user_id) => {
                set_link(
                    txn,
                    new_id.as_uuid(),
                    LinkState::Linked,
                    Some(&user_id),
                    std::slice::from_ref(&user_id),
                    login,
                )
                .await?;
                LoginResolution {
                    federated_user_id: new_id,
                    user_id: Some(user_id.clone()),
                    candidates: vec![user_id],
                    outcome: "linked_by_email",
                }
            }
            LinkDecision::Create => {
                let user = User {
                    id: UserId::generate(),
                    application_id: login.application_id,
                    screen_name: login.profile.name.as_deref().map(|n| clamp(n, 200)),
                    locators: login
                        .asserted
                        .iter()
                        .map(|a| UserLocator {
                            locator: a.locator.clone(),
                            verified: a.vouched,
                        })
                        .collect(),
                    created_at: login.now,
                };
                insert_user(txn, &user).await?;
                set_link(
                    txn,
                    new_id.as_uuid(),
                    LinkState::Linked,
                    Some(&user.id),
                    &[],
                    login,
                )
                .await?;
                LoginResolution {
                    federated_user_id: new_id,
                    user_id: Some(user.id),
                    candidates: Vec::new(),
                    outcome: "new_user",
                }
            }
            LinkDecision::Candidates(candidates) => {
                set_link(
                    txn,
                    new_id.as_uuid(),
                    LinkState::Unlinked,
                    None,
                    &candidates,
                    login,
                )
                .await?;
                let outcome = if candidates.is_empty() {
                    "unlinked"
                } else {
                    "candidates"
                };
                LoginResolution {
                    federated_user_id: new_id,
                    user_id: None,
                    candidates,
                    outcome,
                }
            }
        };
        record_login_token(txn, login, resolution.user_id.as_ref()).await?;
        write.commit().await?;
        Ok(resolution)
    }
}

fn to_domain(m: federated_user::Model) -> StoreResult<FederatedUser> {
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

/// Records the login's user token for `user` in the resolving transaction.
async fn record_login_token(
    txn: &DatabaseTransaction,
    login: &FederatedLogin,
    user: Option<&UserId>,
) -> Result<(), Attempt> {
    if let (Some(plan), Some(user)) = (&login.login_token, user) {
        insert_token(
            txn,
            &UserTokenRecord {
                id: plan.id,
                application_id: login.application_id,
                user_id: user.clone(),
                issued_at: plan.issued_at,
                expires_at: plan.expires_at,
                revoked_at: None,
                last_seen_at: None,
            },
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl FederationRepository for SeaStore {
    async fn resolve_federated_login(
        &self,
        login: &FederatedLogin,
    ) -> StoreResult<LoginResolution> {
        let mut last = None;
        for _ in 0..3 {
            match self.resolve_once(login).await {
                Ok(r) => return Ok(r),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry) => last = Some(StoreError::Conflict("a concurrent login")),
            }
        }
        Err(last.unwrap_or(StoreError::Conflict("a concurrent login")))
    }

    async fn list_federated_users_of(
        &self,
        app: ApplicationId,
        user: &UserId,
    ) -> StoreResult<Vec<FederatedUser>> {
        federated_user::Entity::find()
            .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
            .filter(federated_user::Column::UserId.eq(user.as_str()))
            .order_by_asc(federated_user::Column::CreatedAt)
            .all(&self.db)
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
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        let txn = &write.txn;
        let find = || {
            federated_user::Entity::find()
                .filter(federated_user::Column::Id.eq(id.as_uuid()))
                .filter(federated_user::Column::ApplicationId.eq(app.as_uuid()))
        };
        // Locks the row on PostgreSQL (SQLite's single writer already serialises), so
        // two concurrent links cannot both see `Unlinked`.
        let locked = match self.db.get_database_backend() {
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
        insert_events(txn, std::slice::from_ref(&event))
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
            .one(&self.db)
            .await
            .map_err(|e| backend_err(&e))?
            .map(to_domain)
            .transpose()
    }
}
