//! No `Debug`, `Display`, error or serialised record ever shows a plaintext.
#![cfg(feature = "management")]

use crate::support::Calls as _;
use crate::support::service;
use tokenkeep::{Actor, IssueRequest, Requirement, TokenRef};

#[tokio::test]
async fn the_plaintext_never_shows() {
    let (service, _) = service();
    let issued = service.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let plaintext = issued.token.expose_secret().to_owned();
    let secret_part = &plaintext[3..];

    let who = service.service().verify_token(&plaintext, Requirement::Manager).await;
    let mut tampered = plaintext.clone();
    tampered.push('x');
    let malformed = service.refused(&tampered).await;
    let header = format!("Bearer {plaintext} extra");
    let bad_header =
        service.service().verify_bearer(Some(&header), Requirement::None).await.unwrap_err();
    service.admin_revoke(issued.record.id).await;
    let revoked = service.refused(&plaintext).await;
    let record = service.get(&Actor::Admin, &TokenRef::id(issued.record.id)).await.unwrap();

    let shown = [
        format!("{issued:?}"),
        format!("{:#?}", issued.token),
        issued.token.to_string(),
        format!("{who:?}"),
        format!("{malformed} {malformed:?}"),
        format!("{bad_header} {bad_header:?}"),
        format!("{revoked} {revoked:?}"),
        format!("{record:?}"),
        serde_json::to_string(&record).unwrap(),
        format!("{service:?}"),
    ];
    for text in shown {
        assert!(!text.contains(secret_part), "plaintext in: {text}");
        assert!(
            !text.contains(&record.hash.to_hex()) || text.starts_with('{'),
            "full hash in: {text}"
        );
    }
}

/// The scanning pattern the reference server's guide gives operators for a
/// secret scanning program holds for every minted token: `PREFIX_`, then
/// 38 base64url characters, the last 6 the CRC-32 of everything before
/// them, big-endian with four zero bits, in base64url.
#[test]
fn the_documented_scanning_pattern_matches_every_minted_token() {
    use base64::Engine as _;
    let format = tokenkeep::token::TokenFormat::new(tokenkeep::Prefix::new("tk").unwrap());
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    for _ in 0..200 {
        let minted = format.mint(&hasher).unwrap();
        let text = minted.secret.expose_secret();
        let rest = text.strip_prefix("tk_").expect("the prefix");
        assert_eq!(rest.len(), 38, "{text}");
        let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        assert!(rest.chars().all(base64url), "{text}");
        let (body, check) = text.split_at(text.len() - 6);
        // 32 bits in base64url without padding: six characters, the last
        // holding two bits and four zero bits.
        let crc = crc32fast::hash(body.as_bytes()).to_be_bytes();
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crc);
        assert_eq!(check, encoded, "{text}");
    }
}
