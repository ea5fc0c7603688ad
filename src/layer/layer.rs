//! [`StripeSignatureLayer`]: the configuration, and the builder users see.

use std::{fmt, sync::Arc, time::Duration};

use tower_layer::Layer;

use super::{
    rejection::{DefaultRejection, IntoRejectionResponse},
    service::{LayerState, Shared, StripeSignature},
};
use crate::{Clock, SecretError, SigningSecrets, Verifier};

/// The body limit when none is set: 1 MiB, far above any Stripe event.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower_layer::Layer;
/// use tower_stripe_webhook::{test_helpers::{oneshot, signed_request}, SigningSecret, StripeSignatureLayer, VerifiedBody, DEFAULT_BODY_LIMIT};
///
/// let secret = SigningSecret::new("whsec_example")?;
/// let service = StripeSignatureLayer::new(secret.clone()).layer(tower::service_fn(|_: Request<VerifiedBody>| async {
///     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
/// }));
/// let too_big = vec![b' '; DEFAULT_BODY_LIMIT + 1];
/// let response = oneshot(service, signed_request::<Full<Bytes>>(too_big, &secret, None)).await?;
/// assert_eq!(response.status(), 413);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The buffer budget when none is set: 64 MiB of request bodies held at once by one layer, across all
/// its requests.
///
/// A Stripe event is a few KiB (rarely more than 100 KiB), and Stripe sends deliveries to an endpoint a
/// few at a time: real traffic holds a small fraction of this (10,000 requests of 4 KiB in flight at
/// once fit in 40 MiB). What fills it is clients sending bodies slowly or many large bodies at once,
/// which the budget turns into `503` responses instead of memory growth. See
/// [`StripeSignatureLayer::max_buffered_bytes`].
///
/// ```
/// use tower_stripe_webhook::{DEFAULT_BODY_LIMIT, DEFAULT_MAX_BUFFERED_BYTES};
///
/// // 64 bodies at the limit fit in the default budget at once.
/// assert_eq!(DEFAULT_MAX_BUFFERED_BYTES / DEFAULT_BODY_LIMIT, 64);
/// ```
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 64 * 1024 * 1024;

/// Which events a layer accepts (see [`StripeSignatureLayer::accept`]). Stripe sends each kind from its
/// own destination, with its own secret; nothing but the body's `object` tells them apart.
///
/// ```
/// use tower_stripe_webhook::{Accept, SigningSecret, StripeSignatureLayer};
///
/// // A route for a thin event destination: handlers extract `EventNotification`.
/// let thin = StripeSignatureLayer::new(SigningSecret::new("whsec_thin_destination")?)
///     .accept(Accept::ThinEvents);
/// # let _ = thin;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accept {
    /// Snapshot events (`"object": "event"`): the layer inserts an [`Event`](crate::Event). The default,
    /// what webhook endpoints and snapshot destinations send.
    #[default]
    SnapshotEvents,
    /// Thin event notifications (`"object": "v2.core.event"`): the layer inserts an
    /// [`EventNotification`](crate::EventNotification).
    ThinEvents,
    /// Either kind: the layer inserts an [`AnyEvent`](crate::AnyEvent). Give each destination its own
    /// labelled secret to tell which one sent a delivery ([`Verified::secret_label`](crate::Verified::secret_label)).
    AnyEvent,
}

/// What the layer reads of a verified payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parse {
    Snapshot,
    Thin,
    Any,
    /// Verify-only mode: nothing; a `VerifiedPayload` is inserted.
    Nothing,
}

/// What the layer does, shared by every clone of the service it builds.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) verifier: Verifier,
    pub(crate) limit: usize,
    pub(crate) max_buffered: usize,
    pub(crate) parse: Parse,
}

/// Verifies the `Stripe-Signature` of every request before the inner service sees it.
///
/// For each request the layer refuses at once a `Content-Length` over the body limit (413) and a missing
/// or unparseable `Stripe-Signature` (400); buffers the body under the limit; verifies it against the
/// signing secrets; parses the event envelope from the same bytes; inserts the [`Event`](crate::Event) and
/// the [`Verified`](crate::Verified) record into the request's extensions; and hands the inner service a
/// request whose body is exactly the bytes received, with the original headers. Every other request gets
/// a response naming the reason ([`DefaultRejection`], or your own), with the [`Error`](crate::Error) in its
/// extensions, and never reaches the inner service.
///
/// The layer, its clones and every service they build share one state, created by
/// [`new`](Self::new) (or [`from_verifier`](Self::from_verifier)) and kept by the builder methods: axum
/// applies a route's layers again for every connection, and the "rotation in progress" log line is still
/// written once per layer, not once per connection, and the
/// [buffer budget](Self::max_buffered_bytes) counts the bytes of all their requests together.
///
/// See the [crate docs](crate) for a complete example.
///
/// ```
/// use std::time::Duration;
/// use tower_stripe_webhook::{SigningSecret, SigningSecrets, StripeSignatureLayer};
///
/// let layer = StripeSignatureLayer::new(
///     SigningSecrets::new(SigningSecret::new("whsec_current")?.with_label("current"))
///         .and(SigningSecret::new("whsec_previous")?.with_label("previous")),
/// )
/// .tolerance(Duration::from_secs(300))
/// .body_limit(256 * 1024);
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct StripeSignatureLayer<R = DefaultRejection> {
    config: Config,
    state: Arc<LayerState>,
    rejection: R,
}

impl StripeSignatureLayer {
    /// A layer for one secret or a [`SigningSecrets`] set, with Stripe's defaults: 300 s tolerance, future
    /// timestamps accepted and reported, the system clock, a 1 MiB body limit, a 64 MiB budget for the
    /// bodies buffered at once, and the event parsed.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, SigningSecrets, StripeSignatureLayer};
    /// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?);
    /// assert_eq!(layer.verifier().tolerance_secs(), Some(300));
    /// // During a rotation: both secrets, the new one first.
    /// let rotating = StripeSignatureLayer::new(SigningSecrets::parse("whsec_new,whsec_old")?);
    /// assert_eq!(rotating.verifier().secrets().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(secrets: impl Into<SigningSecrets>) -> Self {
        Self::from_verifier(Verifier::new(secrets))
    }

    /// A layer around an existing [`Verifier`] (its secrets, tolerance and clock).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{SigningSecret, StripeSignatureLayer, Verifier};
    /// // One verifier for the layer and for a job that re-verifies stored payloads.
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).tolerance(Duration::from_secs(60));
    /// let layer = StripeSignatureLayer::from_verifier(verifier.clone());
    /// assert_eq!(layer.verifier().tolerance_secs(), Some(60));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_verifier(verifier: Verifier) -> Self {
        Self {
            state: Arc::new(LayerState::new(verifier.secrets())),
            config: Config {
                verifier,
                limit: DEFAULT_BODY_LIMIT,
                max_buffered: DEFAULT_MAX_BUFFERED_BYTES,
                parse: Parse::Snapshot,
            },
            rejection: DefaultRejection,
        }
    }

    /// A layer with the secrets of an environment variable (see [`SigningSecrets::parse`] for the format).
    ///
    /// # Errors
    ///
    /// The [`SecretError`] of [`SigningSecrets::from_env`]: report it at startup.
    ///
    /// ```
    /// # use tower_stripe_webhook::StripeSignatureLayer;
    /// assert!(StripeSignatureLayer::from_env("SURELY_UNSET_STRIPE_WEBHOOK_SECRET").is_err());
    /// ```
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        SigningSecrets::from_env(name).map(Self::new)
    }
}

impl<R> StripeSignatureLayer<R> {
    /// How old a signature may be; see [`Verifier::tolerance`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, StripeSignatureLayer};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let layer = StripeSignatureLayer::new(secret.clone()).tolerance(Duration::from_secs(60));
    /// let header = generate_test_header(b"{}", &secret, Some(1_000));
    /// assert!(layer.verifier().verify_at(&header, b"{}", 1_060).is_ok());
    /// assert_eq!(layer.verifier().verify_at(&header, b"{}", 1_061).unwrap_err().code(), "timestamp_too_old");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.config.verifier = self.config.verifier.tolerance(tolerance);
        self
    }

    /// Turns the replay protection off; see [`Verifier::insecure_skip_timestamp_check`]. Never on a live
    /// endpoint.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, StripeSignatureLayer};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let layer = StripeSignatureLayer::new(secret.clone()).insecure_skip_timestamp_check();
    /// assert_eq!(layer.verifier().tolerance_secs(), None);
    /// let header = generate_test_header(b"{}", &secret, Some(1_000));
    /// assert!(layer.verifier().verify_at(&header, b"{}", 1_000_000_000).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insecure_skip_timestamp_check(mut self) -> Self {
        self.config.verifier = self.config.verifier.insecure_skip_timestamp_check();
        self
    }

    /// Rejects timestamps further ahead than the tolerance; see [`Verifier::reject_future_timestamps`].
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, StripeSignatureLayer};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let layer = StripeSignatureLayer::new(secret.clone()).reject_future_timestamps();
    /// let header = generate_test_header(b"{}", &secret, Some(2_000));
    /// assert_eq!(layer.verifier().verify_at(&header, b"{}", 1_000).unwrap_err().code(), "timestamp_too_new");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reject_future_timestamps(mut self) -> Self {
        self.config.verifier = self.config.verifier.reject_future_timestamps();
        self
    }

    /// Diagnoses `no_matching_signature` rejections, within a budget shared by every service the layer
    /// builds; see [`Verifier::diagnose`] and [`Diagnose`](crate::Diagnose).
    ///
    /// ```
    /// use tower_stripe_webhook::{Diagnose, SigningSecret, StripeSignatureLayer};
    ///
    /// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?)
    ///     .diagnose(Diagnose::new().in_response());
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diagnose(mut self, diagnose: crate::Diagnose) -> Self {
        self.config.verifier = self.config.verifier.diagnose(diagnose);
        self
    }

    /// The clock to verify timestamps against; see [`Verifier::clock`].
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::FixedClock, SigningSecret, StripeSignatureLayer};
    /// // A test that signs at a fixed time passes in any year.
    /// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?).clock(FixedClock(1_700_000_000));
    /// assert_eq!(layer.verifier().now(), 1_700_000_000);
    /// // Or any closure returning Unix seconds.
    /// let layer = layer.clock(|| 42);
    /// assert_eq!(layer.verifier().now(), 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.verifier = self.config.verifier.clock(clock);
        self
    }

    /// The most bytes a body may have (default [`DEFAULT_BODY_LIMIT`]). Enforced from `Content-Length`
    /// before reading, and while reading, so a body without or with a lying `Content-Length` cannot exceed
    /// it in memory.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::Full;
    /// use tower_layer::Layer;
    /// use tower_stripe_webhook::{test_helpers::{oneshot, signed_request}, SigningSecret, StripeSignatureLayer, VerifiedBody};
    ///
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let service = StripeSignatureLayer::new(secret.clone()).body_limit(1024).layer(tower::service_fn(
    ///     |_: Request<VerifiedBody>| async { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new()))) },
    /// ));
    /// let request = signed_request::<Full<Bytes>>(vec![b' '; 1025], &secret, None);
    /// assert_eq!(oneshot(service, request).await?.status(), 413);
    /// # Ok(())
    /// # }
    /// ```
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.config.limit = limit;
        self
    }

    /// The most bytes of request bodies the layer holds at once, across all its requests and all the
    /// services it builds (default [`DEFAULT_MAX_BUFFERED_BYTES`], 64 MiB, far above real Stripe
    /// traffic).
    ///
    /// The body limit bounds one request; this bounds them all together, against many connections that
    /// each send a large body, or send it slowly, at once. Bytes are counted as they arrive and given back
    /// when the request's response is ready, or when its future is dropped (the client went away, a
    /// timeout). A request whose next chunk would take the total over the budget is refused with
    /// [`ErrorKind::BufferBudgetExceeded`](crate::ErrorKind::BufferBudgetExceeded): `503 Service
    /// Unavailable` with `Retry-After` from [`DefaultRejection`], so that Stripe retries the delivery
    /// later, and `Connection: close` on HTTP/1 (the rest of the body is left unread). A request whose
    /// `Content-Length` alone is more than what is left of the budget is refused the same way before its
    /// body is read; a `Content-Length` reserves nothing by itself, so one that lies costs nothing.
    ///
    /// Set it at least as high as the [`body_limit`](Self::body_limit), or a body between the two is
    /// never accepted. The count is of body bytes received: a buffer's allocation can be larger (at most
    /// 64 KiB reserved ahead from a `Content-Length`, or twice its bytes as it grows by doubling), and
    /// a body the inner service keeps after its response is no longer counted.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::Full;
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_stripe_webhook::{
    ///     generate_test_header, Error, SigningSecret, StripeSignatureLayer, VerifiedBody,
    /// };
    ///
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let service = ServiceBuilder::new()
    ///     .layer(StripeSignatureLayer::new(secret.clone()).max_buffered_bytes(64 * 1024))
    ///     .service_fn(|_: Request<VerifiedBody>| async {
    ///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
    ///     });
    ///
    /// // 100 KiB would take this layer over its 64 KiB budget: refused before the body is read.
    /// let body = Bytes::from(vec![b' '; 100 * 1024]);
    /// let request = Request::post("/webhook")
    ///     .header("stripe-signature", generate_test_header(&body, &secret, None))
    ///     .header("content-length", body.len())
    ///     .body(Full::new(body))?;
    /// let response = service.oneshot(request).await?;
    /// assert_eq!(response.status(), 503);
    /// assert_eq!(response.headers()["retry-after"], "5");
    /// let error = response.extensions().get::<Error>().unwrap();
    /// assert_eq!(error.code(), "buffer_budget_exceeded");
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_buffered_bytes(mut self, budget: usize) -> Self {
        self.config.max_buffered = budget;
        self
    }

    /// Which events the route accepts: snapshot events (the default), thin event notifications, or
    /// both. A delivery of another kind is refused with its own code after its signature verified
    /// (`unexpected_thin_event`, `unexpected_snapshot_event`), which says which destination points
    /// where. Replaces [`verify_only`](Self::verify_only) when called after it.
    ///
    /// ```
    /// use tower_stripe_webhook::{Accept, SigningSecret, SigningSecrets, StripeSignatureLayer};
    ///
    /// // One URL for two destinations, each with its own labelled secret.
    /// let secrets = SigningSecrets::parse("snapshot=whsec_snapshot_dest thin=whsec_thin_dest")?;
    /// let layer = StripeSignatureLayer::new(secrets).accept(Accept::AnyEvent);
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept(mut self, events: Accept) -> Self {
        self.config.parse = match events {
            Accept::SnapshotEvents => Parse::Snapshot,
            Accept::ThinEvents => Parse::Thin,
            Accept::AnyEvent => Parse::Any,
        };
        self
    }

    /// Verifies the signature but does not parse the event: the layer inserts a
    /// [`VerifiedPayload`](crate::VerifiedPayload) instead of an [`Event`](crate::Event), for handlers that
    /// queue payloads and parse them later (with [`VerifiedPayload::into_event`](crate::VerifiedPayload::into_event)
    /// or [`AnyEvent::from_verified_payload`](crate::AnyEvent::from_verified_payload)).
    ///
    /// ```
    /// use tower_stripe_webhook::{SigningSecret, StripeSignatureLayer};
    ///
    /// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?).verify_only();
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_only(mut self) -> Self {
        self.config.parse = Parse::Nothing;
        self
    }

    /// Replaces the response for rejected requests: a closure `FnMut(&Error) -> Response<Bytes> + Clone`,
    /// any [`RejectionResponse`](crate::RejectionResponse), or with the `axum` feature a closure
    /// `FnMut(&Error) -> impl IntoResponse + Clone` (see [`IntoRejectionResponse`](crate::IntoRejectionResponse)).
    /// The layer adds the [`Error`](crate::Error) to the response's extensions, and `Connection: close`
    /// when the body was left unread.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{header, Response, StatusCode};
    /// use tower_stripe_webhook::{Error, SigningSecret, StripeSignatureLayer};
    ///
    /// // A JSON body with the reason's code; the status of the default rejection.
    /// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?)
    ///     .with_rejection_response(|error: &Error| {
    ///         let mut response = Response::new(Bytes::from(format!(r#"{{"error":"{}"}}"#, error.code())));
    ///         *response.status_mut() = if error.code() == "payload_too_large" {
    ///             StatusCode::PAYLOAD_TOO_LARGE
    ///         } else {
    ///             StatusCode::BAD_REQUEST
    ///         };
    ///         response.headers_mut().insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    ///         response
    ///     });
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// With the `axum` feature, anything that implements `IntoResponse`:
    ///
    /// ```
    /// # #[cfg(feature = "axum")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use axum::{http::StatusCode, routing::post, Json, Router};
    /// use tower_stripe_webhook::{Error, SigningSecret, StripeSignatureLayer};
    ///
    /// let layer = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?)
    ///     .with_rejection_response(|error: &Error| {
    ///         (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": error.code() })))
    ///     });
    /// let app: Router = Router::new().route("/webhook", post(|| async { "ok" }).route_layer(layer));
    /// # let _ = app;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "axum"))]
    /// # fn main() {}
    /// ```
    pub fn with_rejection_response<T, M>(self, rejection: T) -> StripeSignatureLayer<T::Rejection>
    where
        T: IntoRejectionResponse<M>,
    {
        StripeSignatureLayer {
            config: self.config,
            state: self.state,
            rejection: rejection.into_rejection_response(),
        }
    }

    /// The verifier this layer checks with.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, StripeSignatureLayer};
    /// // The layer's own verifier, for a payload that came another way (a queue, a stored copy).
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let layer = StripeSignatureLayer::new(secret.clone());
    /// let header = generate_test_header(b"{}", &secret, None);
    /// assert!(layer.verifier().verify(&header, b"{}").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verifier(&self) -> &Verifier {
        &self.config.verifier
    }
}

impl<S, R: Clone> Layer<S> for StripeSignatureLayer<R> {
    type Service = StripeSignature<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        StripeSignature::from_parts(
            inner,
            Arc::new(Shared {
                config: self.config.clone(),
                state: Arc::clone(&self.state),
            }),
            self.rejection.clone(),
        )
    }
}

impl<R> fmt::Debug for StripeSignatureLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeSignatureLayer")
            .field("verifier", &self.config.verifier)
            .field("body_limit", &self.config.limit)
            .field("max_buffered_bytes", &self.config.max_buffered)
            .field("parse", &self.config.parse)
            .field("rejection", &format_args!("{}", std::any::type_name::<R>()))
            .finish()
    }
}
