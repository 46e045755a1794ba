//! The fields most tokens leave unset, kept behind one allocation that is
//! made only when one of them is set: a record without any is a pointer
//! smaller by the 200-odd bytes they would take inline.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::{IpNet, Metadata, RateLimit, RevokeReason, SharedLimits, TokenId, Usage};

/// A token's rarely set fields: its description and profile, its limits,
/// its address list, its metadata, and what its revocation or rotation
/// recorded.
///
/// Reached through [`TokenRecord::extras`](super::TokenRecord::extras),
/// which reads as these fields (all unset when the record has none) and
/// allocates them on the first write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtraFields {
    /// Optional free text.
    pub description: Option<String>,
    /// An application-defined narrowing of what the token sees.
    pub profile: Option<String>,
    /// Set by a rotation: the replacement's id. With a grace period the old
    /// token keeps working until its (shortened) expiry, still counting
    /// toward the owner's cap, but no longer holds its name.
    pub replaced_by: Option<TokenId>,
    /// Who revoked or rotated it, as `created_by` names principals.
    pub revoked_by: Option<String>,
    /// Why it was revoked, or stops before its own expiry.
    pub revoke_reason: Option<RevokeReason>,
    /// The application's own JSON object, returned with every verdict.
    pub metadata: Option<Metadata>,
    /// At most so many verifications per period, in each verifying process.
    pub rate_limit: Option<RateLimit>,
    /// Verifications left (consumed atomically by the store), and refills.
    pub usage: Option<Usage>,
    /// The client addresses the token may be used from (`10.0.0.0/8`);
    /// empty: any. Verification without a client address refuses a token
    /// that has a list (fail closed).
    pub allowed_ips: Vec<IpNet>,
    /// What the token carries of its owner's shared limits; `None` when
    /// the owner has none. The core keeps it: stamped when the record is
    /// inserted and whenever the owner's limits are set.
    pub owner_limits: Option<SharedLimits>,
}

/// What a record without extras reads as.
static UNSET: ExtraFields = ExtraFields {
    description: None,
    profile: None,
    replaced_by: None,
    revoked_by: None,
    revoke_reason: None,
    metadata: None,
    rate_limit: None,
    usage: None,
    allowed_ips: Vec::new(),
    owner_limits: None,
};

/// A record's [`ExtraFields`], boxed when any is set.
///
/// It dereferences to the fields: reading one never allocates, writing one
/// allocates the box if the record had none.
///
/// ```
/// use tokenkeep::hash::TokenHasher;
/// use tokenkeep::{TokenId, TokenRecord, record::TokenName, time::OffsetDateTime};
///
/// let hash = TokenHasher::sha256().hash("tk_an-imported-token");
/// let mut record = TokenRecord::new(
///     TokenId::random()?,
///     "alice",
///     TokenName::new("laptop")?,
///     hash,
///     OffsetDateTime::now_utc(),
/// );
/// assert!(!record.extras.is_allocated() && record.extras.description.is_none());
/// record.extras.description = Some("the work one".to_owned());
/// assert!(record.extras.is_allocated());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Extras(Option<Box<ExtraFields>>);

impl Extras {
    /// Whether the fields have their own allocation (one was written).
    pub fn is_allocated(&self) -> bool {
        self.0.is_some()
    }

    /// The fields, taken out of their box.
    pub fn into_fields(self) -> ExtraFields {
        self.0.map_or_else(ExtraFields::default, |fields| *fields)
    }

    /// Gives the allocation back when every field is unset again (a
    /// store keeping many records calls it before keeping one).
    pub fn shrink(&mut self) {
        if self.0.as_deref() == Some(&UNSET) {
            self.0 = None;
        }
    }
}

impl From<ExtraFields> for Extras {
    /// Boxes `fields` unless every one is unset.
    fn from(fields: ExtraFields) -> Self {
        // Compared before boxing: a store's decoder calls this for every
        // record it reads, most of them with nothing set.
        if fields == UNSET { Self(None) } else { Self(Some(Box::new(fields))) }
    }
}

impl Deref for Extras {
    type Target = ExtraFields;

    fn deref(&self) -> &ExtraFields {
        self.0.as_deref().unwrap_or(&UNSET)
    }
}

impl DerefMut for Extras {
    fn deref_mut(&mut self) -> &mut ExtraFields {
        self.0.get_or_insert_with(Box::default)
    }
}

/// Equal when the fields are, allocated or not.
impl PartialEq for Extras {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Extras {}

/// Shows the fields, as the record showed them inline.
impl fmt::Debug for Extras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ExtraFields::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_fields_take_no_allocation_and_compare_equal_to_an_empty_one() {
        let mut extras = Extras::default();
        assert!(!extras.is_allocated());
        assert_eq!(extras.usage, None);
        extras.profile = Some("staging".to_owned());
        assert!(extras.is_allocated());
        extras.profile = None;
        assert_eq!(extras, Extras::default(), "an emptied box equals no box");
        extras.shrink();
        assert!(!extras.is_allocated());
        assert!(!Extras::from(ExtraFields::default()).is_allocated());
        let kept = Extras::from(ExtraFields {
            allowed_ips: vec!["10.0.0.0/8".parse().unwrap()],
            ..ExtraFields::default()
        });
        assert!(kept.is_allocated() && kept.allowed_ips.len() == 1);
    }
}
