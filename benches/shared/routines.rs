//! The routine behind each bench id, set up once per payload size and shared by `verify.rs` (criterion
//! medians) and `min_time.rs` (interleaved minimums, steadier on a shared machine).
//!
//! Ids (kept stable so runs can be compared): `hmac_baseline/{size}`, `verify/{size}`,
//! `verify_event/{size}`, `verify_rotation/{size}`, `layer/{size}`, `baseline_service/{size}`. See
//! BENCHMARKS.md for the targets.

use std::{convert::Infallible, hint::black_box};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::Request;
use http_body_util::{BodyExt, Full};
use sha2::Sha256;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{
    SigningSecret, SigningSecrets, StripeSignatureLayer, VerifiedBody, Verifier, STRIPE_SIGNATURE,
};

use crate::support;

pub const SIZES: [usize; 4] = [512, 2048, 8192, 65536];

/// A bench routine: one call on a payload and its `Stripe-Signature` header.
type Routine = Box<dyn FnMut(&Bytes, &str)>;

/// One bench: its id, its payload size and the call to time, which owns what it needs.
pub struct Bench {
    pub id: &'static str,
    pub size: usize,
    pub call: Box<dyn FnMut()>,
}

/// Every id, in the order above, for every size of [`SIZES`]. Payloads are realistic Stripe events padded
/// to exactly `size` bytes (`support::realistic_event`).
pub fn all() -> Vec<Bench> {
    let mut benches = Vec::new();
    for size in SIZES {
        let payload = support::realistic_event(size);
        let header = support::sign(&payload);
        // Each size has routines of its own, which own their state.
        for (order, (id, mut routine)) in routines().into_iter().enumerate() {
            let (payload, header) = (payload.clone(), header.clone());
            let call = Box::new(move || routine(&payload, &header));
            benches.push((order, Bench { id, size, call }));
        }
    }
    // In the order of the ids, then of the sizes.
    benches.sort_by_key(|(order, bench)| (*order, bench.size));
    benches.into_iter().map(|(_, bench)| bench).collect()
}

fn routines() -> [(&'static str, Routine); 6] {
    let verifier = Verifier::new(support::secret()).clock(|| support::NOW);
    let event_verifier = verifier.clone();
    let old = SigningSecret::new("whsec_previous_secret_for_rotation").unwrap();
    let rotation = Verifier::new(SigningSecrets::new(old).and(support::secret())).clock(|| support::NOW);
    let keyed = Hmac::<Sha256>::new_from_slice(support::SECRET.as_bytes()).unwrap();
    // The floor: only the HMAC itself is measured, the timestamp text is made once.
    let timestamp = support::NOW.to_string();

    // The same handler alone (collecting the body itself) and behind the layer (which collected it), both
    // driven the same way: `oneshot` on the service (poll_ready, then call, then the response future).
    let handler = |request: Request<VerifiedBody>| async move {
        Ok::<_, Infallible>(http::Response::new(request.into_body().into_bytes().len()))
    };
    let mut layered = ServiceBuilder::new()
        .layer(StripeSignatureLayer::new(support::secret()).clock(|| support::NOW))
        .service_fn(handler);
    let mut baseline = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let body = request.into_body().collect().await.unwrap().to_bytes();
        Ok::<_, Infallible>(http::Response::new(body.len()))
    });
    let request = |payload: &Bytes, header: &str| {
        Request::post("/webhook")
            .header(STRIPE_SIGNATURE, header)
            .body(Full::new(payload.clone()))
            .unwrap()
    };

    let routines: [(&'static str, Routine); 6] = [
        (
            "hmac_baseline",
            Box::new(move |payload, _| {
                let mut mac = keyed.clone();
                mac.update(timestamp.as_bytes());
                mac.update(b".");
                mac.update(black_box(payload));
                black_box(mac.finalize().into_bytes());
            }),
        ),
        (
            "verify",
            Box::new(move |payload, header| {
                black_box(
                    verifier
                        .verify(black_box(header.as_bytes()), black_box(payload))
                        .unwrap(),
                );
            }),
        ),
        (
            "verify_event",
            Box::new(move |payload, header| {
                black_box(
                    event_verifier
                        .verify_event(black_box(header.as_bytes()), payload.clone())
                        .unwrap(),
                );
            }),
        ),
        (
            "verify_rotation",
            Box::new(move |payload, header| {
                let verified = rotation
                    .verify(black_box(header.as_bytes()), black_box(payload))
                    .unwrap();
                assert_eq!(verified.secret_index(), 1);
                black_box(verified);
            }),
        ),
        (
            "layer",
            Box::new(move |payload, header| {
                let response =
                    support::run(ServiceExt::oneshot(&mut layered, request(payload, header))).unwrap();
                assert!(response.status().is_success());
                black_box(response);
            }),
        ),
        (
            "baseline_service",
            Box::new(move |payload, header| {
                let response =
                    support::run(ServiceExt::oneshot(&mut baseline, request(payload, header))).unwrap();
                black_box(response);
            }),
        ),
    ];

    routines
}
