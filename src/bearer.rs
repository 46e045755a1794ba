//! The `Authorization: Bearer …` header of RFC 6750 §2.1, and the
//! `WWW-Authenticate` challenge a refusal answers with.
//!
//! ```text
//! credentials = "Bearer" 1*SP b64token
//! b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```

mod challenge;
mod error;

pub use challenge::{Challenge, ChallengeError};

pub use error::BearerError;

use crate::byte_class::{self, is_base64url};

/// Extracts the token from one `Authorization` header value, or says why it
/// cannot. `None` means the request had no such header.
///
/// The scheme is matched case-insensitively; optional whitespace around the
/// whole value is ignored, as HTTP field values do.
///
/// ```
/// use tokenkeep::bearer::{parse_authorization, BearerError};
/// assert_eq!(parse_authorization(Some("bearer  abc.def~"))?, "abc.def~");
/// assert_eq!(parse_authorization(None), Err(BearerError::Missing));
/// assert_eq!(parse_authorization(Some("Basic dXNlcg==")), Err(BearerError::UnsupportedScheme));
/// assert_eq!(parse_authorization(Some("Bearer a b")), Err(BearerError::TrailingData));
/// # Ok::<(), BearerError>(())
/// ```
///
/// # Errors
/// [`BearerError`]: [`Missing`](BearerError::Missing) and
/// [`UnsupportedScheme`](BearerError::UnsupportedScheme) mean "no bearer
/// credentials" (401 without an error code); every other variant is a
/// malformed request (400 `invalid_request`).
pub fn parse_authorization(header: Option<&str>) -> Result<&str, BearerError> {
    let value = header.ok_or(BearerError::Missing)?;
    let bytes = value.as_bytes();
    // One pass over the bytes: this runs on every request. The spelling
    // nearly every client sends is recognised in one comparison.
    let mut at = if bytes.starts_with(b"Bearer ") { "Bearer".len() } else { scheme_end(bytes)? };
    if bytes.get(at) == Some(&b'\t') {
        return Err(BearerError::ControlCharacter);
    }
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let start = at;
    // The common case, a token running to the end of the value, is checked
    // without a branch per byte, so the compiler checks 16 bytes at a time.
    if start < bytes.len() && byte_class::all(&bytes[start..], is_token_character) {
        return Ok(&value[start..]);
    }
    // Otherwise a scan over token characters, then any padding, says
    // where and why it ends.
    at += bytes[at..]
        .iter()
        .position(|&b| CLASS[usize::from(b)] != TOKEN)
        .unwrap_or(bytes.len() - at);
    while bytes.get(at) == Some(&b'=') {
        at += 1;
    }
    if let Some(&next) = bytes.get(at) {
        match CLASS[usize::from(next)] {
            SPACE => {}
            CONTROL => return Err(BearerError::ControlCharacter),
            COMMA => return Err(BearerError::MultipleCredentials),
            _ => return Err(BearerError::InvalidCharacter),
        }
    }
    let token = &value[start..at];
    if token.is_empty() {
        // Only trailing whitespace after the scheme.
        return Err(if skip_ows(bytes, at) == bytes.len() {
            BearerError::EmptyToken
        } else {
            BearerError::ControlCharacter
        });
    }
    if token.as_bytes()[0] == b'=' {
        return Err(BearerError::InvalidCharacter);
    }
    let rest = &bytes[at..];
    if rest.contains(&b',') {
        return Err(BearerError::MultipleCredentials);
    }
    if skip_ows(rest, 0) != rest.len() {
        return Err(BearerError::TrailingData);
    }
    Ok(token)
}

/// Where a `Bearer` scheme in any case, after optional whitespace, ends.
fn scheme_end(bytes: &[u8]) -> Result<usize, BearerError> {
    let start = skip_ows(bytes, 0);
    if start == bytes.len() {
        return Err(BearerError::EmptyHeader);
    }
    let end = bytes[start..]
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .map_or(bytes.len(), |offset| start + offset);
    if !bytes[start..end].eq_ignore_ascii_case(b"Bearer") {
        return Err(BearerError::UnsupportedScheme);
    }
    Ok(end)
}

/// The first index at or after `from` that is not a space or tab.
fn skip_ows(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .map_or(bytes.len(), |offset| from + offset)
}

/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, as arithmetic
/// rather than a table lookup so that it vectorises.
const fn is_token_character(byte: u8) -> bool {
    is_base64url(byte) | (byte == b'.') | (byte == b'~') | (byte == b'+') | (byte == b'/')
}

const OTHER: u8 = 0;
const TOKEN: u8 = 1;
const SPACE: u8 = 3;
const CONTROL: u8 = 4;
const COMMA: u8 = 5;

/// RFC 6750 `b64token` classes of every byte. The `=` padding has no class
/// of its own: it is matched byte by byte where it may stand, after the
/// token characters, and anywhere else it is just not a token character.
const CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut byte = 0;
    while byte < 256 {
        class[byte] = match byte as u8 {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'+' | b'/' => {
                TOKEN
            }
            // Whitespace ends the token; only whitespace may follow it.
            b' ' | b'\t' => SPACE,
            0..=31 | 127 => CONTROL,
            b',' => COMMA,
            _ => OTHER,
        };
        byte += 1;
    }
    class
};

/// Like [`parse_authorization`] for every `Authorization` value a request
/// carried: more than one is refused, never guessed between.
///
/// ```
/// use tokenkeep::bearer::{parse_authorization_values, BearerError};
/// assert_eq!(
///     parse_authorization_values(["Bearer a", "Bearer b"]),
///     Err(BearerError::MultipleCredentials)
/// );
/// ```
///
/// # Errors
/// As [`parse_authorization`], plus
/// [`MultipleCredentials`](BearerError::MultipleCredentials).
pub fn parse_authorization_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<&'a str, BearerError> {
    let mut values = values.into_iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(BearerError::MultipleCredentials);
    }
    parse_authorization(first)
}

/// Whether `text` is a non-empty RFC 6750 `b64token`: token characters,
/// then optional `=` padding, and nothing after the padding.
pub(crate) fn is_b64token(text: &str) -> bool {
    let bytes = text.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&byte| byte == b'=').count();
    let (token, _) = bytes.split_at(bytes.len() - padding);
    !token.is_empty() && token.iter().all(|&byte| CLASS[usize::from(byte)] == TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode as _;

    #[test]
    fn the_branch_free_test_agrees_with_the_class_table() {
        for byte in 0..=255u8 {
            assert_eq!(
                is_token_character(byte),
                CLASS[usize::from(byte)] == TOKEN,
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn accepts_what_rfc_6750_allows() {
        for (header, token) in [
            ("Bearer abc", "abc"),
            ("bearer abc", "abc"),
            ("BEARER abc", "abc"),
            ("BeArEr abc", "abc"),
            ("Bearer    abc", "abc"),
            ("  Bearer abc \t", "abc"),
            ("Bearer a-b.c_d~e+f/g", "a-b.c_d~e+f/g"),
            ("Bearer abc==", "abc=="),
            ("Bearer abc ", "abc"),
            ("Bearer abc\t", "abc"),
        ] {
            assert_eq!(parse_authorization(Some(header)), Ok(token), "{header:?}");
        }
    }

    #[test]
    fn each_malformed_case_has_its_own_error() {
        use BearerError::*;
        for (header, expected) in [
            (None, Missing),
            (Some(""), EmptyHeader),
            (Some("   "), EmptyHeader),
            (Some("Basic dXNlcjpwYXNz"), UnsupportedScheme),
            (Some("Token abc"), UnsupportedScheme),
            (Some("Bearerabc"), UnsupportedScheme),
            (Some("Bearer"), EmptyToken),
            (Some("Bearer    "), EmptyToken),
            (Some("Bearer\tabc"), ControlCharacter),
            (Some("Bearer ab\u{0}c"), ControlCharacter),
            (Some("Bearer ab\u{7f}c"), ControlCharacter),
            (Some("Bearer ab\nc"), ControlCharacter),
            (Some("Bearer ab!c"), InvalidCharacter),
            (Some("Bearer ab\"c"), InvalidCharacter),
            (Some("Bearer ab=c"), InvalidCharacter),
            (Some("Bearer =="), InvalidCharacter),
            (Some("Bearer abc\u{e9}"), InvalidCharacter),
            (Some("Bearer abc, Bearer def"), MultipleCredentials),
            (Some("Bearer abc,def"), MultipleCredentials),
            (Some("Bearer abc , Basic x"), MultipleCredentials),
            (Some("Bearer abc def"), TrailingData),
            (Some("Bearer abc\tdef"), TrailingData),
        ] {
            assert_eq!(parse_authorization(header), Err(expected), "{header:?}");
        }
    }

    #[test]
    fn missing_and_foreign_schemes_are_not_malformed() {
        assert!(BearerError::Missing.is_missing_credentials());
        assert!(BearerError::UnsupportedScheme.is_missing_credentials());
        assert!(!BearerError::EmptyToken.is_missing_credentials());
        assert_eq!(BearerError::EmptyToken.code(), "INVALID_REQUEST");
        assert_eq!(BearerError::Missing.code(), "UNAUTHORIZED");
    }

    #[test]
    fn more_than_one_header_is_refused() {
        assert_eq!(
            parse_authorization_values(["Bearer a", "Bearer a"]),
            Err(BearerError::MultipleCredentials)
        );
        assert_eq!(parse_authorization_values(["Bearer a"]), Ok("a"));
        assert_eq!(parse_authorization_values(std::iter::empty()), Err(BearerError::Missing));
    }

    #[test]
    fn errors_never_echo_the_header() {
        let secret = "Bearer sup3r-secret!";
        let error = parse_authorization(Some(secret)).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("sup3r"), "{shown}");
    }
}
