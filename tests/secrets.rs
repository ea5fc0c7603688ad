//! No secret and no expected signature, anywhere the outside world or a log can see: every rejection
//! reason (and every accepted path) goes through the layer with all `tracing` output captured at TRACE,
//! and the logs, every rejection body, every error's `Display` and `Debug`, and the `Debug` of every
//! public type that holds a secret or a verified request are searched for them. And no configuration that
//! puts a secret where a label goes (issue 13) is accepted, so none can be logged as `secret_label`.
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

const LIVE: &str = "whsec_LIVEtopsecret0123456789abcdef";
const OLD: &str = "whsec_OLDtopsecret0123456789abcdef";

/// Signs one delivery with each secret of `secrets`, sends it through a layer with those secrets, and
/// returns everything that can be seen: the logs at TRACE, the responses and the `Debug` of the set.
async fn deliveries_with(secrets: SigningSecrets) -> String {
    let (capture, _guard) = support::Capture::start(tracing::Level::TRACE);
    let event = support::event_payload("invoice.paid", 300);
    let mut seen = vec![format!("{secrets:?}")];
    for secret in &secrets {
        let service = ServiceBuilder::new()
            .layer(StripeSignatureLayer::new(secrets.clone()).clock(|| NOW))
            .service_fn(|request: Request<VerifiedBody>| async move {
                let verified = request.extensions().get::<Verified>().cloned();
                Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(format!(
                    "{verified:?}"
                )))))
            });
        let header = format!("t={NOW},v1={}", compute_signature(&event, secret, NOW));
        let request = Request::post("/webhook")
            .header(STRIPE_SIGNATURE, header)
            .body(support::Chunks::split(&event, 300))
            .unwrap();
        let response = service.oneshot(request).await.unwrap();
        assert!(response.status().is_success());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        seen.push(String::from_utf8_lossy(&body).into_owned());
    }
    seen.push(capture.text());
    seen.join("\n")
}

/// Issue 13: a secret written where a label goes, or a list separated by `;`, was taken as a label and
/// logged with every verified delivery. Each such configuration is refused now, without the error showing
/// it; were one accepted, its deliveries would be verified and logged here, and searched for the secrets.
#[tokio::test]
async fn a_secret_never_becomes_a_logged_label() {
    let lists = [
        // The two strings of the review.
        format!("{LIVE};previous={OLD}"),
        format!("current={LIVE};previous={OLD}"),
        // A secret, an API key, on the left of `=`.
        format!("{LIVE}={OLD}"),
        format!("{}={OLD}", LIVE.to_uppercase()),
        format!("sk_live_{}={OLD}", &LIVE[6..]),
    ];
    let mut everything = Vec::new();
    let mut accepted = Vec::new();
    for list in &lists {
        match SigningSecrets::parse(list) {
            Err(error) => everything.push(format!("{error} {error:?}")),
            Ok(secrets) => {
                accepted.push(list.clone());
                everything.push(deliveries_with(secrets).await);
            }
        }
    }
    // In code, `with_label` cannot store one either: it panics (without showing it).
    let labelled = std::panic::catch_unwind(|| SigningSecret::new(OLD).unwrap().with_label(LIVE));
    match labelled {
        Err(panic) => everything.push(format!("{:?}", panic.downcast_ref::<String>())),
        Ok(secret) => {
            accepted.push(format!("with_label({LIVE})"));
            everything.push(deliveries_with(secret.into()).await);
        }
    }
    let everything = everything.join("\n");
    for needle in [LIVE, OLD, &LIVE[6..], &OLD[6..], "topsecret", "TOPSECRET"] {
        assert!(!everything.contains(needle), "{needle} leaked in:\n{everything}");
    }
    assert_eq!(accepted, Vec::<String>::new(), "accepted");

    for list in &lists[..2] {
        let error = SigningSecrets::parse(list).unwrap_err().to_string();
        assert!(
            error.contains("#1") && error.contains("separate secrets with commas or whitespace, not `;`"),
            "{error}"
        );
    }
}

#[test]
fn the_same_secret_or_label_twice_is_refused_naming_both() {
    for (list, items) in [
        (format!("{LIVE}, {OLD}, {LIVE}"), "#1 and #3"),
        (format!("current={LIVE} previous={OLD} old={OLD}"), "#2 and #3"),
        (
            format!("current={LIVE},previous={OLD},current={CURRENT}"),
            "#1 and #3",
        ),
    ] {
        let error = SigningSecrets::parse(&list)
            .map(|set| set.len())
            .expect_err(&list);
        assert!(error.to_string().contains(items), "{list}: {error}");
        assert!(!format!("{error} {error:?}").contains("topsecret"), "{error}");
    }
    let twice = [LIVE, OLD, LIVE].map(|secret| SigningSecret::new(secret).unwrap());
    let error = SigningSecrets::from_secrets(twice)
        .map(|set| set.len())
        .unwrap_err();
    assert!(error.to_string().contains("#1 and #3"), "{error}");
}

/// The quotes of a `.env` or docker-compose file left in the value: refused, with a hint.
#[test]
fn a_quoted_secret_is_refused_with_a_hint() {
    for list in [
        format!("\"{LIVE}\""),
        format!("'{LIVE}'"),
        format!("{LIVE}\""),
        format!("current=\"{LIVE}\",previous=\"{OLD}\""),
    ] {
        let error = SigningSecrets::parse(&list)
            .map(|set| set.len())
            .expect_err(&list);
        assert!(error.to_string().contains("quotes"), "{list}: {error}");
        assert!(!format!("{error} {error:?}").contains("topsecret"), "{error}");
    }
}

/// What `fn main() -> Result<(), Box<dyn Error>>` prints: the message, not a struct dump.
#[test]
fn an_error_returned_from_main_reads_as_its_message() {
    let name = "TOWER_STRIPE_WEBHOOK_TEST_SECRETS_FROM_MAIN";
    std::env::set_var(name, format!("current={LIVE};previous={OLD}"));
    let error: Box<dyn std::error::Error> = StripeSignatureLayer::from_env(name).unwrap_err().into();
    std::env::remove_var(name);
    let printed = format!("Error: {error:?}");
    assert_eq!(printed, format!("Error: {error}"));
    assert!(
        printed.starts_with(&format!("Error: ${name}: signing secret #1")),
        "{printed}"
    );
    assert!(!printed.contains("topsecret"), "{printed}");
}
