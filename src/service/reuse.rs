//! Rotation reuse detection (an opt-in policy): a token that a rotation
//! retired, presented again, burns the chain that replaced it. Whoever
//! still holds the old token may hold the new one too; revoking the
//! successors forces the owner to issue afresh, and says why.
//!
//! It burns whenever a retired token is presented anywhere, so whoever
//! holds an old leaked token can also revoke the owner's current one: a
//! denial of service the owner recovers from by issuing a new token.
//! (GitLab shipped the same rule and, after a production incident, kept
//! it only on its rotate endpoint.) Turn it on where a stolen token going
//! unnoticed is worse than that; every burn is logged at `warn` with the
//! client's address.

use std::net::IpAddr;

use crate::record::{RevokeReason, TokenRecord};
use crate::store::{ListQuery, ManageStore, Revocation};

use super::TokenService;
use super::audit::TokenPrincipal;

/// How many tokens one detection revokes at most.
const MAX_BURNT: usize = 100;

/// The principal reuse detection revokes as.
const DETECTOR: &str = "reuse-detection";

impl TokenService {
    /// Called with a token refused as revoked or expired, presented from
    /// `client`: if a rotation retired it and the policy detects reuse,
    /// revokes every active successor, and every token the retired one
    /// minted after it was rotated (a retired manager token may still
    /// mint during its grace). A store failure is logged, never the
    /// caller's answer.
    pub(super) async fn retired_token_presented(
        &self,
        retired: &TokenRecord,
        client: Option<IpAddr>,
    ) {
        let Some(store) = self.inner.reuse.get() else {
            return;
        };
        let rotated = matches!(
            retired.revoke_reason,
            Some(RevokeReason::Rotated | RevokeReason::RotationGrace)
        );
        let Some(first) = retired.replaced_by.filter(|_| rotated) else {
            return;
        };
        let revocation = Revocation::new(self.now(), DETECTOR, RevokeReason::ReuseDetected);
        let mut burnt = 0_usize;
        let mut burn = async |record: &TokenRecord| {
            if burnt < MAX_BURNT && record.is_active(revocation.at) {
                match store.revoke(&record.id, &revocation).await {
                    Ok(_) => burnt += 1,
                    Err(error) => tracing::warn!(
                        target: "tokenkeep::verify", %error,
                        "rotation reuse: a token could not be revoked"
                    ),
                }
            }
        };

        // The successors, newest last.
        let mut next = Some(first);
        let mut rotated_at = None;
        for _ in 0..MAX_BURNT {
            let Some(id) = next else { break };
            let successor = match store.get(&id).await {
                Ok(Some(successor)) => successor,
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: a successor could not be read");
                    break;
                }
            };
            // The first successor was made by the rotation that retired it.
            rotated_at.get_or_insert(successor.created_at);
            burn(&successor).await;
            next = successor.replaced_by;
        }

        // What the retired token minted once it was retired.
        if let Some(rotated_at) = rotated_at {
            for minted in minted_by(store.as_ref(), retired, rotated_at, revocation.at).await {
                burn(&minted).await;
            }
        }

        if burnt > 0 {
            tracing::warn!(
                target: "tokenkeep::verify",
                retired = %retired.id,
                owner = retired.owner.as_str(),
                client = ?client,
                revoked = burnt,
                "rotation reuse detected: the retired token's successors and what it minted since are revoked"
            );
            self.signal_change();
        }
    }
}

/// The active tokens `retired` issued at or after `since`.
async fn minted_by(
    store: &dyn ManageStore,
    retired: &TokenRecord,
    since: time::OffsetDateTime,
    now: time::OffsetDateTime,
) -> Vec<TokenRecord> {
    let principal = TokenPrincipal(retired.id).to_string();
    let query = ListQuery {
        owner: None,
        include_inactive: false,
        now,
    };
    match store.list(&query).await {
        Ok(records) => records
            .into_iter()
            .filter(|record| record.created_by.as_deref() == Some(principal.as_str()))
            .filter(|record| record.created_at >= since)
            .collect(),
        Err(error) => {
            tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: the tokens it minted could not be listed");
            Vec::new()
        }
    }
}
