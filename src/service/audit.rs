//! Who did what: every management action ends in one `info` event on the
//! `tokenkeep::manage` target, whatever its result (see
//! [`observability`](crate::observability)).

use std::fmt;

use super::ManageError;
use super::policy::Actor;
use crate::error::ErrorCode as _;
use crate::record::{TokenId, TokenRecord};
use crate::rules::ImportReport;

/// What a management action's result tells the audit: the token it made or
/// changed, when there is one.
pub(super) trait AuditedResult {
    fn token_id(&self) -> Option<TokenId> {
        None
    }
}

impl AuditedResult for TokenRecord {
    fn token_id(&self) -> Option<TokenId> {
        Some(self.id)
    }
}

impl AuditedResult for usize {}
impl AuditedResult for () {}
impl AuditedResult for ImportReport {}
impl AuditedResult for Vec<TokenRecord> {}
impl AuditedResult for crate::record::OwnerLimits {}

/// Reports one action and hands its result back unchanged.
pub(super) fn audited<T: AuditedResult>(
    action: &'static str,
    actor: &(dyn fmt::Display + Sync),
    target: &(dyn fmt::Display + Sync),
    result: Result<T, ManageError>,
) -> Result<T, ManageError> {
    report(action, actor, target, &result, tracing::Level::INFO);
    result
}

/// As [`audited`], for an action anyone may attempt without credentials
/// (the setup claim): its refusals are `debug`, so that a flood of
/// attempts cannot flood an `info` log.
pub(super) fn audited_unauthenticated<T: AuditedResult>(
    action: &'static str,
    target: &(dyn fmt::Display + Sync),
    result: Result<T, ManageError>,
) -> Result<T, ManageError> {
    let level = if result.is_ok() { tracing::Level::INFO } else { tracing::Level::DEBUG };
    report(action, &"setup", target, &result, level);
    result
}

fn report<T: AuditedResult>(
    action: &'static str,
    actor: &(dyn fmt::Display + Sync),
    target: &(dyn fmt::Display + Sync),
    result: &Result<T, ManageError>,
    level: tracing::Level,
) {
    let outcome = result.as_ref().map_or_else(|error| error.code(), |_| "ok");
    let token_id = result.as_ref().ok().and_then(AuditedResult::token_id);
    // The level of an event is fixed where it is written.
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                target: "tokenkeep::manage",
                $level,
                action,
                actor = %Escaped(actor),
                subject = %Escaped(target),
                result = outcome,
                token_id = token_id.map(tracing::field::display),
                "management action"
            )
        };
    }
    if level == tracing::Level::INFO {
        event!(tracing::Level::INFO);
    } else {
        event!(tracing::Level::DEBUG);
    }
}

impl fmt::Display for Actor {
    /// The acting principal as the audit names it: `admin`, `user:alice`,
    /// `token:<id>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(user) => write!(f, "user:{user}"),
            Self::Admin => f.write_str("admin"),
            Self::Token(who) => TokenPrincipal(who.token_id()).fmt(f),
        }
    }
}

/// How the audit names a token acting as a principal (`token:<id>`): in
/// `created_by` and `revoked_by`.
pub(super) struct TokenPrincipal(pub(super) crate::record::TokenId);

impl fmt::Display for TokenPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token:{}", self.0)
    }
}

/// Outside text in a log field, with every control character written as
/// an escape (`\n`, `\u{1b}`): an owner or a name, audited before or
/// after it was validated, can never start a line of its own or drive a
/// terminal, whatever subscriber writes the log.
struct Escaped<'a>(&'a (dyn fmt::Display + Sync));

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct EscapeControls<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for EscapeControls<'_, '_> {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                for piece in text.split_inclusive(char::is_control) {
                    match piece.char_indices().last() {
                        Some((at, last)) if last.is_control() => {
                            self.0.write_str(&piece[..at])?;
                            write!(self.0, "{}", last.escape_default())?;
                        }
                        _ => self.0.write_str(piece)?,
                    }
                }
                Ok(())
            }
        }
        fmt::write(&mut EscapeControls(f), format_args!("{}", self.0))
    }
}

/// An owner's token by name, for issue: `owner/name`.
pub(super) struct Named<'a>(pub(super) &'a str, pub(super) &'a str);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_cannot_break_a_log_line() {
        let shown = Escaped(&"alice\nFAKE line\u{1b}[31m\u{9b}ok").to_string();
        assert_eq!(shown, "alice\\nFAKE line\\u{1b}[31m\\u{9b}ok");
        assert_eq!(Escaped(&"plain text").to_string(), "plain text");
    }
}
