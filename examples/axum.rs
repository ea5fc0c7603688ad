//! The demo: an Axum webhook endpoint behind `StripeSignatureLayer`.
//!
//! ```sh
//! cargo run --example axum --features axum,tracing                  # serve, print ready-to-paste commands
//! cargo run --example axum --features axum,tracing -- --self-test   # send itself three requests and exit
//! cargo run --release --example axum --features axum,tracing -- --quiet [--without-layer | --hmac-only]   # benches/load.sh
//! STRIPE_WEBHOOK_SECRET=whsec_... PORT=4242 cargo run --example axum --features axum,tracing
//! ```
//!
//! Serves `POST /webhook` on `127.0.0.1:${PORT:-3000}` with the secret(s) from `STRIPE_WEBHOOK_SECRET`
//! (one or several, `label=whsec_...`, comma separated), or a generated demo secret when it is unset.
//! `BODY_LIMIT` sets the body limit in bytes (1 MiB by default). An `x-request-id` request header is
//! copied onto the response, rejections included, to match a delivery with its log line (and, in
//! `benches/soak.sh`, each request with its answer).

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    net::SocketAddr,
};

use axum::{
    http::{HeaderName, StatusCode},
    routing::post,
    Router,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tower_http::propagate_header::PropagateHeaderLayer;
use tower_stripe_webhook::{
    generate_test_header, Event, SigningSecret, SigningSecrets, StripeSignatureLayer, Verified,
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

/// `--quiet`: no output per request (for load tests).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

async fn webhook(event: Event, verified: Verified) -> Result<&'static str, (StatusCode, String)> {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok("ok");
    }
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

fn app(secrets: SigningSecrets, body_limit: usize) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .layer(StripeSignatureLayer::new(secrets).body_limit(body_limit))
}

/// `--without-layer`: the same route, reading the body and verifying nothing (the load test's baseline).
fn unprotected_app() -> Router {
    Router::new().route(
        "/webhook",
        post(|body: Bytes| async move {
            if body.is_empty() {
                "empty"
            } else {
                "ok"
            }
        }),
    )
}

/// `--hmac-only`: the same route computing one HMAC-SHA256 of `"{t}.{body}"` with a precomputed key and
/// checking nothing else (the load test's floor: what any verifier must spend). The body is read as the
/// baseline reads it, and the headers are read in place, not cloned, so that the floor costs the
/// baseline plus the HMAC and nothing more. The key is a constant: any key of up to 64 bytes becomes the
/// same two precomputed SHA-256 states, so it does not change the cost. Never use this to serve.
fn hmac_only_app() -> Router {
    use axum::extract::{FromRequest, Request};
    use hmac::{KeyInit, Mac};
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec_floor_key_of_no_consequence")
        .expect("any key length");
    Router::new().route(
        "/webhook",
        post(move |request: Request| async move {
            let t = request
                .headers()
                .get(STRIPE_SIGNATURE)
                .and_then(|value| value.to_str().ok()?.strip_prefix("t=")?.split(',').next())
                .unwrap_or_default();
            let mut mac = keyed.clone();
            mac.update(t.as_bytes());
            mac.update(b".");
            let body = Bytes::from_request(request, &()).await?;
            mac.update(&body);
            std::hint::black_box(mac.finalize().into_bytes());
            Ok::<_, axum::extract::rejection::BytesRejection>("ok")
        }),
    )
}

fn sample_event() -> Bytes {
    Bytes::from_static(
        br#"{
  "id": "evt_demo_1",
  "object": "event",
  "api_version": "2025-01-27.acacia",
  "created": 1700000000,
  "data": {
    "object": {"id": "in_demo_1", "object": "invoice", "amount_paid": 1999, "customer": "cus_demo"}
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": "invoice.paid"
}"#,
    )
}

/// A fresh demo secret, `whsec_` + 32 random hex digits (std's randomly keyed hasher as the source).
fn demo_secret() -> String {
    let mut out = String::from("whsec_demo_");
    for _ in 0..2 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0);
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::args().any(|arg| arg == "--self-test");
    let quiet = std::env::args().any(|arg| arg == "--quiet");
    let without_layer = std::env::args().any(|arg| arg == "--without-layer");
    let hmac_only = std::env::args().any(|arg| arg == "--hmac-only");
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    tracing_subscriber::fmt()
        .with_max_level(if quiet {
            tracing::Level::WARN
        } else {
            tracing::Level::DEBUG
        })
        .with_target(false)
        .init();

    let (secrets, signer) = match std::env::var("STRIPE_WEBHOOK_SECRET") {
        Ok(_) => {
            let secrets = SigningSecrets::from_env("STRIPE_WEBHOOK_SECRET")?;
            let signer = secrets.get(0).cloned().expect("at least one secret");
            (secrets, signer)
        }
        Err(_) => {
            let secret = demo_secret();
            println!("STRIPE_WEBHOOK_SECRET is unset; using a generated demo secret:\n  {secret}\n");
            let signer = SigningSecret::new(&secret)?.with_label("demo");
            (SigningSecrets::new(signer.clone()), signer)
        }
    };

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
    let body_limit = std::env::var("BODY_LIMIT")
        .ok()
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(tower_stripe_webhook::DEFAULT_BODY_LIMIT);
    let router = if without_layer {
        unprotected_app()
    } else if hmac_only {
        hmac_only_app()
    } else {
        app(secrets, body_limit)
    }
    // Outside the verification, so that rejections carry it too (and on every app, so that the load
    // test's baseline and floor differ from the protected app by the layer alone).
    .layer(PropagateHeaderLayer::new(HeaderName::from_static("x-request-id")));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    if self_test {
        let outcome = run_self_test(addr, &signer).await;
        server.abort();
        return outcome;
    }

    // One line, so that the command below sends exactly the bytes that were signed.
    let payload = String::from_utf8(sample_event().to_vec())?.replace('\n', "");
    let header = generate_test_header(&payload, &signer, None);
    println!("listening on http://{addr}/webhook\n");
    println!("Send a signed test event (signed now, so it verifies for 5 minutes):\n");
    println!("  curl -i http://{addr}/webhook -H 'stripe-signature: {header}' --data-binary '{payload}'\n");
    println!("Or forward real test-mode events with the Stripe CLI (use the whsec_ it prints):\n");
    println!("  stripe listen --forward-to {addr}/webhook\n");
    server.await??;
    Ok(())
}

/// Sends a signed event, a tampered one and an unsigned one to the server, and prints what each got.
async fn run_self_test(addr: SocketAddr, signer: &SigningSecret) -> Result<(), Box<dyn std::error::Error>> {
    let payload = sample_event();
    let header = generate_test_header(&payload, signer, None);
    let tampered = Bytes::from(String::from_utf8_lossy(&payload).replace("1999", "1"));
    let cases = [
        (
            "signed event",
            Some(header.clone()),
            payload.clone(),
            StatusCode::OK,
        ),
        ("tampered body", Some(header), tampered, StatusCode::BAD_REQUEST),
        ("unsigned", None, payload, StatusCode::BAD_REQUEST),
    ];
    let mut failures = 0;
    for (name, header, body, expected) in cases {
        let (status, text) = send(addr, header, body).await?;
        let verdict = if status == expected {
            "as expected"
        } else {
            "UNEXPECTED"
        };
        failures += usize::from(status != expected);
        println!("self-test {name:<14} -> {status} ({verdict}): {}", text.trim());
    }
    if failures > 0 {
        return Err(format!("{failures} self-test request(s) got an unexpected status").into());
    }
    println!("self-test passed");
    Ok(())
}

async fn send(
    addr: SocketAddr,
    header: Option<String>,
    body: Bytes,
) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = http::Request::post("/webhook").header(http::header::HOST, addr.to_string());
    if let Some(header) = header {
        request = request.header(STRIPE_SIGNATURE, header);
    }
    let response = sender.send_request(request.body(Full::new(body))?).await?;
    let status = response.status();
    let text = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&text).into_owned()))
}
