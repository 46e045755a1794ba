//! Limits an owner's tokens share: `GET` and `PUT /api/owners/{owner}/limits`.

use super::prelude::*;

impl Server {
    /// Sends `body` to the owner's limits as `manager`.
    pub(crate) async fn put_limits(&self, manager: &str, owner: &str, body: Value) -> Response {
        let request = client().put(self.url(&format!("/api/owners/{owner}/limits")));
        request.bearer_auth(manager).json(&body).send().await.unwrap()
    }

    /// The owner's limits as `manager` reads them.
    pub(crate) async fn limits(&self, manager: &str, owner: &str) -> Value {
        let path = format!("/api/owners/{owner}/limits");
        let response = self.authed(Method::GET, &path, manager).await;
        assert_eq!(response.status(), StatusCode::OK);
        json_of(response).await
    }
}

#[tokio::test]
async fn an_owners_tokens_share_one_budget_and_a_refused_request_spends_none() {
    let (server, admin) = claimed(&[]).await;
    let before = server.created(&admin, json!({ "name": "before", "owner": "alice" })).await;
    let unset = server.limits(&admin, "alice").await;
    assert_eq!(unset, json!({ "owner": "alice", "rate_limit": null, "usage": null }));

    let set = server.put_limits(&admin, "alice", json!({ "uses": 3, "uses_refill": "3/1d" })).await;
    assert_eq!(set.status(), StatusCode::OK);
    let set = json_of(set).await;
    assert_eq!(
        (set["owner"].clone(), set["usage"]["remaining"].clone()),
        (json!("alice"), json!(3))
    );
    assert_eq!(set["usage"]["refill_to"], 3);

    let docs = json!([{ "path": "/docs", "access": "r" }]);
    let after =
        server.created(&admin, json!({ "name": "after", "owner": "alice", "routes": docs })).await;
    let bob = server.created(&admin, json!({ "name": "bob", "owner": "bob" })).await;
    let token = |view: &Value| view["token"].as_str().unwrap().to_owned();
    let (before, after, bob) = (token(&before), token(&after), token(&bob));

    // A request its route refuses spends nothing of the owner's budget.
    let refused = server.authed(Method::GET, "/files/private/a.txt", &after).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.limits(&admin, "alice").await["usage"]["remaining"], 3);

    let mut statuses = Vec::new();
    for round in 0..6 {
        let holder = if round % 2 == 0 { &before } else { &after };
        statuses.push(server.whoami(holder).await.status());
    }
    let ok = statuses.iter().filter(|status| **status == StatusCode::OK).count();
    assert_eq!(ok, 3, "three uses between two tokens: {statuses:?}");
    assert!(statuses[3..].iter().all(|status| *status == StatusCode::UNAUTHORIZED));
    assert_eq!(server.limits(&admin, "alice").await["usage"]["remaining"], 0);
    assert_eq!(server.whoami(&bob).await.status(), StatusCode::OK, "another owner is not limited");

    // Only the rate changes: the spent budget stays spent.
    let rate = server.put_limits(&admin, "alice", json!({ "rate_limit": "100/1m" })).await;
    let rate = json_of(rate).await;
    assert_eq!(
        (rate["rate_limit"].clone(), rate["usage"]["remaining"].clone()),
        (json!("100/1m"), json!(0))
    );
    // Lifted, the owner's tokens verify again.
    let lifted =
        server.put_limits(&admin, "alice", json!({ "uses": null, "rate_limit": null })).await;
    assert_eq!(
        json_of(lifted).await,
        json!({ "owner": "alice", "rate_limit": null, "usage": null })
    );
    assert_eq!(server.whoami(&before).await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn owner_limits_are_a_managers_and_bad_ones_are_refused_whole() {
    let (server, admin) = claimed(&[]).await;
    let alice = server.created(&admin, json!({ "name": "laptop", "owner": "alice" })).await;
    let alice = alice["token"].as_str().unwrap();
    let path = "/api/owners/alice/limits";
    let own = server.authed(Method::GET, path, alice).await;
    assert_error(own, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    let lifted = server.put_limits(alice, "alice", json!({ "uses": null })).await;
    assert_error(lifted, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    let anonymous = client().get(server.url(path)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    for bad in [
        json!({ "rate_limit": "fast" }),
        json!({ "rate_limit": 5 }),
        json!({ "uses": -1 }),
        json!({ "uses": "ten" }),
        json!({ "uses": 2_000_000_000u64 }),
        json!({ "uses_refill": "5/1d" }),
        json!({ "uses": 5, "uses_refill": "often" }),
        json!({ "uses": 5, "extra": true }),
    ] {
        let response = server.put_limits(&admin, "alice", bad.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let not_json = client().put(server.url(path)).bearer_auth(&admin);
    let not_json =
        not_json.header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let unchanged = server.limits(&admin, "alice").await;
    assert_eq!(unchanged, json!({ "owner": "alice", "rate_limit": null, "usage": null }));
    server.stop().await;
}
