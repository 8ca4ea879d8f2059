//! The master key cannot be silently lost or replaced: a check value sealed with it is
//! stored at the first start; a later start with another key, or on the embedded
//! default without its `master.key`, stops with an error saying what to restore.

use fedgate_domain::seal::MasterKey;
use fedgate_server::Application;
use fedgate_tests::{Backend, spawn_app};

async fn start_error(settings: fedgate_server::Settings) -> String {
    match Application::build_with(settings, fedgate_provider::Outbound::default()).await {
        Ok(_) => panic!("the server started"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn another_master_key_stops_the_start_with_what_to_do() {
    let app = spawn_app().await;
    // The first start recorded the check value; a subscriber made since is data
    // another key could not serve.
    let _owner = app.subscriber().await;

    let mut wrong = app.settings.clone();
    wrong.master_key = Some(MasterKey::generate().to_base64());
    let message = start_error(wrong).await;
    assert!(
        message.contains("not the one this database's secrets were sealed with")
            && message.contains("backup"),
        "{message}"
    );

    // The right key starts again.
    let again =
        Application::build_with(app.settings.clone(), fedgate_provider::Outbound::default()).await;
    assert!(again.is_ok(), "{:?}", again.err());
}

#[tokio::test]
async fn a_lost_master_key_file_is_not_regenerated_over_sealed_data() {
    let app = spawn_app().await;
    if app.backend != Backend::Sqlite {
        // With an external database the key is always configured; the check above
        // covers a wrong one.
        return;
    }
    let path = app.settings.data_dir.join("master.key");
    assert!(path.exists(), "the embedded default generated its key");
    std::fs::remove_file(&path).unwrap();
    let message = start_error(app.settings.clone()).await;
    assert!(
        message.contains("restore master.key from backup"),
        "{message}"
    );
    assert!(!path.exists(), "no new key was written");
}

#[tokio::test]
async fn rotating_the_master_key_while_logins_and_api_calls_run_keeps_them_working() {
    use fedgate_domain::seal::MasterKey;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    // Everything sealable exists: a client secret, an access key, a signing key and a
    // federated user's provider tokens, all under the old key.
    let w = fedgate_tests::GoogleWorld::start(serde_json::json!({})).await;
    w.google.add("ann", fedgate_tests::Person::gmail("ann"));
    let first = w.app.google_login(&w.app_id, "login_hint=ann").await;
    let federated = first.params()["federatedUserId"].clone();
    // Bob's provider tokens stay as the old key sealed them until the rotation (ann's
    // are re-written by the logins below).
    w.google.add("bob", fedgate_tests::Person::gmail("bob"));
    let bob = w
        .app
        .google_login(&w.app_id, "login_hint=bob")
        .await
        .params()["federatedUserId"]
        .clone();
    let key = w.owner.create_key(&w.app_id).await;
    let old = w.app.master_key();
    let new = MasterKey::generate();
    let (old_b64, new_b64) = (old.to_base64(), new.to_base64());

    // Every instance restarted with the new key, the old one still accepted.
    let rotating = {
        let (o, n) = (old_b64.clone(), new_b64.clone());
        move |s: &mut fedgate_server::Settings| {
            s.master_key = Some(n);
            s.previous_master_keys = vec![o];
        }
    };
    let base = w.app.instance_with(rotating.clone()).await.unwrap();

    // Logins and API calls keep running on it during the rotation.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let traffic = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        let api = w.app.client_at(&base, &key);
        let login = format!("{base}/hosted/{}/google/login?login_hint=ann", w.app_id);
        let federated = federated.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let start = fedgate_tests::hop(&login).await;
                let at_google = fedgate_tests::hop(start.location.as_deref().unwrap()).await;
                let back = fedgate_tests::hop(at_google.location.as_deref().unwrap()).await;
                let login_ok = back.params().contains_key("autoLoginToken");
                let api_ok = api.application().await.is_ok()
                    && api.upstream_tokens(&federated).await.is_ok();
                let counter = if login_ok && api_ok { &ok } else { &failed };
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while ok.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut settings = w.app.settings.clone();
    rotating(&mut settings);
    let rotation = fedgate_server::master_key::rotate(&settings).await.unwrap();
    while ok.load(Ordering::SeqCst) < 6 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    traffic.await.unwrap();
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "nothing failed during the rotation"
    );
    let resealed: std::collections::HashMap<String, u64> = rotation
        .resealed
        .iter()
        .map(|(c, n)| (format!("{c:?}"), *n))
        .collect();
    for column in [
        "PropertySecrets",
        "AccessKeySecrets",
        "SigningKeys",
        "FederatedUserTokens",
    ] {
        assert!(resealed[column] >= 1, "{column}: {resealed:?}");
    }
    assert_eq!(rotation.key_version, hex_version(&new));

    // Afterwards the new key alone serves everything; the old one no longer starts.
    let only_new = new_b64;
    let base = w
        .app
        .instance_with(move |s| {
            s.master_key = Some(only_new);
            s.previous_master_keys = Vec::new();
        })
        .await
        .unwrap();
    let api = w.app.client_at(&base, &key);
    assert!(api.application().await.is_ok());
    assert!(api.upstream_tokens(&federated).await.is_ok());
    assert!(api.upstream_tokens(&bob).await.is_ok());
    let start = fedgate_tests::hop(&format!("{base}/hosted/{}/google/login", w.app_id)).await;
    let at_google = fedgate_tests::hop(start.location.as_deref().unwrap()).await;
    let back = fedgate_tests::hop(at_google.location.as_deref().unwrap()).await;
    let token = back.params()["autoLoginToken"].clone();
    assert!(api.verify_token(&token).await.unwrap().active);
    let refused = w
        .app
        .instance_with(move |s| {
            s.master_key = Some(old_b64);
            s.previous_master_keys = Vec::new();
        })
        .await
        .unwrap_err();
    assert!(
        refused.contains("not the one this database's secrets were sealed with"),
        "{refused}"
    );
    // Run again: nothing left to do.
    let again = fedgate_server::master_key::rotate(&settings).await.unwrap();
    assert_eq!(again.total_resealed(), 0);
}

fn hex_version(key: &fedgate_domain::seal::MasterKey) -> String {
    key.version().iter().map(|b| format!("{b:02x}")).collect()
}
