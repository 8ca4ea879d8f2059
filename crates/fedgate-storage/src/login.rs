//! A login's writes in one transaction: the narrow port the login service drives.
//! Nothing here decides anything; `fedgate-login` does.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::Event;
use fedgate_domain::federation::{LinkState, ProviderProfile};
use fedgate_domain::ids::{FederatedUserId, UserId};
use fedgate_domain::linking::LocatorOwner;
use fedgate_domain::ports::{
    ClaimedIdentity, IdentityKey, IdentityUpdate, LoginRepository, LoginTransaction, StoreError,
    StoreResult, UserTokenRecord,
};
use fedgate_domain::user::{Locator, LocatorKind, User};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryTrait, Statement,
};
use uuid::Uuid;

use crate::entity::{federated_user, user_locator};
use crate::events::insert_events;
use crate::tokens::token_insert;
use crate::users::{defer_user_inserts, locator_from};
use crate::{SeaStore, Txn, WriteTxn, backend_err, conflict_or_backend};

/// A lost uniqueness race is `Conflict` (the service retries); anything else `Backend`.
fn race_or_backend(e: &DbErr) -> StoreError {
    conflict_or_backend(e, "a concurrent login")
}

fn json(e: &serde_json::Error) -> StoreError {
    StoreError::Backend(format!("json: {e}"))
}

fn key_filter(key: &IdentityKey) -> Condition {
    Condition::all()
        .add(federated_user::Column::ApplicationId.eq(key.application_id.as_uuid()))
        .add(federated_user::Column::ProviderConfig.eq(key.provider_config.as_str()))
        .add(federated_user::Column::Issuer.eq(key.issuer.as_str()))
        .add(federated_user::Column::Subject.eq(key.subject.as_str()))
}

/// Adds a parameter to a PostgreSQL statement's list: its placeholder.
fn param(values: &mut Vec<sea_orm::Value>, v: sea_orm::Value) -> String {
    values.push(v);
    format!("${}", values.len())
}

/// The columns of a claimed identity a login reads.
struct Claimed {
    id: Uuid,
    link_state: String,
    user_id: Option<String>,
    sealed_tokens: Option<Vec<u8>>,
}

/// The claim's insert-or-touch and the owners of `locators` in one PostgreSQL
/// statement: the insert is a data-modifying `WITH` part, and the owners come back as
/// a JSON column of its row — one round trip where a first login took two. Each
/// locator is looked up naming every column of the primary key, as
/// [`LoginTransaction::locator_owners`] does, so the unique index is the only plan.
/// (The look-up does not see the identity the insert adds: it is unlinked, so it
/// changes no owner's `linked`.)
async fn claim_reading_owners(
    txn: &Txn,
    insert: sea_orm::Insert<federated_user::ActiveModel>,
    key: &IdentityKey,
    locators: &[Locator],
) -> StoreResult<(Claimed, Option<Vec<LocatorOwner>>)> {
    let claim = insert.build(DbBackend::Postgres);
    let mut values = claim.values.map(|v| v.0).unwrap_or_default();
    let app = param(&mut values, key.application_id.as_uuid().into());
    let provider = param(&mut values, key.provider_config.clone().into());
    let linked = param(&mut values, LinkState::Linked.as_str().into());
    let mut lookups = Vec::with_capacity(locators.len());
    for (i, l) in locators.iter().enumerate() {
        let kind = param(&mut values, l.kind().as_str().into());
        let normalized = param(&mut values, l.normalized().into());
        lookups.push(format!(
            "SELECT {i} AS i, l.kind, l.value, l.normalized, l.user_id, l.verified, \
             EXISTS (SELECT 1 FROM federated_users f WHERE f.application_id = l.application_id \
             AND f.provider_config = {provider} AND f.user_id = l.user_id \
             AND f.link_state = {linked}) AS linked \
             FROM user_locators l WHERE l.application_id = {app} AND l.kind = {kind} \
             AND l.normalized = {normalized}"
        ));
    }
    let owners = if lookups.is_empty() {
        "'[]'".to_owned()
    } else {
        format!(
            "(SELECT coalesce(json_agg(json_build_array(o.kind, o.value, o.normalized, \
             o.user_id, o.verified, o.linked) ORDER BY o.i), '[]')::text FROM ({}) o)",
            lookups.join(" UNION ALL ")
        )
    };
    let sql = format!(
        "WITH claimed AS ({} RETURNING id, link_state, user_id, sealed_tokens) \
         SELECT c.id, c.link_state, c.user_id, c.sealed_tokens, {owners} AS owners \
         FROM claimed c",
        claim.sql
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await
        .map_err(|e| race_or_backend(&e))?
        .ok_or_else(|| StoreError::Backend("the claim returned no row".into()))?;
    let get = |e: DbErr| backend_err(&e);
    let claimed = Claimed {
        id: row.try_get("", "id").map_err(get)?,
        link_state: row.try_get("", "link_state").map_err(get)?,
        user_id: row.try_get("", "user_id").map_err(get)?,
        sealed_tokens: row.try_get("", "sealed_tokens").map_err(get)?,
    };
    let owners: String = row.try_get("", "owners").map_err(get)?;
    let owners: Vec<(String, String, String, String, bool, bool)> =
        serde_json::from_str(&owners).map_err(|e| json(&e))?;
    let owners = owners
        .into_iter()
        .map(|(kind, value, normalized, user_id, verified, linked)| {
            let kind = LocatorKind::parse(&kind)
                .ok_or_else(|| StoreError::Backend(format!("unknown locator kind {kind:?}")))?;
            Ok(LocatorOwner {
                user_id: UserId::parse(&user_id)
                    .ok_or_else(|| StoreError::Backend("stored user id invalid".into()))?,
                locator: Locator::from_stored(kind, value, normalized),
                verified,
                linked_to_provider: linked,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((claimed, Some(owners)))
}

/// One login's transaction (and, on SQLite, this process's writer turn).
struct SeaLoginTxn {
    write: WriteTxn,
}

#[async_trait]
impl LoginTransaction for SeaLoginTxn {
    async fn claim_identity(
        &mut self,
        key: &IdentityKey,
        profile: &ProviderProfile,
        now: DateTime<Utc>,
        locators: &[Locator],
    ) -> StoreResult<ClaimedIdentity> {
        // The reads see the transaction's queued writes.
        self.write.flush().await.map_err(|e| race_or_backend(&e))?;
        let new_id = FederatedUserId::generate();
        let profile = serde_json::to_string(profile).map_err(|e| json(&e))?;
        // One statement whoever the person is: insert on the unique key, or — a returning
        // person — touch the existing row, and return the row either way. Of concurrent
        // first logins one inserts; the others wait for it to commit and get its row.
        let insert = federated_user::Entity::insert(federated_user::ActiveModel {
            id: sea_orm::Set(new_id.as_uuid()),
            application_id: sea_orm::Set(key.application_id.as_uuid()),
            provider_config: sea_orm::Set(key.provider_config.clone()),
            issuer: sea_orm::Set(key.issuer.clone()),
            subject: sea_orm::Set(key.subject.clone()),
            link_state: sea_orm::Set(LinkState::Unlinked.as_str().to_owned()),
            user_id: sea_orm::Set(None),
            candidates: sea_orm::Set("[]".to_owned()),
            profile: sea_orm::Set(profile),
            sealed_tokens: sea_orm::Set(None),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
            last_login_at: sea_orm::Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                federated_user::Column::ApplicationId,
                federated_user::Column::ProviderConfig,
                federated_user::Column::Issuer,
                federated_user::Column::Subject,
            ])
            .update_column(federated_user::Column::LastLoginAt)
            .to_owned(),
        );
        let txn = &self.write.txn;
        let (row, owners) = if txn.get_database_backend() == DbBackend::Postgres {
            claim_reading_owners(txn, insert, key, locators).await?
        } else {
            let row = insert
                .exec_with_returning(txn)
                .await
                .map_err(|e| race_or_backend(&e))?;
            let claimed = Claimed {
                id: row.id,
                link_state: row.link_state,
                user_id: row.user_id,
                sealed_tokens: row.sealed_tokens,
            };
            (claimed, None)
        };
        if row.id == new_id.as_uuid() {
            return Ok(ClaimedIdentity {
                id: new_id,
                first_sight: true,
                link_state: LinkState::Unlinked,
                user_id: None,
                sealed_tokens: None,
                owners,
            });
        }
        Ok(ClaimedIdentity {
            id: FederatedUserId::from_uuid(row.id),
            first_sight: false,
            link_state: LinkState::parse(&row.link_state).unwrap_or(LinkState::Unlinked),
            user_id: row.user_id.as_deref().and_then(UserId::parse),
            sealed_tokens: row.sealed_tokens,
            owners,
        })
    }

    async fn locator_owners(
        &mut self,
        key: &IdentityKey,
        locators: &[Locator],
    ) -> StoreResult<Vec<LocatorOwner>> {
        if locators.is_empty() {
            return Ok(Vec::new());
        }
        // The reads see the transaction's queued writes.
        self.write.flush().await.map_err(|e| race_or_backend(&e))?;
        let txn = &self.write.txn;
        // One look-up per locator naming every column of the primary key: the unique
        // index is the only plan, whatever the table's statistics say. (An `OR` of
        // locators under one `application_id` let PostgreSQL, planning on an empty
        // table, scan every locator of the application through another index.)
        let mut rows = Vec::with_capacity(locators.len());
        for l in locators {
            let row = user_locator::Entity::find()
                .filter(user_locator::Column::ApplicationId.eq(key.application_id.as_uuid()))
                .filter(user_locator::Column::Kind.eq(l.kind().as_str()))
                .filter(user_locator::Column::Normalized.eq(l.normalized()))
                .one(txn)
                .await
                .map_err(|e| backend_err(&e))?;
            rows.extend(row);
        }
        let mut owners = Vec::with_capacity(rows.len());
        for m in &rows {
            let l = locator_from(m)?;
            let user_id = UserId::parse(&m.user_id)
                .ok_or_else(|| StoreError::Backend("stored user id invalid".into()))?;
            let linked = federated_user::Entity::find()
                .filter(federated_user::Column::ApplicationId.eq(key.application_id.as_uuid()))
                .filter(federated_user::Column::ProviderConfig.eq(key.provider_config.as_str()))
                .filter(federated_user::Column::UserId.eq(user_id.as_str()))
                .filter(federated_user::Column::LinkState.eq(LinkState::Linked.as_str()))
                .one(txn)
                .await
                .map_err(|e| backend_err(&e))?
                .is_some();
            owners.push(LocatorOwner {
                user_id,
                locator: l.locator,
                verified: l.verified,
                linked_to_provider: linked,
            });
        }
        Ok(owners)
    }

    // The writes below are queued and sent together before the next read or at the
    // commit (on SQLite one round trip to the connection's thread for all of them); a
    // locator taken by a concurrent login is then that flush's or the commit's
    // `Conflict`, as it was the insert's.
    async fn create_user(&mut self, user: &User) -> StoreResult<()> {
        defer_user_inserts(&mut self.write, user);
        Ok(())
    }

    async fn update_identity(
        &mut self,
        id: FederatedUserId,
        u: &IdentityUpdate<'_>,
    ) -> StoreResult<()> {
        let candidates = serde_json::to_string(u.candidates).map_err(|e| json(&e))?;
        let profile = serde_json::to_string(u.profile).map_err(|e| json(&e))?;
        let mut update = federated_user::Entity::update_many()
            .col_expr(
                federated_user::Column::LinkState,
                Expr::value(u.link_state.as_str()),
            )
            .col_expr(
                federated_user::Column::UserId,
                Expr::value(u.user_id.map(|u| u.as_str().to_owned())),
            )
            .col_expr(federated_user::Column::Candidates, Expr::value(candidates))
            .col_expr(federated_user::Column::Profile, Expr::value(profile))
            .col_expr(federated_user::Column::UpdatedAt, Expr::value(u.now))
            .col_expr(federated_user::Column::LastLoginAt, Expr::value(u.now));
        if let Some(sealed) = &u.sealed_tokens {
            update = update.col_expr(
                federated_user::Column::SealedTokens,
                Expr::value(sealed.clone()),
            );
        }
        self.write
            .defer(&update.filter(federated_user::Column::Id.eq(id.as_uuid())));
        Ok(())
    }

    async fn record_user_token(&mut self, token: &UserTokenRecord) -> StoreResult<()> {
        self.write.defer(&token_insert(token));
        Ok(())
    }

    async fn append_events(&mut self, events: &[Event]) -> StoreResult<()> {
        insert_events(&mut self.write, events)
            .await
            .map_err(|e| race_or_backend(&e))
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.write.commit().await.map_err(|e| race_or_backend(&e))
    }
}

#[async_trait]
impl LoginRepository for SeaStore {
    async fn begin_login(&self) -> StoreResult<Box<dyn LoginTransaction>> {
        let write = self.begin_write().await.map_err(|e| backend_err(&e))?;
        Ok(Box::new(SeaLoginTxn { write }))
    }

    async fn stored_tokens(
        &self,
        key: &IdentityKey,
    ) -> StoreResult<Option<(FederatedUserId, Option<Vec<u8>>)>> {
        let row = federated_user::Entity::find()
            .filter(key_filter(key))
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(row.map(|r| (FederatedUserId::from_uuid(r.id), r.sealed_tokens)))
    }
}
