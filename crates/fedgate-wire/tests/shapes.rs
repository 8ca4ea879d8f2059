//! The JSON shapes clients depend on.

use fedgate_wire::properties::{PropertyRequest, ResultDelivery};

#[test]
fn property_requests_are_tagged_by_kind_and_reject_unknown_fields() {
    let p: PropertyRequest = serde_json::from_str(
        r#"{"kind":"oauth_integration","instanceName":"web","redirectUris":["https://a.example.com/cb"]}"#,
    )
    .unwrap();
    let PropertyRequest::OauthIntegration(i) = p else { panic!("wrong kind") };
    assert!(i.auto_create_users, "auto-create defaults to on");
    assert!(!i.require_state_signing);
    assert_eq!(i.result_delivery, ResultDelivery::Query);

    let unknown = serde_json::from_str::<PropertyRequest>(
        r#"{"kind":"oauth_integration","instanceName":"web","redirectUris":[],"colour":"red"}"#,
    );
    assert!(unknown.unwrap_err().to_string().contains("unknown field"));
    assert!(serde_json::from_str::<PropertyRequest>(r#"{"kind":"nope","instanceName":"x"}"#).is_err());
}
