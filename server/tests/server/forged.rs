//! Forged tokens with `--mint-key-file`: refused before any database query.

use std::os::unix::fs::PermissionsExt as _;

use super::prelude::*;
use tokenkeep::token::{MintKey, MintKeys, TokenFormat};

const KEY: &str = "8f3a6c0d9e2b4f71a5c8d3e6f0b1a2c4d5e6f708192a3b4c5d6e7f8091a2b3c4";

/// A key file only its owner reads, holding `lines`.
fn key_file(lines: &str) -> std::path::PathBuf {
    let path = support::server::data_dir().join("mint.keys");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, lines).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A well-formed `tk_` token tagged under a key the server does not hold.
fn forged() -> String {
    let theirs = MintKeys::new(MintKey::new([0x5A; 32]).unwrap());
    let format = TokenFormat::new(tokenkeep::Prefix::new("tk").unwrap()).with_mint_keys(theirs);
    let minted = format.mint(&tokenkeep::hash::TokenHasher::sha256()).unwrap();
    minted.secret.expose_secret().to_owned()
}

#[tokio::test]
async fn tokens_are_tagged_and_forged_ones_refused() {
    let path = key_file(&format!("# the current key\n{KEY}\n"));
    let path = path.display().to_string();
    let (server, admin) = claimed(&["--mint-key-file", path.as_str()]).await;
    let untagged_len = TokenFormat::new(tokenkeep::Prefix::new("tk").unwrap()).token_len();
    assert_eq!(admin.len(), untagged_len + 12, "the claimed token is tagged");
    let issued = server.created(&admin, json!({ "name": "ci" })).await;
    let token = issued["token"].as_str().unwrap();
    assert_eq!(server.whoami(token).await.status(), StatusCode::OK);
    let refused = server.whoami(&forged()).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    assert!(!server.stderr().contains(KEY), "the key never reaches the log");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_key_file_stops_the_server_naming_the_line_not_the_key() {
    let path = key_file(&format!("{KEY}\nnot-hex-{KEY}\n"));
    let data_dir = support::server::data_dir();
    let (path, data_dir) = (path.display().to_string(), data_dir.display().to_string());
    let args = ["--data-dir", data_dir.as_str(), "--mint-key-file", path.as_str(), "serve"];
    let output = support::server::run_binary(&args, &[], "").await;
    assert_ne!(output.code, 0);
    assert!(output.stderr.contains("line 2"), "{}", output.stderr);
    assert!(!output.stderr.contains(KEY), "{}", output.stderr);
    let alone = ["--data-dir", data_dir.as_str(), "--refuse-untagged-tokens", "serve"];
    let output = support::server::run_binary(&alone, &[], "").await;
    assert!(output.stderr.contains("--mint-key-file"), "{}", output.stderr);
}
