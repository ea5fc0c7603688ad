//! Each event handled once: [`IdempotencyLayer`], and the stores it records events in.
//!
//! Stripe delivers at least once: it retries a delivery that got no 2xx for up to three days (each retry
//! re-signed, with the same event id), a Dashboard resend can come 15 days later and a CLI resend 30. The
//! layer runs the inner service at most once to success per event: it claims the event's key in an
//! [`IdempotencyStore`] before the handler runs, marks it done when the handler answers 2xx, and gives it
//! back when the handler fails, so that Stripe's retry runs it again.
//!
//! Stores: [`MemoryStore`] (one process, the default), `RedisStore` (feature `redis`) and
//! `PostgresStore` (feature `postgres`), or your own implementation of [`IdempotencyStore`].

mod layer;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod store;

pub use layer::{
    Duplicate, EventKey, Idempotency, IdempotencyFuture, IdempotencyLayer, DEFAULT_LEASE, DEFAULT_RETENTION,
    IDEMPOTENT_REPLAYED,
};
pub use memory::{MemoryStore, DEFAULT_MEMORY_CAPACITY};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, DEFAULT_POSTGRES_TABLE};
#[cfg(feature = "redis")]
pub use redis::{RedisStore, DEFAULT_REDIS_PREFIX};
pub use store::{Claim, IdempotencyStore, StoreError};
