//! What a bearer costs before it authenticates: text no token could be is
//! refused without hashing or a store query; text outside the format (what
//! a custom secret would be) is looked up only while the store holds such
//! secrets at all, and the same absent text only once an epoch.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::support::faulty::FaultyStore;
use tokenkeep::store::MemoryStore;
use tokenkeep::{
    Actor, AuthError, InvalidToken, IssueRequest, Prefix, Requirement, TokenManager, TokenSecret,
    TokenService,
};

fn manager(store: Arc<FaultyStore>) -> TokenManager {
    TokenManager::builder(store, Prefix::new("tk").unwrap())
        .accept_custom_secrets(true)
        .build()
        .unwrap()
}

fn lookups(store: &FaultyStore) -> usize {
    store.lookups_made.load(Ordering::SeqCst)
}

/// Adopts `secret` as root's custom secret.
async fn adopt(manager: &TokenManager, secret: &str) {
    let request = IssueRequest::new("root", "legacy").secret(TokenSecret::custom(secret).unwrap());
    manager.issue(&Actor::Admin, request).await.unwrap();
}

async fn refused_as_format(service: &TokenService, text: &str) -> bool {
    matches!(
        service.verify_token(text, Requirement::None).await,
        Err(AuthError::InvalidToken(InvalidToken::Format(_)))
    )
}

/// With custom secrets accepted, text no custom secret could be (over 512
/// characters, under 8, outside the b64token set) is refused without
/// hashing or asking the store; a 300 KB bearer used to be hashed and
/// looked up.
#[tokio::test]
async fn text_no_token_could_be_never_reaches_the_store() {
    let store = FaultyStore::new(MemoryStore::new());
    let service = manager(store.clone());
    let huge = format!("Bearer {}", "a".repeat(300_000));
    for header in [huge.as_str(), "Bearer short"] {
        let refused = service.service().verify_bearer(Some(header), Requirement::None).await;
        assert!(matches!(refused, Err(AuthError::InvalidToken(_))), "{refused:?}");
    }
    assert!(refused_as_format(service.service(), "not a bearer value!").await);
    assert_eq!(lookups(&store), 0, "no store query");
    assert_eq!(store.custom_questions.load(Ordering::SeqCst), 0);
}

/// A flood of unprefixed text costs one question to the store, not a
/// query each, while the store holds no custom secret; used to be a
/// lookup per request (SQLite read locks, a Postgres round trip).
#[tokio::test]
async fn unprefixed_text_is_not_looked_up_while_no_custom_secret_is_stored() {
    let store = FaultyStore::new(MemoryStore::new());
    let service = manager(store.clone());
    let minted = service.admin_issue(IssueRequest::new("alice", "laptop")).await;
    for n in 0..200 {
        assert!(refused_as_format(service.service(), &format!("garbage-bearer-{n}")).await);
    }
    assert_eq!(lookups(&store), 0, "no lookup of garbage");
    assert_eq!(store.custom_questions.load(Ordering::SeqCst), 1);

    // Tokens in the format go on verifying as ever.
    let token = minted.token.expose_secret();
    assert!(service.verifies_text(token).await);
}

/// A custom secret adopted through this service verifies at once, and from
/// then on unprefixed text is looked up, but the same absent text only
/// once an epoch: a client repeating a wrong secret costs one query.
#[tokio::test]
async fn an_adopted_custom_secret_verifies_at_once_and_absent_text_is_remembered() {
    let store = FaultyStore::new(MemoryStore::new());
    let service = manager(store.clone());
    assert!(refused_as_format(service.service(), "legacy-admin-secret").await);

    adopt(&service, "legacy-admin-secret").await;
    let adopted = service.service().verify_token("legacy-admin-secret", Requirement::None).await;
    assert_eq!(adopted.unwrap().owner(), "root");

    let before = lookups(&store);
    for _ in 0..100 {
        assert!(refused_as_format(service.service(), "a-wrong-secret").await);
    }
    assert_eq!(lookups(&store) - before, 1, "one lookup, then remembered");
    assert!(refused_as_format(service.service(), "another-wrong-secret").await);
    assert_eq!(lookups(&store) - before, 2, "other text is looked up");
}

/// A custom secret stored where this service hears nothing of it (another
/// process, another service over the store) verifies here within five
/// seconds: the epoch's knowledge ends then.
#[tokio::test(start_paused = true)]
async fn a_custom_secret_stored_elsewhere_verifies_within_five_seconds() {
    let store = FaultyStore::new(MemoryStore::new());
    let elsewhere = manager(store.clone());
    let here = TokenService::builder(store.clone(), Prefix::new("tk").unwrap())
        .accept_custom_secrets(true)
        .build()
        .unwrap();
    assert!(refused_as_format(&here, "set-elsewhere").await);
    adopt(&elsewhere, "set-elsewhere").await;
    assert!(refused_as_format(&here, "set-elsewhere").await, "not yet");

    tokio::time::advance(Duration::from_secs(5)).await;
    let now = here.verify_token("set-elsewhere", Requirement::None).await;
    assert_eq!(now.unwrap().owner(), "root");
}

/// A store that cannot say whether it holds custom secrets is looked up
/// (never refused on what is not known), and its failure is the answer.
#[tokio::test]
async fn a_store_that_cannot_answer_is_looked_up() {
    let store = FaultyStore::new(MemoryStore::new());
    let service = manager(store.clone());
    store.set_lookups(crate::support::faulty::Lookups::Fail);
    store.fail_custom_questions.store(true, Ordering::SeqCst);
    let answer = service.service().verify_token("some-custom-text", Requirement::None).await;
    assert!(matches!(answer, Err(AuthError::Unavailable(_))), "{answer:?}");
    assert_eq!(lookups(&store), 1);
}

/// An import may bring custom secrets: the next verification asks again.
#[tokio::test]
async fn an_import_ends_what_the_service_knew() {
    let service = manager(FaultyStore::new(MemoryStore::new()));
    assert!(refused_as_format(service.service(), "imported-secret").await);

    let mut record = crate::support::fresh_record("imported");
    record.hash = service.service().hasher().hash("imported-secret");
    record.display_prefix = String::new();
    service.import(&Actor::Admin, vec![record]).await.unwrap();
    assert!(service.verifies_text("imported-secret").await);
}

/// The endpoints for callers outside Rust pay the same: a garbage bearer at
/// forward auth, a garbage token introspected or reported as leaked, cost
/// no store lookup (a typo of the format is refused before the store).
#[tokio::test]
async fn garbage_at_the_http_endpoints_never_reaches_the_store() {
    use tokenkeep::http::{OriginalRequest, RequestFacts, forward_auth, revoke_credentials};
    let store = FaultyStore::new(MemoryStore::new());
    let manager = TokenManager::builder(store.clone(), Prefix::new("tk").unwrap()).build().unwrap();
    let original = OriginalRequest::from_headers(|name| match name {
        "x-original-method" => Some("GET"),
        "x-original-uri" => Some("/docs"),
        _ => None,
    });
    for garbage in ["tk_garbage", "tk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"] {
        let header = format!("Bearer {garbage}");
        let facts = RequestFacts::new("GET", "/auth/forward").authorization([header.as_bytes()]);
        let refused = forward_auth(manager.service(), facts, original).await.unwrap_err();
        assert_eq!(refused.status(), 401);
        assert!(manager.service().introspect(garbage).await.unwrap().is_none());
    }
    let body = serde_json::json!({ "credentials": ["tk_garbage", "x"] }).to_string();
    revoke_credentials(&manager, body.as_bytes()).await.unwrap();
    assert_eq!(lookups(&store), 0, "garbage reached the store");
}

/// A forged token: the service's prefix, a valid checksum, the tagged
/// length, and a tag its keys never made.
fn forged(format: &tokenkeep::token::TokenFormat) -> String {
    let stranger =
        tokenkeep::token::MintKeys::new(tokenkeep::token::MintKey::new([0xAB; 32]).unwrap());
    let theirs =
        tokenkeep::token::TokenFormat::new(format.prefix().clone()).with_mint_keys(stranger);
    let minted = theirs.mint(&tokenkeep::hash::TokenHasher::sha256()).unwrap();
    minted.secret.expose_secret().to_owned()
}

/// With minting keys, a thousand forged tagged tokens cost the store
/// nothing (forged untagged ones are a thousand lookups without keys); the
/// service's own tokens verify, those tagged under a key being rotated out
/// too, and untagged ones (minted before the key) are looked up until the
/// operator refuses them, and then no forged token of either length costs
/// a lookup.
#[tokio::test]
async fn forged_tokens_never_reach_the_store_once_tokens_are_tagged() {
    use tokenkeep::token::{FormatError, MintKey, MintKeys, TokenFormat};
    let prefix = Prefix::new("tk").unwrap();
    let (old, new) = (MintKey::new([1u8; 32]).unwrap(), MintKey::new([2u8; 32]).unwrap());
    let store = FaultyStore::new(MemoryStore::new());
    let untagged_era = TokenManager::builder(store.clone(), prefix.clone()).build().unwrap();
    let untagged = untagged_era.admin_issue(IssueRequest::new("alice", "before")).await;
    let old_era = TokenManager::builder(store.clone(), prefix.clone())
        .mint_keys(MintKeys::new(old.clone()))
        .build()
        .unwrap();
    let tagged_old = old_era.admin_issue(IssueRequest::new("alice", "old key")).await;

    let rotated = MintKeys::new(new.clone()).accepting(old);
    let service = TokenManager::builder(store.clone(), prefix.clone())
        .mint_keys(rotated.clone())
        .build()
        .unwrap();
    let tagged = service.admin_issue(IssueRequest::new("alice", "new key")).await;
    for token in [&untagged.token, &tagged_old.token, &tagged.token] {
        assert!(service.verifies_text(token.expose_secret()).await);
    }

    let format = TokenFormat::new(prefix.clone()).with_mint_keys(MintKeys::new(new.clone()));
    let before = lookups(&store);
    for _ in 0..1_000 {
        let refused = service.service().verify_token(&forged(&format), Requirement::None).await;
        let tag = AuthError::InvalidToken(InvalidToken::Format(FormatError::Tag));
        assert_eq!(refused.unwrap_err().to_string(), tag.to_string());
    }
    assert_eq!(lookups(&store), before, "no forged token reached the store");
    // Without keys, a forged token of the untagged length is a lookup each.
    let untagged_format = TokenFormat::new(format.prefix().clone());
    let forge_untagged = || {
        let minted = untagged_format.mint(&tokenkeep::hash::TokenHasher::sha256()).unwrap();
        minted.secret.expose_secret().to_owned()
    };
    for _ in 0..1_000 {
        assert!(!untagged_era.verifies_text(&forge_untagged()).await);
    }
    assert_eq!(lookups(&store), before + 1_000, "without keys, each one is a lookup");

    let strict = TokenManager::builder(store.clone(), prefix)
        .mint_keys(MintKeys::new(new).refusing_untagged())
        .build()
        .unwrap();
    let before = lookups(&store);
    assert!(!strict.verifies_text(untagged.token.expose_secret()).await, "untagged refused");
    assert!(!strict.verifies_text(tagged_old.token.expose_secret()).await, "the old key dropped");
    for _ in 0..1_000 {
        assert!(!strict.verifies_text(&forge_untagged()).await);
        assert!(!strict.verifies_text(&forged(&format)).await);
    }
    assert_eq!(lookups(&store), before, "none of them with a lookup");
    assert!(strict.verifies_text(tagged.token.expose_secret()).await);
}
