//! Ports: the traits through which the domain reaches storage and the short-lived
//! state store. `fedgate-storage` and `fedgate-state` implement them.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access_key::{AccessKey, AccessKeyId, StoredAccessKey};
use crate::application::{Application, ApplicationName};
use crate::email::Email;
use crate::events::{Event, EventQuery};
use crate::federation::{FederatedUser, LinkChange, LinkChangeOutcome, LinkState, ProviderProfile};
use crate::ids::{ApplicationId, PropertyId, SubscriberId};
use crate::ids::{FederatedUserId, TokenId, UserId};
use crate::linking::LocatorOwner;
use crate::password::PasswordHashString;
use crate::property::StoredProperty;
use crate::subscriber::{Subscriber, SubscriberCredentials};
use crate::user::{Locator, User, UserLocator};

/// Storage failures the domain distinguishes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; names what already exists.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A limit would be exceeded.
    #[error("limit reached: {0}")]
    LimitReached(&'static str),
    /// The backing service failed or is unreachable.
    #[error("storage backend failure: {0}")]
    Backend(String),
    /// The state store is at its capacity: nothing new fits until records expire or
    /// are used.
    #[error("the state store is full")]
    Full,
}

/// Result of storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Subscriber accounts.
#[async_trait]
pub trait SubscriberRepository: Send + Sync {
    /// Creates an account; `Conflict` when the email is taken (case-insensitively).
    async fn create_subscriber(
        &self,
        id: SubscriberId,
        email: &Email,
        hash: &PasswordHashString,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber>;
    /// Finds an account by email, case-insensitively, with its password hash.
    async fn find_subscriber_by_email(
        &self,
        email: &Email,
    ) -> StoreResult<Option<SubscriberCredentials>>;
    /// Reads an account.
    async fn get_subscriber(&self, id: SubscriberId) -> StoreResult<Option<Subscriber>>;
    /// Replaces an account's password hash.
    async fn update_password_hash(
        &self,
        id: SubscriberId,
        hash: &PasswordHashString,
    ) -> StoreResult<()>;
}

/// Applications, always scoped to their owning subscriber except [`Self::find_application`].
#[async_trait]
pub trait ApplicationRepository: Send + Sync {
    /// Creates an application.
    async fn create_application(&self, app: &Application) -> StoreResult<()>;
    /// The subscriber's applications, oldest first.
    async fn list_applications(&self, owner: SubscriberId) -> StoreResult<Vec<Application>>;
    /// One of the subscriber's applications; `None` if absent or someone else's.
    async fn get_application(
        &self,
        owner: SubscriberId,
        id: ApplicationId,
    ) -> StoreResult<Option<Application>>;
    /// An application by id alone, for flows authenticated another way.
    async fn find_application(&self, id: ApplicationId) -> StoreResult<Option<Application>>;
    /// Renames; `None` if absent or someone else's.
    async fn rename_application(
        &self,
        owner: SubscriberId,
        id: ApplicationId,
        name: &ApplicationName,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Application>>;
    /// Deletes with everything it owns; false if absent or someone else's.
    async fn delete_application(&self, owner: SubscriberId, id: ApplicationId)
    -> StoreResult<bool>;
}

/// Properties of an application.
#[async_trait]
pub trait PropertyRepository: Send + Sync {
    /// Inserts; `Conflict` on a duplicate instance name or a second singleton.
    async fn insert_property(&self, property: &StoredProperty) -> StoreResult<()>;
    /// All properties of the application, oldest first.
    async fn list_properties(&self, app: ApplicationId) -> StoreResult<Vec<StoredProperty>>;
    /// One property of the application.
    async fn get_property(
        &self,
        app: ApplicationId,
        id: PropertyId,
    ) -> StoreResult<Option<StoredProperty>>;
    /// Replaces name, settings and secret; false if absent.
    async fn update_property(&self, property: &StoredProperty) -> StoreResult<bool>;
    /// Deletes; false if absent.
    async fn delete_property(&self, app: ApplicationId, id: PropertyId) -> StoreResult<bool>;
}

/// Access keys of an application.
#[async_trait]
pub trait AccessKeyRepository: Send + Sync {
    /// Inserts unless `max_active` unrevoked keys already exist (`LimitReached`);
    /// the check and the insert are one transaction.
    async fn insert_access_key(&self, key: &StoredAccessKey, max_active: u64) -> StoreResult<()>;
    /// The application's keys, newest first, without secrets.
    async fn list_access_keys(&self, app: ApplicationId) -> StoreResult<Vec<AccessKey>>;
    /// A key by id with its sealed secret, whichever application owns it.
    async fn find_access_key(&self, id: &AccessKeyId) -> StoreResult<Option<StoredAccessKey>>;
    /// Revokes; `None` if absent from this application, else the key (already
    /// revoked keys keep their first revocation time).
    async fn revoke_access_key(
        &self,
        app: ApplicationId,
        id: &AccessKeyId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccessKey>>;
    /// Records a successful use.
    async fn touch_access_key(&self, id: &AccessKeyId, now: DateTime<Utc>) -> StoreResult<()>;
}

/// Users of an application.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Creates a user with its locators, and `event` in the same transaction;
    /// `Conflict` when the id or a locator is taken.
    async fn create_user(&self, user: &User, event: Option<Event>) -> StoreResult<()>;
    /// One user of the application.
    async fn get_user(&self, app: ApplicationId, id: &UserId) -> StoreResult<Option<User>>;
    /// Users of the application among `ids` (absent ones are left out), in id order.
    async fn get_users(&self, app: ApplicationId, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// Users in id order after `after`, at most `limit`.
    async fn list_users(
        &self,
        app: ApplicationId,
        after: Option<&UserId>,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    /// The user owning `locator` (compared normalized).
    async fn find_user_by_locator(
        &self,
        app: ApplicationId,
        locator: &Locator,
    ) -> StoreResult<Option<User>>;
    /// Sets the screen name; `None` when the user does not exist.
    async fn update_user(
        &self,
        app: ApplicationId,
        id: &UserId,
        screen_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>>;
    /// Adds, removes or verifies a locator.
    async fn change_locator(
        &self,
        app: ApplicationId,
        id: &UserId,
        change: &LocatorChange,
        now: DateTime<Utc>,
    ) -> StoreResult<LocatorChangeOutcome>;
    /// Deletes the user with its locators and tokens; its federated users become
    /// `Unlinked` and it leaves every candidate list. Writes `event` (completed with the
    /// user), plus a `federated_user_unlinked` event per identity it held, in the same
    /// transaction. `false` when there was no such user.
    async fn delete_user(
        &self,
        app: ApplicationId,
        id: &UserId,
        now: DateTime<Utc>,
        event: Event,
    ) -> StoreResult<bool>;
}

/// A change to one of a user's locators.
#[derive(Debug, Clone)]
pub enum LocatorChange {
    /// Add it (`Conflict` when another user, or this one, has it).
    Add(UserLocator),
    /// Remove it.
    Remove(Locator),
    /// Mark it verified.
    Verify(Locator),
}

/// What became of a locator change.
#[derive(Debug, Clone)]
pub enum LocatorChangeOutcome {
    /// Applied; the user as it is now.
    Changed(User),
    /// No such user.
    NoSuchUser,
    /// The user has no such locator (remove, verify).
    NoSuchLocator,
}

/// A user token as recorded (the JWT itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTokenRecord {
    /// Its `jti`.
    pub id: TokenId,
    /// The application (`aud`).
    pub application_id: ApplicationId,
    /// The user (`sub`).
    pub user_id: UserId,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When a verification last saw it (updated at most once a minute).
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// User tokens issued, for listing, revocation and verification.
#[async_trait]
pub trait UserTokenRepository: Send + Sync {
    /// Records a token just issued.
    async fn record_user_token(&self, token: &UserTokenRecord) -> StoreResult<()>;
    /// One token of the application.
    async fn get_user_token(
        &self,
        app: ApplicationId,
        id: TokenId,
    ) -> StoreResult<Option<UserTokenRecord>>;
    /// The user's tokens that have not expired at `now`, newest first.
    async fn list_user_tokens(
        &self,
        app: ApplicationId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<UserTokenRecord>>;
    /// Revokes one token (`Some(id)`) or all unrevoked ones of the user; returns how
    /// many were revoked and writes `event` (with that count) in the same transaction
    /// when any were.
    async fn revoke_user_tokens(
        &self,
        app: ApplicationId,
        user: &UserId,
        id: Option<TokenId>,
        now: DateTime<Utc>,
        event: Event,
    ) -> StoreResult<u64>;
    /// Notes that a verification saw the token.
    async fn touch_user_token(&self, id: TokenId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Deletes records of tokens that expired before `before`.
    async fn delete_expired_user_tokens(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The key of a federated identity: never an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityKey {
    /// The application.
    pub application_id: ApplicationId,
    /// Provider configuration key (`google`, `oidc:<property id>`).
    pub provider_config: String,
    /// Canonical issuer.
    pub issuer: String,
    /// The provider's subject.
    pub subject: String,
}

/// A federated identity as a login found (or first created) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedIdentity {
    /// Its `federatedUserId`.
    pub id: FederatedUserId,
    /// This login created it.
    pub first_sight: bool,
    /// Its link state before this login.
    pub link_state: LinkState,
    /// The linked user (`Linked`) or the user it was detached from (`Detached`).
    pub user_id: Option<UserId>,
    /// Its sealed provider tokens before this login.
    pub sealed_tokens: Option<Vec<u8>>,
    /// The owners of the locators the claim was given, as
    /// [`LoginTransaction::locator_owners`] finds them, when the store read them in the
    /// claim's own request; `None` when it did not (ask `locator_owners` if they are
    /// needed).
    pub owners: Option<Vec<LocatorOwner>>,
}

/// What a login writes on its federated identity.
#[derive(Debug, Clone)]
pub struct IdentityUpdate<'a> {
    /// The link state after the login.
    pub link_state: LinkState,
    /// The linked user, or the user it stays detached from.
    pub user_id: Option<&'a UserId>,
    /// Candidates to keep.
    pub candidates: &'a [UserId],
    /// The latest profile.
    pub profile: &'a ProviderProfile,
    /// The provider's tokens, sealed for this identity.
    pub sealed_tokens: Option<Vec<u8>>,
    /// Now (last login).
    pub now: DateTime<Utc>,
}

/// The id and lifetime of a user token to be minted after the login resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedToken {
    /// Its `jti`.
    pub id: TokenId,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
}

/// One login's writes, in one transaction. The login service decides; the store only
/// reads and writes what it is told. A uniqueness race (two first logins of one person
/// creating the same user or locator), or on a first attempt an identity changed since
/// it was read ([`LoginAttempt::First`]), is reported as `Conflict`, and the service
/// retries the whole transaction.
#[async_trait]
pub trait LoginTransaction: Send {
    /// Finds the identity under `key`, creating it (unlinked, with `profile`) on first
    /// sight; of concurrent first logins one creates it and the others see it — or, on
    /// a [`LoginAttempt::First`], get `Conflict` at the commit. A store that can read
    /// the owners of `locators` in the same request does, and returns them in
    /// [`ClaimedIdentity::owners`] (a first login then needs no second read).
    async fn claim_identity(
        &mut self,
        key: &IdentityKey,
        profile: &ProviderProfile,
        now: DateTime<Utc>,
        locators: &[Locator],
    ) -> StoreResult<ClaimedIdentity>;
    /// The users of the key's application owning any of `locators`, each with whether
    /// it is linked to an identity of the key's provider configuration.
    async fn locator_owners(
        &mut self,
        key: &IdentityKey,
        locators: &[Locator],
    ) -> StoreResult<Vec<LocatorOwner>>;
    /// Creates a user with its locators.
    async fn create_user(&mut self, user: &User) -> StoreResult<()>;
    /// Writes the identity's state after the login.
    async fn update_identity(
        &mut self,
        id: FederatedUserId,
        update: &IdentityUpdate<'_>,
    ) -> StoreResult<()>;
    /// Records a user token the login hands out.
    async fn record_user_token(&mut self, token: &UserTokenRecord) -> StoreResult<()>;
    /// Writes events describing the login.
    async fn append_events(&mut self, events: &[Event]) -> StoreResult<()>;
    /// Commits everything.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Which attempt of a login a transaction is, and so how it guards what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The first: the store may read the identity without locking it and check, as it
    /// commits, that nothing it read has changed meanwhile — `Conflict`, with nothing
    /// written, if something has.
    First,
    /// After a `Conflict`: the store locks the identity as it claims it, so that a
    /// concurrent login of the same person waits for this one instead of making it
    /// retry again.
    Retry,
}

/// Starts login transactions.
#[async_trait]
pub trait LoginRepository: Send + Sync {
    /// Begins one.
    async fn begin_login(&self, attempt: LoginAttempt) -> StoreResult<Box<dyn LoginTransaction>>;
    /// The federated user with this identity key and its sealed provider tokens, if
    /// it exists (read outside any login transaction).
    async fn stored_tokens(
        &self,
        key: &IdentityKey,
    ) -> StoreResult<Option<(FederatedUserId, Option<Vec<u8>>)>>;
}

/// Federated users.
#[async_trait]
pub trait FederationRepository: Send + Sync {
    /// One federated user of the application.
    async fn get_federated_user(
        &self,
        app: ApplicationId,
        id: FederatedUserId,
    ) -> StoreResult<Option<FederatedUser>>;
    /// The federated users linked to (or detached from) a user, oldest first.
    async fn list_federated_users_of(
        &self,
        app: ApplicationId,
        user: &UserId,
    ) -> StoreResult<Vec<FederatedUser>>;
    /// Links, unlinks or detaches, checking the current state and the user in the same
    /// transaction, and writes `event` (completed with the federated user and user)
    /// with it.
    async fn change_link(
        &self,
        app: ApplicationId,
        id: FederatedUserId,
        change: &LinkChange,
        now: DateTime<Utc>,
        event: Event,
    ) -> StoreResult<LinkChangeOutcome>;
}

/// An application's signing key for user tokens, as stored.
#[derive(Debug, Clone)]
pub struct StoredSigningKey {
    /// Key id (`kid`).
    pub kid: String,
    /// The application.
    pub application_id: ApplicationId,
    /// JOSE algorithm, e.g. `EdDSA`.
    pub algorithm: String,
    /// Sealed PKCS#8 private key.
    pub sealed_private: Vec<u8>,
    /// Public key (for Ed25519: base64url `x`).
    pub public_key: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it becomes the signing key (it is published from its creation).
    pub activates_at: DateTime<Utc>,
}

/// Signing keys for user tokens: several per application over time.
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// The application's keys, earliest activation first.
    async fn list_signing_keys(&self, app: ApplicationId) -> StoreResult<Vec<StoredSigningKey>>;
    /// Stores a key.
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> StoreResult<()>;
    /// Deletes the application's keys named in `kids` (keys past their removal).
    async fn delete_signing_keys(&self, app: ApplicationId, kids: &[String]) -> StoreResult<()>;
}

/// The event log.
#[async_trait]
pub trait EventRepository: Send + Sync {
    /// Appends events (of any applications) in one write.
    async fn append_events(&self, events: &[Event]) -> StoreResult<()>;
    /// The application's events, newest first.
    async fn list_events(&self, app: ApplicationId, query: &EventQuery) -> StoreResult<Vec<Event>>;
    /// Deletes every event from before `before` (retention); returns how many.
    async fn delete_events_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The webhook outbox. Deliveries of events are written by the storage in the same
/// transaction as the events (see [`crate::webhook::deliveries_for`]); these are the
/// worker's and the panel's operations on them.
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Claims up to `limit` pending deliveries due at `now` until `lease_until`: no
    /// other worker (on any instance) gets them meanwhile; if this one dies, they are
    /// claimed again after the lease.
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<crate::webhook::Delivery>>;
    /// Records an attempt of a claimed delivery and releases it.
    async fn record_delivery_attempt(
        &self,
        id: &str,
        attempt: &crate::webhook::DeliveryAttempt,
    ) -> StoreResult<()>;
    /// A webhook's most recent deliveries, newest first.
    async fn list_deliveries(
        &self,
        app: ApplicationId,
        webhook: PropertyId,
        limit: u64,
    ) -> StoreResult<Vec<crate::webhook::Delivery>>;
    /// Makes a delivery due now again (same message id), with a new retry window;
    /// false when the application's webhook has no such delivery.
    async fn redeliver(
        &self,
        app: ApplicationId,
        webhook: PropertyId,
        id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Writes a delivery that reports no stored change (the test event).
    async fn insert_delivery(&self, delivery: &crate::webhook::Delivery) -> StoreResult<()>;
    /// Deletes deliveries written before `before`; how many.
    async fn delete_deliveries_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Everything durable, in one handle.
#[async_trait]
pub trait Store:
    SubscriberRepository
    + ApplicationRepository
    + PropertyRepository
    + AccessKeyRepository
    + UserRepository
    + FederationRepository
    + LoginRepository
    + SigningKeyRepository
    + UserTokenRepository
    + EventRepository
    + WebhookRepository
    + std::fmt::Debug
{
    /// Checks the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// One event counted against a limit: the counter under `key` (its window of
/// `window` starts at its first event) may reach `limit` and no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The counter's key.
    pub key: String,
    /// How long a counter lives from its first event.
    pub window: Duration,
    /// Events allowed in a window.
    pub limit: u64,
}

/// What a state-store operation counted against limits did
/// ([`StateStore::take_marking_charged`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charged<T> {
    /// The charge at this index passed its limit; the operation was not done.
    Over(usize),
    /// Every charge was within its limit; what the operation gave.
    Done(T),
}

/// [`StateStore::take`], then — when it took a value — [`StateStore::put`] of the
/// marker: [`StateStore::take_marking`] in two steps.
pub async fn take_marking_each<S: StateStore + ?Sized>(
    store: &S,
    key: &str,
    marker: &str,
    mark: &[u8],
    ttl: Duration,
) -> StoreResult<Option<Vec<u8>>> {
    let taken = store.take(key).await?;
    if taken.is_some() {
        store.put(marker, mark, ttl).await?;
    }
    Ok(taken)
}

/// [`StateStore::charge`], then — when no limit was passed — [`StateStore::take_marking`]:
/// [`StateStore::take_marking_charged`] in two steps.
pub async fn take_marking_charged_each<S: StateStore + ?Sized>(
    store: &S,
    key: &str,
    marker: &str,
    mark: &[u8],
    ttl: Duration,
    charges: &[Charge],
) -> StoreResult<Charged<Option<Vec<u8>>>> {
    if let Some(over) = store.charge(charges).await? {
        return Ok(Charged::Over(over));
    }
    store
        .take_marking(key, marker, mark, ttl)
        .await
        .map(Charged::Done)
}

/// [`StateStore::charge`], then — when no limit was passed — [`StateStore::put_if_absent`]:
/// [`StateStore::put_if_absent_charged`] in two steps.
pub async fn put_if_absent_charged_each<S: StateStore + ?Sized>(
    store: &S,
    key: &str,
    value: &[u8],
    ttl: Duration,
    charges: &[Charge],
) -> StoreResult<Charged<bool>> {
    if let Some(over) = store.charge(charges).await? {
        return Ok(Charged::Over(over));
    }
    store
        .put_if_absent(key, value, ttl)
        .await
        .map(Charged::Done)
}

/// Counts `charges` one after the other with [`StateStore::increment`], stopping at the
/// first that passes its limit: the index of that charge, if any. Later charges are
/// not counted for an event refused by an earlier one.
pub async fn charge_each<S: StateStore + ?Sized>(
    store: &S,
    charges: &[Charge],
) -> StoreResult<Option<usize>> {
    for (i, c) in charges.iter().enumerate() {
        if store.increment(&c.key, c.window).await? > c.limit {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Short-lived shared state: login records, nonces, sessions, rate-limit counters.
/// Values expire on their own; every operation is atomic on its key.
#[async_trait]
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// Stores `value` under `key` for `ttl`, replacing any value.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()>;
    /// Stores a value that begins new work (a login start): refused with
    /// [`StoreError::Full`] before the store is full, so that work already under way
    /// (callbacks, nonces, sessions, counters) keeps room to finish.
    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        self.put(key, value, ttl).await
    }
    /// Reads a live value.
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Reads and deletes in one step: of many concurrent callers, one gets the value.
    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// [`Self::take`], and when it took a value, stores `mark` under `marker` for `ttl`,
    /// so that a later caller can tell a key already taken from one that never was. A
    /// store may do both in one round trip (and then no caller can see the key gone
    /// and the marker not yet there).
    async fn take_marking(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl: Duration,
    ) -> StoreResult<Option<Vec<u8>>> {
        take_marking_each(self, key, marker, mark, ttl).await
    }
    /// Stores only if no live value exists; true when this call stored it.
    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool>;
    /// Increments a counter, creating it at 1 with `ttl` (the window starts at the
    /// first increment and is not extended by later ones); returns the new count.
    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64>;
    /// Counts one event against each of `charges` in order, stopping at the first
    /// that passes its limit, whose index it returns ([`charge_each`]); a store may do
    /// it in one round trip.
    async fn charge(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        charge_each(self, charges).await
    }
    /// [`Self::charge`] for events that come often and whose limits may hold across
    /// instances a moment late (login starts): a store shared by several instances may
    /// judge on the counts it knows and share its own soon after, so that one instance
    /// needs no round trip per event. Within one instance a limit holds exactly.
    async fn charge_soon(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        self.charge(charges).await
    }
    /// [`Self::charge`], then — when no limit was passed — [`Self::put_new`]: the
    /// index of the charge past its limit (nothing stored), or `None` once stored. A
    /// store may do it in one round trip.
    async fn put_new_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Option<usize>> {
        if let Some(over) = self.charge(charges).await? {
            return Ok(Some(over));
        }
        self.put_new(key, value, ttl).await.map(|()| None)
    }
    /// [`Self::charge`], then — when no limit was passed — [`Self::take_marking`]: a
    /// login callback's work in the store. A store may do it in one round trip.
    async fn take_marking_charged(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Charged<Option<Vec<u8>>>> {
        take_marking_charged_each(self, key, marker, mark, ttl, charges).await
    }
    /// [`Self::charge`], then — when no limit was passed — [`Self::put_if_absent`]: a
    /// login callback spending a round whose record travelled sealed in its `state`
    /// (true when this call spent it). A store may do it in one round trip.
    async fn put_if_absent_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Charged<bool>> {
        put_if_absent_charged_each(self, key, value, ttl, charges).await
    }
    /// Deletes a key if present.
    async fn delete(&self, key: &str) -> StoreResult<()>;
    /// Checks the store answers.
    async fn ping(&self) -> StoreResult<()>;
}
