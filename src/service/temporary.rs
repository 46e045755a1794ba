//! Temporary tokens: configured at start-up (`--token root:root-secret`, a
//! legacy admin bearer from the environment), checked on every verification,
//! never written to a store, gone on restart.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use time::OffsetDateTime;

use crate::error::ConfigError;
use crate::hash::{TokenHash, TokenHasher};
use crate::record::{TokenId, TokenKind, TokenName, TokenRecord};
use crate::scope::Scopes;
use crate::store::LastUse;
use crate::token::{TokenFormat, TokenSecret};

/// The settings of one temporary token.
///
/// ```
/// use tokenkeep::TemporaryToken;
/// let root = TemporaryToken::parse_spec("root:root-secret")?;
/// assert!(TemporaryToken::parse_spec("no-colon").is_err());
/// # Ok::<(), tokenkeep::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct TemporaryToken {
    name: TokenName,
    owner: Option<String>,
    secret: TokenSecret,
    scopes: Scopes,
    expires_at: Option<OffsetDateTime>,
}

impl TemporaryToken {
    /// A temporary token with these scopes; its owner is its name unless
    /// [`owner`](Self::owner) says otherwise.
    ///
    /// # Errors
    /// [`ConfigError::TemporaryToken`] for a bad name.
    pub fn new(name: &str, secret: TokenSecret, scopes: Scopes) -> Result<Self, ConfigError> {
        Ok(Self {
            name: TokenName::new(name)
                .map_err(|_| ConfigError::TemporaryToken("the name is not a valid token name"))?,
            owner: None,
            secret,
            scopes,
            expires_at: None,
        })
    }

    /// Reads `NAME:SECRET` (the `--token` option) into a manager token. The
    /// secret may be a minted token or custom text of 8–512 `b64token`
    /// characters.
    ///
    /// # Errors
    /// [`ConfigError::TemporaryToken`] saying what is wrong, never echoing
    /// the secret.
    pub fn parse_spec(spec: &str) -> Result<Self, ConfigError> {
        let (name, secret) = spec
            .split_once(':')
            .ok_or(ConfigError::TemporaryToken("expected NAME:SECRET"))?;
        let secret = TokenSecret::custom(secret).map_err(|_| {
            ConfigError::TemporaryToken("the secret must be 8-512 letters, digits or - . _ ~ + /")
        })?;
        Self::new(name, secret, Scopes::manager())
    }

    /// Sets the owner it authenticates as.
    #[must_use]
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Makes it expire.
    #[must_use]
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }
}

/// The process's temporary tokens, by hash. Revocation is kept in memory.
#[derive(Debug)]
pub(crate) struct TemporaryTokens {
    by_hash: RwLock<HashMap<TokenHash, Arc<TokenRecord>>>,
    /// No lock is taken on the verification path when there are none.
    is_empty: bool,
    /// Whether any secret is outside the service's format, so that
    /// malformed text must still be hashed and looked up here.
    any_custom: bool,
}

impl TemporaryTokens {
    pub(crate) fn new(
        tokens: Vec<TemporaryToken>,
        format: &TokenFormat,
        hasher: &TokenHasher,
        now: OffsetDateTime,
    ) -> Result<Self, ConfigError> {
        let mut by_hash = HashMap::new();
        let mut any_custom = false;
        for token in tokens {
            let text = token.secret.expose_secret();
            let display_prefix = match format.parse(text) {
                Ok(parsed) => parsed.display_prefix().to_owned(),
                Err(_) => {
                    any_custom = true;
                    String::new()
                }
            };
            let name_taken = by_hash
                .values()
                .any(|other: &Arc<TokenRecord>| other.name == token.name);
            if name_taken {
                return Err(ConfigError::TemporaryToken(
                    "two temporary tokens share a name",
                ));
            }
            let record = TokenRecord {
                id: TokenId::random().map_err(|_| ConfigError::Invalid("no randomness"))?,
                owner: token
                    .owner
                    .unwrap_or_else(|| token.name.as_str().to_owned()),
                name: token.name,
                description: None,
                hash: hasher.hash(text),
                display_prefix,
                scopes: token.scopes,
                profile: None,
                kind: TokenKind::Temporary,
                created_at: now,
                expires_at: token.expires_at,
                last_used_at: None,
                revoked_at: None,
                replaced_by: None,
            };
            if by_hash.insert(record.hash, Arc::new(record)).is_some() {
                return Err(ConfigError::TemporaryToken(
                    "two temporary tokens share a secret",
                ));
            }
        }
        Ok(Self {
            is_empty: by_hash.is_empty(),
            by_hash: RwLock::new(by_hash),
            any_custom,
        })
    }

    pub(crate) fn any_custom(&self) -> bool {
        self.any_custom
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<TokenHash, Arc<TokenRecord>>> {
        self.by_hash.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<TokenHash, Arc<TokenRecord>>> {
        self.by_hash.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn find(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        if self.is_empty {
            return None;
        }
        self.read().get(hash).cloned()
    }

    #[cfg(feature = "management")]
    pub(crate) fn get(&self, id: &TokenId) -> Option<TokenRecord> {
        if self.is_empty {
            return None;
        }
        self.read()
            .values()
            .find(|record| record.id == *id)
            .map(|record| TokenRecord::clone(record))
    }

    /// Records matching the filter, as a store's `list` would return them.
    #[cfg(feature = "management")]
    pub(crate) fn list(
        &self,
        owner: Option<&str>,
        include_inactive: bool,
        now: OffsetDateTime,
    ) -> Vec<TokenRecord> {
        if self.is_empty {
            return Vec::new();
        }
        self.read()
            .values()
            .filter(|record| owner.is_none_or(|owner| record.owner == owner))
            .filter(|record| include_inactive || record.is_active(now))
            .map(|record| TokenRecord::clone(record))
            .collect()
    }

    /// Revokes the matching active temporary tokens in memory; returns them.
    #[cfg(feature = "management")]
    pub(crate) fn revoke_where(
        &self,
        at: OffsetDateTime,
        matches: impl Fn(&TokenRecord) -> bool,
    ) -> Vec<TokenRecord> {
        if self.is_empty {
            return Vec::new();
        }
        let mut revoked = Vec::new();
        for record in self.write().values_mut() {
            if matches(record) && record.is_active(at) {
                let record = Arc::make_mut(record);
                record.revoked_at = Some(at);
                revoked.push(record.clone());
            }
        }
        revoked
    }

    /// Applies the notes about temporary tokens; returns the others.
    pub(crate) fn record_last_used(&self, uses: Vec<LastUse>) -> Vec<LastUse> {
        if self.is_empty {
            return uses;
        }
        let mut by_hash = self.write();
        let mut rest = Vec::with_capacity(uses.len());
        for used in uses {
            match by_hash.values_mut().find(|record| record.id == used.id) {
                Some(record) => {
                    let record = Arc::make_mut(record);
                    record.last_used_at = record.last_used_at.max(Some(used.at));
                }
                None => rest.push(used),
            }
        }
        rest
    }
}
