//! The Tower middleware: [`StripeSignatureLayer`] and the [`StripeSignature`] service it builds.
//!
//! The layer is a thin shell around the verification core ([`Verifier`](crate::Verifier),
//! [`Event`](crate::Event)): it buffers the body under a limit, verifies it, puts the results in the
//! request's extensions and hands the untouched bytes on.

mod body;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod rejection;
mod service;

pub use body::{ResponseBody, VerifiedBody};
pub use future::ResponseFuture;
pub use layer::{Accept, StripeSignatureLayer, DEFAULT_BODY_LIMIT, DEFAULT_MAX_BUFFERED_BYTES};
pub use rejection::{AsRejectionResponse, DefaultRejection, IntoRejectionResponse, RejectionResponse};
pub use service::StripeSignature;

pub(crate) use service::Shared;
