//! The token format: `prefix` `_` `secret` `checksum`.
//!
//! ```text
//! myc_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ab12Cd
//! └┬┘ └──────────── secret (base64url, no padding) ─┘└ checksum ┘
//! prefix
//! ```
//!
//! The prefix makes a leaked token recognisable; the secret carries the
//! entropy; the checksum (CRC32 of everything before it) lets anyone reject a
//! mistyped or random string without touching a store. Parsing never
//! allocates and never panics, and says which check failed.

mod checksum;
mod error;
mod secret;
mod tag;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use rand::rngs::SysRng;
use zeroize::Zeroizing;

pub use error::{CustomSecretError, FormatError, MintError};
pub use secret::TokenSecret;
pub use tag::{MintKey, MintKeys};

use crate::byte_class::{self, is_base64url};
use crate::error::ConfigError;
use crate::hash::{TokenHash, TokenHasher};
use checksum::{CHECKSUM_LEN, checksum};
use tag::TAG_BYTES;

/// How many base64url characters (no padding) encode `bytes` bytes.
const fn encoded_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// The application's token prefix: 1–16 ASCII alphanumerics (`jf`, `myc`, `glpat`).
///
/// ```
/// use tokenkeep::Prefix;
/// assert_eq!(Prefix::new("myc")?.as_str(), "myc");
/// assert!(Prefix::new("my-app").is_err());
/// # Ok::<(), tokenkeep::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Prefix(Box<str>);

impl Prefix {
    /// The longest prefix an application may choose.
    pub const MAX_LEN: usize = 16;

    /// Checks and wraps a prefix.
    ///
    /// # Errors
    /// [`ConfigError::Prefix`] unless `text` is 1–16 ASCII letters or digits.
    pub fn new(text: &str) -> Result<Self, ConfigError> {
        if is_valid_prefix(text.as_bytes()) {
            Ok(Self(text.into()))
        } else {
            Err(ConfigError::Prefix)
        }
    }

    /// The prefix without its trailing `_`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_prefix(bytes: &[u8]) -> bool {
    (1..=Prefix::MAX_LEN).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_alphanumeric)
}

/// The shape of the tokens one application mints and accepts: its prefix and
/// the size of the secret.
///
/// ```
/// use tokenkeep::Prefix;
/// use tokenkeep::hash::TokenHasher;
/// use tokenkeep::token::TokenFormat;
///
/// let format = TokenFormat::new(Prefix::new("myc")?);
/// let minted = format.mint(&TokenHasher::sha256())?;
/// let parsed = format.parse(minted.secret.expose_secret())?;
/// assert_eq!(parsed.prefix(), "myc");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFormat {
    prefix: Prefix,
    secret_bytes: usize,
    /// Tags minted secrets, and checks tags before any lookup.
    keys: Option<MintKeys>,
}

/// A freshly minted token: the plaintext, shown once, and the hash to store.
#[derive(Debug)]
#[non_exhaustive]
pub struct MintedToken {
    /// The plaintext; hand it to the user once, then drop it.
    pub secret: TokenSecret,
    /// What the store keeps instead of the plaintext.
    pub hash: TokenHash,
}

impl TokenFormat {
    /// The most random bytes a secret may have.
    pub const MAX_SECRET_BYTES: usize = 64;

    /// The default number of random bytes in a secret (192 bits, 32 characters).
    pub const DEFAULT_SECRET_BYTES: usize = 24;

    /// The fewest random bytes a secret may have (128 bits).
    pub const MIN_SECRET_BYTES: usize = 16;

    /// A format with the default secret size (24 bytes, 192 bits).
    pub fn new(prefix: Prefix) -> Self {
        Self { prefix, secret_bytes: TokenFormat::DEFAULT_SECRET_BYTES, keys: None }
    }

    /// Changes the number of random bytes per secret.
    ///
    /// # Errors
    /// [`ConfigError::SecretSize`] outside 16–64 bytes.
    pub fn with_secret_bytes(mut self, bytes: usize) -> Result<Self, ConfigError> {
        if !(TokenFormat::MIN_SECRET_BYTES..=TokenFormat::MAX_SECRET_BYTES).contains(&bytes) {
            return Err(ConfigError::SecretSize);
        }
        self.secret_bytes = bytes;
        Ok(self)
    }

    /// Mints every secret with a tag under `keys`, and refuses a token of
    /// this prefix whose tag they did not make before any hashing or
    /// lookup: a forged token costs no store query. A tagged secret is the
    /// random bytes then a 9-byte tag, so tagged tokens are 12 characters
    /// longer than untagged ones, which still verify (looked up) unless
    /// `keys` [refuse them](MintKeys::refusing_untagged).
    ///
    /// ```
    /// use tokenkeep::hash::TokenHasher;
    /// use tokenkeep::token::{FormatError, MintKey, MintKeys, TokenFormat};
    /// use tokenkeep::Prefix;
    ///
    /// let keys = MintKeys::new(MintKey::new([7u8; 32])?);
    /// let format = TokenFormat::new(Prefix::new("myc")?).with_mint_keys(keys);
    /// let minted = format.mint(&TokenHasher::sha256())?;
    /// assert!(format.parse(minted.secret.expose_secret()).is_ok());
    ///
    /// // Another service's key, the same prefix and a valid checksum: refused.
    /// let other = TokenFormat::new(Prefix::new("myc")?)
    ///     .with_mint_keys(MintKeys::new(MintKey::new([8u8; 32])?));
    /// let forged = other.mint(&TokenHasher::sha256())?;
    /// assert_eq!(format.parse(forged.secret.expose_secret()).unwrap_err(), FormatError::Tag);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_mint_keys(mut self, keys: MintKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The keys minted secrets are tagged with, if any.
    pub fn mint_keys(&self) -> Option<&MintKeys> {
        self.keys.as_ref()
    }

    /// The prefix every token of this format starts with.
    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// The length in bytes of every token this format mints (tagged when
    /// it has [keys](Self::with_mint_keys)).
    pub fn token_len(&self) -> usize {
        let tag = if self.keys.is_some() { TAG_BYTES } else { 0 };
        self.len_with(self.secret_bytes + tag)
    }

    /// The length of a token whose secret holds `bytes` bytes.
    fn len_with(&self, bytes: usize) -> usize {
        self.prefix.0.len() + 1 + encoded_len(bytes) + CHECKSUM_LEN
    }

    /// Whether `text` starts with this format's `prefix_`, well-formed or not.
    pub fn claims_prefix(&self, text: &str) -> bool {
        let prefix = self.prefix.as_str().as_bytes();
        let bytes = text.as_bytes();
        // A prefix is at most a few bytes: compared in line, not through
        // a call to `memcmp`, on every verification.
        bytes.len() > prefix.len()
            && prefix.iter().zip(bytes).all(|(expected, byte)| expected == byte)
            && bytes[prefix.len()] == b'_'
    }

    /// Mints a token from the operating system's CSPRNG and hashes it.
    ///
    /// # Errors
    /// [`MintError::Rng`] if the operating system cannot provide randomness.
    pub fn mint(&self, hasher: &TokenHasher) -> Result<MintedToken, MintError> {
        let mut bytes = Zeroizing::new([0u8; TokenFormat::MAX_SECRET_BYTES + TAG_BYTES]);
        let random_len = self.secret_bytes;
        SysRng
            .try_fill_bytes(&mut bytes[..random_len])
            .map_err(|e| MintError::Rng(e.to_string()))?;
        let secret_len = match &self.keys {
            Some(keys) => {
                let tag = keys.tag(self.prefix.as_str().as_bytes(), &bytes[..random_len]);
                bytes[random_len..random_len + TAG_BYTES].copy_from_slice(&tag);
                random_len + TAG_BYTES
            }
            None => random_len,
        };

        // Sized up front so the plaintext is never reallocated (and copied).
        let mut text = String::with_capacity(self.token_len());
        text.push_str(self.prefix.as_str());
        text.push('_');
        URL_SAFE_NO_PAD.encode_string(&bytes[..secret_len], &mut text);
        let sum = checksum(text.as_bytes());
        text.extend(sum.iter().map(|&b| char::from(b)));

        let secret = TokenSecret::from_minted(text);
        let hash = hasher.hash(secret.expose_secret());
        Ok(MintedToken { secret, hash })
    }

    /// Checks that `text` is a token of this format: prefix, then length,
    /// then alphabet, then checksum, then (with [keys](Self::with_mint_keys))
    /// the minting tag.
    ///
    /// # Errors
    /// The first [`FormatError`] that applies.
    pub fn parse<'a>(&self, text: &'a str) -> Result<ParsedToken<'a>, FormatError> {
        if !self.claims_prefix(text) {
            return Err(FormatError::Prefix);
        }
        let prefix_len = self.prefix.as_str().len();
        let untagged = text.len() == self.len_with(self.secret_bytes);
        match &self.keys {
            None if untagged => check_body(text, prefix_len),
            Some(keys) if untagged => {
                let parsed = check_body(text, prefix_len)?;
                if keys.refuses_untagged() { Err(FormatError::Untagged) } else { Ok(parsed) }
            }
            Some(keys) if text.len() == self.token_len() => {
                let parsed = check_body(text, prefix_len)?;
                self.check_tag(keys, text)?;
                Ok(parsed)
            }
            _ => Err(FormatError::Length),
        }
    }

    /// Whether the tag at the end of `text`'s secret is one `keys` made for
    /// its random bytes; `text` has a tagged token's length and a valid
    /// body.
    fn check_tag(&self, keys: &MintKeys, text: &str) -> Result<(), FormatError> {
        let prefix = self.prefix.as_str().as_bytes();
        let encoded = &text.as_bytes()[prefix.len() + 1..text.len() - CHECKSUM_LEN];
        let mut bytes = Zeroizing::new([0u8; TokenFormat::MAX_SECRET_BYTES + TAG_BYTES]);
        let decoded =
            URL_SAFE_NO_PAD.decode_slice(encoded, &mut *bytes).map_err(|_| FormatError::Tag)?;
        let (random, tag) = bytes[..decoded].split_at(decoded.saturating_sub(TAG_BYTES));
        if tag.len() == TAG_BYTES && keys.verifies(prefix, random, tag) {
            Ok(())
        } else {
            Err(FormatError::Tag)
        }
    }
}

/// Checks that `text` is a well-formed token of any prefix and any secret
/// size from 16 to 64 bytes, tagged or not (the tag is not checked: only
/// the service that minted a token holds its key); what a leak scanner
/// needs.
///
/// ```
/// use tokenkeep::token::{parse_any, FormatError};
/// assert_eq!(parse_any("not a token").unwrap_err(), FormatError::Prefix);
/// ```
///
/// # Errors
/// The first [`FormatError`] that applies.
pub fn parse_any(text: &str) -> Result<ParsedToken<'_>, FormatError> {
    let bytes = text.as_bytes();
    let head = &bytes[..bytes.len().min(Prefix::MAX_LEN + 1)];
    let prefix_len = head
        .iter()
        .position(|&b| b == b'_')
        .filter(|&len| is_valid_prefix(&bytes[..len]))
        .ok_or(FormatError::Prefix)?;
    let secret_len = bytes.len().saturating_sub(prefix_len + 1 + CHECKSUM_LEN);
    let valid_len = (encoded_len(TokenFormat::MIN_SECRET_BYTES)
        ..=encoded_len(TokenFormat::MAX_SECRET_BYTES + TAG_BYTES))
        .contains(&secret_len)
        && secret_len % 4 != 1;
    if !valid_len {
        return Err(FormatError::Length);
    }
    check_body(text, prefix_len)
}

/// Alphabet and checksum; the caller has checked the prefix and that the
/// text is longer than prefix + checksum. The alphabet is checked over the
/// whole text: the prefix's letters and digits and its `_` are base64url
/// too, so only the secret and the checksum can fail it.
fn check_body(text: &str, prefix_len: usize) -> Result<ParsedToken<'_>, FormatError> {
    let bytes = text.as_bytes();
    let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if !byte_class::all(bytes, is_base64url) {
        return Err(FormatError::Alphabet);
    }
    // Compared as arrays: six bytes in registers, not a call to `memcmp`.
    let sum: &[u8; CHECKSUM_LEN] = sum.try_into().map_err(|_| FormatError::Checksum)?;
    if checksum(body) != *sum {
        return Err(FormatError::Checksum);
    }
    Ok(ParsedToken { text, prefix_len })
}

/// A string that passed every format check. It borrows the plaintext, so its
/// `Debug` shows only the prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParsedToken<'a> {
    text: &'a str,
    prefix_len: usize,
}

impl<'a> ParsedToken<'a> {
    /// The prefix, without `_`.
    pub fn prefix(&self) -> &'a str {
        &self.text[..self.prefix_len]
    }

    /// The whole token: what gets hashed.
    pub fn expose_secret(&self) -> &'a str {
        self.text
    }

    /// What lists and confirmations may show: the prefix and the first six
    /// characters of the secret (`myc_3f12c4`).
    pub fn display_prefix(&self) -> &'a str {
        display_prefix(self.text)
    }
}

impl std::fmt::Debug for ParsedToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedToken").field("prefix", &self.prefix()).finish_non_exhaustive()
    }
}

/// How many characters of the secret a display prefix shows (36 of its bits,
/// leaving at least 92 unknown even for the smallest secret).
const DISPLAY_SECRET_CHARS: usize = 6;

/// Whether `shown` is a display prefix as minting makes one: empty (a
/// token whose text was not minted in a format), or a prefix, `_` and six
/// base64url characters of a secret. Anything else in a record (an escape
/// sequence, a line break, a direction override) came from outside.
pub(crate) fn is_display_prefix(shown: &str) -> bool {
    shown.is_empty()
        || shown.split_once('_').is_some_and(|(prefix, secret)| {
            is_valid_prefix(prefix.as_bytes())
                && secret.len() == DISPLAY_SECRET_CHARS
                && byte_class::all(secret.as_bytes(), is_base64url)
        })
}

/// The part of a token that is safe to show: up to `_` plus six characters.
pub(crate) fn display_prefix(text: &str) -> &str {
    let end = text
        .find('_')
        .map_or(0, |underscore| underscore + 1 + DISPLAY_SECRET_CHARS)
        .min(text.len());
    text.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parsed_token_exposes_itself_and_debugs_only_its_prefix() {
        let format = TokenFormat::new(Prefix::new("myc").unwrap());
        let minted = format.mint(&TokenHasher::sha256()).unwrap();
        let text = minted.secret.expose_secret();
        let parsed = format.parse(text).unwrap();
        assert_eq!(parsed.expose_secret(), text);
        assert_eq!(parsed.prefix(), "myc");
        let debug = format!("{parsed:?}");
        assert!(debug.contains("ParsedToken") && debug.contains("myc"), "{debug}");
        assert!(!debug.contains(&text[4..]), "{debug}");
    }

    #[test]
    fn a_secret_length_no_base64_can_have_is_a_length_error() {
        // 33 characters of secret: 33 % 4 == 1, which no byte count encodes.
        for secret_len in [33_usize, 37, 41] {
            let text = format!("myc_{}{}", "A".repeat(secret_len), "AAAAAA");
            assert_eq!(parse_any(&text).err(), Some(FormatError::Length), "{secret_len}");
        }
        let fits = format!("myc_{}{}", "A".repeat(34), "AAAAAA");
        assert_ne!(parse_any(&fits).err(), Some(FormatError::Length));
    }

    fn format() -> TokenFormat {
        TokenFormat::new(Prefix::new("myc").unwrap())
    }

    #[test]
    fn minted_tokens_parse_back_with_their_prefix() {
        let format = format();
        let hasher = TokenHasher::sha256();
        for _ in 0..2_000 {
            let minted = format.mint(&hasher).unwrap();
            let text = minted.secret.expose_secret();
            assert_eq!(text.len(), format.token_len());
            let parsed = format.parse(text).unwrap();
            assert_eq!(parsed.prefix(), "myc");
            assert_eq!(parse_any(text).unwrap(), parsed);
            assert_eq!(hasher.hash(text), minted.hash);
        }
    }

    #[test]
    fn two_mints_differ() {
        let hasher = TokenHasher::sha256();
        let a = format().mint(&hasher).unwrap();
        let b = format().mint(&hasher).unwrap();
        assert_ne!(a.secret.expose_secret(), b.secret.expose_secret());
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn longest_prefix_with_default_secret_fits_one_sha256_block() {
        let format = TokenFormat::new(Prefix::new("abcdefghijklmnop").unwrap());
        let minted = format.mint(&TokenHasher::sha256()).unwrap();
        // SHA-256 pads with 0x80 and an 8-byte length: 55 bytes is the most
        // that fits in one 64-byte block.
        assert_eq!(minted.secret.expose_secret().len(), 55);
        assert!(format.token_len() <= 55);
    }

    #[test]
    fn every_single_character_change_is_rejected() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let format = format();
        let hasher = TokenHasher::sha256();
        for _ in 0..20 {
            let minted = format.mint(&hasher).unwrap();
            let original = minted.secret.expose_secret().as_bytes();
            for position in 0..original.len() {
                for &replacement in ALPHABET {
                    if replacement == original[position] {
                        continue;
                    }
                    let mut changed = original.to_vec();
                    changed[position] = replacement;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(
                        format.parse(&changed).is_err() && parse_any(&changed).is_err(),
                        "a change at {position} was accepted"
                    );
                }
            }
        }
    }

    #[test]
    fn each_check_names_what_failed() {
        let format = format();
        let minted = format.mint(&TokenHasher::sha256()).unwrap();
        let good = minted.secret.expose_secret();

        assert_eq!(format.parse("xyz_abc").unwrap_err(), FormatError::Prefix);
        assert_eq!(format.parse("mycabc").unwrap_err(), FormatError::Prefix);
        assert_eq!(format.parse("").unwrap_err(), FormatError::Prefix);
        assert_eq!(format.parse(&good[..40]).unwrap_err(), FormatError::Length);
        assert_eq!(format.parse(&format!("{good}A")).unwrap_err(), FormatError::Length);
        let mut bad_alphabet = good.as_bytes().to_vec();
        bad_alphabet[10] = b'!';
        let bad_alphabet = String::from_utf8(bad_alphabet).unwrap();
        assert_eq!(format.parse(&bad_alphabet).unwrap_err(), FormatError::Alphabet);
        let mut bad_sum = good.to_owned();
        let last = bad_sum.pop().unwrap();
        bad_sum.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(format.parse(&bad_sum).unwrap_err(), FormatError::Checksum);
    }

    #[test]
    fn parse_any_checks_shape_without_knowing_the_prefix() {
        assert_eq!(parse_any("_abc").unwrap_err(), FormatError::Prefix);
        assert_eq!(parse_any("abcdefghijklmnopq_x").unwrap_err(), FormatError::Prefix);
        assert_eq!(parse_any("ab-c_x").unwrap_err(), FormatError::Prefix);
        assert_eq!(parse_any("abc_short").unwrap_err(), FormatError::Length);
        let long = format!("abc_{}", "A".repeat(200));
        assert_eq!(parse_any(&long).unwrap_err(), FormatError::Length);
    }

    #[test]
    fn parsing_odd_input_never_panics() {
        let format = format();
        let inputs = [
            "",
            "_",
            "myc_",
            "myc_\u{e9}\u{e9}\u{e9}",
            "\u{1F600}_aaaa",
            "myc_\0\0\0\0\0\0",
            "myc_________________________________________",
        ];
        for input in inputs {
            let _ = format.parse(input);
            let _ = parse_any(input);
        }
        let multibyte = format!("myc_{}", "\u{e9}".repeat(19));
        assert_eq!(multibyte.len(), format.token_len());
        assert_eq!(format.parse(&multibyte).unwrap_err(), FormatError::Alphabet);
    }

    #[test]
    fn secret_sizes_are_bounded() {
        assert!(format().with_secret_bytes(15).is_err());
        assert!(format().with_secret_bytes(65).is_err());
        let small = format().with_secret_bytes(16).unwrap();
        let minted = small.mint(&TokenHasher::sha256()).unwrap();
        assert_eq!(minted.secret.expose_secret().len(), 3 + 1 + 22 + 6);
        assert!(small.parse(minted.secret.expose_secret()).is_ok());
        assert!(parse_any(minted.secret.expose_secret()).is_ok());
    }

    #[test]
    fn display_prefix_shows_six_secret_characters() {
        let minted = format().mint(&TokenHasher::sha256()).unwrap();
        let text = minted.secret.expose_secret();
        let parsed = format().parse(text).unwrap();
        assert_eq!(parsed.display_prefix(), &text[..10]);
        assert_eq!(display_prefix("root-secret"), "");
        assert_eq!(display_prefix("ab_c"), "ab_c");
    }

    #[test]
    fn a_display_prefix_is_what_minting_makes() {
        let minted = format().mint(&TokenHasher::sha256()).unwrap();
        assert!(is_display_prefix(display_prefix(minted.secret.expose_secret())));
        assert!(is_display_prefix(""));
        assert!(is_display_prefix("glpat_3f-2_4"));
        for forged in [
            "tk_3f12c",
            "tk_3f12c45",
            "_3f12c4",
            "tk-x_3f12c4",
            "tk_3f\n12c",
            "tk_\u{1b}[31mX",
            "tk_3f12\u{202e}4",
            "tk_3f12c4\n",
            "abcdefghijklmnopq_3f12c4",
        ] {
            assert!(!is_display_prefix(forged), "{forged:?}");
        }
    }

    #[test]
    fn parsed_token_debug_hides_the_secret() {
        let minted = format().mint(&TokenHasher::sha256()).unwrap();
        let text = minted.secret.expose_secret();
        let debug = format!("{:?}", format().parse(text).unwrap());
        assert!(!debug.contains(&text[4..]), "{debug}");
    }
}
