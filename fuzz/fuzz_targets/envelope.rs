//! The envelope reader on verified arbitrary bytes: the fuzzed body is signed and goes through
//! `Verifier::verify_event`, as the layer does it, so the reader really runs on it.
//!
//! Properties: it never panics; on a body that is valid JSON it agrees exactly with serde_json (same
//! verdict on what is an event, same fields, same `data.object` and `previous_attributes`); on any body it
//! accepts, the raw `data.object` is a slice of the payload starting with `{`, and the event shares the
//! payload's bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower_stripe_webhook::{generate_test_header, ErrorKind, SigningSecret, Verifier};

const NOW: i64 = 1_700_000_000;

/// serde_json's reading of the envelope, by the crate's documented rule.
fn expected(value: &Value) -> Option<Value> {
    let envelope = value.as_object()?;
    let text = |key: &str| envelope.get(key).and_then(Value::as_str).map(str::to_owned);
    if text("object").as_deref() != Some("event") {
        return None;
    }
    let request = envelope.get("request");
    Some(serde_json::json!({
        "id": text("id")?,
        "type": text("type")?,
        "created": envelope.get("created")?.as_i64()?,
        "livemode": envelope.get("livemode").and_then(Value::as_bool).unwrap_or(false),
        "api_version": text("api_version"),
        "account": text("account"),
        "pending_webhooks": envelope.get("pending_webhooks").and_then(Value::as_u64),
        "request_id": request.and_then(|r| r.as_str().or_else(|| r.get("id")?.as_str())),
        "idempotency_key": request.and_then(|r| r.get("idempotency_key")?.as_str()),
        "object": envelope.get("data")?.get("object").filter(|o| o.is_object())?.clone(),
        "previous_attributes": envelope.get("data")?.get("previous_attributes").filter(|p| !p.is_null()),
    }))
}

fuzz_target!(|data: &[u8]| {
    let secret = SigningSecret::new("whsec_fuzz_envelope").unwrap();
    let header = generate_test_header(data, &secret, Some(NOW));
    let payload = Bytes::copy_from_slice(data);
    let got = Verifier::new(secret)
        .clock(|| NOW)
        .verify_event(&header, payload.clone());
    let event = match got {
        Ok((event, _)) => {
            let raw = event.data_object_raw();
            assert_eq!(raw.first(), Some(&b'{'));
            let start = raw.as_ptr() as usize - event.payload().as_ptr() as usize;
            assert_eq!(&payload[start..start + raw.len()], raw);
            assert_eq!(event.payload(), &payload);
            Some(event)
        }
        Err(error) => {
            assert!(matches!(error.kind(), ErrorKind::NotAnEvent(_)), "{error:?}");
            None
        }
    };
    // Only bodies serde_json can read are compared: inside `data.object` and in fields the envelope does
    // not use, the reader skips values without validating them (documented), because a verified body is
    // Stripe's own JSON.
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let want = expected(&value);
    let got = event.map(|event| {
        serde_json::json!({
            "id": event.id(),
            "type": event.event_type(),
            "created": event.created(),
            "livemode": event.livemode(),
            "api_version": event.api_version(),
            "account": event.account(),
            "pending_webhooks": event.pending_webhooks(),
            "request_id": event.request_id(),
            "idempotency_key": event.idempotency_key(),
            "object": event.data_object::<Value>().expect("valid JSON, so data.object is"),
            "previous_attributes": event.previous_attributes::<Value>().map(|p| p.expect("valid JSON")),
        })
    });
    assert_eq!(got, want, "{:?}", String::from_utf8_lossy(data));
});
