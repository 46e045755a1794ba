//! Leaked-token reports from secret scanning programs, in GitHub's partner
//! format: a program that finds tokens in public code POSTs them, signed,
//! to their issuer, which revokes the ones it issued and says which were
//! its own.
//!
//! The signature is checked over the raw body before anything in it is
//! read: an ECDSA P-256 / SHA-256 signature, base64 DER, in
//! `Github-Public-Key-Signature`, by the key named in
//! `Github-Public-Key-Identifier`, one of the program's published keys.

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::Rejection;
use crate::TokenManager;
use crate::record::RevokeReason;

/// The most tokens one report may name.
pub const MAX_REPORTED: usize = 1_000;

/// The keys a scanning program signs its reports with, as it publishes
/// them: `{"public_keys": [{"key_identifier": "…", "key": "-----BEGIN
/// PUBLIC KEY-----…", "is_current": true}, …]}` (GitHub's document at
/// `https://api.github.com/meta/public_keys/secret_scanning`). Every key
/// listed is accepted, current or not, so a report signed just before a
/// rotation still verifies.
#[derive(Clone, Debug)]
pub struct LeakReportKeys {
    keys: Vec<(String, VerifyingKey)>,
}

/// A keys document that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LeakReportKeysError {
    /// Not the JSON document above.
    #[error(
        "the keys document is not {{\"public_keys\": [{{\"key_identifier\", \"key\"}}, …]}}: {0}"
    )]
    Json(#[from] serde_json::Error),
    /// A key is not a PEM P-256 public key.
    #[error("the key {key_identifier:?} is not a PEM P-256 public key")]
    Key {
        /// The key's identifier.
        key_identifier: String,
    },
    /// The document lists no key.
    #[error("the keys document lists no key")]
    Empty,
}

#[derive(Deserialize)]
struct KeysDocument {
    public_keys: Vec<PublishedKey>,
}

#[derive(Deserialize)]
struct PublishedKey {
    key_identifier: String,
    key: String,
}

impl LeakReportKeys {
    /// Reads a keys document.
    ///
    /// # Errors
    /// [`LeakReportKeysError`] for a document that is not one, a key that
    /// is not a PEM P-256 public key, or no key at all.
    pub fn from_json(text: &str) -> Result<Self, LeakReportKeysError> {
        let document: KeysDocument = serde_json::from_str(text)?;
        let keys = document
            .public_keys
            .into_iter()
            .map(|published| match VerifyingKey::from_public_key_pem(published.key.trim()) {
                Ok(key) => Ok((published.key_identifier, key)),
                Err(_) => {
                    Err(LeakReportKeysError::Key { key_identifier: published.key_identifier })
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(LeakReportKeysError::Empty);
        }
        Ok(Self { keys })
    }

    /// Whether `signature` (base64 DER) is the key `key_id`'s over `body`.
    ///
    /// # Errors
    /// 401 `INVALID_SIGNATURE` for a missing or malformed signature or key
    /// id, an unknown key, or a signature that does not verify.
    pub fn verify(
        &self,
        body: &[u8],
        key_id: Option<&str>,
        signature: Option<&str>,
    ) -> Result<(), Rejection> {
        let refused = |message: &str| Rejection::new(401, "INVALID_SIGNATURE", message);
        let (Some(key_id), Some(signature)) = (key_id, signature) else {
            return Err(refused(
                "a report carries Github-Public-Key-Identifier and Github-Public-Key-Signature",
            ));
        };
        let key = self
            .keys
            .iter()
            .find(|(identifier, _)| identifier == key_id)
            .map(|(_, key)| key)
            .ok_or_else(|| refused("the report is signed by an unknown key"))?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| refused("the signature is not base64"))?;
        let signature =
            Signature::from_der(&der).map_err(|_| refused("the signature is not DER ECDSA"))?;
        key.verify(body, &signature).map_err(|_| refused("the signature does not verify"))
    }
}

/// One reported token, as the program sends it.
#[derive(Deserialize)]
struct Reported {
    token: String,
    #[serde(rename = "type")]
    token_type: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    source: String,
}

/// The answer for one reported token: its SHA-256 (hex), the type the
/// report gave, and `true_positive` when this service issued it (it is
/// revoked now, or was before), `false_positive` otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeakFeedback {
    token_hash: String,
    token_type: String,
    label: &'static str,
}

impl LeakFeedback {
    /// Whether this service issued the token.
    pub fn is_true_positive(&self) -> bool {
        self.label == "true_positive"
    }
}

/// Receives a report: checks its signature over the raw `body` (the
/// values of `Github-Public-Key-Identifier` and
/// `Github-Public-Key-Signature`), then revokes every reported token this
/// service issued with the reason `leaked`, recording the report's source
/// and URL as who revoked it. The same report again revokes nothing new
/// and answers the same.
///
/// # Errors
/// 401 `INVALID_SIGNATURE` before anything is read or revoked; 400
/// `INVALID_JSON` for a body that is not a list of `{token, type, url,
/// source}`, 400 `INVALID_CREDENTIALS` for more than [`MAX_REPORTED`]
/// tokens; 503 when the store cannot answer.
pub async fn receive_leak_report(
    manager: &TokenManager,
    keys: &LeakReportKeys,
    body: &[u8],
    key_id: Option<&str>,
    signature: Option<&str>,
) -> Result<Vec<LeakFeedback>, Rejection> {
    keys.verify(body, key_id, signature)?;
    let reported: Vec<Reported> = serde_json::from_slice(body).map_err(|_| {
        Rejection::new(400, "INVALID_JSON", "a report is a list of {token, type, url, source}")
    })?;
    if reported.len() > MAX_REPORTED {
        let message = format!("a report names at most {MAX_REPORTED} tokens");
        return Err(Rejection::new(400, "INVALID_CREDENTIALS", message));
    }
    let mut feedback = Vec::with_capacity(reported.len());
    for leak in reported {
        let by = revoker(&leak.source, &leak.url);
        let found = manager.revoke_presented(&leak.token, &by, RevokeReason::Leaked).await?;
        let digest = sha2::Sha256::digest(leak.token.as_bytes());
        feedback.push(LeakFeedback {
            token_hash: digest.iter().map(|byte| format!("{byte:02x}")).collect(),
            token_type: leak.token_type,
            label: if found.is_some() { "true_positive" } else { "false_positive" },
        });
    }
    Ok(feedback)
}

/// Who revoked a reported token, as the audit trail shows it: the report's
/// source and URL, without control or invisible characters, within the
/// 200 characters a principal may have.
fn revoker(source: &str, url: &str) -> String {
    let source = if source.is_empty() { "unknown source" } else { source };
    let text = format!("secret scanning ({source}): {url}");
    let shown: String = text
        .chars()
        .filter(|c| !c.is_control() && !crate::record::is_invisible(*c))
        .take(200)
        .collect();
    shown.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::revoker;

    #[test]
    fn the_revoker_is_a_valid_principal_whatever_the_report_says() {
        let long = "x".repeat(500);
        for (source, url) in
            [("content", "https://github.com/o/r/blob/x"), ("", ""), ("\u{1b}[2J", &*long)]
        {
            let by = revoker(source, url);
            assert!(crate::record::check_principal(&by).is_ok(), "{by:?}");
        }
    }
}
