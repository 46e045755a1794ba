//! The token REST API: create, list, revoke, expire, rotate, revoke-all, modify; temporary tokens.

use super::prelude::*;

#[tokio::test]
async fn the_eleventh_token_is_refused() {
    let (server, admin) = claimed(&[]).await;
    for index in 0..10 {
        server.created(&admin, json!({ "name": format!("t{index}"), "owner": "alice" })).await;
    }
    let eleventh = server.create(&admin, json!({ "name": "t10", "owner": "alice" })).await;
    assert_error(eleventh, StatusCode::CONFLICT, "TOKEN_LIMIT_REACHED").await;
    let taken = server.create(&admin, json!({ "name": "admin" })).await;
    assert_error(taken, StatusCode::CONFLICT, "NAME_TAKEN").await;
    server.stop().await;
}

#[tokio::test]
async fn lists_never_show_secrets_or_hashes() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin,
        json!({ "name": "laptop", "owner": "alice", "description": "mine", "profile": "staging" }),
    )
    .await;
    let secret = issued["token"].as_str().unwrap();
    let list = server
        .authed(Method::GET, "/api/auth/tokens?owner=alice", &admin)
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
        .get(server.url(&format!("/api/auth/tokens/{}", view["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(json_of(one).await.get("token").is_none());
    let missing = server.authed(Method::GET, "/api/auth/tokens/nope", &admin).await;
    assert_error(missing, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_token_answers_401_with_the_challenge() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "laptop" })).await;
    let token = issued["token"].as_str().unwrap();
    assert_eq!(server.whoami(token).await.status(), StatusCode::OK);
    let revoke = client()
        .delete(server.url(&format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let refused = server.whoami(token).await;
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Bearer realm="tokenkeep", error="invalid_token""#
    );
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;

    let missing = client().get(server.url("/api/whoami")).send().await.unwrap();
    assert_eq!(missing.headers()["www-authenticate"], r#"Bearer realm="tokenkeep""#);
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let malformed = client()
        .get(server.url("/api/whoami"))
        .header("authorization", "Bearer a b")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let listed = server.authed(Method::GET, "/api/auth/tokens?include_revoked=true", &admin).await;
    let listed = json_of(listed).await;
    assert!(listed.as_array().unwrap().iter().any(|t| t["revoked_at"].is_string()), "audit trail");
    server.stop().await;
}

#[tokio::test]
async fn an_expired_token_answers_401() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "brief", "expires_in": "1s" })).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let refused = server.whoami(issued["token"].as_str().unwrap()).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    server.stop().await;
}

#[tokio::test]
async fn rotation_replaces_the_secret() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "ci", "expires_in": "30d" })).await;
    let rotate = |id: &str, body: Value| {
        client()
            .post(server.url(&format!("/api/auth/tokens/{id}/rotate")))
            .bearer_auth(admin.clone())
            .json(&body)
            .send()
    };
    let graced = rotate(issued["id"].as_str().unwrap(), json!({ "grace": "10m" })).await.unwrap();
    assert_eq!(graced.status(), StatusCode::CREATED);
    let graced = json_of(graced).await;
    assert_eq!(graced["name"], "ci");
    assert_eq!(graced["expires_at"], issued["expires_at"]);
    assert_eq!(server.whoami(issued["token"].as_str().unwrap()).await.status(), StatusCode::OK);
    assert_eq!(server.whoami(graced["token"].as_str().unwrap()).await.status(), StatusCode::OK);

    let now = rotate(graced["id"].as_str().unwrap(), json!({})).await.unwrap();
    let now = json_of(now).await;
    assert_eq!(
        server.whoami(graced["token"].as_str().unwrap()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(server.whoami(now["token"].as_str().unwrap()).await.status(), StatusCode::OK);
    let bad = rotate(now["id"].as_str().unwrap(), json!({ "grace": "-1m" })).await.unwrap();
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_DURATION").await;

    // Who rotated each, and why it stops.
    let manager_id = json_of(server.whoami(&admin).await).await["token_id"].clone();
    let rotator = format!("token:{}", manager_id.as_str().unwrap());
    let view = |id: &Value| {
        let path = format!("/api/auth/tokens/{}", id.as_str().unwrap());
        let (server, admin) = (&server, admin.clone());
        async move { json_of(server.authed(Method::GET, &path, &admin).await).await }
    };
    let first = view(&issued["id"]).await;
    assert_eq!(first["revoke_reason"], "rotation_grace");
    assert_eq!(first["revoked_by"], rotator.as_str());
    assert!(first["revoked_at"].is_null());
    let second = view(&graced["id"]).await;
    assert_eq!(second["revoke_reason"], "rotated");
    assert_eq!(second["created_by"], rotator.as_str());
    assert_eq!(view(&now["id"]).await["revoke_reason"], Value::Null);
    server.stop().await;
}

#[tokio::test]
async fn temporary_tokens_vanish_on_restart() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let server = Server::start_in(&data, &["--token", "root:root-secret"], &env).await;
    let who = json_of(server.whoami("root-secret").await).await;
    assert_eq!(who["name"], "root");
    let made =
        server.created("root-secret", json!({ "name": "made-by-root", "owner": "bob" })).await;
    let listed = server.authed(Method::GET, "/api/auth/tokens", "root-secret").await;
    let kinds: Vec<Value> =
        json_of(listed).await.as_array().unwrap().iter().map(|t| t["kind"].clone()).collect();
    assert!(kinds.contains(&json!("temporary")) && kinds.contains(&json!("persistent")));
    let status = client().get(server.url("/api/setup/status")).send().await.unwrap();
    assert_eq!(json_of(status).await["claimed"], true, "the stored token claimed it, not root");
    // Revoking it would not outlive a restart: refused, saying what to do.
    let root_id = who["token_id"].as_str().unwrap();
    let path = format!("/api/auth/tokens/{root_id}");
    let revoke = server.authed(Method::DELETE, &path, "root-secret").await;
    let body = assert_error(revoke, StatusCode::CONFLICT, "TOKEN_TEMPORARY").await;
    assert!(body["message"].as_str().unwrap().contains("configuration"), "{body}");
    server.stop().await;

    let restarted = Server::start_in(&data, &[], &env).await;
    assert_eq!(restarted.whoami("root-secret").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(restarted.whoami(made["token"].as_str().unwrap()).await.status(), StatusCode::OK);
    restarted.stop().await;
}

#[tokio::test]
async fn revoke_all_revokes_one_owner() {
    let (server, admin) = claimed(&[]).await;
    let a1 = server.created(&admin, json!({ "name": "a1", "owner": "alice" })).await;
    server.created(&admin, json!({ "name": "a2", "owner": "alice" })).await;
    let bob = server.created(&admin, json!({ "name": "b", "owner": "bob" })).await;
    let response = server.authed(Method::POST, "/api/owners/alice/revoke-all", &admin).await;
    assert_eq!(json_of(response).await, json!({ "revoked": 2 }));
    assert_eq!(
        server.whoami(a1["token"].as_str().unwrap()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(server.whoami(bob["token"].as_str().unwrap()).await.status(), StatusCode::OK);
    let plain = bob["token"].as_str().unwrap();
    let refused = server.authed(Method::POST, "/api/owners/bob/revoke-all", plain).await;
    assert_error(refused, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    let path = format!("/api/auth/tokens/{}", a1["id"].as_str().unwrap());
    let revoked = json_of(server.authed(Method::GET, &path, &admin).await).await;
    assert_eq!(revoked["revoke_reason"], "revoke_all");
    assert!(revoked["revoked_by"].as_str().unwrap().starts_with("token:"));
    assert!(revoked["created_by"].as_str().unwrap().starts_with("token:"));
    server.stop().await;
}

#[tokio::test]
async fn patch_changes_name_and_scopes() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "ci" })).await;
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
    assert_eq!(put.status(), StatusCode::CREATED, "the change applies at once");
    server.stop().await;
}

/// Two PATCHes of different fields of one token, sent at once, both land:
/// one narrowing the routes was lost to one setting abilities in 28 of 40
/// runs when the server rebuilt the scopes from an earlier read.
#[tokio::test]
async fn concurrent_patches_of_different_fields_both_land() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "ci" })).await;
    let path = server.url(&format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap()));
    for round in 0..20 {
        let route = format!("/r{round}");
        let ability = format!("a{round}");
        let patch =
            |body: Value| client().patch(path.clone()).bearer_auth(&admin).json(&body).send();
        let (routes, abilities) = tokio::join!(
            patch(json!({ "routes": [{ "path": route, "access": "r" }] })),
            patch(json!({ "abilities": [ability] })),
        );
        assert_eq!(routes.unwrap().status(), StatusCode::OK);
        assert_eq!(abilities.unwrap().status(), StatusCode::OK);
        let view =
            json_of(client().get(path.clone()).bearer_auth(&admin).send().await.unwrap()).await;
        assert_eq!(view["scopes"]["routes"][0]["path"], route, "round {round}: {view}");
        assert_eq!(view["scopes"]["abilities"][0], ability, "round {round}: {view}");
    }
    server.stop().await;
}

/// Temporary tokens out of `ps`: from `TOKENKEEP_TOKENS` (a legacy single
/// admin bearer among them) and from a file, never from argv.
#[tokio::test]
async fn temporary_tokens_come_from_the_environment_or_a_file() {
    let data = support::server::data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("tokens.txt");
    std::fs::write(&file, "ops:ops-secret-from-file\n\n").unwrap();
    let file_text = file.display().to_string();

    // Readable by others (the default umask's 0644): refused, with the fix.
    let data_text = data.display().to_string();
    let args = ["--data-dir", &data_text, "--token-file", &file_text, "token", "list"];
    let refused = support::server::run_binary(&args, &[], "").await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("ops-secret"), "{}", refused.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let env = [
        ("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN),
        ("TOKENKEEP_TOKENS", "admin:legacy-admin-bearer,ci:ci-secret-value"),
        ("TOKENKEEP_TOKEN_FILE", file_text.as_str()),
    ];
    let server = Server::start_in(&data, &[], &env).await;
    for (secret, name) in [
        ("legacy-admin-bearer", "admin"),
        ("ci-secret-value", "ci"),
        ("ops-secret-from-file", "ops"),
    ] {
        let who = json_of(server.whoami(secret).await).await;
        assert_eq!(who["name"], name, "{who}");
        assert_eq!(who["scopes"]["manager"], true, "{who}");
    }
    assert!(
        !server.stderr().contains("legacy-admin-bearer"),
        "the server never prints a temporary secret"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_lifetime_policy_refuses_tokens_that_would_live_too_long() {
    let (server, admin) = claimed(&["--max-token-lifetime", "30d"]).await;
    let forever = server.create(&admin, json!({ "name": "forever" })).await;
    assert_error(forever, StatusCode::BAD_REQUEST, "LIFETIME_TOO_LONG").await;
    let long = server.create(&admin, json!({ "name": "long", "expires_in": "31d" })).await;
    assert_error(long, StatusCode::BAD_REQUEST, "LIFETIME_TOO_LONG").await;
    let ok = server.created(&admin, json!({ "name": "ok", "expires_in": "30d" })).await;
    assert!(ok["expires_at"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn managers_list_the_tokens_about_to_expire_soonest_first() {
    let (server, admin) = claimed(&[]).await;
    let week = server.created(&admin, json!({ "name": "week", "expires_in": "6d" })).await;
    let days = server.created(&admin, json!({ "name": "days", "expires_in": "2d" })).await;
    server.created(&admin, json!({ "name": "month", "expires_in": "30d" })).await;
    server.created(&admin, json!({ "name": "never" })).await;
    let listed = server.authed(Method::GET, "/api/auth/tokens?expiring_within=7d", &admin).await;
    let names: Vec<Value> =
        json_of(listed).await.as_array().unwrap().iter().map(|view| view["id"].clone()).collect();
    assert_eq!(names, [days["id"].clone(), week["id"].clone()]);
    let bad = server.authed(Method::GET, "/api/auth/tokens?expiring_within=soon", &admin).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_DURATION").await;
    let plain = days["token"].as_str().unwrap();
    let refused = server.authed(Method::GET, "/api/auth/tokens?expiring_within=7d", plain).await;
    assert_error(refused, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    server.stop().await;
}

#[tokio::test]
async fn metadata_is_set_shown_with_whoami_replaced_and_cleared() {
    let (server, admin) = claimed(&[]).await;
    let issued = server
        .created(&admin, json!({ "name": "api", "metadata": { "plan": "pro", "seats": 3 } }))
        .await;
    assert_eq!(issued["metadata"], json!({ "plan": "pro", "seats": 3 }));
    let token = issued["token"].as_str().unwrap();
    let me = json_of(server.whoami(token).await).await;
    assert_eq!(me["metadata"]["plan"], "pro");

    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    let patch =
        |body: Value| client().patch(server.url(&path)).bearer_auth(&admin).json(&body).send();
    let replaced = json_of(patch(json!({ "metadata": { "plan": "team" } })).await.unwrap()).await;
    assert_eq!(replaced["metadata"], json!({ "plan": "team" }));
    let renamed = json_of(patch(json!({ "name": "api-2" })).await.unwrap()).await;
    assert_eq!(renamed["metadata"], json!({ "plan": "team" }), "kept");
    let cleared = json_of(patch(json!({ "metadata": null })).await.unwrap()).await;
    assert_eq!(cleared["metadata"], Value::Null);

    let array = patch(json!({ "metadata": [1, 2] })).await.unwrap();
    assert_error(array, StatusCode::BAD_REQUEST, "INVALID_METADATA").await;
    let huge = json!({ "name": "huge", "metadata": { "blob": "x".repeat(5000) } });
    let refused = server.create(&admin, huge).await;
    assert_error(refused, StatusCode::BAD_REQUEST, "INVALID_METADATA").await;
    server.stop().await;
}

#[tokio::test]
async fn a_rate_limited_token_answers_429_with_retry_after() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "ci", "rate_limit": "2/1m" })).await;
    assert_eq!(issued["rate_limit"], "2/1m");
    let token = issued["token"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(server.whoami(token).await.status(), StatusCode::OK);
    }
    let refused = server.whoami(token).await;
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    let bad = server.create(&admin, json!({ "name": "bad", "rate_limit": "lots" })).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_RATE_LIMIT").await;
    server.stop().await;
}

#[tokio::test]
async fn a_token_with_uses_answers_401_once_they_are_spent() {
    let (server, admin) = claimed(&[]).await;
    let issued =
        server.created(&admin, json!({ "name": "twice", "uses": 2, "uses_refill": "2/1d" })).await;
    assert_eq!(issued["usage"]["remaining"], 2);
    assert_eq!(issued["usage"]["refill_to"], 2);
    let token = issued["token"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(server.whoami(token).await.status(), StatusCode::OK);
    }
    let spent = server.whoami(token).await;
    assert_error(spent, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    let view = json_of(server.authed(Method::GET, &path, &admin).await).await;
    assert_eq!(view["usage"]["remaining"], 0);
    let bad =
        server.create(&admin, json!({ "name": "bad", "uses": 1, "uses_refill": "often" })).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_USAGE").await;
    server.stop().await;
}

/// A request refused before verification (a path that escapes its root, a
/// WebSocket request without the handshake) or by its route (a write, a
/// manager's route) never consumes the token's one use.
#[tokio::test]
async fn requests_refused_before_or_by_their_route_keep_the_tokens_uses() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin,
        json!({ "name": "once", "uses": 1, "routes": [{ "path": "/releases", "access": "r" }] }),
    )
    .await;
    let token = issued["token"].as_str().unwrap();
    let address = server.address();
    let escaping = raw_request(&address, "GET", "/files/releases/%2F..%2Fx", token).await;
    assert_eq!(escaping, 400);
    let not_a_handshake =
        client().get(server.url(&format!("/ws?token={token}"))).send().await.unwrap();
    assert_eq!(not_a_handshake.status(), StatusCode::BAD_REQUEST);
    let write = client()
        .put(server.url("/files/releases/x"))
        .bearer_auth(token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let managing = server.authed(Method::GET, "/api/auth/tokens", token).await;
    assert_eq!(managing.status(), StatusCode::FORBIDDEN);

    assert_eq!(server.whoami(token).await.status(), StatusCode::OK);
    let spent = server.whoami(token).await;
    assert_error(spent, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    server.stop().await;
}

#[tokio::test]
async fn a_retired_token_presented_again_burns_its_successor() {
    let (server, admin) = claimed(&["--detect-rotation-reuse"]).await;
    let old = server.created(&admin, json!({ "name": "ci" })).await;
    let path = format!("/api/auth/tokens/{}/rotate", old["id"].as_str().unwrap());
    let rotated =
        client().post(server.url(&path)).bearer_auth(&admin).json(&json!({})).send().await.unwrap();
    let new = json_of(rotated).await;
    support::server::remember(new["token"].as_str().unwrap());
    let new_token = new["token"].as_str().unwrap();
    assert_eq!(server.whoami(new_token).await.status(), StatusCode::OK);
    let stolen = server.whoami(old["token"].as_str().unwrap()).await;
    assert_error(stolen, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    assert_eq!(server.whoami(new_token).await.status(), StatusCode::UNAUTHORIZED);
    let view_path = format!("/api/auth/tokens/{}", new["id"].as_str().unwrap());
    let view = json_of(server.authed(Method::GET, &view_path, &admin).await).await;
    assert_eq!(view["revoke_reason"], "reuse_detected");
    server.stop().await;
}

#[tokio::test]
async fn address_allow_lists_hold_and_forwarded_addresses_count_only_from_trusted_proxies() {
    let (server, admin) = claimed(&["--trusted-proxy", "127.0.0.1/32"]).await;
    let local =
        server.created(&admin, json!({ "name": "local", "allowed_ips": ["127.0.0.0/8"] })).await;
    assert_eq!(local["allowed_ips"], json!(["127.0.0.0/8"]));
    let office =
        server.created(&admin, json!({ "name": "office", "allowed_ips": ["10.0.0.0/8"] })).await;
    let whoami_from = |token: &str, forwarded: Option<&str>| {
        let mut request = client().get(server.url("/api/whoami")).bearer_auth(token);
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        request.send()
    };
    let local = local["token"].as_str().unwrap();
    let office = office["token"].as_str().unwrap();
    assert_eq!(whoami_from(local, None).await.unwrap().status(), StatusCode::OK);
    let outside = whoami_from(office, None).await.unwrap();
    assert_error(outside, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    let proxied = whoami_from(office, Some("10.20.30.40")).await.unwrap();
    assert_eq!(proxied.status(), StatusCode::OK, "behind the trusted proxy");
    let bad = server.create(&admin, json!({ "name": "bad", "allowed_ips": ["nowhere"] })).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_ADDRESS_RANGE").await;
    server.stop().await;
}
