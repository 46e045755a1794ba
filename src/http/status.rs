//! The one table where the crate's machine codes meet HTTP statuses.

/// The HTTP status of each machine code the crate uses: the one place where
/// errors meet HTTP.
///
/// | status | codes |
/// | --- | --- |
/// | 400 | `INVALID_REQUEST`, `INVALID_PATH`, `INVALID_NAME`, `INVALID_ID`, `INVALID_OWNER`, `INVALID_DESCRIPTION`, `INVALID_PROFILE`, `INVALID_PRINCIPAL`, `INVALID_METADATA`, `INVALID_RATE_LIMIT`, `INVALID_USAGE`, `INVALID_CHAIN`, `INVALID_DURATION`, `INVALID_SCOPE`, `INVALID_SECRET`, `INVALID_HASH`, `INVALID_HOST`, `LIFETIME_TOO_LONG` |
/// | 401 | `UNAUTHORIZED` (no credentials), `INVALID_TOKEN` (unknown, malformed, revoked, expired), `INVALID_SETUP_TOKEN` |
/// | 403 | `INSUFFICIENT_SCOPE`, `FORBIDDEN` |
/// | 404 | `NOT_FOUND` |
/// | 429 | `RATE_LIMITED` (with `Retry-After`) |
/// | 409 | `NAME_TAKEN`, `TOKEN_LIMIT_REACHED`, `ALREADY_CLAIMED`, `TOKEN_INACTIVE`, `TOKEN_TEMPORARY`, `DUPLICATE`, `AMBIGUOUS_NAME` |
/// | 503 | `STORE_UNAVAILABLE` (verification fails closed) |
/// | 500 | anything else (`INTERNAL`, `INVALID_CONFIG`, a local file error) |
///
/// ```
/// assert_eq!(tokenkeep::http::status_for_code("INSUFFICIENT_SCOPE"), 403);
/// ```
pub fn status_for_code(code: &str) -> u16 {
    match code {
        "INVALID_REQUEST"
        | "INVALID_PATH"
        | "INVALID_NAME"
        | "INVALID_ID"
        | "INVALID_OWNER"
        | "INVALID_DESCRIPTION"
        | "INVALID_PROFILE"
        | "INVALID_PRINCIPAL"
        | "INVALID_METADATA"
        | "INVALID_RATE_LIMIT"
        | "INVALID_USAGE"
        | "INVALID_CHAIN"
        | "INVALID_DURATION"
        | "INVALID_SCOPE"
        | "INVALID_SECRET"
        | "INVALID_HASH"
        | "INVALID_HOST"
        | "LIFETIME_TOO_LONG" => 400,
        "UNAUTHORIZED" | "INVALID_TOKEN" | "INVALID_SETUP_TOKEN" => 401,
        "INSUFFICIENT_SCOPE" | "FORBIDDEN" => 403,
        "NOT_FOUND" => 404,
        "RATE_LIMITED" => 429,
        "NAME_TAKEN"
        | "TOKEN_LIMIT_REACHED"
        | "ALREADY_CLAIMED"
        | "TOKEN_INACTIVE"
        | "TOKEN_TEMPORARY"
        | "DUPLICATE"
        | "AMBIGUOUS_NAME" => 409,
        "STORE_UNAVAILABLE" => 503,
        _ => 500,
    }
}
