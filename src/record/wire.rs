//! A record's serialised form (exports, imports, snapshots): every field
//! at the top level, whichever of them the record keeps behind its box,
//! and no field it does not know.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    ExtraFields, IpNet, Metadata, RateLimit, RevokeReason, SharedLimits, TokenId, TokenKind,
    TokenName, TokenRecord, Usage,
};
use crate::hash::TokenHash;
use crate::scope::Scopes;

/// Fields added after the first release are `default`, so an older
/// export still reads.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireRecord {
    id: TokenId,
    owner: String,
    name: TokenName,
    description: Option<String>,
    hash: TokenHash,
    display_prefix: String,
    scopes: Scopes,
    profile: Option<String>,
    kind: TokenKind,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    #[serde(default)]
    replaced_by: Option<TokenId>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    revoked_by: Option<String>,
    #[serde(default)]
    revoke_reason: Option<RevokeReason>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    allowed_ips: Vec<IpNet>,
    #[serde(default)]
    owner_limits: Option<SharedLimits>,
}

impl From<TokenRecord> for WireRecord {
    fn from(record: TokenRecord) -> Self {
        let TokenRecord {
            id,
            owner,
            name,
            hash,
            display_prefix,
            scopes,
            kind,
            created_at,
            expires_at,
            last_used_at,
            revoked_at,
            created_by,
            extras,
        } = record;
        let ExtraFields {
            description,
            profile,
            replaced_by,
            revoked_by,
            revoke_reason,
            metadata,
            rate_limit,
            usage,
            allowed_ips,
            owner_limits,
        } = extras.into_fields();
        Self {
            id,
            owner,
            name,
            description,
            hash,
            display_prefix,
            scopes,
            profile,
            kind,
            created_at,
            expires_at,
            last_used_at,
            revoked_at,
            replaced_by,
            created_by,
            revoked_by,
            revoke_reason,
            metadata,
            rate_limit,
            usage,
            allowed_ips,
            owner_limits,
        }
    }
}

impl From<WireRecord> for TokenRecord {
    fn from(wire: WireRecord) -> Self {
        let extras = ExtraFields {
            description: wire.description,
            profile: wire.profile,
            replaced_by: wire.replaced_by,
            revoked_by: wire.revoked_by,
            revoke_reason: wire.revoke_reason,
            metadata: wire.metadata,
            rate_limit: wire.rate_limit,
            usage: wire.usage,
            allowed_ips: wire.allowed_ips,
            owner_limits: wire.owner_limits,
        };
        Self {
            id: wire.id,
            owner: wire.owner,
            name: wire.name,
            hash: wire.hash,
            display_prefix: wire.display_prefix,
            scopes: wire.scopes,
            kind: wire.kind,
            created_at: wire.created_at,
            expires_at: wire.expires_at,
            last_used_at: wire.last_used_at,
            revoked_at: wire.revoked_at,
            created_by: wire.created_by,
            extras: extras.into(),
        }
    }
}
