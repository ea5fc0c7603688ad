//! The envelope reader against serde_json, on every body of the oracle vectors (the vendored subset, or
//! `STRIPE_ORACLE_VECTORS`) and on generated events of many sizes: same verdict on what is an event, same
//! fields, same `data.object` and `previous_attributes`.
// `support` and the fuzz targets' model both bring `tests/support/run.rs`.
#![allow(clippy::duplicate_mod)]

mod support;

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use std::io::BufRead;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value;
use tower_stripe_webhook::{ErrorKind, Event};

/// What serde_json says the envelope is, by the crate's documented rule (the fuzz targets' model).
fn expected(payload: &[u8]) -> Option<Value> {
    fuzz::expected_envelope(&serde_json::from_slice(payload).ok()?)
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Event(Value),
    /// An event whose `data.object` is not valid JSON: found when a handler deserializes it (the envelope
    /// reader skips `data.object` without validating it, by design).
    InvalidDataObject,
    NotAnEvent,
}

fn ours(payload: &Bytes) -> Verdict {
    let event = match Event::from_verified_payload(payload.clone()) {
        Ok(event) => event,
        Err(error) => {
            assert!(matches!(error.kind(), ErrorKind::NotAnEvent(_)), "{error:?}");
            return Verdict::NotAnEvent;
        }
    };
    match fuzz::event_json(&event) {
        Ok(fields) => Verdict::Event(fields),
        Err(_) => Verdict::InvalidDataObject,
    }
}

fn check(payload: &Bytes, what: &str) -> Verdict {
    // Values outside the envelope are validated when deserialized, not before: invalid UTF-8 in them does
    // not stop the envelope, so compare with serde_json's reading of the lossy text in that case (an
    // envelope field with invalid UTF-8 still differs, and fails this test).
    let want = expected(payload).or_else(|| {
        std::str::from_utf8(payload)
            .is_err()
            .then(|| expected(String::from_utf8_lossy(payload).as_bytes()))
            .flatten()
    });
    let got = ours(payload);
    match (&want, &got) {
        (Some(want), Verdict::Event(got)) => assert_eq!(got, want, "{what}"),
        (None, Verdict::NotAnEvent) => {}
        // serde_json refuses the whole payload because of something inside data.object.
        (None, Verdict::InvalidDataObject) => {}
        (Some(_), Verdict::InvalidDataObject) if std::str::from_utf8(payload).is_err() => {}
        _ => panic!("{what}: serde_json says {want:?}, we say {got:?}"),
    }
    got
}

#[test]
fn agrees_with_serde_json_on_every_oracle_body() {
    let path = std::env::var("STRIPE_ORACLE_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/oracle-subset.jsonl").into());
    let file = std::fs::File::open(&path).unwrap();
    let (mut events, mut others) = (0, 0);
    #[derive(serde::Deserialize)]
    struct Case {
        id: String,
        body_b64: String,
    }
    for line in std::io::BufReader::new(file).lines() {
        let case: Case = serde_json::from_str(&line.unwrap()).unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(&case.body_b64)
            .unwrap();
        match check(&Bytes::from(body), &case.id) {
            Verdict::Event(_) => events += 1,
            _ => others += 1,
        }
    }
    assert!(events > 0 && others > 0, "{events} events, {others} non-events");
}

#[test]
fn agrees_with_serde_json_on_generated_events_and_their_compact_forms() {
    for size in (440..3000).step_by(37).chain([8192, 65536, 300_000]) {
        let pretty = support::realistic_event(size);
        let compact: Value = serde_json::from_slice(&pretty).unwrap();
        let compact = Bytes::from(serde_json::to_vec(&compact).unwrap());
        let four_spaces = Bytes::from(
            String::from_utf8(pretty.to_vec())
                .unwrap()
                .replace("\n  ", "\n    "),
        );
        for payload in [pretty, compact, four_spaces] {
            assert!(matches!(
                check(&payload, &format!("size {size}")),
                Verdict::Event(_)
            ));
        }
    }
}
