//! The demo, and a template to copy: an axum app with a webhook route for snapshot events and one for
//! thin event notifications, each behind its own `StripeSignatureLayer`, and a health check that no
//! layer guards.
//!
//! ```sh
//! cargo run --example axum --features axum,tracing                  # serve, print ready-to-paste commands
//! cargo run --example axum --features axum,tracing -- --self-test   # send itself signed, tampered, unsigned
//!                                                                   # and thin deliveries, then exit
//! STRIPE_WEBHOOK_SECRET=whsec_... STRIPE_THIN_WEBHOOK_SECRET=whsec_... PORT=4242 \
//!     cargo run --example axum --features axum,tracing
//! ```
//!
//! Serves on `127.0.0.1:${PORT:-3000}`:
//! * `POST /webhook`: snapshot events, with the secret(s) of `STRIPE_WEBHOOK_SECRET`;
//! * `POST /webhook/thin`: thin event notifications, with the secret(s) of `STRIPE_THIN_WEBHOOK_SECRET`;
//! * `GET /health`: not guarded.
//!
//! Each variable holds one secret or several (`current=whsec_...,previous=whsec_...`); when one is unset
//! the demo generates a secret for it and prints it. `BODY_LIMIT` sets the body limit in bytes (1 MiB by
//! default). An `x-request-id` request header is copied onto the response, rejections included, to match
//! a delivery with its log line.

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    http::{HeaderName, Method, StatusCode},
    routing::{get, post},
    Router,
};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tower_http::propagate_header::PropagateHeaderLayer;
use tower_stripe_webhook::{
    test_helpers::{SignedRequest, TestEvent, TestNotification},
    Accept, Event, EventNotification, SigningSecret, SigningSecrets, StripeSignatureLayer, Verified,
    STRIPE_SIGNATURE,
};

/// The fields of `data.object` this demo uses; everything else in the object is ignored.
#[derive(Deserialize)]
struct Invoice {
    id: String,
    amount_paid: i64,
    customer: Option<String>,
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
    customer: String,
}

/// Snapshot events: the layer verified the signature and parsed the envelope.
async fn webhook(event: Event, verified: Verified) -> Result<&'static str, (StatusCode, String)> {
    let bad_object = |error: serde_json::Error| (StatusCode::UNPROCESSABLE_ENTITY, error.to_string());
    match event.event_type() {
        "invoice.paid" => {
            let invoice: Invoice = event.data_object().map_err(bad_object)?;
            println!(
                "invoice {} paid: {} cents by {:?}",
                invoice.id, invoice.amount_paid, invoice.customer
            );
        }
        "customer.subscription.deleted" => {
            let subscription: Subscription = event.data_object().map_err(bad_object)?;
            println!(
                "subscription {} of {} ended: revoke access",
                subscription.id, subscription.customer
            );
        }
        other => println!("{} {other}: not handled here, acknowledged", event.id()),
    }
    if verified.secret_index() > 0 {
        println!(
            "  (matched secret {:?}: finish the rotation)",
            verified.secret_label()
        );
    }
    Ok("ok")
}

/// Thin event notifications: an id, a type and what they are about; fetch the full event with your
/// own Stripe client (`GET /v2/core/events/{id}`, with `Stripe-Context: {context}` when there is one).
async fn thin_webhook(notification: EventNotification) -> &'static str {
    let about = notification
        .related_object()
        .map(|object| {
            let (kind, id) = (object.object_type.unwrap_or("?"), object.id.unwrap_or("?"));
            format!(" about {kind} {id}")
        })
        .unwrap_or_default();
    println!(
        "thin {} {}{about}: fetch it with GET /v2/core/events/{}",
        notification.event_type(),
        notification.id(),
        notification.id()
    );
    "ok"
}

fn app(snapshot: StripeSignatureLayer, thin: StripeSignatureLayer) -> Router {
    Router::new()
        // `route_layer`, not `Router::layer`: `/health` stays open, an unknown path gets 404 and a
        // `GET /webhook` gets 405, as without the layer (with `.layer`, both would be a 400).
        .route("/webhook", post(webhook).route_layer(snapshot))
        .route("/webhook/thin", post(thin_webhook).route_layer(thin))
        .route("/health", get(|| async { "ok" }))
        // Outside the verification, so that rejections carry it too.
        .layer(PropagateHeaderLayer::new(HeaderName::from_static("x-request-id")))
}

/// The secrets of `name`, or a generated demo secret when it is unset.
fn secrets(name: &str, label: &str) -> Result<SigningSecrets, Box<dyn std::error::Error>> {
    if std::env::var_os(name).is_some() {
        return Ok(SigningSecrets::from_env(name)?);
    }
    let secret = demo_secret();
    println!("{name} is unset; using a generated demo secret: {secret}");
    Ok(SigningSecret::new(&secret)?.with_label(label).into())
}

/// A fresh demo secret, `whsec_demo_` + 32 random hex digits (std's randomly keyed hasher as the source).
fn demo_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("whsec_demo_");
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0);
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}

/// What a route was configured with: enough to tell, from the log alone, which secrets are loaded.
fn describe(route: &str, layer: &StripeSignatureLayer, body_limit: usize) {
    let verifier = layer.verifier();
    let secrets = verifier.secrets();
    let tolerance = verifier
        .tolerance_secs()
        .map_or_else(|| "off".to_owned(), |secs| format!("{secs} s"));
    println!(
        "{route}: {} secret(s), tolerance {tolerance}, body limit {body_limit} bytes",
        secrets.len()
    );
    for (index, secret) in secrets.iter().enumerate() {
        println!(
            "  #{index} {:<10} fingerprint {}",
            secret.label().unwrap_or("(no label)"),
            secret.fingerprint()
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::args().any(|arg| arg == "--self-test");
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_target(false)
        .init();

    let body_limit = std::env::var("BODY_LIMIT")
        .ok()
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(tower_stripe_webhook::DEFAULT_BODY_LIMIT);
    let snapshot_secrets = secrets("STRIPE_WEBHOOK_SECRET", "demo")?;
    let thin_secrets = secrets("STRIPE_THIN_WEBHOOK_SECRET", "demo-thin")?;
    let snapshot_signer = snapshot_secrets.get(0).cloned().expect("at least one secret");
    let thin_signer = thin_secrets.get(0).cloned().expect("at least one secret");
    let snapshot = StripeSignatureLayer::new(snapshot_secrets)
        .tolerance(Duration::from_secs(300))
        .body_limit(body_limit);
    let thin = StripeSignatureLayer::new(thin_secrets)
        .accept(Accept::ThinEvents)
        .body_limit(body_limit);
    describe("POST /webhook (snapshot events)", &snapshot, body_limit);
    describe("POST /webhook/thin (thin events)", &thin, body_limit);
    println!();

    let port: u16 = if self_test {
        0
    } else {
        std::env::var("PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(3000)
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let router = app(snapshot, thin);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    if self_test {
        let outcome = run_self_test(addr, &snapshot_signer, &thin_signer).await;
        server.abort();
        return outcome;
    }

    // One line, so that the command below sends exactly the bytes that were signed.
    let payload = sample_event().to_json().replace('\n', "");
    let signed = SignedRequest::new(payload.clone(), &snapshot_signer);
    println!("listening on http://{addr}/webhook and http://{addr}/webhook/thin\n");
    println!("Send a signed test event (signed now, so it verifies for 5 minutes):\n");
    println!(
        "  curl -i http://{addr}/webhook -H 'stripe-signature: {}' --data-binary '{payload}'\n",
        signed.signature_header()
    );
    println!("Or forward real test-mode events with the Stripe CLI:\n");
    println!("  stripe listen --forward-to {addr}/webhook \\");
    println!(
        "    --forward-thin-to {addr}/webhook/thin --thin-events v1.billing.meter.error_report_triggered\n"
    );
    println!(
        "It prints \"Your webhook signing secret is whsec_...\": until this demo uses that secret, every"
    );
    println!("delivery is refused with no_matching_signature. Stop the demo and start it again with it:\n");
    println!("  STRIPE_WEBHOOK_SECRET=whsec_... STRIPE_THIN_WEBHOOK_SECRET=whsec_... \\");
    println!("    cargo run --example axum --features axum,tracing\n");
    server.await??;
    Ok(())
}

fn sample_event() -> TestEvent {
    TestEvent::new(
        "invoice.paid",
        serde_json::json!({"id": "in_demo_1", "object": "invoice", "amount_paid": 1999, "customer": "cus_demo"}),
    )
    .id("evt_demo_1")
}

/// Sends the server a signed, a tampered and an unsigned event, a thin notification, an event to the thin
/// route and a `GET`, and checks the status of each.
async fn run_self_test(
    addr: SocketAddr,
    signer: &SigningSecret,
    thin_signer: &SigningSecret,
) -> Result<(), Box<dyn std::error::Error>> {
    let event = sample_event().to_bytes();
    let signed = || SignedRequest::new(event.clone(), signer).build::<Body>();
    let tampered = signed().map(|_| Body::from(tamper(&event)));
    let mut unsigned = signed();
    unsigned.headers_mut().remove(STRIPE_SIGNATURE);
    let notification = TestNotification::new("v1.billing.meter.error_report_triggered")
        .related_object("mtr_demo_1", "billing.meter", "/v1/billing/meters/mtr_demo_1")
        .to_bytes();
    let thin = SignedRequest::new(notification, thin_signer)
        .uri("/webhook/thin")
        .build::<Body>();
    let snapshot_at_thin = SignedRequest::new(event.clone(), thin_signer)
        .uri("/webhook/thin")
        .build::<Body>();
    let get = SignedRequest::new("", signer).method(Method::GET).build::<Body>();
    let cases = [
        ("signed event", signed(), StatusCode::OK),
        ("tampered body", tampered, StatusCode::BAD_REQUEST),
        ("unsigned", unsigned, StatusCode::BAD_REQUEST),
        ("thin notification", thin, StatusCode::OK),
        ("event at thin", snapshot_at_thin, StatusCode::BAD_REQUEST),
        ("GET /webhook", get, StatusCode::METHOD_NOT_ALLOWED),
    ];
    let mut failures = 0;
    for (name, request, expected) in cases {
        let (status, text) = send(addr, request).await?;
        let verdict = if status == expected {
            "as expected"
        } else {
            "UNEXPECTED"
        };
        failures += usize::from(status != expected);
        println!("self-test {name:<17} -> {status} ({verdict}): {}", text.trim());
    }
    if failures > 0 {
        return Err(format!("{failures} self-test request(s) got an unexpected status").into());
    }
    println!("self-test passed");
    Ok(())
}

/// The same event, paid 1 cent instead of 1999: what a forger would send.
fn tamper(event: &Bytes) -> Bytes {
    Bytes::from(String::from_utf8_lossy(event).replace("1999", "1"))
}

async fn send(
    addr: SocketAddr,
    mut request: http::Request<Body>,
) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    request
        .headers_mut()
        .insert(http::header::HOST, addr.to_string().parse()?);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let text = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&text).into_owned()))
}
