//! tokenkeep in a tonic gRPC service: the standard health service, where
//! `Check` takes any valid token and `Watch` (a server stream) a manager's,
//! and a watch ends with `UNAUTHENTICATED` when its token is revoked.
//!
//! ```sh
//! cargo run --example tonic --features tonic
//! grpcurl -plaintext -H "authorization: Bearer $TOKEN" 127.0.0.1:50051 grpc.health.v1.Health/Check
//! ```

use std::sync::Arc;

use tokenkeep::store::MemoryStore;
use tokenkeep::tonic::{RequireToken, RouteRequirement};
use tokenkeep::{Actor, IssueRequest, Prefix, Scopes, TokenManager};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    let issued = tokens
        .issue(&Actor::Admin, IssueRequest::new("ops", "watcher").scopes(Scopes::manager()))
        .await?;
    println!("a manager token: {}", issued.token.expose_secret());

    let (_reporter, health) = tonic_health::server::health_reporter();
    let guard = RequireToken::new(tokens.service().clone(), RouteRequirement::AnyToken)
        .method("/grpc.health.v1.Health/Watch", RouteRequirement::Manager)
        .end_streams_on_revocation();
    let address = "127.0.0.1:50051".parse()?;
    println!("listening on {address}");
    tonic::transport::Server::builder().layer(guard).add_service(health).serve(address).await?;
    Ok(())
}
