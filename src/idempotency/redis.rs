//! [`RedisStore`]: the idempotency store on Redis (feature `redis`).

use std::{sync::LazyLock, time::Duration};

use redis::{aio::ConnectionManager, Script};

use super::store::{Claim, IdempotencyStore, StoreError};

/// The prefix [`RedisStore::new`] puts before every key, so that the store's keys are recognisable among
/// an application's others.
///
/// ```
/// // A key in Redis: `stripe_webhook:{namespace}:{event key}`.
/// assert_eq!(tower_stripe_webhook::DEFAULT_REDIS_PREFIX, "stripe_webhook:");
/// ```
pub const DEFAULT_REDIS_PREFIX: &str = "stripe_webhook:";

/// The value of a key done: anything else is `p:<owner>`, processing.
const DONE: &str = "done";

/// Marks the key done for ARGV[2] ms if ARGV[1] (`p:<owner>`) still holds it. An expired key reads as
/// nil, so a late owner's complete finds nothing.
static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
return 0",
    )
});

/// Deletes the key if ARGV[1] (`p:<owner>`) still holds it.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0",
    )
});

/// An idempotency store on Redis (7.0 or later): one key per event, its value `p:<owner>` while
/// processing and `done` when done, its expiry the lease or the retention, judged by Redis's clock (`PX`).
///
/// A claim is one `SET key p:<owner> NX GET PX <lease>` (with `PTTL` in the same `MULTI`, for the
/// `Retry-After` of a claim in progress); complete and release are Lua scripts that change the key only
/// while `p:<owner>` still holds it. Every instance that shares the Redis server (or a primary: a
/// replica's failover can lose the last writes, and so a claim) shares the events.
///
/// Clones share the connection. It needs Redis 7.0 (`SET ... NX GET`): an older server answers every
/// claim with an error (the layer answers 503).
///
/// ```no_run
/// use tower_stripe_webhook::{IdempotencyLayer, RedisStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
/// let store = RedisStore::new(client.get_connection_manager().await?);
/// let layer = IdempotencyLayer::new(store).namespace("billing");
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on `connection`, its keys prefixed with [`DEFAULT_REDIS_PREFIX`].
    ///
    /// ```no_run
    /// # async fn run() -> redis::RedisResult<()> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let store = tower_stripe_webhook::RedisStore::new(client.get_connection_manager().await?);
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        }
    }

    /// A store on a new connection manager for `client`, which connects now (and reconnects on its own
    /// later).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tower_stripe_webhook::StoreError> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/").map_err(tower_stripe_webhook::StoreError::new)?;
    /// let store = tower_stripe_webhook::RedisStore::connect(client).await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(client: redis::Client) -> Result<Self, StoreError> {
        let connection = ConnectionManager::new(client).await.map_err(StoreError::new)?;
        Ok(Self::new(connection))
    }

    /// The prefix of every key this store writes (default [`DEFAULT_REDIS_PREFIX`]); the layer's
    /// namespace follows it (`{prefix}{namespace}:{event key}`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let store = tower_stripe_webhook::RedisStore::new(client.get_connection_manager().await?)
    ///     .prefix("shop:webhooks:");
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }
}

/// `PX` takes whole milliseconds, at least 1: a duration rounds up, so a lease is never shorter than
/// asked.
fn millis(duration: Duration) -> u64 {
    let millis = duration.as_nanos().div_ceil(1_000_000).max(1);
    // Redis refuses expiries that overflow its clock; a century is plenty.
    millis.min(100 * 365 * 86_400 * 1000) as u64
}

fn processing(owner: &str) -> String {
    format!("p:{owner}")
}

impl IdempotencyStore for RedisStore {
    async fn claim(&self, key: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let key = self.key(key);
        let mut connection = self.connection.clone();
        let (previous, ttl): (Option<String>, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(processing(owner))
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(millis(lease))
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .map_err(StoreError::new)?;
        Ok(match previous {
            None => Claim::Claimed,
            Some(value) if value == DONE => Claim::Done,
            Some(_) => Claim::InProgress {
                // PTTL ran in the same transaction: the key is there, with the lease it was given.
                retry_after: Duration::from_millis(ttl.max(0) as u64),
            },
        })
    }

    async fn complete(&self, key: &str, owner: &str, retention: Duration) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let done: i64 = COMPLETE
            .key(self.key(key))
            .arg(processing(owner))
            .arg(millis(retention))
            .invoke_async(&mut connection)
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let released: i64 = RELEASE
            .key(self.key(key))
            .arg(processing(owner))
            .invoke_async(&mut connection)
            .await
            .map_err(StoreError::new)?;
        Ok(released == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_up_and_never_reach_zero() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_micros(1_001)), 2);
        assert_eq!(millis(Duration::from_secs(300)), 300_000);
        assert_eq!(millis(Duration::MAX), 100 * 365 * 86_400 * 1000);
    }
}
