//! Diagnosis of `no_matching_signature` through the layer, on real Stripe events transformed the way a
//! framework, a proxy or an editor transforms them: each cause proven where it can be, likely where not,
//! and a forged request learns nothing it did not send.
// `support` and the fuzz targets' model both bring `tests/support/run.rs`.
#![allow(clippy::duplicate_mod)]

mod support;

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::NOW;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::test_helpers::relayout;
use tower_stripe_webhook::{
    compute_signature, generate_test_header, Cause, Diagnose, Error, SigningSecret, StripeSignatureLayer,
    VerifiedBody, STRIPE_SIGNATURE,
};

/// A real event as Stripe sends it: `JSON.stringify(event, null, 2)`.
fn as_stripe_sends(file: &str) -> Vec<u8> {
    let (_, _, payload) = support::real_events()
        .into_iter()
        .find(|(name, _, _)| name == file)
        .unwrap_or_else(|| panic!("{file} is among the real events"));
    relayout(&payload, "  ", "\n", ": ")
}

/// Sends `received` with the signature Stripe made for `sent` (under `signer`) through a layer with
/// diagnosis on; returns the status, the rejection body and the error.
async fn deliver(
    layer: StripeSignatureLayer,
    sent: &[u8],
    signer: &SigningSecret,
    received: Vec<u8>,
) -> (StatusCode, String, Option<Error>) {
    let header = generate_test_header(sent, signer, Some(NOW));
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<VerifiedBody>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        });
    let request = Request::post("/webhook")
        .header(STRIPE_SIGNATURE, header)
        .body(Full::new(Bytes::from(received)))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let (status, error) = (response.status(), response.extensions().get::<Error>().cloned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap(), error)
}

fn layer(diagnose: Diagnose) -> StripeSignatureLayer {
    support::layer().diagnose(diagnose.per_second(1000))
}

/// The cause diagnosed for `received`, Stripe having signed `sent` with the endpoint's secret.
async fn diagnosed(sent: &[u8], received: Vec<u8>) -> Option<Cause> {
    let (status, _, error) = deliver(layer(Diagnose::new()), sent, &support::secret(), received).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = error.unwrap();
    assert_eq!(error.code(), "no_matching_signature");
    error.diagnosis().map(|diagnosis| diagnosis.cause())
}

fn crlf(body: &[u8]) -> Vec<u8> {
    String::from_utf8(body.to_vec())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes()
}

#[tokio::test]
async fn each_transformation_is_proven_on_real_events() {
    // Full events of several real repositories, among them one with non-ASCII text (160).
    for file in ["001.json", "112.json", "160.json", "247.json"] {
        let sent = as_stripe_sends(file);
        let proven = |cause: Cause| {
            assert!(cause.is_proven(), "{file}: {cause:?}");
            Some(cause)
        };
        // A proxy converting newlines.
        assert_eq!(
            diagnosed(&sent, crlf(&sent)).await,
            proven(Cause::LineEndings),
            "{file}"
        );
        // An editor or a test fixture adding a final newline; a logging middleware stripping it.
        assert_eq!(
            diagnosed(&sent, [&sent[..], b"\n"].concat()).await,
            proven(Cause::TrailingNewline),
            "{file}"
        );
        assert_eq!(
            diagnosed(&sent, sent[..sent.len() - 1].to_vec())
                .await
                .map(Cause::is_proven),
            Some(false),
            "{file}: a cut body is not a newline"
        );
        // A byte-order mark added by a charset conversion.
        assert_eq!(
            diagnosed(&sent, [&b"\xef\xbb\xbf"[..], &sent].concat()).await,
            proven(Cause::ByteOrderMark),
            "{file}"
        );
        // Whitespace padded around the body.
        assert_eq!(
            diagnosed(&sent, [&b"\n  "[..], &sent, b" \n\n"].concat()).await,
            proven(Cause::WhitespaceTrimmed),
            "{file}"
        );
        // Re-serialized keeping key order and values (`JSON.stringify(JSON.parse(body))`, a proxy that
        // minifies, another indentation).
        for relaid in [
            relayout(&sent, "", "", ":"),
            relayout(&sent, "    ", "\n", ": "),
            relayout(&sent, "\t", "\n", ": "),
        ] {
            assert_eq!(
                diagnosed(&sent, relaid).await,
                proven(Cause::JsonRelaidOut),
                "{file}"
            );
        }
        // An axum `Json<Value>` handler that re-serializes: compact, keys sorted. Not provable, likely.
        let value: serde_json::Value = serde_json::from_slice(&sent).unwrap();
        assert_eq!(
            diagnosed(&sent, serde_json::to_vec(&value).unwrap()).await,
            Some(Cause::LikelyReserialized),
            "{file}"
        );
        // Not JSON at all: a form parser's output.
        assert_eq!(
            diagnosed(&sent, b"id=evt_1&object=event".to_vec()).await,
            Some(Cause::NotJson)
        );
    }
}

#[tokio::test]
async fn unicode_escapes_are_proven_both_ways() {
    let sent = as_stripe_sends("160.json");
    assert!(sent.iter().any(|b| !b.is_ascii()), "160.json has non-ASCII text");
    // Python's `json.dumps(event, indent=2)` escapes non-ASCII characters.
    let mut escaped = String::new();
    for c in String::from_utf8(sent.clone()).unwrap().chars() {
        if c.is_ascii() {
            escaped.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    assert_eq!(
        diagnosed(&sent, escaped.clone().into_bytes()).await,
        Some(Cause::UnicodeEscapes)
    );
    // And the reverse: Stripe escaped them, something decoded them (with a new layout, too).
    assert_eq!(
        diagnosed(escaped.as_bytes(), sent.clone()).await,
        Some(Cause::UnicodeEscapes)
    );
    assert_eq!(
        diagnosed(escaped.as_bytes(), relayout(&sent, "", "", ":")).await,
        Some(Cause::UnicodeEscapes)
    );
}

#[tokio::test]
async fn a_diagnostic_secret_explains_and_never_accepts() {
    let sent = as_stripe_sends("001.json");
    let test_mode = SigningSecret::new("whsec_test_mode_endpoint_secret")
        .unwrap()
        .with_label("test-mode");
    let diagnose = Diagnose::new().with_secret(test_mode.clone()).in_response();
    let (status, body, error) = deliver(layer(diagnose), &sent, &test_mode, sent.clone()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a diagnostic secret never accepts a delivery"
    );
    let diagnosis = error.as_ref().unwrap().diagnosis().unwrap();
    assert_eq!(
        (diagnosis.cause(), diagnosis.secret_label()),
        (Cause::DiagnosticSecret, Some("test-mode"))
    );
    assert!(
        body.contains("diagnostic_secret (proven)") && body.contains("`test-mode`"),
        "{body}"
    );
    assert!(!body.contains("whsec_"), "{body}");
}

#[tokio::test]
async fn the_rejection_body_shows_the_diagnosis_only_when_enabled() {
    let sent = as_stripe_sends("001.json");
    let (_, hidden, error) = deliver(layer(Diagnose::new()), &sent, &support::secret(), crlf(&sent)).await;
    assert!(
        error.unwrap().to_string().contains("line_endings"),
        "the error says it"
    );
    assert!(
        hidden.starts_with("no_matching_signature: ") && !hidden.contains("Diagnosis"),
        "{hidden}"
    );
    let (_, shown, _) = deliver(
        layer(Diagnose::new().in_response()),
        &sent,
        &support::secret(),
        crlf(&sent),
    )
    .await;
    assert!(shown.contains("Diagnosis: line_endings (proven)"), "{shown}");
}

#[tokio::test]
async fn the_budget_bounds_how_many_requests_are_diagnosed() {
    let sent = as_stripe_sends("001.json");
    let layer = support::layer().diagnose(Diagnose::new().per_second(2));
    let mut diagnosed = 0;
    for _ in 0..10 {
        let (_, _, error) = deliver(layer.clone(), &sent, &support::secret(), crlf(&sent)).await;
        diagnosed += usize::from(error.unwrap().diagnosis().is_some());
    }
    // A burst of at most 2, and at most a few more refilled while the loop ran.
    assert!((2..=4).contains(&diagnosed), "{diagnosed} of 10 diagnosed");
}

#[tokio::test]
async fn a_forged_request_learns_nothing_it_did_not_send() {
    let sent = as_stripe_sends("001.json");
    let layer = layer(Diagnose::new().in_response());
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<VerifiedBody>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        });
    // Forged signatures over the body as sent and transformed: the diagnosis speaks only of the body's
    // own shape, never of a signature, and says the same whatever the forged signature is.
    let mut answers = Vec::new();
    for forged in ["0".repeat(64), "f".repeat(64), "deadbeef".repeat(8)] {
        for body in [sent.clone(), crlf(&sent), relayout(&sent, "", "", ":")] {
            let request = Request::post("/webhook")
                .header(STRIPE_SIGNATURE, format!("t={NOW},v1={forged}"))
                .body(Full::new(Bytes::from(body.clone())))
                .unwrap();
            let response = service.clone().oneshot(request).await.unwrap();
            let error = response.extensions().get::<Error>().cloned().unwrap();
            let text =
                String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
            assert!(!error.diagnosis().unwrap().cause().is_proven(), "{text}");
            // Nothing of any signature the secret makes over any transformation of the body.
            for candidate in [&sent, &crlf(&sent), &relayout(&sent, "", "", ":")] {
                let expected = compute_signature(candidate, &support::secret(), NOW);
                assert!(!text.contains(&expected[..16]), "{text}");
            }
            assert!(
                !text.contains(support::SECRET) && !text.contains(&support::SECRET[6..]),
                "{text}"
            );
            answers.push((body, text));
        }
    }
    for (body, text) in &answers {
        let same_body: Vec<_> = answers
            .iter()
            .filter(|(other, _)| other == body)
            .map(|(_, t)| t)
            .collect();
        assert!(
            same_body.iter().all(|other| *other == text),
            "the answer depends on the forged signature"
        );
    }
}
