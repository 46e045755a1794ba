//! The JSON a token is shown as: never its hash, its plaintext only in the
//! answer that created it.

use serde::Serialize;
use tokenkeep::record::{IpNet, Metadata, RateLimit, RevokeReason, TokenKind, Usage};
use tokenkeep::time::{self, OffsetDateTime};
use tokenkeep::{Scopes, TokenRecord};

#[derive(Debug, Serialize)]
pub(crate) struct TokenView {
    pub(crate) id: String,
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) prefix: String,
    pub(crate) scopes: Scopes,
    pub(crate) profile: Option<String>,
    pub(crate) kind: TokenKind,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) revoked_at: Option<OffsetDateTime>,
    pub(crate) created_by: Option<String>,
    pub(crate) revoked_by: Option<String>,
    pub(crate) revoke_reason: Option<RevokeReason>,
    pub(crate) metadata: Option<Metadata>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) usage: Option<Usage>,
    pub(crate) allowed_ips: Vec<IpNet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
}

impl TokenView {
    pub(crate) fn of(record: &TokenRecord) -> Self {
        Self {
            id: record.id.to_string(),
            owner: record.owner.clone(),
            name: record.name.to_string(),
            description: record.extras.description.clone(),
            prefix: record.display_prefix.clone(),
            scopes: record.scopes.clone(),
            profile: record.extras.profile.clone(),
            kind: record.kind,
            created_at: record.created_at,
            expires_at: record.expires_at,
            last_used_at: record.last_used_at,
            revoked_at: record.revoked_at,
            created_by: record.created_by.clone(),
            revoked_by: record.extras.revoked_by.clone(),
            revoke_reason: record.extras.revoke_reason,
            metadata: record.extras.metadata.clone(),
            rate_limit: record.extras.rate_limit,
            usage: record.extras.usage,
            allowed_ips: record.extras.allowed_ips.clone(),
            token: None,
        }
    }

    /// The view of a token just issued: the one place the plaintext appears.
    pub(crate) fn issued(issued: &tokenkeep::IssuedToken) -> Self {
        Self { token: Some(issued.token.expose_secret().to_owned()), ..Self::of(&issued.record) }
    }
}
