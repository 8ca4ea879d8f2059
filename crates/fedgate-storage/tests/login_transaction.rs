//! A login's transaction queues the writes whose results it does not read and sends
//! them together before its next read or its commit. On both databases: the writes
//! land in order, a read after them sees them, and a write refused at the commit (a
//! locator another login took) fails the whole transaction and leaves nothing
//! behind; on PostgreSQL the claim reads the owners of the asserted locators in its
//! own request, and finds what a look-up finds. PostgreSQL must be reachable (FG_TEST_POSTGRES_URL, default
//! postgres://postgres@127.0.0.1:5432).

#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use chrono::{Duration, Utc};
use fedgate_domain::email::Email;
use fedgate_domain::events::{Event, EventKind, EventQuery};
use fedgate_domain::federation::{LinkState, ProviderProfile};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, TokenId, UserId};
use fedgate_domain::ports::{
    ClaimedIdentity, EventRepository, FederationRepository, IdentityKey, IdentityUpdate,
    LoginAttempt, LoginRepository, LoginTransaction, StoreError, UserRepository, UserTokenRecord,
    UserTokenRepository,
};
use fedgate_domain::user::{Locator, User, UserLocator};
use fedgate_storage::SeaStore;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use common::{application, postgres, sqlite};

fn key(app: ApplicationId, subject: &str) -> IdentityKey {
    IdentityKey {
        application_id: app,
        provider_config: "google".into(),
        issuer: "https://accounts.google.com".into(),
        subject: subject.into(),
    }
}

fn ann() -> Locator {
    Locator::email(&Email::parse("email", "ann@example.com").unwrap())
}

/// A first login that creates its user: claim, create, a read, update, token, event.
/// `Err` carries the failure of the step that failed.
async fn first_login(
    store: &SeaStore,
    app: ApplicationId,
    subject: &str,
    reads_owners: bool,
    attempt: LoginAttempt,
) -> Result<(UserId, TokenId), StoreError> {
    let now = Utc::now();
    let key = key(app, subject);
    let profile = ProviderProfile {
        subject: subject.into(),
        email: Some("ann@example.com".into()),
        ..ProviderProfile::default()
    };
    let mut txn = store.begin_login(attempt).await?;
    let claimed = txn.claim_identity(&key, &profile, now, &[ann()]).await?;
    assert!(claimed.first_sight);
    // PostgreSQL reads the owners with the claim (SQLite does not): what a look-up
    // finds then. The second person's claim finds the first person's user, linked.
    assert_eq!(
        claimed.owners.is_some(),
        reads_owners,
        "owners read with the claim"
    );
    let looked_up = txn.locator_owners(&key, &[ann()]).await?;
    if let Some(owners) = &claimed.owners {
        assert_eq!(owners, &looked_up);
    }
    assert_eq!(
        looked_up
            .iter()
            .map(|o| (o.verified, o.linked_to_provider))
            .collect::<Vec<_>>(),
        if subject == "ann-1" {
            vec![]
        } else {
            vec![(true, true)]
        }
    );
    let user = User {
        id: UserId::generate(),
        application_id: app,
        screen_name: Some("Ann".into()),
        locators: vec![UserLocator {
            locator: ann(),
            verified: true,
        }],
        created_at: now,
    };
    txn.create_user(&user).await?;
    // A read after a queued write sees it.
    let owners = txn.locator_owners(&key, &[ann()]).await?;
    assert_eq!(
        owners.iter().map(|o| &o.user_id).collect::<Vec<_>>(),
        vec![&user.id],
        "the transaction's own new user owns the locator"
    );
    let token = link_and_commit(txn, app, claimed.id, &user.id, &profile, None).await?;
    Ok((user.id, token))
}

/// The rest of a login linked to `user`: the identity's update (provider tokens
/// `sealed`), a user token, an event, the commit.
async fn link_and_commit(
    mut txn: Box<dyn LoginTransaction>,
    app: ApplicationId,
    identity: FederatedUserId,
    user: &UserId,
    profile: &ProviderProfile,
    sealed: Option<Vec<u8>>,
) -> Result<TokenId, StoreError> {
    let now = Utc::now();
    txn.update_identity(
        identity,
        &IdentityUpdate {
            link_state: LinkState::Linked,
            user_id: Some(user),
            candidates: &[],
            profile,
            sealed_tokens: sealed,
            now,
        },
    )
    .await?;
    let token = UserTokenRecord {
        id: TokenId::generate(),
        application_id: app,
        user_id: user.clone(),
        issued_at: now,
        expires_at: now + Duration::hours(1),
        revoked_at: None,
        last_seen_at: None,
    };
    txn.record_user_token(&token).await?;
    let mut event = Event::new(app, EventKind::LoginSucceeded, now);
    event.federated_user_id = Some(identity);
    event.user_id = Some(user.clone());
    txn.append_events(&[event]).await?;
    txn.commit().await?;
    Ok(token.id)
}

async fn queued_writes_land_in_order_and_a_refused_one_leaves_nothing(
    store: SeaStore,
    reads_owners: bool,
    attempt: LoginAttempt,
) {
    let app = application(&store).await;
    let (user, token) = first_login(&store, app, "ann-1", reads_owners, attempt)
        .await
        .unwrap();

    let stored = store.get_user(app, &user).await.unwrap().unwrap();
    assert_eq!(stored.locators.len(), 1);
    let (identity, _) = store
        .stored_tokens(&key(app, "ann-1"))
        .await
        .unwrap()
        .unwrap();
    let identity = store
        .get_federated_user(app, identity)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (identity.link_state, identity.user_id.as_ref()),
        (LinkState::Linked, Some(&user))
    );
    assert!(store.get_user_token(app, token).await.unwrap().is_some());
    let events = store
        .list_events(
            app,
            &EventQuery {
                kind: Some(EventKind::LoginSucceeded),
                provider: None,
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1);

    // Another person's first login asserting the same address, creating a user of its
    // own: the locator is taken, reported as a conflict (the service retries) when the
    // queued insert is sent, and nothing of that transaction stays.
    let refused = first_login(&store, app, "ann-2", reads_owners, attempt).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert!(
        store
            .stored_tokens(&key(app, "ann-2"))
            .await
            .unwrap()
            .is_none()
    );
    let events = store
        .list_events(
            app,
            &EventQuery {
                kind: None,
                provider: None,
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
}

#[tokio::test]
async fn sqlite_login_transaction_queues_its_writes() {
    for attempt in [LoginAttempt::First, LoginAttempt::Retry] {
        let dir = tempfile::tempdir().unwrap();
        queued_writes_land_in_order_and_a_refused_one_leaves_nothing(
            sqlite(&dir, 5).await,
            false,
            attempt,
        )
        .await;
    }
}

#[tokio::test]
async fn postgres_login_transaction_queues_its_writes() {
    // A first attempt that reads after queuing a write begins its transaction there,
    // giving back the connection it held first: one connection is enough.
    for attempt in [LoginAttempt::First, LoginAttempt::Retry] {
        queued_writes_land_in_order_and_a_refused_one_leaves_nothing(
            postgres(1).await,
            true,
            attempt,
        )
        .await;
    }
}

fn bob_profile() -> ProviderProfile {
    ProviderProfile {
        subject: "bob".into(),
        name: Some("Bob".into()),
        ..ProviderProfile::default()
    }
}

/// The rows of `app` in `table`.
async fn rows(store: &SeaStore, table: &str, app: ApplicationId) -> i64 {
    let row = store
        .connection()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM {table} WHERE application_id = $1"),
            [app.as_uuid().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

/// A login of bob as the service writes it after `claimed`: linked to `user` (created
/// if `create`), provider tokens `sealed`, a user token and an event.
async fn finish_bob(
    mut txn: Box<dyn LoginTransaction>,
    app: ApplicationId,
    claimed: &ClaimedIdentity,
    user: &UserId,
    create: bool,
    sealed: &[u8],
) -> Result<TokenId, StoreError> {
    if create {
        txn.create_user(&User {
            id: user.clone(),
            application_id: app,
            screen_name: Some("Bob".into()),
            locators: vec![],
            created_at: Utc::now(),
        })
        .await?;
    }
    let sealed = Some(sealed.to_vec());
    link_and_commit(txn, app, claimed.id, user, &bob_profile(), sealed).await
}

/// On PostgreSQL a first attempt reads the identity without locking it and writes in
/// one statement at the commit. Two first logins of one new person both read "no
/// identity": the second to commit is refused as a conflict and writes nothing (no
/// second user); its retry, which locks as it claims, finds the first's identity
/// linked. A login whose identity another login changed between its read and its
/// commit is refused the same way, and leaves the other's writes as they were.
#[tokio::test]
async fn postgres_first_attempts_write_nothing_when_another_login_got_there_first() {
    let store = postgres(5).await;
    let app = application(&store).await;
    let key = key(app, "bob");
    let now = Utc::now();

    let mut one = store.begin_login(LoginAttempt::First).await.unwrap();
    let mut two = store.begin_login(LoginAttempt::First).await.unwrap();
    let one_claim = one
        .claim_identity(&key, &bob_profile(), now, &[])
        .await
        .unwrap();
    let two_claim = two
        .claim_identity(&key, &bob_profile(), now, &[])
        .await
        .unwrap();
    assert!(one_claim.first_sight && two_claim.first_sight);
    // Nothing is written before the commit: a read elsewhere sees no identity yet.
    assert!(store.stored_tokens(&key).await.unwrap().is_none());
    let (bob_one, bob_two) = (UserId::generate(), UserId::generate());
    finish_bob(one, app, &one_claim, &bob_one, true, b"one")
        .await
        .unwrap();
    let refused = finish_bob(two, app, &two_claim, &bob_two, true, b"two").await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        (
            rows(&store, "users", app).await,
            rows(&store, "federated_users", app).await,
            rows(&store, "user_tokens", app).await,
            rows(&store, "events", app).await,
        ),
        (1, 1, 1, 1),
        "the refused login left nothing"
    );
    assert!(store.get_user(app, &bob_two).await.unwrap().is_none());

    // Its retry locks what it claims and finds bob linked to the first login's user.
    let mut retry = store.begin_login(LoginAttempt::Retry).await.unwrap();
    let claimed = retry
        .claim_identity(&key, &bob_profile(), now, &[])
        .await
        .unwrap();
    assert_eq!(
        (
            claimed.first_sight,
            claimed.link_state,
            claimed.user_id.as_ref()
        ),
        (false, LinkState::Linked, Some(&bob_one))
    );
    assert_eq!(claimed.id, one_claim.id);
    finish_bob(retry, app, &claimed, &bob_one, false, b"retry")
        .await
        .unwrap();

    // A returning login reads bob (tokens "retry"); another login then writes other
    // tokens on the identity and commits; the first one's commit is refused whole.
    let mut slow = store.begin_login(LoginAttempt::First).await.unwrap();
    let slow_claim = slow
        .claim_identity(&key, &bob_profile(), now, &[])
        .await
        .unwrap();
    assert_eq!(slow_claim.sealed_tokens.as_deref(), Some(&b"retry"[..]));
    let mut fast = store.begin_login(LoginAttempt::First).await.unwrap();
    let fast_claim = fast
        .claim_identity(&key, &bob_profile(), now, &[])
        .await
        .unwrap();
    let fast_token = finish_bob(fast, app, &fast_claim, &bob_one, false, b"fast")
        .await
        .unwrap();
    let refused = finish_bob(slow, app, &slow_claim, &bob_one, false, b"slow").await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let (_, tokens) = store.stored_tokens(&key).await.unwrap().unwrap();
    assert_eq!(
        tokens.as_deref(),
        Some(&b"fast"[..]),
        "the other login's tokens stay"
    );
    assert!(
        store
            .get_user_token(app, fast_token)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        (
            rows(&store, "user_tokens", app).await,
            rows(&store, "events", app).await,
        ),
        (3, 3),
        "the refused login added no token and no event"
    );

    // An identity unlinked meanwhile (by the panel, say) refuses a login that read it
    // linked: the login must decide again on what is there now.
    let mut stale = store.begin_login(LoginAttempt::First).await.unwrap();
    let stale_claim = stale
        .claim_identity(&key, &bob_profile(), now, &[])
        .await
        .unwrap();
    store
        .connection()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE federated_users SET link_state = 'unlinked', user_id = NULL WHERE id = $1",
            [stale_claim.id.as_uuid().into()],
        ))
        .await
        .unwrap();
    let refused = finish_bob(stale, app, &stale_claim, &bob_one, false, b"stale").await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let identity = store
        .get_federated_user(app, stale_claim.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (identity.link_state, identity.user_id),
        (LinkState::Unlinked, None)
    );
}
