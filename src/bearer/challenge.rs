//! The `WWW-Authenticate: Bearer …` challenge of RFC 6750 §3.

use std::fmt;

/// The error codes of RFC 6750 §3.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeError {
    /// 400: the request is malformed.
    InvalidRequest,
    /// 401: the token is unknown, revoked, expired or malformed.
    InvalidToken,
    /// 403: the token lacks the scope the resource needs.
    InsufficientScope,
}

impl ChallengeError {
    /// The code as it appears in the header.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

/// Builds a `WWW-Authenticate` value.
///
/// Characters the RFC does not allow in `error_description` (`"`, `\`,
/// controls, non-ASCII) or in `scope` are dropped, so the header is always
/// well-formed whatever text is passed in.
///
/// ```
/// use tokenkeep::bearer::{Challenge, ChallengeError};
/// let challenge = Challenge::new("tokenkeep")
///     .error(ChallengeError::InsufficientScope)
///     .scope("write:/releases");
/// assert_eq!(
///     challenge.to_string(),
///     r#"Bearer realm="tokenkeep", error="insufficient_scope", scope="write:/releases""#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    realm: String,
    error: Option<ChallengeError>,
    description: Option<String>,
    scope: Option<String>,
}

impl Challenge {
    /// A challenge with only a realm: the answer to a request without credentials.
    pub fn new(realm: &str) -> Self {
        Self {
            realm: realm.chars().filter(|&c| is_qdtext(c)).collect(),
            error: None,
            description: None,
            scope: None,
        }
    }

    /// Adds the `error` attribute.
    #[must_use]
    pub fn error(mut self, error: ChallengeError) -> Self {
        self.error = Some(error);
        self
    }

    /// Adds `error_description`, keeping only `%x20-21 / %x23-5B / %x5D-7E`.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.chars().filter(|&c| is_description_char(c)).collect());
        self
    }

    /// Adds `scope`: space-separated tokens of `%x21 / %x23-5B / %x5D-7E`.
    #[must_use]
    pub fn scope(mut self, scope: &str) -> Self {
        let tokens: Vec<String> = scope
            .split(' ')
            .map(|token| token.chars().filter(|&c| is_scope_char(c)).collect())
            .filter(|token: &String| !token.is_empty())
            .collect();
        self.scope = Some(tokens.join(" "));
        self
    }
}

fn is_description_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

fn is_scope_char(c: char) -> bool {
    c != ' ' && is_description_char(c)
}

/// The realm is a quoted-string; keeping it to the description set avoids
/// the need for escapes.
fn is_qdtext(c: char) -> bool {
    is_description_char(c)
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bearer realm=\"{}\"", self.realm)?;
        if let Some(error) = self.error {
            write!(f, ", error=\"{}\"", error.as_str())?;
        }
        if let Some(description) = &self.description {
            write!(f, ", error_description=\"{description}\"")?;
        }
        if let Some(scope) = &self.scope {
            write!(f, ", scope=\"{scope}\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_only() {
        assert_eq!(Challenge::new("tokenkeep").to_string(), r#"Bearer realm="tokenkeep""#);
    }

    #[test]
    fn every_attribute_in_rfc_order() {
        let challenge = Challenge::new("api")
            .error(ChallengeError::InvalidToken)
            .description("The access token expired");
        assert_eq!(
            challenge.to_string(),
            r#"Bearer realm="api", error="invalid_token", error_description="The access token expired""#
        );
    }

    #[test]
    fn forbidden_characters_are_dropped() {
        let challenge = Challenge::new("a\"b\\c")
            .error(ChallengeError::InvalidRequest)
            .description("bad \"quote\" \\ back\nslash é")
            .scope("read:/a\"b  write:/c\u{1}");
        assert_eq!(
            challenge.to_string(),
            r#"Bearer realm="abc", error="invalid_request", error_description="bad quote  backslash ", scope="read:/ab write:/c""#
        );
    }
}
