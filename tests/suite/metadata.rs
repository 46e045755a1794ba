//! Metadata: an application's JSON object on a token, set at issue,
//! changed through the update path, returned with the verdict, bounded.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use crate::support::service;
use tokenkeep::record::{Metadata, RecordError};
use tokenkeep::{Actor, IssueRequest, TokenRef, TokenUpdate};

#[tokio::test]
async fn metadata_comes_back_with_the_verdict_and_changes_through_modify() {
    let (service, _) = service();
    let metadata = Metadata::parse(r#"{"plan": "pro", "customer": 42}"#).unwrap();
    let issued = service
        .issue(&Actor::Admin, IssueRequest::new("alice", "api").metadata(metadata.clone()))
        .await
        .unwrap();
    let token = issued.token.expose_secret();
    let who = service.verified(token).await;
    assert_eq!(who.metadata(), Some(&metadata));
    assert_eq!(who.metadata().unwrap().get("customer"), Some(&42.into()));

    let cleared = TokenUpdate { metadata: Some(None), ..TokenUpdate::default() };
    service.modify(&Actor::Admin, &TokenRef::id(issued.record.id), cleared).await.unwrap();
    let who = service.verified(token).await;
    assert_eq!(who.metadata(), None, "a change applies at the next verification");
}

#[test]
fn metadata_is_an_object_of_at_most_four_kilobytes() {
    let big = format!(r#"{{"blob": "{}"}}"#, "x".repeat(Metadata::MAX_BYTES));
    assert_eq!(Metadata::parse(&big), Err(RecordError::Metadata));
    for not_an_object in ["[]", "42", "\"text\"", "null", "{", ""] {
        assert_eq!(Metadata::parse(not_an_object), Err(RecordError::Metadata), "{not_an_object}");
    }
    let fits = format!(r#"{{"blob": "{}"}}"#, "x".repeat(Metadata::MAX_BYTES - 20));
    assert!(Metadata::parse(&fits).is_ok());
    // Imported records are held to the same bound.
    let json = format!(r#"{{"blob": "{}"}}"#, "x".repeat(5000));
    assert!(serde_json::from_str::<Metadata>(&json).is_err());
}

/// Every record carries the option and most set none, so it is a pointer.
#[test]
fn absent_metadata_costs_a_record_one_pointer() {
    assert_eq!(std::mem::size_of::<Option<Metadata>>(), std::mem::size_of::<usize>());
}
