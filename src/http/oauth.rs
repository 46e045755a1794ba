//! OAuth 2.0 token introspection (RFC 7662) and revocation (RFC 7009):
//! what a system that speaks only HTTP asks about a token, and how the
//! holder of one gives it up.

use serde::Serialize;

use super::{Rejection, RequestFacts, RouteRequirement, verify_request};
use crate::record::TokenRecord;
use crate::scope::Route;
use crate::service::TokenService;

/// The ability that lets a token call introspection (a manager may too).
pub const INTROSPECT_ABILITY: &str = "tokens:introspect";

/// What introspection answers: `{"active": false}` and nothing else for any
/// token not valid now (unknown, revoked, expired, malformed, its uses
/// spent), so the answer tells nothing of why; for a valid one, who it is
/// and what it may do.
///
/// ```
/// use tokenkeep::http::Introspection;
/// let inactive = serde_json::to_value(Introspection::of(None))?;
/// assert_eq!(inactive, serde_json::json!({"active": false}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Introspection {
    active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    token: Option<ActiveToken>,
}

/// The members of an active token's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct ActiveToken {
    token_type: &'static str,
    /// The owner.
    sub: String,
    /// The token's id.
    jti: String,
    /// The token's name.
    username: String,
    /// The abilities, space-separated, and `manager` for a manager.
    scope: String,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    /// An extension member: the routes, as a token view shows them.
    routes: Vec<Route>,
}

impl Introspection {
    /// The answer for `record`, the token if it is valid now (as
    /// [`TokenService::introspect`] finds it).
    pub fn of(record: Option<&TokenRecord>) -> Self {
        let token = record.map(|record| {
            let scopes = &record.scopes;
            let manager = scopes.manager.then_some("manager");
            let abilities = scopes.abilities.iter().map(|ability| ability.as_str());
            ActiveToken {
                token_type: "Bearer",
                sub: record.owner.clone(),
                jti: record.id.to_string(),
                username: record.name.as_str().to_owned(),
                scope: abilities.chain(manager).collect::<Vec<_>>().join(" "),
                iat: record.created_at.unix_timestamp(),
                exp: record.expires_at.map(time::OffsetDateTime::unix_timestamp),
                routes: scopes.routes.clone(),
            }
        });
        Self { active: token.is_some(), token }
    }

    /// Whether the token is valid now.
    pub fn is_active(&self) -> bool {
        self.active
    }
}

/// Introspection (RFC 7662): `caller` is the request asking, which must
/// carry a manager token or one with the ability [`INTROSPECT_ABILITY`];
/// `form` is its `application/x-www-form-urlencoded` body, whose `token`
/// is the token asked about (`token_type_hint` is accepted and ignored).
/// Asking never consumes a use of that token nor counts as its last use.
/// Send the answer with `Cache-Control: no-store`.
///
/// # Errors
/// The caller's refusal from the pipeline (401 without a valid token, 403
/// `insufficient_scope` without the ability), then 400 `invalid_request`
/// without a `token`, 503 when the store cannot answer.
pub async fn introspect(
    service: &TokenService,
    caller: &RequestFacts<'_>,
    form: &[u8],
) -> Result<Introspection, Rejection> {
    let asking = RouteRequirement::Ability(INTROSPECT_ABILITY.to_owned());
    verify_request(service, caller, &asking).await?;
    let token = form_token(form)?;
    let record = service.introspect(&token).await?;
    Ok(Introspection::of(record.as_deref()))
}

/// Revocation by its holder (RFC 7009): `form`'s `token` is revoked if it
/// names a stored token; the answer is the same either way (200, an empty
/// body), so the endpoint tells nothing. Nobody else is asked: holding the
/// token is the proof. The token's `revoked_by` reads
/// `oauth revocation by its holder`.
///
/// # Errors
/// 400 `invalid_request` without a `token`, 503 when the store cannot
/// answer.
#[cfg(feature = "management")]
pub async fn revoke_by_holder(manager: &crate::TokenManager, form: &[u8]) -> Result<(), Rejection> {
    let token = form_token(form)?;
    let by = "oauth revocation by its holder";
    manager.revoke_presented(&token, by, crate::record::RevokeReason::Revoked).await?;
    Ok(())
}

/// The one `token` parameter of a form body.
fn form_token(form: &[u8]) -> Result<String, Rejection> {
    let invalid = |message: &str| Rejection::new(400, "invalid_request", message);
    let mut tokens = form_urlencoded::parse(form).filter(|(key, _)| key == "token");
    let token = tokens.next().ok_or_else(|| invalid("the form has no token parameter"))?.1;
    if tokens.next().is_some() {
        return Err(invalid("the form has more than one token parameter"));
    }
    if token.is_empty() {
        return Err(invalid("the token parameter is empty"));
    }
    Ok(token.into_owned())
}

#[cfg(test)]
mod tests {
    use super::form_token;

    #[test]
    fn a_form_has_one_token() {
        assert_eq!(form_token(b"token=tk_a%2Bb&token_type_hint=access_token").unwrap(), "tk_a+b");
        for bad in [&b""[..], b"token=", b"token=a&token=b", b"tokens=a"] {
            let refused = form_token(bad).unwrap_err();
            assert_eq!((refused.status(), refused.code()), (400, "invalid_request"));
        }
    }
}
