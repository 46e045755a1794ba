//! One token of every kind an integration must tell apart, for the
//! framework tests: valid, manager, revoked, expired, scoped to a route.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use tokenkeep::expiry::ManualClock;
use tokenkeep::store::MemoryStore;
use tokenkeep::time::Duration;
use tokenkeep::{
    Access, Actor, Expiry, IssueRequest, Prefix, Route, Scopes, TokenManager, TokenRef,
};

pub struct Kinds {
    pub tokens: TokenManager,
    pub clock: ManualClock,
    /// Any valid token, owned by alice, no scopes.
    pub plain: String,
    /// A manager token, owned by root.
    pub manager: String,
    pub revoked: String,
    pub expired: String,
    /// May read `/releases` and below.
    pub reader: String,
    /// Allowed one request a minute.
    pub limited: String,
}

impl Kinds {
    /// Revokes the token with this text, as a manager would.
    pub async fn revoke(&self, token: &str) {
        let who = self
            .tokens
            .service()
            .verify_token(token, tokenkeep::Requirement::None)
            .await
            .expect("a valid token");
        self.tokens.revoke(&Actor::Admin, &TokenRef::id(who.token_id())).await.expect("revoke");
    }
}

/// A manager over a memory store, with one token of each kind.
pub async fn kinds() -> Kinds {
    let clock = ManualClock::new(super::t0());
    let tokens =
        TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").expect("prefix"))
            .clock(clock.clone())
            .build()
            .expect("a manager");
    let issue = |owner: &str, name: &str, scopes: Scopes, expires: Expiry| {
        let request = IssueRequest::new(owner, name).scopes(scopes).expires(expires);
        let tokens = tokens.clone();
        async move { tokens.issue(&Actor::Admin, request).await.expect("issue") }
    };
    let plain = issue("alice", "plain", Scopes::default(), Expiry::Never).await;
    let manager = issue("root", "manager", Scopes::manager(), Expiry::Never).await;
    let revoked = issue("alice", "revoked", Scopes::default(), Expiry::Never).await;
    let expired =
        issue("alice", "expired", Scopes::default(), Expiry::After(Duration::hours(1))).await;
    let routes = vec![Route::new("/releases", Access::READ).expect("route")];
    let limited = tokens
        .issue(
            &Actor::Admin,
            IssueRequest::new("alice", "limited").rate_limit("1/1m".parse().expect("limit")),
        )
        .await
        .expect("issue");
    let reader =
        issue("alice", "reader", Scopes { routes, ..Scopes::default() }, Expiry::Never).await;
    tokens.revoke(&Actor::Admin, &TokenRef::id(revoked.record.id)).await.expect("revoke");
    clock.advance(Duration::hours(2));
    let text = |issued: tokenkeep::IssuedToken| issued.token.expose_secret().to_owned();
    Kinds {
        tokens,
        clock,
        plain: text(plain),
        manager: text(manager),
        revoked: text(revoked),
        expired: text(expired),
        reader: text(reader),
        limited: text(limited),
    }
}
