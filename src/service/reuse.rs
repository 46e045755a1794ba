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

use std::collections::BTreeSet;
use std::net::IpAddr;

use time::OffsetDateTime;

use crate::record::{RevokeReason, TokenId, TokenRecord};
use crate::rules::{ChainStart, apply_to_chain, revocations};
use crate::rules::{Revocation, TokenRules as _};
use crate::store::{ChangeScope, ListQuery, ManageStore, OwnerRecords};

use super::TokenService;
use super::audit::TokenPrincipal;

/// The most tokens one burn revokes in one owner's change.
const MAX_BURNT: usize = 100;

const DETECTOR: &str = "reuse-detection";

impl TokenService {
    /// Burns what follows `retired` when reuse detection is on and
    /// `retired` was retired by a rotation: in one change of its owner,
    /// every active successor; then, in one change of each owner, every
    /// token it minted once it was rotated.
    pub(super) async fn retired_token_presented(
        &self,
        retired: &TokenRecord,
        client: Option<IpAddr>,
    ) {
        let inner = &self.inner;
        let Some(store) = inner.writes.as_ref().filter(|_| inner.detect_reuse) else {
            return;
        };
        let rotated = matches!(
            retired.extras.revoke_reason,
            Some(RevokeReason::Rotated | RevokeReason::RotationGrace)
        );
        let Some(first) = retired.extras.replaced_by.filter(|_| rotated) else {
            return;
        };
        let revocation = Revocation::new(self.now(), DETECTOR, RevokeReason::ReuseDetected);
        // In one change that reads the whole chain as it is then, so a
        // successor minted meanwhile on another instance burns too. Its
        // first successor was made by the rotation that retired this token.
        let start = ChainStart {
            owner: &retired.owner,
            id: retired.id,
            successor: Some(first),
            now: revocation.at,
            owner_limits: false,
        };
        let chain = apply_to_chain(store.as_ref(), start, |_, _, chain| {
            let writes = revocations(chain.iter().copied().take(MAX_BURNT), &revocation);
            let rotated_at = chain.first().map(|successor| successor.created_at);
            let count = writes.len();
            Ok((writes, (count, rotated_at)))
        })
        .await;
        let (mut burnt, rotated_at) = match chain {
            Ok((count, Some(rotated_at))) => (count, rotated_at),
            Ok((_, None)) => return,
            Err(error) => {
                tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: the chain could not be revoked");
                return;
            }
        };

        // What the retired token minted once it was retired, of any owner.
        let principal = TokenPrincipal(retired.id).to_string();
        let minted = |record: &TokenRecord| {
            record.created_by.as_deref() == Some(principal.as_str())
                && record.created_at >= rotated_at
        };
        for owner in owners_of(store.as_ref(), revocation.at, &minted).await {
            let of_owner = |read: &OwnerRecords| -> Vec<TokenId> {
                read.records
                    .iter()
                    .filter(|record| minted(record))
                    .map(|record| record.id)
                    .take(MAX_BURNT)
                    .collect()
            };
            burnt += burn(store.as_ref(), &owner, &revocation, of_owner).await;
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

/// Revokes, in one change of `owner`'s active tokens, those `pick`
/// names; how many. A failure is logged, not passed on: the verdict
/// stands.
async fn burn(
    store: &dyn ManageStore,
    owner: &str,
    revocation: &Revocation,
    pick: impl Fn(&OwnerRecords) -> Vec<TokenId> + Send + Sync,
) -> usize {
    let scope = ChangeScope::new(owner, revocation.at);
    match store.revoke_where(scope, revocation, pick).await {
        Ok(count) => count,
        Err(error) => {
            tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: tokens could not be revoked");
            0
        }
    }
}

/// The owners of active tokens that `wanted` picks.
async fn owners_of(
    store: &dyn ManageStore,
    now: OffsetDateTime,
    wanted: &(dyn Fn(&TokenRecord) -> bool + Sync),
) -> BTreeSet<String> {
    let query = ListQuery { owner: None, include_inactive: false, now };
    match store.list(&query).await {
        Ok(records) => {
            records.into_iter().filter(|record| wanted(record)).map(|record| record.owner).collect()
        }
        Err(error) => {
            tracing::warn!(target: "tokenkeep::verify", %error, "rotation reuse: the tokens it minted could not be listed");
            BTreeSet::new()
        }
    }
}
