//! The `Authorization: Bearer …` header of RFC 6750 §2.1, and the
//! `WWW-Authenticate` challenge a refusal answers with.
//!
//! ```text
//! credentials = "Bearer" 1*SP b64token
//! b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```

mod challenge;

pub use challenge::{Challenge, ChallengeError};

use crate::error::BearerError;

/// Extracts the token from one `Authorization` header value, or says why it
/// cannot. `None` means the request had no such header.
///
/// The scheme is matched case-insensitively; optional whitespace around the
/// whole value is ignored, as HTTP field values do.
///
/// ```
/// use tokenkeep::{parse_authorization, BearerError};
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
    let value = header
        .ok_or(BearerError::Missing)?
        .trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return Err(BearerError::EmptyHeader);
    }
    let (scheme, rest) = value.split_at(value.find([' ', '\t']).unwrap_or(value.len()));
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(BearerError::UnsupportedScheme);
    }
    if rest.starts_with('\t') {
        return Err(BearerError::ControlCharacter);
    }
    let rest = rest.trim_start_matches(' ');
    let (token, trailing) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    if token.is_empty() {
        return Err(BearerError::EmptyToken);
    }
    check_b64token(token)?;
    if trailing.contains(',') {
        return Err(BearerError::MultipleCredentials);
    }
    if !trailing.trim_start_matches(' ').is_empty() {
        return Err(BearerError::TrailingData);
    }
    Ok(token)
}

/// Like [`parse_authorization`] for every `Authorization` value a request
/// carried: more than one is refused, never guessed between.
///
/// ```
/// use tokenkeep::{parse_authorization_values, BearerError};
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

fn check_b64token(token: &str) -> Result<(), BearerError> {
    let mut in_padding = false;
    for &byte in token.as_bytes() {
        let allowed = match byte {
            b'=' => {
                in_padding = true;
                true
            }
            _ if in_padding => false,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'+' | b'/' => {
                true
            }
            _ => false,
        };
        if !allowed {
            return Err(match byte {
                0..=31 | 127 => BearerError::ControlCharacter,
                b',' => BearerError::MultipleCredentials,
                _ => BearerError::InvalidCharacter,
            });
        }
    }
    // "=" alone is padding with nothing before it.
    if token.as_bytes().first() == Some(&b'=') {
        return Err(BearerError::InvalidCharacter);
    }
    Ok(())
}

/// Whether `text` is a non-empty RFC 6750 `b64token`.
pub(crate) fn is_b64token(text: &str) -> bool {
    !text.is_empty() && check_b64token(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode as _;

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
        ] {
            assert_eq!(parse_authorization(header), Err(expected), "{header:?}");
        }
    }

    #[test]
    fn missing_and_foreign_schemes_are_not_malformed() {
        assert!(BearerError::Missing.is_missing_credentials());
        assert!(BearerError::UnsupportedScheme.is_missing_credentials());
        assert!(!BearerError::EmptyToken.is_missing_credentials());
        assert_eq!(BearerError::EmptyToken.http_status(), 400);
        assert_eq!(BearerError::Missing.http_status(), 401);
    }

    #[test]
    fn more_than_one_header_is_refused() {
        assert_eq!(
            parse_authorization_values(["Bearer a", "Bearer a"]),
            Err(BearerError::MultipleCredentials)
        );
        assert_eq!(parse_authorization_values(["Bearer a"]), Ok("a"));
        assert_eq!(
            parse_authorization_values(std::iter::empty()),
            Err(BearerError::Missing)
        );
    }

    #[test]
    fn errors_never_echo_the_header() {
        let secret = "Bearer sup3r-secret!";
        let error = parse_authorization(Some(secret)).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("sup3r"), "{shown}");
    }
}
