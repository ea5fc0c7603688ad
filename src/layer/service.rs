//! [`StripeSignature`]: the service the layer wraps around yours.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use http::{header::CONTENT_LENGTH, request::Parts, HeaderValue, Request, Response};
use http_body::Body;
use tower_service::Service;

use super::{
    body::{ResponseBody, VerifiedBody},
    future::ResponseFuture,
    layer::{Config, StripeSignatureLayer},
    rejection::{DefaultRejection, RejectionResponse},
};
use crate::{
    header::Parsed, verify::signature_header, Error, ErrorKind, SignatureHeader, SigningSecrets,
    STRIPE_SIGNATURE,
};

/// What every service built by one [`StripeSignatureLayer`] shares: created once, by
/// [`StripeSignatureLayer::from_verifier`], and kept by the builder methods and by clones of the layer.
/// axum applies a route's layers again for every connection; state kept here stays one per layer.
#[derive(Debug)]
pub(crate) struct LayerState {
    /// Per secret: has a delivery matched it yet? For the one-time "rotation in progress" log line.
    #[cfg(feature = "tracing")]
    pub(crate) seen: Box<[std::sync::atomic::AtomicBool]>,
    /// Bytes of request bodies held now by all the requests of the layer's services, against
    /// `max_buffered_bytes`; see `Reservation` in `future.rs`.
    pub(crate) buffered: AtomicUsize,
}

impl LayerState {
    pub(crate) fn new(secrets: &SigningSecrets) -> Self {
        #[cfg(not(feature = "tracing"))]
        let _ = secrets;
        Self {
            #[cfg(feature = "tracing")]
            seen: secrets.iter().map(|_| Default::default()).collect(),
            buffered: AtomicUsize::new(0),
        }
    }
}

/// Configuration and the layer's state, shared by every clone of a [`StripeSignature`].
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) state: Arc<LayerState>,
}

/// Verifies the `Stripe-Signature` of each request before calling the inner service.
///
/// Built by [`StripeSignatureLayer`]; see there and the [crate docs](crate).
///
/// ```
/// use tower_layer::Layer;
/// use tower_stripe_webhook::{SigningSecret, StripeSignature, StripeSignatureLayer};
///
/// let inner = tower::service_fn(|_: http::Request<tower_stripe_webhook::VerifiedBody>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let service: StripeSignature<_> = StripeSignatureLayer::new(SigningSecret::new("whsec_example")?).layer(inner);
/// # let _ = service;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct StripeSignature<S, R = DefaultRejection> {
    inner: S,
    shared: Arc<Shared>,
    rejection: R,
}

impl<S, R: Clone> Clone for StripeSignature<S, R>
where
    S: Clone,
{
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            rejection: self.rejection.clone(),
        }
    }
}

impl<S> StripeSignature<S> {
    /// Wraps `inner` with Stripe's defaults (see [`StripeSignatureLayer::new`]).
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, StripeSignature};
    /// struct App {
    ///     name: &'static str,
    /// }
    /// let service = StripeSignature::new(App { name: "billing" }, SigningSecret::new("whsec_example")?);
    /// assert_eq!(service.get_ref().name, "billing");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(inner: S, secrets: impl Into<SigningSecrets>) -> Self {
        tower_layer::Layer::layer(&StripeSignatureLayer::new(secrets), inner)
    }

    /// The layer, for use with `ServiceBuilder` or `Router::layer`.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, StripeSignature};
    /// let layer = StripeSignature::<()>::layer(SigningSecret::new("whsec_example")?);
    /// assert_eq!(layer.verifier().secrets().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layer(secrets: impl Into<SigningSecrets>) -> StripeSignatureLayer {
        StripeSignatureLayer::new(secrets)
    }
}

impl<S, R> StripeSignature<S, R> {
    pub(crate) fn from_parts(inner: S, shared: Arc<Shared>, rejection: R) -> Self {
        Self {
            inner,
            shared,
            rejection,
        }
    }

    define_inner_service_accessors!(
        uses: "use tower_stripe_webhook::{SigningSecret, StripeSignature};",
        service: "StripeSignature::new(vec![\"inner\"], SigningSecret::new(\"whsec_example\")?)"
    );
}

/// What parsing the `Stripe-Signature` header found before the body was read, kept for the verification.
/// The value itself stays in the request's headers, where [`header`](Self::header) finds it again.
#[derive(Debug)]
pub(crate) struct CheckedHeader {
    parsed: Parsed,
}

impl CheckedHeader {
    /// The header, with what was found when it was checked. `parts` are the request's, whose headers
    /// nothing changes between the check and the verification (the layer owns them); if the value were
    /// gone, the header would read as empty and match nothing.
    pub(crate) fn header<'a>(&self, parts: &'a Parts) -> SignatureHeader<'a> {
        // The one value `precheck` found (it refused a repeated header): one probe, no second scan.
        let value = parts
            .headers
            .get(&STRIPE_SIGNATURE)
            .map_or(&b""[..], HeaderValue::as_bytes);
        SignatureHeader::reassemble(value, self.parsed)
    }
}

/// What can be refused before reading a byte of the body: a missing or unparseable signature header,
/// a declared length over the limit, and one over what is left of the layer's buffer budget. Returns the
/// header and the declared length (0 if unknown).
fn precheck<B: Body>(shared: &Shared, parts: &Parts, body: &B) -> Result<(CheckedHeader, usize), Error> {
    let config = &shared.config;
    let value = signature_header(&parts.headers)?;
    let header = SignatureHeader::parse(value.as_bytes())?;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or(0)
        .max(body.size_hint().lower());
    let limit = config.limit as u64;
    if declared > limit {
        return Err(Error::new(ErrorKind::PayloadTooLarge { limit }));
    }
    // Only a check: the bytes are counted as they arrive, so a length that lies reserves nothing.
    let budget = config.max_buffered;
    if declared > budget.saturating_sub(shared.state.buffered.load(Ordering::Relaxed)) as u64 {
        return Err(Error::new(ErrorKind::BufferBudgetExceeded {
            budget: budget as u64,
        }));
    }
    let header = CheckedHeader {
        parsed: header.parsed(),
    };
    // At most the limit (checked above), so it fits.
    Ok((header, usize::try_from(declared).unwrap_or(0)))
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for StripeSignature<S, R>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: RejectionResponse,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let shared = Arc::clone(&self.shared);
        match precheck(&shared, &parts, &body) {
            Ok((header, declared)) => {
                // The service that was polled ready goes into the future; a clone stays for the next
                // call, which polls it ready first. Cloning in `call` and using the clone would be wrong:
                // https://docs.rs/tower/latest/tower/trait.Service.html#be-careful-when-cloning-inner-services
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::buffering(
                    body,
                    parts,
                    inner,
                    header,
                    declared,
                    shared,
                    self.rejection.clone(),
                )
            }
            Err(error) => ResponseFuture::rejected(
                error,
                &parts,
                !body.is_end_stream(),
                shared,
                self.rejection.clone(),
            ),
        }
    }
}
