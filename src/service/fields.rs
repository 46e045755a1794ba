//! The one description of what a caller may set on a token: issue builds a
//! record from a request, modify applies a change to a copy of the record,
//! import takes records as they come, and each holds the result to the
//! same check. A new settable field is checked here, once.

use super::ManageError;
use crate::record::{
    TokenName, TokenRecord, check_description, check_display_prefix, check_owner, check_principal,
    check_profile,
};

/// Checks every field a caller sets: owner, name, description, profile,
/// display prefix, the principals who issued or revoked it, and the usage
/// limit. (Scopes,
/// metadata, rate limits and address ranges are checked by their types
/// when they are made.) The lifetime policy is the caller's: it applies to
/// what still works, not to history.
///
/// # Errors
/// The first field that fails: [`ManageError`] with its 400 code.
pub(super) fn check_fields(record: &TokenRecord) -> Result<(), ManageError> {
    check_owner(&record.owner)?;
    TokenName::new(record.name.as_str())?;
    if let Some(description) = &record.extras.description {
        check_description(description)?;
    }
    if let Some(profile) = &record.extras.profile {
        check_profile(profile)?;
    }
    check_display_prefix(&record.display_prefix)?;
    for principal in [&record.created_by, &record.extras.revoked_by].into_iter().flatten() {
        check_principal(principal)?;
    }
    if let Some(usage) = &record.extras.usage {
        usage.check()?;
    }
    Ok(())
}
