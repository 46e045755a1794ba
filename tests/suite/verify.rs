//! The verification path: header → format → hash → lookup → revoked/expired
//! → requirement, and the last-used notes it leaves.
#![cfg(feature = "management")]

use crate::support::Calls as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::{bearer, builder, service, t0};
use tokenkeep::bearer::BearerError;
use tokenkeep::scope::RoutePath;
use tokenkeep::store::TokenStore;
use tokenkeep::time::Duration;
use tokenkeep::token::FormatError;
use tokenkeep::{
    Access, Actor, AuthError, ErrorCode, Expiry, InvalidToken, IssueRequest, Requirement, Route,
    Scopes, TemporaryToken, TokenRef, TokenSecret,
};

fn admin() -> Actor {
    Actor::Admin
}

fn reason(result: Result<tokenkeep::Authenticated, AuthError>) -> InvalidToken {
    match result {
        Err(AuthError::InvalidToken(reason)) => reason,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_token_says_who_it_is() {
    let (service, _) = service();
    let issued = service
        .issue(&admin(), IssueRequest::new("alice", "laptop").profile("staging"))
        .await
        .unwrap();
    let who = service
        .service()
        .verify_bearer(Some(&bearer(issued.token.expose_secret())), Requirement::None)
        .await
        .unwrap();
    assert_eq!(who.owner(), "alice");
    assert_eq!(who.name(), "laptop");
    assert_eq!(who.token_id(), issued.record.id);
    assert_eq!(who.profile(), Some("staging"));
    assert_eq!(who.scopes(), &Scopes::default());
}

#[tokio::test]
async fn header_problems_come_before_any_lookup() {
    let (service, _) = service();
    let missing = service.service().verify_bearer(None, Requirement::None).await.unwrap_err();
    assert!(matches!(missing, AuthError::NoCredentials(BearerError::Missing)));
    assert_eq!(missing.code(), "UNAUTHORIZED");
    let basic =
        service.service().verify_bearer(Some("Basic abc"), Requirement::None).await.unwrap_err();
    assert!(matches!(basic, AuthError::NoCredentials(BearerError::UnsupportedScheme)));
    let two = service
        .service()
        .verify_bearer(Some("Bearer a, Bearer b"), Requirement::None)
        .await
        .unwrap_err();
    assert!(matches!(two, AuthError::InvalidRequest(BearerError::MultipleCredentials)));
    assert_eq!(two.code(), "INVALID_REQUEST");
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_invalid_with_their_reason() {
    let (service, _) = service();
    let result = service.service().verify_token("tk_short", Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Format(FormatError::Length));
    let other_prefix = service.service().verify_token("xx_abc", Requirement::None).await;
    assert_eq!(reason(other_prefix), InvalidToken::Format(FormatError::Prefix));

    // A well-formed token minted elsewhere is unknown here.
    let (elsewhere, _) = crate::support::service();
    let foreign = elsewhere.issue(&admin(), IssueRequest::new("x", "y")).await.unwrap();
    let result =
        service.service().verify_token(foreign.token.expose_secret(), Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Unknown);

    let mut typo = foreign.token.expose_secret().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'x' { 'y' } else { 'x' });
    let result = elsewhere.service().verify_token(&typo, Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Format(FormatError::Checksum));
}

#[tokio::test]
async fn revoked_tokens_are_invalid_and_the_reason_is_kept_for_logs() {
    let (service, _) = service();
    let issued = service.issue(&admin(), IssueRequest::new("alice", "laptop")).await.unwrap();
    let token = issued.token.expose_secret();
    service.revoke(&admin(), &TokenRef::id(issued.record.id)).await.unwrap();
    let error = service.refused(token).await;
    assert!(matches!(error, AuthError::InvalidToken(InvalidToken::Revoked)));
    assert_eq!(error.code(), "INVALID_TOKEN");
    assert_eq!(
        error.challenge("tokenkeep").unwrap().to_string(),
        r#"Bearer realm="tokenkeep", error="invalid_token""#
    );
}

#[tokio::test]
async fn a_token_expires_exactly_at_its_expiry() {
    let (service, clock) = service();
    let request = IssueRequest::new("alice", "ci").expires(Expiry::After(Duration::hours(12)));
    let issued = service.issue(&admin(), request).await.unwrap();
    assert_eq!(issued.record.expires_at, Some(t0() + Duration::hours(12)));
    let token = issued.token.expose_secret();

    clock.set(t0() + Duration::hours(12) - Duration::seconds(1));
    service.verified(token).await;
    clock.set(t0() + Duration::hours(12));
    let result = service.service().verify_token(token, Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Expired);
    clock.set(t0() + Duration::hours(12) + Duration::seconds(1));
    let result = service.service().verify_token(token, Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Expired);
}

#[tokio::test]
async fn a_read_only_route_token_gets_insufficient_scope_on_write() {
    let (service, _) = service();
    let scopes = Scopes {
        routes: vec![Route::new("/releases", Access::READ).unwrap()],
        ..Scopes::default()
    };
    let issued =
        service.issue(&admin(), IssueRequest::new("ci", "reader").scopes(scopes)).await.unwrap();
    let token = issued.token.expose_secret();
    let jar = RoutePath::parse("/releases/app/1.0/app.jar").unwrap();
    service.service().verify_token(token, Requirement::Read(&jar)).await.unwrap();

    let error = service.service().verify_token(token, Requirement::Write(&jar)).await.unwrap_err();
    assert_eq!(error.code(), "INSUFFICIENT_SCOPE");
    assert_eq!(
        error.challenge("tokenkeep").unwrap().to_string(),
        r#"Bearer realm="tokenkeep", error="insufficient_scope", scope="write:/releases/app/1.0/app.jar""#
    );
    let private = RoutePath::parse("/releases-private/key").unwrap();
    let beside = service.service().verify_token(token, Requirement::Read(&private)).await;
    assert!(matches!(beside, Err(AuthError::InsufficientScope { .. })));
    let climbed = RoutePath::parse("/releases/../private/key").unwrap();
    let climb = service.service().verify_token(token, Requirement::Read(&climbed)).await;
    assert!(matches!(climb, Err(AuthError::InsufficientScope { .. })));
    let manager = service.service().verify_token(token, Requirement::Manager).await;
    assert!(matches!(manager, Err(AuthError::InsufficientScope { scope }) if scope == "manager"));
}

#[tokio::test]
async fn scope_changes_take_effect_on_the_next_verification() {
    let (service, _) = service();
    let issued = service.issue(&admin(), IssueRequest::new("ci", "deployer")).await.unwrap();
    let token = issued.token.expose_secret();
    let denied = service.service().verify_token(token, Requirement::Ability("deploy")).await;
    assert!(matches!(denied, Err(AuthError::InsufficientScope { .. })));
    let changes = tokenkeep::TokenUpdate {
        abilities: Some(vec![tokenkeep::scope::Ability::new("deploy").unwrap()]),
        ..Default::default()
    };
    service.modify(&admin(), &TokenRef::id(issued.record.id), changes).await.unwrap();
    service.service().verify_token(token, Requirement::Ability("deploy")).await.unwrap();
}

#[tokio::test]
async fn temporary_tokens_verify_and_never_reach_the_store() {
    let (builder, _, store) = builder();
    let service = builder
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build()
        .unwrap();
    let who = service
        .service()
        .verify_bearer(Some("Bearer root-secret"), Requirement::Manager)
        .await
        .unwrap();
    assert_eq!(who.name(), "root");
    assert_eq!(who.kind(), tokenkeep::record::TokenKind::Temporary);
    assert!(store.is_empty(), "never written to the store");
    assert!(!store.has_ever_held_token().await.unwrap());

    // The temporary manager can manage; it cannot be revoked (that would
    // not outlive a restart): the configuration is where it goes away.
    let actor = Actor::Token(who.clone());
    service.issue(&actor, IssueRequest::new("bob", "laptop")).await.unwrap();
    let refused = service.revoke(&Actor::Admin, &TokenRef::id(who.token_id())).await.unwrap_err();
    assert_eq!(tokenkeep::ErrorCode::code(&refused), "TOKEN_TEMPORARY");
    assert!(refused.to_string().contains("configuration"), "{refused}");
    let result = service.service().verify_token("root-secret", Requirement::None).await;
    assert!(result.is_ok(), "nothing pretended");

    // A restart without the option: the token is gone.
    let (builder, _, _) = crate::support::builder();
    let restarted = builder.build().unwrap();
    let result = restarted.service().verify_token("root-secret", Requirement::None).await;
    assert!(matches!(result, Err(AuthError::InvalidToken(InvalidToken::Format(_)))));
}

#[tokio::test]
async fn temporary_tokens_may_expire() {
    let (builder, clock, _) = builder();
    let root = TemporaryToken::parse_spec("root:root-secret")
        .unwrap()
        .expires_at(t0() + Duration::minutes(5));
    let service = builder.temporary_token(root).build().unwrap();
    service.verified("root-secret").await;
    clock.advance(Duration::minutes(5));
    let result = service.service().verify_token("root-secret", Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Expired);
}

#[tokio::test]
async fn custom_secrets_verify_only_when_accepted() {
    let (builder, _, _) = builder();
    let strict = builder.build().unwrap();
    let refused = strict
        .issue(
            &admin(),
            IssueRequest::new("alice", "legacy")
                .secret(TokenSecret::custom("legacy-secret-1").unwrap()),
        )
        .await;
    assert!(matches!(refused, Err(tokenkeep::ManageError::InvalidSecret(_))));

    let (builder, _, _) = crate::support::builder();
    let lenient = builder.accept_custom_secrets(true).build().unwrap();
    let issued = lenient
        .issue(
            &admin(),
            IssueRequest::new("alice", "legacy")
                .secret(TokenSecret::custom("legacy-secret-1").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(issued.record.display_prefix, "");
    lenient.verified("legacy-secret-1").await;
    let unknown = lenient.service().verify_token("legacy-secret-2", Requirement::None).await;
    assert_eq!(reason(unknown), InvalidToken::Format(FormatError::Prefix));
}

#[tokio::test]
async fn imported_sha256_hashes_verify() {
    let (builder, _, _) = builder();
    let service = builder.accept_custom_secrets(true).build().unwrap();
    // A token minted by another system, known here only by its SHA-256.
    let foreign = "jf_0123456789abcdef0123456789abcdef";
    let hash = tokenkeep::hash::TokenHasher::sha256().hash(foreign);
    service.adopt_hash(&admin(), IssueRequest::new("alice", "imported"), hash).await.unwrap();
    let who = service.verified(foreign).await;
    assert_eq!(who.name(), "imported");
}

#[tokio::test]
async fn keyed_hashing_verifies_and_stores_no_plain_sha256() {
    let (builder, _, store) = builder();
    let hasher = tokenkeep::hash::TokenHasher::keyed(&[7u8; 32]).unwrap();
    let service = builder.hasher(hasher).build().unwrap();
    let issued = service.issue(&admin(), IssueRequest::new("alice", "laptop")).await.unwrap();
    let token = issued.token.expose_secret();
    service.verified(token).await;
    let plain = tokenkeep::hash::TokenHasher::sha256().hash(token);
    assert!(store.find_by_hash(&plain).await.unwrap().is_none());
}

#[tokio::test]
async fn last_used_is_written_once_per_interval_in_batches() {
    let (builder, clock, store) = builder();
    let service = builder.last_used_interval(Duration::seconds(60)).build().unwrap();
    let mut tokens = Vec::new();
    for index in 0..5 {
        let issued =
            service.issue(&admin(), IssueRequest::new("alice", format!("t{index}"))).await.unwrap();
        tokens.push(issued);
    }
    for _ in 0..100 {
        for issued in &tokens {
            service.verified(issued.token.expose_secret()).await;
        }
    }
    assert_eq!(service.service().flush_last_used().await.unwrap(), 5, "one note per token");
    let first = store.get(&tokens[0].record.id).await.unwrap().unwrap();
    assert_eq!(first.last_used_at, Some(t0()));

    clock.advance(Duration::seconds(30));
    for issued in &tokens {
        service.verified(issued.token.expose_secret()).await;
    }
    assert_eq!(service.service().flush_last_used().await.unwrap(), 0, "within the interval");

    clock.advance(Duration::seconds(30));
    service.verified(tokens[0].token.expose_secret()).await;
    assert_eq!(service.service().flush_last_used().await.unwrap(), 1);
    let first = store.get(&tokens[0].record.id).await.unwrap().unwrap();
    assert_eq!(first.last_used_at, Some(t0() + Duration::seconds(60)));
}

#[tokio::test]
async fn the_flusher_writes_pending_notes_on_shutdown() {
    let (service, _) = service();
    let issued = service.issue(&admin(), IssueRequest::new("alice", "laptop")).await.unwrap();
    let flusher = service.service().spawn_last_used_flusher();
    service.verified(issued.token.expose_secret()).await;
    assert_eq!(flusher.shutdown().await.unwrap(), 1);
    let record = service.service().store().get(&issued.record.id).await.unwrap().unwrap();
    assert_eq!(record.last_used_at, Some(t0()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_verification_succeeds_after_revoke_returned() {
    let (service, _) = service();
    let issued = service.issue(&admin(), IssueRequest::new("alice", "laptop")).await.unwrap();
    let token: Arc<str> = issued.token.expose_secret().into();
    let revoked = Arc::new(AtomicBool::new(false));
    let mut verifiers = Vec::new();
    for _ in 0..4 {
        let (service, token, revoked) = (service.clone(), token.clone(), revoked.clone());
        verifiers.push(tokio::spawn(async move {
            let mut late_successes = 0;
            for _ in 0..2_000 {
                let started_after_revoke = revoked.load(Ordering::SeqCst);
                let ok = service.verifies_text(&token).await;
                if ok && started_after_revoke {
                    late_successes += 1;
                }
                tokio::task::yield_now().await;
            }
            late_successes
        }));
    }
    tokio::task::yield_now().await;
    service.revoke(&admin(), &TokenRef::id(issued.record.id)).await.unwrap();
    revoked.store(true, Ordering::SeqCst);
    for verifier in verifiers {
        assert_eq!(verifier.await.unwrap(), 0, "a verification that began after revoke succeeded");
    }
}

#[tokio::test]
async fn a_store_that_cannot_answer_fails_closed() {
    use crate::support::faulty::{FaultyStore, Lookups};

    let store = FaultyStore::new(tokenkeep::store::MemoryStore::new());
    let service =
        tokenkeep::TokenManager::builder(store.clone(), tokenkeep::Prefix::new("tk").unwrap())
            .build()
            .unwrap();
    let issued = service.issue(&admin(), IssueRequest::new("alice", "laptop")).await.unwrap();
    store.set_lookups(Lookups::Fail);
    let error = service.refused(issued.token.expose_secret()).await;
    assert!(matches!(error, AuthError::Unavailable(_)));
    assert_eq!(error.code(), "STORE_UNAVAILABLE");
    assert!(error.challenge("tokenkeep").is_none());
    // A malformed token is still rejected without the store.
    let result = service.service().verify_token("tk_nope", Requirement::None).await;
    assert!(matches!(result, Err(AuthError::InvalidToken(_))));
}

/// The verify path compares the stored hash with the presented one itself:
/// a store that answers another record (a bug, or an index matching on
/// part of the hash) never authenticates that record's owner.
#[tokio::test]
async fn a_store_answering_another_record_does_not_authenticate() {
    #[derive(Debug)]
    struct AlwaysThis(Arc<tokenkeep::TokenRecord>);

    #[tokenkeep::store::async_trait]
    impl tokenkeep::store::TokenStore for AlwaysThis {
        async fn find_by_hash(
            &self,
            _: &tokenkeep::hash::TokenHash,
        ) -> Result<Option<Arc<tokenkeep::TokenRecord>>, tokenkeep::store::StoreError> {
            Ok(Some(Arc::clone(&self.0)))
        }
        async fn get(
            &self,
            _: &tokenkeep::TokenId,
        ) -> Result<Option<tokenkeep::TokenRecord>, tokenkeep::store::StoreError> {
            Ok(None)
        }
        async fn list(
            &self,
            _: &tokenkeep::store::ListQuery,
        ) -> Result<Vec<tokenkeep::TokenRecord>, tokenkeep::store::StoreError> {
            Ok(Vec::new())
        }
        async fn record_last_used(
            &self,
            _: &[tokenkeep::store::LastUse],
        ) -> Result<(), tokenkeep::store::StoreError> {
            Ok(())
        }
        async fn has_ever_held_token(&self) -> Result<bool, tokenkeep::store::StoreError> {
            Ok(true)
        }
    }

    let format = tokenkeep::token::TokenFormat::new(tokenkeep::Prefix::new("tk").unwrap());
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    let victim = format.mint(&hasher).unwrap();
    let mut record = crate::support::fresh_record("admin");
    record.hash = victim.hash;
    record.scopes = Scopes::manager();
    let service = tokenkeep::TokenService::builder(
        Arc::new(AlwaysThis(Arc::new(record))),
        tokenkeep::Prefix::new("tk").unwrap(),
    )
    .build()
    .unwrap();
    let other = format.mint(&hasher).unwrap();
    let result = service.verify_token(other.secret.expose_secret(), Requirement::None).await;
    assert_eq!(reason(result), InvalidToken::Unknown);
    service.verify_token(victim.secret.expose_secret(), Requirement::Manager).await.unwrap();
}

/// Without custom secrets, text that is not in the service's format is a
/// format error and is never looked up, even when a record with its hash
/// is stored (imported from another system, for a service that accepts
/// such text).
#[tokio::test]
async fn without_custom_secrets_foreign_text_never_verifies() {
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    let texts = ["legacy-admin-secret", "tk_mistyped-but-claims-the-prefix"];
    let records = texts.map(|text| {
        let mut record = crate::support::fresh_record(&text[..10]);
        record.hash = hasher.hash(text);
        record
    });
    let store = Arc::new(tokenkeep::store::MemoryStore::from_records(records));
    let prefix = || tokenkeep::Prefix::new("tk").unwrap();
    let strict = tokenkeep::TokenService::builder(store.clone(), prefix()).build().unwrap();
    for text in texts {
        let result = strict.verify_token(text, Requirement::None).await;
        assert!(matches!(reason(result), InvalidToken::Format(_)), "{text}");
    }
    // The same store with custom secrets accepted: the legacy text
    // verifies; text claiming the prefix is still a mistyped token.
    let lenient = tokenkeep::TokenService::builder(store, prefix())
        .accept_custom_secrets(true)
        .build()
        .unwrap();
    lenient.verify_token(texts[0], Requirement::None).await.unwrap();
    let mistyped = lenient.verify_token(texts[1], Requirement::None).await;
    assert!(matches!(reason(mistyped), InvalidToken::Format(_)));
}
