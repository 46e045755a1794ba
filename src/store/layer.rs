//! Layers: behaviour around a store that forwards, by construction, every
//! call it does not change.
//!
//! A layer implements [`StoreLayer`] (and [`WriteLayer`] when the store below
//! can be written): it names the store below and overrides only the calls
//! it changes. Every other call is forwarded by the trait's own defaults
//! (but one: the `find_by_hash_now` shortcut, see its docs), and the
//! blanket implementations below make every layer a
//! [`TokenStore`] (and a [`ManageStore`]). A method added to the store
//! traits is added here once, with its forwarding default, so no layer can
//! be left silently on a store default.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ChangeScope, Changes, LastUse, ListQuery, ManageStore, Plan, StoreError, TokenStore};
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
use crate::token::Prefix;

/// Behaviour around a store; every call it does not override goes to
/// [`inner`](Self::inner) unchanged. Each method has the meaning of the
/// [`TokenStore`] method of the same name.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use tokenkeep::hash::TokenHash;
/// use tokenkeep::store::{StoreLayer, MemoryStore, StoreError, TokenStore, async_trait};
/// use tokenkeep::TokenRecord;
///
/// /// Counts lookups; forwards everything.
/// #[derive(Debug, Default)]
/// struct Counted {
///     inner: MemoryStore,
///     lookups: AtomicU64,
/// }
///
/// #[async_trait]
/// impl StoreLayer for Counted {
///     type Inner = MemoryStore;
///     fn inner(&self) -> &MemoryStore {
///         &self.inner
///     }
///     async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
///         self.lookups.fetch_add(1, Ordering::Relaxed);
///         self.inner.find_by_hash(hash).await
///     }
/// }
///
/// let store: Arc<dyn TokenStore> = Arc::new(Counted::default());
/// ```
#[async_trait]
pub trait StoreLayer: std::fmt::Debug + Send + Sync + 'static {
    /// The store below.
    type Inner: TokenStore + ?Sized;

    /// The store below.
    fn inner(&self) -> &Self::Inner;

    /// See [`TokenStore::find_by_hash`].
    ///
    /// # Errors
    /// As the store's.
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.inner().find_by_hash(hash).await
    }

    /// See [`TokenStore::find_by_hash_now`]: a shortcut of
    /// [`find_by_hash`](Self::find_by_hash), which must agree with it. The
    /// one call not forwarded by default: it answers `None`, so the
    /// service goes through this layer's `find_by_hash` and a layer that
    /// changes lookups is never bypassed. A layer that leaves lookups alone
    /// forwards it (`self.inner().find_by_hash_now(hash)`) to keep an
    /// in-memory store's fast path.
    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        let _ = hash;
        None
    }

    /// See [`TokenStore::get`].
    ///
    /// # Errors
    /// As the store's.
    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.inner().get(id).await
    }

    /// See [`TokenStore::list`].
    ///
    /// # Errors
    /// As the store's.
    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner().list(query).await
    }

    /// See [`TokenStore::list_expiring`].
    ///
    /// # Errors
    /// As the store's.
    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner().list_expiring(now, before).await
    }

    /// See [`TokenStore::record_last_used`].
    ///
    /// # Errors
    /// As the store's.
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        self.inner().record_last_used(uses).await
    }

    /// See [`TokenStore::changes`].
    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.inner().changes()
    }

    /// See [`TokenStore::may_hold_custom_secrets`].
    ///
    /// # Errors
    /// As the store's.
    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        self.inner().may_hold_custom_secrets(prefix).await
    }

    /// See [`TokenStore::has_ever_held_token`].
    ///
    /// # Errors
    /// As the store's.
    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        self.inner().has_ever_held_token().await
    }
}

/// The write side of a [`StoreLayer`] over a store that can be written.
#[async_trait]
pub trait WriteLayer: StoreLayer<Inner: ManageStore> {
    /// See [`ManageStore::change`].
    ///
    /// # Errors
    /// As the store's.
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        self.inner().change(scope, plan).await
    }
}

#[async_trait]
impl<L: StoreLayer> TokenStore for L {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        StoreLayer::find_by_hash(self, hash).await
    }

    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        StoreLayer::find_by_hash_now(self, hash)
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        StoreLayer::get(self, id).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        StoreLayer::list(self, query).await
    }

    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        StoreLayer::list_expiring(self, now, before).await
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        StoreLayer::record_last_used(self, uses).await
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        StoreLayer::changes(self)
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        StoreLayer::may_hold_custom_secrets(self, prefix).await
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        StoreLayer::has_ever_held_token(self).await
    }
}

#[async_trait]
impl<L: WriteLayer> ManageStore for L {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        WriteLayer::change(self, scope, plan).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use time::OffsetDateTime;

    use super::{StoreLayer, TokenStore};
    use crate::hash::TokenHash;
    use crate::record::{TokenId, TokenRecord, test_record};
    use crate::store::{LastUse, ListQuery, StoreError};
    use crate::token::Prefix;

    /// A store whose every optional method answers what no default does.
    #[derive(Debug)]
    struct Unusual {
        expiring: TokenRecord,
        changes: tokio::sync::watch::Sender<u64>,
    }

    #[async_trait]
    impl TokenStore for Unusual {
        async fn find_by_hash(
            &self,
            _: &TokenHash,
        ) -> Result<Option<Arc<TokenRecord>>, StoreError> {
            Ok(None)
        }
        fn find_by_hash_now(
            &self,
            _: &TokenHash,
        ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
            Some(Ok(None))
        }
        async fn get(&self, _: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
            Ok(None)
        }
        async fn list(&self, _: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
            Ok(Vec::new())
        }
        async fn list_expiring(
            &self,
            _: OffsetDateTime,
            _: OffsetDateTime,
        ) -> Result<Vec<TokenRecord>, StoreError> {
            Ok(vec![self.expiring.clone()])
        }
        async fn record_last_used(&self, _: &[LastUse]) -> Result<(), StoreError> {
            Ok(())
        }
        fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
            Some(self.changes.subscribe())
        }
        async fn may_hold_custom_secrets(&self, _: &Prefix) -> Result<bool, StoreError> {
            Ok(false)
        }
        async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
            Ok(true)
        }
    }

    /// Overrides nothing.
    #[derive(Debug)]
    struct Nothing(Unusual);

    impl StoreLayer for Nothing {
        type Inner = Unusual;
        fn inner(&self) -> &Unusual {
            &self.0
        }
    }

    /// A layer that overrides nothing answers every optional method as the
    /// store below does, never as the trait's default would: forwarded by
    /// construction. Only `find_by_hash_now` is not forwarded, on purpose.
    #[tokio::test]
    async fn a_layer_forwards_what_it_does_not_override() {
        let expiring = test_record("alice", "soon");
        let unusual =
            Unusual { expiring: expiring.clone(), changes: tokio::sync::watch::Sender::new(0) };
        let layer: Arc<dyn TokenStore> = Arc::new(Nothing(unusual));
        let now = OffsetDateTime::now_utc();
        let listed = layer.list_expiring(now, now).await.expect("list_expiring");
        assert_eq!(listed, [expiring], "list_expiring is the store's, not the default filter");
        assert!(layer.changes().is_some(), "the store's change signal");
        let prefix = Prefix::new("tk").expect("a prefix");
        assert!(
            !layer.may_hold_custom_secrets(&prefix).await.expect("answer"),
            "the store's answer, not the default `true`"
        );
        assert!(layer.has_ever_held_token().await.expect("answer"));
        let hash = crate::hash::TokenHasher::sha256().hash("tk_any");
        assert!(
            layer.find_by_hash_now(&hash).is_none(),
            "the shortcut is left to the layer's own find_by_hash"
        );
    }
}
