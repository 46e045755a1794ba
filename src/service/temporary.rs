//! Temporary tokens: configured at start-up (`--token root:root-secret`, a
//! legacy admin bearer from the environment), never written to a store,
//! gone on restart. The builder puts them in a layer in front of the store,
//! so verification and management meet them as they meet any record.

use time::OffsetDateTime;

use crate::error::ConfigError;
use crate::hash::TokenHasher;
use crate::record::{TokenId, TokenKind, TokenName, TokenRecord};
use crate::scope::Scopes;
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
        let (name, secret) =
            spec.split_once(':').ok_or(ConfigError::TemporaryToken("expected NAME:SECRET"))?;
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

/// The records of the configured temporary tokens, checked: no two share a
/// name or a secret. The flag says whether any secret is outside the
/// service's format, so that such text must still be hashed and looked up.
pub(super) fn temporary_records(
    tokens: Vec<TemporaryToken>,
    format: &TokenFormat,
    hasher: &TokenHasher,
    now: OffsetDateTime,
) -> Result<(Vec<TokenRecord>, bool), ConfigError> {
    let mut records: Vec<TokenRecord> = Vec::with_capacity(tokens.len());
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
        let hash = hasher.hash(text);
        if records.iter().any(|other| other.name == token.name) {
            return Err(ConfigError::TemporaryToken("two temporary tokens share a name"));
        }
        if records.iter().any(|other| other.hash == hash) {
            return Err(ConfigError::TemporaryToken("two temporary tokens share a secret"));
        }
        let id = TokenId::random().map_err(|_| ConfigError::Invalid("no randomness"))?;
        let owner = token.owner.unwrap_or_else(|| token.name.as_str().to_owned());
        let mut record = TokenRecord::new(id, owner, token.name, hash, now);
        record.display_prefix = display_prefix;
        record.scopes = token.scopes;
        record.kind = TokenKind::Temporary;
        record.expires_at = token.expires_at;
        record.created_by = Some("configuration".to_owned());
        records.push(record);
    }
    Ok((records, any_custom))
}
