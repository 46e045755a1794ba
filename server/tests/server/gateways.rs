//! Forward auth behind the real gateways: nginx (`auth_request`) and Caddy
//! (`forward_auth`), each run from its configuration in
//! `examples/gateways/` in front of a backend that counts what reaches it.
//! Without the binaries these say SKIPPED, unless
//! `TOKENKEEP_REQUIRE_GATEWAYS` is set (as `.ci/run` sets it), where a
//! missing gateway fails.

use std::path::{Path, PathBuf};

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::prelude::*;

/// A backend that counts its requests and answers the identity headers it
/// was given, `owner|id|name`.
struct Backend {
    address: String,
    hits: Arc<AtomicUsize>,
}

async fn backend() -> Backend {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let counted = Arc::clone(&counted);
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            let header = |name: &str| {
                headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned()
            };
            format!(
                "{}|{}|{}",
                header("x-token-owner"),
                header("x-token-id"),
                header("x-token-name")
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Backend { address, hits }
}

#[derive(Clone, Copy, Debug)]
enum Gateway {
    Nginx,
    Caddy,
}

impl Gateway {
    fn binary(self) -> &'static str {
        match self {
            Self::Nginx => "nginx",
            Self::Caddy => "caddy",
        }
    }

    /// The configuration in the repository, and the address it listens on.
    fn config(self) -> (&'static str, &'static str) {
        match self {
            Self::Nginx => ("nginx.conf", "127.0.0.1:8000"),
            Self::Caddy => ("Caddyfile", "127.0.0.1:8001"),
        }
    }
}

/// A gateway process, stopped when dropped.
struct Running {
    _child: tokio::process::Child,
    address: String,
}

/// Where `binary` is installed: on the `PATH`, or in `/usr/sbin` (nginx's
/// place, not on every user's `PATH`).
fn installed(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// Starts `gateway` from its configuration, in front of `backend`, asking
/// `tokenkeep`; `None` (after saying so) when it is not installed.
async fn start(gateway: Gateway, tokenkeep: &str, backend: &str) -> Option<Running> {
    let Some(binary) = installed(gateway.binary()) else {
        assert!(
            std::env::var_os("TOKENKEEP_REQUIRE_GATEWAYS").is_none(),
            "{} is not installed, and TOKENKEEP_REQUIRE_GATEWAYS is set",
            gateway.binary()
        );
        eprintln!("SKIPPED: {} is not installed", gateway.binary());
        return None;
    };
    let (file, listens_on) = gateway.config();
    let address = free_address();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = std::fs::read_to_string(repository.join("examples/gateways").join(file)).unwrap();
    let config = config
        .replace("127.0.0.1:8080", tokenkeep)
        .replace("127.0.0.1:9000", backend)
        .replace(listens_on, &address);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-{}", tokenkeep::TokenId::random().unwrap()));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let written = dir.join(file);
    std::fs::write(&written, config).unwrap();
    let mut command = tokio::process::Command::new(binary);
    match gateway {
        Gateway::Nginx => {
            let globals = format!(
                "daemon off; master_process off; pid {}; error_log stderr;",
                dir.join("nginx.pid").display()
            );
            command.arg("-p").arg(&dir).arg("-c").arg(&written).arg("-g").arg(globals);
        }
        Gateway::Caddy => {
            command.args(["run", "--adapter", "caddyfile", "--config"]).arg(&written);
            command.env("HOME", &dir).env("XDG_DATA_HOME", &dir).env("XDG_CONFIG_HOME", &dir);
        }
    }
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true);
    let child = command.spawn().unwrap();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            return Some(Running { _child: child, address });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{gateway:?} did not start listening on {address}");
}

/// What every gateway must do with tokenkeep's forward auth.
async fn guards_the_backend(gateway: Gateway) {
    let (server, admin) = claimed(&[]).await;
    let backend = backend().await;
    let Some(running) = start(gateway, &server.address(), &backend.address).await else {
        server.stop().await;
        return;
    };
    let url = |path: &str| format!("http://{}{path}", running.address);
    let docs = json!([{ "path": "/docs", "access": "r" }]);
    let reader =
        server.created(&admin, json!({ "name": "reader", "owner": "alice", "routes": docs })).await;
    let reader_token = reader["token"].as_str().unwrap();
    let once = json!({ "name": "once", "owner": "bob", "uses": 1, "routes": docs });
    let once = server.created(&admin, once).await;
    let once = once["token"].as_str().unwrap();
    let revoked = server.created(&admin, json!({ "name": "gone", "owner": "carol" })).await;
    let revoked_id = revoked["id"].as_str().unwrap();
    server.authed(Method::DELETE, &format!("/api/auth/tokens/{revoked_id}"), &admin).await;

    // A valid token reaches the backend, which learns who it is (and not
    // who the client claims to be).
    let admitted = client()
        .get(url("/docs/a.txt?x=1"))
        .bearer_auth(reader_token)
        .header("x-token-owner", "mallory")
        .send()
        .await
        .unwrap();
    assert_eq!(admitted.status(), StatusCode::OK, "{gateway:?}");
    let identity = format!("alice|{}|reader", reader["id"].as_str().unwrap());
    assert_eq!(admitted.text().await.unwrap(), identity, "{gateway:?}");
    assert_eq!(backend.hits.load(Ordering::SeqCst), 1);

    // Every refusal stops at the gateway.
    let refused = [
        (Method::GET, "/docs/a.txt", None, StatusCode::UNAUTHORIZED),
        (Method::GET, "/docs/a.txt", Some("tk_garbage"), StatusCode::UNAUTHORIZED),
        (
            Method::GET,
            "/docs/a.txt",
            Some(revoked["token"].as_str().unwrap()),
            StatusCode::UNAUTHORIZED,
        ),
        (Method::PUT, "/docs/a.txt", Some(reader_token), StatusCode::FORBIDDEN),
        (Method::GET, "/admin/x", Some(reader_token), StatusCode::FORBIDDEN),
    ];
    for (method, path, bearer, status) in refused {
        let request = client().request(method.clone(), url(path));
        let request = match bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), status, "{gateway:?} {method} {path}");
        if status == StatusCode::UNAUTHORIZED {
            let challenge =
                answer.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            assert!(
                challenge.is_some_and(|c| c.starts_with("Bearer")),
                "{gateway:?}: the challenge"
            );
        }
    }
    assert_eq!(
        backend.hits.load(Ordering::SeqCst),
        1,
        "{gateway:?}: a refused request reached the backend"
    );

    // A usage-limited token refused by a route keeps its use.
    let put = client().put(url("/docs/a.txt")).bearer_auth(once).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::FORBIDDEN);
    let get = client().get(url("/docs/a.txt")).bearer_auth(once).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK, "{gateway:?}: the use was kept");
    let spent = client().get(url("/docs/a.txt")).bearer_auth(once).send().await.unwrap();
    assert_eq!(spent.status(), StatusCode::UNAUTHORIZED, "{gateway:?}: and then spent");
    assert_eq!(backend.hits.load(Ordering::SeqCst), 2);
    drop(running);
    server.stop().await;
}

#[tokio::test]
async fn nginx_auth_request_guards_the_backend() {
    guards_the_backend(Gateway::Nginx).await;
}

#[tokio::test]
async fn caddy_forward_auth_guards_the_backend() {
    guards_the_backend(Gateway::Caddy).await;
}
