//! The life of a token in one page: issue it, verify it against a route,
//! see a write refused on a read-only route, revoke it, see it refused.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::sync::Arc;

use tokenkeep::scope::RoutePath;
use tokenkeep::store::MemoryStore;
use tokenkeep::{
    Access, Actor, ErrorCode, Expiry, IssueRequest, Prefix, Requirement, Route, Scopes,
    TokenManager, TokenRef,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service =
        TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    let alice = Actor::User("alice".into());

    // Issue: the plaintext is returned this once; the store keeps its hash.
    let scopes =
        Scopes { routes: vec![Route::new("/releases", Access::READ)?], ..Scopes::default() };
    let request = IssueRequest::new("alice", "laptop")
        .scopes(scopes)
        .expires(Expiry::After(tokenkeep::expiry::parse_duration("90d")?));
    let issued = service.issue(&alice, request).await?;
    println!("issued {} ({}…), shown once:", issued.record.name, issued.record.display_prefix);
    println!("  {}", issued.token.expose_secret());
    let header = format!("Bearer {}", issued.token.expose_secret());

    // Verify a read below the route.
    let jar = RoutePath::parse("/releases/app/1.0/app.jar")?;
    let who = service.service().verify_bearer(Some(&header), Requirement::Read(&jar)).await?;
    println!("read {} as {}: allowed", jar.as_str(), who.owner());

    // A write on a read-only route is refused with insufficient_scope.
    match service.service().verify_bearer(Some(&header), Requirement::Write(&jar)).await {
        Ok(_) => return Err("a read-only token was allowed to write".into()),
        Err(error) => println!(
            "write {}: {} ({})",
            jar.as_str(),
            error.code(),
            error.challenge("tokenkeep").map(|c| c.to_string()).unwrap_or_default()
        ),
    }

    // Revoke it: from now on it is invalid_token; the record stays listed.
    service.revoke(&alice, &TokenRef::id_or_name("laptop")).await?;
    match service.service().verify_bearer(Some(&header), Requirement::Read(&jar)).await {
        Ok(_) => return Err("a revoked token verified".into()),
        Err(error) => println!("after revoke: {} (server log: {error})", error.code()),
    }
    let audit = service.list(&alice, None, true).await?;
    println!("audit trail keeps {} record(s); revoked at {:?}", audit.len(), audit[0].revoked_at);
    Ok(())
}
