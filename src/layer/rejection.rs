//! Turning a rejection into a response.

use bytes::Bytes;
use http::{
    header::{CONTENT_TYPE, RETRY_AFTER},
    HeaderValue, Response, StatusCode,
};

use crate::{Error, ErrorKind};

/// Builds the response for a rejected request.
///
/// Implemented for [`DefaultRejection`] and for closures `FnMut(&Error) -> Response<Bytes> + Clone`. The
/// layer attaches the [`Error`] to the response's extensions afterwards, so outer layers can count it.
///
/// ```
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
/// use tower_stripe_webhook::{SigningSecret, StripeSignatureLayer};
///
/// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?)
///     .with_rejection_response(|error: &tower_stripe_webhook::Error| {
///         let body = format!(r#"{{"error":"{}"}}"#, error.code());
///         let mut response = Response::new(Bytes::from(body));
///         *response.status_mut() = StatusCode::BAD_REQUEST;
///         response
///     });
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait RejectionResponse: Clone {
    /// The response for `error`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Response, StatusCode};
    /// use tower_stripe_webhook::{Error, RejectionResponse, SigningSecret, Verifier};
    ///
    /// #[derive(Clone)]
    /// struct JsonRejection;
    ///
    /// impl RejectionResponse for JsonRejection {
    ///     fn response(&mut self, error: &Error) -> Response<Bytes> {
    ///         let mut response = Response::new(Bytes::from(format!(r#"{{"error":"{}"}}"#, error.code())));
    ///         *response.status_mut() = StatusCode::UNAUTHORIZED;
    ///         response
    ///     }
    /// }
    ///
    /// let error = Verifier::new(SigningSecret::new("whsec_example")?).verify(b"t=1,v0=x", b"{}").unwrap_err();
    /// let response = JsonRejection.response(&error);
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(response.body(), r#"{"error":"no_v1_signature"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn response(&mut self, error: &Error) -> Response<Bytes>;
}

impl<F> RejectionResponse for F
where
    F: FnMut(&Error) -> Response<Bytes> + Clone,
{
    fn response(&mut self, error: &Error) -> Response<Bytes> {
        self(error)
    }
}

/// What [`StripeSignatureLayer::with_rejection_response`](crate::StripeSignatureLayer::with_rejection_response)
/// accepts: any [`RejectionResponse`] (a closure `FnMut(&Error) -> Response<Bytes> + Clone`, your own
/// type, [`DefaultRejection`]), and with the `axum` feature, a closure
/// `FnMut(&Error) -> impl IntoResponse + Clone` too (see [`IntoResponseRejection`](crate::IntoResponseRejection)).
///
/// `M` only tells the two kinds apart; the compiler infers it. Because the method requires this trait, a
/// closure of the wrong shape is reported where it is passed, not later at `Router::route_layer`.
///
/// ```
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
/// use tower_stripe_webhook::{Error, SigningSecret, StripeSignatureLayer};
///
/// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?)
///     .with_rejection_response(|_: &Error| {
///         let mut response = Response::new(Bytes::new());
///         *response.status_mut() = StatusCode::UNAUTHORIZED;
///         response
///     });
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait IntoRejectionResponse<M> {
    /// The rejection the layer calls.
    type Rejection: RejectionResponse;

    /// Converts `self` into the rejection.
    ///
    /// ```
    /// # use tower_stripe_webhook::{DefaultRejection, Error, IntoRejectionResponse, RejectionResponse, SigningSecret, Verifier};
    /// // What the layer does with what you pass it; you never need to call it yourself.
    /// let mut rejection = DefaultRejection::default().into_rejection_response();
    /// let error = Verifier::new(SigningSecret::new("whsec_example")?).verify(b"t=1,v0=x", b"{}").unwrap_err();
    /// assert_eq!(rejection.response(&error).status(), 400);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn into_rejection_response(self) -> Self::Rejection;
}

/// The marker of [`IntoRejectionResponse`] for a [`RejectionResponse`], taken as it is.
///
/// ```
/// use tower_stripe_webhook::{AsRejectionResponse, DefaultRejection, IntoRejectionResponse, SigningSecret, StripeSignatureLayer};
///
/// // A helper of your own that configures the layer names the marker in its bound.
/// fn with_rejection<T: IntoRejectionResponse<AsRejectionResponse>>(rejection: T) -> StripeSignatureLayer<T::Rejection> {
///     StripeSignatureLayer::new(SigningSecret::new("whsec_example").unwrap()).with_rejection_response(rejection)
/// }
/// let layer = with_rejection(DefaultRejection::default());
/// # let _ = layer;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum AsRejectionResponse {}

impl<R: RejectionResponse> IntoRejectionResponse<AsRejectionResponse> for R {
    type Rejection = R;

    fn into_rejection_response(self) -> R {
        self
    }
}

/// The default rejection: `413 Payload Too Large` for an oversized body, `503 Service Unavailable` with
/// `Retry-After: 5` when the layer's buffer budget is used up
/// ([`ErrorKind::BufferBudgetExceeded`]), `400 Bad Request` for everything else, with a `text/plain` body
/// that names the reason (shown in the Stripe Dashboard's delivery log).
///
/// ```
/// use tower_stripe_webhook::{DefaultRejection, RejectionResponse, SigningSecret, Verifier};
///
/// let error = Verifier::new(SigningSecret::new("whsec_example")?).verify(b"t=1,v0=x", b"").unwrap_err();
/// let response = DefaultRejection::default().response(&error);
/// assert_eq!(response.status(), 400);
/// assert!(response.body().starts_with(b"no_v1_signature: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct DefaultRejection;

impl RejectionResponse for DefaultRejection {
    fn response(&mut self, error: &Error) -> Response<Bytes> {
        let mut response = Response::new(Bytes::from(format!(
            "{}: {}\n",
            error.code(),
            error.response_message()
        )));
        *response.status_mut() = status(error);
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let ErrorKind::BufferBudgetExceeded { .. } = error.kind() {
            // The budget frees as the requests holding it finish or time out: seconds. (Stripe retries on
            // its own schedule, minutes apart; other clients may read the header.)
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// The status that fits a rejection: 413 for a body over the limit, 503 over the buffer budget (a
/// retry may succeed), 400 otherwise.
pub(crate) fn status(error: &Error) -> StatusCode {
    match error.kind() {
        ErrorKind::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::BufferBudgetExceeded { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}
