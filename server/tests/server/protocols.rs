//! Verify from anything that speaks HTTP: introspection (RFC 7662),
//! revocation by value (RFC 7009), bulk revocation of leaked credentials,
//! and forward auth for gateways, asked directly (the gateways themselves
//! are in `gateways.rs`).

use super::prelude::*;

async fn form(server: &Server, path: &str, bearer: Option<&str>, body: &str) -> Response {
    let request = client()
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    let request = match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

fn token_form(token: &str) -> String {
    format!("token={}&token_type_hint=access_token", token.replace('+', "%2B"))
}

async fn introspected(server: &Server, caller: &str, token: &str) -> Value {
    let response = form(server, "/oauth/introspect", Some(caller), &token_form(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    json_of(response).await
}

#[tokio::test]
async fn introspection_answers_who_a_valid_token_is_and_nothing_else() {
    let (server, admin) = claimed(&[]).await;
    let body = json!({
        "name": "deployer", "owner": "alice", "expires_in": "30d",
        "abilities": ["deploy"], "routes": [{ "path": "/docs", "access": "r" }],
    });
    let issued = server.created(&admin, body).await;
    let token = issued["token"].as_str().unwrap();
    let answer = introspected(&server, &admin, token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(
        (&answer["sub"], &answer["jti"], &answer["username"]),
        (&json!("alice"), &issued["id"], &json!("deployer"))
    );
    assert_eq!(answer["scope"], "deploy");
    assert_eq!(answer["routes"], json!([{ "path": "/docs", "access": "r" }]));
    let iat = answer["iat"].as_i64().unwrap();
    assert_eq!(answer["exp"].as_i64().unwrap() - iat, 30 * 24 * 3600);
    let manager_scope = introspected(&server, &admin, &admin).await;
    assert_eq!(manager_scope["scope"], "manager");
    assert!(manager_scope.get("exp").is_none(), "a token that never expires has no exp");

    // Unknown, malformed and revoked: `{"active": false}` and nothing else.
    let id = issued["id"].as_str().unwrap();
    let unknown = format!("tk_{}", "A".repeat(40));
    for text in [unknown.as_str(), "not a token", "tk_"] {
        assert_eq!(introspected(&server, &admin, text).await, json!({ "active": false }));
    }
    server.authed(Method::DELETE, &format!("/api/auth/tokens/{id}"), &admin).await;
    assert_eq!(introspected(&server, &admin, token).await, json!({ "active": false }));
    server.stop().await;
}

#[tokio::test]
async fn introspection_needs_a_manager_or_the_ability_and_a_token() {
    let (server, admin) = claimed(&[]).await;
    let plain = server.created(&admin, json!({ "name": "plain", "owner": "bob" })).await;
    let plain = plain["token"].as_str().unwrap();
    let asker = server
        .created(&admin, json!({ "name": "asker", "abilities": ["tokens:introspect"] }))
        .await;
    let asker = asker["token"].as_str().unwrap();

    let anonymous = form(&server, "/oauth/introspect", None, &token_form(plain)).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let forged = form(&server, "/oauth/introspect", Some("tk_forged"), &token_form(plain)).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let refused = form(&server, "/oauth/introspect", Some(plain), &token_form(plain)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert_eq!(introspected(&server, asker, plain).await["sub"], "bob");
    for body in ["", "token=", "token_type_hint=access_token"] {
        let missing = form(&server, "/oauth/introspect", Some(asker), body).await;
        assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json_of(missing).await["error"], "invalid_request");
    }
    server.stop().await;
}

#[tokio::test]
async fn introspection_never_spends_a_use() {
    let (server, admin) = claimed(&[]).await;
    let once = server.created(&admin, json!({ "name": "once", "owner": "alice", "uses": 1 })).await;
    let once = once["token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(introspected(&server, &admin, once).await["active"], true);
    }
    assert_eq!(server.whoami(once).await.status(), StatusCode::OK, "the one use is still there");
    assert_eq!(introspected(&server, &admin, once).await, json!({ "active": false }), "exhausted");
    server.stop().await;
}

#[tokio::test]
async fn the_holder_revokes_a_token_by_value_and_nothing_tells_whether_it_existed() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "laptop", "owner": "alice" })).await;
    let token = issued["token"].as_str().unwrap();
    for text in [token, token, "tk_unknown", "not a token"] {
        let response = form(&server, "/oauth/revoke", None, &token_form(text)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), "", "an empty body");
    }
    assert_eq!(server.whoami(token).await.status(), StatusCode::UNAUTHORIZED);
    let id = issued["id"].as_str().unwrap();
    let view =
        json_of(server.authed(Method::GET, &format!("/api/auth/tokens/{id}"), &admin).await).await;
    assert!(view["revoked_at"].is_string());
    assert_eq!(view["revoke_reason"], "revoked");
    let missing = form(&server, "/oauth/revoke", None, "").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(missing).await["error"], "invalid_request");
    server.stop().await;
}

async fn report_credentials(server: &Server, body: &Value) -> Response {
    client().post(server.url("/api/credentials/revoke")).json(body).send().await.unwrap()
}

#[tokio::test]
async fn leaked_credentials_are_revoked_by_whoever_found_them() {
    let (server, admin) = claimed(&[]).await;
    let leaked = server.created(&admin, json!({ "name": "leaked", "owner": "alice" })).await;
    let kept = server.created(&admin, json!({ "name": "kept", "owner": "alice" })).await;
    let body = json!({ "credentials": [leaked["token"], "tk_unknown", "garbage"] });
    let response = report_credentials(&server, &body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(json_of(response).await, json!({}));
    assert_eq!(
        server.whoami(leaked["token"].as_str().unwrap()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(server.whoami(kept["token"].as_str().unwrap()).await.status(), StatusCode::OK);
    let id = leaked["id"].as_str().unwrap();
    let view =
        json_of(server.authed(Method::GET, &format!("/api/auth/tokens/{id}"), &admin).await).await;
    assert_eq!(view["revoke_reason"], "leaked");
    let again = report_credentials(&server, &body).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED, "the same report again");
    server.stop().await;
}

#[tokio::test]
async fn a_credential_report_is_bounded() {
    let (server, _admin) = claimed(&["--credential-revoke-rate", "5"]).await;
    let none = report_credentials(&server, &json!({ "credentials": [] })).await;
    assert_eq!(none.status(), StatusCode::BAD_REQUEST);
    let many: Vec<String> = (0..1_001).map(|index| format!("tk_{index}")).collect();
    let too_many = report_credentials(&server, &json!({ "credentials": many })).await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    let huge = json!({ "credentials": ["x".repeat(2 * 1024 * 1024)] });
    let too_large = report_credentials(&server, &huge).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The two refused calls counted (a body over the limit never reaches
    // the count); three more reach the limit of five a minute.
    for _ in 0..3 {
        let response = report_credentials(&server, &json!({ "credentials": ["tk_x"] })).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let limited = report_credentials(&server, &json!({ "credentials": ["tk_x"] })).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    server.stop().await;
}

/// A forward-auth subrequest as nginx sends it.
async fn forward(server: &Server, method: &str, uri: &str, bearer: Option<&str>) -> Response {
    let request = client()
        .get(server.url("/auth/forward"))
        .header("x-original-method", method)
        .header("x-original-uri", uri);
    let request = match bearer {
        Some(token) => request.header("authorization", format!("Bearer {token}")),
        None => request,
    };
    request.send().await.unwrap()
}

#[tokio::test]
async fn forward_auth_judges_the_original_request_in_401_and_403_only() {
    let (server, admin) = claimed(&[]).await;
    let reader = json!({ "name": "reader", "owner": "alice", "routes": [{ "path": "/docs", "access": "r" }] });
    let reader = server.created(&admin, reader).await;
    let token = reader["token"].as_str().unwrap();

    let admitted = forward(&server, "GET", "/docs/a.txt?token=ignored", Some(token)).await;
    assert_eq!(admitted.status(), StatusCode::OK);
    let header = |name: &str| admitted.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(
        (header("x-token-owner"), header("x-token-name")),
        ("alice".into(), "reader".into())
    );
    assert_eq!(header("x-token-id"), reader["id"].as_str().unwrap());

    let cases = [
        ("GET", "/docs/a.txt", None, StatusCode::UNAUTHORIZED),
        ("GET", "/docs/a.txt", Some("tk_garbage"), StatusCode::UNAUTHORIZED),
        ("GET", "/docs/a.txt", Some("two words"), StatusCode::UNAUTHORIZED),
        ("PUT", "/docs/a.txt", Some(token), StatusCode::FORBIDDEN),
        ("GET", "/admin", Some(token), StatusCode::FORBIDDEN),
        ("GET", "/docs/../admin", Some(token), StatusCode::FORBIDDEN),
        ("GET", "/../../etc", Some(token), StatusCode::FORBIDDEN),
    ];
    for (method, uri, bearer, status) in cases {
        let answer = forward(&server, method, uri, bearer).await;
        assert_eq!(answer.status(), status, "{method} {uri}");
        if status == StatusCode::UNAUTHORIZED {
            assert!(answer.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        }
    }
    let caddy = client()
        .post(server.url("/auth/forward"))
        .header("x-forwarded-method", "GET")
        .header("x-forwarded-uri", "/docs/b.txt")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(caddy.status(), StatusCode::OK, "Caddy's and Traefik's headers, a manager passes");
    let misconfigured =
        client().get(server.url("/auth/forward")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(misconfigured.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn forward_auth_spends_a_use_only_when_it_admits() {
    let (server, admin) = claimed(&[]).await;
    let body = json!({ "name": "once", "owner": "alice", "uses": 1, "routes": [{ "path": "/docs", "access": "r" }] });
    let once = server.created(&admin, body).await;
    let token = once["token"].as_str().unwrap();
    assert_eq!(
        forward(&server, "PUT", "/docs/a", Some(token)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(forward(&server, "GET", "/docs/a", Some(token)).await.status(), StatusCode::OK);
    assert_eq!(
        forward(&server, "GET", "/docs/a", Some(token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}
