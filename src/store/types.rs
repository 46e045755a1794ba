//! The arguments of the read calls: what an implementer of
//! [`TokenStore`](super::TokenStore) receives, and nobody else needs.

use time::OffsetDateTime;

use crate::record::{TokenId, TokenRecord};

/// Which records [`TokenStore::list`](super::TokenStore::list) returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this owner's tokens; every owner's when `None`.
    pub owner: Option<String>,
    /// Also revoked and expired tokens (the audit trail).
    pub include_inactive: bool,
    /// The instant "expired" is judged at.
    pub now: OffsetDateTime,
}

impl ListQuery {
    /// Whether `record` belongs in the answer: the owner asked for (any,
    /// when none is), and active at `now` unless inactive records are
    /// asked for too. A store that filters in memory uses it as is.
    ///
    /// ```
    /// use tokenkeep::store::ListQuery;
    /// use tokenkeep::time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let id = tokenkeep::TokenId::random()?;
    /// let hash = tokenkeep::hash::TokenHasher::sha256().hash("tk_example");
    /// let name = tokenkeep::record::TokenName::new("laptop")?;
    /// let mut record = tokenkeep::TokenRecord::new(id, "alice", name, hash, now);
    /// let alices = ListQuery { owner: Some("alice".into()), include_inactive: false, now };
    /// assert!(alices.admits(&record));
    /// record.revoked_at = Some(now);
    /// assert!(!alices.admits(&record));
    /// assert!(ListQuery { include_inactive: true, ..alices }.admits(&record));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn admits(&self, record: &TokenRecord) -> bool {
        self.owner.as_deref().is_none_or(|owner| record.owner == owner)
            && (self.include_inactive || record.is_active(self.now))
    }

    /// Puts records in the order a list answers them: oldest first, then
    /// by id.
    pub fn order(records: &mut [TokenRecord]) {
        records.sort_by_key(|record| (record.created_at, record.id));
    }
}

/// One batched note that a token verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastUse {
    /// The token.
    pub id: TokenId,
    /// When it was used.
    pub at: OffsetDateTime,
}
