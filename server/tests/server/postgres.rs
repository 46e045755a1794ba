//! The same flows on PostgreSQL.

use super::prelude::*;

/// A `--database-url` for a fresh schema of its own, or `None` (said on
/// stderr) without a PostgreSQL server.
async fn fresh_database_url() -> Option<String> {
    let url = support::sql::postgres_url().await?;
    let options = support::sql::fresh_schema(&url).await;
    let schema = options.get_options().unwrap_or_default().to_owned();
    let schema = schema.rsplit('=').next().unwrap().to_owned();
    Some(format!("{url}?options=-c%20search_path%3D{schema}"))
}

#[tokio::test]
async fn the_same_flows_on_postgres() {
    let Some(database_url) = fresh_database_url().await else {
        return;
    };
    let args = ["--database-url", database_url.as_str()];
    let server = Server::start(&args).await;
    assert!(server.stderr().contains("data: postgres"));
    let admin = claim(&server).await;
    let issued = server
        .created(
            &admin,
            json!({ "name": "laptop", "routes": [{ "path": "/releases", "access": "r" }] }),
        )
        .await;
    let token = issued["token"].as_str().unwrap();
    assert_eq!(server.whoami(token).await.status(), StatusCode::OK);
    // The owner holds the claimed token and `laptop`: 8 more reach the cap.
    for index in 0..8 {
        server.created(&admin, json!({ "name": format!("t{index}") })).await;
    }
    let capped = server.create(&admin, json!({ "name": "one-too-many" })).await;
    assert_error(capped, StatusCode::CONFLICT, "TOKEN_LIMIT_REACHED").await;
    let revoke = client()
        .delete(server.url(&format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.whoami(token).await.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

/// Two instances on one database: a revoke on one closes a socket open on
/// the other, through the invalidation channel, within its delay.
#[tokio::test]
async fn a_revoke_on_one_instance_closes_a_websocket_on_another() {
    let Some(database_url) = fresh_database_url().await else {
        return;
    };
    let args = ["--database-url", database_url.as_str()];
    let first = Server::start(&args).await;
    let second = Server::start(&args).await;
    let admin = claim(&first).await;
    let issued = first.created(&admin, json!({ "name": "socket" })).await;
    let mut socket = super::routes::open_socket(&second, issued["token"].as_str().unwrap()).await;
    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    let revoked = first.authed(Method::DELETE, &path, &admin).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let took = super::routes::closed_for_policy(&mut socket, Duration::from_secs(3)).await;
    eprintln!("closed on the other instance {took:?} after the revoke returned");
    first.stop().await;
    second.stop().await;
}
