//! What the store keeps about a token: never the plaintext, only its hash
//! and the metadata lists and audits need.

mod error;
mod extras;
mod metadata;
mod owner_limits;
mod rate_limit;
mod usage;
mod wire;

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use rand::rngs::SysRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

pub use error::{NameError, RecordError};
pub use extras::{ExtraFields, Extras};
pub use metadata::Metadata;
pub use owner_limits::{OwnerLimits, SharedLimits};
pub use rate_limit::RateLimit;
pub use usage::Usage;

pub use ipnet::IpNet;

use crate::hash::TokenHash;
use crate::scope::Scopes;
use crate::token::{MintError, Prefix};

/// A token's id: 128 random bits, shown as 22 URL-safe characters. It is
/// opaque, non-sequential, and never derived from the secret.
///
/// ```
/// use tokenkeep::TokenId;
/// let id = TokenId::random()?;
/// assert_eq!(id.to_string().len(), 22);
/// assert_eq!(id.to_string().parse::<TokenId>()?, id);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId([u8; 16]);

impl TokenId {
    /// A fresh id from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`MintError::Rng`] if the operating system gives no randomness.
    pub fn random() -> Result<Self, MintError> {
        let mut bytes = [0u8; 16];
        SysRng.try_fill_bytes(&mut bytes).map_err(|e| MintError::Rng(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// The id's 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Wraps 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 22];
        // 16 bytes always encode to 22 characters.
        let _ = URL_SAFE_NO_PAD.encode_slice(self.0, &mut text);
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({self})")
    }
}

impl FromStr for TokenId {
    type Err = RecordError;

    fn from_str(text: &str) -> Result<Self, RecordError> {
        let mut bytes = [0u8; 16];
        if text.len() != 22 {
            return Err(RecordError::Id);
        }
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(16) => Ok(Self(bytes)),
            _ => Err(RecordError::Id),
        }
    }
}

impl Serialize for TokenId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TokenId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A token's label: 1–100 characters, no control characters, not blank.
/// Unique among its owner's active tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenName(String);

impl TokenName {
    /// The longest token name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Checks and wraps a name.
    ///
    /// ```
    /// use tokenkeep::record::TokenName;
    /// assert!(TokenName::new("ci-runner").is_ok());
    /// assert!(TokenName::new("x".repeat(101)).is_err());
    /// ```
    ///
    /// # Errors
    /// [`NameError`] for an empty, blank, over-long or control-character
    /// name, or one with an invisible or direction-changing character
    /// (U+202E would show it reversed in a list).
    pub fn new(name: impl Into<String>) -> Result<Self, NameError> {
        let name = Self::stored(name)?;
        if name.0.chars().any(is_invisible) {
            return Err(NameError::InvisibleCharacter);
        }
        Ok(name)
    }

    /// A name as read back from a store or an export: the rules of the
    /// release that wrote it, so that a record stored before a rule was
    /// added still loads. Every name a user gives goes through [`new`](Self::new).
    fn stored(name: impl Into<String>) -> Result<Self, NameError> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > TokenName::MAX_CHARS {
            return Err(NameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reading stored or exported records: the rules of the release that wrote
/// them, without the later ones ([`TokenName::new`] holds every name a user
/// gives to today's rules).
impl TryFrom<String> for TokenName {
    type Error = NameError;
    fn try_from(name: String) -> Result<Self, NameError> {
        Self::stored(name)
    }
}

/// Whether `c` reorders or hides text where it is shown: bidirectional
/// controls (U+202A–U+202E, U+2066–U+2069), zero-width and other invisible
/// format characters. Names, owners, descriptions and profiles refuse them.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

impl From<TokenName> for String {
    fn from(name: TokenName) -> Self {
        name.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// In the store.
    Persistent,
    /// In the process's memory only, configured at start-up; gone on restart.
    Temporary,
}

/// Why a token was revoked, or will stop working before its own expiry.
/// Who did it is the record's `revoked_by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RevokeReason {
    /// Its owner or a manager revoked it.
    Revoked,
    /// Every token of its owner was revoked at once (a password change, a
    /// purge).
    RevokeAll,
    /// A rotation replaced it, at once.
    Rotated,
    /// A rotation replaced it with a grace period: it stops at its
    /// (shortened) expiry, without being revoked.
    RotationGrace,
    /// A token it replaced was presented after its rotation retired it:
    /// whoever holds the old token may hold this one too.
    ReuseDetected,
    /// It was found where it should not be (public code, a paste) and
    /// reported: by whoever found it, through the credential revocation
    /// endpoint, or by a secret scanning program.
    Leaked,
}

impl RevokeReason {
    /// The stored and displayed form: `revoked`, `revoke_all`, `rotated`,
    /// `rotation_grace`, `reuse_detected`, `leaked`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::RevokeAll => "revoke_all",
            Self::Rotated => "rotated",
            Self::RotationGrace => "rotation_grace",
            Self::ReuseDetected => "reuse_detected",
            Self::Leaked => "leaked",
        }
    }

    /// Reads [`as_str`](Self::as_str)'s form.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Revoked,
            Self::RevokeAll,
            Self::Rotated,
            Self::RotationGrace,
            Self::ReuseDetected,
            Self::Leaked,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }
}

/// Where a token stands at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    /// It verifies.
    Active,
    /// Its expiry has passed.
    Expired,
    /// It was revoked.
    Revoked,
}

/// Everything known about a token except its plaintext.
///
/// Revocation sets `revoked_at` and keeps the row, so the audit trail (name,
/// created, last used, revoked) stays listable.
///
/// Made with [`TokenRecord::new`], every optional field at its default,
/// then set field by field: the record is `#[non_exhaustive]`, so a field
/// added in a later release breaks no code that builds one.
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
/// record.extras.description = Some("the work one".to_owned());
/// assert!(record.is_active(OffsetDateTime::now_utc()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "wire::WireRecord", into = "wire::WireRecord")]
#[non_exhaustive]
// In this order: a store probes for the hash, then a verdict reads the
// revocation, the expiry, the id and the extras' pointer. Declared first,
// they share the first cache lines of the record (with an `Arc`'s counts
// just before them), where Rust's own order would put the hash and the
// id last, after the strings, and a hit would touch one more line.
#[repr(C)]
pub struct TokenRecord {
    /// SHA-256 (or HMAC) of the token text.
    pub hash: TokenHash,
    /// Opaque random id.
    pub id: TokenId,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// When it stops working; `None` for never.
    pub expires_at: Option<OffsetDateTime>,
    /// The fields most tokens leave unset (description, profile, limits,
    /// addresses, metadata, what a revocation recorded), behind one
    /// allocation: `record.extras.usage` reads one, and a write allocates
    /// the box.
    pub extras: Extras,
    /// What the token may do.
    pub scopes: Scopes,
    /// The user or service account the token authenticates as.
    pub owner: String,
    /// The label.
    pub name: TokenName,
    /// What lists may show of the token (`myc_3f12c4`); empty for a token
    /// whose text was never seen here (an imported hash).
    pub display_prefix: String,
    /// Who issued it: the acting principal (`admin`, `user:alice`,
    /// `token:<id>`, `setup`); `None` for records older than this field.
    pub created_by: Option<String>,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it last verified (written in batches, at most once an interval).
    pub last_used_at: Option<OffsetDateTime>,
    /// Persistent or temporary.
    pub kind: TokenKind,
}

impl TokenRecord {
    /// A persistent record of `owner`'s token `name` with this id and hash,
    /// made at `created_at`: no description, scopes, profile, expiry,
    /// limits, metadata or history.
    pub fn new(
        id: TokenId,
        owner: impl Into<String>,
        name: TokenName,
        hash: TokenHash,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            owner: owner.into(),
            name,
            hash,
            display_prefix: String::new(),
            scopes: Scopes::default(),
            kind: TokenKind::Persistent,
            created_at,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            created_by: None,
            extras: Extras::default(),
        }
    }

    /// The longest profile, in characters.
    pub const MAX_PROFILE_CHARS: usize = 100;

    /// The longest description, in characters.
    pub const MAX_DESCRIPTION_CHARS: usize = 1_000;

    /// The longest owner, in characters.
    pub const MAX_OWNER_CHARS: usize = 256;

    /// Whether the token was revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether the token's expiry has passed at `now` (`now >= expires_at`).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|expiry| now >= expiry)
    }

    /// Whether the token's text was in the format of tokens carrying
    /// `prefix`, judged by its display prefix (`myc_3f12c4` is, an empty
    /// one or another prefix's is not): the records that verification can
    /// find without looking up text outside the format.
    pub fn is_in_format_of(&self, prefix: &Prefix) -> bool {
        self.display_prefix.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.starts_with('_'))
    }

    /// Whether a request from `client` may use the token: any address when
    /// it has no list; with a list, an address inside one of its ranges
    /// (none when the address is unknown).
    pub fn allows_address(&self, client: Option<std::net::IpAddr>) -> bool {
        self.extras.allowed_ips.is_empty()
            || client.is_some_and(|client| {
                self.extras.allowed_ips.iter().any(|net| net.contains(&client))
            })
    }

    /// Whether the token verifies at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        !self.is_revoked() && !self.is_expired(now)
    }

    /// Whether the token holds its name and counts toward its owner's cap:
    /// active and not replaced by a rotation.
    pub fn holds_name(&self, now: OffsetDateTime) -> bool {
        self.is_active(now) && self.extras.replaced_by.is_none()
    }

    /// Active, expired or revoked at `now`.
    pub fn status(&self, now: OffsetDateTime) -> TokenStatus {
        if self.is_revoked() {
            TokenStatus::Revoked
        } else if self.is_expired(now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// Checks an owner: 1–256 characters, no control characters, not blank.
///
/// # Errors
/// [`RecordError::Owner`].
pub fn check_owner(owner: &str) -> Result<(), RecordError> {
    let ok = !owner.trim().is_empty()
        && owner.chars().count() <= TokenRecord::MAX_OWNER_CHARS
        && !owner.chars().any(|c| c.is_control() || is_invisible(c));
    if ok { Ok(()) } else { Err(RecordError::Owner) }
}

/// Checks a description: at most 1,000 characters; line breaks and tabs are
/// the only control characters allowed.
///
/// # Errors
/// [`RecordError::Description`].
pub fn check_description(description: &str) -> Result<(), RecordError> {
    let ok = description.chars().count() <= TokenRecord::MAX_DESCRIPTION_CHARS
        && !description
            .chars()
            .any(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || is_invisible(c));
    if ok { Ok(()) } else { Err(RecordError::Description) }
}

/// The longest principal (`created_by`, `revoked_by`) a record may name.
const MAX_PRINCIPAL_CHARS: usize = 200;

/// Checks a principal a record names as its creator or revoker (records
/// imported from elsewhere): 1–200 characters, no control or invisible
/// characters.
///
/// # Errors
/// [`RecordError::Principal`].
pub fn check_principal(principal: &str) -> Result<(), RecordError> {
    let ok = !principal.trim().is_empty()
        && principal.chars().count() <= MAX_PRINCIPAL_CHARS
        && !principal.chars().any(|c| c.is_control() || is_invisible(c));
    if ok { Ok(()) } else { Err(RecordError::Principal) }
}

/// Checks a display prefix: empty, or what minting shows of a token (a
/// prefix, `_` and six base64url characters, `myc_3f12c4`), so that what
/// lists print of a record is never text from outside.
///
/// ```
/// use tokenkeep::record::check_display_prefix;
/// assert!(check_display_prefix("myc_3f12c4").is_ok());
/// assert!(check_display_prefix("").is_ok());
/// assert!(check_display_prefix("myc_\u{1b}[2J").is_err());
/// ```
///
/// # Errors
/// [`RecordError::DisplayPrefix`].
pub fn check_display_prefix(shown: &str) -> Result<(), RecordError> {
    if crate::token::is_display_prefix(shown) { Ok(()) } else { Err(RecordError::DisplayPrefix) }
}

/// Checks a profile: 1–100 characters, no control characters, not blank.
///
/// # Errors
/// [`RecordError::Profile`].
pub fn check_profile(profile: &str) -> Result<(), RecordError> {
    let ok = !profile.trim().is_empty()
        && profile.chars().count() <= TokenRecord::MAX_PROFILE_CHARS
        && !profile.chars().any(|c| c.is_control() || is_invisible(c));
    if ok { Ok(()) } else { Err(RecordError::Profile) }
}

/// A fresh record with a random id and hash, for tests.
#[cfg(test)]
pub(crate) fn test_record(owner: &str, name: &str) -> TokenRecord {
    let id = TokenId::random().expect("randomness");
    let hash = crate::hash::TokenHasher::sha256().hash(&id.to_string());
    let name = TokenName::new(name).expect("a valid name");
    TokenRecord::new(id, owner, name, hash, OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_written_before_who_and_why_still_imports() {
        let mut record = test_record("alice", "ci");
        record.created_by = Some("admin".to_owned());
        record.extras.revoke_reason = Some(RevokeReason::RotationGrace);
        let mut json: serde_json::Value = serde_json::to_value(&record).unwrap();
        assert_eq!(json["revoke_reason"], "rotation_grace");
        for field in ["created_by", "revoked_by", "revoke_reason"] {
            json.as_object_mut().unwrap().remove(field);
        }
        let older: TokenRecord = serde_json::from_value(json).unwrap();
        assert_eq!(
            (older.created_by, older.extras.revoked_by.clone(), older.extras.revoke_reason),
            (None, None, None)
        );
        for reason in [
            RevokeReason::Revoked,
            RevokeReason::RevokeAll,
            RevokeReason::Rotated,
            RevokeReason::RotationGrace,
        ] {
            assert_eq!(RevokeReason::parse(reason.as_str()), Some(reason));
            let text = serde_json::to_value(reason).unwrap();
            assert_eq!(text, reason.as_str());
        }
    }

    #[test]
    fn a_record_is_in_the_format_of_the_prefix_its_display_prefix_shows() {
        let mut record = test_record("alice", "ci");
        let myc = Prefix::new("myc").unwrap();
        record.display_prefix = "myc_3f12c4".to_owned();
        assert!(record.is_in_format_of(&myc));
        assert!(!record.is_in_format_of(&Prefix::new("my").unwrap()));
        record.display_prefix = "mycx_3f12c4".to_owned();
        assert!(!record.is_in_format_of(&myc));
        record.display_prefix.clear();
        assert!(!record.is_in_format_of(&myc));
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for sneaky in [
            "evil\u{202E}gnp.exe",
            "a\u{202A}b",
            "\u{2066}isolate\u{2069}",
            "zero\u{200B}width",
            "joiner\u{200D}",
            "\u{FEFF}bom",
            "soft\u{00AD}hyphen",
            "tag\u{E0041}",
        ] {
            assert_eq!(TokenName::new(sneaky), Err(NameError::InvisibleCharacter), "{sneaky:?}");
            assert_eq!(check_description(sneaky), Err(RecordError::Description), "{sneaky:?}");
            assert_eq!(check_owner(sneaky), Err(RecordError::Owner), "{sneaky:?}");
            assert_eq!(check_profile(sneaky), Err(RecordError::Profile), "{sneaky:?}");
            // A record stored before the rule still loads.
            assert!(TokenName::try_from(sneaky.to_owned()).is_ok(), "{sneaky:?}");
        }
        for fine in ["caf\u{e9} \u{1F680}", "\u{05D0}\u{05D1} hebrew", "日本語"] {
            assert!(TokenName::new(fine).is_ok(), "{fine:?}");
            assert!(check_description(fine).is_ok(), "{fine:?}");
        }
    }

    #[test]
    fn ids_are_random_and_round_trip() {
        let a = TokenId::random().unwrap();
        let b = TokenId::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_string().parse::<TokenId>().unwrap(), a);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<TokenId>(&json).unwrap(), a);
        for bad in
            ["", "short", "!!!!!!!!!!!!!!!!!!!!!!", &"A".repeat(23), "AAAAAAAAAAAAAAAAAAAAAB"]
        {
            assert!(bad.parse::<TokenId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(TokenName::new("laptop").is_ok());
        assert!(TokenName::new("é".repeat(100)).is_ok());
        assert_eq!(TokenName::new("").unwrap_err(), NameError::Empty);
        assert_eq!(TokenName::new("   ").unwrap_err(), NameError::Empty);
        assert_eq!(TokenName::new("x".repeat(101)).unwrap_err(), NameError::TooLong);
        assert_eq!(TokenName::new("a\u{7}b").unwrap_err(), NameError::ControlCharacter);
        assert_eq!(TokenName::new("a\nb").unwrap_err(), NameError::ControlCharacter);
        assert!(serde_json::from_str::<TokenName>("\"\"").is_err());
    }

    #[test]
    fn owners_descriptions_and_profiles_are_checked() {
        assert!(check_owner("alice").is_ok());
        assert!(check_owner("").is_err() && check_owner("a\0").is_err());
        assert!(check_owner(&"o".repeat(257)).is_err());
        assert!(check_description("two\nlines\tand tab").is_ok());
        assert!(check_description("bell\u{7}").is_err());
        assert!(check_description(&"d".repeat(1001)).is_err());
        assert!(check_profile("staging").is_ok());
        assert!(check_profile(" ").is_err() && check_profile(&"p".repeat(101)).is_err());
    }
}
