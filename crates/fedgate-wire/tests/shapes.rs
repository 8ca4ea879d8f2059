//! The JSON shapes clients depend on.

use fedgate_wire::properties::{PropertyRequest, ResultDelivery};

#[test]
fn property_requests_are_tagged_by_kind_and_reject_unknown_fields() {
    let p: PropertyRequest = serde_json::from_str(
        r#"{"kind":"oauth_integration","instanceName":"web","redirectUris":["https://a.example.com/cb"]}"#,
    )
    .unwrap();
    let PropertyRequest::OauthIntegration(i) = p else {
        panic!("wrong kind")
    };
    assert!(i.auto_create_users, "auto-create defaults to on");
    assert!(!i.require_state_signing);
    assert_eq!(i.result_delivery, ResultDelivery::Query);

    let unknown = serde_json::from_str::<PropertyRequest>(
        r#"{"kind":"oauth_integration","instanceName":"web","redirectUris":[],"colour":"red"}"#,
    );
    assert!(unknown.unwrap_err().to_string().contains("unknown field"));
    assert!(
        serde_json::from_str::<PropertyRequest>(r#"{"kind":"nope","instanceName":"x"}"#).is_err()
    );
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let creds: fedgate_wire::account::Credentials =
        serde_json::from_str(r#"{"email":"a@example.com","password":"hunter2-hunter2"}"#).unwrap();
    let google: PropertyRequest = serde_json::from_str(
        r#"{"kind":"google_oauth_credentials","instanceName":"g","clientId":"id","clientSecret":"GOCSPX-shh"}"#,
    )
    .unwrap();
    let key: fedgate_wire::keys::CreatedAccessKeyDto = serde_json::from_str(
        r#"{"key":{"id":"fgk_1","createdAt":"2026-11-22T00:00:00Z","lastUsedAt":null,"revokedAt":null},"secret":"fgs_shh"}"#,
    )
    .unwrap();
    let printed = format!("{creds:?} {google:?} {key:?}");
    for secret in ["hunter2", "GOCSPX-shh", "fgs_shh"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("a@example.com") && printed.contains("fgk_1"));
}
