//! Faults around the layer, each with what the user sees. Real hyper servers on 127.0.0.1 where the
//! transport matters; in memory where it does not.
//!
//! Covered elsewhere, and not repeated here: a body stream error halfway and an inner service that is not
//! ready (tower-test mock) or errors (`tests/layer.rs`); `Content-Length` lying in both directions and a
//! body over the limit with or without it (`tests/hyper.rs`, `tests/layer.rs`); the most bytes buffered
//! for an endless body (`tests/allocations.rs`).

mod support;

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use support::*;
use tokio::{io::AsyncWriteExt, sync::mpsc, time::timeout};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{Error, ErrorKind, Event, VerifiedBody};

/// What the layer answered, seen from outside it: the status and the reason it attached.
type Outcome = (StatusCode, Option<ErrorKind>);

/// Serves the layer around `handler`, reporting every answer the layer gives on `outcomes` (also the
/// ones the client never receives because it is gone).
async fn serve_observed<H, F>(handler: H) -> (SocketAddr, mpsc::UnboundedReceiver<Outcome>)
where
    H: Fn(Request<VerifiedBody>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let (sender, outcomes) = mpsc::unbounded_channel();
    let service = ServiceBuilder::new()
        .map_response(move |response: Response<_>| {
            let reason = response.extensions().get::<Error>().map(|e| e.kind().clone());
            let _ = sender.send((response.status(), reason));
            response
        })
        .layer(layer())
        .service_fn(handler);
    (serve(service).await, outcomes)
}

async fn echo(request: Request<VerifiedBody>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(request.into_body().into_bytes())))
}

/// The user sees: nothing reaches the handler, one `body_read` rejection is logged for a response
/// nobody receives, and the server keeps serving.
#[tokio::test]
async fn a_client_that_disconnects_while_the_body_is_read_never_reaches_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let (addr, mut outcomes) = serve_observed(move |request| {
        counted.fetch_add(1, Ordering::SeqCst);
        echo(request)
    })
    .await;
    let payload = event_payload("invoice.paid", 10_000);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(raw_head(&payload, payload.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&payload[..4000]).await.unwrap();
    drop(stream);

    let outcome = timeout(WAIT, outcomes.recv()).await.unwrap().unwrap();
    assert_eq!(outcome, (StatusCode::BAD_REQUEST, Some(ErrorKind::BodyRead)));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let response = raw(addr, raw_head(&payload, payload.len()), &payload).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// A handler that panics takes down only its own connection (hyper runs each in a spawned task): that
/// delivery gets no response, so Stripe retries it, and the layer, shared by every connection, holds no
/// lock or state the panic could poison. The same for a handler that returns an error.
#[tokio::test]
async fn a_handler_that_panics_or_fails_loses_only_its_own_connection() {
    let (addr, _outcomes) = serve_observed(|request: Request<VerifiedBody>| async move {
        match request.extensions().get::<Event>().map(Event::event_type) {
            Some("test.panic") => panic!("handler bug"),
            _ => echo(request).await,
        }
    })
    .await;
    let panics = event_payload("test.panic", 1000);
    let response = raw(addr, raw_head(&panics, panics.len()), &panics).await;
    assert_eq!(response, "", "the connection closes without a response");

    let payload = event_payload("invoice.paid", 1000);
    for _ in 0..3 {
        let response = raw(addr, raw_head(&payload, payload.len()), &payload).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    // An inner error: `StripeSignature`'s error is the inner service's, so hyper sees it and closes the
    // connection, as it would without the layer.
    let failing = serve(
        ServiceBuilder::new()
            .layer(layer())
            .service_fn(|_: Request<VerifiedBody>| async {
                Err::<Response<Full<Bytes>>, _>(std::io::Error::other("database down"))
            }),
    )
    .await;
    let response = raw(failing, raw_head(&payload, payload.len()), &payload).await;
    assert_eq!(response, "");
}

/// Many requests at once, on two worker threads, each on its own connection and so its own clone of
/// the service: every one gets its own verdict and, when valid, exactly its own body back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_cloned_services_each_get_their_own_verdict() {
    let (addr, _outcomes) = serve_observed(echo).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        tasks.push(tokio::spawn(async move {
            let payload = event_payload(&format!("test.concurrent_{i}"), 1000 + 37 * i);
            let mut sent = payload.to_vec();
            let tampered = i % 3 == 0;
            if tampered {
                sent[500] ^= 1;
            }
            let response = raw(addr, raw_head(&payload, sent.len()), &sent).await;
            (tampered, response, payload)
        }));
    }
    for task in tasks {
        let (tampered, response, payload) = task.await.unwrap();
        if tampered {
            assert!(response.starts_with("HTTP/1.1 400"), "{response}");
            assert!(response.contains("no_matching_signature"), "{response}");
        } else {
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            let body = response.split("\r\n\r\n").nth(1).unwrap();
            assert_eq!(body.as_bytes(), &payload[..]);
        }
    }
}

/// 64 KiB in one-byte frames (in memory), and 4 KiB in one-byte HTTP chunks (over hyper): verified, and
/// the handler gets the bytes in order.
#[tokio::test]
async fn many_tiny_chunks_are_joined_exactly() {
    let payload = event_payload("invoice.paid", 65536);
    let service = ServiceBuilder::new().layer(layer()).service_fn(echo);
    let response = service
        .oneshot(signed_request(&payload, Chunks::split(&payload, 1)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, payload);

    let (addr, _outcomes) = serve_observed(echo).await;
    let payload = event_payload("invoice.paid", 4096);
    let head = raw_head(&payload, 0).replace("content-length: 0", "transfer-encoding: chunked");
    let mut chunked = Vec::new();
    for byte in payload.iter() {
        chunked.extend_from_slice(b"1\r\n");
        chunked.push(*byte);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let response = raw(addr, head, &chunked).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(std::str::from_utf8(&payload).unwrap()));
}

/// An inner service that is not ready at first (a pool warming up, a concurrency limit): hyper waits
/// for readiness through the layer, then the request is verified and served.
#[tokio::test]
async fn an_inner_service_that_is_not_ready_yet_is_waited_for() {
    #[derive(Clone)]
    struct SlowToStart {
        polls: Arc<AtomicUsize>,
    }
    impl Service<Request<VerifiedBody>> for SlowToStart {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future =
            std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            if self.polls.fetch_add(1, Ordering::SeqCst) < 3 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<VerifiedBody>) -> Self::Future {
            Box::pin(echo(request))
        }
    }
    let polls = Arc::new(AtomicUsize::new(0));
    let addr = serve(
        ServiceBuilder::new()
            .layer(layer())
            .service(SlowToStart { polls: polls.clone() }),
    )
    .await;
    let payload = event_payload("invoice.paid", 1000);
    let response = raw(addr, raw_head(&payload, payload.len()), &payload).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(polls.load(Ordering::SeqCst) >= 4);
}
