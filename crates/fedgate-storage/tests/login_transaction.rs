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
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_domain::ports::{
    EventRepository, FederationRepository, IdentityKey, IdentityUpdate, LoginRepository,
    StoreError, UserRepository, UserTokenRecord, UserTokenRepository,
};
use fedgate_domain::user::{Locator, User, UserLocator};
use fedgate_storage::SeaStore;

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
) -> Result<(UserId, TokenId), StoreError> {
    let now = Utc::now();
    let key = key(app, subject);
    let profile = ProviderProfile {
        subject: subject.into(),
        email: Some("ann@example.com".into()),
        ..ProviderProfile::default()
    };
    let mut txn = store.begin_login().await?;
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
    txn.update_identity(
        claimed.id,
        &IdentityUpdate {
            link_state: LinkState::Linked,
            user_id: Some(&user.id),
            candidates: &[],
            profile: &profile,
            sealed_tokens: None,
            now,
        },
    )
    .await?;
    let token = UserTokenRecord {
        id: TokenId::generate(),
        application_id: app,
        user_id: user.id.clone(),
        issued_at: now,
        expires_at: now + Duration::hours(1),
        revoked_at: None,
        last_seen_at: None,
    };
    txn.record_user_token(&token).await?;
    let mut event = Event::new(app, EventKind::LoginSucceeded, now);
    event.federated_user_id = Some(claimed.id);
    event.user_id = Some(user.id.clone());
    txn.append_events(&[event]).await?;
    txn.commit().await?;
    Ok((user.id, token.id))
}

async fn queued_writes_land_in_order_and_a_refused_one_leaves_nothing(
    store: SeaStore,
    reads_owners: bool,
) {
    let app = application(&store).await;
    let (user, token) = first_login(&store, app, "ann-1", reads_owners)
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
    let refused = first_login(&store, app, "ann-2", reads_owners).await;
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
    let dir = tempfile::tempdir().unwrap();
    queued_writes_land_in_order_and_a_refused_one_leaves_nothing(sqlite(&dir, 5).await, false)
        .await;
}

#[tokio::test]
async fn postgres_login_transaction_queues_its_writes() {
    queued_writes_land_in_order_and_a_refused_one_leaves_nothing(postgres(5).await, true).await;
}
