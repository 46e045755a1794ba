//! The one table where the crate's machine codes meet HTTP statuses.

/// The HTTP status of each machine code the crate uses: the one place where
/// errors meet HTTP.
///
/// | status | codes |
/// | --- | --- |
/// | 400 | `INVALID_REQUEST`, `INVALID_PATH`, `INVALID_NAME`, `INVALID_ID`, `INVALID_OWNER`, `INVALID_DESCRIPTION`, `INVALID_PROFILE`, `INVALID_PRINCIPAL`, `INVALID_METADATA`, `INVALID_RATE_LIMIT`, `INVALID_USAGE`, `INVALID_CHAIN`, `INVALID_DISPLAY_PREFIX`, `INVALID_DURATION`, `INVALID_SCOPE`, `INVALID_SECRET`, `INVALID_HASH`, `INVALID_HOST`, `LIFETIME_TOO_LONG` |
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
        | "INVALID_DISPLAY_PREFIX"
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

#[cfg(test)]
mod tests {
    use super::status_for_code;
    use crate::error::ErrorCode as _;
    use crate::record::RecordError;

    /// Every field a caller sets is a 400 when it is bad, never a 500.
    #[test]
    fn every_bad_field_is_a_400() {
        for error in [
            RecordError::Id,
            RecordError::Owner,
            RecordError::Description,
            RecordError::Profile,
            RecordError::Principal,
            RecordError::Metadata,
            RecordError::RateLimit,
            RecordError::Usage,
            RecordError::Chain,
            RecordError::DisplayPrefix,
        ] {
            assert_eq!(status_for_code(error.code()), 400, "{error:?}");
        }
    }

    /// What a rule refuses is the caller's to fix: 404 or 409.
    #[test]
    fn every_refusal_is_a_404_or_a_409() {
        use crate::rules::Refusal;
        assert_eq!(status_for_code(Refusal::NotFound.code()), 404);
        for refusal in [
            Refusal::Inactive,
            Refusal::NameTaken,
            Refusal::LimitReached { limit: 1 },
            Refusal::Temporary,
        ] {
            assert_eq!(status_for_code(refusal.code()), 409, "{refusal:?}");
        }
    }
}
