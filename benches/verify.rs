//! Verification speed against its physical floor, one HMAC-SHA256 pass, measured in the same run.
//!
//! ```sh
//! cargo bench --bench verify                 # all groups
//! cargo bench --bench verify -- verify_event # one group
//! ```
//!
//! Ids (kept stable so runs can be compared): `hmac_baseline/{size}`, `verify/{size}`, `verify_event/{size}`,
//! `verify_rotation/{size}`, `layer/{size}`, `baseline_service/{size}`. See BENCHMARKS.md for the targets.

#[path = "../tests/support/mod.rs"]
mod support;

use std::{convert::Infallible, hint::black_box};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use http::Request;
use http_body_util::{BodyExt, Full};
use sha2::Sha256;
use tower::{Service, ServiceBuilder};
use tower_stripe_webhook::{
    SigningSecret, SigningSecrets, StripeSignatureLayer, VerifiedBody, Verifier, STRIPE_SIGNATURE,
};

const SIZES: [usize; 4] = [512, 2048, 8192, 65536];

fn payloads() -> impl Iterator<Item = (usize, Bytes, String)> {
    SIZES.into_iter().map(|size| {
        let payload = support::realistic_event(size);
        let header = support::sign(&payload);
        (size, payload, header)
    })
}

/// One criterion group: `routine(payload, header)` at every size, with the payload's throughput.
fn bench_group<R>(c: &mut Criterion, name: &str, mut routine: impl FnMut(&Bytes, &str) -> R) {
    let mut group = c.benchmark_group(name);
    for (size, payload, header) in payloads() {
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &payload, |b, payload| {
            b.iter(|| routine(payload, &header))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let verifier = Verifier::new(support::secret()).clock(|| support::NOW);
    let old = SigningSecret::new("whsec_previous_secret_for_rotation").unwrap();
    let rotation = Verifier::new(SigningSecrets::new(old).and(support::secret())).clock(|| support::NOW);

    let keyed = Hmac::<Sha256>::new_from_slice(support::SECRET.as_bytes()).unwrap();
    // The floor: only the HMAC itself is measured, the timestamp text is made once.
    let timestamp = support::NOW.to_string();
    bench_group(c, "hmac_baseline", |payload, _| {
        let mut mac = keyed.clone();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(black_box(payload));
        mac.finalize().into_bytes()
    });

    bench_group(c, "verify", |payload, header| {
        verifier
            .verify(black_box(header.as_bytes()), black_box(payload))
            .unwrap()
    });

    bench_group(c, "verify_event", |payload, header| {
        verifier
            .verify_event(black_box(header.as_bytes()), payload.clone())
            .unwrap()
    });

    bench_group(c, "verify_rotation", |payload, header| {
        let verified = rotation
            .verify(black_box(header.as_bytes()), black_box(payload))
            .unwrap();
        assert_eq!(verified.secret_index(), 1);
        verified
    });

    // The same handler alone (collecting the body itself) and behind the layer (which collected it).
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
    bench_group(c, "layer", |payload, header| {
        let response = support::run(async {
            std::future::poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut layered, cx))
                .await
                .unwrap();
            layered.call(request(payload, header)).await.unwrap()
        });
        assert!(response.status().is_success());
        response
    });
    bench_group(c, "baseline_service", |payload, header| {
        support::run(baseline.call(request(payload, header))).unwrap()
    });
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
