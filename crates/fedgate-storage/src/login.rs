//! A login's writes in one transaction: the narrow port the login service drives.
//! Nothing here decides anything; `fedgate-login` does.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::events::Event;
use fedgate_domain::federation::{LinkState, ProviderProfile};
use fedgate_domain::ids::{FederatedUserId, UserId};
use fedgate_domain::linking::LocatorOwner;
use fedgate_domain::ports::{
    ClaimedIdentity, IdentityKey, IdentityUpdate, LoginAttempt, LoginRepository, LoginTransaction,
    StoreError, StoreResult, UserTokenRecord,
};
use fedgate_domain::user::{Locator, LocatorKind, User};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Statement,
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
#[derive(Clone)]
struct Claimed {
    id: Uuid,
    link_state: String,
    user_id: Option<String>,
    sealed_tokens: Option<Vec<u8>>,
}

/// The claim and the owners of `locators` in one PostgreSQL statement: `claim` — the
/// insert-or-touch, a data-modifying `WITH` part, or the plain read of a first
/// attempt — gives the identity's columns, and the owners come back as a JSON column
/// of the same row — one round trip where a first login took two. Each locator is
/// looked up naming every column of the primary key, as
/// [`LoginTransaction::locator_owners`] does, so the unique index is the only plan.
/// (The look-up does not see an identity the insert adds: it is unlinked, so it
/// changes no owner's `linked`.) The identity is `None` when a read finds none.
async fn claim_reading_owners(
    txn: &Txn,
    claim: Statement,
    key: &IdentityKey,
    locators: &[Locator],
) -> StoreResult<(Option<Claimed>, Option<Vec<LocatorOwner>>)> {
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
        "WITH claimed AS ({}) \
         SELECT c.id, c.link_state, c.user_id, c.sealed_tokens, {owners} AS owners \
         FROM (SELECT 1) AS one LEFT JOIN claimed c ON true",
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
    let claimed = match row.try_get::<Option<Uuid>>("", "id").map_err(get)? {
        Some(id) => Some(Claimed {
            id,
            link_state: row.try_get("", "link_state").map_err(get)?,
            user_id: row.try_get("", "user_id").map_err(get)?,
            sealed_tokens: row.try_get("", "sealed_tokens").map_err(get)?,
        }),
        None => None,
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

/// What a first attempt on PostgreSQL read of its identity, without locking it
/// ([`LoginAttempt::First`]). Its write waits for the login's update and carries it:
/// the insert of a new identity with its final values (a concurrent first login that
/// inserted it first makes it a unique violation), or the update of a known one that
/// names the values the login decided on — so that it changes nothing, and the whole
/// statement fails, if another login changed them meanwhile.
struct ReadIdentity {
    id: Uuid,
    key: IdentityKey,
    /// The provider's profile as claimed, JSON.
    profile: String,
    now: DateTime<Utc>,
    /// `None`: there was none (this login inserts it).
    seen: Option<Claimed>,
}

/// Why a first attempt's update of a known identity finds no row.
const IDENTITY_CHANGED: &str = "the federated identity changed since this login read it";

impl ReadIdentity {
    /// The identity's write with what the login decided (`update`), or as the claim
    /// leaves it (unlinked when new, touched when known) if it decided nothing.
    fn defer(self, write: &mut WriteTxn, update: Option<&IdentityUpdate<'_>>) -> StoreResult<()> {
        let Some(seen) = self.seen else {
            let mut row = new_identity(self.id, &self.key, self.profile, self.now);
            if let Some(u) = update {
                set_update(&mut row, u)?;
            }
            write.defer(&federated_user::Entity::insert(row));
            return Ok(());
        };
        let changes = match update {
            Some(u) => identity_update(u)?,
            None => federated_user::Entity::update_many()
                .col_expr(federated_user::Column::LastLoginAt, Expr::value(self.now)),
        };
        let unchanged = Condition::all()
            .add(federated_user::Column::Id.eq(self.id))
            .add(federated_user::Column::LinkState.eq(seen.link_state))
            .add(match seen.user_id {
                Some(u) => federated_user::Column::UserId.eq(u),
                None => federated_user::Column::UserId.is_null(),
            })
            .add(match seen.sealed_tokens {
                Some(t) => federated_user::Column::SealedTokens.eq(t),
                None => federated_user::Column::SealedTokens.is_null(),
            });
        let mut statement = changes.filter(unchanged).into_query();
        statement.returning_col(federated_user::Column::Id);
        write.defer_expecting_row(DbBackend::Postgres.build(&statement), IDENTITY_CHANGED);
        Ok(())
    }
}

/// A new identity's row as the claim inserts it: unlinked, with the claimed profile.
fn new_identity(
    id: Uuid,
    key: &IdentityKey,
    profile: String,
    now: DateTime<Utc>,
) -> federated_user::ActiveModel {
    federated_user::ActiveModel {
        id: sea_orm::Set(id),
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
    }
}

/// Sets on `row` the columns a login writes on its identity.
fn set_update(row: &mut federated_user::ActiveModel, u: &IdentityUpdate<'_>) -> StoreResult<()> {
    row.link_state = sea_orm::Set(u.link_state.as_str().to_owned());
    row.user_id = sea_orm::Set(u.user_id.map(|u| u.as_str().to_owned()));
    row.candidates = sea_orm::Set(serde_json::to_string(u.candidates).map_err(|e| json(&e))?);
    row.profile = sea_orm::Set(serde_json::to_string(u.profile).map_err(|e| json(&e))?);
    row.updated_at = sea_orm::Set(u.now);
    row.last_login_at = sea_orm::Set(u.now);
    if let Some(sealed) = &u.sealed_tokens {
        row.sealed_tokens = sea_orm::Set(Some(sealed.clone()));
    }
    Ok(())
}

/// The update of the columns a login writes on its identity (no others).
fn identity_update(
    u: &IdentityUpdate<'_>,
) -> StoreResult<sea_orm::UpdateMany<federated_user::Entity>> {
    let mut changes = federated_user::ActiveModel::default();
    set_update(&mut changes, u)?;
    Ok(federated_user::Entity::update_many().set(changes))
}

/// One login's transaction (and, on SQLite, this process's writer turn).
struct SeaLoginTxn {
    write: WriteTxn,
    /// PostgreSQL's first attempt: no transaction until something is read after a
    /// write, the identity read without a lock.
    first: bool,
    /// The identity a first attempt read, its write not yet queued.
    read: Option<ReadIdentity>,
}

impl SeaLoginTxn {
    /// Queues the identity's write as the claim leaves it, before anything that may
    /// send the queue: from then on the transaction is an ordinary one.
    fn settle(&mut self) -> StoreResult<()> {
        match self.read.take() {
            Some(read) => read.defer(&mut self.write, None),
            None => Ok(()),
        }
    }
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
        self.settle()?;
        // The reads see the transaction's queued writes.
        self.write.flush().await.map_err(|e| race_or_backend(&e))?;
        let new_id = FederatedUserId::generate();
        let profile = serde_json::to_string(profile).map_err(|e| json(&e))?;
        let txn = &self.write.txn;
        let (row, owners) = if self.first {
            // A first attempt reads the identity and its locators' owners, nothing
            // more: its writes, the identity's among them, go as one statement at the
            // commit (`ReadIdentity`).
            let read = federated_user::Entity::find()
                .select_only()
                .columns([
                    federated_user::Column::Id,
                    federated_user::Column::LinkState,
                    federated_user::Column::UserId,
                    federated_user::Column::SealedTokens,
                ])
                .filter(key_filter(key))
                .build(DbBackend::Postgres);
            let (row, owners) = claim_reading_owners(txn, read, key, locators).await?;
            self.read = Some(ReadIdentity {
                id: row.as_ref().map_or(new_id.as_uuid(), |r| r.id),
                key: key.clone(),
                profile,
                now,
                seen: row.clone(),
            });
            (row, owners)
        } else {
            // One statement whoever the person is: insert on the unique key, or — a
            // returning person — touch the existing row, and return the row either
            // way. Of concurrent first logins one inserts; the others wait for it to
            // commit and get its row.
            let insert =
                federated_user::Entity::insert(new_identity(new_id.as_uuid(), key, profile, now))
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
            if txn.get_database_backend() == DbBackend::Postgres {
                let mut claim = insert.build(DbBackend::Postgres);
                claim
                    .sql
                    .push_str(" RETURNING id, link_state, user_id, sealed_tokens");
                claim_reading_owners(txn, claim, key, locators).await?
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
                (Some(claimed), None)
            }
        };
        match row {
            Some(row) if row.id != new_id.as_uuid() => Ok(ClaimedIdentity {
                id: FederatedUserId::from_uuid(row.id),
                first_sight: false,
                link_state: LinkState::parse(&row.link_state).unwrap_or(LinkState::Unlinked),
                user_id: row.user_id.as_deref().and_then(UserId::parse),
                sealed_tokens: row.sealed_tokens,
                owners,
            }),
            _ => Ok(ClaimedIdentity {
                id: new_id,
                first_sight: true,
                link_state: LinkState::Unlinked,
                user_id: None,
                sealed_tokens: None,
                owners,
            }),
        }
    }

    async fn locator_owners(
        &mut self,
        key: &IdentityKey,
        locators: &[Locator],
    ) -> StoreResult<Vec<LocatorOwner>> {
        if locators.is_empty() {
            return Ok(Vec::new());
        }
        self.settle()?;
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
        if let Some(read) = self.read.take_if(|r| r.id == id.as_uuid()) {
            return read.defer(&mut self.write, Some(u));
        }
        let update = identity_update(u)?;
        self.write
            .defer(&update.filter(federated_user::Column::Id.eq(id.as_uuid())));
        Ok(())
    }

    async fn record_user_token(&mut self, token: &UserTokenRecord) -> StoreResult<()> {
        self.write.defer(&token_insert(token));
        Ok(())
    }

    async fn append_events(&mut self, events: &[Event]) -> StoreResult<()> {
        // The outbox may read the webhook subscriptions, sending the queue first.
        self.settle()?;
        insert_events(&mut self.write, events)
            .await
            .map_err(|e| race_or_backend(&e))
    }

    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        self.settle()?;
        self.write.commit().await.map_err(|e| race_or_backend(&e))
    }
}

#[async_trait]
impl LoginRepository for SeaStore {
    async fn begin_login(&self, attempt: LoginAttempt) -> StoreResult<Box<dyn LoginTransaction>> {
        // SQLite's writer takes its turn before the login reads: nothing to guard.
        let first = attempt == LoginAttempt::First && self.writer.is_none();
        let write = if first {
            self.begin_write_unbegun().await
        } else {
            self.begin_write().await
        }
        .map_err(|e| backend_err(&e))?;
        Ok(Box::new(SeaLoginTxn {
            write,
            first,
            read: None,
        }))
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
