//! Building signed requests, events and thin notifications for your own tests.
//!
//! Everything here signs with [`generate_test_header`], the way Stripe signs,
//! so what these helpers build verifies exactly as a real delivery would:
//!
//! * [`signed_request`]: a signed `http::Request` in one call (body, secret, optional timestamp), and
//!   [`SignedRequest`] for a path, a method or headers of your own;
//! * [`TestEvent`]: a snapshot event written as Stripe writes it (`JSON.stringify(event, null, 2)`, its
//!   keys in Stripe's order), and [`TestNotification`] for a thin event notification;
//! * [`FixedClock`] for [`StripeSignatureLayer::clock`](crate::StripeSignatureLayer::clock), so that a fixed
//!   timestamp verifies in any year, and [`oneshot`] to call a service without `tower`'s `ServiceExt`.
//!
//! Nothing here needs a feature or a dependency the crate does not already have.
//!
//! # A oneshot test of an axum router
//!
//! ```no_run
//! // tests/webhook.rs in your application (needs `axum`, `tokio` and `tower` as dev-dependencies).
//! use axum::{body::Body, routing::post, Router};
//! use tower::ServiceExt;
//! use tower_stripe_webhook::{
//!     test_helpers::{signed_request, FixedClock, TestEvent},
//!     SigningSecret, StripeSignatureLayer,
//! };
//!
//! const NOW: i64 = 1_700_000_000;
//!
//! fn app(secret: SigningSecret) -> Router {
//!     let layer = StripeSignatureLayer::new(secret).clock(FixedClock(NOW));
//!     Router::new().route("/webhook", post(|| async { "ok" }).layer(layer))
//! }
//!
//! #[tokio::test]
//! async fn a_signed_event_is_accepted() {
//!     let secret = SigningSecret::new("whsec_test").unwrap();
//!     let body = TestEvent::new("invoice.paid", serde_json::json!({"id": "in_1", "object": "invoice"}))
//!         .created(NOW)
//!         .to_bytes();
//!     let request = signed_request::<Body>(body, &secret, Some(NOW));
//!     let response = app(secret).oneshot(request).await.unwrap();
//!     assert_eq!(response.status(), 200);
//! }
//! # fn main() {}
//! ```
//!
//! The CI smoke test over TCP, with a signed fixture through your own router, is in
//! [`SignedRequest`]'s docs.
//!
//! # A `tower-test` mock behind the layer
//!
//! `tower_test::mock::spawn_layer` cannot infer the request types, so both are spelled out: the mock's,
//! `http::Request<VerifiedBody>` (what the layer hands on), in `spawn_layer`'s turbofish, and the one
//! you send, here `http::Request<Full<Bytes>>`, in `poll_ready`'s (the layer accepts any body, so nothing
//! else fixes it before `call`). The example is `benches/tests/tower_test_mock.rs`, a test CI runs (in
//! the workspace's development package, so that the demo's first build needs no `tower-test`):
//!
#![doc = concat!("```rust,ignore\n", include_str!("../benches/tests/tower_test_mock.rs"), "```")]

use std::{fmt::Write as _, future::poll_fn};

use bytes::Bytes;
use http::{header::CONTENT_TYPE, HeaderName, HeaderValue, Method, Request};
use tower_service::Service;

use crate::{generate_test_header, Clock, SigningSecret, STRIPE_SIGNATURE};

/// Writes `json` again with other whitespace between its tokens and nothing else changed: keys, their
/// order and every value's text stay as they are. `indent` per level and `newline` after every `{`, `[`
/// and `,` and before the closing bracket of a non-empty container, `separator` for every `:`; empty
/// containers stay `{}` and `[]`, as serializers write them. `relayout(json, "  ", "\n", ": ")` is
/// Stripe's layout (`JSON.stringify(event, null, 2)`), `relayout(json, "", "", ":")` the compact one:
/// lay a fixture out as Stripe sends it, or reproduce what a proxy or a body parser does to a delivery.
///
/// The input should be valid JSON; on anything else the output is unspecified but there is no panic.
///
/// ```
/// use tower_stripe_webhook::test_helpers::relayout;
///
/// let compact = br#"{"id":"evt_1","data":{"object":{}},"n":[1,2]}"#;
/// let stripe = relayout(compact, "  ", "\n", ": ");
/// assert_eq!(stripe, b"{\n  \"id\": \"evt_1\",\n  \"data\": {\n    \"object\": {}\n  },\n  \"n\": [\n    1,\n    2\n  ]\n}");
/// assert_eq!(relayout(&stripe, "", "", ":"), compact);
/// ```
pub fn relayout(json: &[u8], indent: &str, newline: &str, separator: &str) -> Vec<u8> {
    crate::diagnose::relayout(json, indent, newline, separator)
}

/// A clock that always says the same Unix second, for
/// [`StripeSignatureLayer::clock`](crate::StripeSignatureLayer::clock) and
/// [`Verifier::clock`](crate::Verifier::clock): sign with `Some(t)` and verify at `FixedClock(t)`, and a
/// test passes in any year.
///
/// ```
/// use tower_stripe_webhook::{generate_test_header, test_helpers::FixedClock, SigningSecret, Verifier};
///
/// let secret = SigningSecret::new("whsec_test")?;
/// let header = generate_test_header("{}", &secret, Some(1_000));
/// let verifier = Verifier::new(secret).clock(FixedClock(1_010));
/// assert_eq!(verifier.verify(&header, "{}")?.age(), 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}

/// A signed `POST /webhook` request with `body`, signed with `secret` at `timestamp` (now when `None`),
/// with `content-type: application/json`; the body type is any `From<Bytes>` body (`axum::body::Body`,
/// `http_body_util::Full<Bytes>`, …).
///
/// ```
/// use http_body_util::Full;
/// use tower_stripe_webhook::{test_helpers::signed_request, SigningSecret, Verifier};
///
/// let secret = SigningSecret::new("whsec_test")?;
/// let request = signed_request::<Full<bytes::Bytes>>(r#"{"id":"evt_1"}"#, &secret, Some(1_700_000_000));
/// assert_eq!(request.uri(), "/webhook");
/// let header = &request.headers()["stripe-signature"];
/// assert!(Verifier::new(secret).verify_at(header.as_bytes(), r#"{"id":"evt_1"}"#, 1_700_000_000).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn signed_request<B: From<Bytes>>(
    body: impl Into<Bytes>,
    secret: &SigningSecret,
    timestamp: Option<i64>,
) -> Request<B> {
    SignedRequest::new(body, secret).timestamp(timestamp).build()
}

/// A signed request with your own path, method or headers; [`signed_request`] is the one-call form.
///
/// # A CI smoke test: a known-good fixture through your router, over TCP
///
/// Keep one event Stripe really sent (`stripe events retrieve evt_...`, or the Dashboard's event page)
/// under `tests/fixtures/`, and send it, signed, through the router your `main` serves, over a real
/// socket. A body parser in front of the layer, a wrong route or a proxy-shaped mistake in the stack
/// fails here, not in production.
///
/// ```no_run
/// // tests/smoke.rs in your application (needs `axum`, `tokio`, `hyper` with its `client` and `http1`
/// // features, `hyper-util` with `tokio`, and `http-body-util` as dev-dependencies).
/// use axum::{routing::post, Router};
/// use http_body_util::{BodyExt, Full};
/// use tower_stripe_webhook::{test_helpers::SignedRequest, Event, SigningSecret, StripeSignatureLayer};
///
/// // Your application's router, as `main` builds it.
/// fn app(secret: SigningSecret) -> Router {
///     let handler = |event: Event| async move { format!("handled {}", event.event_type()) };
///     Router::new().route("/stripe/webhook", post(handler).layer(StripeSignatureLayer::new(secret)))
/// }
///
/// #[tokio::test]
/// async fn a_real_event_goes_through_the_stack() {
///     let secret = SigningSecret::new("whsec_ci_smoke_test").unwrap();
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let router = app(secret.clone());
///     tokio::spawn(async move { axum::serve(listener, router).await });
///
///     // Signed now: the server's clock checks it as it would a delivery.
///     let fixture = std::fs::read("tests/fixtures/invoice.paid.json").unwrap();
///     let request = SignedRequest::new(fixture, &secret)
///         .uri("/stripe/webhook")
///         .header(http::header::HOST, addr.to_string().parse().unwrap())
///         .build::<Full<bytes::Bytes>>();
///     let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
///     let io = hyper_util::rt::TokioIo::new(stream);
///     let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
///     tokio::spawn(connection);
///     let response = sender.send_request(request).await.unwrap();
///     assert_eq!(response.status(), 200);
///     let body = response.into_body().collect().await.unwrap().to_bytes();
///     assert_eq!(body, "handled invoice.paid");
/// }
/// # fn main() {}
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct SignedRequest {
    body: Bytes,
    header: String,
    uri: String,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    secret: SigningSecret,
}

impl SignedRequest {
    /// `body` signed with `secret` now, to `POST /webhook`.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_test")?;
    /// let request = SignedRequest::new("{}", &secret).build::<bytes::Bytes>();
    /// assert_eq!((request.method().as_str(), request.uri().path()), ("POST", "/webhook"));
    /// // Signed now, so that a layer with the real clock accepts it.
    /// Verifier::new(secret).verify_headers(request.headers(), request.body())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(body: impl Into<Bytes>, secret: &SigningSecret) -> Self {
        let body = body.into();
        Self {
            header: generate_test_header(&body, secret, None),
            body,
            uri: "/webhook".to_owned(),
            method: Method::POST,
            headers: Vec::new(),
            secret: secret.clone(),
        }
    }

    /// Signs at `timestamp` (Unix seconds) instead of now; `None` keeps now.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret};
    /// let request = SignedRequest::new("{}", &SigningSecret::new("whsec_test")?)
    ///     .timestamp(Some(1_000))
    ///     .build::<bytes::Bytes>();
    /// assert!(request.headers()["stripe-signature"].to_str()?.starts_with("t=1000,v1="));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timestamp(mut self, timestamp: Option<i64>) -> Self {
        if let Some(timestamp) = timestamp {
            self.header = generate_test_header(&self.body, &self.secret, Some(timestamp));
        }
        self
    }

    /// The request's URI (`/webhook` by default); a full `http://host/path` for a client.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret};
    /// let request = SignedRequest::new("{}", &SigningSecret::new("whsec_test")?)
    ///     .uri("/stripe/connect")
    ///     .build::<bytes::Bytes>();
    /// assert_eq!(request.uri(), "/stripe/connect");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// The request's method (`POST` by default): to see what a route answers to a `GET`.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret};
    /// let request = SignedRequest::new("", &SigningSecret::new("whsec_test")?)
    ///     .method(http::Method::GET)
    ///     .build::<bytes::Bytes>();
    /// assert_eq!(request.method(), "GET");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Adds a header (after `stripe-signature` and `content-type: application/json`).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret};
    /// let request = SignedRequest::new("{}", &SigningSecret::new("whsec_test")?)
    ///     .header(http::HeaderName::from_static("x-request-id"), http::HeaderValue::from_static("r-1"))
    ///     .build::<bytes::Bytes>();
    /// assert_eq!(request.headers()["x-request-id"], "r-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The `Stripe-Signature` header value this request carries.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret};
    /// let signed = SignedRequest::new("{}", &SigningSecret::new("whsec_test")?).timestamp(Some(5));
    /// assert!(signed.signature_header().starts_with("t=5,v1="));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signature_header(&self) -> &str {
        &self.header
    }

    /// The request, with any `From<Bytes>` body.
    ///
    /// # Panics
    ///
    /// If the URI does not parse.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::SignedRequest, SigningSecret};
    /// let request = SignedRequest::new("{}", &SigningSecret::new("whsec_test")?).build::<bytes::Bytes>();
    /// assert_eq!(request.body(), "{}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build<B: From<Bytes>>(self) -> Request<B> {
        let mut builder = Request::builder()
            .method(self.method)
            .uri(&self.uri)
            .header(STRIPE_SIGNATURE, &self.header)
            .header(CONTENT_TYPE, "application/json");
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(B::from(self.body))
            .unwrap_or_else(|error| panic!("SignedRequest: URI {:?}: {error}", self.uri))
    }
}

/// A snapshot event written as Stripe writes it: `JSON.stringify(event, null, 2)`, with `id`, `object`,
/// `account` (Connect only), `api_version`, `created`, `data.object`, `data.previous_attributes` (updates
/// only), `livemode`, `pending_webhooks`, `request` and `type`, in that order.
///
/// ```
/// use serde_json::json;
/// use tower_stripe_webhook::{test_helpers::TestEvent, Event};
///
/// let body = TestEvent::new("customer.updated", json!({"id": "cus_1", "object": "customer", "email": "b@example.com"}))
///     .id("evt_1")
///     .account("acct_1")
///     .previous_attributes(json!({"email": "a@example.com"}))
///     .to_bytes();
/// assert!(body.starts_with(b"{\n  \"id\": \"evt_1\",\n  \"object\": \"event\",\n  \"account\": \"acct_1\","));
///
/// let event = Event::from_verified_payload(body)?;
/// assert_eq!(event.event_type(), "customer.updated");
/// assert_eq!(event.account(), Some("acct_1"));
/// let previous: serde_json::Value = event.previous_attributes().unwrap()?;
/// assert_eq!(previous["email"], "a@example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TestEvent {
    id: String,
    event_type: String,
    account: Option<String>,
    api_version: String,
    created: i64,
    object: serde_json::Value,
    previous_attributes: Option<serde_json::Value>,
    livemode: bool,
    pending_webhooks: u64,
    request_id: Option<String>,
    idempotency_key: Option<String>,
}

impl TestEvent {
    /// An event of `event_type` about `object` (what `data.object` holds), in test mode, created at
    /// 1,700,000,000 (set [`created`](Self::created) to your clock's now for a layer's fixed clock).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({"id": "in_1", "amount_paid": 2000})).to_bytes();
    /// let event = Event::from_verified_payload(body)?;
    /// assert_eq!((event.id(), event.event_type(), event.created()), ("evt_test_1", "invoice.paid", 1_700_000_000));
    /// assert!(!event.livemode());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(event_type: impl Into<String>, object: serde_json::Value) -> Self {
        Self {
            id: "evt_test_1".to_owned(),
            event_type: event_type.into(),
            account: None,
            api_version: "2025-01-27.acacia".to_owned(),
            created: 1_700_000_000,
            object,
            previous_attributes: None,
            livemode: false,
            pending_webhooks: 1,
            request_id: None,
            idempotency_key: None,
        }
    }

    /// The event's `id` (`evt_test_1` by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({})).id("evt_42").to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.id(), "evt_42");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The connected account a Connect event belongs to (no `account` key by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({})).account("acct_9").to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.account(), Some("acct_9"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// The `api_version` (`2025-01-27.acacia` by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({})).api_version("2020-08-27").to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.api_version(), Some("2020-08-27"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = api_version.into();
        self
    }

    /// `created`, in Unix seconds.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({})).created(1_800_000_000).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.created(), 1_800_000_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created(mut self, created: i64) -> Self {
        self.created = created;
        self
    }

    /// `data.previous_attributes`, what an `*.updated` event says changed (none by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("customer.updated", serde_json::json!({"name": "B"}))
    ///     .previous_attributes(serde_json::json!({"name": "A"}))
    ///     .to_bytes();
    /// let event = Event::from_verified_payload(body)?;
    /// assert_eq!(event.previous_attributes_raw(), Some(&b"{\n      \"name\": \"A\"\n    }"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn previous_attributes(mut self, previous: serde_json::Value) -> Self {
        self.previous_attributes = Some(previous);
        self
    }

    /// Live mode (`false` by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({})).livemode(true).to_bytes();
    /// assert!(Event::from_verified_payload(body)?.livemode());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn livemode(mut self, livemode: bool) -> Self {
        self.livemode = livemode;
        self
    }

    /// `pending_webhooks` (1 by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({})).pending_webhooks(3).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.pending_webhooks(), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending_webhooks(mut self, pending: u64) -> Self {
        self.pending_webhooks = pending;
        self
    }

    /// `request.id` and `request.idempotency_key`: the API request that caused the event (both `null` by
    /// default, as for events Stripe causes itself).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", serde_json::json!({}))
    ///     .request(Some("req_1"), Some("key-1"))
    ///     .to_bytes();
    /// let event = Event::from_verified_payload(body)?;
    /// assert_eq!((event.request_id(), event.idempotency_key()), (Some("req_1"), Some("key-1")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request(mut self, id: Option<&str>, idempotency_key: Option<&str>) -> Self {
        self.request_id = id.map(str::to_owned);
        self.idempotency_key = idempotency_key.map(str::to_owned);
        self
    }

    /// The event as Stripe's body text (keys of `data.object` in `serde_json::Value`'s order).
    ///
    /// ```
    /// # use tower_stripe_webhook::test_helpers::TestEvent;
    /// let json = TestEvent::new("invoice.paid", serde_json::json!({"id": "in_1"})).to_json();
    /// assert!(json.ends_with("  \"type\": \"invoice.paid\"\n}"));
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        field(&mut out, "id", &json_string(&self.id));
        field(&mut out, "object", "\"event\"");
        if let Some(account) = &self.account {
            field(&mut out, "account", &json_string(account));
        }
        field(&mut out, "api_version", &json_string(&self.api_version));
        field(&mut out, "created", &self.created.to_string());
        let mut data = String::from("{\n");
        field_at(&mut data, 4, "object", &pretty(&self.object, 4));
        if let Some(previous) = &self.previous_attributes {
            field_at(&mut data, 4, "previous_attributes", &pretty(previous, 4));
        }
        close(&mut data, 2);
        field(&mut out, "data", &data);
        field(&mut out, "livemode", &self.livemode.to_string());
        field(&mut out, "pending_webhooks", &self.pending_webhooks.to_string());
        let request = format!(
            "{{\n    \"id\": {},\n    \"idempotency_key\": {}\n  }}",
            optional(&self.request_id),
            optional(&self.idempotency_key)
        );
        field(&mut out, "request", &request);
        field(&mut out, "type", &json_string(&self.event_type));
        close(&mut out, 0);
        out
    }

    /// [`to_json`](Self::to_json) as `Bytes`, ready to sign.
    ///
    /// ```
    /// # use tower_stripe_webhook::test_helpers::TestEvent;
    /// let event = TestEvent::new("invoice.paid", serde_json::json!({}));
    /// assert_eq!(event.to_bytes(), event.to_json());
    /// ```
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(self.to_json())
    }
}

/// A thin event notification (`"object": "v2.core.event"`) as a thin event destination sends it.
///
/// ```
/// use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
///
/// let body = TestNotification::new("v1.billing.meter.error_report_triggered")
///     .related_object("mtr_1", "billing.meter", "/v1/billing/meters/mtr_1")
///     .context("acct_1")
///     .to_bytes();
/// let notification = EventNotification::from_verified_payload(body)?;
/// assert_eq!(notification.event_type(), "v1.billing.meter.error_report_triggered");
/// assert_eq!(notification.context(), Some("acct_1"));
/// assert_eq!(notification.related_object().unwrap().id, Some("mtr_1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TestNotification {
    id: String,
    event_type: String,
    created: String,
    livemode: bool,
    context: Option<String>,
    related_object: Option<[String; 3]>,
}

impl TestNotification {
    /// A test-mode notification of `event_type`, created `2025-01-01T00:00:00.000Z`.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v1.billing.meter.no_meter_found").to_bytes();
    /// let notification = EventNotification::from_verified_payload(body)?;
    /// assert_eq!(notification.id(), "evt_test_thin_1");
    /// assert_eq!(notification.created(), Some("2025-01-01T00:00:00.000Z"));
    /// assert!(!notification.livemode());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(event_type: impl Into<String>) -> Self {
        Self {
            id: "evt_test_thin_1".to_owned(),
            event_type: event_type.into(),
            created: "2025-01-01T00:00:00.000Z".to_owned(),
            livemode: false,
            context: None,
            related_object: None,
        }
    }

    /// The notification's `id` (`evt_test_thin_1` by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").id("evt_2").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.id(), "evt_2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// `created`, an RFC 3339 time as Stripe writes it.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping")
    ///     .created("2024-03-07T18:27:56.000Z")
    ///     .to_bytes();
    /// let notification = EventNotification::from_verified_payload(body)?;
    /// assert_eq!(notification.created_unix_millis(), Some(1_709_836_076_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created(mut self, created: impl Into<String>) -> Self {
        self.created = created.into();
        self
    }

    /// Live mode (`false` by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").livemode(true).to_bytes();
    /// assert!(EventNotification::from_verified_payload(body)?.livemode());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn livemode(mut self, livemode: bool) -> Self {
        self.livemode = livemode;
        self
    }

    /// `context`: the account the event happened on (none by default).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").context("acct_2").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.context(), Some("acct_2"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// `related_object`: the object the event is about, with its `id`, `type` and API `url`.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v1.billing.meter.no_meter_found")
    ///     .related_object("mtr_3", "billing.meter", "/v1/billing/meters/mtr_3")
    ///     .to_bytes();
    /// let notification = EventNotification::from_verified_payload(body)?;
    /// assert_eq!(notification.related_object().unwrap().url, Some("/v1/billing/meters/mtr_3"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn related_object(
        mut self,
        id: impl Into<String>,
        object_type: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        self.related_object = Some([id.into(), object_type.into(), url.into()]);
        self
    }

    /// The notification as Stripe's body text.
    ///
    /// ```
    /// # use tower_stripe_webhook::test_helpers::TestNotification;
    /// let json = TestNotification::new("v2.core.event_destination.ping").to_json();
    /// assert!(json.contains("\"object\": \"v2.core.event\""));
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        field(&mut out, "id", &json_string(&self.id));
        field(&mut out, "object", "\"v2.core.event\"");
        field(&mut out, "type", &json_string(&self.event_type));
        field(&mut out, "livemode", &self.livemode.to_string());
        field(&mut out, "created", &json_string(&self.created));
        if let Some(context) = &self.context {
            field(&mut out, "context", &json_string(context));
        }
        if let Some([id, object_type, url]) = &self.related_object {
            let related = format!(
                "{{\n    \"id\": {},\n    \"type\": {},\n    \"url\": {}\n  }}",
                json_string(id),
                json_string(object_type),
                json_string(url)
            );
            field(&mut out, "related_object", &related);
        }
        close(&mut out, 0);
        out
    }

    /// [`to_json`](Self::to_json) as `Bytes`, ready to sign.
    ///
    /// ```
    /// # use tower_stripe_webhook::test_helpers::TestNotification;
    /// let notification = TestNotification::new("v2.core.event_destination.ping");
    /// assert_eq!(notification.to_bytes(), notification.to_json());
    /// ```
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(self.to_json())
    }
}

/// Calls `service` once, when it is ready: `tower::ServiceExt::oneshot` without the `tower` dependency.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower_layer::Layer;
/// use tower_stripe_webhook::{
///     test_helpers::{oneshot, signed_request, FixedClock, TestEvent},
///     SigningSecret, StripeSignatureLayer, VerifiedBody,
/// };
///
/// let secret = SigningSecret::new("whsec_test")?;
/// let layer = StripeSignatureLayer::new(secret.clone()).clock(FixedClock(1_700_000_000));
/// let service = layer.layer(tower::service_fn(|request: Request<VerifiedBody>| async move {
///     Ok::<_, std::convert::Infallible>(Response::new(request.into_body().into_bytes()))
/// }));
///
/// let body = TestEvent::new("invoice.paid", serde_json::json!({})).to_bytes();
/// let request = signed_request::<Full<Bytes>>(body, &secret, Some(1_700_000_000));
/// assert_eq!(oneshot(service.clone(), request).await?.status(), 200);
///
/// // Five minutes and a second later, the same request is a replay.
/// let late = layer.clock(FixedClock(1_700_000_301)).layer(tower::service_fn(
///     |_: Request<VerifiedBody>| async { Ok::<_, std::convert::Infallible>(Response::new(Bytes::new())) },
/// ));
/// let body = TestEvent::new("invoice.paid", serde_json::json!({})).to_bytes();
/// let request = signed_request::<Full<Bytes>>(body, &secret, Some(1_700_000_000));
/// assert_eq!(oneshot(late, request).await?.status(), 400);
/// # Ok(())
/// # }
/// ```
pub async fn oneshot<S, Req>(mut service: S, request: Req) -> Result<S::Response, S::Error>
where
    S: Service<Req>,
{
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

fn json_string(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

fn optional(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "null".to_owned(), json_string)
}

/// `value` pretty-printed with two spaces, its lines after the first indented by `indent`.
fn pretty(value: &serde_json::Value, indent: usize) -> String {
    let text = serde_json::to_string_pretty(value).expect("a Value always serializes");
    text.replace('\n', &format!("\n{:indent$}", ""))
}

fn field(out: &mut String, key: &str, value: &str) {
    field_at(out, 2, key, value);
}

fn field_at(out: &mut String, indent: usize, key: &str, value: &str) {
    let _ = writeln!(out, "{:indent$}\"{key}\": {value},", "");
}

/// Replaces the last `,\n` with `\n` and closes the object at `indent`.
fn close(out: &mut String, indent: usize) {
    out.truncate(out.len() - 2);
    let _ = write!(out, "\n{:indent$}}}", "");
}
