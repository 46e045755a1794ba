//! The verification path, header to verdict: the steps listed in the
//! `service` module documentation, top to bottom in this file.

use std::future::Future;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use super::custom::Gate;
use super::{AuthError, InvalidToken};
use crate::bearer::parse_authorization;
use crate::expiry::unix_millis;
use crate::hash::TokenHash;
use crate::limiter::{Budget, Taken};
use crate::record::{Metadata, RateLimit, TokenId, TokenKind, TokenRecord};
use crate::rules::{RuleError, TokenRules as _};
use crate::scope::{Requirement, Scopes};
use crate::store::StoreError;
use crate::token::{FormatError, TokenSecret};
use futures_util::future::Either;

use super::TokenService;

/// A store call's boxed future, as `async_trait` returns it.
type StoreCall<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Who a verified request is: the token's record, shared, not copied, and
/// the client's address it was verified from.
#[derive(Clone, Debug)]
pub struct Authenticated {
    record: Arc<TokenRecord>,
    client: Option<IpAddr>,
}

impl Authenticated {
    /// The user or service account the token authenticates as.
    pub fn owner(&self) -> &str {
        &self.record.owner
    }

    /// The token's id.
    pub fn token_id(&self) -> TokenId {
        self.record.id
    }

    /// The token's name.
    pub fn name(&self) -> &str {
        self.record.name.as_str()
    }

    /// What the token may do.
    pub fn scopes(&self) -> &Scopes {
        &self.record.scopes
    }

    /// The profile the token is narrowed to, if any.
    pub fn profile(&self) -> Option<&str> {
        self.record.extras.profile.as_deref()
    }

    /// The application's own JSON object on the token, if any.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.record.extras.metadata.as_ref()
    }

    /// Persistent or temporary.
    pub fn kind(&self) -> TokenKind {
        self.record.kind
    }

    /// The whole record as it was when the token verified.
    pub fn record(&self) -> &TokenRecord {
        &self.record
    }

    /// The client's address the token was verified from (`None` when it
    /// was unknown): what an address allow-list is judged against, at the
    /// verification and again by [`TokenService::revocation`].
    pub fn client(&self) -> Option<IpAddr> {
        self.client
    }

    /// Checks a further requirement against the token's scopes, as
    /// verification does for the one it was given.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] naming the scope needed.
    pub fn require(&self, requirement: &Requirement<'_>) -> Result<(), AuthError> {
        require(&self.record.scopes, requirement)
    }
}

impl TokenService {
    /// The store's answer, failing closed: a store that panics or (with a
    /// [`store_timeout`](super::ServiceBuilder::store_timeout)) takes too
    /// long is "unavailable", never "authenticated", and the service goes on.
    pub(super) async fn ask_store(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.guarded(self.inner.store.find_by_hash(hash)).await
    }

    /// Any store call, with a panic or (with a timeout) a late answer
    /// turned into "unavailable".
    pub(super) async fn guarded<T>(&self, mut call: StoreCall<'_, T>) -> Result<T, StoreError> {
        let guarded = std::future::poll_fn(|cx| {
            std::panic::catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(cx))).unwrap_or_else(
                |_| Poll::Ready(Err(StoreError::unavailable("the token store panicked"))),
            )
        });
        match self.inner.settings.store_timeout {
            None => guarded.await,
            Some(limit) => tokio::time::timeout(limit, guarded).await.unwrap_or_else(|_| {
                Err(StoreError::unavailable("the token store did not answer in time"))
            }),
        }
    }

    /// The lookup of text outside the format (a custom secret, or not):
    /// made only when the store may hold such text and has not just said
    /// it does not hold this one (see `service/custom.rs`).
    async fn ask_store_for_custom(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let Some(custom) = &self.inner.custom else {
            return Ok(None);
        };
        let lookup = match custom.check(hash) {
            Gate::Refuse => return Ok(None),
            Gate::LookUp(lookup) => lookup,
            Gate::AskFirst(lookup) => {
                let (store, prefix) = custom.question();
                let answer = self.guarded(store.may_hold_custom_secrets(prefix)).await;
                if !custom.answered(lookup, answer) {
                    return Ok(None);
                }
                lookup
            }
        };
        let found = self.ask_store(hash).await?;
        if found.is_none() {
            custom.absent(*hash, lookup);
        }
        Ok(found)
    }

    /// Verifies an `Authorization` header value (`None` when the request had
    /// none) against what the handler requires. A token with an address
    /// allow-list is refused here: use
    /// [`verify_bearer_from`](Self::verify_bearer_from) with the client's
    /// address.
    ///
    /// # Errors
    /// [`AuthError`]: no credentials (401), a malformed header (400), an
    /// invalid token (401, with the reason for logs), a requirement not met
    /// (403), or a store that cannot answer (503: never authenticated).
    pub fn verify_bearer(
        &self,
        authorization: Option<&str>,
        requirement: Requirement<'_>,
    ) -> impl Future<Output = Result<Authenticated, AuthError>> {
        self.verify_bearer_from(authorization, requirement, None)
    }

    /// As [`verify_bearer`](Self::verify_bearer), for a request from
    /// `client` (`None` when unknown): a token with an address allow-list
    /// verifies only from inside it. The HTTP integrations pass the peer's
    /// address, or the forwarded one behind a trusted proxy (see
    /// [`http::client_address`](crate::http::client_address)).
    ///
    /// # Errors
    /// As `verify_bearer`; a refused address is
    /// [`InvalidToken::AddressNotAllowed`] (401).
    pub fn verify_bearer_from(
        &self,
        authorization: Option<&str>,
        requirement: Requirement<'_>,
        client: Option<IpAddr>,
    ) -> impl Future<Output = Result<Authenticated, AuthError>> {
        let token = parse_authorization(authorization).map_err(AuthError::from);
        self.verify_credential(token, requirement, client, Uses::ONE)
    }

    /// Verifies a raw token, for places where a header cannot be sent (a
    /// WebSocket's `?token=` query parameter). Weaker than a header: query
    /// strings end up in access logs, browser history and `Referer`
    /// headers. Use it only where the client has no other way.
    ///
    /// # Errors
    /// As [`verify_bearer`](Self::verify_bearer), without the header cases.
    pub fn verify_token(
        &self,
        token: &str,
        requirement: Requirement<'_>,
    ) -> impl Future<Output = Result<Authenticated, AuthError>> {
        self.verify_credential(Ok(token), requirement, None, Uses::ONE)
    }

    /// As [`verify_token`](Self::verify_token), for a request from `client`.
    ///
    /// # Errors
    /// As [`verify_bearer_from`](Self::verify_bearer_from).
    pub fn verify_token_from(
        &self,
        token: &str,
        requirement: Requirement<'_>,
        client: Option<IpAddr>,
    ) -> impl Future<Output = Result<Authenticated, AuthError>> {
        self.verify_credential(Ok(token), requirement, client, Uses::ONE)
    }

    /// As [`verify_token_from`](Self::verify_token_from), for a request
    /// that costs `cost` of the token's uses (and of its rate limit) at
    /// once: a call that should count more than one. A token with fewer
    /// uses left is refused, and spends nothing.
    ///
    /// ```
    /// # #[cfg(feature = "management")]
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// use std::num::NonZeroU32;
    /// use std::sync::Arc;
    /// use tokenkeep::record::Usage;
    /// use tokenkeep::store::MemoryStore;
    /// use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenManager};
    ///
    /// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    /// let usage = Usage::new(5, tokens.service().now())?;
    /// let issued = tokens.issue(&Actor::Admin, IssueRequest::new("alice", "batch").usage(usage)).await?;
    /// let text = issued.token.expose_secret();
    /// let three = NonZeroU32::new(3).unwrap();
    /// let service = tokens.service();
    /// assert!(service.verify_token_costing(text, Requirement::None, None, three).await.is_ok());
    /// assert!(service.verify_token_costing(text, Requirement::None, None, three).await.is_err());
    /// assert!(service.verify_token(text, Requirement::None).await.is_ok(), "two were left");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`verify_bearer_from`](Self::verify_bearer_from).
    pub fn verify_token_costing(
        &self,
        token: &str,
        requirement: Requirement<'_>,
        client: Option<IpAddr>,
        cost: std::num::NonZeroU32,
    ) -> impl Future<Output = Result<Authenticated, AuthError>> {
        self.verify_credential(Ok(token), requirement, client, Uses::Consume(cost))
    }

    /// The verdict on a credential as it was read: token text, or why
    /// there was none to read (no header, a malformed one). Every front
    /// door ends here: [`verify_bearer_from`](Self::verify_bearer_from)
    /// and the request pipeline ([`verify_request`](crate::http::verify_request))
    /// read the credential their own way and hand over what they read, so
    /// every verdict, a refusal before any lookup included, is reported
    /// once.
    ///
    /// The checks that need no store run here, before any future is
    /// built: a credential they refuse is answered by a ready future,
    /// with nothing hashed, no lock taken and no state machine polled. The
    /// rest is one future, returned itself rather than wrapped: it is moved
    /// whole each time a caller pins it.
    #[inline]
    pub(crate) fn verify_credential(
        &self,
        token: Result<&str, AuthError>,
        requirement: Requirement<'_>,
        client: Option<IpAddr>,
        uses: Uses,
    ) -> impl Future<Output = Result<Authenticated, AuthError>> + Send {
        match token.and_then(|token| self.screen(token)) {
            Err(error) => Either::Left(std::future::ready(Err(report_refusal(error, None)))),
            Ok(presented) => Either::Right(async move {
                report(self.decide(presented, requirement, client, uses).await)
            }),
        }
    }

    /// The checks that need no store: format, checksum and (with minting
    /// keys) tag, so a typo, a random string or a forged token stops here,
    /// before any hashing. Custom secrets (when accepted) pass on to be
    /// looked up, but only text a custom secret could be (8-512 b64token
    /// characters, so a 300 KB value is never hashed), and not text that
    /// claims this service's prefix: that is a mistyped minted token.
    fn screen<'t>(&self, token: &'t str) -> Result<Presented<'t>, AuthError> {
        let inner = &*self.inner;
        match inner.settings.format.parse(token) {
            Ok(_) => Ok(Presented { text: token, not_minted: None }),
            Err(error)
                if inner.custom.is_some()
                    && !inner.settings.format.claims_prefix(token)
                    && TokenSecret::check_custom(token).is_ok() =>
            {
                Ok(Presented { text: token, not_minted: Some(error) })
            }
            Err(error) => Err(AuthError::InvalidToken(InvalidToken::Format(error))),
        }
    }

    /// The record a screened token names, as the first steps of
    /// verification find it: the hash and the lookup. Nothing else is
    /// judged.
    async fn find_presented(
        &self,
        presented: Presented<'_>,
    ) -> Result<Arc<TokenRecord>, AuthError> {
        let inner = &*self.inner;
        // Every await below is boxed: they are the slow or rare steps, and
        // unboxed they would make the future of every verification (moved
        // whole each time a caller pins or stores it) a kilobyte.
        let hash = inner.settings.hasher.hash(presented.text);
        let found = match inner.store.find_by_hash_now(&hash) {
            Some(found) => found,
            None if presented.not_minted.is_some() => {
                Box::pin(self.ask_store_for_custom(&hash)).await
            }
            None => Box::pin(self.ask_store(&hash)).await,
        }
        .map_err(AuthError::Unavailable)?;
        match found {
            // The store found it by hash; the comparison is repeated in
            // constant time so no store's lookup has to be trusted for it.
            Some(record) if record.hash == hash => Ok(record),
            _ => Err(AuthError::InvalidToken(
                presented.not_minted.map_or(InvalidToken::Unknown, InvalidToken::Format),
            )),
        }
    }

    /// The record `token` names, screened then looked up.
    async fn find_text(&self, token: &str) -> Result<Arc<TokenRecord>, AuthError> {
        self.find_presented(self.screen(token)?).await
    }

    /// The record of `token` when it is valid now (known, neither revoked
    /// nor expired, with a use left if it counts them), `None` otherwise,
    /// for a caller that asks about a token it does not present as its
    /// own credential (OAuth 2.0 token introspection, RFC 7662). Nothing
    /// is recorded: no use is consumed, no last use noted, no rate spent,
    /// and no verification is counted.
    ///
    /// ```
    /// # #[cfg(feature = "management")]
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// use std::sync::Arc;
    /// use tokenkeep::store::MemoryStore;
    /// use tokenkeep::{Actor, IssueRequest, Prefix, TokenManager, TokenRef};
    ///
    /// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    /// let alice = Actor::User("alice".into());
    /// let issued = tokens.issue(&alice, IssueRequest::new("alice", "ci")).await?;
    /// let text = issued.token.expose_secret();
    /// let active = tokens.service().introspect(text).await?.expect("active");
    /// assert_eq!(active.owner, "alice");
    /// tokens.revoke(&alice, &TokenRef::id(issued.record.id)).await?;
    /// assert!(tokens.service().introspect(text).await?.is_none());
    /// assert!(tokens.service().introspect("not a token").await?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    pub async fn introspect(&self, token: &str) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let record = match self.find_text(token).await {
            Ok(record) => record,
            Err(AuthError::Unavailable(error)) => return Err(error),
            Err(_) => return Ok(None),
        };
        let now = self.now();
        let spent = record.extras.usage.is_some_and(|usage| usage.at(now).remaining == 0);
        if !record.is_active(now) || spent {
            return Ok(None);
        }
        // A shared budget its owner has spent refuses the token too.
        if let (Some(shared), Some(writes)) = (record.extras.owner_limits, &self.inner.writes)
            && shared.uses
        {
            let limits = self.guarded(Box::pin(async {
                writes.owner_limits(&record.owner, now).await.map_err(|error| match error {
                    RuleError::Store(error) => error,
                    RuleError::Refused(_) => StoreError::unavailable("the owner's limits"),
                })
            }));
            if limits.await?.usage.is_some_and(|usage| usage.remaining == 0) {
                return Ok(None);
            }
        }
        Ok(Some(record))
    }

    /// The record `token` names whatever its state, `None` when it names
    /// none: for revocation by value, where holding the text is the proof.
    #[cfg(feature = "management")]
    pub(crate) async fn find_presented_any(
        &self,
        token: &str,
    ) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        match self.find_text(token).await {
            Ok(record) => Ok(Some(record)),
            Err(AuthError::Unavailable(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }

    /// The path itself, from token text to verdict.
    async fn decide(
        &self,
        presented: Presented<'_>,
        requirement: Requirement<'_>,
        client: Option<IpAddr>,
        uses: Uses,
    ) -> Result<Authenticated, Refusal> {
        let inner = &*self.inner;
        let record = self.find_presented(presented).await?;

        // Milliseconds, read only when needed: a token without an expiry
        // that was noted since the last flush verifies without the clock.
        let now = || inner.settings.clock.now_unix_millis();
        let refused = |reason| Err(Refusal::of(&record, AuthError::InvalidToken(reason)));
        if record.is_revoked() {
            #[cfg(feature = "management")]
            Box::pin(self.retired_token_presented(&record, client)).await;
            return refused(InvalidToken::Revoked);
        }
        if record.expires_at.is_some_and(|expiry| now() >= unix_millis(expiry)) {
            #[cfg(feature = "management")]
            Box::pin(self.retired_token_presented(&record, client)).await;
            return refused(InvalidToken::Expired);
        }
        if !record.allows_address(client) {
            // The address goes to the log here, not through the refusal:
            // carrying it would cost every verification a larger value.
            tracing::debug!(
                target: "tokenkeep::verify",
                token_id = %record.id,
                client = ?client,
                "address not in the token's allow-list"
            );
            return refused(InvalidToken::AddressNotAllowed);
        }
        let owner_rate = record.extras.owner_limits.and_then(|shared| shared.rate_limit);
        if (record.extras.rate_limit.is_some() || owner_rate.is_some())
            && let Err(error) =
                Box::pin(self.take_rates(&record, owner_rate, uses.rate_cost())).await
        {
            return Err(Refusal::of(&record, error));
        }
        inner.last_used.note(&record, now);
        if let Err(error) = require(&record.scopes, &requirement) {
            return Err(Refusal::of(&record, error));
        }
        // Last, so only a verification that succeeds uses one up: a usage
        // limit (the token's, its owner's, or both, in one change) is
        // counted by the store, atomically; tokens without one never reach it.
        let counted = record.extras.usage.is_some()
            || record.extras.owner_limits.is_some_and(|shared| shared.uses);
        if let (true, Uses::Consume(cost)) = (counted, uses) {
            let consumed = Box::pin(async {
                let Some(writes) = &inner.writes else {
                    return Err(StoreError::unavailable(
                        "this store cannot be written, so it cannot count token uses",
                    ));
                };
                let now = inner.settings.clock.now();
                // A refusal means the token is gone from the store since it
                // was read: nothing to spend, so it verifies no more.
                let spent = async {
                    match writes.consume_uses(&*record, u64::from(cost.get()), now).await {
                        Err(RuleError::Store(error)) => Err(error),
                        Err(RuleError::Refused(_)) => Ok(None),
                        Ok(left) => Ok(left),
                    }
                };
                self.guarded(Box::pin(spent)).await
            })
            .await;
            match consumed {
                Ok(Some(_)) => {}
                Ok(None) => return refused(InvalidToken::UsesExhausted),
                Err(error) => return Err(Refusal::of(&record, AuthError::Unavailable(error))),
            }
        }
        Ok(Authenticated { record, client })
    }
}

impl TokenService {
    /// The rate limits `record` is under, taken in turn: the token's own,
    /// then its owner's (`owner_rate`, as the record's stamp carries it),
    /// which all the owner's tokens share. A request passes only if both
    /// allow it.
    async fn take_rates(
        &self,
        record: &TokenRecord,
        owner_rate: Option<RateLimit>,
        cost: u32,
    ) -> Result<(), AuthError> {
        let rates = [
            record.extras.rate_limit.map(|limit| (Budget::Token(record.id), limit)),
            owner_rate.map(|limit| (Budget::Owner(record.owner.clone()), limit)),
        ];
        for (budget, limit) in rates.into_iter().flatten() {
            match self.inner.settings.rate_limiter.take(&budget, limit, cost).await {
                Ok(Taken::Admitted) => {}
                Ok(Taken::Spent { retry_after }) => {
                    return Err(AuthError::RateLimited { retry_after });
                }
                Err(error) => return Err(AuthError::Unavailable(error)),
            }
        }
        Ok(())
    }
}

/// Token text the checks that need no store let through.
#[derive(Clone, Copy)]
struct Presented<'a> {
    text: &'a str,
    /// Why the text is not a minted token, when it is looked up as a
    /// custom secret: the reason given if the store does not know it.
    not_minted: Option<FormatError>,
}

/// How many of the token's uses a verification that passes spends: the
/// request's cost, or none for a request refused whatever the verdict (its
/// path cannot be normalised: every step but the last, nothing to pay
/// for). A rate limit is spent by the cost, and by one at least.
#[derive(Clone, Copy)]
pub(crate) enum Uses {
    Consume(std::num::NonZeroU32),
    Keep,
}

impl Uses {
    /// One use: a request that costs nothing more.
    pub(crate) const ONE: Self = Self::Consume(std::num::NonZeroU32::MIN);

    /// What a rate limit is charged.
    fn rate_cost(self) -> u32 {
        match self {
            Self::Consume(cost) => cost.get(),
            Self::Keep => 1,
        }
    }
}

/// `requirement` checked against `scopes`: 403 naming the scope needed.
fn require(scopes: &Scopes, requirement: &Requirement<'_>) -> Result<(), AuthError> {
    if scopes.satisfies(requirement) {
        Ok(())
    } else {
        Err(AuthError::InsufficientScope { scope: requirement.to_string() })
    }
}

/// A refusal, and the token it concerns when one was found: for the
/// report, not for the caller.
struct Refusal {
    error: AuthError,
    token: Option<Arc<TokenRecord>>,
}

impl Refusal {
    fn of(record: &Arc<TokenRecord>, error: AuthError) -> Self {
        Self { error, token: Some(Arc::clone(record)) }
    }
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        Self { error, token: None }
    }
}

/// The last step: every verdict is an event and a count (see
/// [`observability`](crate::observability)), never with token text.
fn report(verdict: Result<Authenticated, Refusal>) -> Result<Authenticated, AuthError> {
    match verdict {
        Ok(who) => {
            tracing::trace!(
                target: "tokenkeep::verify",
                token_id = %who.token_id(), owner = who.owner(), "verified"
            );
            crate::observability::verification("ok");
            Ok(who)
        }
        Err(Refusal { error, token }) => Err(report_refusal(error, token)),
    }
}

/// A refusal's event and count.
fn report_refusal(error: AuthError, token: Option<Arc<TokenRecord>>) -> AuthError {
    let outcome = error.outcome();
    if let AuthError::Unavailable(cause) = &error {
        tracing::warn!(
            target: "tokenkeep::verify", outcome, error = %cause, "token store unavailable"
        );
    } else {
        tracing::debug!(
            target: "tokenkeep::verify",
            outcome,
            reason = %error,
            token_id = token.as_ref().map(|token| tracing::field::display(token.id)),
            owner = token.as_ref().map(|token| token.owner.as_str()),
            "verification refused"
        );
    }
    crate::observability::verification(outcome);
    error
}
