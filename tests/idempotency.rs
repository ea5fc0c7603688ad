//! The idempotency layer behind `StripeSignatureLayer`, on the memory store: each event handled once,
//! duplicates answered without calling the handler, failures released for Stripe's retry, a failing
//! store refused with 503, a dropped request's claim given back.

mod support;

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use http::{header::RETRY_AFTER, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::*;
use tokio::sync::Notify;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{
    Claim, Duplicate, EventKey, IdempotencyLayer, IdempotencyStore, MemoryStore, StoreError, VerifiedBody,
    IDEMPOTENT_REPLAYED,
};

/// What a delivery got back.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: Bytes,
    replayed: bool,
    retry_after: Option<u64>,
    duplicate: Option<Duplicate>,
}

async fn answer<B>(response: Response<B>) -> Answer
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status();
    let replayed = response
        .headers()
        .get(IDEMPOTENT_REPLAYED)
        .is_some_and(|v| v == "true");
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let duplicate = response.extensions().get::<Duplicate>().copied();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        body,
        replayed,
        retry_after,
        duplicate,
    }
}

/// A handler that counts its runs and answers with `status`.
fn handler(
    runs: Arc<AtomicUsize>,
    status: StatusCode,
) -> impl Service<Request<VerifiedBody>, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send>
       + Clone
       + Send {
    tower::service_fn(move |_request: Request<VerifiedBody>| {
        let runs = Arc::clone(&runs);
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let mut response = Response::new(Full::new(Bytes::from_static(b"handled")));
            *response.status_mut() = status;
            Ok::<_, Infallible>(response)
        }
    })
}

fn delivery(payload: &Bytes) -> Request<Full<Bytes>> {
    signed_request(payload, Full::new(payload.clone()))
}

#[tokio::test]
async fn a_handled_event_is_answered_as_a_duplicate_without_running_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .layer(layer())
        .layer(IdempotencyLayer::new(MemoryStore::new()))
        .service(handler(Arc::clone(&runs), StatusCode::OK));
    let payload = event_payload("invoice.paid", 700);
    let first = answer(service.clone().oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!(
        (first.status, &first.body[..], first.replayed),
        (StatusCode::OK, &b"handled"[..], false)
    );
    // Stripe's retry of the same event, re-signed.
    let second = answer(service.clone().oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!(
        (second.status, second.body.len(), second.replayed),
        (StatusCode::OK, 0, true)
    );
    assert_eq!(second.duplicate, Some(Duplicate::Done));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Another event runs.
    let other = Bytes::from(
        String::from_utf8(payload.to_vec())
            .unwrap()
            .replace("evt_1Test", "evt_2Other"),
    );
    let other = answer(service.oneshot(delivery(&other)).await.unwrap()).await;
    assert_eq!((other.status, other.replayed), (StatusCode::OK, false));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_run_is_released_for_stripes_retry() {
    let store = MemoryStore::new();
    let payload = event_payload("invoice.paid", 700);
    let (failing, succeeding) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let service = |runs: &Arc<AtomicUsize>, status| {
        ServiceBuilder::new()
            .layer(layer())
            .layer(IdempotencyLayer::new(store.clone()))
            .service(handler(Arc::clone(runs), status))
    };
    let first = answer(
        service(&failing, StatusCode::INTERNAL_SERVER_ERROR)
            .oneshot(delivery(&payload))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first.status, StatusCode::INTERNAL_SERVER_ERROR);
    let retry = answer(
        service(&succeeding, StatusCode::OK)
            .oneshot(delivery(&payload))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((retry.status, retry.replayed), (StatusCode::OK, false));
    let again = answer(
        service(&succeeding, StatusCode::OK)
            .oneshot(delivery(&payload))
            .await
            .unwrap(),
    )
    .await;
    assert!(again.replayed);
    assert_eq!(
        (failing.load(Ordering::SeqCst), succeeding.load(Ordering::SeqCst)),
        (1, 1)
    );
}

/// A handler that waits for `release` before answering, counting its runs.
fn blocking_handler(
    runs: Arc<AtomicUsize>,
    started: Arc<Notify>,
    release: Arc<Notify>,
) -> impl Service<Request<VerifiedBody>, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send>
       + Clone
       + Send {
    tower::service_fn(move |_request: Request<VerifiedBody>| {
        let (runs, started, release) = (Arc::clone(&runs), Arc::clone(&started), Arc::clone(&release));
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            started.notify_one();
            release.notified().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"handled"))))
        }
    })
}

#[tokio::test]
async fn a_duplicate_while_the_first_run_holds_the_lease_gets_409_and_retry_after() {
    let (runs, started, release) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let service = ServiceBuilder::new()
        .layer(layer())
        .layer(IdempotencyLayer::new(MemoryStore::new()).lease(Duration::from_secs(90)))
        .service(blocking_handler(
            Arc::clone(&runs),
            Arc::clone(&started),
            Arc::clone(&release),
        ));
    let payload = event_payload("invoice.paid", 700);
    let first = tokio::spawn(service.clone().oneshot(delivery(&payload)));
    started.notified().await;
    let duplicate = answer(service.clone().oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.duplicate, Some(Duplicate::InProgress));
    let retry_after = duplicate.retry_after.unwrap();
    assert!((89..=90).contains(&retry_after), "{retry_after}");
    release.notify_one();
    let first = answer(first.await.unwrap().unwrap()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_dropped_request_gives_its_claim_back() {
    let (runs, started, release) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let store = MemoryStore::new();
    let service = ServiceBuilder::new()
        .layer(layer())
        .layer(IdempotencyLayer::new(store.clone()))
        .service(blocking_handler(
            Arc::clone(&runs),
            Arc::clone(&started),
            Arc::clone(&release),
        ));
    let payload = event_payload("invoice.paid", 700);
    // The client goes away (or a timeout fires) while the handler runs.
    let cut_short = tokio::time::timeout(
        Duration::from_millis(50),
        service.clone().oneshot(delivery(&payload)),
    )
    .await;
    assert!(cut_short.is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // The claim was given back: the retry runs the handler again.
    let retry = tokio::spawn(service.oneshot(delivery(&payload)));
    started.notified().await;
    release.notify_one();
    assert_eq!(answer(retry.await.unwrap().unwrap()).await.status, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_crashed_runs_claim_is_taken_over_after_its_lease() {
    let store = MemoryStore::new();
    // A process that claimed the event and died: its claim stays until the lease ends.
    let key = "stripe:evt_1Test";
    assert_eq!(
        store
            .claim(key, "dead-process", Duration::from_millis(100))
            .await
            .unwrap(),
        Claim::Claimed
    );
    let runs = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .layer(layer())
        .layer(IdempotencyLayer::new(store.clone()))
        .service(handler(Arc::clone(&runs), StatusCode::OK));
    let payload = event_payload("invoice.paid", 700);
    let early = answer(service.clone().oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!((early.status, early.retry_after), (StatusCode::CONFLICT, Some(1)));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let late = answer(service.oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!((late.status, late.replayed), (StatusCode::OK, false));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // The dead process's late answer cannot overwrite the new owner's outcome.
    assert!(!store
        .complete(key, "dead-process", Duration::from_secs(60))
        .await
        .unwrap());
    assert!(!store.release(key, "dead-process").await.unwrap());
    assert_eq!(
        store.claim(key, "anyone", Duration::from_secs(1)).await.unwrap(),
        Claim::Done
    );
}

#[tokio::test]
async fn sixty_four_concurrent_deliveries_over_four_services_run_the_handler_once() {
    let store = MemoryStore::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    // Four services, as four instances would be, each with its own layers, sharing the store.
    let services: Vec<_> = (0..4)
        .map(|_| {
            ServiceBuilder::new()
                .layer(layer())
                .layer(IdempotencyLayer::new(store.clone()))
                .service(blocking_handler(
                    Arc::clone(&runs),
                    Arc::clone(&started),
                    Arc::clone(&release),
                ))
        })
        .collect();
    let payload = event_payload("invoice.paid", 700);
    let deliveries: Vec<_> = (0..64)
        .map(|i| tokio::spawn(services[i % 4].clone().oneshot(delivery(&payload))))
        .collect();
    started.notified().await;
    // Let every other delivery reach the store while the first run holds the claim.
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.notify_one();
    let mut statuses = Vec::new();
    for delivery in deliveries {
        statuses.push(answer(delivery.await.unwrap().unwrap()).await.status);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    // Stripe's later retries of the 409s find it done.
    let retry = answer(services[3].clone().oneshot(delivery(&payload)).await.unwrap()).await;
    assert!(retry.replayed);
}

/// A store whose every call fails, as an unreachable server's would.
#[derive(Clone)]
struct Unreachable;

impl IdempotencyStore for Unreachable {
    async fn claim(&self, _: &str, _: &str, _: Duration) -> Result<Claim, StoreError> {
        Err(StoreError::new(std::io::Error::other("connection refused")))
    }

    async fn complete(&self, _: &str, _: &str, _: Duration) -> Result<bool, StoreError> {
        Err(StoreError::new(std::io::Error::other("connection refused")))
    }

    async fn release(&self, _: &str, _: &str) -> Result<bool, StoreError> {
        Err(StoreError::new(std::io::Error::other("connection refused")))
    }
}

#[tokio::test]
async fn a_failing_store_gets_503_unless_failing_open() {
    let runs = Arc::new(AtomicUsize::new(0));
    let payload = event_payload("invoice.paid", 700);
    let closed = ServiceBuilder::new()
        .layer(layer())
        .layer(IdempotencyLayer::new(Unreachable))
        .service(handler(Arc::clone(&runs), StatusCode::OK));
    let refused = answer(closed.oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.retry_after.is_some());
    assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing runs without a claim");
    let open = ServiceBuilder::new()
        .layer(layer())
        .layer(IdempotencyLayer::new(Unreachable).fail_open())
        .service(handler(Arc::clone(&runs), StatusCode::OK));
    let ran = answer(open.oneshot(delivery(&payload)).await.unwrap()).await;
    assert_eq!((ran.status, &ran.body[..]), (StatusCode::OK, &b"handled"[..]));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_the_signature_layer_outside_it_answers_500_naming_it() {
    let runs = Arc::new(AtomicUsize::new(0));
    let service = ServiceBuilder::new()
        .layer(IdempotencyLayer::new(MemoryStore::new()))
        .service(tower::service_fn({
            let runs = Arc::clone(&runs);
            move |_: Request<Full<Bytes>>| {
                runs.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
            }
        }));
    let answer = answer(
        service
            .oneshot(Request::new(Full::new(Bytes::new())))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(String::from_utf8_lossy(&answer.body).contains("StripeSignatureLayer"));
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn namespaces_separate_endpoints_and_keys_can_name_the_object() {
    let store = MemoryStore::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let endpoint = |namespace: &str, key: EventKey| {
        ServiceBuilder::new()
            .layer(layer())
            .layer(IdempotencyLayer::new(store.clone()).namespace(namespace).key(key))
            .service(handler(Arc::clone(&runs), StatusCode::OK))
    };
    let payload = event_payload("invoice.paid", 700);
    // The same event delivered to two endpoints is handled once by each.
    for namespace in ["platform", "connect", "platform"] {
        endpoint(namespace, EventKey::EventId)
            .oneshot(delivery(&payload))
            .await
            .unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // Keyed by type and object: another event id about the same change of the same object is a duplicate.
    let by_object = endpoint("objects", EventKey::TypeAndObjectId);
    by_object.clone().oneshot(delivery(&payload)).await.unwrap();
    let renamed = Bytes::from(
        String::from_utf8(payload.to_vec())
            .unwrap()
            .replace("evt_1Test", "evt_2Other"),
    );
    let second = answer(by_object.oneshot(delivery(&renamed)).await.unwrap()).await;
    assert!(second.replayed);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(
        store
            .claim("objects:invoice.paid:in_1Test", "x", Duration::from_secs(1))
            .await
            .unwrap(),
        Claim::Done
    );
}
