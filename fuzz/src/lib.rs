//! What the fuzz targets share: an independent model of the `Stripe-Signature` grammar and of the
//! signature check (written the plain, allocating way, with `hmac` used directly), the case format the
//! targets read, and a body that delivers arbitrary chunks.
//!
//! The model is the specification the targets hold the crate to; it is deliberately simple so that a
//! disagreement points at the crate's fast code, not at the model.

use std::{
    collections::VecDeque,
    convert::Infallible,
    future::Future,
    pin::{pin, Pin},
    task::{Context, Poll, Waker},
};

use bytes::Bytes;
use hmac::{KeyInit, Mac};
use http_body::{Body, Frame, SizeHint};
use tower_stripe_webhook::{Error, ErrorKind, MalformedHeader, SignatureHeader, Verified};

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
    hex::encode(mac.finalize().into_bytes())
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
        let secrets: Vec<&str> = secrets
            .split(',')
            .filter(|s| tower_stripe_webhook::SigningSecret::new(s).is_ok())
            .take(4)
            .collect();
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

/// A request body that delivers the given chunks (or an error) one by one, with a size hint that may lie.
#[derive(Debug)]
pub struct Chunks {
    pub chunks: VecDeque<Result<Bytes, std::io::Error>>,
    pub size_hint: Option<u64>,
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
}

/// Polls a future that never waits to completion, without a runtime.
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The error type of services that never fail.
pub type Never = Infallible;
