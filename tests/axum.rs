//! `axum::Router` end to end with `oneshot`: extractors, raw-body handlers, `layer` and `route_layer`, and a
//! `ServiceBuilder` stack with tower-http layers.
#![cfg(feature = "axum")]

mod support;

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    http::{header, Request, StatusCode},
    routing::{get, post},
    Json, Router,
};
use http_body_util::BodyExt;
use support::*;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{Error, ErrorKind, Event, Verified, STRIPE_SIGNATURE};

async fn typed(event: Event, verified: Verified) -> Json<serde_json::Value> {
    let object: serde_json::Value = event.data_object().unwrap();
    Json(serde_json::json!({
        "id": event.id(),
        "type": event.event_type(),
        "amount_paid": object["amount_paid"],
        "secret_index": verified.secret_index(),
    }))
}

async fn raw(body: Bytes) -> Bytes {
    body
}

async fn text(body: String) -> String {
    body
}

fn app() -> Router {
    Router::new()
        .route("/typed", post(typed))
        .route("/raw", post(raw))
        .route("/text", post(text))
        .layer(layer())
}

async fn send(app: Router, uri: &str, payload: &Bytes, signed: bool) -> (StatusCode, Bytes, Option<Error>) {
    let mut request = Request::post(uri);
    if signed {
        request = request.header(STRIPE_SIGNATURE, sign(payload));
    }
    let response = app
        .oneshot(request.body(Body::from(payload.clone())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let error = response.extensions().get::<Error>().cloned();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
        error,
    )
}

#[tokio::test]
async fn a_handler_extracts_the_event_and_the_verification_record() {
    let payload = event_payload("invoice.paid", 2048);
    let (status, body, _) = send(app(), "/typed", &payload, true).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"id": "evt_1Test", "type": "invoice.paid", "amount_paid": 1999, "secret_index": 0})
    );
}

#[tokio::test]
async fn a_handler_reading_the_body_sees_exactly_what_was_sent() {
    let payload = event_payload("charge.refunded", 3000);
    for uri in ["/raw", "/text"] {
        let (status, body, _) = send(app(), uri, &payload, true).await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &payload[..]), "{uri}");
    }
}

#[tokio::test]
async fn unsigned_and_tampered_requests_never_reach_the_handler() {
    let payload = event_payload("invoice.paid", 500);
    let (status, body, error) = send(app(), "/typed", &payload, false).await;
    assert_eq!(
        (status, error.unwrap().kind()),
        (StatusCode::BAD_REQUEST, &ErrorKind::MissingHeader)
    );
    assert!(body.starts_with(b"missing_header"));

    let request = Request::post("/raw")
        .header(STRIPE_SIGNATURE, sign(&payload))
        .body(Body::from(payload.slice(1..)))
        .unwrap();
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn route_layer_protects_only_its_routes_and_the_extractor_reports_a_missing_layer() {
    let app = Router::new()
        .route("/webhook", post(typed))
        .route_layer(layer())
        .route("/forgot-the-layer", post(typed))
        .route("/health", get(|| async { "ok" }));
    let payload = event_payload("invoice.paid", 500);
    let (status, _, _) = send(app.clone(), "/webhook", &payload, true).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(app.clone(), "/webhook", &payload, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body, _) = send(app.clone(), "/forgot-the-layer", &payload, true).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        String::from_utf8_lossy(&body).contains("StripeSignatureLayer"),
        "{body:?}"
    );
    let response = app
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn under_service_builder_with_tower_http_layers() {
    let app = Router::new().route("/webhook", post(raw)).layer(
        ServiceBuilder::new()
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(10),
            ))
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                Duration::from_secs(10),
            ))
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            ))
            .layer(layer()),
    );
    let payload = event_payload("invoice.paid", 8192);
    let request = Request::post("/webhook")
        .header(STRIPE_SIGNATURE, sign(&payload))
        .body(Body::from(payload.clone()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "no-store",
        "answers pass the outer layers"
    );
    let echoed = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(echoed, payload, "the handler got the bytes sent");

    let (status, _, _) = send(app, "/webhook", &payload, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn thin_notifications_and_either_kind_through_their_extractors() {
    use tower_stripe_webhook::{Accept, AnyEvent, EventNotification};
    async fn thin(notification: EventNotification) -> String {
        format!("thin {} {:?}", notification.id(), notification.context())
    }
    async fn any(event: AnyEvent) -> String {
        match event {
            AnyEvent::Snapshot(event) => format!("snapshot {}", event.event_type()),
            AnyEvent::Thin(notification) => format!("thin {}", notification.event_type()),
        }
    }
    async fn snapshot_only(event: Event) -> String {
        event.id().to_owned()
    }
    let app = Router::new()
        .route("/thin", post(thin).layer(layer().accept(Accept::ThinEvents)))
        .route("/any", post(any).layer(layer().accept(Accept::AnyEvent)))
        // A handler that asks for another kind than its layer inserts gets the 500 naming the layer.
        .route(
            "/mismatch",
            post(snapshot_only).layer(layer().accept(Accept::ThinEvents)),
        );
    let notification = Bytes::from_static(
        br#"{"id":"evt_thin","object":"v2.core.event","type":"v1.billing.meter.no_meter_found","context":"acct_1"}"#,
    );
    let snapshot = event_payload("invoice.paid", 600);
    let (status, body, _) = send(app.clone(), "/thin", &notification, true).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"thin evt_thin Some(\"acct_1\")"[..])
    );
    let (status, body, _) = send(app.clone(), "/any", &notification, true).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"thin v1.billing.meter.no_meter_found"[..])
    );
    let (status, body, _) = send(app.clone(), "/any", &snapshot, true).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"snapshot invoice.paid"[..])
    );
    let (status, _, error) = send(app.clone(), "/thin", &snapshot, true).await;
    assert_eq!(
        (status, error.unwrap().code()),
        (StatusCode::BAD_REQUEST, "unexpected_snapshot_event")
    );
    let (status, body, _) = send(app, "/mismatch", &notification, true).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(String::from_utf8_lossy(&body).contains("StripeSignatureLayer"));
}

/// What a request the webhook route does not serve gets, for each way of adding the layer: the README's
/// recommendation (`post(handler).route_layer(..)`) keeps axum's 404 and 405 and leaves other routes open.
#[tokio::test]
async fn a_wrong_method_or_path_gets_what_each_way_of_adding_the_layer_says() {
    async fn status(app: Router, method: &str, uri: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        app.oneshot(request).await.unwrap().status()
    }
    fn health() -> axum::routing::MethodRouter {
        get(|| async { "ok" })
    }
    let route_layer = || {
        Router::new()
            .route("/webhook", post(raw))
            .route_layer(layer())
            .route("/health", health())
    };
    let method_route_layer = || {
        Router::new()
            .route("/webhook", post(raw).route_layer(layer()))
            .route("/health", health())
    };
    let method_layer = || {
        Router::new()
            .route("/webhook", post(raw).layer(layer()))
            .route("/health", health())
    };
    let router_layer = || {
        Router::new()
            .route("/webhook", post(raw))
            .route("/health", health())
            .layer(layer())
    };

    // `post(handler).route_layer(..)`: the handler alone is guarded.
    let app = method_route_layer;
    assert_eq!(
        status(app(), "GET", "/webhook").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(status(app(), "POST", "/nope").await, StatusCode::NOT_FOUND);
    assert_eq!(status(app(), "GET", "/health").await, StatusCode::OK);
    assert_eq!(status(app(), "POST", "/webhook").await, StatusCode::BAD_REQUEST);
    // `Router::route_layer` and `post(handler).layer(..)` also wrap the route's 405 fallback: a wrong
    // method is refused by the layer; other paths are not guarded.
    for app in [route_layer as fn() -> Router, method_layer] {
        assert_eq!(status(app(), "GET", "/webhook").await, StatusCode::BAD_REQUEST);
        assert_eq!(status(app(), "POST", "/nope").await, StatusCode::NOT_FOUND);
        assert_eq!(status(app(), "GET", "/health").await, StatusCode::OK);
    }
    // `Router::layer` wraps everything, the 404 fallback and `/health` included.
    assert_eq!(
        status(router_layer(), "GET", "/webhook").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(router_layer(), "POST", "/nope").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(router_layer(), "GET", "/health").await,
        StatusCode::BAD_REQUEST
    );
}
