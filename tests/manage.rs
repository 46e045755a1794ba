//! Token management through the service: policy, cap, names, rotation,
//! revocation, export and import.
#![cfg(feature = "management")]

mod support;

use std::sync::Arc;

use support::{builder, service, verifies};
use tokenkeep::record::TokenStatus;
use tokenkeep::store::{MemoryStore, StoreError};
use tokenkeep::time::Duration;
use tokenkeep::{
    Actor, AuthError, Expiry, IssueRequest, ManageError, Prefix, Requirement, Scopes,
    TemporaryToken, TokenChanges, TokenManager, TokenRef,
};

fn alice() -> Actor {
    Actor::User("alice".into())
}

#[tokio::test]
async fn the_eleventh_token_is_refused_and_nothing_is_deleted() {
    let (service, _) = service();
    for index in 0..10 {
        service
            .issue(&alice(), IssueRequest::new("alice", format!("t{index}")))
            .await
            .unwrap();
    }
    let eleventh = service
        .issue(&alice(), IssueRequest::new("alice", "t10"))
        .await;
    assert!(matches!(
        eleventh,
        Err(ManageError::Store(StoreError::LimitReached { limit: 10 }))
    ));
    let listed = service.list(&alice(), None, false).await.unwrap();
    assert_eq!(listed.len(), 10, "nothing made room");
    service
        .revoke(&alice(), &TokenRef::id_or_name("t0"))
        .await
        .unwrap();
    service
        .issue(&alice(), IssueRequest::new("alice", "t10"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_under_concurrent_issues() {
    let (service, _) = service();
    let attempts: Vec<_> = (0..50)
        .map(|index| {
            let service = service.clone();
            tokio::spawn(async move {
                service
                    .issue(
                        &Actor::Admin,
                        IssueRequest::new("alice", format!("c{index}")),
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ManageError::Store(StoreError::LimitReached { .. })) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 10);
}

#[tokio::test]
async fn the_cap_is_configurable() {
    let (builder, _, _) = builder();
    let service = builder.max_active_per_owner(Some(1)).build().unwrap();
    service
        .issue(&alice(), IssueRequest::new("alice", "a"))
        .await
        .unwrap();
    let second = service
        .issue(&alice(), IssueRequest::new("alice", "b"))
        .await;
    assert!(matches!(
        second,
        Err(ManageError::Store(StoreError::LimitReached { limit: 1 }))
    ));
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error() {
    let (service, _) = service();
    let cases = [
        IssueRequest::new("alice", ""),
        IssueRequest::new("alice", "x".repeat(101)),
        IssueRequest::new("alice", "tab\there"),
        IssueRequest::new("", "laptop"),
        IssueRequest::new("alice", "laptop").description("bell\u{7}"),
        IssueRequest::new("alice", "laptop").profile(" "),
        IssueRequest::new("alice", "laptop").expires(Expiry::After(Duration::days(-1))),
    ];
    let mut codes = Vec::new();
    for request in cases {
        let error = service.issue(&alice(), request).await.unwrap_err();
        assert!(
            matches!(
                error,
                ManageError::InvalidName(_)
                    | ManageError::InvalidRecord(_)
                    | ManageError::InvalidDuration(_)
            ),
            "{error:?}"
        );
        codes.push(tokenkeep::ErrorCode::code(&error));
    }
    assert_eq!(
        codes,
        [
            "INVALID_NAME",
            "INVALID_NAME",
            "INVALID_NAME",
            "INVALID_OWNER",
            "INVALID_DESCRIPTION",
            "INVALID_PROFILE",
            "INVALID_DURATION",
        ]
    );
    assert!(
        service
            .list(&Actor::Admin, None, true)
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn names_are_unique_per_owner_among_active_tokens() {
    let (service, _) = service();
    service
        .issue(&alice(), IssueRequest::new("alice", "laptop"))
        .await
        .unwrap();
    let again = service
        .issue(&alice(), IssueRequest::new("alice", "laptop"))
        .await;
    assert!(matches!(
        again,
        Err(ManageError::Store(StoreError::NameTaken))
    ));
    service
        .issue(&Actor::Admin, IssueRequest::new("bob", "laptop"))
        .await
        .unwrap();
}

#[tokio::test]
async fn users_manage_only_their_own_tokens_and_cannot_grant_manager() {
    let (service, _) = service();
    let bob = service
        .issue(&Actor::Admin, IssueRequest::new("bob", "laptop"))
        .await
        .unwrap();
    let for_bob = service.issue(&alice(), IssueRequest::new("bob", "x")).await;
    assert!(matches!(for_bob, Err(ManageError::Forbidden)));
    let manager = service
        .issue(
            &alice(),
            IssueRequest::new("alice", "m").scopes(Scopes::manager()),
        )
        .await;
    assert!(matches!(manager, Err(ManageError::Forbidden)));
    let peek = service.get(&alice(), &TokenRef::id(bob.record.id)).await;
    assert!(
        matches!(peek, Err(ManageError::Store(StoreError::NotFound))),
        "another owner's token is not shown"
    );
    let revoke = service.revoke(&alice(), &TokenRef::id(bob.record.id)).await;
    assert!(matches!(
        revoke,
        Err(ManageError::Store(StoreError::NotFound))
    ));
    let list = service.list(&alice(), Some("bob"), false).await;
    assert!(matches!(list, Err(ManageError::Forbidden)));
    let everyone = service.list(&alice(), None, false).await.unwrap();
    assert!(everyone.is_empty(), "a user's list is their own");
}

#[tokio::test]
async fn only_manager_tokens_manage_tokens() {
    let (service, _) = service();
    let plain = service
        .issue(&Actor::Admin, IssueRequest::new("ci", "plain"))
        .await
        .unwrap();
    let manager = service
        .issue(
            &Actor::Admin,
            IssueRequest::new("root", "manager").scopes(Scopes::manager()),
        )
        .await
        .unwrap();
    let verify = |token: &str| {
        let service = service.clone();
        let token = token.to_owned();
        async move {
            service
                .verify_token(&token, Requirement::None)
                .await
                .unwrap()
        }
    };
    let plain_actor = Actor::Token(verify(plain.token.expose_secret()).await);
    let own = service
        .issue(&plain_actor, IssueRequest::new("ci", "another"))
        .await;
    assert!(
        matches!(own, Err(ManageError::Forbidden)),
        "not even for its own owner"
    );
    let listing = service.list(&plain_actor, Some("ci"), false).await;
    assert!(matches!(listing, Err(ManageError::Forbidden)));

    let manager_actor = Actor::Token(verify(manager.token.expose_secret()).await);
    service
        .issue(&manager_actor, IssueRequest::new("anyone", "x"))
        .await
        .unwrap();
    assert_eq!(
        service
            .list(&manager_actor, None, false)
            .await
            .unwrap()
            .len(),
        3
    );

    let (builder, _, store) = builder();
    let strict = builder
        .policy({
            let mut policy = tokenkeep::Policy::default();
            policy.manager_tokens_may_manage = false;
            policy
        })
        .build()
        .unwrap();
    let root = strict
        .issue(
            &Actor::Admin,
            IssueRequest::new("root", "m").scopes(Scopes::manager()),
        )
        .await
        .unwrap();
    let root = strict
        .verify_token(root.token.expose_secret(), Requirement::Manager)
        .await
        .unwrap();
    let refused = strict
        .issue(&Actor::Token(root), IssueRequest::new("x", "y"))
        .await;
    assert!(matches!(refused, Err(ManageError::Forbidden)));
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn list_is_active_by_default_and_keeps_the_audit_trail_on_request() {
    let (service, clock) = service();
    let keep = service
        .issue(&alice(), IssueRequest::new("alice", "keep"))
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));
    let gone = service
        .issue(&alice(), IssueRequest::new("alice", "gone"))
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));
    service
        .issue(
            &alice(),
            IssueRequest::new("alice", "short").expires(Expiry::After(Duration::hours(1))),
        )
        .await
        .unwrap();
    service
        .revoke(&alice(), &TokenRef::id_or_name("gone"))
        .await
        .unwrap();
    let revoked_at = service.now();
    clock.advance(Duration::hours(2));
    let active = service.list(&alice(), None, false).await.unwrap();
    assert_eq!(
        active.iter().map(|r| r.id).collect::<Vec<_>>(),
        [keep.record.id]
    );
    let all = service.list(&alice(), None, true).await.unwrap();
    let statuses: Vec<_> = all.iter().map(|r| r.status(service.now())).collect();
    assert_eq!(
        statuses,
        [
            TokenStatus::Active,
            TokenStatus::Revoked,
            TokenStatus::Expired
        ]
    );
    let revoked = all.iter().find(|r| r.id == gone.record.id).unwrap();
    assert_eq!(revoked.revoked_at, Some(revoked_at));
}

#[tokio::test]
async fn get_rename_and_modify_by_id_or_name() {
    let (service, _) = service();
    let issued = service
        .issue(
            &alice(),
            IssueRequest::new("alice", "laptop").description("old"),
        )
        .await
        .unwrap();
    let by_name = service
        .get(&alice(), &TokenRef::id_or_name("laptop"))
        .await
        .unwrap();
    let by_id = service
        .get(
            &alice(),
            &TokenRef::id_or_name(issued.record.id.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(by_name, by_id);

    let renamed = service
        .rename(&alice(), &TokenRef::id_or_name("laptop"), "work laptop")
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "work laptop");
    assert!(matches!(
        service.get(&alice(), &TokenRef::id_or_name("laptop")).await,
        Err(ManageError::Store(StoreError::NotFound))
    ));
    let changed = service
        .modify(
            &alice(),
            &TokenRef::id_or_name("work laptop"),
            TokenChanges {
                description: Some(None),
                ..TokenChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.description, None);
    let bad = service
        .rename(&alice(), &TokenRef::id_or_name("work laptop"), "")
        .await;
    assert!(matches!(bad, Err(ManageError::InvalidName(_))));
}

#[tokio::test]
async fn a_name_shared_by_several_owners_needs_an_owner() {
    let (service, _) = service();
    service
        .issue(&Actor::Admin, IssueRequest::new("alice", "ci"))
        .await
        .unwrap();
    service
        .issue(&Actor::Admin, IssueRequest::new("bob", "ci"))
        .await
        .unwrap();
    let ambiguous = service
        .revoke(&Actor::Admin, &TokenRef::id_or_name("ci"))
        .await;
    assert!(matches!(ambiguous, Err(ManageError::Ambiguous)));
    let revoked = service
        .revoke(&Actor::Admin, &TokenRef::id_or_name("ci").of_owner("bob"))
        .await
        .unwrap();
    assert_eq!(revoked.owner, "bob");
}

#[tokio::test]
async fn revoke_all_revokes_one_owner_only() {
    let (service, _) = service();
    let mut alices = Vec::new();
    for index in 0..3 {
        alices.push(
            service
                .issue(&alice(), IssueRequest::new("alice", format!("a{index}")))
                .await
                .unwrap(),
        );
    }
    let bob = service
        .issue(&Actor::Admin, IssueRequest::new("bob", "b"))
        .await
        .unwrap();
    assert_eq!(service.revoke_all(&alice(), "alice").await.unwrap(), 3);
    for issued in &alices {
        assert!(!verifies(&service, &issued.token).await);
    }
    assert!(verifies(&service, &bob.token).await);
    assert!(matches!(
        service.revoke_all(&alice(), "bob").await,
        Err(ManageError::Forbidden)
    ));
}

#[tokio::test]
async fn rotation_keeps_everything_but_the_secret_and_never_extends_expiry() {
    let (service, clock) = service();
    let scopes = Scopes::manager();
    let issued = service
        .issue(
            &Actor::Admin,
            IssueRequest::new("alice", "ci")
                .scopes(scopes.clone())
                .profile("prod")
                .expires(Expiry::After(Duration::days(30))),
        )
        .await
        .unwrap();
    clock.advance(Duration::days(10));
    let rotated = service
        .rotate(&Actor::Admin, &TokenRef::id(issued.record.id), None)
        .await
        .unwrap();
    let new = &rotated.record;
    assert_ne!(new.id, issued.record.id);
    assert_ne!(rotated.token.expose_secret(), issued.token.expose_secret());
    assert_eq!((new.owner.as_str(), new.name.as_str()), ("alice", "ci"));
    assert_eq!(new.scopes, scopes);
    assert_eq!(new.profile.as_deref(), Some("prod"));
    assert_eq!(
        new.expires_at, issued.record.expires_at,
        "same expiry, never later"
    );
    assert!(!verifies(&service, &issued.token).await);
    assert!(verifies(&service, &rotated.token).await);
}

#[tokio::test]
async fn a_grace_period_never_outlasts_the_old_expiry() {
    let (service, clock) = service();
    let issued = service
        .issue(
            &alice(),
            IssueRequest::new("alice", "ci").expires(Expiry::After(Duration::hours(1))),
        )
        .await
        .unwrap();
    let old = issued.token.expose_secret();
    let rotated = service
        .rotate(
            &alice(),
            &TokenRef::id_or_name("ci"),
            Some(Duration::days(1)),
        )
        .await
        .unwrap();
    // Both work during the grace period; the new one holds the name.
    service.verify_token(old, Requirement::None).await.unwrap();
    assert!(verifies(&service, &rotated.token).await);
    let by_name = service
        .get(&alice(), &TokenRef::id_or_name("ci"))
        .await
        .unwrap();
    assert_eq!(by_name.id, rotated.record.id);
    let old_record = service
        .get(&alice(), &TokenRef::id(issued.record.id))
        .await
        .unwrap();
    assert_eq!(
        old_record.expires_at, issued.record.expires_at,
        "bounded by its own expiry"
    );

    clock.advance(Duration::hours(1));
    assert!(service.verify_token(old, Requirement::None).await.is_err());

    let (service, clock) = support::service();
    let issued = service
        .issue(&alice(), IssueRequest::new("alice", "ci"))
        .await
        .unwrap();
    service
        .rotate(
            &alice(),
            &TokenRef::id(issued.record.id),
            Some(Duration::minutes(10)),
        )
        .await
        .unwrap();
    clock.advance(Duration::minutes(10) - Duration::seconds(1));
    assert!(verifies(&service, &issued.token).await);
    clock.advance(Duration::seconds(1));
    assert!(!verifies(&service, &issued.token).await);
    let bad = service
        .rotate(&alice(), &TokenRef::id_or_name("ci"), Some(Duration::ZERO))
        .await;
    assert!(matches!(bad, Err(ManageError::InvalidDuration(_))));
}

/// A token in its grace period still verifies, so it counts toward the
/// cap: at the cap, a rotation works without a grace period, and one with
/// a grace period is refused (it would leave two tokens verifying).
#[tokio::test]
async fn rotation_at_the_cap_needs_no_grace_period() {
    let (builder, _, _) = builder();
    let service = builder.max_active_per_owner(Some(1)).build().unwrap();
    service
        .issue(&alice(), IssueRequest::new("alice", "only"))
        .await
        .unwrap();
    let only = TokenRef::id_or_name("only");
    let graceful = service
        .rotate(&alice(), &only, Some(Duration::minutes(5)))
        .await;
    assert!(
        matches!(
            graceful,
            Err(ManageError::Store(StoreError::LimitReached { limit: 1 }))
        ),
        "{graceful:?}"
    );
    service.rotate(&alice(), &only, None).await.unwrap();
    let full = service
        .issue(&alice(), IssueRequest::new("alice", "another"))
        .await;
    assert!(matches!(
        full,
        Err(ManageError::Store(StoreError::LimitReached { limit: 1 }))
    ));
}

/// Ten rotations with a long grace period and nine creates used to leave
/// twenty tokens verifying for one owner with a cap of ten.
#[tokio::test]
async fn grace_periods_count_toward_the_cap_and_are_bounded() {
    let (builder, _, _) = builder();
    let service = builder.max_active_per_owner(Some(10)).build().unwrap();
    service
        .issue(&alice(), IssueRequest::new("alice", "ci"))
        .await
        .unwrap();
    let ci = TokenRef::id_or_name("ci");
    let too_long = service
        .rotate(&alice(), &ci, Some(Duration::days(36_500)))
        .await;
    assert!(
        matches!(too_long, Err(ManageError::GraceTooLong { .. })),
        "{too_long:?}"
    );
    assert_eq!(
        tokenkeep::ErrorCode::code(&too_long.unwrap_err()),
        "INVALID_DURATION"
    );
    let mut rotated = 0;
    for _ in 0..10 {
        if service
            .rotate(&alice(), &ci, Some(Duration::days(7)))
            .await
            .is_ok()
        {
            rotated += 1;
        }
    }
    let mut created = 0;
    for index in 0..9 {
        if service
            .issue(&alice(), IssueRequest::new("alice", format!("t{index}")))
            .await
            .is_ok()
        {
            created += 1;
        }
    }
    let verifying = service.list(&alice(), None, false).await.unwrap().len();
    assert!(verifying <= 10, "{verifying} tokens verify for a cap of 10");
    assert_eq!(rotated + created + 1, verifying, "every success counts");
}

#[tokio::test]
async fn hard_delete_is_for_managers() {
    let (service, _) = service();
    let issued = service
        .issue(&alice(), IssueRequest::new("alice", "laptop"))
        .await
        .unwrap();
    let by_user = service
        .delete(&alice(), &TokenRef::id(issued.record.id))
        .await;
    assert!(matches!(by_user, Err(ManageError::Forbidden)));
    service
        .delete(&Actor::Admin, &TokenRef::id(issued.record.id))
        .await
        .unwrap();
    assert!(
        service
            .list(&Actor::Admin, None, true)
            .await
            .unwrap()
            .is_empty()
    );
    let error = service
        .verify_token(issued.token.expose_secret(), Requirement::None)
        .await;
    assert!(matches!(error, Err(AuthError::InvalidToken(_))));
}

#[tokio::test]
async fn exported_records_verify_in_another_store() {
    let (service, _) = service();
    let kept = service
        .issue(&alice(), IssueRequest::new("alice", "kept"))
        .await
        .unwrap();
    let revoked = service
        .issue(&alice(), IssueRequest::new("alice", "revoked"))
        .await
        .unwrap();
    service
        .revoke(&alice(), &TokenRef::id_or_name("revoked"))
        .await
        .unwrap();
    assert!(verifies(&service, &kept.token).await);
    service.flush_last_used().await.unwrap();

    assert!(matches!(
        service.export(&alice()).await,
        Err(ManageError::Forbidden)
    ));
    let exported = service.export(&Actor::Admin).await.unwrap();
    assert_eq!(exported.len(), 2);
    let json = serde_json::to_string(&exported).unwrap();
    assert!(!json.contains(kept.token.expose_secret()));

    let target = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .build()
        .unwrap();
    let records = serde_json::from_str(&json).unwrap();
    let report = target.import(&Actor::Admin, records).await.unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(target.export(&Actor::Admin).await.unwrap(), exported);
    target
        .verify_token(kept.token.expose_secret(), Requirement::None)
        .await
        .unwrap();
    let still_revoked = target
        .verify_token(revoked.token.expose_secret(), Requirement::None)
        .await;
    assert!(matches!(
        still_revoked,
        Err(AuthError::InvalidToken(tokenkeep::InvalidToken::Revoked))
    ));
    assert!(target.is_claimed().await.unwrap());
}

#[tokio::test]
async fn temporary_tokens_are_listed_but_never_changed_or_revoked() {
    let (builder, clock, store) = builder();
    let service = builder
        .temporary_token(
            TemporaryToken::parse_spec("root:root-secret")
                .unwrap()
                .owner("alice"),
        )
        .build()
        .unwrap();
    clock.advance(Duration::seconds(1));
    service
        .issue(&Actor::Admin, IssueRequest::new("alice", "laptop"))
        .await
        .unwrap();
    let listed = service.list(&alice(), None, false).await.unwrap();
    let names: Vec<_> = listed.iter().map(|record| record.name.as_str()).collect();
    assert_eq!(
        names,
        ["root", "laptop"],
        "temporary and stored, oldest first"
    );
    assert_eq!(store.len(), 1, "only the stored token is in the store");

    let root = TokenRef::id_or_name("root").of_owner("alice");
    for refused in [
        service.rename(&Actor::Admin, &root, "renamed").await.err(),
        service.rotate(&Actor::Admin, &root, None).await.err(),
        service.revoke(&Actor::Admin, &root).await.err(),
        service.delete(&Actor::Admin, &root).await.err(),
    ] {
        let error = refused.expect("a temporary token cannot be changed");
        assert!(
            matches!(error, ManageError::Store(StoreError::Temporary)),
            "{error:?}"
        );
        assert_eq!(tokenkeep::ErrorCode::code(&error), "TOKEN_TEMPORARY");
    }
    assert!(
        service
            .verify_token("root-secret", Requirement::Manager)
            .await
            .is_ok(),
        "still as configured"
    );

    // Revoke-all revokes what the store holds; a revocation of the
    // temporary one would not outlive a restart, so none is pretended.
    assert_eq!(service.revoke_all(&Actor::Admin, "alice").await.unwrap(), 1);
    assert!(
        service
            .verify_token("root-secret", Requirement::None)
            .await
            .is_ok()
    );
    assert_eq!(store.len(), 1);
}

/// A lifetime limit does not make a temporary token's rotation look like
/// a policy problem: it cannot be rotated at all, and says so first.
#[tokio::test]
async fn rotating_a_temporary_token_is_token_temporary_whatever_the_lifetime_policy() {
    let (builder, _, _) = builder();
    let service = builder
        .max_lifetime(Some(Duration::days(30)))
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build()
        .unwrap();
    let root = service
        .verify_token("root-secret", Requirement::None)
        .await
        .unwrap();
    let root = TokenRef::id(root.token_id());
    let refused = service
        .rotate(&Actor::Admin, &root, None)
        .await
        .unwrap_err();
    assert_eq!(
        tokenkeep::ErrorCode::code(&refused),
        "TOKEN_TEMPORARY",
        "{refused:?}"
    );
}

/// An imported record of kind `temporary` would live in the store, where
/// revoking it as a temporary token (in memory) left it verifying.
#[tokio::test]
async fn import_refuses_temporary_records_and_writes_nothing() {
    let (service, _) = service();
    let stored = support::fresh_record("laptop");
    let mut temporary = support::fresh_record("root");
    temporary.kind = tokenkeep::record::TokenKind::Temporary;
    let refused = service
        .import(&Actor::Admin, vec![stored.clone(), temporary])
        .await;
    assert!(
        matches!(refused, Err(ManageError::Store(StoreError::Temporary))),
        "{refused:?}"
    );
    assert!(
        service.export(&Actor::Admin).await.unwrap().is_empty(),
        "nothing was written"
    );
}

/// A stored token with a temporary token's text would be shadowed by it,
/// and the temporary one carries manager rights.
#[tokio::test]
async fn a_temporary_tokens_secret_is_never_stored_and_never_shadows() {
    let (builder, _, store) = builder();
    let service = builder
        .accept_custom_secrets(true)
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build()
        .unwrap();
    let adopted = service
        .issue(
            &Actor::Admin,
            IssueRequest::new("mallory", "copy")
                .secret(tokenkeep::TokenSecret::custom("root-secret").unwrap()),
        )
        .await;
    assert!(
        matches!(adopted, Err(ManageError::Store(StoreError::Duplicate))),
        "{adopted:?}"
    );
    let mut imported = support::fresh_record("copy");
    imported.hash = tokenkeep::hash::TokenHasher::sha256().hash("root-secret");
    let report = service.import(&Actor::Admin, vec![imported]).await.unwrap();
    assert_eq!((report.imported, report.skipped), (0, 1));
    assert!(
        store.is_empty(),
        "the temporary token's hash is never stored"
    );

    // A stored token with that text already: the service refuses to start.
    let mut stored = support::fresh_record("copy");
    stored.hash = tokenkeep::hash::TokenHasher::sha256().hash("root-secret");
    let shared = Arc::new(MemoryStore::from_records([stored]));
    let refused = TokenManager::builder(shared, Prefix::new("tk").unwrap())
        .accept_custom_secrets(true)
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build_checked()
        .await;
    assert!(
        matches!(refused, Err(tokenkeep::ConfigError::TemporaryToken(_))),
        "{refused:?}"
    );
}

/// A name with U+202E shows reversed in the panel and the CLI: refused on
/// issue, rename and import alike.
#[tokio::test]
async fn names_that_lie_are_refused_everywhere() {
    let (service, _) = service();
    let lying = "invoice\u{202E}fdp.exe";
    let issued = service
        .issue(&alice(), IssueRequest::new("alice", lying))
        .await;
    assert!(
        matches!(issued, Err(ManageError::InvalidName(_))),
        "{issued:?}"
    );
    service
        .issue(&alice(), IssueRequest::new("alice", "laptop"))
        .await
        .unwrap();
    let renamed = service
        .rename(&alice(), &TokenRef::id_or_name("laptop"), lying)
        .await;
    assert!(
        matches!(renamed, Err(ManageError::InvalidName(_))),
        "{renamed:?}"
    );
    let described = service
        .issue(
            &alice(),
            IssueRequest::new("alice", "phone").description("zero\u{200B}width"),
        )
        .await;
    assert!(
        matches!(described, Err(ManageError::InvalidRecord(_))),
        "{described:?}"
    );
    let mut record = support::fresh_record("x");
    record.name = serde_json::from_value(serde_json::json!(lying)).unwrap();
    let imported = service.import(&Actor::Admin, vec![record]).await;
    assert!(
        matches!(imported, Err(ManageError::InvalidName(_))),
        "{imported:?}"
    );
}

/// A long-lived connection learns why its token stopped being good: a
/// revoke, a scope taken away, a delete, each the moment the manager
/// returns (no timing is asserted; the bound is generous).
#[tokio::test]
async fn the_revocation_watch_resolves_with_the_reason() {
    let (service, _) = service();
    let within = std::time::Duration::from_secs(3);
    let deploy = tokenkeep::scope::Ability::new("deploy").unwrap();
    let issue = |name: &'static str| {
        let (service, deploy) = (service.clone(), deploy.clone());
        async move {
            let scopes = Scopes {
                abilities: vec![deploy],
                ..Scopes::default()
            };
            service
                .issue(&alice(), IssueRequest::new("alice", name).scopes(scopes))
                .await
        }
    };
    let verified = |token: tokenkeep::TokenSecret| {
        let service = service.clone();
        async move {
            service
                .verify_token(token.expose_secret(), Requirement::None)
                .await
                .unwrap()
        }
    };

    let revoked = issue("revoked").await.unwrap();
    let who = verified(revoked.token).await;
    let watch = service.revocation(&who, Requirement::None);
    tokio::pin!(watch);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), &mut watch)
            .await
            .is_err(),
        "a good token's watch does not resolve"
    );
    service
        .revoke(&alice(), &TokenRef::id(revoked.record.id))
        .await
        .unwrap();
    let reason = tokio::time::timeout(within, watch).await.unwrap();
    assert!(
        matches!(
            reason,
            AuthError::InvalidToken(tokenkeep::InvalidToken::Revoked)
        ),
        "{reason:?}"
    );

    let narrowed = issue("narrowed").await.unwrap();
    let who = verified(narrowed.token).await;
    let watch = service.revocation(&who, Requirement::Ability("deploy"));
    let changes = TokenChanges {
        abilities: Some(Vec::new()),
        ..TokenChanges::default()
    };
    service
        .modify(&alice(), &TokenRef::id(narrowed.record.id), changes)
        .await
        .unwrap();
    let reason = tokio::time::timeout(within, watch).await.unwrap();
    assert!(
        matches!(reason, AuthError::InsufficientScope { .. }),
        "{reason:?}"
    );

    let deleted = issue("deleted").await.unwrap();
    let who = verified(deleted.token).await;
    let watch = service.revocation(&who, Requirement::None);
    service
        .delete(&Actor::Admin, &TokenRef::id(deleted.record.id))
        .await
        .unwrap();
    let reason = tokio::time::timeout(within, watch).await.unwrap();
    assert!(
        matches!(
            reason,
            AuthError::InvalidToken(tokenkeep::InvalidToken::Unknown)
        ),
        "{reason:?}"
    );
}
