//! Import: records exported elsewhere (or from another system), held to
//! the rules issue applies, so an import cannot do what an issue may not.

use std::collections::{BTreeSet, HashMap, HashSet};

use time::OffsetDateTime;

use super::audit::audited;
use super::policy::Actor;
use super::{ManageError, TokenManager};
use crate::record::{RecordError, TokenId, TokenRecord};
use crate::store::ManageStoreExt as _;
use crate::store::{ImportReport, ListQuery, StoreError};

impl TokenManager {
    /// Writes exported records into this service's store, history included;
    /// records whose id or hash exists are skipped. Managers only.
    ///
    /// Every record is held to the rules an issue is: each field valid
    /// (names, owners, descriptions, profiles, principals, usage limits),
    /// the lifetime policy for records still active, each owner's cap and
    /// unique active names counting what the store already holds, and a
    /// rotation chain (`replaced_by`) that stays within its owner. One
    /// record that breaks a rule refuses the whole import, and nothing is
    /// written.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden); a field's error
    /// ([`InvalidName`](ManageError::InvalidName),
    /// [`InvalidRecord`](ManageError::InvalidRecord), with
    /// [`RecordError::Chain`] for a chain to another owner's token);
    /// [`NameTaken`](StoreError::NameTaken),
    /// [`LimitReached`](StoreError::LimitReached); or the store's failure.
    pub async fn import(
        &self,
        actor: &Actor,
        records: Vec<TokenRecord>,
    ) -> Result<ImportReport, ManageError> {
        let target = format!("{} records", records.len());
        let imported = async {
            self.manage.policy.require_manager(actor)?;
            let now = self.now();
            for record in &records {
                self.check_fields(record, now)?;
            }
            self.check_owner_rules(&records, now).await?;
            let report = self.manage.store.import(records).await;
            // Even a failed import may have stored some records.
            self.forget_absent_custom();
            Ok(report?)
        };
        audited("import", actor, &target, imported.await)
    }

    /// What a user gives is held to today's rules, whatever wrote it.
    fn check_fields(&self, record: &TokenRecord, now: OffsetDateTime) -> Result<(), ManageError> {
        super::fields::check_fields(record)?;
        // History may be as it was; what still works keeps the policy.
        if record.is_active(now) {
            self.manage
                .policy
                .require_lifetime(now, record.expires_at)?;
        }
        Ok(())
    }

    /// Per owner, the records that will be written (not yet in the store)
    /// together with what the store holds: the cap, unique active names,
    /// and chains within the owner.
    async fn check_owner_rules(
        &self,
        records: &[TokenRecord],
        now: OffsetDateTime,
    ) -> Result<(), ManageError> {
        let store = &self.manage.store;
        let owners: BTreeSet<&str> = records.iter().map(|record| record.owner.as_str()).collect();
        let by_id: HashMap<TokenId, &TokenRecord> =
            records.iter().map(|record| (record.id, record)).collect();
        for owner in owners {
            let query = ListQuery {
                owner: Some(owner.to_owned()),
                include_inactive: true,
                now,
            };
            let stored = store.list(&query).await?;
            let stored_ids: HashSet<TokenId> = stored.iter().map(|record| record.id).collect();
            let stored_hashes: HashSet<_> = stored.iter().map(|record| record.hash).collect();
            let incoming: Vec<&TokenRecord> = records
                .iter()
                .filter(|record| record.owner == owner)
                .filter(|record| {
                    !stored_ids.contains(&record.id) && !stored_hashes.contains(&record.hash)
                })
                .collect();

            for record in &incoming {
                let Some(next) = record.replaced_by else {
                    continue;
                };
                let same_owner = match by_id.get(&next) {
                    Some(successor) => successor.owner == owner,
                    None if stored_ids.contains(&next) => true,
                    // A successor deleted since is no chain to follow; one
                    // of another owner is refused.
                    None => store.get(&next).await?.is_none(),
                };
                if !same_owner {
                    return Err(RecordError::Chain.into());
                }
            }

            let mut names: HashSet<&str> = stored
                .iter()
                .filter(|record| record.holds_name(now))
                .map(|record| record.name.as_str())
                .collect();
            for record in incoming.iter().filter(|record| record.holds_name(now)) {
                if !names.insert(record.name.as_str()) {
                    return Err(StoreError::NameTaken.into());
                }
            }

            if let Some(limit) = self.manage.policy.max_active_per_owner {
                let active = stored.iter().filter(|record| record.is_active(now)).count()
                    + incoming
                        .iter()
                        .filter(|record| record.is_active(now))
                        .count();
                if active > limit {
                    return Err(StoreError::LimitReached { limit }.into());
                }
            }
        }
        Ok(())
    }
}
