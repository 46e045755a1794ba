//! The reference server end to end: a separate process on a free port,
//! driven by a real HTTP client and a real WebSocket client.
#![cfg(all(
    feature = "axum",
    feature = "sqlite",
    feature = "postgres",
    feature = "management"
))]
// The request helpers below are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use support::server::{SETUP_TOKEN, Server, client_command, raw_request, token_command};

fn client() -> Client {
    Client::new()
}

async fn json_of(response: Response) -> Value {
    let text = response.text().await.expect("a body");
    let value: Value = serde_json::from_str(&text).expect("a JSON body");
    support::server::assert_json_clean(&text, &value);
    value
}

/// Claims the instance and returns the first manager token.
async fn claim(server: &Server) -> String {
    let response = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": SETUP_TOKEN }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = json_of(response).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    support::server::remember(&token);
    token
}

async fn create(server: &Server, manager: &str, body: Value) -> Response {
    client()
        .post(server.url("/api/auth/tokens"))
        .bearer_auth(manager)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates a token and returns its view (with `token`).
async fn created(server: &Server, manager: &str, body: Value) -> Value {
    let response = create(server, manager, body).await;
    let status = response.status();
    let body = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    support::server::remember(body["token"].as_str().unwrap());
    body
}

/// Sends a bodiless request with a bearer token.
async fn authed(server: &Server, method: Method, path: &str, token: &str) -> Response {
    client()
        .request(method, server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn whoami(server: &Server, token: &str) -> Response {
    authed(server, Method::GET, "/api/whoami", token).await
}

async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body = json_of(response).await;
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string());
    body
}

#[tokio::test]
async fn claim_once_then_conflict() {
    let server = Server::start(&[]).await;
    let status = client()
        .get(server.url("/api/setup/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(status).await, json!({ "claimed": false }));

    let wrong = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": "wrong-token-here" }))
        .send()
        .await
        .unwrap();
    assert_error(wrong, StatusCode::UNAUTHORIZED, "INVALID_SETUP_TOKEN").await;

    let token = claim(&server).await;
    let who = json_of(whoami(&server, &token).await).await;
    assert_eq!(who["scopes"]["manager"], true);
    let status = client()
        .get(server.url("/api/setup/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(status).await, json!({ "claimed": true }));

    let again = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": SETUP_TOKEN }))
        .send()
        .await
        .unwrap();
    assert_error(again, StatusCode::CONFLICT, "ALREADY_CLAIMED").await;
    server.stop().await;
}

#[tokio::test]
async fn an_unconfigured_setup_token_is_generated_and_printed_once() {
    let data = support::server::data_dir();
    let server = Server::start_in(&data, &[], &[]).await;
    let printed = server.stderr();
    let line = printed
        .lines()
        .find(|l| l.starts_with("setup token"))
        .expect("printed");
    let token = line.rsplit(' ').next().unwrap().to_owned();
    let response = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.stop().await;
    let restarted = Server::start_in(&data, &[], &[]).await;
    assert!(
        !restarted.stderr().contains("setup token"),
        "claimed: nothing printed"
    );
    restarted.stop().await;
}

#[tokio::test]
async fn route_scopes_hold_on_segment_boundaries() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let writer = created(
        &server,
        &admin,
        json!({ "name": "writer", "routes": [{ "path": "/releases", "access": "rw" }] }),
    )
    .await;
    let reader = created(
        &server,
        &admin,
        json!({ "name": "reader", "routes": [{ "path": "/releases", "access": "r" }] }),
    )
    .await;
    let plain = created(&server, &admin, json!({ "name": "plain" })).await;
    let (writer, reader, plain) = (
        writer["token"].as_str().unwrap(),
        reader["token"].as_str().unwrap(),
        plain["token"].as_str().unwrap(),
    );

    let put = |token: &str, path: &str| {
        client()
            .put(server.url(path))
            .bearer_auth(token.to_owned())
            .body("bytes")
            .send()
    };
    let get = |token: &str, path: &str| {
        client()
            .get(server.url(path))
            .bearer_auth(token.to_owned())
            .send()
    };

    assert_eq!(
        put(writer, "/files/releases/app/1.0.jar")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put(admin.as_str(), "/files/releases-private/key")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let read = get(reader, "/files/releases/app/1.0.jar").await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.text().await.unwrap(), "bytes");

    let write = put(reader, "/files/releases/app/2.0.jar").await.unwrap();
    let challenge = write.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_error(write, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    assert_eq!(
        challenge,
        r#"Bearer realm="tokenkeep", error="insufficient_scope", scope="write:/releases/app/2.0.jar""#
    );
    assert_eq!(
        get(reader, "/files/releases-private/key")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(plain, "/files/releases/app/1.0.jar")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(reader, "/files/releases/missing")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Escapes, sent byte for byte: never past the route.
    let address = server.address();
    for path in [
        "/files/releases/../releases-private/key",
        "/files/releases/%2e%2e/releases-private/key",
        "/files/releases/..%2freleases-private/key",
        "/files/releases%2f..%2freleases-private/key",
        "/files/../../etc/passwd",
    ] {
        let status = raw_request(&address, "GET", path, reader).await;
        assert!(status == 400 || status == 403, "{path} answered {status}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_eleventh_token_is_refused() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    for index in 0..10 {
        created(
            &server,
            &admin,
            json!({ "name": format!("t{index}"), "owner": "alice" }),
        )
        .await;
    }
    let eleventh = create(&server, &admin, json!({ "name": "t10", "owner": "alice" })).await;
    assert_error(eleventh, StatusCode::CONFLICT, "TOKEN_LIMIT_REACHED").await;
    let taken = create(&server, &admin, json!({ "name": "admin" })).await;
    assert_error(taken, StatusCode::CONFLICT, "NAME_TAKEN").await;
    server.stop().await;
}

#[tokio::test]
async fn lists_never_show_secrets_or_hashes() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let issued = created(
        &server,
        &admin,
        json!({ "name": "laptop", "owner": "alice", "description": "mine", "profile": "staging" }),
    )
    .await;
    let secret = issued["token"].as_str().unwrap();
    let list = authed(&server, Method::GET, "/api/auth/tokens?owner=alice", &admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains(&secret[3..]) && !list.contains("\"token\"") && !list.contains("hash"));
    let views: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(views.as_array().unwrap().len(), 1);
    let view = &views[0];
    for field in [
        "id",
        "owner",
        "name",
        "description",
        "prefix",
        "scopes",
        "profile",
        "kind",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ] {
        assert!(view.get(field).is_some(), "missing {field}");
    }
    assert_eq!(view["kind"], "persistent");
    assert_eq!(view["prefix"], &secret[..9]);
    let one = client()
        .get(server.url(&format!(
            "/api/auth/tokens/{}",
            view["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(json_of(one).await.get("token").is_none());
    let missing = authed(&server, Method::GET, "/api/auth/tokens/nope", &admin).await;
    assert_error(missing, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_token_answers_401_with_the_challenge() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let issued = created(&server, &admin, json!({ "name": "laptop" })).await;
    let token = issued["token"].as_str().unwrap();
    assert_eq!(whoami(&server, token).await.status(), StatusCode::OK);
    let revoke = client()
        .delete(server.url(&format!(
            "/api/auth/tokens/{}",
            issued["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let refused = whoami(&server, token).await;
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Bearer realm="tokenkeep", error="invalid_token""#
    );
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;

    let missing = client()
        .get(server.url("/api/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.headers()["www-authenticate"],
        r#"Bearer realm="tokenkeep""#
    );
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let malformed = client()
        .get(server.url("/api/whoami"))
        .header("authorization", "Bearer a b")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let listed = authed(
        &server,
        Method::GET,
        "/api/auth/tokens?include_revoked=true",
        &admin,
    )
    .await;
    let listed = json_of(listed).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["revoked_at"].is_string()),
        "audit trail"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_expired_token_answers_401() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let issued = created(
        &server,
        &admin,
        json!({ "name": "brief", "expires_in": "1s" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let refused = whoami(&server, issued["token"].as_str().unwrap()).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    server.stop().await;
}

#[tokio::test]
async fn rotation_replaces_the_secret() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let issued = created(
        &server,
        &admin,
        json!({ "name": "ci", "expires_in": "30d" }),
    )
    .await;
    let rotate = |id: &str, body: Value| {
        client()
            .post(server.url(&format!("/api/auth/tokens/{id}/rotate")))
            .bearer_auth(admin.clone())
            .json(&body)
            .send()
    };
    let graced = rotate(issued["id"].as_str().unwrap(), json!({ "grace": "10m" }))
        .await
        .unwrap();
    assert_eq!(graced.status(), StatusCode::CREATED);
    let graced = json_of(graced).await;
    assert_eq!(graced["name"], "ci");
    assert_eq!(graced["expires_at"], issued["expires_at"]);
    assert_eq!(
        whoami(&server, issued["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        whoami(&server, graced["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let now = rotate(graced["id"].as_str().unwrap(), json!({}))
        .await
        .unwrap();
    let now = json_of(now).await;
    assert_eq!(
        whoami(&server, graced["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        whoami(&server, now["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let bad = rotate(now["id"].as_str().unwrap(), json!({ "grace": "-1m" }))
        .await
        .unwrap();
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_DURATION").await;
    server.stop().await;
}

#[tokio::test]
async fn temporary_tokens_vanish_on_restart() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let server = Server::start_in(&data, &["--token", "root:root-secret"], &env).await;
    let who = json_of(whoami(&server, "root-secret").await).await;
    assert_eq!(who["name"], "root");
    let made = created(
        &server,
        "root-secret",
        json!({ "name": "made-by-root", "owner": "bob" }),
    )
    .await;
    let listed = authed(&server, Method::GET, "/api/auth/tokens", "root-secret").await;
    let kinds: Vec<Value> = json_of(listed)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].clone())
        .collect();
    assert!(kinds.contains(&json!("temporary")) && kinds.contains(&json!("persistent")));
    let status = client()
        .get(server.url("/api/setup/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(status).await["claimed"],
        true,
        "the stored token claimed it, not root"
    );
    server.stop().await;

    let restarted = Server::start_in(&data, &[], &env).await;
    assert_eq!(
        whoami(&restarted, "root-secret").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        whoami(&restarted, made["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    restarted.stop().await;
}

#[tokio::test]
async fn revoke_all_revokes_one_owner() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let a1 = created(&server, &admin, json!({ "name": "a1", "owner": "alice" })).await;
    created(&server, &admin, json!({ "name": "a2", "owner": "alice" })).await;
    let bob = created(&server, &admin, json!({ "name": "b", "owner": "bob" })).await;
    let response = authed(
        &server,
        Method::POST,
        "/api/owners/alice/revoke-all",
        &admin,
    )
    .await;
    assert_eq!(json_of(response).await, json!({ "revoked": 2 }));
    assert_eq!(
        whoami(&server, a1["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        whoami(&server, bob["token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let plain = bob["token"].as_str().unwrap();
    let refused = authed(&server, Method::POST, "/api/owners/bob/revoke-all", plain).await;
    assert_error(refused, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    server.stop().await;
}

#[tokio::test]
async fn patch_changes_name_and_scopes() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let issued = created(&server, &admin, json!({ "name": "ci" })).await;
    let token = issued["token"].as_str().unwrap();
    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    let patched = client()
        .patch(server.url(&path))
        .bearer_auth(&admin)
        .json(&json!({ "name": "deployer", "routes": [{ "path": "/deploy", "access": "w" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched = json_of(patched).await;
    assert_eq!(patched["name"], "deployer");
    assert_eq!(patched["scopes"]["routes"][0]["access"], "w");
    let put = client()
        .put(server.url("/files/deploy/x"))
        .bearer_auth(token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.status(),
        StatusCode::CREATED,
        "the change applies at once"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_server_stays_up() {
    let mut server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let post = |body: String| {
        client()
            .post(server.url("/api/auth/tokens"))
            .bearer_auth(admin.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        ("{not json", StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (r#"{"name": 5}"#, StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (
            r#"{"name": "x", "colour": "red"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            r#"{"name": "x", "manager": "yes"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            r#"{"name": "x", "expires_in": "999999y"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_DURATION",
        ),
        (
            r#"{"name": "x", "expires_in": "0d"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_DURATION",
        ),
        (
            r#"{"name": "x", "expires_in": "soon"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_DURATION",
        ),
        (
            r#"{"name": "bell\u0007"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_NAME",
        ),
        (r#"{"name": ""}"#, StatusCode::BAD_REQUEST, "INVALID_NAME"),
        (
            r#"{"name": "x", "routes": [{"path": "/../etc", "access": "r"}]}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            r#"{"name": "x", "abilities": ["has space"]}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        ("", StatusCode::BAD_REQUEST, "INVALID_NAME"),
    ];
    for (body, status, code) in cases {
        let response = post(body.to_owned()).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(json_of(response).await["error"], code, "{body}");
    }
    let long_name = json!({ "name": "n".repeat(101) }).to_string();
    assert_error(
        post(long_name).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "INVALID_NAME",
    )
    .await;
    let hundred = json!({ "name": "n".repeat(100) }).to_string();
    assert_eq!(post(hundred).await.unwrap().status(), StatusCode::CREATED);
    let huge = json!({ "name": "x".repeat(1_000_000) }).to_string();
    assert_error(
        post(huge).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let unknown = client().get(server.url("/nowhere")).send().await.unwrap();
    assert_error(unknown, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert!(server.is_running());
    assert_eq!(whoami(&server, &admin).await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn the_websocket_takes_its_token_from_the_query() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let url = format!("ws://{}/ws?token={admin}", server.address());
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    socket
        .send(tokio_tungstenite::tungstenite::Message::text("ping"))
        .await
        .unwrap();
    let echoed = socket.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap().as_str(), "ping");

    let without = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.address())).await;
    let bad =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?token=tk_wrong", server.address()))
            .await;
    for refused in [without, bad] {
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!("expected 401, got {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn last_used_is_flushed_on_shutdown() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let server = Server::start_in(&data, &[], &env).await;
    let admin = claim(&server).await;
    assert_eq!(whoami(&server, &admin).await.status(), StatusCode::OK);
    server.stop().await;
    let output = token_command(&data, &["get", "admin"], "").await;
    assert_eq!(output.code, 0, "{}", output.stderr);
    let view: Value = serde_json::from_str(&output.stdout).unwrap();
    assert!(view["last_used_at"].is_string(), "{view}");
}

#[tokio::test]
async fn operator_commands_and_their_exit_codes() {
    let data = support::server::data_dir();
    let create = token_command(
        &data,
        &[
            "create",
            "laptop",
            "--owner",
            "alice",
            "--expires-in",
            "90d",
            "--route",
            "/releases:rw",
            "--ability",
            "deploy",
            "--description",
            "mine",
        ],
        "",
    )
    .await;
    assert_eq!(create.code, 0, "{}", create.stderr);
    let token = create
        .stdout
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("Token: ")
        .to_owned();
    assert!(create.stdout.contains("will not be shown again"));

    let list = token_command(&data, &["list"], "").await;
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains("laptop")
            && list.stdout.contains("alice")
            && !list.stdout.contains(&token[3..])
    );
    let json_list = token_command(&data, &["list", "--json"], "").await;
    let views: Value = serde_json::from_str(&json_list.stdout).unwrap();
    assert_eq!(views[0]["scopes"]["routes"][0]["access"], "rw");

    let get = token_command(&data, &["get", "laptop"], "").await;
    assert_eq!(get.code, 0);
    assert!(!get.stdout.contains(&token[3..]));
    let rename = token_command(&data, &["rename", "laptop", "work-laptop"], "").await;
    assert_eq!(rename.code, 0, "{}", rename.stderr);
    let modify = token_command(
        &data,
        &["modify", "work-laptop", "--manager", "--route", "/docs:r"],
        "",
    )
    .await;
    assert_eq!(modify.code, 0, "{}", modify.stderr);
    assert!(modify.stdout.contains("\"manager\":true"));

    let adopted = token_command(
        &data,
        &["create", "migrated", "--secret", "legacy-secret-42"],
        "",
    )
    .await;
    assert_eq!(adopted.code, 0, "{}", adopted.stderr);

    // Export, then import into a fresh data directory: the token verifies there.
    let export = token_command(&data, &["export"], "").await;
    assert_eq!(export.code, 0);
    assert_eq!(export.stdout.lines().count(), 2);
    assert!(!export.stdout.contains(&token[3..]));
    let elsewhere = support::server::data_dir();
    let import = token_command(&elsewhere, &["import"], &export.stdout).await;
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(import.stderr.contains("imported 2"));
    let server = Server::start_in(&elsewhere, &[], &[]).await;
    assert_eq!(whoami(&server, &token).await.status(), StatusCode::OK);
    assert_eq!(
        whoami(&server, "legacy-secret-42").await.status(),
        StatusCode::OK
    );
    server.stop().await;

    let revoke = token_command(&data, &["revoke", "work-laptop", "--force"], "").await;
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    let again = token_command(&data, &["revoke", "work-laptop"], "").await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("NOT_FOUND"));

    let refused = token_command(&data, &["create", "bad", "--expires-in", "0d"], "").await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("INVALID_DURATION"));
    let garbage = token_command(&data, &["import"], "not json\n").await;
    assert_eq!(garbage.code, 1);
    let usage = token_command(&data, &["create"], "").await;
    assert_eq!(usage.code, 2);
    let unknown = token_command(&data, &["frobnicate"], "").await;
    assert_eq!(unknown.code, 2);
}

#[tokio::test]
async fn the_same_flows_on_postgres() {
    let Some(url) = support::sql::postgres_url().await else {
        return;
    };
    let options = support::sql::fresh_schema(&url).await;
    let schema = options.get_options().unwrap_or_default().to_owned();
    let schema = schema.rsplit('=').next().unwrap().to_owned();
    let database_url = format!("{url}?options=-c%20search_path%3D{schema}");
    let args = ["--database-url", database_url.as_str()];
    let server = Server::start(&args).await;
    assert!(server.stderr().contains("data: postgres"));
    let admin = claim(&server).await;
    let issued = created(
        &server,
        &admin,
        json!({ "name": "laptop", "routes": [{ "path": "/releases", "access": "r" }] }),
    )
    .await;
    let token = issued["token"].as_str().unwrap();
    assert_eq!(whoami(&server, token).await.status(), StatusCode::OK);
    // The owner holds the claimed token and `laptop`: 8 more reach the cap.
    for index in 0..8 {
        created(&server, &admin, json!({ "name": format!("t{index}") })).await;
    }
    let capped = create(&server, &admin, json!({ "name": "one-too-many" })).await;
    assert_error(capped, StatusCode::CONFLICT, "TOKEN_LIMIT_REACHED").await;
    let revoke = client()
        .delete(server.url(&format!(
            "/api/auth/tokens/{}",
            issued["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        whoami(&server, token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}

#[tokio::test]
async fn create_login_call_revoke_call_fails_from_a_terminal() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let laptop = created(
        &server,
        &admin,
        json!({ "name": "laptop", "owner": "alice" }),
    )
    .await;
    let token = laptop["token"].as_str().unwrap();
    let home = support::server::data_dir();

    let typo = format!("{}x", &token[..token.len() - 1]);
    let refused = client_command(
        &home,
        &["login", "--host", &server.base, "--token", &typo],
        &[],
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("INVALID_TOKEN"),
        "{}",
        refused.stderr
    );
    assert!(!home.join("auth.json").exists(), "nothing saved");

    let login = client_command(
        &home,
        &["login", "--host", &server.base, "--token", token],
        &[],
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        !login.stdout.contains(&token[3..]),
        "login never prints the token"
    );

    let whoami = client_command(&home, &["whoami"], &[]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    assert!(whoami.stdout.contains("\"alice\""), "{}", whoami.stdout);
    assert!(
        whoami.stdout.contains("auth.json"),
        "says where the token came from"
    );
    assert!(!whoami.stdout.contains(&token[3..]));

    // The variables override the file: both, or one with the other from the file.
    let env_token = client_command(&home, &["whoami"], &[("TOKENKEEP_TOKEN", &admin)]).await;
    assert!(
        env_token.stdout.contains("\"admin\"") && env_token.stdout.contains("$TOKENKEEP_TOKEN")
    );
    let env_host = client_command(
        &home,
        &["whoami"],
        &[("TOKENKEEP_HOST", "http://127.0.0.1:9")],
    )
    .await;
    assert_eq!(
        env_host.code, 1,
        "the host from the variable, the token from the file"
    );

    let revoke = authed(
        &server,
        Method::DELETE,
        &format!("/api/auth/tokens/{}", laptop["id"].as_str().unwrap()),
        &admin,
    )
    .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let after = client_command(&home, &["whoami"], &[]).await;
    assert_eq!(after.code, 1);
    assert!(after.stderr.contains("INVALID_TOKEN"), "{}", after.stderr);

    let logout = client_command(&home, &["logout"], &[]).await;
    assert_eq!(logout.code, 0);
    assert!(!home.join("auth.json").exists());
    let nobody = client_command(&home, &["whoami"], &[]).await;
    assert_eq!(nobody.code, 1);
    assert!(nobody.stderr.contains("NOT_LOGGED_IN"));
    server.stop().await;
}

#[tokio::test]
async fn upgrade_mints_a_machine_token_without_printing_it() {
    let server = Server::start(&[]).await;
    let admin = claim(&server).await;
    let home = support::server::data_dir();
    let login = client_command(
        &home,
        &["login", "--host", &server.base, "--token", &admin],
        &[],
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let upgrade = client_command(&home, &["upgrade", "--name", "build-box"], &[]).await;
    assert_eq!(upgrade.code, 0, "{}", upgrade.stderr);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("auth.json")).unwrap()).unwrap();
    let machine = saved["token"].as_str().unwrap();
    assert_ne!(machine, admin);
    assert!(!upgrade.stdout.contains(&machine[3..]) && !upgrade.stderr.contains(&machine[3..]));
    let who = json_of(whoami(&server, machine).await).await;
    assert_eq!(who["name"], "build-box");
    server.stop().await;
}

#[tokio::test]
async fn tokens_answered_201_survive_kill_9() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let server = Server::start_in(&data, &[], &env).await;
    let admin = claim(&server).await;
    server.kill().await;
    let mut returned = vec![admin.clone()];
    for round in 0..25 {
        let server = Server::start_in(&data, &[], &env).await;
        let issued = created(
            &server,
            &admin,
            json!({ "name": format!("t{round}"), "owner": format!("o{round}") }),
        )
        .await;
        // Killed the instant the 201 arrived: nothing after it may be needed.
        server.kill().await;
        returned.push(issued["token"].as_str().unwrap().to_owned());
    }
    let server = Server::start_in(&data, &[], &env).await;
    for token in &returned {
        assert_eq!(
            whoami(&server, token).await.status(),
            StatusCode::OK,
            "a returned token was lost"
        );
    }
    let log = server.stderr();
    for token in &returned {
        assert!(
            !log.contains(&token[3..]),
            "a token reached the server's log"
        );
    }
    server.stop().await;
}
