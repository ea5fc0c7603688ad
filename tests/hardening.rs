//! Attacks an outsider would try, through a real hyper server on 127.0.0.1 and the public API: a keep-alive
//! connection after rejections, a secret passed where a variable's name goes, the wrong kind of event at a
//! thin route, edge dates in a thin `created`, and the laxities of serde_json's skip in every skipped
//! value. Every loop is bounded in count and in time.

mod support;

use std::{convert::Infallible, net::SocketAddr};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use support::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};
use tower_stripe_webhook::{
    generate_test_header, EventNotification, SigningSecret, SigningSecrets, StripeSignatureLayer,
    VerifiedBody, Verifier,
};

async fn serve_with(layer: StripeSignatureLayer) -> SocketAddr {
    support::serve(tower::ServiceBuilder::new().layer(layer).service_fn(
        |_: Request<VerifiedBody>| async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
    ))
    .await
}

/// Finding: at a thin route, every `not_an_event` rejection said "the payload is not a Stripe snapshot
/// event", and a snapshot event sent there was described as "not a Stripe snapshot event: it is a
/// snapshot event", the message an on-call engineer reads in the Dashboard's delivery log.
#[test]
fn a_rejection_at_a_thin_route_does_not_say_the_payload_is_not_a_snapshot_event() {
    let verifier = Verifier::new(secret()).clock(|| NOW);
    let snapshot =
        Bytes::from_static(br#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":{}}}"#);
    let error = verifier
        .verify_notification(sign(&snapshot).as_bytes(), snapshot.clone())
        .unwrap_err();
    assert_eq!(error.code(), "unexpected_snapshot_event");
    let message = error.to_string();
    assert!(!message.contains("not a Stripe snapshot event"), "{message}");

    let no_id = Bytes::from_static(br#"{"object":"v2.core.event","type":"x"}"#);
    let error = verifier
        .verify_notification(sign(&no_id).as_bytes(), no_id.clone())
        .unwrap_err();
    assert!(!error.to_string().contains("snapshot"), "{error}");
    // Where snapshot events are expected, the message still says so.
    let thin = Bytes::from_static(br#"{"id":"evt_1","object":"v2.core.event","type":"x"}"#);
    let error = verifier
        .verify_event(sign(&thin).as_bytes(), thin.clone())
        .unwrap_err();
    assert_eq!(error.code(), "unexpected_thin_event");
    assert!(error.to_string().contains("thin"), "{error}");
}

/// Finding: `from_env` is given a variable's name; given the secret itself by mistake
/// (`from_env(&std::env::var("STRIPE_WEBHOOK_SECRET")?)`), its error printed the secret:
/// "cannot read the signing secrets from $whsec_...: it is not set".
#[test]
fn from_env_given_a_secret_instead_of_a_name_does_not_print_it() {
    for value in [
        "whsec_live_0123456789abcdefREVIEW",
        "current=whsec_live_0123456789abcdefREVIEW",
        "sk_live_0123456789abcdefREVIEW",
    ] {
        let error = SigningSecrets::from_env(value).unwrap_err();
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("0123456789abcdefREVIEW"), "{text}");
        }
        let error = StripeSignatureLayer::from_env(value).unwrap_err();
        assert!(!error.to_string().contains("0123456789abcdefREVIEW"), "{error}");
    }
    // An ordinary name is still named.
    let error = SigningSecrets::from_env("REVIEW_SURELY_UNSET_VARIABLE").unwrap_err();
    assert!(
        error.to_string().contains("$REVIEW_SURELY_UNSET_VARIABLE"),
        "{error}"
    );
}

/// HTTP/1.1 keep-alive: a forged request read to its end, then a valid one on the same connection; and
/// the same after a refusal before reading (which must close).
#[tokio::test]
async fn keep_alive_after_a_rejection() {
    let addr = serve_with(layer().body_limit(64 * 1024)).await;
    let payload = support::realistic_event(2048);
    let forged = generate_test_header(&payload, &SigningSecret::new("whsec_other").unwrap(), Some(NOW));
    let head = |header: &str, len: usize| {
        format!(
            "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\nstripe-signature: {header}\r\ncontent-length: {len}\r\n\r\n"
        )
    };
    let mut wire = Vec::new();
    wire.extend_from_slice(head(&forged, payload.len()).as_bytes());
    wire.extend_from_slice(&payload);
    wire.extend_from_slice(head(&sign(&payload), payload.len()).as_bytes());
    wire.extend_from_slice(&payload);
    wire.extend_from_slice(b"GET /x HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    let text = timeout(WAIT, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&wire).await.unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    let statuses: Vec<_> = text.lines().filter(|line| line.starts_with("HTTP/1.1")).collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 400 Bad Request",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 400 Bad Request"
        ],
        "{text}"
    );

    // Refused before reading (declared over the limit): Connection: close, and nothing after it is served.
    let mut wire = head(&sign(&payload), 1 << 20).into_bytes();
    wire.extend_from_slice(&payload);
    let text = timeout(WAIT, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&wire).await.unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.to_ascii_lowercase().contains("connection: close"), "{text}");
}

/// `created_unix_millis` on edge dates, against Python's `datetime` (milliseconds truncated toward the
/// past), and no panic on odd input (the debug build has overflow checks).
#[test]
fn thin_created_edge_dates() {
    let millis = |created: &str| {
        let payload = format!(
            r#"{{"id":"e","object":"v2.core.event","type":"t","created":{}}}"#,
            serde_json::json!(created)
        );
        EventNotification::from_verified_payload(Bytes::from(payload))
            .unwrap()
            .created_unix_millis()
    };
    for (text, want) in [
        ("1600-02-29T12:00:00Z", -11_670_955_200_000),
        ("1900-02-28T23:59:59.999Z", -2_203_891_200_001),
        ("2100-03-01T00:00:00+14:00", 4_107_492_000_000),
        ("0001-01-01T00:00:00-12:00", -62_135_553_600_000),
        (
            "9999-12-31T23:59:59.9999999999999999999-23:59",
            253_402_387_139_999,
        ),
        ("2024-02-29T00:00:00.5+05:30", 1_709_145_000_500),
        ("1969-12-31T23:59:59.0005Z", -1000),
        ("2000-01-01T00:00:00.000001Z", 946_684_800_000),
    ] {
        assert_eq!(millis(text), Some(want), "{text}");
    }
    let long_fraction = format!("2022-02-15T00:27:45.{}Z", "9".repeat(100_000));
    assert_eq!(millis(&long_fraction), Some(1_644_884_865_999));
    for text in [
        "1900-02-29T00:00:00Z",
        "2022-02-15T00:27:45.٣Z",
        "2022-02-15T00:27:45+01:0٣",
        "2022-02-15T00:27:4５Z",
        "2022-02-15T00:27:45.",
        "2022-02-15T00:27:45+",
        "2022-02-15T00:27:45.330+01:00:00",
        "2022-02-15T00:27:45.330-1:00",
        "９９９９-12-31T23:59:59Z",
    ] {
        assert_eq!(millis(text), None, "{text}");
    }
}

/// SECURITY.md named `data.object` as where serde_json's skip is laxer than a `Value` read; it is every
/// value the envelope skips: an unknown member at the top level, in `request`, in a thin notification.
#[test]
fn the_skip_laxities_hold_for_every_skipped_value_not_only_data_object() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for extra in [r#""\ud800""#.to_owned(), "1e999".to_owned(), deep] {
        let payload = format!(
            r#"{{"id":"e","object":"event","type":"t","created":1,"data":{{"object":{{}}}},"unknown":{extra},"request":{{"x":{extra}}}}}"#
        );
        assert!(serde_json::from_str::<serde_json::Value>(&payload).is_err());
        assert!(tower_stripe_webhook::Event::from_verified_payload(Bytes::from(payload)).is_ok());
    }
}
