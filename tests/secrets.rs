//! No secret and no expected signature, anywhere the outside world or a log can see: every rejection
//! reason (and every accepted path) goes through the layer with all `tracing` output captured at TRACE,
//! and the logs, every rejection body, every error's `Display` and `Debug`, and the `Debug` of every
//! public type that holds a secret or a verified request are searched for them.
#![cfg(feature = "tracing")]

mod support;

use std::{collections::BTreeSet, time::Duration};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{
    compute_signature, Error, ErrorKind, Event, InvalidEvent, MalformedHeader, SigningSecret, SigningSecrets,
    StripeSignature, StripeSignatureLayer, Verified, VerifiedBody, VerifiedPayload, Verifier,
    STRIPE_SIGNATURE,
};

const CURRENT: &str = "whsec_CURRENTtopsecret0123456789abcdef";
const PREVIOUS: &str = "whsec_PREVIOUStopsecret0123456789abcdef";
const NOW: i64 = support::NOW;

fn secrets() -> SigningSecrets {
    SigningSecrets::new(SigningSecret::new(CURRENT).unwrap().with_label("current"))
        .and(SigningSecret::new(PREVIOUS).unwrap().with_label("previous"))
}

/// A reason's name, down to the sub-reason, to check that every one was exercised.
fn reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::MalformedHeader(reason) => format!("malformed_header/{reason:?}"),
        ErrorKind::NotAnEvent(InvalidEvent::Json { .. }) => "not_an_event/Json".into(),
        ErrorKind::NotAnEvent(InvalidEvent::MissingField(_)) => "not_an_event/MissingField".into(),
        ErrorKind::NotAnEvent(reason) => format!("not_an_event/{reason:?}"),
        other => format!("{other:?}").split([' ', '{']).next().unwrap().to_string(),
    }
}

struct Case {
    header: Vec<String>,
    body: Bytes,
    limit: usize,
    fails_midway: bool,
    reject_future: bool,
}

fn case(header: impl Into<String>, body: impl Into<Bytes>) -> Case {
    Case {
        header: vec![header.into()],
        body: body.into(),
        limit: 1 << 20,
        fails_midway: false,
        reject_future: true,
    }
}

#[tokio::test]
async fn no_secret_or_expected_signature_in_logs_bodies_or_debug_output() {
    let (capture, _guard) = support::Capture::start(tracing::Level::TRACE);

    let event = support::event_payload("invoice.paid", 900);
    let current = SigningSecret::new(CURRENT).unwrap();
    let previous = SigningSecret::new(PREVIOUS).unwrap();
    let sig = |body: &[u8], secret: &SigningSecret, t: i64| compute_signature(body, secret, t);
    let signed = |body: &[u8], t: i64| format!("t={t},v1={}", sig(body, &current, t));
    let signed_event =
        |body: &'static str| (signed(body.as_bytes(), NOW), Bytes::from_static(body.as_bytes()));

    let mut cases = vec![
        // Accepted: with the current secret, the previous one (rotation) and from the future (skew).
        case(signed(&event, NOW), event.clone()),
        case(
            format!("t={NOW},v1={}", sig(&event, &previous, NOW)),
            event.clone(),
        ),
        Case {
            reject_future: false,
            ..case(signed(&event, NOW + 1000), event.clone())
        },
        // Rejected, one case per reason.
        Case {
            header: vec![],
            ..case("", event.clone())
        },
        Case {
            header: vec![signed(&event, NOW), signed(&event, NOW)],
            ..case("", event.clone())
        },
        case("", event.clone()),
        case(format!("v1={}", sig(&event, &current, NOW)), event.clone()),
        case(format!("t,v1={}", sig(&event, &current, NOW)), event.clone()),
        case(format!("t={NOW},v1"), event.clone()),
        case(format!("t=1e9,v1={}", sig(&event, &current, NOW)), event.clone()),
        case(format!("t={},v1=00", "9".repeat(50)), event.clone()),
        case(format!("t={NOW},v1=caf\u{e9}"), event.clone()),
        case(
            format!("t={NOW},v0={}", sig(&event, &current, NOW)),
            event.clone(),
        ),
        case(signed(&event, NOW), event.slice(1..)),
        case(signed(&event, NOW - 1000), event.clone()),
        case(signed(&event, NOW + 1000), event.clone()),
        Case {
            limit: 100,
            ..case(signed(&event, NOW), event.clone())
        },
        Case {
            fails_midway: true,
            ..case(signed(&event, NOW), event.clone())
        },
    ];
    for body in [
        "{\"id\": oops}",
        "[1, 2]",
        r#"{"id":"evt_1","object":"v2.core.event","type":"x","created":1}"#,
        r#"{"id":"ch_1","object":"charge"}"#,
        r#"{"id":"evt_1","object":"event","type":"x","created":1}"#,
    ] {
        let (header, body) = signed_event(body);
        cases.push(case(header, body));
    }

    let mut seen = BTreeSet::new();
    let mut outputs = Vec::new();
    for case in &cases {
        let mut layer = StripeSignatureLayer::new(secrets())
            .clock(|| NOW)
            .tolerance(Duration::from_secs(300))
            .body_limit(case.limit);
        if case.reject_future {
            layer = layer.reject_future_timestamps();
        }
        outputs.push(format!("{layer:?}"));
        let service =
            ServiceBuilder::new()
                .layer(layer)
                .service_fn(|request: Request<VerifiedBody>| async move {
                    // (Not the request's own `Debug`: its headers carry the signature that was sent.)
                    let mut seen = vec![format!("{:?}", request.body())];
                    seen.extend(request.extensions().get::<Event>().map(|e| format!("{e:?}")));
                    seen.extend(request.extensions().get::<Verified>().map(|v| format!("{v:?}")));
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(seen.join("\n")))))
                });
        outputs.push(format!("{service:?}"));
        let mut request = Request::post("/webhook");
        for header in &case.header {
            request = request.header(STRIPE_SIGNATURE, header.as_bytes());
        }
        let body = if case.fails_midway {
            support::Chunks::split(&case.body[..400], 100).then_error()
        } else {
            support::Chunks::split(&case.body, 300)
        };
        let response = service.oneshot(request.body(body).unwrap()).await.unwrap();
        match response.extensions().get::<Error>() {
            Some(error) => {
                seen.insert(reason(error.kind()));
                outputs.push(format!("{error} {error:?} {:?}", error.kind()));
            }
            None => {
                assert!(response.status().is_success());
                seen.insert("accepted".into());
            }
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        outputs.push(String::from_utf8_lossy(&body).into_owned());
    }
    // The other public types that hold a secret or a verified payload.
    outputs.push(format!("{:?} {:?}", current, secrets()));
    outputs.push(format!("{:?}", Verifier::new(secrets())));
    outputs.push(format!("{:?}", StripeSignature::new((), secrets())));
    outputs.push(format!("{:?}", VerifiedPayload::new(event.clone())));

    let every_reason: BTreeSet<String> = [
        "accepted",
        "MissingHeader",
        "malformed_header/Repeated",
        "malformed_header/Empty",
        "malformed_header/MissingTimestamp",
        "malformed_header/BareTimestamp",
        "malformed_header/BareSignature",
        "malformed_header/InvalidTimestamp",
        "malformed_header/TimestampOutOfRange",
        "malformed_header/NonAsciiSignature",
        "NoV1Signature",
        "NoMatchingSignature",
        "TimestampTooOld",
        "TimestampTooNew",
        "PayloadTooLarge",
        "BodyRead",
        "not_an_event/Json",
        "not_an_event/NotAnObject",
        "not_an_event/ThinEvent",
        "not_an_event/NotAnEventObject",
        "not_an_event/MissingField",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(seen, every_reason, "every reason exercised");
    let _ = MalformedHeader::Empty; // (the variants are named in `every_reason`)

    let logs = capture.text();
    assert!(
        logs.lines().count() >= cases.len(),
        "one log line per request at least:\n{logs}"
    );
    outputs.push(logs);
    let everything = outputs.join("\n");

    let mut forbidden = Vec::new();
    for secret_text in [CURRENT, PREVIOUS] {
        forbidden.push(secret_text.to_string());
        forbidden.push(secret_text.trim_start_matches("whsec_").to_string());
    }
    for case in &cases {
        for secret in [&current, &previous] {
            for t in [NOW, NOW - 1000, NOW + 1000] {
                let expected = sig(&case.body, secret, t);
                forbidden.push(expected.to_uppercase());
                forbidden.push(expected);
            }
        }
    }
    for needle in &forbidden {
        assert!(
            !everything.contains(needle.as_str()),
            "{needle} leaked in:\n{everything}"
        );
    }
}
