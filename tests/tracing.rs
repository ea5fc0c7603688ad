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
