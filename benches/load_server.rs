//! The servers `load.sh` and `soak.sh` measure: one axum app, three ways, with no output per request.
//!
//! ```sh
//! cargo build --release -p tower-stripe-webhook-benches --bin load-server   # what benches/wrk.sh does
//! STRIPE_WEBHOOK_SECRET=whsec_... PORT=3931 target/release/load-server [--without-layer | --hmac-only]
//! ```
//!
//! * by default, `POST /webhook` behind `StripeSignatureLayer` with the secret(s) of
//!   `STRIPE_WEBHOOK_SECRET` and the body limit of `BODY_LIMIT` (1 MiB when unset);
//! * `--without-layer`: the same route reading the body and verifying nothing (the baseline);
//! * `--hmac-only`: the same route computing one HMAC-SHA256 of `"{t}.{body}"` and checking nothing
//!   else (the floor: what any verifier must spend). Never use it to serve.
//!
//! Every app copies an `x-request-id` request header onto the response, rejections included, so that
//! `soak.sh` can match each answer with its request, and so that the three apps differ by the
//! verification alone. The template for an application is `examples/axum.rs`, not this.

use axum::{
    extract::{FromRequest, Request},
    http::HeaderName,
    routing::post,
    Router,
};
use bytes::Bytes;
use hmac::{KeyInit, Mac};
use tower_http::propagate_header::PropagateHeaderLayer;
use tower_stripe_webhook::{Event, StripeSignatureLayer, DEFAULT_BODY_LIMIT, STRIPE_SIGNATURE};

/// The protected app: the handler takes the parsed event and answers at once.
fn with_layer() -> Result<Router, Box<dyn std::error::Error>> {
    let body_limit = std::env::var("BODY_LIMIT")
        .ok()
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(DEFAULT_BODY_LIMIT);
    let layer = StripeSignatureLayer::from_env("STRIPE_WEBHOOK_SECRET")?.body_limit(body_limit);
    Ok(Router::new().route("/webhook", post(|_: Event| async { "ok" }).layer(layer)))
}

/// The baseline: the body is read, nothing is verified.
fn without_layer() -> Router {
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

/// The floor: one HMAC-SHA256 with a precomputed key. The body is read as the baseline reads it, and the
/// headers are read in place, not cloned, so that the floor costs the baseline plus the HMAC and nothing
/// more. The key is a constant: any key of up to 64 bytes becomes the same two precomputed SHA-256
/// states, so it does not change the cost.
fn hmac_only() -> Router {
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::args().nth(1);
    let app = match mode.as_deref() {
        None => with_layer()?,
        Some("--without-layer") => without_layer(),
        Some("--hmac-only") => hmac_only(),
        Some(other) => return Err(format!("unknown mode {other}: --without-layer or --hmac-only").into()),
    }
    .layer(PropagateHeaderLayer::new(HeaderName::from_static("x-request-id")));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
