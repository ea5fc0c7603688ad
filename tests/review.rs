//! An independent review's attacks, through a real hyper server on 127.0.0.1 and on the public API.
//! Every loop is bounded in count and in time.

mod support;

use std::{
    convert::Infallible,
    net::SocketAddr,
    time::{Duration, Instant},
};

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
    generate_test_header, AnyEvent, EventNotification, SigningSecret, SigningSecrets, StripeSignatureLayer,
    VerifiedBody, Verifier,
};

async fn serve_with(layer: StripeSignatureLayer) -> SocketAddr {
    support::serve(tower::ServiceBuilder::new().layer(layer).service_fn(
        |_: Request<VerifiedBody>| async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
    ))
    .await
}

/// One raw HTTP/1.1 request on its own connection; the status line and the wall time to the response.
async fn timed(addr: SocketAddr, header: &str, body: &[u8]) -> (String, Duration) {
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\nstripe-signature: {header}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    let started = Instant::now();
    let response = timeout(WAIT, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .expect("answered in time");
    let status = response.lines().next().unwrap_or_default().to_owned();
    (status, started.elapsed())
}

fn fill(head: &str, unit: &str, tail: &str, size: usize) -> Vec<u8> {
    let mut body = String::with_capacity(size);
    body.push_str(head);
    while body.len() + unit.len() + tail.len() <= size {
        body.push_str(unit);
    }
    while body.len() + tail.len() < size {
        body.push(' ');
    }
    body.push_str(tail);
    body.into_bytes()
}

/// Crafted 1 MiB bodies, unsigned (a signature for other bytes) and signed, against a realistic event of
/// the same size: prints the wall time of each through a real server. Run with `--ignored --nocapture`
/// (in release mode for figures that mean anything).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
async fn probe_crafted_bodies_through_hyper() {
    const SIZE: usize = 1 << 20;
    let addr = serve_with(layer().body_limit(2 * SIZE)).await;
    let ev = r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":"#;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("realistic", support::realistic_event(SIZE).to_vec()),
        (
            "object_members_one_line",
            fill(
                r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"#,
                r#""object":{},"#,
                r#""object":{}}}"#,
                SIZE,
            ),
        ),
        (
            "object_members_one_per_line",
            fill(
                r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"#,
                "\n  \"object\": {},",
                "\n\"object\":{}}}",
                SIZE,
            ),
        ),
        ("deep_nesting_top", {
            let depth = (SIZE - 20) / 2;
            format!("{{\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }),
        ("deep_nesting_id", {
            let depth = (SIZE - 20) / 2;
            format!("{{\"id\":{}{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }),
        ("deep_objects_request", {
            let depth = (SIZE - 40) / 6;
            format!(
                "{{\"request\":{}1{}}}",
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            )
            .into_bytes()
        }),
        (
            "repeated_escaped_ids",
            fill(
                &format!("{ev}{{}}}},"),
                r#""\u0069d":"\u0065vt","#,
                r#""id":"e"}"#,
                SIZE,
            ),
        ),
        (
            "repeated_data",
            fill(
                r#"{"id":"evt_1","object":"event","type":"x","created":1,"#,
                r#""data":{"object":{"a":1},"previous_attributes":{}},"#,
                r#""data":{"object":{}}}"#,
                SIZE,
            ),
        ),
        (
            "long_escaped_id",
            fill(
                r#"{"object":"event","type":"x","created":1,"data":{"object":{}},"id":""#,
                r"\u00e9\n",
                r#""}"#,
                SIZE,
            ),
        ),
        ("garbage", vec![b'{'; SIZE]),
        ("invalid_utf8", {
            let mut body = support::realistic_event(SIZE).to_vec();
            body[SIZE - 10] = 0xff;
            body
        }),
    ];
    let other = SigningSecret::new("whsec_someone_else").unwrap();
    for (name, body) in &bodies {
        let forged = generate_test_header(body, &other, Some(NOW));
        let signed = sign(body);
        let mut unsigned_times = Vec::new();
        let mut signed_times = Vec::new();
        let mut statuses = (String::new(), String::new());
        for _ in 0..3 {
            let (status, elapsed) = timed(addr, &forged, body).await;
            statuses.0 = status;
            unsigned_times.push(elapsed);
            let (status, elapsed) = timed(addr, &signed, body).await;
            statuses.1 = status;
            signed_times.push(elapsed);
        }
        unsigned_times.sort();
        signed_times.sort();
        println!(
            "{name:28} unsigned {:>9.2?} ({})  signed {:>9.2?} ({})",
            unsigned_times[1], statuses.0, signed_times[1], statuses.1
        );
    }
}

/// The thin notification's fields, as the documented rule reads them from `serde_json::Value`.
fn expected_thin(value: &serde_json::Value) -> Option<serde_json::Value> {
    use serde_json::{json, Value};
    let object = value.as_object()?;
    if object.get("object")?.as_str()? != "v2.core.event" {
        return None;
    }
    let string = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let sub = |key: &str| value.get(key).filter(|v| v.is_object());
    Some(json!({
        "id": string(value.get("id"))?,
        "type": string(value.get("type"))?,
        "created": string(value.get("created")),
        "livemode": value.get("livemode").and_then(Value::as_bool).unwrap_or(false),
        "context": string(value.get("context")),
        "reason": sub("reason").map(|reason| {
            let request = reason.get("request").filter(|v| v.is_object());
            json!([string(reason.get("type")), string(request.and_then(|r| r.get("id"))),
                   string(request.and_then(|r| r.get("idempotency_key")))])
        }),
        "related_object": sub("related_object").map(|related| {
            json!([string(related.get("id")), string(related.get("type")), string(related.get("url"))])
        }),
    }))
}

fn thin_json(notification: &EventNotification) -> serde_json::Value {
    serde_json::json!({
        "id": notification.id(),
        "type": notification.event_type(),
        "created": notification.created(),
        "livemode": notification.livemode(),
        "context": notification.context(),
        "reason": notification.reason().map(|r| serde_json::json!([r.reason_type, r.request_id, r.idempotency_key])),
        "related_object": notification.related_object().map(|r| serde_json::json!([r.id, r.object_type, r.url])),
    })
}

fn check_thin(data: &[u8]) {
    let got = EventNotification::from_verified_payload(Bytes::copy_from_slice(data));
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(value) => match (expected_thin(&value), &got) {
            (Some(want), Ok(notification)) => {
                assert_eq!(thin_json(notification), want, "{}", String::from_utf8_lossy(data))
            }
            (None, Err(_)) => {}
            (want, got) => panic!("want {want:?}, got {got:?}: {}", String::from_utf8_lossy(data)),
        },
        Err(_) => assert!(got.is_err() || serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok()),
    }
}

#[test]
fn thin_notifications_read_as_serde_json_reads_them() {
    let mut payloads: Vec<Vec<u8>> = support::real_events().into_iter().map(|(_, _, p)| p).collect();
    for crafted in [
        r#"{"object":"event","object":"v2.core.event","id":"e","type":"t"}"#,
        r#"{"\u006fbject":"v2.core.event","\u0069d":"e\u00e9","type":"t","created":"2024-01-01T00:00:00Z","created":7}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","reason":{"type":"request","request":"req_1"}}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","reason":{"type":"r","request":{"id":"a"},"request":null}}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","reason":{"type":"r"},"reason":[1]}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","related_object":{"id":"x","id":null,"url":"\/v2"}}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","context":["acct"],"livemode":1}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","livemode":true,"livemode":"false"}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","data":{"object":5},"created":"x"}"#,
        r#"  {"object":"v2.core.event","id":"e","type":"t"}	"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","id":1}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","x":"\ud800"}"#,
        r#"{"object":"v2.core.event","id":"e","type":"t","x":1e999}"#,
        "\u{feff}{\"object\":\"v2.core.event\",\"id\":\"e\",\"type\":\"t\"}",
        r#"[{"object":"v2.core.event","id":"e","type":"t"}]"#,
    ] {
        payloads.push(crafted.as_bytes().to_vec());
    }
    for payload in &payloads {
        check_thin(payload);
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(payload) {
            check_thin(serde_json::to_string_pretty(&value).unwrap().as_bytes());
            check_thin(serde_json::to_string(&value).unwrap().as_bytes());
        }
    }
    // AnyEvent picks the kind by `object` alone, and agrees with the kind-specific readers.
    for payload in &payloads {
        let any = AnyEvent::from_verified_payload(Bytes::copy_from_slice(payload));
        let thin = EventNotification::from_verified_payload(Bytes::copy_from_slice(payload));
        if let Ok(AnyEvent::Thin(notification)) = &any {
            assert_eq!(thin_json(notification), thin_json(thin.as_ref().unwrap()));
        }
    }
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

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Slow bodies that announce a large length and send two 1-byte chunks: each makes the layer allocate its
/// 64 KiB preallocation while 2 bytes count against `max_buffered_bytes`. Prints RSS and whether a real
/// delivery still fits. Run with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
async fn probe_budget_against_preallocation() {
    const CONNECTIONS: usize = 200;
    const BUDGET: usize = 1 << 20;
    let addr = serve_with(layer().body_limit(BUDGET).max_buffered_bytes(BUDGET)).await;
    let payload = support::realistic_event(2048);
    let before = rss_kib();
    let started = Instant::now();
    let mut streams = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(raw_head(&payload, 1_000_000).as_bytes())
            .await
            .unwrap();
        stream.write_all(b"{").await.unwrap();
        streams.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for stream in &mut streams {
        stream.write_all(b"\"").await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = rss_kib();
    let (status, _) = timed(addr, &sign(&payload), &payload).await;
    println!(
        "{CONNECTIONS} slow bodies of 2 bytes each: RSS {before} KiB -> {during} KiB (+{} KiB) against a budget \
         of {} KiB; a delivery meanwhile: {status} ({:?})",
        during.saturating_sub(before),
        BUDGET / 1024,
        started.elapsed()
    );
    drop(streams);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The budget was given back: a delivery of the whole budget fits.
    let big = support::realistic_event(BUDGET - 1024);
    let (status, _) = timed(addr, &sign(&big), &big).await;
    println!(
        "after they went away, a {} byte delivery: {status}; RSS {} KiB",
        big.len(),
        rss_kib()
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

/// A timed routine of `probe_interleaved_min_times`.
type Routine<'a> = Box<dyn Fn() + 'a>;

/// Interleaved minimum times (each round runs one batch of every routine, so all sample the same moments
/// of a shared machine): a forged crafted body against a valid `verify` (one HMAC either way), and
/// `verify_event` against both. Run in release with `--ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check: run with --release --ignored --nocapture"]
fn probe_interleaved_min_times() {
    use std::hint::black_box;
    let verifier = Verifier::new(secret()).clock(|| NOW);
    let other = SigningSecret::new("whsec_someone_else").unwrap();
    for size in [2048usize, 8192, 65536, 1 << 20] {
        let event = support::realistic_event(size);
        let header = sign(&event);
        let forged_body = Bytes::from(fill(
            r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"#,
            r#""object":{},"#,
            r#""object":{}}}"#,
            size,
        ));
        let forged = generate_test_header(&forged_body, &other, Some(NOW));
        let short_strings = Bytes::from(fill(
            r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":{"a":["#,
            r#""a","#,
            r#""a"]}}}"#,
            size,
        ));
        let short_header = sign(&short_strings);
        let members = Bytes::from(fill(
            r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":{"#,
            r#""k":1,"#,
            r#""k":1}}}"#,
            size,
        ));
        let members_header = sign(&members);
        let routines: Vec<(&str, Routine<'_>)> = vec![
            (
                "verify",
                Box::new(|| drop(black_box(verifier.verify(header.as_bytes(), &event).unwrap()))),
            ),
            (
                "reject_unsigned",
                Box::new(|| {
                    black_box(
                        verifier
                            .verify_event(forged.as_bytes(), forged_body.clone())
                            .is_err(),
                    );
                }),
            ),
            (
                "verify_event",
                Box::new(|| {
                    drop(black_box(
                        verifier.verify_event(header.as_bytes(), event.clone()).unwrap(),
                    ))
                }),
            ),
            (
                "short_strings",
                Box::new(|| {
                    drop(black_box(
                        verifier
                            .verify_event(short_header.as_bytes(), short_strings.clone())
                            .unwrap(),
                    ))
                }),
            ),
            (
                "many_members",
                Box::new(|| {
                    drop(black_box(
                        verifier
                            .verify_event(members_header.as_bytes(), members.clone())
                            .unwrap(),
                    ))
                }),
            ),
        ];
        let iterations = (1 << 21) / size + 1;
        let mut best = vec![Duration::MAX; routines.len()];
        let deadline = Instant::now() + Duration::from_secs(6);
        let mut rounds = 0;
        while rounds < 200 && Instant::now() < deadline {
            for (i, (_, routine)) in routines.iter().enumerate() {
                let started = Instant::now();
                for _ in 0..iterations {
                    routine();
                }
                best[i] = best[i].min(started.elapsed() / iterations as u32);
            }
            rounds += 1;
        }
        let base = best[0].as_secs_f64();
        let line: Vec<String> = routines
            .iter()
            .zip(&best)
            .map(|((name, _), t)| format!("{name} {:.2?} ({:.2}x)", t, t.as_secs_f64() / base))
            .collect();
        println!("{size:>8} B, {rounds} rounds: {}", line.join(", "));
    }
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
