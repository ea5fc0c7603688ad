//! Every rejection reason, through the public API: its kind, its code, a message that helps, and no leak of
//! the secret or of the expected signature in `Display` or `Debug`.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use tower_stripe_webhook::{
    compute_signature, generate_test_header, Error, ErrorKind, Event, InvalidEvent, MalformedHeader,
    SigningSecret, Verifier, STRIPE_SIGNATURE,
};

const SECRET: &str = "whsec_TOPSECRETvalue0123456789";
const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"ping","created":1000,"data":{"object":{}}}"#;
const NOW: i64 = 1_000_000;

fn verifier() -> Verifier {
    Verifier::new(SigningSecret::new(SECRET).unwrap()).clock(|| NOW)
}

fn sig(t: i64) -> String {
    compute_signature(BODY, &SigningSecret::new(SECRET).unwrap(), t)
}

fn check(error: &Error, code: &str, says: &str) {
    assert_eq!(error.code(), code);
    let (display, debug) = (error.to_string(), format!("{error:?}"));
    assert!(display.contains(says), "{code}: {display:?} should say {says:?}");
    for text in [&display, &debug] {
        assert!(!text.contains("TOPSECRET"), "{code} leaks the secret: {text}");
        for t in [NOW, NOW - 10_000, NOW + 10_000] {
            assert!(
                !text.contains(&sig(t)),
                "{code} leaks an expected signature: {text}"
            );
        }
    }
}

#[test]
fn missing_header() {
    let error = verifier().verify_headers(&HeaderMap::new(), BODY).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::MissingHeader);
    assert!(error.is_signature_error());
    check(&error, "missing_header", "no Stripe-Signature header");
}

#[test]
fn malformed_headers() {
    let mut repeated = HeaderMap::new();
    let value = format!("t={NOW},v1={}", sig(NOW));
    repeated.append(STRIPE_SIGNATURE, value.parse().unwrap());
    repeated.append(STRIPE_SIGNATURE, value.parse().unwrap());
    let error = verifier().verify_headers(&repeated, BODY).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::MalformedHeader(MalformedHeader::Repeated)
    );
    check(&error, "malformed_header", "more than one");

    for (header, reason, says) in [
        (String::new(), MalformedHeader::Empty, "empty"),
        (
            format!("v1={}", sig(NOW)),
            MalformedHeader::MissingTimestamp,
            "no `t=`",
        ),
        (
            format!("t,v1={}", sig(NOW)),
            MalformedHeader::BareTimestamp,
            "`t` item without",
        ),
        (
            format!("t={NOW},v1"),
            MalformedHeader::BareSignature,
            "`v1` item without",
        ),
        (
            format!("t=1e6,v1={}", sig(NOW)),
            MalformedHeader::InvalidTimestamp,
            "not an integer",
        ),
        (
            format!("t={},v1=00", "9".repeat(60)),
            MalformedHeader::TimestampOutOfRange,
            "out of range",
        ),
        (
            format!("t={NOW},v1=ü,v1={}", sig(NOW)),
            MalformedHeader::NonAsciiSignature,
            "non-ASCII",
        ),
    ] {
        let error = verifier().verify(&header, BODY).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::MalformedHeader(reason), "{header}");
        check(&error, "malformed_header", says);
    }
}

#[test]
fn no_v1_signature() {
    let error = verifier()
        .verify(format!("t={NOW},v0={}", sig(NOW)), BODY)
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::NoV1Signature);
    check(&error, "no_v1_signature", "no v1 signature");
}

#[test]
fn no_matching_signature_says_raw_body_and_secret() {
    let header = format!("t={NOW},v1={},v1=00", sig(NOW));
    let error = verifier().verify(&header, b"{\"id\": \"evt_1\"}").unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::NoMatchingSignature {
            signatures: 2,
            secrets: 1
        }
    );
    check(&error, "no_matching_signature", "raw request body");
    check(&error, "no_matching_signature", "signing secret");
}

#[test]
fn timestamp_too_old() {
    let t = NOW - 10_000;
    let error = verifier()
        .verify(format!("t={t},v1={}", sig(t)), BODY)
        .unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::TimestampTooOld {
            age: 10_000,
            tolerance: 300
        }
    );
    check(&error, "timestamp_too_old", "10000 s old");
}

#[test]
fn timestamp_too_new_only_when_two_sided() {
    let t = NOW + 10_000;
    let header = format!("t={t},v1={}", sig(t));
    assert_eq!(
        verifier().verify(&header, BODY).unwrap().clock_skew(),
        Some(10_000)
    );
    let error = verifier()
        .tolerance(Duration::from_secs(60))
        .reject_future_timestamps()
        .verify(&header, BODY)
        .unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::TimestampTooNew {
            ahead: 10_000,
            tolerance: 60
        }
    );
    check(
        &error,
        "timestamp_too_new",
        "clock appears to be about 10000 s behind",
    );
}

#[test]
fn not_an_event_is_not_a_signature_error() {
    let secret = SigningSecret::new(SECRET).unwrap();
    let thin = Bytes::from_static(
        br#"{"id":"evt_1","object":"v2.core.event","type":"v1.x","created":"2025-01-01T00:00:00Z"}"#,
    );
    let header = generate_test_header(&thin, &secret, Some(NOW));
    let error = verifier().verify_event(&header, thin).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::NotAnEvent(InvalidEvent::ThinEvent));
    assert!(!error.is_signature_error());
    check(
        &error,
        "unexpected_thin_event",
        "a thin event destination is sending to",
    );

    // The reverse: a snapshot event at a route for thin notifications.
    let snapshot = Bytes::from_static(BODY);
    let header = generate_test_header(&snapshot, &secret, Some(NOW));
    let error = verifier().verify_notification(&header, snapshot).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::NotAnEvent(InvalidEvent::SnapshotEvent));
    assert!(!error.is_signature_error());
    check(
        &error,
        "unexpected_snapshot_event",
        "snapshot destination or webhook endpoint is sending to",
    );

    let text = Bytes::from_static(b"hello");
    let header = generate_test_header(&text, &secret, Some(NOW));
    let error = verifier().verify_event(&header, text).unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::NotAnEvent(InvalidEvent::Json { line: 1, column: 1 })
    ));
    assert!(
        std::error::Error::source(&error).is_some(),
        "the serde_json error is kept as the source"
    );
    check(&error, "not_an_event", "not valid JSON");
}

#[test]
fn accepted_event_and_record() {
    let header = format!("t={},v1={}", NOW - 5, sig(NOW - 5));
    let (event, verified) = verifier()
        .verify_event(&header, Bytes::from_static(BODY))
        .unwrap();
    assert_eq!((event.id(), event.event_type()), ("evt_1", "ping"));
    assert_eq!(
        (verified.timestamp(), verified.age(), verified.secret_index()),
        (NOW - 5, 5, 0)
    );
    // The event is parsed from the same bytes, not a copy.
    assert_eq!(event.payload().as_ptr(), BODY.as_ptr());
    let _ = Event::from_verified_payload(event.payload().clone()).unwrap();
}
