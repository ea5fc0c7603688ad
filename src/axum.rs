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
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{body::Body, routing::post, Router};
/// use tower::ServiceExt;
/// use tower_stripe_webhook::Event;
///
/// // The layer was forgotten: the extractor answers 500 and says what is missing.
/// let app: Router = Router::new().route("/webhook", post(|event: Event| async move { event.id().to_owned() }));
/// let response = app.oneshot(axum::http::Request::post("/webhook").body(Body::from("{}"))?).await?;
/// assert_eq!(response.status(), 500);
/// let body = axum::body::to_bytes(response.into_body(), 1024).await?;
/// assert!(String::from_utf8_lossy(&body).contains("StripeSignatureLayer"));
/// # Ok(())
/// # }
/// ```
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

/// A rejection hook returning anything that implements `IntoResponse`, such as
/// `(StatusCode, Json<T>)`: what [`StripeSignatureLayer::with_rejection_response`](crate::StripeSignatureLayer::with_rejection_response)
/// makes of such a closure (you do not build it yourself).
///
/// The response's body is read at once, in memory: every body axum's own `IntoResponse` types make is
/// ready at once. A body that is not (a stream) or that fails is replaced by the reason's default text,
/// with the status and headers the closure gave.
///
/// ```
/// use axum::{body::Body, http::StatusCode, routing::post, Json, Router};
/// use tower::ServiceExt;
/// use tower_stripe_webhook::{Error, SigningSecret, StripeSignatureLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?)
///     .with_rejection_response(|error: &Error| {
///         (StatusCode::UNAUTHORIZED, Json(serde_json::json!({ "error": error.code() })))
///     });
/// let app = Router::new().route("/webhook", post(|| async { "ok" }).route_layer(layer));
///
/// let response = app.oneshot(axum::http::Request::post("/webhook").body(Body::empty())?).await?;
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// assert!(response.extensions().get::<Error>().is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct IntoResponseRejection<F>(F);

impl<F> fmt::Debug for IntoResponseRejection<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntoResponseRejection(<fn>)")
    }
}

/// The marker of [`IntoRejectionResponse`](crate::IntoRejectionResponse) for a closure returning
/// `impl IntoResponse`.
///
/// ```
/// use axum::{http::StatusCode, response::IntoResponse};
/// use tower_stripe_webhook::{Error, IntoRejectionResponse, IntoResponseRejection, SigningSecret, StripeSignatureLayer, ViaIntoResponse};
///
/// // A helper of your own that takes axum-style rejection closures names the marker in its bound.
/// fn with_rejection<F>(rejection: F) -> StripeSignatureLayer<IntoResponseRejection<F>>
/// where
///     F: IntoRejectionResponse<ViaIntoResponse, Rejection = IntoResponseRejection<F>>,
/// {
///     StripeSignatureLayer::new(SigningSecret::new("whsec_example").unwrap()).with_rejection_response(rejection)
/// }
/// let layer = with_rejection(|error: &Error| (StatusCode::UNAUTHORIZED, error.code()).into_response());
/// # let _ = layer;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ViaIntoResponse {}

impl<F, T> crate::IntoRejectionResponse<ViaIntoResponse> for F
where
    F: FnMut(&crate::Error) -> T + Clone,
    T: IntoResponse,
{
    type Rejection = IntoResponseRejection<F>;

    fn into_rejection_response(self) -> IntoResponseRejection<F> {
        IntoResponseRejection(self)
    }
}

impl<F, T> crate::RejectionResponse for IntoResponseRejection<F>
where
    F: FnMut(&crate::Error) -> T + Clone,
    T: IntoResponse,
{
    fn response(&mut self, error: &crate::Error) -> http::Response<bytes::Bytes> {
        use std::{
            pin::Pin,
            task::{Context, Poll, Waker},
        };

        use http_body::Body as _;

        let (parts, mut body) = (self.0)(error).into_response().into_parts();
        let mut cx = Context::from_waker(Waker::noop());
        let mut bytes = bytes::BytesMut::new();
        let complete = loop {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Poll::Ready(None) => break true,
                Poll::Ready(Some(Err(_))) | Poll::Pending => break false,
            }
        };
        let body = if complete {
            bytes.freeze()
        } else {
            crate::DefaultRejection.response(error).into_body()
        };
        http::Response::from_parts(parts, body)
    }
}
