//! Interleaved minimum times on the real Stripe events of `../shared/real-events/` (laid out as Stripe
//! sends them), per event: the bare HMAC, `verify`, `verify_event`, what a hand-written handler does
//! (verify, then parse into a `serde_json::Value`), and the layer with and without `IdempotencyLayer` on
//! a `MemoryStore`. Every routine runs once per round, so all sample the same moments of a shared
//! machine; the minimum over the rounds is what is printed.
//!
//! ```sh
//! cargo run --release -p tower-stripe-webhook-benches --bin real-events
//! ```

use std::{convert::Infallible, hint::black_box, time::Duration, time::Instant};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::{Request, Response};
use http_body_util::Full;
use sha2::Sha256;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{
    generate_test_header, test_helpers::relayout, Event, IdempotencyLayer, MemoryStore, SigningSecret,
    StripeSignatureLayer, VerifiedBody, Verifier, STRIPE_SIGNATURE,
};

const NOW: i64 = 1_700_000_000;

/// A signed delivery: the payload and its `Stripe-Signature` value.
type Delivery = (Bytes, String);

/// A timed routine, called once per delivery.
type Routine<'a> = Box<dyn Fn(&Delivery) + 'a>;
const ROUNDS: usize = 60;

fn main() {
    let secret = SigningSecret::new("whsec_real_events_bench").unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/real-events/payloads");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| {
            panic!(
                "{}: {error}; ../shared must be beside the project",
                root.display()
            )
        })
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let events: Vec<Delivery> = files
        .iter()
        .map(|file| Bytes::from(relayout(&std::fs::read(file).unwrap(), "  ", "\n", ": ")))
        .filter(|payload| Event::from_verified_payload(payload.clone()).is_ok())
        .map(|payload| {
            let header = generate_test_header(&payload, &secret, Some(NOW));
            (payload, header)
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let keyed = Hmac::<Sha256>::new_from_slice(b"whsec_real_events_bench").unwrap();
    let verifier = Verifier::new(secret.clone()).clock(|| NOW);
    let handler = |request: Request<VerifiedBody>| async move {
        Ok::<_, Infallible>(Response::new(Full::new(request.into_body().into_bytes())))
    };
    let layer = StripeSignatureLayer::new(secret).clock(|| NOW);
    let plain = ServiceBuilder::new().layer(layer.clone()).service_fn(handler);
    // A retention of a nanosecond: every delivery claims and completes, none is a duplicate.
    let store = IdempotencyLayer::new(MemoryStore::new()).retention(Duration::from_nanos(1));
    let idempotent = ServiceBuilder::new()
        .layer(layer)
        .layer(store)
        .service_fn(handler);
    let request = |(payload, header): &Delivery| {
        Request::post("/webhook")
            .header(STRIPE_SIGNATURE, header)
            .body(Full::new(payload.clone()))
            .unwrap()
    };
    let routines: Vec<(&str, Routine<'_>)> = vec![
        (
            "HMAC-SHA256, precomputed key",
            Box::new(|(payload, _)| {
                let mut mac = keyed.clone();
                mac.update(b"1700000000.");
                mac.update(black_box(payload));
                black_box(mac.finalize());
            }),
        ),
        (
            "Verifier::verify",
            Box::new(|(payload, header)| {
                black_box(verifier.verify(header, payload).unwrap());
            }),
        ),
        (
            "Verifier::verify_event",
            Box::new(|(payload, header)| {
                black_box(verifier.verify_event(header, payload.clone()).unwrap());
            }),
        ),
        (
            "verify, then serde_json::Value",
            Box::new(|(payload, header)| {
                verifier.verify(header, payload).unwrap();
                black_box(serde_json::from_slice::<serde_json::Value>(payload).unwrap());
            }),
        ),
        (
            "StripeSignatureLayer",
            Box::new(|event| {
                let response = runtime.block_on(plain.clone().oneshot(request(event))).unwrap();
                assert!(response.status().is_success());
            }),
        ),
        (
            "… + IdempotencyLayer(MemoryStore)",
            Box::new(|event| {
                let response = runtime
                    .block_on(idempotent.clone().oneshot(request(event)))
                    .unwrap();
                assert!(
                    response.status().is_success() && !response.headers().contains_key("idempotent-replayed")
                );
            }),
        ),
    ];
    let mut best = vec![f64::MAX; routines.len()];
    for _ in 0..ROUNDS {
        for ((_, routine), best) in routines.iter().zip(&mut best) {
            let start = Instant::now();
            events.iter().for_each(routine);
            *best = best.min(start.elapsed().as_nanos() as f64 / events.len() as f64);
        }
    }
    let bytes: usize = events.iter().map(|(payload, _)| payload.len()).sum();
    println!(
        "{} real events, {} bytes on average; ns per event, minimum of {ROUNDS} interleaved rounds",
        events.len(),
        bytes / events.len()
    );
    println!("| | ns | × HMAC |\n|---|---:|---:|");
    for ((name, _), ns) in routines.iter().zip(&best) {
        println!("| {name} | {ns:.0} | {:.2} |", ns / best[0]);
    }
    println!(
        "\nthe memory store's added cost / verify_event: {:.2}",
        (best[5] - best[4]) / best[2]
    );
}
