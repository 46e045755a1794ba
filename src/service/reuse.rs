//! Rotation reuse detection (an opt-in policy): a token that a rotation
//! retired, presented again, burns the chain that replaced it. Whoever
//! still holds the old token may hold the new one too; revoking the
//! successors forces the owner to issue afresh, and says why.

use crate::record::{RevokeReason, TokenRecord};
use crate::store::Revocation;

use super::TokenService;

/// How many successors one detection follows at most.
const MAX_CHAIN: usize = 100;

/// The principal reuse detection revokes as.
const DETECTOR: &str = "reuse-detection";

impl TokenService {
    /// Called with a token refused as revoked or expired: if a rotation
    /// retired it and the policy detects reuse, revokes every active
    /// successor. A store failure is logged, never the caller's answer.
    pub(super) async fn retired_token_presented(&self, retired: &TokenRecord) {
        let Some(store) = self.inner.reuse.get() else {
            return;
        };
        let rotated = matches!(
            retired.revoke_reason,
            Some(RevokeReason::Rotated | RevokeReason::RotationGrace)
        );
        let Some(mut next) = retired.replaced_by.filter(|_| rotated) else {
            return;
        };
        let revocation = Revocation::new(self.now(), DETECTOR, RevokeReason::ReuseDetected);
        let mut burnt = 0_usize;
        for _ in 0..MAX_CHAIN {
            let successor = match store.get(&next).await {
                Ok(Some(successor)) => successor,
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: a successor could not be read");
                    break;
                }
            };
            if successor.is_active(revocation.at) {
                match store.revoke(&successor.id, &revocation).await {
                    Ok(_) => burnt += 1,
                    Err(error) => {
                        tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: a successor could not be revoked");
                    }
                }
            }
            match successor.replaced_by {
                Some(after) => next = after,
                None => break,
            }
        }
        if burnt > 0 {
            tracing::warn!(
                target: "tokenkeep::verify",
                retired = %retired.id,
                owner = retired.owner.as_str(),
                revoked = burnt,
                "rotation reuse detected: the retired token's successors are revoked"
            );
            self.signal_change();
        }
    }
}
