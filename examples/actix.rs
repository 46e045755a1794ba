//! tokenkeep in an actix-web service: a manager-only route, a file area
//! protected by path and method, and a server-sent event stream that ends
//! when its token is revoked.
//!
//! ```sh
//! cargo run --example actix --features actix
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8081/whoami
//! ```

use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use tokenkeep::actix::{AnyToken, Manager, RequireToken, RouteRequirement, Token, until_revoked};
use tokenkeep::store::MemoryStore;
use tokenkeep::{Actor, IssueRequest, Prefix, Scopes, TokenManager, TokenService};

async fn whoami(token: Token<AnyToken>) -> HttpResponse {
    HttpResponse::Ok().body(format!("{}\n", token.0.owner()))
}

async fn admin(token: Token<Manager>) -> HttpResponse {
    HttpResponse::Ok().body(format!("hello, manager {}\n", token.0.owner()))
}

/// One event a second until the token is revoked, expires or is deleted.
async fn events(token: Token<AnyToken>, service: web::Data<TokenService>) -> HttpResponse {
    let every_second = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let event = web::Bytes::from_static(b"data: still here\n\n");
        Some((Ok::<_, actix_web::Error>(event), ()))
    });
    let body = until_revoked(TokenService::clone(&service), token.0, every_second, |reason| {
        Ok(web::Bytes::from(format!("event: end\ndata: {}\n\n", reason.client_message())))
    });
    HttpResponse::Ok().content_type("text/event-stream").streaming(body)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(serve())
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    let issued = tokens
        .issue(&Actor::Admin, IssueRequest::new("alice", "demo").scopes(Scopes::manager()))
        .await?;
    println!("a manager token: {}", issued.token.expose_secret());
    println!("listening on http://127.0.0.1:8081 (/whoami, /admin, /events, /files/…)");
    let service = tokens.service().clone();
    HttpServer::new(move || {
        let files = web::scope("/files")
            .wrap(RequireToken::new(service.clone(), RouteRequirement::PathByMethod))
            .default_service(web::to(|| async { HttpResponse::Ok().body("a file\n") }));
        App::new()
            .app_data(web::Data::new(service.clone()))
            .route("/whoami", web::get().to(whoami))
            .route("/admin", web::get().to(admin))
            .route("/events", web::get().to(events))
            .service(files)
    })
    .bind(("127.0.0.1", 8081))?
    .run()
    .await?;
    Ok(())
}
