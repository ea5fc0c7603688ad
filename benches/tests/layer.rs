//! The middleware around a tower-test mock: what the inner service sees, readiness, errors, and every
//! rejection's status and body.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use bytes::Bytes;
use http::{header::CONTENT_LENGTH, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::*;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::ServiceExt;
use tower_stripe_webhook::{
    compute_signature, DefaultRejection, Error, ErrorKind, Event, InvalidEvent, MalformedHeader,
    RejectionResponse, SigningSecret, SigningSecrets, StripeSignatureLayer, Verified, VerifiedBody,
    VerifiedPayload, STRIPE_SIGNATURE,
};
use tower_test::mock;

async fn body_string<B: http_body::Body>(body: B) -> String
where
    B::Error: std::fmt::Debug,
{
    String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// Runs one request through `layer` around an echo service that returns the body it got.
async fn through<B>(layer: StripeSignatureLayer, request: Request<B>) -> (StatusCode, String, Option<Error>)
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service =
        tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|request: Request<VerifiedBody>| async move {
                Ok::<_, std::convert::Infallible>(Response::new(Full::new(request.into_body().into_bytes())))
            });
    let response = service.oneshot(request).await.unwrap();
    let status = response.status();
    let error = response.extensions().get::<Error>().cloned();
    (status, body_string(response.into_body()).await, error)
}

type MockService = mock::Spawn<
    tower_stripe_webhook::StripeSignature<mock::Mock<Request<VerifiedBody>, Response<Full<Bytes>>>>,
>;
type MockHandle = mock::Handle<Request<VerifiedBody>, Response<Full<Bytes>>>;
type Pending = task::Spawn<<tower_stripe_webhook::StripeSignature<mock::Mock<Request<VerifiedBody>, Response<Full<Bytes>>>> as tower::Service<Request<Full<Bytes>>>>::Future>;

/// `layer` around a tower-test mock, with a signed request for `payload` sent and still pending (the
/// mock has not answered yet).
fn call_mock(layer: StripeSignatureLayer, payload: &Bytes) -> (MockService, MockHandle, Pending) {
    let (mut service, handle) = mock::spawn_layer::<_, Response<Full<Bytes>>, _>(layer);
    assert_ready_ok!(service.poll_ready::<Request<Full<Bytes>>>());
    let mut response = task::spawn(service.call(signed_request(payload, Full::new(payload.clone()))));
    assert_pending!(response.poll());
    (service, handle, response)
}

#[tokio::test]
async fn inner_service_sees_exactly_the_bytes_headers_and_the_verified_event() {
    let payload = event_payload("invoice.paid", 4096);
    let (_service, mut handle, mut response) = call_mock(layer(), &payload);

    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request.headers()["x-request-marker"], "kept");
    assert_eq!(request.headers()[STRIPE_SIGNATURE], sign(&payload).as_str());
    let event = request.extensions().get::<Event>().unwrap().clone();
    assert_eq!((event.id(), event.event_type()), ("evt_1Test", "invoice.paid"));
    let verified = request.extensions().get::<Verified>().unwrap();
    assert_eq!((verified.timestamp(), verified.secret_index()), (NOW, 0));
    let body = request.into_body().into_bytes();
    assert_eq!(body, payload);
    // One chunk in, the same buffer out and in the event: no copy of the body.
    assert_eq!(body.as_ptr(), payload.as_ptr());
    assert_eq!(event.payload().as_ptr(), payload.as_ptr());

    send.send_response(Response::new(Full::new(Bytes::from_static(b"handled"))));
    let response = assert_ready_ok!(response.poll());
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_string(response.into_body()).await, "handled");
}

#[tokio::test]
async fn readiness_and_backpressure_are_propagated() {
    let (mut service, mut handle) = mock::spawn_layer::<_, Response<Full<Bytes>>, _>(layer());
    handle.allow(0);
    assert_pending!(service.poll_ready::<Request<Full<Bytes>>>());
    handle.allow(1);
    assert_ready_ok!(service.poll_ready::<Request<Full<Bytes>>>());
}

#[tokio::test]
async fn an_inner_error_passes_through() {
    let payload = event_payload("invoice.paid", 300);
    let (_service, mut handle, mut response) = call_mock(layer(), &payload);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(std::io::Error::other("database down"));
    let error = assert_ready!(response.poll()).unwrap_err();
    assert_eq!(error.to_string(), "database down");
}

#[tokio::test]
async fn the_inner_service_is_never_called_on_a_rejection() {
    let payload = event_payload("invoice.paid", 300);
    let (mut service, mut handle) = mock::spawn_layer::<_, Response<Full<Bytes>>, _>(layer());
    for request in [
        Request::post("/").body(Full::new(payload.clone())).unwrap(),
        signed_request(&payload, Full::new(Bytes::from_static(b"{\"tampered\":true}"))),
    ] {
        assert_ready_ok!(service.poll_ready::<Request<Full<Bytes>>>());
        let response = service.call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    assert_pending!(handle.poll_request().map(|request| request.is_some()));
}

#[tokio::test]
async fn a_body_in_many_chunks_is_joined_exactly() {
    let payload = event_payload("customer.created", 10_000);
    for size in [1, 7, 1000, 4096] {
        let (status, body, error) =
            through(layer(), signed_request(&payload, Chunks::split(&payload, size))).await;
        assert_eq!(
            (status, error.map(|e| e.code())),
            (StatusCode::OK, None),
            "chunks of {size}"
        );
        assert_eq!(body.as_bytes(), &payload[..]);
    }
}

/// A layer, a request, and the status, reason and words its rejection must have.
type Case = (
    StripeSignatureLayer,
    Request<Full<Bytes>>,
    StatusCode,
    ErrorKind,
    &'static str,
);

async fn rejected(
    layer: StripeSignatureLayer,
    request: Request<Full<Bytes>>,
) -> (StatusCode, String, ErrorKind) {
    let (status, body, error) = through(layer, request).await;
    let error = error.expect("the rejection is attached to the response");
    assert_eq!(
        body,
        DefaultRejection::default().response(&error).into_body(),
        "body names the reason"
    );
    assert!(body.starts_with(error.code()), "{body}");
    assert!(!body.contains(SECRET));
    (status, body, error.kind().clone())
}

#[tokio::test]
async fn every_rejection_has_its_status_and_body() {
    let payload = event_payload("invoice.paid", 500);
    let full = |bytes: &Bytes| Full::new(bytes.clone());
    let with_header = |header: String| {
        Request::post("/")
            .header(STRIPE_SIGNATURE, header)
            .body(full(&payload))
            .unwrap()
    };
    let sig = |t: i64| compute_signature(&payload, &secret(), t);

    let cases: Vec<Case> = vec![
        (
            layer(),
            Request::post("/").body(full(&payload)).unwrap(),
            StatusCode::BAD_REQUEST,
            ErrorKind::MissingHeader,
            "no Stripe-Signature header",
        ),
        (
            layer(),
            with_header("t=abc,v1=00".into()),
            StatusCode::BAD_REQUEST,
            ErrorKind::MalformedHeader(MalformedHeader::InvalidTimestamp),
            "malformed",
        ),
        (
            layer(),
            with_header(format!("t={NOW},v0={}", sig(NOW))),
            StatusCode::BAD_REQUEST,
            ErrorKind::NoV1Signature,
            "no v1 signature",
        ),
        (
            layer(),
            with_header(format!("t={NOW},v1={}", sig(NOW - 1))),
            StatusCode::BAD_REQUEST,
            ErrorKind::NoMatchingSignature {
                signatures: 1,
                secrets: 1,
            },
            "raw request body",
        ),
        (
            layer(),
            with_header(format!("t={},v1={}", NOW - 301, sig(NOW - 301))),
            StatusCode::BAD_REQUEST,
            ErrorKind::TimestampTooOld {
                age: 301,
                tolerance: 300,
            },
            "301 s old",
        ),
        (
            layer().reject_future_timestamps(),
            with_header(format!("t={},v1={}", NOW + 400, sig(NOW + 400))),
            StatusCode::BAD_REQUEST,
            ErrorKind::TimestampTooNew {
                ahead: 400,
                tolerance: 300,
            },
            "behind",
        ),
        (
            layer().body_limit(100),
            signed_request(&payload, full(&payload)),
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::PayloadTooLarge { limit: 100 },
            "100 byte limit",
        ),
    ];
    for (layer, request, status, kind, says) in cases {
        let (got_status, body, got_kind) = rejected(layer, request).await;
        assert_eq!((got_status, &got_kind), (status, &kind), "{body}");
        assert!(body.contains(says), "{body:?} should say {says:?}");
    }

    let thin =
        Bytes::from_static(br#"{"id":"evt_1","object":"v2.core.event","type":"v1.x","created":"2025"}"#);
    let (status, body, kind) = rejected(layer(), signed_request(&thin, full(&thin))).await;
    assert_eq!(
        (status, kind),
        (
            StatusCode::BAD_REQUEST,
            ErrorKind::NotAnEvent(InvalidEvent::ThinEvent)
        )
    );
    assert!(body.contains("thin event"), "{body}");
}

#[tokio::test]
async fn declared_length_over_the_limit_is_refused_before_reading() {
    let payload = event_payload("invoice.paid", 2000);
    // A body that would fail if read: the layer must answer from the headers alone.
    let mut request = signed_request(&payload, Chunks::default().then_error());
    request
        .headers_mut()
        .insert(CONTENT_LENGTH, "2000".parse().unwrap());
    let (status, _, error) = through(layer().body_limit(1000), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error.unwrap().kind(), &ErrorKind::PayloadTooLarge { limit: 1000 });

    // The same from the body's own size hint (hyper sets it from Content-Length).
    let mut body = Chunks::default().then_error();
    body.exact_size = Some(2000);
    let (status, _, _) = through(layer().body_limit(1000), signed_request(&payload, body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_body_over_the_limit_without_or_with_a_lying_length_is_cut_off() {
    let payload = event_payload("invoice.paid", 5000);
    let (status, _, _) = through(
        layer().body_limit(4096),
        signed_request(&payload, Chunks::split(&payload, 512)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let mut request = signed_request(&payload, Chunks::split(&payload, 512));
    request
        .headers_mut()
        .insert(CONTENT_LENGTH, "100".parse().unwrap());
    let (status, _, _) = through(layer().body_limit(4096), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Exactly at the limit is fine.
    let (status, _, _) = through(
        layer().body_limit(payload.len()),
        signed_request(&payload, Chunks::split(&payload, 512)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_stream_error_is_a_rejection_not_a_panic() {
    let payload = event_payload("invoice.paid", 2000);
    let body = Chunks::split(&payload[..1000], 100).then_error();
    let (status, body, error) = through(layer(), signed_request(&payload, body)).await;
    let error = error.unwrap();
    assert_eq!(
        (status, error.kind()),
        (StatusCode::BAD_REQUEST, &ErrorKind::BodyRead)
    );
    assert!(body.starts_with("body_read"));
    assert!(std::error::Error::source(&error)
        .unwrap()
        .to_string()
        .contains("peer went away"));
}

#[tokio::test]
async fn repeated_signature_headers_are_refused() {
    let payload = event_payload("invoice.paid", 300);
    let mut request = signed_request(&payload, Full::new(payload.clone()));
    request
        .headers_mut()
        .append(STRIPE_SIGNATURE, sign(&payload).parse().unwrap());
    let (status, _, error) = through(layer(), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error.unwrap().kind(),
        &ErrorKind::MalformedHeader(MalformedHeader::Repeated)
    );
}

#[tokio::test]
async fn verify_only_mode_inserts_the_payload_and_skips_the_envelope() {
    let payload = Bytes::from_static(b"not even json, but signed");
    let (_service, mut handle, mut response) = call_mock(layer().verify_only(), &payload);
    let (request, send) = handle.next_request().await.unwrap();
    assert!(request.extensions().get::<Event>().is_none());
    assert_eq!(
        request.extensions().get::<VerifiedPayload>().unwrap().bytes(),
        &payload
    );
    assert!(request.extensions().get::<Verified>().is_some());
    send.send_response(Response::new(Full::default()));
    assert_ready_ok!(response.poll());
}

#[tokio::test]
async fn rotation_and_custom_rejection() {
    let old = SigningSecret::new("whsec_old_secret")
        .unwrap()
        .with_label("previous");
    let layer = StripeSignatureLayer::new(SigningSecrets::new(secret()).and(old.clone()))
        .clock(|| NOW)
        .tolerance(Duration::from_secs(60));
    let payload = event_payload("invoice.paid", 300);
    let header = format!("t={NOW},v1={}", compute_signature(&payload, &old, NOW));
    let service = tower::ServiceBuilder::new().layer(layer.clone()).service_fn(
        |request: Request<VerifiedBody>| async move {
            let label = request
                .extensions()
                .get::<Verified>()
                .unwrap()
                .secret_label()
                .unwrap_or("")
                .to_owned();
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(label))))
        },
    );
    let request = Request::post("/")
        .header(STRIPE_SIGNATURE, header)
        .body(Full::new(payload.clone()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(body_string(response.into_body()).await, "previous");

    let custom = layer.with_rejection_response(|error: &Error| {
        let mut response = Response::new(Bytes::from(format!("{{\"error\":\"{}\"}}", error.code())));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response
    });
    let service = tower::ServiceBuilder::new()
        .layer(custom)
        .service_fn(|_: Request<VerifiedBody>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::<Bytes>::default()))
        });
    let response = service
        .oneshot(Request::post("/").body(Full::new(payload)).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.extensions().get::<Error>().unwrap().kind(),
        &ErrorKind::MissingHeader
    );
    assert_eq!(
        body_string(response.into_body()).await,
        r#"{"error":"missing_header"}"#
    );
}

#[test]
fn realistic_events_have_the_exact_size_and_verify_into_an_event() {
    for size in [512, 2048, 8192, 65536] {
        let payload = realistic_event(size);
        assert_eq!(payload.len(), size);
        let value: serde_json::Value = serde_json::from_slice(&payload).expect("valid JSON");
        assert_eq!(value["type"], "invoice.paid");
        let verifier = tower_stripe_webhook::Verifier::new(secret()).clock(|| NOW);
        let (event, _) = verifier.verify_event(sign(&payload), payload.clone()).unwrap();
        let object: serde_json::Value = event.data_object().unwrap();
        assert_eq!(object, value["data"]["object"]);
    }
}

/// A rejection that leaves body bytes unread on an HTTP/1 connection says `Connection: close`: hyper
/// closes such a connection after the response, and a keep-alive client (Stripe's, a load balancer's)
/// must not write its next request into it. Where the body was read to its end, or is empty, or the
/// protocol is HTTP/2, nothing is added.
#[tokio::test]
async fn a_rejection_that_leaves_the_body_unread_closes_the_connection() {
    let payload = event_payload("invoice.paid", 2000);
    let connection = |layer: StripeSignatureLayer, request: Request<Chunks>| async move {
        let service =
            tower::ServiceBuilder::new()
                .layer(layer)
                .service_fn(|_: Request<VerifiedBody>| async {
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
                });
        let response = service.oneshot(request).await.unwrap();
        (
            response.status().as_u16(),
            response
                .headers()
                .get(http::header::CONNECTION)
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    };
    let body = || Chunks::split(&payload, 500);
    let unsigned = || Request::post("/webhook").body(body()).unwrap();
    let close = Some("close".to_owned());

    // Refused before reading: unsigned, or declared over the limit.
    assert_eq!(connection(layer(), unsigned()).await, (400, close.clone()));
    let mut declared = signed_request(&payload, body());
    declared
        .headers_mut()
        .insert(CONTENT_LENGTH, "2000".parse().unwrap());
    assert_eq!(
        connection(layer().body_limit(1000), declared).await,
        (413, close.clone())
    );
    // Cut off while streaming.
    assert_eq!(
        connection(layer().body_limit(1000), signed_request(&payload, body())).await,
        (413, close.clone())
    );
    // Read to the end, then refused: the connection stays usable.
    let tampered = signed_request(&payload, Chunks::split(&payload[1..], 500));
    assert_eq!(connection(layer(), tampered).await, (400, None));
    // Nothing to read.
    let empty = Request::post("/webhook").body(Chunks::new([])).unwrap();
    assert_eq!(connection(layer(), empty).await, (400, None));
    // HTTP/2 has no Connection header.
    let mut h2 = unsigned();
    *h2.version_mut() = http::Version::HTTP_2;
    assert_eq!(connection(layer(), h2).await, (400, None));
    // Accepted: untouched.
    assert_eq!(
        connection(layer(), signed_request(&payload, body())).await,
        (200, None)
    );
}

/// A body that yields its chunks, then stalls (a client that stopped sending, for as long as the test
/// holds it).
struct Stalled(std::collections::VecDeque<Bytes>);

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match self.0.pop_front() {
            Some(chunk) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(chunk)))),
            None => std::task::Poll::Pending,
        }
    }
}

/// The buffer budget counts the bytes of every request of one layer (here through two services built
/// from it, as axum builds one per connection), refuses with 503 and `Retry-After` the chunk that would
/// go over it, or up front a `Content-Length` over what is left, and is given back when a request's
/// future is dropped (the client went away) or completes.
#[tokio::test]
async fn the_buffer_budget_is_shared_by_the_layer_and_given_back() {
    use tower::Layer;

    let layer = layer().max_buffered_bytes(10_000);
    let echo = tower::service_fn(|request: Request<VerifiedBody>| async move {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(request.into_body().into_bytes())))
    });
    let (first, second) = (layer.layer(echo), layer.layer(echo));

    // 6,000 bytes arrived, the rest has not: held.
    let mut held = task::spawn(first.clone().oneshot(signed_request(
        b"{}",
        Stalled([Bytes::from(vec![b' '; 6000])].into()),
    )));
    assert_pending!(held.poll());

    // On the other service, 3,000 bytes fit; the next 3,000 would make 12,000.
    let chunks = [Bytes::from(vec![b' '; 3000]), Bytes::from(vec![b' '; 3000])];
    let mut over = task::spawn(
        second
            .clone()
            .oneshot(signed_request(b"{}", Stalled(chunks.into()))),
    );
    let response = assert_ready_ok!(over.poll());
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(response.headers()["connection"], "close");
    let error = response.extensions().get::<Error>().unwrap().clone();
    assert_eq!(error.kind(), &ErrorKind::BufferBudgetExceeded { budget: 10_000 });
    assert!(!error.is_signature_error());
    assert!(error.to_string().contains("raise max_buffered_bytes"), "{error}");
    assert!(body_string(response.into_body())
        .await
        .starts_with("buffer_budget_exceeded: "));

    // A valid 5,000-byte delivery announcing its length is refused before its body is read (4,000
    // left); a 3,000-byte one fits next to the held request.
    let large = realistic_event(5000);
    let announced = |payload: &Bytes| {
        let mut request = signed_request(payload, Full::new(payload.clone()));
        request.headers_mut().insert(CONTENT_LENGTH, payload.len().into());
        request
    };
    let (status, body, _) = through(layer.clone(), announced(&large)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, _, _) = through(layer.clone(), announced(&realistic_event(3000))).await;
    assert_eq!(status, StatusCode::OK);
    // The builder methods keep the layer's state: the held bytes count there too.
    let reconfigured = layer.clone().tolerance(Duration::from_secs(60));
    let (status, _, _) = through(reconfigured.clone(), announced(&large)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    // The held client goes away: its 6,000 bytes are given back, and the large delivery now fits, on
    // either service.
    drop(held);
    let (status, _, _) = through(layer.clone(), announced(&large)).await;
    assert_eq!(status, StatusCode::OK);
    for service in [first, second] {
        let response = service.oneshot(announced(&large)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (status, _, _) = through(reconfigured, announced(&large)).await;
    assert_eq!(status, StatusCode::OK);
}

/// What the inner service found in the request's extensions, for one delivery through `layer`.
async fn kinds_seen(
    layer: StripeSignatureLayer,
    payload: &Bytes,
    secret: &SigningSecret,
) -> Result<String, String> {
    let service =
        tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|request: Request<VerifiedBody>| async move {
                let extensions = request.extensions();
                let seen = match (
                    extensions.get::<Event>(),
                    extensions.get::<tower_stripe_webhook::EventNotification>(),
                    extensions.get::<tower_stripe_webhook::AnyEvent>(),
                ) {
                    (Some(event), None, None) => format!("event {}", event.event_type()),
                    (None, Some(thin), None) => format!("thin {}", thin.event_type()),
                    (None, None, Some(tower_stripe_webhook::AnyEvent::Snapshot(event))) => {
                        format!("any snapshot {}", event.event_type())
                    }
                    (None, None, Some(tower_stripe_webhook::AnyEvent::Thin(thin))) => {
                        format!("any thin {}", thin.event_type())
                    }
                    other => panic!("unexpected extensions {other:?}"),
                };
                let label = extensions
                    .get::<Verified>()
                    .unwrap()
                    .secret_label()
                    .unwrap_or("-")
                    .to_owned();
                Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(format!(
                    "{seen} ({label})"
                )))))
            });
    let header = tower_stripe_webhook::generate_test_header(payload, secret, Some(NOW));
    let request = Request::post("/webhook")
        .header(STRIPE_SIGNATURE, header)
        .body(Full::new(payload.clone()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let (status, error) = (response.status(), response.extensions().get::<Error>().cloned());
    let body = body_string(response.into_body()).await;
    match error {
        None if status == StatusCode::OK => Ok(body),
        Some(error) => {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(body.starts_with(error.code()), "{body}");
            Err(error.code().to_owned())
        }
        None => panic!("{status} without an error"),
    }
}

#[tokio::test]
async fn each_route_takes_its_kind_of_event_and_refuses_the_other_after_verifying_it() {
    use tower_stripe_webhook::Accept;
    let snapshot = event_payload("invoice.paid", 600);
    let thin = Bytes::from_static(
        br#"{"id":"evt_1","object":"v2.core.event","type":"v2.core.event_destination.ping","created":"2024-03-07T18:27:56.000Z"}"#,
    );
    let (snapshot_secret, thin_secret) = (
        SigningSecret::new("whsec_snapshot_destination")
            .unwrap()
            .with_label("snapshot"),
        SigningSecret::new("whsec_thin_destination")
            .unwrap()
            .with_label("thin"),
    );
    let layer = |accept: Accept| {
        StripeSignatureLayer::new(SigningSecrets::new(snapshot_secret.clone()).and(thin_secret.clone()))
            .clock(|| NOW)
            .accept(accept)
    };
    // The default and `SnapshotEvents`: an `Event`; a thin notification is refused with its own code.
    for default in [
        StripeSignatureLayer::new(snapshot_secret.clone()).clock(|| NOW),
        layer(Accept::SnapshotEvents),
    ] {
        assert_eq!(
            kinds_seen(default.clone(), &snapshot, &snapshot_secret).await,
            Ok("event invoice.paid (snapshot)".into())
        );
    }
    assert_eq!(
        kinds_seen(layer(Accept::SnapshotEvents), &thin, &thin_secret).await,
        Err("unexpected_thin_event".into())
    );
    // `ThinEvents`: an `EventNotification`; a snapshot event is refused.
    assert_eq!(
        kinds_seen(layer(Accept::ThinEvents), &thin, &thin_secret).await,
        Ok("thin v2.core.event_destination.ping (thin)".into())
    );
    assert_eq!(
        kinds_seen(layer(Accept::ThinEvents), &snapshot, &snapshot_secret).await,
        Err("unexpected_snapshot_event".into())
    );
    // `AnyEvent`: both, and the label says which destination's secret matched.
    assert_eq!(
        kinds_seen(layer(Accept::AnyEvent), &snapshot, &snapshot_secret).await,
        Ok("any snapshot invoice.paid (snapshot)".into())
    );
    assert_eq!(
        kinds_seen(layer(Accept::AnyEvent), &thin, &thin_secret).await,
        Ok("any thin v2.core.event_destination.ping (thin)".into())
    );
    // The kind is checked only once the signature verified: a forged delivery of the wrong kind is a
    // signature failure, not a hint about the route.
    let other = SigningSecret::new("whsec_someone_else").unwrap();
    for accept in [Accept::SnapshotEvents, Accept::ThinEvents, Accept::AnyEvent] {
        for payload in [&snapshot, &thin] {
            assert_eq!(
                kinds_seen(layer(accept), payload, &other).await,
                Err("no_matching_signature".into())
            );
        }
    }
    // `verify_only` after `accept`, and `accept` after `verify_only`: the last call wins.
    let verify_only = layer(Accept::ThinEvents).verify_only();
    let service = tower::ServiceBuilder::new().layer(verify_only).service_fn(
        |request: Request<VerifiedBody>| async move {
            assert!(request.extensions().get::<VerifiedPayload>().is_some());
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        },
    );
    let header = tower_stripe_webhook::generate_test_header(&snapshot, &snapshot_secret, Some(NOW));
    let request = Request::post("/")
        .header(STRIPE_SIGNATURE, header)
        .body(Full::new(snapshot.clone()))
        .unwrap();
    assert_eq!(service.oneshot(request).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        kinds_seen(
            layer(Accept::SnapshotEvents)
                .verify_only()
                .accept(Accept::ThinEvents),
            &thin,
            &thin_secret
        )
        .await,
        Ok("thin v2.core.event_destination.ping (thin)".into())
    );
}
