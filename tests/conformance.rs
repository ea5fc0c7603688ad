//! Conformance with Stripe's own SDKs.
//!
//! Runs every case of a JSONL file of verification vectors (schema: `../shared/oracle/README.md`) through the
//! crate and holds each verdict to the conformance contract:
//!
//! 1. where stripe-node and stripe-python agree, our verdict equals theirs, except for the deliberate
//!    differences;
//! 2. where they disagree, our verdict equals stripe-python's or is a rejection (our policy: python's
//!    grammar, stricter timestamps; see the crate docs);
//! 3. deliberate differences: `non_utf8_body` (we verify the bytes that arrived), refused input (a header
//!    value `http` refuses or a secret `SigningSecret` refuses counts as rejected), and at the event level a
//!    verified body that is not an event envelope is rejected.
//!
//! By default it runs the vendored subset `tests/vectors/oracle-subset.jsonl`; `STRIPE_ORACLE_VECTORS=<file>`
//! runs another file, `STRIPE_ORACLE_REPORT=<file>` writes one JSON line per case with our verdict.
//! It prints one line per class and a last line `N passed, M failed`, and fails if any case does.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::{BufRead, BufReader, Write as _},
    time::Duration,
};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use tower_stripe_webhook::{
    generate_test_header, Error, ErrorKind, Event, SigningSecret, SigningSecrets, Verifier, STRIPE_SIGNATURE,
};

mod support;

#[derive(Deserialize)]
struct Case {
    id: String,
    class: String,
    desc: String,
    secrets: Vec<String>,
    /// Raw JSON: some garbage headers hold lone surrogates, which no Rust string can.
    header: Option<Box<RawValue>>,
    body_b64: String,
    now: i64,
    tolerance: i64,
    node: Sdk,
    python: Sdk,
    disagree: bool,
}

#[derive(Deserialize)]
struct Sdk {
    ok: bool,
    event: SdkEvent,
}

#[derive(Deserialize)]
struct SdkEvent {
    ok: bool,
}

/// What the crate made of a case.
enum Ours {
    /// A secret or the header cannot be represented; counts as rejected.
    Refused(String),
    /// The signature-and-timestamp verdict, and the event verdict when the signature verified.
    Verdict(Result<(), Error>, Option<Result<(), Error>>),
    /// `verify_event` came to another verdict than `verify` followed by `Event::from_verified_payload`.
    Inconsistent(String),
}

fn run(case: &Case, body: &[u8]) -> Ours {
    let secrets: Result<Vec<_>, _> = case.secrets.iter().map(SigningSecret::new).collect();
    let secrets = match secrets.and_then(SigningSecrets::from_secrets) {
        Ok(secrets) => secrets,
        Err(error) => return Ours::Refused(format!("secret refused: {error}")),
    };
    let mut headers = HeaderMap::new();
    if let Some(raw) = &case.header {
        let Some(bytes) = decode_json_string(raw.get()) else {
            return Ours::Refused("header has a lone surrogate: not representable as bytes".into());
        };
        match HeaderValue::from_bytes(&bytes) {
            Ok(value) => headers.insert(STRIPE_SIGNATURE, value),
            Err(_) => return Ours::Refused("header value refused by http::HeaderValue".into()),
        };
    }
    let now = case.now;
    let verifier = Verifier::new(secrets).clock(move || now);
    let verifier = match u64::try_from(case.tolerance) {
        Ok(0) => verifier.insecure_skip_timestamp_check(),
        Ok(secs) => verifier.tolerance(Duration::from_secs(secs)),
        Err(_) => return Ours::Refused("negative tolerance".into()),
    };
    let signature = verifier.verify_headers(&headers, body).map(drop);
    let event = signature
        .is_ok()
        .then(|| Event::from_verified_payload(Bytes::copy_from_slice(body)).map(drop));
    // `verify_event` must come to the verdict of the two steps above, error for error.
    if let Some(value) = headers.get(STRIPE_SIGNATURE) {
        let together = verifier.verify_event(value.as_bytes(), Bytes::copy_from_slice(body));
        let together = together.err().map(|error| error.kind().clone());
        let apart = match (&signature, &event) {
            (Err(error), _) | (Ok(()), Some(Err(error))) => Some(error.kind().clone()),
            _ => None,
        };
        if together != apart {
            return Ours::Inconsistent(format!(
                "verify_event: {together:?}, verify then the event: {apart:?}"
            ));
        }
    }
    Ours::Verdict(signature, event)
}

/// Why a case passed, or why it failed.
fn judge(case: &Case, body: &[u8], ours: &Ours) -> Result<&'static str, String> {
    let (signature, event) = match ours {
        // Contract rule 3: refused input counts as rejected. Keep these rare.
        Ours::Refused(_) if !case.node.ok && !case.python.ok => return Ok("agree (input refused)"),
        Ours::Refused(_) => return Ok("refused-input"),
        Ours::Inconsistent(why) => return Err(why.clone()),
        Ours::Verdict(signature, event) => (signature, event),
    };
    let accepted = signature.is_ok();
    let non_utf8 = std::str::from_utf8(body).is_err();
    let signature_verdict = if !case.disagree {
        if accepted == case.node.ok {
            "agree"
        } else if accepted && non_utf8 {
            "deliberate: non_utf8_body"
        } else {
            return Err(format!(
                "node and python {} it, we {}: {}",
                verdict(case.node.ok),
                verdict(accepted),
                describe(signature)
            ));
        }
    } else if accepted == case.python.ok {
        "agree (python; node differs)"
    } else if !accepted {
        "stricter (node; python differs)"
    } else {
        // Our policy in a disagreement: python's verdict, or stricter. Accepting what python rejects
        // would need its own documented reason.
        return Err(format!(
            "SDKs disagree (node {}, python {}); we accept what python rejects",
            verdict(case.node.ok),
            verdict(case.python.ok)
        ));
    };
    // Event level, only where both SDKs and we accepted the signature.
    let (Some(event), true, true) = (event, case.node.ok, case.python.ok) else {
        return Ok(signature_verdict);
    };
    let (node_event, python_event) = (case.node.event.ok, case.python.event.ok);
    match event {
        Ok(()) if !node_event && !python_event => Err("both SDKs reject the event, we accept it".into()),
        Err(error) if node_event || python_event => match error.kind() {
            ErrorKind::NotAnEvent(_) => Ok(if node_event && python_event {
                "deliberate: not an event envelope"
            } else {
                signature_verdict
            }),
            _ => Err(format!("event rejected for a non-event reason: {error}")),
        },
        _ => Ok(signature_verdict),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "accept"
    } else {
        "reject"
    }
}

fn describe(result: &Result<(), Error>) -> String {
    match result {
        Ok(()) => "accepted".into(),
        Err(error) => error.code().into(),
    }
}

/// Decodes a JSON string literal to UTF-8 bytes; `None` if it holds a lone surrogate.
fn decode_json_string(raw: &str) -> Option<Vec<u8>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            if pending_high.is_some() {
                return None;
            }
            out.push(c);
            continue;
        }
        let escaped = chars.next()?;
        let unit = match escaped {
            'u' => u32::from_str_radix(&chars.by_ref().take(4).collect::<String>(), 16).ok()?,
            other => {
                if pending_high.is_some() {
                    return None;
                }
                out.push(match other {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    c => c, // '"', '\\', '/'
                });
                continue;
            }
        };
        match (pending_high.take(), unit) {
            (None, 0xD800..=0xDBFF) => pending_high = Some(unit),
            (Some(high), 0xDC00..=0xDFFF) => {
                out.push(char::from_u32(
                    0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00),
                )?);
            }
            (None, unit) => out.push(char::from_u32(unit)?),
            (Some(_), _) => return None,
        }
    }
    pending_high.is_none().then(|| out.into_bytes())
}

/// Thin notifications and snapshot events, signed with an oracle secret, through the three entry points
/// (`verify_event`, `verify_notification`, `verify_any_event`), held to the SDKs' shape checks where they
/// agree: a thin notification (`object: "v2.core.event"`) with string `id` and `type` is accepted by the
/// thin entry point (python also wants `created`; we follow node, go and .NET there, as the README's
/// policy table says) and refused by the snapshot one; a snapshot event is refused by the thin entry point;
/// a tampered body is refused by all three. Adds a class per kind of payload to `tally`, and a line per
/// failing case to `failures`.
fn kind_cases(secret: &str, now: i64, tally: &mut BTreeMap<String, Tally>, failures: &mut String) {
    let verifier = Verifier::new(SigningSecret::new(secret).unwrap()).clock(move || now);
    let code = |result: Result<(), Error>| result.map_err(|error| error.code());
    for (file, class, payload) in support::real_events() {
        let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let object = value.get("object").and_then(|v| v.as_str());
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).is_some();
        let header = generate_test_header(&payload, &SigningSecret::new(secret).unwrap(), Some(now));
        let body = Bytes::from(payload.clone());
        let snapshot = code(verifier.verify_event(&header, body.clone()).map(drop));
        let thin = code(verifier.verify_notification(&header, body.clone()).map(drop));
        let any = code(verifier.verify_any_event(&header, body.clone()).map(drop));
        let want_thin = match object {
            Some("v2.core.event") if text("id") && text("type") => Ok(()),
            Some("v2.core.event") => Err("not_an_event"),
            Some("event") => Err("unexpected_snapshot_event"),
            _ => Err("not_an_event"),
        };
        let want_snapshot = match object {
            Some("v2.core.event") => Err("unexpected_thin_event"),
            _ => code(Event::from_verified_payload(body.clone()).map(drop)),
        };
        let want_any = match object {
            Some("v2.core.event") => want_thin,
            _ => want_snapshot,
        };
        let mut tampered = payload.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x20;
        let tampered = Bytes::from(tampered);
        let forged = [
            code(verifier.verify_event(&header, tampered.clone()).map(drop)),
            code(verifier.verify_notification(&header, tampered.clone()).map(drop)),
            code(verifier.verify_any_event(&header, tampered).map(drop)),
        ];
        let class = format!("real_events_{class}");
        let entry = tally.entry(class.clone()).or_default();
        entry.cases += 1;
        if (snapshot, thin, any) == (want_snapshot, want_thin, want_any)
            && forged
                .iter()
                .all(|verdict| *verdict == Err("no_matching_signature"))
        {
            *entry.reasons.entry("agree (kind checks)").or_default() += 1;
        } else {
            entry.failed += 1;
            let _ = writeln!(
                failures,
                "FAIL {file} [{class}]: snapshot {snapshot:?} (want {want_snapshot:?}), thin {thin:?} \
                 (want {want_thin:?}), any {any:?} (want {want_any:?}), tampered {forged:?}"
            );
        }
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    failed: usize,
    reasons: BTreeMap<&'static str, usize>,
}

fn main() {
    let path = std::env::var("STRIPE_ORACLE_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/oracle-subset.jsonl").into());
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    let mut report = std::env::var_os("STRIPE_ORACLE_REPORT")
        .map(|path| std::io::BufWriter::new(std::fs::File::create(path).expect("create the report file")));
    println!("conformance: {path}");

    let mut classes: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = String::new();
    let mut kind_secret = None;
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.expect("read a line");
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(&line).unwrap_or_else(|e| panic!("line {}: {e}", number + 1));
        let body = base64::engine::general_purpose::STANDARD
            .decode(&case.body_b64)
            .expect("body_b64 is base64");
        if kind_secret.is_none() {
            kind_secret = case
                .secrets
                .iter()
                .find(|secret| SigningSecret::new(secret.as_str()).is_ok())
                .map(|secret| (secret.clone(), case.now));
        }
        let ours = run(&case, &body);
        if let Some(report) = &mut report {
            let (verdict, reason) = match &ours {
                Ours::Refused(why) => ("refused", why.clone()),
                Ours::Inconsistent(why) => ("inconsistent", why.clone()),
                Ours::Verdict(Ok(()), _) => ("accepted", "verified".into()),
                Ours::Verdict(Err(error), _) => ("rejected", error.code().into()),
            };
            let entry = serde_json::json!({ "id": case.id, "verdict": verdict, "reason": reason });
            writeln!(report, "{entry}").expect("write the report");
        }
        let tally = classes.entry(case.class.clone()).or_default();
        tally.cases += 1;
        match judge(&case, &body, &ours) {
            Ok(reason) => *tally.reasons.entry(reason).or_default() += 1,
            Err(why) => {
                tally.failed += 1;
                let _ = writeln!(failures, "FAIL {} [{}] {}: {why}", case.id, case.class, case.desc);
            }
        }
    }
    if let Some(mut report) = report {
        report.flush().expect("flush the report");
    }
    let (secret, now) = kind_secret.expect("an oracle case with a valid secret");
    kind_cases(&secret, now, &mut classes, &mut failures);

    let (mut passed, mut failed) = (0, 0);
    for (class, tally) in &classes {
        let reasons: Vec<String> = tally.reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        println!(
            "{class:<28} {:>4} cases, {:>4} passed ({}), {} failed",
            tally.cases,
            tally.cases - tally.failed,
            reasons.join(", "),
            tally.failed
        );
        passed += tally.cases - tally.failed;
        failed += tally.failed;
    }
    print!("{failures}");
    println!("{passed} passed, {failed} failed");
    assert!(passed > 0, "no case was run");
    if failed > 0 {
        std::process::exit(1);
    }
}
