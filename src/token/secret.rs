//! The one type that holds a plaintext token.

use std::fmt;

use zeroize::Zeroize as _;

use super::CustomSecretError;

/// A plaintext token.
///
/// It is returned exactly once, by the call that mints it. Its `Debug` and
/// `Display` are redacted, it has no `Serialize`, its memory is zeroed when it
/// is dropped, and the text is read only through [`expose_secret`](Self::expose_secret).
///
/// ```
/// use tokenkeep::TokenSecret;
/// let secret = TokenSecret::custom("root-secret")?;
/// assert_eq!(format!("{secret:?} {secret}"), "TokenSecret([REDACTED]) [REDACTED]");
/// assert_eq!(secret.expose_secret(), "root-secret");
/// # Ok::<(), tokenkeep::token::CustomSecretError>(())
/// ```
pub struct TokenSecret(String);

impl TokenSecret {
    /// Longest custom secret accepted.
    pub const MAX_CUSTOM_LEN: usize = 512;

    /// Shortest custom secret accepted ([`TokenSecret::custom`]).
    pub const MIN_CUSTOM_LEN: usize = 8;

    pub(crate) fn from_minted(text: String) -> Self {
        Self(text)
    }

    /// Text taken as it is (from a flag, a variable or a file); it is
    /// checked where it is used.
    #[cfg(feature = "client")]
    pub(crate) fn adopt(text: String) -> Self {
        Self(text)
    }

    /// Adopts a secret that was not minted here: a token migrated from
    /// another system, a bootstrap secret from the command line
    /// (`--token root:root-secret`), a legacy admin bearer. It is hashed like
    /// a minted one but has no checksum, so it is accepted only where an API
    /// says so.
    ///
    /// # Errors
    /// [`CustomSecretError`] unless `text` is 8–512 characters that can travel
    /// in an `Authorization: Bearer` header (RFC 6750 `b64token`).
    pub fn custom(text: impl Into<String>) -> Result<Self, CustomSecretError> {
        let secret = Self(text.into());
        Self::check_custom(&secret.0)?;
        Ok(secret)
    }

    /// Whether `text` is usable as a custom secret: 8–512 characters of the
    /// bearer `b64token` set. Verification asks this before it hashes text
    /// that is not a minted token, so over-long garbage costs nothing.
    ///
    /// # Errors
    /// As [`custom`](Self::custom).
    pub fn check_custom(text: &str) -> Result<(), CustomSecretError> {
        if text.len() < TokenSecret::MIN_CUSTOM_LEN {
            return Err(CustomSecretError::TooShort);
        }
        if text.len() > TokenSecret::MAX_CUSTOM_LEN {
            return Err(CustomSecretError::TooLong);
        }
        if !crate::bearer::is_b64token(text) {
            return Err(CustomSecretError::Charset);
        }
        Ok(())
    }

    /// The plaintext. Every read of it is visible in the code as this call.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl Drop for TokenSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret([REDACTED])")
    }
}

impl fmt::Display for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_secrets_are_checked() {
        assert_eq!(TokenSecret::custom("short").unwrap_err(), CustomSecretError::TooShort);
        assert_eq!(TokenSecret::custom("x".repeat(513)).unwrap_err(), CustomSecretError::TooLong);
        assert_eq!(TokenSecret::custom("has space").unwrap_err(), CustomSecretError::Charset);
        assert_eq!(TokenSecret::custom("line\nbreak").unwrap_err(), CustomSecretError::Charset);
        assert!(TokenSecret::custom("q1w2e3r4t5y6u7i8o9p0+/==").is_ok());
        for outside in [
            "padding=inside",
            "========",
            "comma,separated",
            "bell\u{7}bell",
            "tab\there",
            "quote\"here",
        ] {
            assert_eq!(
                TokenSecret::check_custom(outside),
                Err(CustomSecretError::Charset),
                "{outside:?}"
            );
        }
        assert_eq!(TokenSecret::check_custom("12345678"), Ok(()));
        assert_eq!(TokenSecret::check_custom("1234567"), Err(CustomSecretError::TooShort));
        assert_eq!(TokenSecret::check_custom(&"x".repeat(TokenSecret::MAX_CUSTOM_LEN)), Ok(()));
    }

    #[test]
    fn the_plaintext_never_shows_in_formatting() {
        let secret = TokenSecret::custom("super-secret-value").unwrap();
        let shown = format!("{secret} {secret:?} {secret:#?}");
        assert!(!shown.contains("super-secret-value"));
    }
}
