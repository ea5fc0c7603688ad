//! The `tracing` feature: one event per request at the documented level and with the documented fields,
//! the rotation line only once, and never the secret or an expected signature.
#![cfg(feature = "tracing")]

mod support;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{
    compute_signature, SigningSecret, SigningSecrets, StripeSignatureLayer, VerifiedBody,
};

#[tokio::test]
async fn logs_what_an_on_call_engineer_needs_and_nothing_secret() {
    let (capture, _guard) = support::Capture::start(tracing::Level::DEBUG);

    let old = SigningSecret::new("whsec_OLDSECRETvalue")
        .unwrap()
        .with_label("previous");
    let layer = StripeSignatureLayer::new(SigningSecrets::new(support::secret()).and(old.clone()))
        .clock(|| support::NOW);
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<VerifiedBody>| async {
            Ok::<_, std::convert::Infallible>(Response::new(()))
        });
    let payload = support::event_payload("invoice.paid", 600);
    let signature = compute_signature(&payload, &old, support::NOW);
    for _ in 0..2 {
        let request = Request::post("/")
            .header("stripe-signature", format!("t={},v1={signature}", support::NOW))
            .body(Full::new(payload.clone()))
            .unwrap();
        assert!(service
            .clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .is_success());
    }
    let tampered = Request::post("/")
        .header("stripe-signature", format!("t={},v1={signature}", support::NOW))
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    assert_eq!(service.clone().oneshot(tampered).await.unwrap().status(), 400);

    let logs = capture.text();
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("DEBUG") && l.contains("verified"))
            .count(),
        2,
        "{logs}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("INFO") && l.contains("rotation"))
            .count(),
        1,
        "{logs}"
    );
    let warn = lines
        .iter()
        .find(|l| l.contains("WARN"))
        .expect("a warning for the rejection");
    for field in [
        "reason=\"no_matching_signature\"",
        "body_len=2",
        "body_sha256_prefix=",
        "v1_signatures=1",
        "secrets=2",
    ] {
        assert!(warn.contains(field), "{field} missing in {warn}");
    }
    for secret in ["TOPSECRET", "OLDSECRET", support::SECRET] {
        assert!(!logs.contains(secret), "a secret in the logs: {logs}");
    }
    for secret in [&old, &support::secret()] {
        let expected = compute_signature(b"{}", secret, support::NOW);
        assert!(
            !logs.contains(&expected),
            "an expected signature in the logs: {logs}"
        );
    }
    assert!(!logs.contains(&signature), "header values are not logged: {logs}");
}

/// axum applies a route's layers again for every connection (`Router::with_state` per connection): the
/// rotation line must still be logged once per layer, not once per connection. Through `axum::serve` on
/// 127.0.0.1, each request on its own TCP connection.
#[tokio::test]
async fn the_rotation_line_is_logged_once_per_layer_not_once_per_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // The test runtime has one thread: the server's tasks log on it, into this capture.
    let (capture, _guard) = support::Capture::start(tracing::Level::INFO);
    let old = SigningSecret::new("whsec_OLDSECRETvalue")
        .unwrap()
        .with_label("previous");
    let layer = StripeSignatureLayer::new(SigningSecrets::new(support::secret()).and(old.clone()))
        .clock(|| support::NOW);
    let app = axum::Router::new()
        .route("/webhook", axum::routing::post(|| async { "ok" }))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let payload = support::event_payload("invoice.paid", 600);
    let signature = compute_signature(&payload, &old, support::NOW);
    for _ in 0..3 {
        let head = format!(
            "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\nstripe-signature: t={},v1={signature}\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            support::NOW,
            payload.len()
        );
        let response = tokio::time::timeout(support::WAIT, async {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(&payload).await.unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            String::from_utf8(response).unwrap()
        })
        .await
        .expect("the server answered in time");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    let logs = capture.text();
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("INFO") && l.contains("rotation"))
            .count(),
        1,
        "{logs}"
    );
}
