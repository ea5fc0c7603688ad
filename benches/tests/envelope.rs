//! The envelope is exactly serde_json's reading of the same bytes (`fuzz::check_envelope`, the property
//! the `envelope` fuzz target holds): on every body of the oracle vectors, on the 307 real Stripe payloads
//! of `../shared/real-events/` as found and laid out again every way a serializer or a proxy writes JSON,
//! on generated events of many sizes, and on arbitrary events in arbitrary valid whitespace (proptest).
// `support` and the fuzz targets' model both bring `tests/support/run.rs`.
#![allow(clippy::duplicate_mod)]

#[path = "../../tests/support/mod.rs"]
mod support;

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use std::io::BufRead;
use tower_stripe_webhook::test_helpers::relayout;

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::Value;
use tower_stripe_webhook::InvalidEvent;

/// Every layout a payload is read in: as given, and its tokens laid out again the ways serializers,
/// editors and proxies write JSON (Stripe's own is `JSON.stringify(event, null, 2)`).
fn layouts(json: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let crlf = |bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes()
    };
    vec![
        ("as found", json.to_vec()),
        ("JSON.stringify(_, null, 2)", relayout(json, "  ", "\n", ": ")),
        ("compact", relayout(json, "", "", ":")),
        ("4 spaces", relayout(json, "    ", "\n", ": ")),
        ("tabs", relayout(json, "\t", "\n", ": ")),
        ("CRLF", crlf(relayout(json, "  ", "\n", ": "))),
        ("CR", relayout(json, " ", "\r", " :\t")),
        ("a space everywhere", relayout(json, " ", " ", " : ")),
    ]
}

#[test]
fn agrees_with_serde_json_on_every_oracle_body() {
    let path = std::env::var("STRIPE_ORACLE_VECTORS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/oracle-subset.jsonl"
        )
        .into()
    });
    let file = std::fs::File::open(&path).unwrap();
    let (mut events, mut others) = (0, 0);
    #[derive(serde::Deserialize)]
    struct Case {
        body_b64: String,
    }
    for line in std::io::BufReader::new(file).lines() {
        let case: Case = serde_json::from_str(&line.unwrap()).unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(&case.body_b64)
            .unwrap();
        match fuzz::check_envelope(&body) {
            Some(_) => events += 1,
            None => others += 1,
        }
    }
    assert!(events > 0 && others > 0, "{events} events, {others} non-events");
}

#[test]
fn every_real_stripe_payload_reads_as_serde_json_reads_it_in_every_layout() {
    let (mut events, mut refused) = (0, Vec::new());
    let all = support::real_events();
    let full = all.iter().filter(|(_, class, _)| class == "full").count();
    for (file, class, payload) in &all {
        let value: Value = serde_json::from_slice(payload).unwrap_or_else(|e| panic!("{file}: {e}"));
        let want = fuzz::expected_event(&value);
        for (layout, bytes) in layouts(payload) {
            // The layouts are whitespace-only rewrites: serde_json reads the same value from each.
            assert_eq!(
                serde_json::from_slice::<Value>(&bytes).unwrap(),
                value,
                "{file} {layout}"
            );
            let got = fuzz::check_envelope(&bytes);
            assert_eq!(got.is_some(), want.is_ok(), "{file} {layout}");
        }
        match (class.as_str(), want) {
            ("full", Ok(_)) => events += 1,
            ("thin", Err(reason)) => {
                assert!(
                    matches!(
                        reason,
                        InvalidEvent::ThinEvent | InvalidEvent::MissingField("object")
                    ),
                    "{file}: {reason:?}"
                );
                refused.push(file.clone());
            }
            ("edge-not-full", Err(_)) => refused.push(file.clone()),
            (class, want) => panic!("{file} ({class}): {want:?}"),
        }
    }
    // Every full payload is an event; the 12 thin and 6 incomplete ones are not.
    assert_eq!((events, refused.len()), (full, all.len() - full), "{refused:?}");
    assert!(full > 0 && !refused.is_empty());
}

/// The layouts the review found mis-read by the old fast path: `data.object` as `{}` on its key's line in
/// `JSON.stringify(event, null, 2)`, 4-space, tab and CRLF layouts, with members after it.
#[test]
fn an_empty_data_object_in_any_layout_keeps_every_member_after_it() {
    let event = br#"{"id":"evt_1","object":"event","type":"customer.updated","created":1,
        "data":{"object":{},"previous_attributes":{"email":null}},"livemode":true,"account":"acct_1",
        "request":{"id":"req_1","idempotency_key":null},"pending_webhooks":3}"#;
    for (layout, bytes) in layouts(event) {
        let read = fuzz::check_envelope(&bytes).unwrap_or_else(|| panic!("{layout}"));
        assert_eq!(read.data_object_raw(), b"{}", "{layout}");
        assert!(read.livemode(), "{layout}");
        assert_eq!(
            (read.account(), read.request_id()),
            (Some("acct_1"), Some("req_1")),
            "{layout}"
        );
        assert_eq!(
            read.previous_attributes::<Value>().unwrap().unwrap(),
            serde_json::json!({"email": null})
        );
    }
}

#[test]
fn agrees_with_serde_json_on_generated_events_in_every_layout() {
    for size in (440..3000).step_by(97).chain([8192, 65536, 300_000]) {
        let pretty = support::realistic_event(size);
        for (layout, bytes) in layouts(&pretty) {
            assert!(fuzz::check_envelope(&bytes).is_some(), "size {size}, {layout}");
        }
    }
}

/// A JSON value as a token tree, so that a test can write objects with repeated keys (which
/// `serde_json::Value` cannot hold) and any whitespace between tokens.
#[derive(Clone, Debug)]
enum Json {
    Scalar(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Writes the tree with `space()` between every two tokens.
    fn write(&self, out: &mut String, space: &mut impl FnMut() -> String) {
        match self {
            Self::Scalar(text) => out.push_str(text),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&space());
                    if i > 0 {
                        out.push(',');
                        out.push_str(&space());
                    }
                    item.write(out, space);
                }
                out.push_str(&space());
                out.push(']');
            }
            Self::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    out.push_str(&space());
                    if i > 0 {
                        out.push(',');
                        out.push_str(&space());
                    }
                    out.push_str(key);
                    out.push_str(&space());
                    out.push(':');
                    out.push_str(&space());
                    value.write(out, space);
                }
                out.push_str(&space());
                out.push('}');
            }
        }
    }
}

/// Scalars of every JSON type, strings with escapes among them, and the envelope's keys written plainly
/// or with escapes.
fn scalar() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("-0".to_owned()),
        Just("1.5".to_owned()),
        Just("1e3".to_owned()),
        Just("-42".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("9223372036854775808".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z_.]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just(r#""caf\u00e9 \"q\" \\ \/ \n""#.to_owned()),
        Just("\"event\"".to_owned()),
        Just("\"v2.core.event\"".to_owned()),
        Just("\"2022-02-15T00:27:45.330Z\"".to_owned()),
        Just("\"2024-02-29T23:59:60.123456789+05:30\"".to_owned()),
        Just("\"2023-02-29T00:00:00Z\"".to_owned()),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,4})?(Z|[+-][0-9]{2}:[0-9]{2})?"
            .prop_map(|s| format!("\"{s}\"")),
        Just("\"\u{1f600} \u{e9}\"".to_owned()),
    ]
    .prop_map(Json::Scalar)
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"id\""),
        Just("\"object\""),
        Just("\"type\""),
        Just("\"created\""),
        Just("\"livemode\""),
        Just("\"api_version\""),
        Just("\"account\""),
        Just("\"pending_webhooks\""),
        Just("\"request\""),
        Just("\"idempotency_key\""),
        Just("\"data\""),
        Just("\"previous_attributes\""),
        Just("\"context\""),
        Just("\"reason\""),
        Just("\"related_object\""),
        Just("\"url\""),
        Just("\"\\u0069d\""),
        Just("\"other\""),
        Just("\"\""),
    ]
    .prop_map(str::to_owned)
}

fn json() -> impl Strategy<Value = Json> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec((key(), inner), 0..7).prop_map(Json::Object),
        ]
    })
}

/// An event, snapshot or thin: the envelope's members, each of the right type or not, repeated or
/// missing, in any order, with any values among them.
fn event() -> impl Strategy<Value = Json> {
    let member = prop_oneof![
        Just(("\"object\"".to_owned(), Json::Scalar("\"event\"".to_owned()))),
        Just((
            "\"object\"".to_owned(),
            Json::Scalar("\"v2.core.event\"".to_owned())
        )),
        Just((
            "\"created\"".to_owned(),
            Json::Scalar("\"2024-09-17T06:20:52.246Z\"".to_owned())
        )),
        Just(("\"id\"".to_owned(), Json::Scalar("\"evt_1\"".to_owned()))),
        Just(("\"type\"".to_owned(), Json::Scalar("\"invoice.paid\"".to_owned()))),
        Just(("\"created\"".to_owned(), Json::Scalar("1700000000".to_owned()))),
        json().prop_map(|object| {
            let data = Json::Object(vec![("\"object\"".to_owned(), object)]);
            ("\"data\"".to_owned(), data)
        }),
        (json(), json()).prop_map(|(object, previous)| {
            let data = Json::Object(vec![
                ("\"object\"".to_owned(), object),
                ("\"previous_attributes\"".to_owned(), previous),
            ]);
            ("\"data\"".to_owned(), data)
        }),
        (key(), json()),
    ];
    prop::collection::vec(member, 0..14).prop_map(Json::Object)
}

/// Valid JSON whitespace, of every kind, or none.
fn spaces() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[ \t\r\n]{0,3}", 1..64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any event, in any valid whitespace, with repeated keys and fields of the wrong type: the crate's
    /// event, or its reason for refusing, is serde_json's reading of the same bytes.
    #[test]
    fn arbitrary_events_in_arbitrary_whitespace_read_as_serde_json_reads_them(
        event in event(),
        spaces in spaces(),
    ) {
        let mut next = spaces.iter().cycle();
        let mut space = || next.next().cloned().unwrap_or_default();
        let mut text = space();
        event.write(&mut text, &mut space);
        text.push_str(&space());
        prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{}", text);
        fuzz::check_envelope(text.as_bytes());
    }

    /// Arbitrary bytes around and inside an event, valid JSON or not: never a panic, and never an event
    /// where serde_json sees none.
    #[test]
    fn arbitrary_edits_of_an_event_never_read_as_another_event(
        at in 0usize..600,
        bytes in prop::collection::vec(any::<u8>(), 0..6),
    ) {
        let mut payload = support::realistic_event(600).to_vec();
        let at = at.min(payload.len());
        payload.splice(at..at, bytes);
        fuzz::check_envelope(&payload);
    }
}
