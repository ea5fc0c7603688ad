// The README is the crate's documentation, and its code blocks are doc tests, written as whole programs
// with no hidden lines; its axum programs need the `axum` feature (docs.rs builds with every feature).
#![cfg_attr(feature = "axum", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "axum"),
    doc = "Stripe webhook signature verification for Tower. The documentation with its examples is the \
           README, rendered here with the `axum` feature on: `cargo doc --all-features`."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code, unreachable_pub)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

/// Defines `get_ref`, `get_mut` and `into_inner` on a service whose inner service `S` is its field
/// `inner` (as tower-http's `define_inner_service_accessors!`), with runnable examples: `uses` is the
/// examples' hidden import line, `service` the expression that builds the service around `vec!["inner"]`.
macro_rules! define_inner_service_accessors {
    (uses: $uses:literal, service: $service:literal) => {
        /// The inner service.
        ///
        /// ```
        #[doc = concat!("# ", $uses)]
        #[doc = concat!("let service = ", $service, ";")]
        /// assert_eq!(service.get_ref(), &["inner"]);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The inner service, mutably.
        ///
        /// ```
        #[doc = concat!("# ", $uses)]
        #[doc = concat!("let mut service = ", $service, ";")]
        /// service.get_mut().push("changed");
        /// assert_eq!(service.get_ref(), &["inner", "changed"]);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Unwraps the inner service.
        ///
        /// ```
        #[doc = concat!("# ", $uses)]
        #[doc = concat!("let service = ", $service, ";")]
        /// assert_eq!(service.into_inner(), ["inner"]);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

#[cfg(feature = "axum")]
mod axum;
mod diagnose;
mod error;
mod event;
mod header;
mod idempotency;
mod layer;
mod log;
mod metrics;
mod search;
mod secret;
mod sign;
pub mod test_helpers;
mod verify;

#[cfg(feature = "axum")]
pub use axum::{IntoResponseRejection, MissingStripeSignatureLayer, ViaIntoResponse};
pub use diagnose::{Cause, Diagnose, Diagnosis};
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
    Accept, AsRejectionResponse, DefaultRejection, IntoRejectionResponse, RejectionResponse, ResponseBody,
    ResponseFuture, StripeSignature, StripeSignatureLayer, VerifiedBody, DEFAULT_BODY_LIMIT,
    DEFAULT_MAX_BUFFERED_BYTES,
};
pub use secret::{SecretError, SigningSecret, SigningSecrets};
pub use sign::{compute_signature, generate_test_header};
pub use verify::{Clock, SystemClock, Verified, Verifier, DEFAULT_TOLERANCE, STRIPE_SIGNATURE};
