//! What the store keeps instead of a token: its SHA-256 (or keyed HMAC-SHA256).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use hmac::{KeyInit as _, Mac as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use thiserror::Error;

use crate::error::{ConfigError, ErrorCode};

/// The hash of a token: 32 bytes.
///
/// Equality is constant-time over the whole array, so comparing a presented
/// hash with a stored one reveals nothing about where they differ. `Debug`
/// shows only the first four bytes, so logs never carry a full hash.
///
/// ```
/// use tokenkeep::hash::{TokenHash, TokenHasher};
/// let hash = TokenHasher::sha256().hash("root-secret");
/// assert_eq!(TokenHash::from_hex(&hash.to_hex())?, hash);
/// # Ok::<(), tokenkeep::hash::HashParseError>(())
/// ```
#[derive(Clone, Copy, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps 32 bytes, for instance a SHA-256 imported from another system.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters: how SQL stores and exports keep it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads 64 hex characters (either case).
    ///
    /// # Errors
    /// [`HashParseError`] for any other input.
    pub fn from_hex(text: &str) -> Result<Self, HashParseError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| HashParseError)?;
        Ok(Self(bytes))
    }
}

impl PartialEq for TokenHash {
    /// Four 64-bit words XORed and ORed together, then one constant-time
    /// test of the result: no branch on any byte, and a tenth of the
    /// instructions of a byte-by-byte comparison (which every hash-table
    /// probe and the verdict's own check pay).
    fn eq(&self, other: &Self) -> bool {
        let difference = words(&self.0)
            .zip(words(&other.0))
            .fold(0u64, |difference, (a, b)| difference | (a ^ b));
        difference.ct_eq(&0).into()
    }
}

fn words(bytes: &[u8; 32]) -> impl Iterator<Item = u64> + '_ {
    bytes.chunks_exact(8).map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()))
}

impl TokenHash {
    /// The hash is already uniform, so eight of its bytes are as good a
    /// hash-table key as all 32 (see [`PrehashedKey`] on why an attacker's
    /// choice of hash does not matter).
    pub(crate) fn table_key(&self) -> u64 {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(head)
    }
}

/// Feeds the hash's first eight bytes: uniform already, and cheaper for any
/// `Hasher` than all 32.
impl Hash for TokenHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.table_key());
    }
}

/// A map keyed by token hash, without re-hashing the key.
pub(crate) type ByHash<V> = HashMap<TokenHash, V, BuildHasherDefault<PrehashedKey>>;

/// Token hashes are SHA-256 (or HMAC) outputs of secrets an attacker does
/// not choose, so their first eight bytes (all [`TokenHash`]'s `Hash` feeds
/// in) are already a uniform key: hashing them again would only cost time.
/// A lookup of an attacker-chosen hash is one probe like any other; only
/// stored hashes, which come from random secrets, decide the table's shape.
#[derive(Default)]
pub(crate) struct PrehashedKey(u64);

impl Hasher for PrehashedKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

impl Serialize for TokenHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// Turns token text into a [`TokenHash`]; every token, minted or custom,
/// goes through the same function.
///
/// ```
/// use tokenkeep::hash::TokenHasher;
/// let plain = TokenHasher::sha256();
/// let keyed = TokenHasher::keyed(b"a server-side pepper of 32+ bytes!")?;
/// assert_ne!(plain.hash("root-secret"), keyed.hash("root-secret"));
/// # Ok::<(), tokenkeep::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct TokenHasher(Mode);

#[derive(Clone)]
enum Mode {
    Sha256,
    /// The key schedule is done once; each hash clones the keyed state.
    Keyed(hmac::Hmac<Sha256>),
}

impl TokenHasher {
    /// The shortest pepper accepted for the keyed mode.
    pub const MIN_PEPPER_LEN: usize = 32;

    /// Plain SHA-256 of the token text: the convention of every system this
    /// crate imports hashes from.
    pub fn sha256() -> Self {
        Self(Mode::Sha256)
    }

    /// HMAC-SHA256 keyed with a server-side pepper kept outside the database:
    /// a stolen database is then useless even for guessing low-entropy
    /// custom secrets offline.
    ///
    /// # Errors
    /// [`ConfigError::Pepper`] if the pepper is shorter than 32 bytes.
    pub fn keyed(pepper: &[u8]) -> Result<Self, ConfigError> {
        if pepper.len() < TokenHasher::MIN_PEPPER_LEN {
            return Err(ConfigError::Pepper);
        }
        let mac = hmac::Hmac::<Sha256>::new_from_slice(pepper).map_err(|_| ConfigError::Pepper)?;
        Ok(Self(Mode::Keyed(mac)))
    }

    /// Whether this hasher uses a pepper.
    pub fn is_keyed(&self) -> bool {
        matches!(self.0, Mode::Keyed(_))
    }

    /// Hashes the full token text.
    pub fn hash(&self, token: &str) -> TokenHash {
        match &self.0 {
            Mode::Sha256 => TokenHash(Sha256::digest(token.as_bytes()).into()),
            Mode::Keyed(mac) => {
                let mut mac = mac.clone();
                mac.update(token.as_bytes());
                TokenHash(mac.finalize().into_bytes().into())
            }
        }
    }
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Mode::Sha256 => "TokenHasher::Sha256",
            Mode::Keyed(_) => "TokenHasher::Keyed([REDACTED])",
        })
    }
}

/// A stored or imported hash is not 64 hex characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("a token hash must be 64 hex characters")]
pub struct HashParseError;

impl ErrorCode for HashParseError {
    fn code(&self) -> &'static str {
        "INVALID_HASH"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two hashes whose words differ by the same bits in two places: the
    /// differences folded with `^` would cancel out and compare equal, so
    /// the fold must be `|`.
    #[test]
    fn differences_in_two_words_never_cancel_out() {
        let zero = TokenHash::from_bytes([0; 32]);
        for (first, second) in [(0, 8), (0, 16), (0, 24), (8, 16), (8, 24), (16, 24)] {
            for bit in 0..8 {
                let mut bytes = [0; 32];
                bytes[first] = 1 << bit;
                bytes[second] = 1 << bit;
                assert_ne!(zero, TokenHash::from_bytes(bytes), "{first} {second} {bit}");
            }
        }
    }

    #[test]
    fn the_table_key_spreads_hashes_over_the_table() {
        use std::hash::BuildHasher as _;
        let build = BuildHasherDefault::<PrehashedKey>::default();
        let keys: std::collections::HashSet<u64> = (0..1_000)
            .map(|index| build.hash_one(TokenHasher::sha256().hash(&format!("token-{index}"))))
            .collect();
        assert!(keys.len() > 990, "{} distinct keys of 1000", keys.len());
        let mut bytes = PrehashedKey::default();
        bytes.write(&[1, 2, 3]);
        assert_eq!(bytes.finish(), 0x0001_0203);
    }

    #[test]
    fn the_hasher_and_its_errors_say_what_they_are() {
        assert_eq!(format!("{:?}", TokenHasher::sha256()), "TokenHasher::Sha256");
        assert_eq!(
            format!("{:?}", TokenHasher::keyed(&[7; 32]).unwrap()),
            "TokenHasher::Keyed([REDACTED])"
        );
        assert_eq!(HashParseError.code(), "INVALID_HASH");
    }

    const TOKEN: &str = "tk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const PEPPER: &[u8] = b"pepper-pepper-pepper-pepper-0123";

    #[test]
    fn sha256_matches_the_fixed_vector() {
        assert_eq!(
            TokenHasher::sha256().hash(TOKEN).to_hex(),
            "3af54423790cb0df468a15efbb006fe51fbde59b468f99b3b70e7a83e20aa3c5"
        );
        assert_eq!(
            TokenHasher::sha256().hash("root-secret").to_hex(),
            "633cd8d24fedcc77768b4ec31de07894220aeaddbaaecec2b92c5d60cb7f25f8"
        );
    }

    #[test]
    fn keyed_matches_the_fixed_vector_and_differs_from_plain() {
        let keyed = TokenHasher::keyed(PEPPER).unwrap();
        assert_eq!(
            keyed.hash(TOKEN).to_hex(),
            "c23e42f357f39bb4b89150829118d4a960bd83aa0eab3ecde2647fc721de08cd"
        );
        // Stable across calls: the keyed state is cloned, not consumed.
        assert_eq!(keyed.hash(TOKEN), keyed.hash(TOKEN));
        assert_ne!(keyed.hash(TOKEN), TokenHasher::sha256().hash(TOKEN));
        assert!(keyed.is_keyed() && !TokenHasher::sha256().is_keyed());
    }

    #[test]
    fn short_peppers_are_refused() {
        assert_eq!(TokenHasher::keyed(b"too short").unwrap_err(), ConfigError::Pepper);
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let hash = TokenHasher::sha256().hash(TOKEN);
        assert_eq!(TokenHash::from_hex(&hash.to_hex()).unwrap(), hash);
        assert_eq!(TokenHash::from_hex(&hash.to_hex().to_uppercase()).unwrap(), hash);
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(66)] {
            assert!(TokenHash::from_hex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn equality_covers_every_byte() {
        let hash = TokenHasher::sha256().hash(TOKEN);
        for index in 0..32 {
            for bit in 0..8 {
                let mut bytes = *hash.as_bytes();
                bytes[index] ^= 1 << bit;
                assert_ne!(TokenHash::from_bytes(bytes), hash, "byte {index} bit {bit}");
            }
        }
        assert_eq!(TokenHash::from_bytes(*hash.as_bytes()), hash);
    }

    #[test]
    fn debug_shows_only_a_short_head() {
        let hash = TokenHasher::sha256().hash(TOKEN);
        let debug = format!("{hash:?}");
        assert_eq!(debug, "TokenHash(3af54423…)");
        let keyed = format!("{:?}", TokenHasher::keyed(PEPPER).unwrap());
        assert!(!keyed.contains("pepper"));
    }

    #[test]
    fn serde_uses_hex() {
        let hash = TokenHasher::sha256().hash(TOKEN);
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{}\"", hash.to_hex()));
        assert_eq!(serde_json::from_str::<TokenHash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<TokenHash>("\"nothex\"").is_err());
    }
}
