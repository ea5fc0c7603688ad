//! [`MemoryStore`]: the idempotency store of one process, the default.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use super::store::{Claim, IdempotencyStore, StoreError};

/// How many entries a [`MemoryStore`] holds by default: far more than the events a busy endpoint
/// receives in Stripe's retry window of three days.
///
/// ```
/// assert_eq!(tower_stripe_webhook::DEFAULT_MEMORY_CAPACITY, 1_000_000);
/// ```
pub const DEFAULT_MEMORY_CAPACITY: usize = 1_000_000;

/// How many claims pass between two sweeps of expired entries (each sweep walks every entry once, so
/// sweeping costs a constant per claim, amortised).
const SWEEP_EVERY: usize = 4096;

/// An idempotency store in this process's memory: a mutex-guarded map, with expiry judged by the
/// monotonic clock when a key is claimed and expired entries swept as claims go by.
///
/// It deduplicates deliveries to this process only, and forgets them on restart: use it for one
/// instance and for tests; run several instances on `RedisStore` or `PostgresStore`. Clones share the
/// same map.
///
/// When it holds [`capacity`](Self::with_capacity) live entries, a claim of a new key first sweeps the
/// expired ones; if none can go, the claim fails with a [`StoreError`] (the layer answers 503 and Stripe
/// retries later): it never evicts a live claim or a done entry silently.
///
/// ```
/// use tower_stripe_webhook::MemoryStore;
///
/// let store = MemoryStore::with_capacity(10_000);
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    entries: HashMap<String, Entry>,
    capacity: usize,
    claims_since_sweep: usize,
}

#[derive(Debug)]
enum Entry {
    Processing { owner: String, until: Instant },
    Done { until: Instant },
}

impl Entry {
    fn until(&self) -> Instant {
        match self {
            Self::Processing { until, .. } | Self::Done { until } => *until,
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store holding at most [`DEFAULT_MEMORY_CAPACITY`] entries.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// assert!(store.is_empty());
    /// // Clones share one map: give each layer a clone of the same store.
    /// let clone = store.clone();
    /// assert_eq!(clone.claim("evt_1", "owner", Duration::from_secs(60)).await?, Claim::Claimed);
    /// assert_eq!(store.len(), 1);
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }

    /// An empty store holding at most `capacity` live entries.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::with_capacity(1);
    /// let lease = Duration::from_secs(60);
    /// assert_eq!(store.claim("evt_1", "owner", lease).await?, Claim::Claimed);
    /// // Full of live entries: a new event fails (the layer answers 503, Stripe retries) and none is evicted.
    /// assert!(store.claim("evt_2", "owner", lease).await.is_err());
    /// assert!(matches!(store.claim("evt_1", "other", lease).await?, Claim::InProgress { .. }));
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                entries: HashMap::new(),
                capacity,
                claims_since_sweep: 0,
            })),
        }
    }

    /// How many entries the store holds, expired ones not yet swept included.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// store.claim("evt_1", "owner", Duration::from_secs(60)).await?;
    /// store.claim("evt_2", "owner", Duration::from_secs(60)).await?;
    /// assert_eq!(store.len(), 2);
    /// store.release("evt_2", "owner").await?;
    /// assert_eq!(store.len(), 1);
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the store holds no entry.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{IdempotencyStore, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// assert!(store.is_empty());
    /// store.claim("evt_1", "owner", Duration::from_secs(60)).await?;
    /// assert!(!store.is_empty());
    /// # Ok::<(), tower_stripe_webhook::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the map half-written (every change is one
        // insert or remove), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim_now(&self, key: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut state = self.lock();
        state.claims_since_sweep += 1;
        if state.claims_since_sweep >= SWEEP_EVERY {
            state.claims_since_sweep = 0;
            state.entries.retain(|_, entry| entry.until() > now);
        }
        match state.entries.get(key) {
            Some(Entry::Processing { until, .. }) if *until > now => {
                return Ok(Claim::InProgress {
                    retry_after: *until - now,
                })
            }
            Some(Entry::Done { until }) if *until > now => return Ok(Claim::Done),
            Some(_) => {}
            None if state.entries.len() >= state.capacity => {
                state.claims_since_sweep = 0;
                state.entries.retain(|_, entry| entry.until() > now);
                if state.entries.len() >= state.capacity {
                    return Err(StoreError::msg(format!(
                        "the memory idempotency store is full ({} live entries): raise its capacity, or use \
                         a shared store",
                        state.capacity
                    )));
                }
            }
            None => {}
        }
        let until = now
            .checked_add(lease)
            .unwrap_or(now + Duration::from_secs(u32::MAX.into()));
        state.entries.insert(
            key.to_owned(),
            Entry::Processing {
                owner: owner.to_owned(),
                until,
            },
        );
        Ok(Claim::Claimed)
    }

    /// Applies `change` to `key`'s entry if `owner` holds a live claim on it; answers whether it did.
    fn if_owned(
        &self,
        key: &str,
        owner: &str,
        change: impl FnOnce(&mut HashMap<String, Entry>, Instant),
    ) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        let owned = matches!(
            state.entries.get(key),
            Some(Entry::Processing { owner: holder, until }) if holder == owner && *until > now
        );
        if owned {
            change(&mut state.entries, now);
        }
        owned
    }
}

impl IdempotencyStore for MemoryStore {
    fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> impl std::future::Future<Output = Result<Claim, StoreError>> + Send {
        std::future::ready(self.claim_now(key, owner, lease))
    }

    fn complete(
        &self,
        key: &str,
        owner: &str,
        retention: Duration,
    ) -> impl std::future::Future<Output = Result<bool, StoreError>> + Send {
        std::future::ready(Ok(self.if_owned(key, owner, |entries, now| {
            let until = now
                .checked_add(retention)
                .unwrap_or(now + Duration::from_secs(u32::MAX.into()));
            entries.insert(key.to_owned(), Entry::Done { until });
        })))
    }

    fn release(
        &self,
        key: &str,
        owner: &str,
    ) -> impl std::future::Future<Output = Result<bool, StoreError>> + Send {
        std::future::ready(Ok(self.if_owned(key, owner, |entries, _| {
            entries.remove(key);
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
        {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => unreachable!("the memory store answers at once"),
        }
    }

    #[test]
    fn a_full_store_refuses_new_keys_and_keeps_its_live_entries() {
        let store = MemoryStore::with_capacity(2);
        let lease = Duration::from_secs(60);
        assert_eq!(block_on(store.claim("a", "o", lease)).unwrap(), Claim::Claimed);
        assert_eq!(block_on(store.claim("b", "o", lease)).unwrap(), Claim::Claimed);
        let error = block_on(store.claim("c", "o", lease)).unwrap_err();
        assert!(error.to_string().contains("full"), "{error}");
        // The live entries are still there: a duplicate is still recognised.
        assert!(matches!(
            block_on(store.claim("a", "p", lease)).unwrap(),
            Claim::InProgress { .. }
        ));
        // Expired entries make room.
        assert!(block_on(store.release("b", "o")).unwrap());
        assert_eq!(
            block_on(store.claim("c", "o", Duration::ZERO)).unwrap(),
            Claim::Claimed
        );
        assert_eq!(block_on(store.claim("d", "o", lease)).unwrap(), Claim::Claimed);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn expired_entries_are_swept_as_claims_go_by() {
        let store = MemoryStore::new();
        for i in 0..SWEEP_EVERY {
            block_on(store.claim(&format!("k{i}"), "o", Duration::ZERO)).unwrap();
        }
        assert!(store.len() <= 1, "{}", store.len());
    }
}
