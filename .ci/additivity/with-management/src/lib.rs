//! Another crate of the same build switches `management` on; the
//! verify-only store beside it must still compile and serve.

use std::sync::Arc;

use tokenkeep::store::MemoryStore;
use tokenkeep::{Prefix, TokenManager, TokenService};

/// The read-only store's service, built with `management` unified in.
pub fn edge() -> TokenService {
    read_store::service(read_store::Snapshot::default())
}

/// A manager over a store that can be written.
pub fn manager() -> TokenManager {
    TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("hq").expect("a valid prefix"))
        .build()
        .expect("a valid configuration")
}
