//! Import: records exported elsewhere (or from another system), held to
//! the rules issue applies, so an import cannot do what an issue may not.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::audit::audited;
use super::policy::Actor;
use super::{ManageError, TokenManager};
use crate::record::{RecordError, TokenId, TokenRecord};
use crate::rules::TokenRules as _;
use crate::rules::{ImportReport, InsertRules};

impl TokenManager {
    /// Writes exported records into this service's store, history included;
    /// records whose id or hash exists are skipped. Managers only.
    ///
    /// Every record is held to the rules an issue is: each field valid
    /// (names, owners, descriptions, profiles, principals, usage limits),
    /// the lifetime policy for records still active, each owner's cap and
    /// unique active names counting what the store already holds (checked
    /// inside each owner's change, so an issue racing the import cannot
    /// slip past them), and a rotation chain (`replaced_by`) that stays
    /// within its owner. One record that breaks a rule refuses the whole
    /// import, and nothing is written.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden); a field's error
    /// ([`InvalidName`](ManageError::InvalidName),
    /// [`InvalidRecord`](ManageError::InvalidRecord), with
    /// [`RecordError::Chain`] for a chain to another owner's token);
    /// [`NameTaken`](crate::rules::Refusal::NameTaken),
    /// [`LimitReached`](crate::rules::Refusal::LimitReached); or the store's failure.
    pub async fn import(
        &self,
        actor: &Actor,
        records: Vec<TokenRecord>,
    ) -> Result<ImportReport, ManageError> {
        let target = format!("{} records", records.len());
        let imported = async {
            self.manage.policy.require_manager(actor)?;
            let now = self.service().now();
            for record in &records {
                self.check_fields(record, now)?;
            }
            self.check_chains(&records).await?;
            let rules =
                InsertRules { now, max_active_per_owner: self.manage.policy.max_active_per_owner };
            let report = self.manage.store.import(records, rules).await;
            // Even a failed import may have stored some records.
            self.service().forget_absent_custom();
            Ok(report?)
        };
        audited("import", actor, &target, imported.await)
    }

    /// What a user gives is held to today's rules, whatever wrote it.
    fn check_fields(&self, record: &TokenRecord, now: OffsetDateTime) -> Result<(), ManageError> {
        super::fields::check_fields(record)?;
        // History may be as it was; what still works keeps the policy.
        if record.is_active(now) {
            self.manage.policy.require_lifetime(now, record.expires_at)?;
        }
        Ok(())
    }

    /// A rotation chain (`replaced_by`) stays within its owner. (The cap
    /// and unique names are the store's import rules, checked inside each
    /// owner's change.)
    async fn check_chains(&self, records: &[TokenRecord]) -> Result<(), ManageError> {
        let by_id: HashMap<TokenId, &TokenRecord> =
            records.iter().map(|record| (record.id, record)).collect();
        for record in records {
            let Some(next) = record.extras.replaced_by else {
                continue;
            };
            let successor_owner = match by_id.get(&next) {
                Some(successor) => Some(successor.owner.clone()),
                // A successor deleted since is no chain to follow; one of
                // another owner is refused.
                None => self.manage.store.get(&next).await?.map(|stored| stored.owner),
            };
            if successor_owner.is_some_and(|owner| owner != record.owner) {
                return Err(RecordError::Chain.into());
            }
        }
        Ok(())
    }
}
