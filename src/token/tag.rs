//! Proof of minting: a keyed tag inside each secret a service mints, so
//! that a token it did not mint is refused before any hashing or lookup.
//! The CRC-32 checksum is public (anyone can make text that passes it);
//! the tag is not: without the key, a forged token has one chance in
//! 2^72 of passing.
//!
//! The tag is SipHash-2-4 (128-bit output, truncated to 72 bits), a keyed
//! pseudorandom function built for short inputs: checking it costs about
//! what the checksum does, so a forged token is refused nearly as cheaply
//! as a mistyped one, where HMAC-SHA-256 would cost more than hashing the
//! token for a lookup.

use std::fmt;
use std::hash::Hasher as _;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use siphasher::sip128::{Hasher128 as _, SipHasher24};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::error::ConfigError;

/// Bytes of tag after the random bytes of a tagged secret (72 bits).
pub(crate) const TAG_BYTES: usize = 9;

/// One minting key: 32 bytes or more, kept by the service (never in the
/// store). Its `Debug` shows nothing of it.
///
/// ```
/// use tokenkeep::token::MintKey;
/// let key = MintKey::from_hex("8f3a6c0d9e2b4f71a5c8d3e6f0b1a2c4d5e6f708192a3b4c5d6e7f8091a2b3c4")?;
/// assert_eq!(format!("{key:?}"), "MintKey(..)");
/// assert!(MintKey::from_hex("too short").is_err());
/// # Ok::<(), tokenkeep::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct MintKey {
    bytes: Zeroizing<Vec<u8>>,
    /// SipHash's 128-bit key: the first half of SHA-256 of the key.
    sip: Zeroizing<[u8; 16]>,
}

impl PartialEq for MintKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.bytes.as_slice().ct_eq(other.bytes.as_slice()))
    }
}

impl Eq for MintKey {}

impl MintKey {
    /// The fewest bytes a key may have.
    pub const MIN_BYTES: usize = 32;

    /// A key from its bytes.
    ///
    /// # Errors
    /// [`ConfigError::MintKey`] under [`MIN_BYTES`](Self::MIN_BYTES).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let bytes = Zeroizing::new(bytes.into());
        if bytes.len() < Self::MIN_BYTES {
            return Err(ConfigError::MintKey);
        }
        let digest = Sha256::digest(bytes.as_slice());
        let mut sip = Zeroizing::new([0u8; 16]);
        sip.copy_from_slice(&digest[..16]);
        Ok(Self { bytes, sip })
    }

    /// A key from hex text (64 hex digits or more; surrounding space is
    /// ignored), as a key file holds it.
    ///
    /// # Errors
    /// [`ConfigError::MintKey`] for text that is not such hex.
    pub fn from_hex(text: &str) -> Result<Self, ConfigError> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| ConfigError::MintKey)?);
        Self::new(bytes.to_vec())
    }

    /// The tag of `body` (the prefix, `_` and the random bytes) under this key.
    fn tag(&self, body: &[&[u8]]) -> [u8; TAG_BYTES] {
        let mut mac = SipHasher24::new_with_key(&self.sip);
        for part in body {
            mac.write(part);
        }
        let full = mac.finish128().as_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }
}

impl fmt::Debug for MintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MintKey(..)")
    }
}

/// What tokens are tagged with: the key that mints, the earlier ones still
/// accepted while a rotation runs, and what to do with a token that carries
/// no tag at all.
///
/// Rotating the key: add the new key as the current one and keep the old
/// one accepted ([`accepting`](Self::accepting)) for as long as tokens it
/// tagged live (their longest lifetime, or until they are rotated); then
/// drop it. A token tagged under a key no longer listed is refused without
/// a lookup, as a forged one is.
///
/// ```
/// use tokenkeep::token::{MintKey, MintKeys};
/// let new = MintKey::new([7u8; 32])?;
/// let old = MintKey::new([9u8; 32])?;
/// let keys = MintKeys::new(new).accepting(old).refusing_untagged();
/// assert!(keys.refuses_untagged());
/// # Ok::<(), tokenkeep::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintKeys {
    /// The current key first, then the accepted earlier ones.
    keys: Arc<[MintKey]>,
    refuse_untagged: bool,
}

impl MintKeys {
    /// Tags with `current`; untagged tokens (imported, adopted from
    /// custom secrets, minted before a key was set) are still looked up.
    pub fn new(current: MintKey) -> Self {
        Self { keys: Arc::from([current]), refuse_untagged: false }
    }

    /// Also accepts tokens tagged under `earlier` (a key being rotated out).
    #[must_use]
    pub fn accepting(self, earlier: MintKey) -> Self {
        let keys: Vec<MintKey> = self.keys.iter().cloned().chain([earlier]).collect();
        Self { keys: Arc::from(keys), ..self }
    }

    /// Refuses, without a lookup, every token of the format's prefix that
    /// carries no tag: for when none that must verify is left.
    #[must_use]
    pub fn refusing_untagged(self) -> Self {
        Self { refuse_untagged: true, ..self }
    }

    /// Whether untagged tokens are refused without a lookup.
    pub fn refuses_untagged(&self) -> bool {
        self.refuse_untagged
    }

    /// The tag a token minted now carries for `prefix` and `random`.
    pub(crate) fn tag(&self, prefix: &[u8], random: &[u8]) -> [u8; TAG_BYTES] {
        self.keys[0].tag(&[prefix, b"_", random])
    }

    /// Whether `tag` is the tag of `prefix` and `random` under one of the
    /// keys, compared in constant time.
    pub(crate) fn verifies(&self, prefix: &[u8], random: &[u8], tag: &[u8]) -> bool {
        self.keys.iter().any(|key| bool::from(key.tag(&[prefix, b"_", random]).ct_eq(tag)))
    }
}

#[cfg(test)]
mod tests {
    use crate::Prefix;
    use crate::hash::TokenHasher;
    use crate::token::{FormatError, MintKey, MintKeys, TokenFormat};

    fn format(key: u8) -> TokenFormat {
        let keys = MintKeys::new(MintKey::new([key; 32]).expect("key"));
        TokenFormat::new(Prefix::new("tk").expect("prefix")).with_mint_keys(keys)
    }

    /// A tagged token is 12 characters longer, and changing any character
    /// of its secret (the checksum made good again) fails the tag.
    #[test]
    fn every_character_of_a_tagged_secret_is_covered() {
        let format = format(1);
        let minted = format.mint(&TokenHasher::sha256()).expect("mint");
        let text = minted.secret.expose_secret();
        let untagged = TokenFormat::new(Prefix::new("tk").expect("prefix"));
        assert_eq!(text.len(), untagged.token_len() + 12);
        assert_eq!(text.len(), format.token_len());
        let body_end = text.len() - super::super::CHECKSUM_LEN;
        for at in 3..body_end {
            let mut body = text.as_bytes()[..body_end].to_vec();
            body[at] = if body[at] == b'A' { b'B' } else { b'A' };
            let sum = super::super::checksum(&body);
            body.extend_from_slice(&sum);
            let changed = String::from_utf8(body).expect("ascii");
            assert_eq!(format.parse(&changed).unwrap_err(), FormatError::Tag, "at {at}");
        }
    }

    #[test]
    fn a_key_under_32_bytes_or_not_hex_is_refused() {
        assert!(MintKey::new([0u8; 31]).is_err());
        assert!(MintKey::from_hex(&"0g".repeat(32)).is_err());
        assert!(MintKey::from_hex(&format!(" {} \n", "0a".repeat(32))).is_ok());
    }
}
