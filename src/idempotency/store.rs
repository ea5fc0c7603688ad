//! The store contract: [`IdempotencyStore`], what a claim finds, and a store's error.

use std::{error::Error as StdError, fmt, future::Future, time::Duration};

/// Where the idempotency layer records which events are being handled and which are done.
///
/// A key goes through three states: **absent**, **processing** (claimed by one owner, until its lease
/// ends) and **done** (until its retention ends). A processing or done entry whose time has run out
/// counts as absent. Every method must be atomic with respect to the others, across every process that
/// shares the store, and judge expiry by one clock (the store's own where it has one), so that instances
/// with skewed clocks cannot take a live lease.
///
/// - [`claim`](Self::claim): if the key is absent, make it processing, owned by `owner`, for `lease`,
///   and answer [`Claim::Claimed`]; if it is processing, answer [`Claim::InProgress`] with the time left
///   on the lease, changing nothing; if it is done, answer [`Claim::Done`], changing nothing.
/// - [`complete`](Self::complete): if the key is processing, owned by `owner` and not expired, make it
///   done for `retention` and answer `true`; otherwise change nothing and answer `false` (a late first
///   run must not overwrite a new owner's claim).
/// - [`release`](Self::release): if the key is processing, owned by `owner` and not expired, make it
///   absent and answer `true`; otherwise change nothing and answer `false`.
///
/// Errors (the store unreachable, a failed query) are [`StoreError`]s: the layer then answers 503 so
/// that Stripe retries, and never runs the handler without a claim (unless configured to fail open).
///
/// The stores in this crate: [`MemoryStore`](crate::MemoryStore) (one process), `RedisStore` (feature
/// `redis`) and `PostgresStore` (feature `postgres`). `tests/idempotency_stores.rs` holds every one of
/// them to this contract, edge by edge; run it against yours.
///
/// ```
/// use std::time::Duration;
/// use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let lease = Duration::from_secs(300);
/// assert_eq!(store.claim("evt_1", "owner-a", lease).await?, Claim::Claimed);
/// assert!(matches!(store.claim("evt_1", "owner-b", lease).await?, Claim::InProgress { .. }));
/// assert!(store.complete("evt_1", "owner-a", Duration::from_secs(86_400)).await?);
/// assert_eq!(store.claim("evt_1", "owner-b", lease).await?, Claim::Done);
/// # Ok::<(), tower_stripe_webhook::StoreError>(())
/// # }).unwrap();
/// ```
pub trait IdempotencyStore: Clone + Send + Sync + 'static {
    /// Claims `key` for `owner` for `lease`, if it is absent (see the trait docs).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// let lease = Duration::from_secs(300);
    /// assert_eq!(store.claim("evt_1", "run-a", lease).await?, Claim::Claimed);
    /// // A second run is told to come back when the first one's lease ends.
    /// match store.claim("evt_1", "run-b", lease).await? {
    ///     Claim::InProgress { retry_after } => assert!(retry_after <= lease),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Marks `key` done for `retention`, if `owner` still holds its claim; answers whether it did.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// let (lease, retention) = (Duration::from_secs(300), Duration::from_secs(86_400));
    /// store.claim("evt_1", "run-a", lease).await?;
    /// assert!(!store.complete("evt_1", "run-b", retention).await?); // not run-b's claim
    /// assert!(store.complete("evt_1", "run-a", retention).await?);
    /// assert_eq!(store.claim("evt_1", "run-b", lease).await?, Claim::Done);
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    fn complete(
        &self,
        key: &str,
        owner: &str,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives `key` back (absent), if `owner` still holds its claim; answers whether it did.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// let lease = Duration::from_secs(300);
    /// store.claim("evt_1", "run-a", lease).await?;
    /// // The handler failed: give the event back, so that Stripe's retry runs it again.
    /// assert!(store.release("evt_1", "run-a").await?);
    /// assert_eq!(store.claim("evt_1", "run-b", lease).await?, Claim::Claimed);
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    fn release(&self, key: &str, owner: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What [`IdempotencyStore::claim`] found.
///
/// ```
/// # use std::time::Duration;
/// # use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let lease = Duration::from_secs(300);
/// for expected in ["run the handler", "answer 409, retry later"] {
///     let what = match store.claim("evt_1", "owner", lease).await? {
///         Claim::Claimed => "run the handler",
///         Claim::InProgress { .. } => "answer 409, retry later",
///         Claim::Done => "answer 200, handled already",
///     };
///     assert_eq!(what, expected);
/// }
/// # Ok::<(), tower_stripe_webhook::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key was absent: the caller owns it now and runs the handler.
    Claimed,
    /// Another run holds the key; its lease ends in `retry_after`.
    InProgress {
        /// Time left on the other run's lease.
        retry_after: Duration,
    },
    /// The event was handled already.
    Done,
}

/// Why a store could not answer: unreachable, a failed query, or full.
///
/// ```
/// use tower_stripe_webhook::StoreError;
///
/// let error = StoreError::new(std::io::Error::other("connection refused"));
/// assert!(error.to_string().contains("connection refused"));
/// ```
pub struct StoreError {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl StoreError {
    /// A store error caused by `source`.
    ///
    /// ```
    /// # use std::error::Error as _;
    /// # use tower_stripe_webhook::StoreError;
    /// let error = StoreError::new(std::io::Error::other("connection refused"));
    /// // The cause stays reachable, for logs that walk the chain.
    /// assert_eq!(error.source().map(|source| source.to_string()), Some("connection refused".to_owned()));
    /// ```
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let source = source.into();
        Self {
            message: format!("idempotency store error: {source}"),
            source: Some(source),
        }
    }

    /// A store error described by `message`.
    ///
    /// ```
    /// # use std::error::Error as _;
    /// # use tower_stripe_webhook::StoreError;
    /// let error = StoreError::msg("the table is missing: run the migration");
    /// assert_eq!(error.to_string(), "the table is missing: run the migration");
    /// assert!(error.source().is_none());
    /// ```
    pub fn msg(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreError")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
