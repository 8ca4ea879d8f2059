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
