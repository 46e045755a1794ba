//! The same flows on MySQL (MariaDB on every machine), and two instances
//! that learn of each other's revokes through the change feed.

use super::prelude::*;

/// A `--database-url` for a fresh database of its own, or `None` (said on
/// stderr) without a MySQL server.
async fn fresh_database_url() -> Option<String> {
    let url = support::sql::mysql_url().await?;
    let options = support::sql::fresh_mysql_database(&url).await;
    let database = options.get_database().unwrap().to_owned();
    let server = url.rsplit_once('/').unwrap().0;
    Some(format!("{server}/{database}"))
}

#[tokio::test]
async fn two_instances_on_mysql_share_caps_uses_and_revokes() {
    let Some(database_url) = fresh_database_url().await else {
        return;
    };
    let args = ["--database-url", database_url.as_str(), "--change-feed-poll-ms", "20"];
    let first = Server::start(&args).await;
    let second = Server::start(&args).await;
    assert!(first.stderr().contains("data: mysql"));
    let admin = claim(&first).await;
    let issued = first.created(&admin, json!({ "name": "laptop" })).await;
    let token = issued["token"].as_str().unwrap();
    assert_eq!(second.whoami(token).await.status(), StatusCode::OK, "cached on the second");
    // The owner holds the claimed token and `laptop`: 8 more reach the cap,
    // whichever instance issues them.
    for index in 0..8 {
        let server = if index % 2 == 0 { &first } else { &second };
        server.created(&admin, json!({ "name": format!("t{index}") })).await;
    }
    let capped = second.create(&admin, json!({ "name": "one-too-many" })).await;
    assert_error(capped, StatusCode::CONFLICT, "TOKEN_LIMIT_REACHED").await;

    let once = first.created(&admin, json!({ "name": "thrice", "owner": "bob", "uses": 3 })).await;
    let once = once["token"].as_str().unwrap();
    let mut admitted = 0;
    for round in 0..6 {
        let server = if round % 2 == 0 { &first } else { &second };
        admitted += usize::from(server.whoami(once).await.status() == StatusCode::OK);
    }
    assert_eq!(admitted, 3, "three uses across both instances");

    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    assert_eq!(first.authed(Method::DELETE, &path, &admin).await.status(), StatusCode::NO_CONTENT);
    let started = std::time::Instant::now();
    while second.whoami(token).await.status() == StatusCode::OK {
        assert!(started.elapsed() < Duration::from_secs(2), "the revoke never reached the second");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.stop().await;
    second.stop().await;
    drop_database(&database_url).await;
}

/// Drops the test's database once its servers have stopped.
async fn drop_database(database_url: &str) {
    use tokenkeep::store::sqlx::{self, AssertSqlSafe, mysql::MySqlPoolOptions};
    let (server, database) = database_url.rsplit_once('/').unwrap();
    let admin = MySqlPoolOptions::new().max_connections(1).connect(server).await.unwrap();
    let drop = format!("DROP DATABASE IF EXISTS {database}");
    sqlx::query(AssertSqlSafe(drop)).execute(&admin).await.unwrap();
    admin.close().await;
}

#[tokio::test]
async fn a_database_url_of_another_kind_is_refused_with_the_kinds_it_takes() {
    let data_dir = support::server::data_dir();
    let data_dir = data_dir.display().to_string();
    let args = ["--data-dir", data_dir.as_str(), "--database-url", "oracle://db/app", "serve"];
    let output = support::server::run_binary(&args, &[], "").await;
    assert_ne!(output.code, 0);
    assert!(output.stderr.contains("mysql://"), "{}", output.stderr);
}
