//! [`IdempotencyLayer`] and the [`Idempotency`] service it builds.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{header::RETRY_AFTER, HeaderName, HeaderValue, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::{
    memory::MemoryStore,
    store::{Claim, IdempotencyStore, StoreError},
};
use crate::{AnyEvent, Event, EventNotification, ResponseBody};

/// The header on the answer to a duplicate delivery: `Idempotent-Replayed: true`, as Stripe's API says
/// of a replayed request.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower::ServiceBuilder;
/// use tower_stripe_webhook::{
///     test_helpers::{oneshot, SignedRequest, TestEvent},
///     IdempotencyLayer, MemoryStore, SigningSecret, StripeSignatureLayer, VerifiedBody, IDEMPOTENT_REPLAYED,
/// };
///
/// let secret = SigningSecret::new("whsec_example")?;
/// let service = ServiceBuilder::new()
///     .layer(StripeSignatureLayer::new(secret.clone()))
///     .layer(IdempotencyLayer::new(MemoryStore::new()))
///     .service_fn(|_: Request<VerifiedBody>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("handled"))))
///     });
/// let event = TestEvent::new("invoice.paid", serde_json::json!({})).to_bytes();
/// let delivery = || SignedRequest::new(event.clone(), &secret).build::<Full<Bytes>>();
///
/// let first = oneshot(service.clone(), delivery()).await?;
/// assert!(!first.headers().contains_key(IDEMPOTENT_REPLAYED));
/// let retry = oneshot(service, delivery()).await?;
/// assert_eq!(retry.status(), 200);
/// assert_eq!(retry.headers()[IDEMPOTENT_REPLAYED], "true");
/// # Ok(())
/// # }
/// ```
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a claim lasts by default: a handler that has not answered in 5 minutes is presumed dead, and
/// the next delivery of its event runs again.
///
/// ```
/// # use std::time::Duration;
/// assert_eq!(tower_stripe_webhook::DEFAULT_LEASE, Duration::from_secs(300));
/// ```
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);

/// How long a handled event is remembered by default: 30 days, as long as the Stripe CLI can resend an
/// event (Stripe retries for 3 days, a Dashboard resend can come 15 days later).
///
/// ```
/// # use std::time::Duration;
/// // Longer than Stripe's retries (3 days) and a Dashboard resend (15 days).
/// assert_eq!(tower_stripe_webhook::DEFAULT_RETENTION, Duration::from_secs(30 * 86_400));
/// ```
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// What identifies an event for the idempotency layer.
///
/// ```
/// # use tower_stripe_webhook::{EventKey, IdempotencyLayer, MemoryStore};
/// assert_eq!(EventKey::default(), EventKey::EventId);
/// // Also treat two events about the same change of the same object as one:
/// let layer = IdempotencyLayer::new(MemoryStore::new()).key(EventKey::TypeAndObjectId);
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKey {
    /// The event id (`evt_...`): a delivery and its retries and resends. The default.
    #[default]
    EventId,
    /// The event type and the id of `data.object` (a thin notification's `related_object.id`), falling
    /// back to the event id when there is none: Stripe documents rare duplicates of one change with
    /// distinct event ids.
    TypeAndObjectId,
}

/// Marker in the extensions of the response to a duplicate delivery (the inner service was not
/// called), so that an outer layer can count duplicates.
///
/// ```
/// use tower_stripe_webhook::Duplicate;
///
/// let response = http::Response::new(());
/// assert!(response.extensions().get::<Duplicate>().is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Duplicate {
    /// The event was handled already: answered 200 with an empty body.
    Done,
    /// Another run holds the event: answered 409 with `Retry-After`.
    InProgress,
}

/// Runs the inner service at most once to success per event, on one instance or many: place it after
/// (inside) [`StripeSignatureLayer`](crate::StripeSignatureLayer), which puts the verified event in the
/// request's extensions.
///
/// For each delivery it claims the event's key in the store, then:
/// - **a new event**: calls the inner service; a 2xx answer marks the event done (for the retention), a
///   non-2xx answer or an error releases the claim so that Stripe's retry runs the handler again;
/// - **a duplicate of a handled event**: answers 200 with an empty body and `Idempotent-Replayed: true`
///   (and [`Duplicate::Done`] in the response's extensions), without calling the inner service;
/// - **a duplicate while another run holds the claim**: answers 409 Conflict with `Retry-After`
///   ([`Duplicate::InProgress`]), without calling the inner service: a 2xx would tell Stripe the event
///   was delivered, and it would be lost if the first run then failed;
/// - **the store failing**: answers 503 with `Retry-After` without calling the inner service (Stripe
///   retries), unless [`fail_open`](Self::fail_open);
/// - **no verified event in the request**: answers 500 naming the missing layer.
///
/// If the response future is dropped (the client went away, a timeout), the claim is released
/// best-effort (at once for the memory store; spawned where a tokio runtime runs, with the `tokio`
/// feature), else it ends with its lease. Put a request timeout shorter than the lease inside this
/// layer, so that a stuck handler is cut off before another run can start.
///
/// ```
/// use axum::{routing::post, Extension, Router};
/// use tower_stripe_webhook::{Event, IdempotencyLayer, MemoryStore, SigningSecret, StripeSignatureLayer};
///
/// async fn handle(Extension(event): Extension<Event>) -> &'static str {
///     // Runs once per event, however many times Stripe delivers it.
///     println!("handling {}", event.id());
///     "ok"
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The layer added last is the outermost: the signature is checked first.
/// let app: Router = Router::new()
///     .route("/webhook", post(handle))
///     .route_layer(IdempotencyLayer::new(MemoryStore::new()).namespace("billing"))
///     .route_layer(StripeSignatureLayer::new(SigningSecret::new("whsec_example")?));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct IdempotencyLayer<St = MemoryStore> {
    store: St,
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    namespace: String,
    key: EventKey,
    lease: Duration,
    retention: Duration,
    fail_open: bool,
}

impl<St: IdempotencyStore> IdempotencyLayer<St> {
    /// A layer recording events in `store`, with the defaults: namespace `"stripe"`, keyed by event id,
    /// a 5-minute lease, 30 days of retention, 503 when the store fails.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::Full;
    /// use tower::ServiceBuilder;
    /// use tower_stripe_webhook::{
    ///     test_helpers::{oneshot, SignedRequest, TestEvent},
    ///     Claim, IdempotencyLayer, IdempotencyStore, MemoryStore, SigningSecret, StripeSignatureLayer, VerifiedBody,
    /// };
    ///
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let store = MemoryStore::new();
    /// let service = ServiceBuilder::new()
    ///     .layer(StripeSignatureLayer::new(secret.clone()))
    ///     .layer(IdempotencyLayer::new(store.clone()))
    ///     .service_fn(|_: Request<VerifiedBody>| async {
    ///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
    ///     });
    /// let event = TestEvent::new("invoice.paid", serde_json::json!({})).id("evt_1").to_bytes();
    /// oneshot(service, SignedRequest::new(event, &secret).build::<Full<Bytes>>()).await?;
    /// // The store's key is `{namespace}:{event id}`, in the default namespace.
    /// assert_eq!(store.claim("stripe:evt_1", "me", Duration::from_secs(1)).await?, Claim::Done);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(store: St) -> Self {
        Self {
            store,
            config: Arc::new(Config {
                namespace: "stripe".into(),
                key: EventKey::EventId,
                lease: DEFAULT_LEASE,
                retention: DEFAULT_RETENTION,
                fail_open: false,
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(Arc::make_mut(&mut self.config));
        self
    }

    /// The prefix of this layer's keys in the store (`{namespace}:{key}`): one store can serve several
    /// endpoints, and an event delivered to two endpoints is handled once by each.
    ///
    /// ```
    /// # use tower_stripe_webhook::{IdempotencyLayer, MemoryStore};
    /// let store = MemoryStore::new();
    /// let platform = IdempotencyLayer::new(store.clone()).namespace("platform");
    /// let connect = IdempotencyLayer::new(store).namespace("connect");
    /// # let _ = (platform, connect);
    /// ```
    pub fn namespace(self, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        self.with(|config| config.namespace = namespace)
    }

    /// What identifies an event (default [`EventKey::EventId`]).
    ///
    /// ```
    /// # use tower_stripe_webhook::{EventKey, IdempotencyLayer, MemoryStore};
    /// let layer = IdempotencyLayer::new(MemoryStore::new()).key(EventKey::TypeAndObjectId);
    /// # let _ = layer;
    /// ```
    pub fn key(self, key: EventKey) -> Self {
        self.with(|config| config.key = key)
    }

    /// How long a claim lasts (default [`DEFAULT_LEASE`]): longer than your handler ever takes.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{IdempotencyLayer, MemoryStore};
    /// let layer = IdempotencyLayer::new(MemoryStore::new()).lease(Duration::from_secs(60));
    /// # let _ = layer;
    /// ```
    pub fn lease(self, lease: Duration) -> Self {
        self.with(|config| config.lease = lease)
    }

    /// How long a handled event is remembered (default [`DEFAULT_RETENTION`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{IdempotencyLayer, MemoryStore};
    /// let layer = IdempotencyLayer::new(MemoryStore::new()).retention(Duration::from_secs(7 * 86_400));
    /// # let _ = layer;
    /// ```
    pub fn retention(self, retention: Duration) -> Self {
        self.with(|config| config.retention = retention)
    }

    /// When the store fails, run the handler anyway instead of answering 503: delivery becomes
    /// at-least-once again while the store is down (a duplicate may run twice), but no event waits for
    /// the store.
    ///
    /// ```
    /// # use tower_stripe_webhook::{IdempotencyLayer, MemoryStore};
    /// let layer = IdempotencyLayer::new(MemoryStore::new()).fail_open();
    /// # let _ = layer;
    /// ```
    pub fn fail_open(self) -> Self {
        self.with(|config| config.fail_open = true)
    }
}

impl<S, St: Clone> Layer<S> for IdempotencyLayer<St> {
    type Service = Idempotency<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency {
            inner,
            store: self.store.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<St> fmt::Debug for IdempotencyLayer<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdempotencyLayer")
            .field("config", &self.config)
            .field("store", &format_args!("{}", std::any::type_name::<St>()))
            .finish()
    }
}

/// The service [`IdempotencyLayer`] wraps around yours.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::{
///     atomic::{AtomicUsize, Ordering},
///     Arc,
/// };
///
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower::ServiceBuilder;
/// use tower_stripe_webhook::{
///     test_helpers::{oneshot, SignedRequest, TestEvent},
///     IdempotencyLayer, MemoryStore, SigningSecret, StripeSignatureLayer, VerifiedBody,
/// };
///
/// let secret = SigningSecret::new("whsec_example")?;
/// let runs = Arc::new(AtomicUsize::new(0));
/// let handler = {
///     let runs = Arc::clone(&runs);
///     move |_: Request<VerifiedBody>| {
///         runs.fetch_add(1, Ordering::SeqCst);
///         async { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new()))) }
///     }
/// };
/// // `IdempotencyLayer::layer` wraps the handler in an `Idempotency`.
/// let service = ServiceBuilder::new()
///     .layer(StripeSignatureLayer::new(secret.clone()))
///     .layer(IdempotencyLayer::new(MemoryStore::new()))
///     .service_fn(handler);
/// let event = TestEvent::new("invoice.paid", serde_json::json!({})).to_bytes();
/// for _ in 0..3 {
///     let delivery = SignedRequest::new(event.clone(), &secret).build::<Full<Bytes>>();
///     assert_eq!(oneshot(service.clone(), delivery).await?.status(), 200);
/// }
/// assert_eq!(runs.load(Ordering::SeqCst), 1); // three deliveries, one run
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Idempotency<S, St = MemoryStore> {
    inner: S,
    store: St,
    config: Arc<Config>,
}

impl<S, St> Idempotency<S, St> {
    define_inner_service_accessors!(
        uses: "use {tower_layer::Layer, tower_stripe_webhook::{IdempotencyLayer, MemoryStore}};",
        service: "IdempotencyLayer::new(MemoryStore::new()).layer(vec![\"inner\"])"
    );
}

impl<S: fmt::Debug, St> fmt::Debug for Idempotency<S, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idempotency")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Response future of [`Idempotency`]. Boxed: the store's futures are `impl Future` types, which a
/// hand-written state machine could not name.
pub struct IdempotencyFuture<B, E> {
    inner: Pin<Box<dyn Future<Output = Answer<B, E>> + Send>>,
}

/// What [`IdempotencyFuture`] resolves to.
type Answer<B, E> = Result<Response<ResponseBody<B>>, E>;

impl<B, E> Future for IdempotencyFuture<B, E> {
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<B, E> fmt::Debug for IdempotencyFuture<B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdempotencyFuture").finish_non_exhaustive()
    }
}

impl<S, St, ReqBody, ResBody> Service<Request<ReqBody>> for Idempotency<S, St>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    St: IdempotencyStore,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = IdempotencyFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready goes into the future; a clone stays for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (store, config) = (self.store.clone(), Arc::clone(&self.config));
        let key = event_key(&request, config.key).map(|key| format!("{}:{key}", config.namespace));
        IdempotencyFuture {
            inner: Box::pin(async move {
                let Some(key) = key else {
                    return Ok(answer(StatusCode::INTERNAL_SERVER_ERROR, MISSING_LAYER, None));
                };
                let owner = new_owner();
                match store.claim(&key, &owner, config.lease).await {
                    Ok(Claim::Claimed) => {}
                    Ok(Claim::Done) => {
                        crate::metrics::idempotency("duplicate");
                        let mut response = answer(StatusCode::OK, "", None);
                        response
                            .headers_mut()
                            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
                        response.extensions_mut().insert(Duplicate::Done);
                        return Ok(response);
                    }
                    Ok(Claim::InProgress { retry_after }) => {
                        crate::metrics::idempotency("in_progress");
                        let mut response = answer(
                            StatusCode::CONFLICT,
                            "this event is being handled by another delivery; retry later\n",
                            Some(retry_after),
                        );
                        response.extensions_mut().insert(Duplicate::InProgress);
                        return Ok(response);
                    }
                    Err(error) if config.fail_open => {
                        crate::metrics::idempotency("store_error");
                        log_store_error(&error, "claim; failing open, the handler runs without a claim");
                        return inner.call(request).await.map(|r| r.map(ResponseBody::inner));
                    }
                    Err(error) => {
                        crate::metrics::idempotency("store_error");
                        log_store_error(&error, "claim; answering 503 so that Stripe retries");
                        return Ok(answer(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "idempotency store unavailable; retry later\n",
                            Some(Duration::from_secs(10)),
                        ));
                    }
                }
                let mut claim = Held {
                    store,
                    key,
                    owner,
                    armed: true,
                };
                let result = inner.call(request).await;
                claim.armed = false;
                let done = matches!(&result, Ok(response) if response.status().is_success());
                crate::metrics::idempotency(if done { "handled" } else { "released" });
                let settled = if done {
                    claim
                        .store
                        .complete(&claim.key, &claim.owner, config.retention)
                        .await
                } else {
                    claim.store.release(&claim.key, &claim.owner).await
                };
                match settled {
                    Ok(true) => {}
                    Ok(false) => log_store_error(
                        &StoreError::msg(
                            "the claim had expired before the handler answered: raise the lease",
                        ),
                        if done { "complete" } else { "release" },
                    ),
                    Err(error) => log_store_error(&error, if done { "complete" } else { "release" }),
                }
                result.map(|response| response.map(ResponseBody::inner))
            }),
        }
    }
}

const MISSING_LAYER: &str = "no verified Stripe event in the request: IdempotencyLayer needs \
                             StripeSignatureLayer outside it (added after it with `.layer`), not in verify-only mode\n";

/// A claim the future holds while the handler runs: released best-effort if the future is dropped.
struct Held<St: IdempotencyStore> {
    store: St,
    key: String,
    owner: String,
    armed: bool,
}

impl<St: IdempotencyStore> Drop for Held<St> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, key, owner) = (
            self.store.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.owner),
        );
        let mut release = Box::pin(async move {
            let _ = store.release(&key, &owner).await;
        });
        // One poll at once, which is all the memory store needs; a store that has to wait for its server
        // finishes on the tokio runtime when there is one (feature `tokio`), else its claim ends with its
        // lease.
        let pending = release
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
            .is_pending();
        #[cfg(feature = "tokio")]
        if let (true, Ok(runtime)) = (pending, tokio::runtime::Handle::try_current()) {
            runtime.spawn(release);
        }
        #[cfg(not(feature = "tokio"))]
        let _ = pending;
    }
}

/// The key of the verified event in `request`'s extensions.
fn event_key<B>(request: &Request<B>, key: EventKey) -> Option<String> {
    let extensions = request.extensions();
    let (id, event_type, object_id) = if let Some(event) = extensions.get::<Event>() {
        snapshot_identity(event, key)
    } else if let Some(notification) = extensions.get::<EventNotification>() {
        thin_identity(notification)
    } else {
        match extensions.get::<AnyEvent>()? {
            AnyEvent::Snapshot(event) => snapshot_identity(event, key),
            AnyEvent::Thin(notification) => thin_identity(notification),
        }
    };
    Some(match (key, object_id) {
        (EventKey::TypeAndObjectId, Some(object_id)) => format!("{event_type}:{object_id}"),
        _ => id.to_owned(),
    })
}

/// A snapshot event's id, type and object id (`data.object.id`).
fn snapshot_identity(event: &Event, key: EventKey) -> (&str, &str, Option<String>) {
    // Reading `data.object` costs a pass over it: only for the key that needs it.
    let object_id = match key {
        EventKey::TypeAndObjectId => object_id(event),
        EventKey::EventId => None,
    };
    (event.id(), event.event_type(), object_id)
}

/// A thin notification's id, type and object id (`related_object.id`).
fn thin_identity(notification: &EventNotification) -> (&str, &str, Option<String>) {
    let related = notification.related_object().and_then(|related| related.id);
    (
        notification.id(),
        notification.event_type(),
        related.map(str::to_owned),
    )
}

/// `data.object.id`, if it is a string.
fn object_id(event: &Event) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Object<'a> {
        #[serde(borrow)]
        id: Option<std::borrow::Cow<'a, str>>,
    }
    let object: Object<'_> = event.data_object().ok()?;
    object.id.map(std::borrow::Cow::into_owned)
}

/// A response of the layer's own, with `Retry-After` (whole seconds, at least 1) when given.
fn answer<B>(
    status: StatusCode,
    body: &'static str,
    retry_after: Option<Duration>,
) -> Response<ResponseBody<B>> {
    let mut response = Response::new(ResponseBody::rejection(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    if !body.is_empty() {
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    if let Some(after) = retry_after {
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

fn log_store_error(error: &StoreError, during: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(error = %error, "stripe webhook idempotency store failed during {during}");
    #[cfg(not(feature = "tracing"))]
    let _ = (error, during);
}

/// A token no other claim has: a prefix made once per process (its id, the time it was made and the
/// standard library's randomly keyed hasher, so that two processes, or one restarted, never share it)
/// and a counter. Uniqueness matters, not secrecy.
fn new_owner() -> String {
    use std::hash::{BuildHasher, Hasher};
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        format!("{:x}-{:016x}", std::process::id(), hasher.finish())
    });
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::{TestEvent, TestNotification};

    /// The keys of a request carrying `event`: by event id, by type and object.
    fn keys<T: Clone + Send + Sync + 'static>(event: T) -> [Option<String>; 2] {
        [EventKey::EventId, EventKey::TypeAndObjectId].map(|key| {
            let mut request = Request::new(());
            request.extensions_mut().insert(event.clone());
            event_key(&request, key)
        })
    }

    #[test]
    fn events_are_keyed_alike_alone_or_as_any_event() {
        let snapshot = TestEvent::new("invoice.paid", serde_json::json!({"id": "in_1"})).id("evt_1");
        let snapshot = Event::from_verified_payload(snapshot.to_bytes()).unwrap();
        let thin = TestNotification::new("v1.billing.meter.error_report_triggered")
            .id("evt_2")
            .related_object("mtr_1", "billing.meter", "/v1/billing/meters/mtr_1");
        let thin = EventNotification::from_verified_payload(thin.to_bytes()).unwrap();
        let ping = TestNotification::new("v2.core.event_destination.ping").id("evt_3");
        let ping = EventNotification::from_verified_payload(ping.to_bytes()).unwrap();
        let expected = |id: &str, by_object: &str| [Some(id.to_owned()), Some(by_object.to_owned())];

        assert_eq!(keys(snapshot.clone()), expected("evt_1", "invoice.paid:in_1"));
        assert_eq!(
            keys(AnyEvent::Snapshot(snapshot)),
            expected("evt_1", "invoice.paid:in_1")
        );
        let by_object = "v1.billing.meter.error_report_triggered:mtr_1";
        assert_eq!(keys(thin.clone()), expected("evt_2", by_object));
        assert_eq!(keys(AnyEvent::Thin(thin)), expected("evt_2", by_object));
        // No related object: the event id, whatever the key.
        assert_eq!(keys(ping.clone()), expected("evt_3", "evt_3"));
        assert_eq!(keys(AnyEvent::Thin(ping)), expected("evt_3", "evt_3"));
        assert_eq!(keys(()), [None, None]);
    }
}
