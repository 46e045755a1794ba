//! Whose usage budget a verification spends: a rotation chain shares one.
//!
//! A rotation with a grace period leaves two tokens working, and the
//! successor starts with the old one's uses left. Were each to spend its
//! own copy, a token with 10 uses would give 20 successes. So a retired
//! token still in its grace spends from the newest token of its chain.

use crate::record::{TokenId, TokenRecord};
use crate::store::StoreError;

use super::TokenService;

/// How many successors are followed at most.
const MAX_CHAIN: usize = 100;

impl TokenService {
    /// The token whose uses `record`'s verification consumes: itself, or,
    /// for a token a rotation replaced, the newest of its successors.
    pub(super) async fn budget_holder(&self, record: &TokenRecord) -> Result<TokenId, StoreError> {
        let mut holder = record.id;
        let mut next = record.replaced_by;
        for _ in 0..MAX_CHAIN {
            let Some(id) = next else { break };
            match self.guarded(self.inner.store.get(&id)).await? {
                Some(successor) => {
                    holder = successor.id;
                    next = successor.replaced_by;
                }
                None => break,
            }
        }
        Ok(holder)
    }
}
