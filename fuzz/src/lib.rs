//! The fuzz targets' properties, and what they share: an independent model of the `Stripe-Signature`
//! grammar and of the signature check (written the plain, allocating way, with `hmac` used directly),
//! the case format the targets read, and a body that delivers arbitrary chunks.
//!
//! The model is the specification the targets hold the crate to; it is deliberately simple so that a
//! disagreement points at the crate's fast code, not at the model. Each target is a function here
//! (`header_target`, `verify_target`, `envelope_target`, `layer_target`) so that the crate's
//! `cargo test` replays the regression inputs and the oracle-built seeds through the same properties
//! (`tests/fuzz_regressions.rs` includes this file).

use std::{
    collections::VecDeque,
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use hmac::{KeyInit, Mac};
use http_body::{Body, Frame, SizeHint};
use tower_stripe_webhook::{Error, ErrorKind, InvalidEvent, MalformedHeader, SignatureHeader, Verified};

/// How the model reads the first `t` value. The value is `None` when the digits do not fit: the crate is
/// exact to 128 bits (a magnitude up to `i128::MAX`) and calls longer values out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamp {
    /// Digits (with an optional sign) surrounded only by ASCII whitespace that both SDKs strip: the crate
    /// must read it, as this value.
    Must(Option<i128>),
    /// Digits surrounded by other Unicode whitespace: the crate reads it (as this value) only where both
    /// SDKs strip that character, and otherwise calls it invalid.
    May(Option<i128>),
    /// Anything else: invalid.
    Invalid,
}

/// What the model expects `SignatureHeader::parse` to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model<'a> {
    /// Parsed: the first `t` and every `v1` value in order.
    Parsed { t: i128, v1: Vec<&'a [u8]> },
    /// Rejected for this reason.
    Rejected(ErrorKind),
}

/// `,`-separated items as `(key, value)`; the value runs from the first `=` to the next `=`.
pub fn items(raw: &[u8]) -> Vec<(&[u8], Option<&[u8]>)> {
    raw.split(|&b| b == b',')
        .map(|item| {
            let mut parts = item.split(|&b| b == b'=');
            let key = parts.next().unwrap_or_default();
            (key, parts.next())
        })
        .collect()
}

/// The model of the first `t` value.
pub fn timestamp(value: &[u8]) -> Timestamp {
    let Ok(text) = std::str::from_utf8(value) else {
        return Timestamp::Invalid;
    };
    let ascii = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'));
    if let Some(value) = integer(ascii) {
        return Timestamp::Must(value);
    }
    match integer(text.trim()) {
        Some(value) => Timestamp::May(value),
        None => Timestamp::Invalid,
    }
}

/// `Some` for an optional sign and ASCII digits; then `None` inside when the magnitude overflows `i128`.
fn integer(text: &str) -> Option<Option<i128>> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: Option<i128> = digits.parse().ok();
    Some(magnitude.map(|m| if text.starts_with('-') { -m } else { m }))
}

/// What the header grammar says about `raw`, item by item, as the crate documents it. Whether the
/// whitespace around a [`Timestamp::May`] is stripped is the crate's call: `stripped` says what it did.
pub fn model_header(raw: &[u8], stripped: bool) -> Model<'_> {
    use Model::Rejected;
    if raw.is_empty() {
        return Rejected(ErrorKind::MalformedHeader(MalformedHeader::Empty));
    }
    let mut t = None;
    let mut v1 = Vec::new();
    for (key, value) in items(raw) {
        match (key, value) {
            (b"t", None) => return Rejected(ErrorKind::MalformedHeader(MalformedHeader::BareTimestamp)),
            (b"v1", None) => return Rejected(ErrorKind::MalformedHeader(MalformedHeader::BareSignature)),
            (b"t", Some(value)) if t.is_none() => {
                let read = match timestamp(value) {
                    Timestamp::Must(read) => read,
                    Timestamp::May(read) if stripped => read,
                    _ => return Rejected(ErrorKind::MalformedHeader(MalformedHeader::InvalidTimestamp)),
                };
                let Some(read) = read else {
                    return Rejected(ErrorKind::MalformedHeader(MalformedHeader::TimestampOutOfRange));
                };
                t = Some(read);
            }
            (b"v1", Some(value)) => v1.push(value),
            _ => {}
        }
    }
    match t {
        None => Rejected(ErrorKind::MalformedHeader(MalformedHeader::MissingTimestamp)),
        Some(_) if v1.is_empty() => Rejected(ErrorKind::NoV1Signature),
        Some(t) => Model::Parsed { t, v1 },
    }
}

/// Holds `SignatureHeader::parse(raw)` to the model; returns the model's timestamp and `v1` values when
/// it parsed.
pub fn check_header(raw: &[u8]) -> Option<(i128, Vec<&[u8]>)> {
    let got = SignatureHeader::parse(raw);
    // Stripping the whitespace around a `May` timestamp is the crate's call (it follows the SDKs);
    // the model then checks the value and everything else.
    let stripped = !matches!(
        &got,
        Err(error) if error.kind() == &ErrorKind::MalformedHeader(MalformedHeader::InvalidTimestamp)
    );
    let model = model_header(raw, stripped);
    match (&got, model) {
        (Ok(parsed), Model::Parsed { t, v1 }) => {
            let saturated = i64::try_from(t).unwrap_or(if t < 0 { i64::MIN } else { i64::MAX });
            assert_eq!(parsed.timestamp(), saturated, "timestamp of {raw:?}");
            assert_eq!(
                parsed.signatures().collect::<Vec<_>>(),
                v1,
                "v1 values of {raw:?}"
            );
            assert_eq!(parsed.signature_count(), v1.len());
            Some((t, v1))
        }
        (Err(error), Model::Rejected(kind)) => {
            assert_eq!(error.kind(), &kind, "rejection of {raw:?}");
            None
        }
        (got, model) => panic!("header {raw:?}: crate {got:?}, model {model:?}"),
    }
}

/// Lowercase hex HMAC-SHA256 of `"{t}.{body}"` under `secret`, computed from scratch.
pub fn signature(secret: &str, t: i128, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The verification settings of a case.
#[derive(Clone, Debug)]
pub struct Settings {
    pub now: i64,
    /// `None`: the age check is off.
    pub tolerance: Option<u64>,
    pub reject_future: bool,
}

/// What the model expects a verification to say: the index of the secret that matched, or the error.
pub fn verdict(
    secrets: &[&str],
    header_raw: &[u8],
    body: &[u8],
    settings: &Settings,
) -> Result<usize, ErrorKind> {
    let (t, v1) = match check_header(header_raw) {
        Some(parsed) => parsed,
        None => return Err(SignatureHeader::parse(header_raw).unwrap_err().kind().clone()),
    };
    let mut non_ascii = false;
    let mut matched = None;
    'secrets: for (index, secret) in secrets.iter().enumerate() {
        let expected = signature(secret, t, body);
        for candidate in &v1 {
            if *candidate == expected.as_bytes() {
                matched = Some(index);
                break 'secrets;
            }
            if !candidate.is_ascii() {
                non_ascii = true;
                continue 'secrets;
            }
        }
    }
    let Some(index) = matched else {
        return Err(if non_ascii {
            ErrorKind::MalformedHeader(MalformedHeader::NonAsciiSignature)
        } else {
            ErrorKind::NoMatchingSignature {
                signatures: v1.len(),
                secrets: secrets.len(),
            }
        });
    };
    let age = i128::from(settings.now) - t;
    if let Some(tolerance) = settings.tolerance {
        let limit = i128::from(tolerance);
        let saturate = |v: i128| u64::try_from(v).unwrap_or(u64::MAX);
        if age > limit {
            return Err(ErrorKind::TimestampTooOld {
                age: saturate(age),
                tolerance,
            });
        }
        if -age > limit && settings.reject_future {
            return Err(ErrorKind::TimestampTooNew {
                ahead: saturate(-age),
                tolerance,
            });
        }
    }
    Ok(index)
}

/// Holds a crate verdict to the model's.
pub fn check_verdict(
    got: &Result<Verified, Error>,
    want: &Result<usize, ErrorKind>,
    what: &dyn std::fmt::Debug,
) {
    match (got, want) {
        (Ok(verified), Ok(index)) => assert_eq!(verified.secret_index(), *index, "{what:?}"),
        (Err(error), Err(kind)) => assert_eq!(error.kind(), kind, "{what:?}"),
        _ => panic!("{what:?}: crate {got:?}, model {want:?}"),
    }
}

/// A fuzz case in a text format that the oracle vectors convert to (see `fuzz/seed.py`), so that the
/// corpus starts from real cases and the fuzzer mutates numbers, header and body alike:
///
/// ```text
/// whsec_a,whsec_b          secrets, comma-separated (invalid ones are dropped)
/// now tolerance flags n    decimal numbers; missing or unparsable ones default to 0
/// t=...,v1=#0,v1=...       the header; `#0`..`#2` become the signature of the body under that secret
/// {...}                    everything after the third newline is the body
/// ```
///
/// `#3` becomes the signature of the body under secret 0 at `t + 1`, `#4` that of the body without its
/// last byte: correct-looking signatures that must not verify. A negative tolerance turns the age check
/// off (`fuzz/seed.py` writes the SDKs' tolerance 0 as -1). `flags` bit 0 rejects future
/// timestamps, bit 1 also turns the age check off, bit 2 drops the
/// header, bit 3 sends it twice, bit 4 makes the layer verify only; `n` drives the layer's chunking and
/// limit.
#[derive(Clone, Debug)]
pub struct Case<'a> {
    pub secrets: Vec<&'a str>,
    pub settings: Settings,
    pub flags: u64,
    pub n: u64,
    pub header: Vec<u8>,
    pub body: &'a [u8],
}

impl<'a> Case<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let mut lines = data.splitn(4, |&b| b == b'\n');
        let secrets = std::str::from_utf8(lines.next()?).ok()?;
        let numbers = std::str::from_utf8(lines.next()?).ok()?;
        let header = lines.next()?;
        let body = lines.next().unwrap_or_default();
        // Invalid secrets dropped, and a secret given twice kept once (a set refuses duplicates).
        let mut unique: Vec<&str> = Vec::new();
        for secret in secrets.split(',') {
            if tower_stripe_webhook::SigningSecret::new(secret).is_ok() && !unique.contains(&secret) {
                unique.push(secret);
            }
        }
        let secrets: Vec<&str> = unique.into_iter().take(4).collect();
        if secrets.is_empty() {
            return None;
        }
        let mut numbers = numbers.split(' ');
        let mut next = || numbers.next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
        let (now, tolerance, flags, n) = (next(), next(), next() as u64, next() as u64);
        let tolerance = (tolerance >= 0 && flags & 2 == 0).then_some(tolerance as u64);
        let settings = Settings {
            now,
            tolerance,
            reject_future: flags & 1 != 0,
        };
        let header = substitute(header, &secrets, body);
        Some(Self {
            secrets,
            settings,
            flags,
            n,
            header,
            body,
        })
    }

    pub fn verifier(&self) -> tower_stripe_webhook::Verifier {
        let secrets = self
            .secrets
            .iter()
            .map(|s| tower_stripe_webhook::SigningSecret::new(s).expect("checked"));
        let secrets = tower_stripe_webhook::SigningSecrets::from_secrets(secrets).expect("not empty");
        let now = self.settings.now;
        let mut verifier = tower_stripe_webhook::Verifier::new(secrets).clock(move || now);
        verifier = match self.settings.tolerance {
            Some(tolerance) => verifier.tolerance(std::time::Duration::from_secs(tolerance)),
            None => verifier.insecure_skip_timestamp_check(),
        };
        if self.settings.reject_future {
            verifier = verifier.reject_future_timestamps();
        }
        verifier
    }
}

/// Replaces the `#k` markers of a header with signatures of the body (see [`Case`]).
fn substitute(header: &[u8], secrets: &[&str], body: &[u8]) -> Vec<u8> {
    if !header.contains(&b'#') {
        return header.to_vec();
    }
    let t = match model_header(header, true) {
        Model::Parsed { t, .. } => t,
        _ => 0,
    };
    let mut out = Vec::with_capacity(header.len() + 64);
    let mut rest = header;
    while let Some(at) = rest.iter().position(|&b| b == b'#') {
        out.extend_from_slice(&rest[..at]);
        let marker = rest.get(at + 1).copied();
        let signature = match marker {
            Some(k @ b'0'..=b'2') => secrets
                .get(usize::from(k - b'0'))
                .map(|secret| signature(secret, t, body)),
            Some(b'3') => Some(signature(secrets[0], t.saturating_add(1), body)),
            Some(b'4') => Some(signature(secrets[0], t, &body[..body.len().saturating_sub(1)])),
            _ => None,
        };
        match signature {
            Some(signature) => {
                out.extend_from_slice(signature.as_bytes());
                rest = &rest[at + 2..];
            }
            None => {
                out.push(b'#');
                rest = &rest[at + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

/// A request body that delivers the given chunks (or an error) one by one, with a size hint that may lie,
/// and that may say when it has ended (as hyper's body with a `Content-Length` does) or not.
#[derive(Debug)]
pub struct Chunks {
    pub chunks: VecDeque<Result<Bytes, std::io::Error>>,
    pub size_hint: Option<u64>,
    pub reports_end: bool,
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(self.chunks.pop_front().map(|chunk| chunk.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        self.size_hint.map(SizeHint::with_exact).unwrap_or_default()
    }

    fn is_end_stream(&self) -> bool {
        self.reports_end && self.chunks.is_empty()
    }
}

#[path = "../../tests/support/run.rs"]
mod run;
pub use run::run;

/// The `header` target: the `Stripe-Signature` parser on arbitrary bytes.
///
/// Properties: it never panics; it agrees with the model grammar on the verdict, the rejection reason,
/// the timestamp and every `v1` value in order; and it is deterministic.
pub fn header_target(data: &[u8]) {
    let first = check_header(data);
    // Parsing again gives the same header (the parser keeps no state between calls).
    let again = SignatureHeader::parse(data).ok();
    assert_eq!(first.is_some(), again.is_some());
}

/// The `verify` target: the whole verification with arbitrary secrets, settings, header and body (a
/// [`Case`]; the header's `#k` markers become real signatures, so accepting paths run too).
///
/// Properties: it never panics; the verdict, the rejection reason and the secret that matched are exactly
/// the model's, which computes the HMAC from scratch and compares `v1` values as plain bytes. So a header
/// verifies only if it carries the HMAC of this body, at its `t`, under a configured secret, within the
/// tolerance. What an accepted verification reports (age, timestamp, clock skew) is exact, whatever `t`
/// and `now` are.
pub fn verify_target(data: &[u8]) {
    let Some(case) = Case::parse(data) else { return };
    let verifier = case.verifier();
    let got = verifier.verify(&case.header, case.body);
    let want = verdict(&case.secrets, &case.header, case.body, &case.settings);
    check_verdict(&got, &want, &case);
    if let Ok(verified) = &got {
        let (t, _) = check_header(&case.header).expect("verified, so parsed");
        let age = i128::from(case.settings.now) - t;
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        assert_eq!(verified.age(), clamp(age));
        assert_eq!(verified.timestamp(), clamp(t));
        let skew = match case.settings.tolerance {
            Some(tolerance) if -age > i128::from(tolerance) => Some(u64::try_from(-age).unwrap_or(u64::MAX)),
            _ => None,
        };
        assert_eq!(verified.clock_skew(), skew);
    }
    // `verify_event` comes to the verdict of `verify` and then `Event::from_verified_payload`, error for
    // error, and to the same event.
    let body = Bytes::copy_from_slice(case.body);
    let together = verifier.verify_event(&case.header, body.clone());
    let apart = got.and_then(|verified| {
        Ok((
            tower_stripe_webhook::Event::from_verified_payload(body)?,
            verified,
        ))
    });
    match (&together, &apart) {
        (Ok((a, verified_a)), Ok((b, verified_b))) => {
            assert_eq!(event_json(a).ok(), event_json(b).ok());
            assert_eq!(
                (
                    verified_a.timestamp(),
                    verified_a.age(),
                    verified_a.secret_index()
                ),
                (
                    verified_b.timestamp(),
                    verified_b.age(),
                    verified_b.secret_index()
                )
            );
        }
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
        _ => panic!("verify_event: {together:?}; verify, then the event: {apart:?}"),
    }
}

/// serde_json's reading of an envelope, by the crate's documented rule (a JSON object with
/// `object: "event"`, string `id` and `type`, integer `created`, object `data.object`), in the shape of
/// [`event_json`]; or the reason it is not an event.
pub fn expected_event(value: &serde_json::Value) -> Result<serde_json::Value, InvalidEvent> {
    use serde_json::Value;
    let missing = InvalidEvent::MissingField;
    let envelope = value.as_object().ok_or(InvalidEvent::NotAnObject)?;
    let text = |key: &str| envelope.get(key).and_then(Value::as_str).map(str::to_owned);
    match text("object").as_deref() {
        Some("event") => {}
        Some("v2.core.event") => return Err(InvalidEvent::ThinEvent),
        Some(_) => return Err(InvalidEvent::NotAnEventObject),
        None => return Err(missing("object")),
    }
    let request = envelope.get("request");
    let id = text("id").ok_or(missing("id"))?;
    let event_type = text("type").ok_or(missing("type"))?;
    let created = envelope
        .get("created")
        .and_then(Value::as_i64)
        .ok_or(missing("created"))?;
    let data = envelope
        .get("data")
        .filter(|data| data.is_object())
        .ok_or(missing("data"))?;
    let object = data
        .get("object")
        .filter(|o| o.is_object())
        .ok_or(missing("data.object"))?;
    Ok(serde_json::json!({
        "id": id,
        "type": event_type,
        "created": created,
        "livemode": envelope.get("livemode").and_then(Value::as_bool).unwrap_or(false),
        "api_version": text("api_version"),
        "account": text("account"),
        "pending_webhooks": envelope.get("pending_webhooks").and_then(Value::as_u64),
        "request_id": request.and_then(|r| r.as_str().or_else(|| r.get("id")?.as_str())),
        "idempotency_key": request.and_then(|r| r.get("idempotency_key")?.as_str()),
        "object": object.clone(),
        "previous_attributes": data.get("previous_attributes").filter(|p| !p.is_null()),
    }))
}

/// serde_json's reading of a thin event notification, by the crate's documented rule (a JSON object with
/// `object: "v2.core.event"`, string `id` and `type`), in the shape of [`notification_json`]; or the
/// reason it is not one.
pub fn expected_notification(value: &serde_json::Value) -> Result<serde_json::Value, InvalidEvent> {
    use serde_json::Value;
    let missing = InvalidEvent::MissingField;
    let envelope = value.as_object().ok_or(InvalidEvent::NotAnObject)?;
    let text = |value: Option<&Value>, key: &str| value?.get(key)?.as_str().map(str::to_owned);
    match text(Some(value), "object").as_deref() {
        Some("v2.core.event") => {}
        Some("event") => return Err(InvalidEvent::SnapshotEvent),
        Some(_) => return Err(InvalidEvent::NotAnEventObject),
        None => return Err(missing("object")),
    }
    let id = text(Some(value), "id").ok_or(missing("id"))?;
    let event_type = text(Some(value), "type").ok_or(missing("type"))?;
    let object = |key: &str| envelope.get(key).filter(|v| v.is_object());
    let reason = object("reason").map(|reason| {
        let request = reason.get("request").filter(|r| r.is_object());
        serde_json::json!([
            text(Some(reason), "type"),
            text(request, "id"),
            text(request, "idempotency_key")
        ])
    });
    let related = object("related_object").map(|related| {
        serde_json::json!([
            text(Some(related), "id"),
            text(Some(related), "type"),
            text(Some(related), "url")
        ])
    });
    Ok(serde_json::json!({
        "id": id,
        "type": event_type,
        "created": text(Some(value), "created"),
        "livemode": envelope.get("livemode").and_then(Value::as_bool).unwrap_or(false),
        "context": text(Some(value), "context"),
        "reason": reason,
        "related_object": related,
    }))
}

/// What the crate read of a thin notification, in the shape of [`expected_notification`].
pub fn notification_json(notification: &tower_stripe_webhook::EventNotification) -> serde_json::Value {
    serde_json::json!({
        "id": notification.id(),
        "type": notification.event_type(),
        "created": notification.created(),
        "livemode": notification.livemode(),
        "context": notification.context(),
        "reason": notification.reason().map(|r| serde_json::json!([r.reason_type, r.request_id, r.idempotency_key])),
        "related_object": notification
            .related_object()
            .map(|r| serde_json::json!([r.id, r.object_type, r.url])),
    })
}

/// An independent model of the RFC 3339 reader: the date's days counted by walking years and months from
/// 1970 (the crate uses a closed formula), the fraction truncated to milliseconds.
pub fn model_rfc3339(text: &str) -> Option<i64> {
    let (date, rest) = text.split_at_checked(10)?;
    let [y, m, d]: [&str; 3] = date.split('-').collect::<Vec<_>>().try_into().ok()?;
    let digits = |s: &str, n: usize| {
        (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (year, month, day) = (digits(y, 4)?, digits(m, 2)?, digits(d, 2)?);
    let rest = rest.strip_prefix(['T', 't'])?;
    let (time, rest) = rest.split_at_checked(8)?;
    let [h, mi, s]: [&str; 3] = time.split(':').collect::<Vec<_>>().try_into().ok()?;
    let (hour, minute, second) = (digits(h, 2)?, digits(mi, 2)?, digits(s, 2)?);
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(rest) => {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let millis = format!("{:0<3}", &rest[..n.min(3)]).parse::<i64>().ok()?;
            (millis, &rest[n..])
        }
        None => (0, rest),
    };
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let (sign, hm) = zone.split_at_checked(1)?;
            let [oh, om]: [&str; 2] = hm.split(':').collect::<Vec<_>>().try_into().ok()?;
            let (oh, om) = (digits(oh, 2)?, digits(om, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            match sign {
                "+" => oh * 60 + om,
                "-" => -(oh * 60 + om),
                _ => return None,
            }
        }
    };
    let leap = |y: i64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = |y: i64, m: i64| {
        [
            31,
            if leap(y) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][(m - 1) as usize]
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut days = 0i64;
    if year >= 1970 {
        days += (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum::<i64>();
    } else {
        days -= (year..1970).map(|y| if leap(y) { 366 } else { 365 }).sum::<i64>();
    }
    days += (1..month).map(|m| month_days(year, m)).sum::<i64>() + day - 1;
    Some((((days * 24 + hour) * 60 + minute - offset) * 60 + second) * 1000 + fraction)
}

/// Whether serde_json's validating skip accepts `json` as one JSON value: the grammar, UTF-8, control
/// characters and escapes. It is laxer than a full `serde_json::Value` read in three ways only: no
/// nesting limit (`Value` stops at 128), numbers beyond `f64`'s range, and lone surrogate escapes.
pub fn skippable(json: &[u8]) -> bool {
    std::str::from_utf8(json).is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// The envelope property, shared by the `envelope` fuzz target, the property tests and the real-event
/// tests: on any bytes, `Event::from_verified_payload` never panics, and
/// - when serde_json reads the bytes as a `Value`, the event is exactly [`expected_event`] of it, field
///   for field, with `data.object` and `previous_attributes` as raw slices of the payload; or the
///   rejection has the reason [`expected_event`] gives;
/// - otherwise it is refused as not JSON, unless serde_json's skip accepts the bytes ([`skippable`]: one of
///   the three laxities, inside a value the envelope skips). An event read there is held only to the
///   slice checks above: no `Value` exists to compare its fields with.
///
/// The same for `EventNotification::from_verified_payload` against [`expected_notification`] (with
/// `created_unix_millis` against an independent model of RFC 3339), and `AnyEvent` reads each kind as
/// that kind's reader does. Returns the snapshot event it read.
pub fn check_envelope(data: &[u8]) -> Option<tower_stripe_webhook::Event> {
    let payload = Bytes::copy_from_slice(data);
    let got = tower_stripe_webhook::Event::from_verified_payload(payload.clone());
    let reason = |error: &Error| match error.kind() {
        ErrorKind::NotAnEvent(reason) => *reason,
        other => panic!("not an envelope error: {other:?}"),
    };
    if let Ok(event) = &got {
        for raw in [Some(event.data_object_raw()), event.previous_attributes_raw()]
            .into_iter()
            .flatten()
        {
            let start = raw.as_ptr() as usize - event.payload().as_ptr() as usize;
            assert_eq!(&payload[start..start + raw.len()], raw, "a slice of the payload");
        }
        assert_eq!(event.data_object_raw().first(), Some(&b'{'));
        assert_eq!(event.payload(), &payload);
    }
    let thin = tower_stripe_webhook::EventNotification::from_verified_payload(payload.clone());
    let any = tower_stripe_webhook::AnyEvent::from_verified_payload(payload.clone());
    if let Ok(notification) = &thin {
        assert_eq!(notification.payload(), &payload);
        if let Some(created) = notification.created() {
            assert_eq!(
                notification.created_unix_millis(),
                model_rfc3339(created),
                "{created:?}"
            );
        }
    }
    // Either kind reads as the kind-specific reader of its kind reads it.
    match (&any, &got, &thin) {
        (Ok(tower_stripe_webhook::AnyEvent::Snapshot(a)), Ok(b), _) => {
            assert_eq!(event_json(a).ok(), event_json(b).ok())
        }
        (Ok(tower_stripe_webhook::AnyEvent::Thin(a)), _, Ok(b)) => {
            assert_eq!(notification_json(a), notification_json(b))
        }
        (Err(a), Err(b), Err(c)) => {
            let (a, b, c) = (reason(a), reason(b), reason(c));
            assert!(a == b || a == c, "any {a:?}, snapshot {b:?}, thin {c:?}");
        }
        (any, got, thin) => panic!("any {any:?}, snapshot {got:?}, thin {thin:?}"),
    }
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(value) => {
            match (&thin, expected_notification(&value)) {
                (Ok(notification), Ok(want)) => assert_eq!(notification_json(notification), want),
                (Err(error), Err(want)) => assert_eq!(reason(error), want),
                (thin, want) => panic!(
                    "thin: crate {thin:?}, serde_json {want:?} on {:?}",
                    String::from_utf8_lossy(data)
                ),
            }
            let want = expected_event(&value);
            match (&got, want) {
                (Ok(event), Ok(want)) => {
                    assert_eq!(
                        event_json(event).expect("valid JSON"),
                        want,
                        "{:?}",
                        String::from_utf8_lossy(data)
                    )
                }
                (Err(error), Err(want)) => {
                    assert_eq!(reason(error), want, "{:?}", String::from_utf8_lossy(data))
                }
                (got, want) => panic!(
                    "crate: {got:?}, serde_json: {want:?} on {:?}",
                    String::from_utf8_lossy(data)
                ),
            }
        }
        Err(_) => {
            for outcome in [got.as_ref().map(drop), thin.as_ref().map(drop)] {
                match outcome {
                    Err(error) => assert!(
                        matches!(reason(error), InvalidEvent::Json { .. }) || skippable(data),
                        "serde_json refuses it; the crate says {error:?}"
                    ),
                    Ok(()) => assert!(
                        skippable(data),
                        "serde_json's skip refuses it, the crate read an event"
                    ),
                }
            }
        }
    }
    got.ok()
}

/// The `envelope` target: [`check_envelope`] on arbitrary bytes, and `Verifier::verify_event` on them
/// signed, which must come to the same event.
pub fn envelope_target(data: &[u8]) {
    use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    const NOW: i64 = 1_700_000_000;
    let event = check_envelope(data);
    let secret = SigningSecret::new("whsec_fuzz_envelope").expect("valid");
    let header = generate_test_header(data, &secret, Some(NOW));
    let verified = Verifier::new(secret)
        .clock(|| NOW)
        .verify_event(&header, Bytes::copy_from_slice(data));
    assert_eq!(
        verified.ok().map(|(event, _)| event_json(&event).ok()),
        event.map(|event| event_json(&event).ok())
    );
}

/// What the crate read: the event's fields, `data.object` and `previous_attributes` as serde_json values
/// (an error when either does not deserialize).
pub fn event_json(event: &tower_stripe_webhook::Event) -> Result<serde_json::Value, serde_json::Error> {
    Ok(serde_json::json!({
        "id": event.id(),
        "type": event.event_type(),
        "created": event.created(),
        "livemode": event.livemode(),
        "api_version": event.api_version(),
        "account": event.account(),
        "pending_webhooks": event.pending_webhooks(),
        "request_id": event.request_id(),
        "idempotency_key": event.idempotency_key(),
        "object": event.data_object::<serde_json::Value>()?,
        "previous_attributes": event.previous_attributes::<serde_json::Value>().transpose()?,
    }))
}

/// What the inner service of the `layer` target saw.
#[derive(Clone, Debug)]
struct Received {
    body: Bytes,
    event: bool,
    payload: bool,
    verified: bool,
}

/// The inner service of the `layer` target: records what it got in the response's extensions.
#[derive(Clone)]
struct Inner;

impl tower_service::Service<http::Request<tower_stripe_webhook::VerifiedBody>> for Inner {
    type Response = http::Response<Bytes>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<http::Response<Bytes>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tower_stripe_webhook::VerifiedBody>) -> Self::Future {
        use tower_stripe_webhook::{Event, VerifiedPayload};
        let (parts, body) = request.into_parts();
        let received = Received {
            body: body.into_bytes(),
            event: parts.extensions.get::<Event>().is_some(),
            payload: parts.extensions.get::<VerifiedPayload>().is_some(),
            verified: parts.extensions.get::<Verified>().is_some(),
        };
        let mut response = http::Response::new(Bytes::new());
        response.extensions_mut().insert(received);
        std::future::ready(Ok(response))
    }
}

/// xorshift64*: the `layer` target's chunking, from the case's `n`.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// The `layer` target: the verification case of [`verify_target`], sent through the layer with or
/// without a header, twice, with a `Content-Length` that is right, missing or lying either way, a size
/// hint, the body cut into arbitrary chunks (empty ones too), a stream error halfway, and a body limit
/// around the body's length (all from the case's `n` and flags).
///
/// Properties: it never panics and always answers; the inner service is called exactly when the
/// header, the limit, the stream, the signature (as the model computes it) and, unless verify-only, the
/// envelope all pass, and then it receives exactly the bytes that were sent, with the
/// `Event`/`VerifiedPayload` and `Verified` in the extensions; otherwise the answer is 413 for the limit
/// and 400 for everything else, with the reason the model expects attached.
pub fn layer_target(data: &[u8]) {
    use http::{header::CONTENT_LENGTH, HeaderValue, Request};
    use tower_layer::Layer;
    use tower_service::Service;
    use tower_stripe_webhook::{Event, StripeSignatureLayer, STRIPE_SIGNATURE};

    let Some(case) = Case::parse(data) else { return };
    let Ok(header) = HeaderValue::from_bytes(&case.header) else {
        return;
    };
    let body = Bytes::copy_from_slice(case.body);
    let n = case.n;
    let limit = (body.len() as i64 + (n & 0xff) as i64 - 128).max(0) as usize;
    let verify_only = case.flags & 16 != 0;

    // The frames the body delivers: `None` is a stream error.
    let mut rng = Rng(n >> 8 | 1);
    let mut frames: Vec<Option<Bytes>> = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let size = rng.below(body.len() / 3 + 2);
        frames.push(Some(body.slice(at..(at + size).min(body.len()))));
        at += size;
    }
    if n >> 43 & 1 == 1 {
        frames.insert(frames.len() / 2, None);
    }
    let chunks: VecDeque<_> = frames
        .iter()
        .map(|frame| {
            frame
                .clone()
                .ok_or_else(|| std::io::Error::other("connection reset"))
        })
        .collect();
    let declared_length = match n >> 40 & 3 {
        0 => None,
        1 => Some(body.len() as u64),
        2 => Some(body.len() as u64 / 2),
        _ => Some(body.len() as u64 + 1 + (n >> 48)),
    };
    let size_hint = (n >> 42 & 1 == 1).then_some(body.len() as u64);
    let reports_end = n >> 44 & 1 == 1;
    let mut request = Request::post("/webhook");
    if case.flags & 4 == 0 {
        request = request.header(STRIPE_SIGNATURE, header.clone());
        if case.flags & 8 != 0 {
            request = request.header(STRIPE_SIGNATURE, header.clone());
        }
    }
    if let Some(length) = declared_length {
        request = request.header(CONTENT_LENGTH, length);
    }
    let request = request
        .body(Chunks {
            chunks,
            size_hint,
            reports_end,
        })
        .expect("valid request");

    // The layer.
    let mut layer = StripeSignatureLayer::from_verifier(case.verifier()).body_limit(limit);
    if verify_only {
        layer = layer.verify_only();
    }
    let mut service = layer.layer(Inner);
    let response = run(async {
        std::future::poll_fn(|cx| Service::<Request<Chunks>>::poll_ready(&mut service, cx))
            .await
            .expect("infallible");
        service.call(request).await.expect("infallible")
    });

    // The model.
    let want: Result<(), ErrorKind> = (|| {
        if case.flags & 4 != 0 {
            return Err(ErrorKind::MissingHeader);
        }
        if case.flags & 8 != 0 {
            return Err(ErrorKind::MalformedHeader(MalformedHeader::Repeated));
        }
        if let Err(error) = SignatureHeader::parse(&case.header) {
            return Err(error.kind().clone());
        }
        let too_large = ErrorKind::PayloadTooLarge { limit: limit as u64 };
        if declared_length
            .into_iter()
            .chain(size_hint)
            .any(|declared| declared > limit as u64)
        {
            return Err(too_large);
        }
        let mut read = 0;
        for frame in &frames {
            match frame {
                Some(chunk) if read + chunk.len() > limit => return Err(too_large),
                Some(chunk) => read += chunk.len(),
                None => return Err(ErrorKind::BodyRead),
            }
        }
        verdict(&case.secrets, &case.header, &body, &case.settings)?;
        if !verify_only {
            Event::from_verified_payload(body.clone()).map_err(|error| error.kind().clone())?;
        }
        Ok(())
    })();

    let received = response.extensions().get::<Received>().cloned();
    let error = response.extensions().get::<Error>();
    match (&want, received, error) {
        (Ok(()), Some(received), None) => {
            assert_eq!(response.status(), 200);
            assert_eq!(
                received.body, body,
                "the inner service gets exactly the bytes sent"
            );
            assert!(received.verified);
            assert_eq!((received.event, received.payload), (!verify_only, verify_only));
        }
        (Err(kind), None, Some(error)) => {
            assert_eq!(error.kind(), kind);
            let status = if matches!(kind, ErrorKind::PayloadTooLarge { .. }) {
                413
            } else {
                400
            };
            assert_eq!(response.status(), status);
        }
        (want, received, error) => {
            panic!("model {want:?}, layer called inner: {received:?}, error {error:?}")
        }
    }
}
