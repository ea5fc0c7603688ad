#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code, unreachable_pub)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

#[cfg(feature = "axum")]
mod axum;
mod error;
mod event;
mod header;
mod idempotency;
mod layer;
mod log;
mod search;
mod secret;
mod sign;
mod verify;

#[cfg(feature = "axum")]
pub use axum::MissingStripeSignatureLayer;
pub use error::{Error, ErrorKind};
pub use event::{
    AnyEvent, Event, EventNotification, EventReason, InvalidEvent, RelatedObject, VerifiedPayload,
};
pub use header::{MalformedHeader, SignatureHeader};
pub use idempotency::{
    Claim, Duplicate, EventKey, Idempotency, IdempotencyFuture, IdempotencyLayer, IdempotencyStore,
    MemoryStore, StoreError, DEFAULT_LEASE, DEFAULT_MEMORY_CAPACITY, DEFAULT_RETENTION, IDEMPOTENT_REPLAYED,
};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use idempotency::{PostgresStore, DEFAULT_POSTGRES_TABLE};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use idempotency::{RedisStore, DEFAULT_REDIS_PREFIX};
pub use layer::{
    Accept, DefaultRejection, RejectionResponse, ResponseBody, ResponseFuture, StripeSignature,
    StripeSignatureLayer, VerifiedBody, DEFAULT_BODY_LIMIT, DEFAULT_MAX_BUFFERED_BYTES,
};
pub use secret::{SecretError, SigningSecret, SigningSecrets};
pub use sign::{compute_signature, generate_test_header};
pub use verify::{Clock, SystemClock, Verified, Verifier, DEFAULT_TOLERANCE, STRIPE_SIGNATURE};
