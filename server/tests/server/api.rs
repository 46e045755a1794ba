//! Requests to the server under test, and the claimed-server fixture.

use std::path::Path;

use super::prelude::*;

pub(crate) fn client() -> Client {
    Client::new()
}

pub(crate) async fn json_of(response: Response) -> Value {
    let text = response.text().await.expect("a body");
    let value: Value = serde_json::from_str(&text).expect("a JSON body");
    support::server::assert_json_clean(&text, &value);
    value
}

/// Claims the instance and returns the first manager token.
pub(crate) async fn claim(server: &Server) -> String {
    let response = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": SETUP_TOKEN }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = json_of(response).await["token"].as_str().unwrap().to_owned();
    support::server::remember(&token);
    token
}

/// Requests to the server under test, as its manager or a token holder.
impl Server {
    pub(crate) async fn create(&self, manager: &str, body: Value) -> Response {
        let request = client().post(self.url("/api/auth/tokens"));
        request.bearer_auth(manager).json(&body).send().await.unwrap()
    }

    /// Creates a token and returns its view (with `token`).
    pub(crate) async fn created(&self, manager: &str, body: Value) -> Value {
        let response = self.create(manager, body).await;
        let status = response.status();
        let body = json_of(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        support::server::remember(body["token"].as_str().unwrap());
        body
    }

    /// Sends a bodiless request with a bearer token.
    pub(crate) async fn authed(&self, method: Method, path: &str, token: &str) -> Response {
        let request = client().request(method, self.url(path));
        request.bearer_auth(token).send().await.unwrap()
    }

    pub(crate) async fn whoami(&self, token: &str) -> Response {
        self.authed(Method::GET, "/api/whoami", token).await
    }
}

pub(crate) async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body = json_of(response).await;
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string());
    body
}

/// A fresh server, claimed: the server and its first manager token.
pub(crate) async fn claimed(args: &[&str]) -> (Server, String) {
    let server = Server::start(args).await;
    let manager = claim(&server).await;
    (server, manager)
}

/// As [`claimed`], on a given data directory with extra environment.
pub(crate) async fn claimed_in(
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Server, String) {
    let server = Server::start_in(data_dir, args, env).await;
    let manager = claim(&server).await;
    (server, manager)
}
