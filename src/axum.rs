//! Axum extractors for what the layer puts in the request's extensions.

use std::fmt;

use axum_core::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    response::{IntoResponse, Response},
};
use http::{request::Parts, StatusCode};

use crate::{AnyEvent, Event, EventNotification, Verified, VerifiedPayload};

/// Rejection of the `Event`, `EventNotification`, `AnyEvent`, `Verified` and `VerifiedPayload`
/// extractors: the route is not behind [`StripeSignatureLayer`](crate::StripeSignatureLayer), or the
/// layer inserts another kind than the handler asks for (verify-only mode, or another
/// [`Accept`](crate::Accept)). A `500`, because this is a bug in the application, not in the request.
#[derive(Clone, Copy, Debug)]
pub struct MissingStripeSignatureLayer {
    what: &'static str,
}

impl fmt::Display for MissingStripeSignatureLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no verified Stripe {} in the request: is the route behind StripeSignatureLayer (with \
             `Router::layer` or `route_layer`, added before the handler runs)?",
            self.what
        )
    }
}

impl std::error::Error for MissingStripeSignatureLayer {}

impl IntoResponse for MissingStripeSignatureLayer {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

macro_rules! extractor {
    ($ty:ty, $what:literal) => {
        impl<S: Send + Sync> FromRequestParts<S> for $ty {
            type Rejection = MissingStripeSignatureLayer;

            async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
                parts
                    .extensions
                    .get::<$ty>()
                    .cloned()
                    .ok_or(MissingStripeSignatureLayer { what: $what })
            }
        }

        impl<S: Send + Sync> OptionalFromRequestParts<S> for $ty {
            type Rejection = std::convert::Infallible;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                Ok(parts.extensions.get::<$ty>().cloned())
            }
        }
    };
}

extractor!(Event, "event");
extractor!(EventNotification, "thin event notification");
extractor!(AnyEvent, "event of either kind");
extractor!(Verified, "verification record");
extractor!(VerifiedPayload, "payload");
