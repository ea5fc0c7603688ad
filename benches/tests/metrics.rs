//! With the `metrics` feature: every outcome is counted, with bounded labels, through a debugging
//! recorder (`metrics-util`). In this package, whose dev-dependencies a user of the demo never builds.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::{collections::BTreeMap, convert::Infallible};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use support::*;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{IdempotencyLayer, MemoryStore, SigningSecret, SigningSecrets, VerifiedBody};

/// The counters and histogram sample counts recorded, by name and sorted labels.
fn snapshot(recorder: &DebuggingRecorder) -> BTreeMap<String, f64> {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let value = match value {
                DebugValue::Counter(n) => n as f64,
                DebugValue::Gauge(g) => g.into_inner(),
                DebugValue::Histogram(samples) => samples.len() as f64,
            };
            (format!("{}{{{}}}", key.name(), labels.join(",")), value)
        })
        .collect()
}

#[test]
fn every_outcome_is_counted_with_bounded_labels() {
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        let secrets = SigningSecrets::new(secret().with_label("current")).and(
            SigningSecret::new("whsec_previous_secret")
                .unwrap()
                .with_label("previous"),
        );
        let service = ServiceBuilder::new()
            .layer(layer_with(secrets))
            .layer(IdempotencyLayer::new(MemoryStore::new()))
            .service_fn(|_: Request<VerifiedBody>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            });
        let payload = event_payload("invoice.paid", 700);
        run(async {
            // Verified, then a duplicate of it.
            for _ in 0..2 {
                service
                    .clone()
                    .oneshot(signed_request(&payload, Full::new(payload.clone())))
                    .await
                    .unwrap();
            }
            // Signed with the previous secret.
            let other = Bytes::from(
                String::from_utf8(payload.to_vec())
                    .unwrap()
                    .replace("evt_1Test", "evt_2"),
            );
            let header = tower_stripe_webhook::generate_test_header(
                &other,
                &SigningSecret::new("whsec_previous_secret").unwrap(),
                Some(NOW),
            );
            let request = Request::post("/")
                .header(tower_stripe_webhook::STRIPE_SIGNATURE, header)
                .body(Full::new(other))
                .unwrap();
            service.clone().oneshot(request).await.unwrap();
            // Tampered, and without a header.
            let tampered = Request::post("/")
                .header(tower_stripe_webhook::STRIPE_SIGNATURE, sign(&payload))
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap();
            service.clone().oneshot(tampered).await.unwrap();
            service
                .clone()
                .oneshot(Request::post("/").body(Full::new(payload.clone())).unwrap())
                .await
                .unwrap();
            Ok::<_, Infallible>(())
        })
        .unwrap();
    });
    let metrics = snapshot(&recorder);
    let expected = [
        (
            "stripe_webhook_requests_total{outcome=verified,reason=none,secret=current}",
            2.0,
        ),
        (
            "stripe_webhook_requests_total{outcome=verified,reason=none,secret=previous}",
            1.0,
        ),
        (
            "stripe_webhook_requests_total{outcome=rejected,reason=no_matching_signature,secret=none}",
            1.0,
        ),
        (
            "stripe_webhook_requests_total{outcome=rejected,reason=missing_header,secret=none}",
            1.0,
        ),
        ("stripe_webhook_signature_age_seconds{}", 3.0),
        ("stripe_webhook_body_bytes{outcome=verified}", 3.0),
        ("stripe_webhook_body_bytes{outcome=rejected}", 1.0),
        ("stripe_webhook_idempotency_total{outcome=handled}", 2.0),
        ("stripe_webhook_idempotency_total{outcome=duplicate}", 1.0),
        ("stripe_webhook_buffered_bytes{}", 0.0),
    ];
    for (name, value) in expected {
        assert_eq!(metrics.get(name), Some(&value), "{name} in {metrics:#?}");
    }
    // Nothing else, and no label carries an id.
    assert_eq!(metrics.len(), expected.len(), "{metrics:#?}");
    assert!(metrics.keys().all(|key| !key.contains("evt_")), "{metrics:#?}");
}

fn layer_with(secrets: SigningSecrets) -> tower_stripe_webhook::StripeSignatureLayer {
    tower_stripe_webhook::StripeSignatureLayer::new(secrets).clock(|| NOW)
}
