//! Leaked-token reports in GitHub's secret scanning partner format, signed
//! with a key pair of the test's own.

use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;

use super::prelude::*;

const KEY_ID: &str = "test-key-1";

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

/// A keys document listing `key`'s public half, written to a file.
fn keys_file(key: &SigningKey) -> std::path::PathBuf {
    let pem = key.verifying_key().to_public_key_pem(Default::default()).unwrap();
    let document =
        json!({ "public_keys": [{ "key_identifier": KEY_ID, "key": pem, "is_current": true }] });
    let path = support::server::data_dir().with_extension("keys.json");
    std::fs::write(&path, document.to_string()).unwrap();
    path
}

async fn report(
    server: &Server,
    body: &str,
    key_id: Option<&str>,
    signature: Option<String>,
) -> Response {
    let mut request = client()
        .post(server.url("/api/secret-scanning"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(key_id) = key_id {
        request = request.header("github-public-key-identifier", key_id);
    }
    if let Some(signature) = signature {
        request = request.header("github-public-key-signature", signature);
    }
    request.send().await.unwrap()
}

fn signed(key: &SigningKey, body: &str) -> String {
    let signature: Signature = key.sign(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes())
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test]
async fn a_signed_report_revokes_what_this_server_issued() {
    let key = signing_key(7);
    let keys = keys_file(&key);
    let (server, admin) = claimed(&["--leak-report-keys", keys.to_str().unwrap()]).await;
    let leaked = server.created(&admin, json!({ "name": "leaked", "owner": "alice" })).await;
    let token = leaked["token"].as_str().unwrap();
    let body = json!([
        { "token": token, "type": "tokenkeep_token", "url": "https://github.com/o/r/blob/main/.env", "source": "content" },
        { "token": "tk_not_ours", "type": "tokenkeep_token", "url": "https://example.com", "source": "gist" },
    ])
    .to_string();
    let answer = report(&server, &body, Some(KEY_ID), Some(signed(&key, &body))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    // Not `json_of`: the partner format answers each reported token's
    // SHA-256, which a server hashing with plain SHA-256 also stores; only
    // the signed reporter, who holds the token, ever sees it.
    let feedback: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert_eq!(feedback[0]["label"], "true_positive");
    assert_eq!(feedback[0]["token_type"], "tokenkeep_token");
    assert_eq!(feedback[0]["token_hash"], sha256_hex(token));
    assert_eq!(feedback[1]["label"], "false_positive");
    assert_eq!(server.whoami(token).await.status(), StatusCode::UNAUTHORIZED);
    let id = leaked["id"].as_str().unwrap();
    let view =
        json_of(server.authed(Method::GET, &format!("/api/auth/tokens/{id}"), &admin).await).await;
    assert_eq!(view["revoke_reason"], "leaked");
    assert_eq!(
        view["revoked_by"], "secret scanning (content): https://github.com/o/r/blob/main/.env",
        "the report's source and URL are in the audit trail"
    );
    let revoked_at = view["revoked_at"].clone();

    // The same report again: nothing new revoked, the same answer.
    let again = report(&server, &body, Some(KEY_ID), Some(signed(&key, &body))).await;
    let again: Value = serde_json::from_str(&again.text().await.unwrap()).unwrap();
    assert_eq!(again, feedback);
    let view =
        json_of(server.authed(Method::GET, &format!("/api/auth/tokens/{id}"), &admin).await).await;
    assert_eq!(view["revoked_at"], revoked_at);
    server.stop().await;
}

#[tokio::test]
async fn a_report_not_signed_by_a_known_key_revokes_nothing() {
    let key = signing_key(7);
    let keys = keys_file(&key);
    let (server, admin) = claimed(&["--leak-report-keys", keys.to_str().unwrap()]).await;
    let issued = server.created(&admin, json!({ "name": "kept", "owner": "alice" })).await;
    let token = issued["token"].as_str().unwrap();
    let body =
        json!([{ "token": token, "type": "t", "url": "u", "source": "content" }]).to_string();
    let other = signing_key(9);
    let tampered = body.replace("content", "commit");
    let attempts = [
        (Some(KEY_ID), Some(signed(&other, &body)), "a wrong key"),
        (Some("unknown-key"), Some(signed(&key, &body)), "an unknown key id"),
        (Some(KEY_ID), None, "no signature"),
        (None, Some(signed(&key, &body)), "no key id"),
        (Some(KEY_ID), Some("bm90IGEgc2lnbmF0dXJl".to_owned()), "a malformed signature"),
    ];
    for (key_id, signature, what) in attempts {
        let answer = report(&server, &body, key_id, signature).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    let answer = report(&server, &tampered, Some(KEY_ID), Some(signed(&key, &body))).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "a body changed after signing");
    let huge = format!("[{}]", " ".repeat(2 * 1024 * 1024));
    let answer = report(&server, &huge, Some(KEY_ID), Some(signed(&key, &huge))).await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.whoami(token).await.status(), StatusCode::OK, "nothing was revoked");
    server.stop().await;
}

#[tokio::test]
async fn without_keys_the_receiver_is_not_there() {
    let (server, _admin) = claimed(&[]).await;
    let answer = report(&server, "[]", Some(KEY_ID), Some("x".to_owned())).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}
