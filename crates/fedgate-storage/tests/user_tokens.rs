//! User-token records on both databases: revocation, listing, the expiry sweep, and
//! their fate when the user is deleted. PostgreSQL must be reachable
//! (FG_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).

#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use chrono::{Duration, Utc};
use fedgate_domain::events::{Event, EventKind, EventQuery};
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_domain::ports::{
    EventRepository, UserRepository, UserTokenRecord, UserTokenRepository,
};
use fedgate_domain::user::User;
use fedgate_storage::SeaStore;

use common::{application, postgres, sqlite};

async fn stores(dir: &tempfile::TempDir) -> Vec<SeaStore> {
    vec![sqlite(dir, 5).await, postgres(5).await]
}

async fn user(store: &SeaStore) -> (ApplicationId, UserId) {
    let app = application(store).await;
    let id = UserId::generate();
    store
        .create_user(
            &User {
                id: id.clone(),
                application_id: app,
                screen_name: None,
                locators: Vec::new(),
                created_at: Utc::now(),
            },
            None,
        )
        .await
        .unwrap();
    (app, id)
}

fn token(app: ApplicationId, user: &UserId, expires_in: Duration) -> UserTokenRecord {
    let now = Utc::now();
    UserTokenRecord {
        id: TokenId::generate(),
        application_id: app,
        user_id: user.clone(),
        issued_at: now - Duration::hours(2),
        expires_at: now + expires_in,
        revoked_at: None,
        last_seen_at: None,
    }
}

#[tokio::test]
async fn token_records_are_revoked_listed_swept_and_deleted_with_their_user() {
    let dir = tempfile::tempdir().unwrap();
    for store in stores(&dir).await {
        let (app, user) = user(&store).await;
        let live = token(app, &user, Duration::hours(1));
        let other = token(app, &user, Duration::hours(1));
        let expired = token(app, &user, -Duration::minutes(1));
        for t in [&live, &other, &expired] {
            store.record_user_token(t).await.unwrap();
        }
        let now = Utc::now();
        let listed = store.list_user_tokens(app, &user, now).await.unwrap();
        assert_eq!(listed.len(), 2, "expired tokens are not listed");

        let event = || Event::new(app, EventKind::UserTokensRevoked, now);
        let one = store
            .revoke_user_tokens(app, &user, Some(live.id), now, event())
            .await
            .unwrap();
        assert_eq!(one, 1);
        let again = store
            .revoke_user_tokens(app, &user, Some(live.id), now, event())
            .await
            .unwrap();
        assert_eq!(again, 0, "already revoked");
        let rest = store
            .revoke_user_tokens(app, &user, None, now, event())
            .await
            .unwrap();
        assert_eq!(rest, 2, "the other and the expired one");
        let events = store
            .list_events(
                app,
                &EventQuery {
                    kind: Some(EventKind::UserTokensRevoked),
                    provider: None,
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(events.len(), 2, "one event per call that revoked something");

        assert_eq!(store.delete_expired_user_tokens(now).await.unwrap(), 1);
        assert!(
            store
                .get_user_token(app, expired.id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.get_user_token(app, live.id).await.unwrap().is_some());

        let deleted = store
            .delete_user(
                app,
                &user,
                now,
                Event::new(app, EventKind::UserDeleted, now),
            )
            .await
            .unwrap();
        assert!(deleted);
        assert!(store.get_user_token(app, other.id).await.unwrap().is_none());
        // Another application cannot see a token by id.
        let (b, b_user) = self::user(&store).await;
        let theirs = token(b, &b_user, Duration::hours(1));
        store.record_user_token(&theirs).await.unwrap();
        assert!(
            store
                .get_user_token(app, theirs.id)
                .await
                .unwrap()
                .is_none()
        );
    }
}
