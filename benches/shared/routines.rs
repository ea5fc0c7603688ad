//! The routine behind each bench id, set up once per payload size (`verify.rs` times them).
//!
//! Ids (kept stable so runs can be compared): `hmac_baseline/{size}`, `verify/{size}`,
//! `verify_event/{size}`, `reject_unsigned/{size}`, `diagnose_within_budget/{size}`,
//! `diagnose_over_budget/{size}`, `verify_rotation/{size}`, `layer/{size}`,
//! `baseline_service/{size}`, `layer_idempotent/{size}`, and `adversarial/{kind}/{size}`. See
//! BENCHMARKS.md for the targets.

use std::{convert::Infallible, hint::black_box, time::Duration};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::Request;
use http_body_util::{BodyExt, Full};
use sha2::Sha256;
use tower::{ServiceBuilder, ServiceExt};
use tower_stripe_webhook::{
    Diagnose, IdempotencyLayer, MemoryStore, SigningSecret, SigningSecrets, StripeSignatureLayer,
    VerifiedBody, Verifier, IDEMPOTENT_REPLAYED, STRIPE_SIGNATURE,
};

use crate::support;

pub const SIZES: [usize; 4] = [512, 2048, 8192, 65536];

/// A bench routine: one call on a payload and its `Stripe-Signature` header.
type Routine = Box<dyn FnMut(&Bytes, &str)>;

/// One bench: its id, its payload size and the call to time, which owns what it needs.
pub struct Bench {
    pub id: &'static str,
    pub size: usize,
    pub call: Box<dyn FnMut()>,
}

/// Every id, in the order above, for every size of [`SIZES`]. Payloads are realistic Stripe events padded
/// to exactly `size` bytes (`support::realistic_event`).
pub fn all() -> Vec<Bench> {
    let mut benches = Vec::new();
    for size in SIZES {
        let payload = support::realistic_event(size);
        let header = support::sign(&payload);
        // Each size has routines of its own, which own their state.
        for (order, (id, mut routine)) in routines(size).into_iter().enumerate() {
            let (payload, header) = (payload.clone(), header.clone());
            let call = Box::new(move || routine(&payload, &header));
            benches.push((order, Bench { id, size, call }));
        }
    }
    // In the order of the ids, then of the sizes.
    benches.sort_by_key(|(order, bench)| (*order, bench.size));
    benches.into_iter().map(|(_, bench)| bench).collect()
}

fn routines(size: usize) -> [(&'static str, Routine); 10] {
    let verifier = Verifier::new(support::secret()).clock(|| support::NOW);
    let event_verifier = verifier.clone();
    let unsigned_verifier = verifier.clone();
    let forged = forged_body(size);
    // Diagnosis on: every forged request diagnosed (a budget no flood spends), or none (a spent budget).
    let diagnosing = verifier.clone().diagnose(Diagnose::new().per_second(u32::MAX));
    let spent = verifier.clone().diagnose(Diagnose::new().per_second(0));
    let (forged_for_diagnosis, forged_over_budget) = (forged.clone(), forged.clone());
    let old = SigningSecret::new("whsec_previous_secret_for_rotation").unwrap();
    let rotation = Verifier::new(SigningSecrets::new(old).and(support::secret())).clock(|| support::NOW);
    let keyed = Hmac::<Sha256>::new_from_slice(support::SECRET.as_bytes()).unwrap();
    // The floor: only the HMAC itself is measured, the timestamp text is made once.
    let timestamp = support::NOW.to_string();

    // The same handler alone (collecting the body itself) and behind the layer (which collected it), both
    // driven the same way: `oneshot` on the service (poll_ready, then call, then the response future).
    let handler = |request: Request<VerifiedBody>| async move {
        Ok::<_, Infallible>(http::Response::new(request.into_body().into_bytes().len()))
    };
    let mut layered = ServiceBuilder::new()
        .layer(StripeSignatureLayer::new(support::secret()).clock(|| support::NOW))
        .service_fn(handler);
    let mut baseline = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let body = request.into_body().collect().await.unwrap().to_bytes();
        Ok::<_, Infallible>(http::Response::new(body.len()))
    });
    // The same again with IdempotencyLayer on a MemoryStore inside: every call a new event, which it
    // claims and completes (see `distinct_events`).
    let mut idempotent = ServiceBuilder::new()
        .layer(StripeSignatureLayer::new(support::secret()).clock(|| support::NOW))
        .layer(IdempotencyLayer::new(MemoryStore::new()).retention(DISTINCT_RETENTION))
        .service_fn(handler);
    let events = distinct_events(size);
    let mut next = 0;
    let request = |payload: &Bytes, header: &str| {
        Request::post("/webhook")
            .header(STRIPE_SIGNATURE, header)
            .body(Full::new(payload.clone()))
            .unwrap()
    };

    let routines: [(&'static str, Routine); 10] = [
        (
            "hmac_baseline",
            Box::new(move |payload, _| {
                let mut mac = keyed.clone();
                mac.update(timestamp.as_bytes());
                mac.update(b".");
                mac.update(black_box(payload));
                black_box(mac.finalize().into_bytes());
            }),
        ),
        (
            "verify",
            Box::new(move |payload, header| {
                black_box(
                    verifier
                        .verify(black_box(header.as_bytes()), black_box(payload))
                        .unwrap(),
                );
            }),
        ),
        (
            "verify_event",
            Box::new(move |payload, header| {
                black_box(
                    event_verifier
                        .verify_event(black_box(header.as_bytes()), payload.clone())
                        .unwrap(),
                );
            }),
        ),
        (
            // A forged request: the body that made the old envelope reader quadratic (a `data` with many
            // `object` members and no newline), of the same size, under a well-formed header whose
            // signature is for another body. It must cost the header parse and one HMAC, nothing more.
            "reject_unsigned",
            Box::new(move |_, header| {
                let rejected = unsigned_verifier.verify_event(black_box(header.as_bytes()), forged.clone());
                black_box(rejected.is_err());
            }),
        ),
        (
            "diagnose_within_budget",
            Box::new(move |_, header| {
                let error =
                    diagnosing.verify_event(black_box(header.as_bytes()), forged_for_diagnosis.clone());
                black_box(error.err().and_then(|error| error.diagnosis().map(|d| d.code())));
            }),
        ),
        (
            "diagnose_over_budget",
            Box::new(move |_, header| {
                let error = spent.verify_event(black_box(header.as_bytes()), forged_over_budget.clone());
                black_box(error.err().and_then(|error| error.diagnosis().map(|d| d.code())));
            }),
        ),
        (
            "verify_rotation",
            Box::new(move |payload, header| {
                let verified = rotation
                    .verify(black_box(header.as_bytes()), black_box(payload))
                    .unwrap();
                assert_eq!(verified.secret_index(), 1);
                black_box(verified);
            }),
        ),
        (
            "layer",
            Box::new(move |payload, header| {
                let response =
                    support::run(ServiceExt::oneshot(&mut layered, request(payload, header))).unwrap();
                assert!(response.status().is_success());
                black_box(response);
            }),
        ),
        (
            "baseline_service",
            Box::new(move |payload, header| {
                let response =
                    support::run(ServiceExt::oneshot(&mut baseline, request(payload, header))).unwrap();
                black_box(response);
            }),
        ),
        (
            "layer_idempotent",
            Box::new(move |_, _| {
                let (payload, header) = &events[next];
                next = (next + 1) % events.len();
                let response =
                    support::run(ServiceExt::oneshot(&mut idempotent, request(payload, header))).unwrap();
                // The handler's 200, not a duplicate's.
                assert!(response.status().is_success());
                assert!(response.headers().get(IDEMPOTENT_REPLAYED).is_none());
                black_box(response);
            }),
        ),
    ];

    routines
}

/// How long `layer_idempotent`'s store keeps a handled event: shorter than a pass over its events (at
/// least 128 calls of several µs), so that each comes round again as a new event, never a duplicate.
const DISTINCT_RETENTION: Duration = Duration::from_millis(1);

/// `layer_idempotent`'s events: `size`-byte realistic events with distinct ids (numbered in place of
/// `Bench0000`), signed once, as many as fit in 8 MiB (between 128 and 4096). The routine cycles
/// through them, so that each call claims a key and completes it, like `layer`'s request made from a
/// signed payload; the store holds at most one pass of them, swept as claims go by.
fn distinct_events(size: usize) -> Vec<(Bytes, String)> {
    let payload = support::realistic_event(size);
    let id = b"evt_1QBench0000";
    let at = payload
        .windows(id.len())
        .position(|window| window == id)
        .expect("realistic_event's id")
        + "evt_1Q".len();
    (0..(8 << 20) / size.clamp(2048, 65536))
        .map(|n| {
            let mut body = payload.to_vec();
            body[at..at + 9].copy_from_slice(format!("{n:09}").as_bytes());
            let header = support::sign(&body);
            (Bytes::from(body), header)
        })
        .collect()
}

/// The body of `reject_unsigned`: `size` bytes of `"object":{},` inside `data`, on one line.
fn forged_body(size: usize) -> Bytes {
    let head = r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"#;
    Bytes::from(fill(head, r#""object":{},"#, r#""object":{}}}"#, size))
}

/// `head`, `unit` repeated, then `tail`, padded with spaces before `tail` to exactly `size` bytes.
fn fill(head: &str, unit: &str, tail: &str, size: usize) -> String {
    let mut body = String::with_capacity(size);
    body.push_str(head);
    while body.len() + unit.len() + tail.len() <= size {
        body.push_str(unit);
    }
    while body.len() + tail.len() < size {
        body.push(' ');
    }
    body.push_str(tail);
    body
}

/// The sizes of the `adversarial` group.
pub const ADVERSARIAL_SIZES: [usize; 2] = [65536, 1 << 20];

/// Makes a body of the given size.
type Make = fn(usize) -> String;

/// Signed bodies crafted to make a JSON reader slow, each next to a normal event of the same size (the
/// bench's id is the kind of body). Every call is `verify_event`, which must stay linear on all of them.
pub fn adversarial() -> Vec<Bench> {
    const EVENT: &str = r#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":"#;
    let kinds: [(&str, Make); 8] = [
        ("normal_event", |size| {
            String::from_utf8(support::realistic_event(size).to_vec()).unwrap()
        }),
        ("deep_nesting", |size| {
            let depth = (size - EVENT.len() - 8) / 2;
            let body = format!("{EVENT}{{\"a\":{}{}}}}}}}", "[".repeat(depth), "]".repeat(depth));
            format!("{body}{}", " ".repeat(size - body.len()))
        }),
        ("many_members", |size| {
            fill(&format!("{EVENT}{{"), r#""k":1,"#, r#""k":1}}}"#, size)
        }),
        ("many_short_strings", |size| {
            fill(&format!("{EVENT}{{\"a\":["), r#""a","#, r#""a"]}}}"#, size)
        }),
        ("long_escaped_string", |size| {
            fill(&format!("{EVENT}{{\"a\":\""), r#"\u00e9\n\"\\"#, r#""}}}"#, size)
        }),
        ("repeated_data_and_object", |size| {
            fill(
                r#"{"id":"evt_1","object":"event","type":"x","created":1,"#,
                r#""data":{"object":{},"object":{}},"#,
                r#""data":{"object":{}}}"#,
                size,
            )
        }),
        ("numbers", |size| {
            fill(&format!("{EVENT}{{\"a\":["), "-1.2345678e-10,", "0]}}}", size)
        }),
        ("whitespace", |size| {
            let body = format!("{EVENT}{{}}}}}}");
            let pad = " \t\r\n".repeat(size / 4 + 1);
            format!(
                "{}{}{}",
                &body[..body.len() - 2],
                &pad[..size - body.len()],
                &body[body.len() - 2..]
            )
        }),
    ];
    let verifier = Verifier::new(support::secret()).clock(|| support::NOW);
    let mut benches = Vec::new();
    for (kind, make) in kinds {
        for size in ADVERSARIAL_SIZES {
            let body = Bytes::from(make(size));
            assert_eq!(body.len(), size, "{kind}");
            let header = support::sign(&body);
            let verifier = verifier.clone();
            let call = Box::new(move || {
                let event = verifier.verify_event(black_box(header.as_bytes()), body.clone());
                black_box(event.ok());
            });
            benches.push(Bench { id: kind, size, call });
        }
    }
    benches
}
