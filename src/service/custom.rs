//! Text outside the token format, and whether it is worth a store query.
//!
//! A service that accepts custom secrets would hash and look up every
//! bearer that does not carry its prefix, so each garbage request would
//! cost a store query. Instead the service keeps, for one short epoch, what
//! it learnt of the store: whether it holds any record made from such text
//! at all and, if it does, a bounded set of such hashes the store just said
//! it does not hold. Both only ever refuse text.
//!
//! An epoch ends when this service's manager stores such a record (issue,
//! import), at the store's change signal, and after [`RECHECK`] at most: the
//! bound on how long a custom secret that another process adds stays
//! refused here.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;

use super::RECHECK;
use crate::hash::TokenHash;
use crate::store::{StoreError, TokenStore};
use crate::token::Prefix;

/// How many absent hashes one epoch remembers; when full it forgets them
/// all and starts again, so a flood of distinct text costs bounded memory.
const MAX_ABSENT: usize = 4096;

/// Whether custom-shaped text is worth asking the store about.
#[derive(Debug)]
pub(super) struct CustomLookups {
    /// The store as configured, without the temporary tokens in front
    /// (those are answered from memory before the store is asked).
    store: Arc<dyn TokenStore>,
    prefix: Prefix,
    store_changes: Option<watch::Receiver<u64>>,
    epoch: Mutex<Epoch>,
}

/// What one epoch knows.
#[derive(Debug)]
struct Epoch {
    serial: u64,
    /// The store's change counter when it began.
    version: u64,
    began: Instant,
    /// The store's answer; `None` until it is known.
    store_may_hold: Option<bool>,
    asking: bool,
    absent: HashSet<TokenHash>,
}

/// What to do with text outside the format.
#[derive(Debug)]
pub(super) enum Gate {
    /// The store holds no such text, or not this one: refuse it.
    Refuse,
    /// Look it up.
    LookUp(Lookup),
    /// Ask the store whether it holds custom secrets at all, then tell
    /// [`CustomLookups::answered`].
    AskFirst(Lookup),
}

/// The permission to look text up, and the epoch that gave it: an absence
/// is remembered only in the epoch the lookup began in.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lookup {
    serial: u64,
    version: u64,
}

impl CustomLookups {
    pub(super) fn new(store: Arc<dyn TokenStore>, prefix: Prefix) -> Self {
        let store_changes = store.changes();
        Self { store, prefix, store_changes, epoch: Mutex::new(Epoch::new(0, 0, Instant::now())) }
    }

    /// Whether text with this hash, outside the format, must be looked up.
    pub(super) fn check(&self, hash: &TokenHash) -> Gate {
        let version = self.store_version();
        let mut epoch = self.current(version);
        let lookup = Lookup { serial: epoch.serial, version };
        match epoch.store_may_hold {
            Some(false) => Gate::Refuse,
            Some(true) if epoch.absent.contains(hash) => Gate::Refuse,
            Some(true) => Gate::LookUp(lookup),
            // Another request is asking (or was, and went away): look up
            // meanwhile, never refuse on what is not known.
            None if epoch.asking => Gate::LookUp(lookup),
            None => {
                epoch.asking = true;
                Gate::AskFirst(lookup)
            }
        }
    }

    /// The store's answer to [`Gate::AskFirst`], kept for the epoch it was
    /// asked in; whether to look the text up.
    pub(super) fn answered(&self, lookup: Lookup, answer: Result<bool, StoreError>) -> bool {
        let mut epoch = self.lock();
        if epoch.serial == lookup.serial {
            epoch.asking = false;
            epoch.store_may_hold = answer.as_ref().ok().copied();
        }
        // A store that cannot answer is looked up, and answers that.
        answer.unwrap_or(true)
    }

    /// The store to ask, and the prefix to ask about.
    pub(super) fn question(&self) -> (&dyn TokenStore, &Prefix) {
        (&*self.store, &self.prefix)
    }

    /// Remembers that the store does not hold `hash`, if nothing changed
    /// since the lookup began.
    pub(super) fn absent(&self, hash: TokenHash, lookup: Lookup) {
        let version = self.store_version();
        let mut epoch = self.lock();
        if epoch.serial == lookup.serial && lookup.version == version {
            if epoch.absent.len() >= MAX_ABSENT {
                epoch.absent.clear();
            }
            epoch.absent.insert(hash);
        }
    }

    /// Ends the epoch: a record made from text outside the format may
    /// have just been stored.
    #[cfg(feature = "management")]
    pub(super) fn forget(&self) {
        let mut epoch = self.lock();
        let serial = epoch.serial.wrapping_add(1);
        *epoch = Epoch::new(serial, self.store_version(), Instant::now());
    }

    /// The epoch for this store counter and this instant, a fresh one if
    /// the last has ended.
    fn current(&self, version: u64) -> MutexGuard<'_, Epoch> {
        let now = Instant::now();
        let mut epoch = self.lock();
        if epoch.version != version || now.duration_since(epoch.began) >= RECHECK {
            let serial = epoch.serial.wrapping_add(1);
            *epoch = Epoch::new(serial, version, now);
        }
        epoch
    }

    fn store_version(&self) -> u64 {
        self.store_changes.as_ref().map_or(0, |changes| *changes.borrow())
    }

    fn lock(&self) -> MutexGuard<'_, Epoch> {
        self.epoch.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Epoch {
    fn new(serial: u64, version: u64, began: Instant) -> Self {
        Self { serial, version, began, store_may_hold: None, asking: false, absent: HashSet::new() }
    }
}
