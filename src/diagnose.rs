//! Saying why a delivery's signature did not match: [`Diagnose`] (the opt-in configuration and its
//! budget) and the [`Diagnosis`] it puts in the error.
//!
//! Only on the failure path, when no configured secret matched: the body is transformed the ways the
//! usual culprits transform it (newlines converted, a byte-order mark, a final newline, surrounding
//! whitespace, JSON laid out again, non-ASCII characters escaped or unescaped), and the signature is
//! checked again under each transformation and under secrets configured for diagnosis only. A match is a
//! proof of the cause. Otherwise the body itself may still tell (not JSON, compact or keys reordered:
//! likely re-serialized). A diagnosis names a cause and, for a diagnostic secret, its label: never a
//! secret, an expected signature or anything of the body.

use std::{
    fmt::{self, Write as _},
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use crate::{header::SignatureHeader, secret::SigningSecret, verify::matches_any, SigningSecrets};

/// The most signature checks one diagnosis makes (transformations × secrets, plus diagnostic secrets).
const MAX_CHECKS: usize = 48;

/// Opt-in diagnosis of `no_matching_signature` rejections, for [`Verifier::diagnose`](crate::Verifier::diagnose)
/// and [`StripeSignatureLayer::diagnose`](crate::StripeSignatureLayer::diagnose).
///
/// Each diagnosis checks the signature again under a bounded number of transformations of the body (at
/// most 48 HMACs), and a budget shared by every request of the verifier or layer bounds how many
/// diagnoses run (a token bucket: by default 5 per second, in bursts of up to 5), so that a flood of
/// forged requests costs no more than without diagnosis once the budget is spent.
///
/// ```
/// use tower_stripe_webhook::{Diagnose, SigningSecret};
///
/// let diagnose = Diagnose::new()
///     // Never accepts a delivery; only explains one signed with it.
///     .with_secret(SigningSecret::new("whsec_test_mode_secret")?.with_label("test-mode"))
///     .per_second(2)
///     .in_response();
/// # let _ = diagnose;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct Diagnose {
    secrets: Vec<SigningSecret>,
    per_second: f64,
    burst: f64,
    in_response: bool,
    bucket: Arc<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Default for Diagnose {
    fn default() -> Self {
        Self::new()
    }
}

impl Diagnose {
    /// Diagnosis on, with no diagnostic secret, a budget of 5 diagnoses per second in bursts of up to 5,
    /// and the diagnosis kept out of rejection bodies.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, Cause, DefaultRejection, Diagnose, RejectionResponse, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// // Stripe signed a final newline that the body lost on the way.
    /// let header = generate_test_header(b"{}\n", &secret, None);
    /// let error = Verifier::new(secret).diagnose(Diagnose::new()).verify(&header, b"{}").unwrap_err();
    /// assert_eq!(error.diagnosis().map(|d| d.cause()), Some(Cause::TrailingNewline));
    /// // By default the diagnosis stays in your logs, out of the rejection body the sender sees.
    /// let body = DefaultRejection::default().response(&error).into_body();
    /// assert!(!String::from_utf8_lossy(&body).contains("trailing_newline"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Self {
        Self {
            secrets: Vec::new(),
            per_second: 5.0,
            burst: 5.0,
            in_response: false,
            bucket: Arc::new(Mutex::new(Bucket {
                tokens: 5.0,
                last: Instant::now(),
            })),
        }
    }

    /// A secret for diagnosis only (label it: the label is what the diagnosis names), such as the
    /// test-mode secret on a live endpoint, or another endpoint's. It never accepts a delivery.
    ///
    /// ```
    /// # use tower_stripe_webhook::{Diagnose, SigningSecret};
    /// let diagnose = Diagnose::new().with_secret(SigningSecret::new("whsec_cli")?.with_label("stripe-cli"));
    /// # let _ = diagnose;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_secret(mut self, secret: SigningSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// The budget: at most `per_second` diagnoses per second on average, in bursts of as many. `0`
    /// turns diagnosis off while keeping the configuration.
    ///
    /// ```
    /// # use tower_stripe_webhook::Diagnose;
    /// let diagnose = Diagnose::new().per_second(1);
    /// # let _ = diagnose;
    /// ```
    pub fn per_second(self, per_second: u32) -> Self {
        let rate = f64::from(per_second);
        Self {
            per_second: rate,
            burst: rate,
            bucket: Arc::new(Mutex::new(Bucket {
                tokens: rate,
                last: Instant::now(),
            })),
            ..self
        }
    }

    /// Puts the diagnosis in the body of the default rejection response too, which the Stripe Dashboard
    /// shows beside a failed delivery. It names a cause, never a secret or a signature.
    ///
    /// ```
    /// # use tower_stripe_webhook::Diagnose;
    /// let diagnose = Diagnose::new().in_response();
    /// # let _ = diagnose;
    /// ```
    pub fn in_response(mut self) -> Self {
        self.in_response = true;
        self
    }

    /// Takes one diagnosis from the budget, if there is one left.
    fn take(&self) -> bool {
        let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let refill = now.duration_since(bucket.last).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Why `payload` did not verify under `secrets` with `header`, within the budget.
    pub(crate) fn run(
        &self,
        header: &SignatureHeader<'_>,
        payload: &[u8],
        secrets: &SigningSecrets,
    ) -> Option<Diagnosis> {
        if !self.take() {
            return None;
        }
        let diagnosis = |cause, secret_label| Diagnosis {
            cause,
            secret_label,
            body_len: payload.len(),
            in_response: self.in_response,
        };
        // Secrets configured for diagnosis first: one HMAC each over the body as it came.
        for secret in &self.secrets {
            if matches_any(header, payload, secret) {
                return Some(diagnosis(Cause::DiagnosticSecret, secret.label().map(Arc::from)));
            }
        }
        // Then each transformation, made only when the one before it did not match: at most one copy of
        // the body at a time, and no more than MAX_CHECKS HMACs in all.
        let is_json = is_json(payload);
        let mut checks = self.secrets.len();
        let found = undo_transformations(payload, is_json, |body| {
            secrets.iter().any(|secret| {
                checks += 1;
                checks <= MAX_CHECKS && matches_any(header, body, secret)
            })
        });
        Some(diagnosis(
            found.unwrap_or_else(|| likely_cause(payload, is_json)),
            None,
        ))
    }
}

impl fmt::Debug for Diagnose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnose")
            .field("secrets", &self.secrets)
            .field("per_second", &self.per_second)
            .field("in_response", &self.in_response)
            .finish_non_exhaustive()
    }
}

/// What a diagnosis found: a proven cause (the signature matches the body as transformed, or under a
/// diagnostic secret), or a likely one.
///
/// ```
/// # use tower_stripe_webhook::{generate_test_header, Cause, Diagnose, SigningSecret, Verifier};
/// let secret = SigningSecret::new("whsec_example")?;
/// let header = generate_test_header(br#"{"id":"evt_1"}"#, &secret, None);
/// let verifier = Verifier::new(secret).diagnose(Diagnose::new());
/// // Something added whitespace around the body after Stripe signed it.
/// let error = verifier.verify(&header, br#" {"id":"evt_1"} "#).unwrap_err();
/// let cause = error.diagnosis().expect("diagnosed").cause();
/// assert_eq!(cause, Cause::WhitespaceTrimmed);
/// assert!(cause.is_proven());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// Proven: newlines were converted (LF to CRLF or back) after Stripe signed the body.
    LineEndings,
    /// Proven: a byte-order mark was added or removed.
    ByteOrderMark,
    /// Proven: a final newline was added or removed.
    TrailingNewline,
    /// Proven: whitespace around the body was added or trimmed.
    WhitespaceTrimmed,
    /// Proven: the JSON was laid out again (compacted or re-indented), keys and values unchanged.
    JsonRelaidOut,
    /// Proven: non-ASCII characters were escaped as `\uXXXX`, or such escapes decoded (with or without
    /// a new layout).
    UnicodeEscapes,
    /// Proven: the body was signed with a secret configured for diagnosis only.
    DiagnosticSecret,
    /// Likely: the body is JSON but not as Stripe writes it (compact, or keys in another order): a body
    /// parser re-serialized it.
    LikelyReserialized,
    /// Likely: the body is not JSON at all (a form parser, a charset conversion, another sender).
    NotJson,
    /// Nothing found: the body looks as Stripe sends it, so the secret is the likely cause.
    Unexplained,
}

impl Cause {
    /// The stable code: `line_endings`, `byte_order_mark`, `trailing_newline`, `whitespace_trimmed`,
    /// `json_relaid_out`, `unicode_escapes`, `diagnostic_secret` (proven); `likely_reserialized`,
    /// `not_json`, `unexplained`.
    ///
    /// ```
    /// # use tower_stripe_webhook::Cause;
    /// // Stable across releases: fit for metric labels and alerts.
    /// assert_eq!(Cause::LineEndings.code(), "line_endings");
    /// assert_eq!(Cause::Unexplained.code(), "unexplained");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Self::LineEndings => "line_endings",
            Self::ByteOrderMark => "byte_order_mark",
            Self::TrailingNewline => "trailing_newline",
            Self::WhitespaceTrimmed => "whitespace_trimmed",
            Self::JsonRelaidOut => "json_relaid_out",
            Self::UnicodeEscapes => "unicode_escapes",
            Self::DiagnosticSecret => "diagnostic_secret",
            Self::LikelyReserialized => "likely_reserialized",
            Self::NotJson => "not_json",
            Self::Unexplained => "unexplained",
        }
    }

    /// Whether the signature matched once the cause was undone: a proof, not a guess.
    ///
    /// ```
    /// # use tower_stripe_webhook::Cause;
    /// assert!(Cause::LineEndings.is_proven()); // the signature matched with the newlines converted back
    /// assert!(!Cause::LikelyReserialized.is_proven()); // only what the body looks like
    /// ```
    pub fn is_proven(self) -> bool {
        !matches!(self, Self::LikelyReserialized | Self::NotJson | Self::Unexplained)
    }
}

/// Why a delivery's signature did not match, as far as [`Diagnose`] could tell; in the error
/// ([`Error::diagnosis`](crate::Error::diagnosis)), its `Display`, the `tracing` line and, when enabled,
/// the rejection body.
///
/// ```
/// use bytes::Bytes;
/// use tower_stripe_webhook::{generate_test_header, Cause, Diagnose, SigningSecret, Verifier};
///
/// let secret = SigningSecret::new("whsec_example")?;
/// let sent = b"{\n  \"id\": \"evt_1\"\n}";
/// let header = generate_test_header(sent, &secret, None);
/// // A proxy converted the newlines.
/// let received = b"{\r\n  \"id\": \"evt_1\"\r\n}";
/// let error = Verifier::new(secret).diagnose(Diagnose::new()).verify(&header, received).unwrap_err();
/// assert_eq!(error.diagnosis().unwrap().cause(), Cause::LineEndings);
/// assert!(error.to_string().contains("line_endings"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    cause: Cause,
    secret_label: Option<Arc<str>>,
    body_len: usize,
    in_response: bool,
}

impl Diagnosis {
    /// The cause found.
    ///
    /// ```
    /// # use tower_stripe_webhook::{Cause, Diagnose, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).diagnose(Diagnose::new());
    /// let error = verifier.verify_at(b"t=1,v1=00", b"not json", 1).unwrap_err();
    /// let diagnosis = error.diagnosis().expect("diagnosed");
    /// assert_eq!(diagnosis.cause(), Cause::NotJson);
    /// assert!(!diagnosis.cause().is_proven()); // likely, not proven
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cause(&self) -> Cause {
        self.cause
    }

    /// The cause's stable code (see [`Cause::code`]).
    ///
    /// ```
    /// # use tower_stripe_webhook::{Cause, Diagnose, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).diagnose(Diagnose::new());
    /// let error = verifier.verify_at(b"t=1,v1=00", b"not json", 1).unwrap_err();
    /// let diagnosis = error.diagnosis().expect("diagnosed");
    /// assert_eq!(diagnosis.code(), "not_json");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &'static str {
        self.cause.code()
    }

    /// For [`Cause::DiagnosticSecret`], the label of the diagnostic secret that matched.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, Cause, Diagnose, SigningSecret, Verifier};
    /// // The delivery was signed with the staging endpoint's secret, configured for diagnosis only.
    /// let staging = SigningSecret::new("whsec_staging")?.with_label("staging");
    /// let header = generate_test_header(b"{}", &staging, None);
    /// let verifier = Verifier::new(SigningSecret::new("whsec_live")?).diagnose(Diagnose::new().with_secret(staging));
    /// let error = verifier.verify(&header, b"{}").unwrap_err();
    /// let diagnosis = error.diagnosis().expect("diagnosed");
    /// assert_eq!(diagnosis.cause(), Cause::DiagnosticSecret);
    /// assert_eq!(diagnosis.secret_label(), Some("staging"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secret_label(&self) -> Option<&str> {
        self.secret_label.as_deref()
    }

    /// The length of the body that was received, in bytes.
    ///
    /// ```
    /// # use tower_stripe_webhook::{Cause, Diagnose, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).diagnose(Diagnose::new());
    /// let error = verifier.verify_at(b"t=1,v1=00", b"not json", 1).unwrap_err();
    /// let diagnosis = error.diagnosis().expect("diagnosed");
    /// assert_eq!(diagnosis.body_len(), b"not json".len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// Whether the rejection body may show it ([`Diagnose::in_response`]).
    pub(crate) fn in_response(&self) -> bool {
        self.in_response
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        match self.cause {
            Cause::LineEndings => write!(
                f,
                "{code} (proven): the signature matches the body with its newlines converted back; \
                 something between Stripe and this handler converts LF and CRLF"
            ),
            Cause::ByteOrderMark => write!(
                f,
                "{code} (proven): the signature matches the body with a byte-order mark added or removed; \
                 a proxy or a charset conversion adds or strips one"
            ),
            Cause::TrailingNewline => write!(
                f,
                "{code} (proven): the signature matches the body with a final newline added or removed; \
                 something appends or strips one (a proxy, a logging middleware, an editor in a test)"
            ),
            Cause::WhitespaceTrimmed => write!(
                f,
                "{code} (proven): the signature matches the body with its surrounding whitespace changed; \
                 something trims or pads the body"
            ),
            Cause::JsonRelaidOut => write!(
                f,
                "{code} (proven): the signature matches the JSON laid out as Stripe sends it; a body \
                 parser or proxy re-serialized it (read the raw bytes instead)"
            ),
            Cause::UnicodeEscapes => write!(
                f,
                "{code} (proven): the signature matches the body with its non-ASCII characters escaped or \
                 unescaped; the JSON was re-serialized (read the raw bytes instead)"
            ),
            Cause::DiagnosticSecret => write!(
                f,
                "{code} (proven): the body was signed with the diagnostic secret `{}`: that destination \
                 points at this endpoint (test-mode events at a live endpoint, or another endpoint's)",
                self.secret_label().unwrap_or("unlabelled")
            ),
            Cause::LikelyReserialized => write!(
                f,
                "{code} (likely): the {} byte body is JSON but not laid out as Stripe writes it (compact, \
                 or keys reordered): a body parser re-serialized it",
                self.body_len
            ),
            Cause::NotJson => write!(
                f,
                "{code} (likely): the {} byte body is not JSON: a form or text parser, a charset \
                 conversion, or not a Stripe delivery",
                self.body_len
            ),
            Cause::Unexplained => write!(
                f,
                "{code}: the {} byte body looks as Stripe sends it and no common transformation explains \
                 the mismatch: check the signing secret (test or live mode, this endpoint's, the CLI's)",
                self.body_len
            ),
        }
    }
}

/// Tries the body as it may have been before a culprit changed it, one candidate at a time, and answers the
/// cause undone by the first candidate `matches` accepts.
fn undo_transformations(body: &[u8], is_json: bool, mut matches: impl FnMut(&[u8]) -> bool) -> Option<Cause> {
    let mut tried = |cause, candidate: &[u8]| (candidate != body && matches(candidate)).then_some(cause);
    let line_endings = if contains(body, b"\r\n") {
        replace(body, b"\r\n", b"\n")
    } else {
        replace(body, b"\n", b"\r\n")
    };
    if let Some(cause) = tried(Cause::LineEndings, &line_endings) {
        return Some(cause);
    }
    drop(line_endings);
    const BOM: &[u8] = b"\xef\xbb\xbf";
    let bom = match body.strip_prefix(BOM) {
        Some(rest) => rest.to_vec(),
        None => [BOM, body].concat(),
    };
    if let Some(cause) = tried(Cause::ByteOrderMark, &bom) {
        return Some(cause);
    }
    drop(bom);
    let newline = match body {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest.to_vec(),
        _ => [body, b"\n"].concat(),
    };
    if let Some(cause) = tried(Cause::TrailingNewline, &newline) {
        return Some(cause);
    }
    drop(newline);
    if let Some(cause) = tried(Cause::WhitespaceTrimmed, body.trim_ascii()) {
        return Some(cause);
    }
    if !is_json {
        return None;
    }
    for layout in [("  ", "\n", ": "), ("", "", ":")] {
        if let Some(cause) = tried(
            Cause::JsonRelaidOut,
            &relayout(body, layout.0, layout.1, layout.2),
        ) {
            return Some(cause);
        }
    }
    // Escaped or unescaped, as received and laid out as Stripe sends it (a re-serializer often does both).
    let other = if body.iter().any(|b| !b.is_ascii()) {
        Some(escape_non_ascii(body))
    } else {
        unescape_non_ascii(body)
    }?;
    tried(Cause::UnicodeEscapes, &relayout(&other, "  ", "\n", ": "))
        .or_else(|| tried(Cause::UnicodeEscapes, &other))
}

/// Whether `body` is one JSON value (serde_json's validating skip: linear, no allocation).
fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// The likely cause when no transformation explained the mismatch.
fn likely_cause(body: &[u8], is_json: bool) -> Cause {
    if !is_json {
        return Cause::NotJson;
    }
    let object = body.trim_ascii_start().first() == Some(&b'{');
    let compact = object && !body.contains(&b'\n');
    // Stripe writes `id` and `object` first, then the other members in alphabetical order.
    let reordered = object && std::str::from_utf8(body).is_ok_and(|text| !keys_in_stripes_order(text));
    if compact || reordered {
        Cause::LikelyReserialized
    } else {
        Cause::Unexplained
    }
}

/// Whether the top-level keys of `text` (a JSON object) start with `id`, `object` and go on in
/// alphabetical order, as Stripe writes events.
fn keys_in_stripes_order(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Keys(#[serde(deserialize_with = "keys")] Vec<String>);
    fn keys<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(keys)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
    let Ok(Keys(keys)) = serde_json::from_str(text) else {
        return true;
    };
    let rest = match keys.as_slice() {
        [id, object, rest @ ..] if id == "id" && object == "object" => rest,
        _ => return false,
    };
    rest.windows(2).all(|pair| pair[0] <= pair[1])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn replace(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 16);
    let mut at = 0;
    while at < body.len() {
        if body[at..].starts_with(from) {
            out.extend_from_slice(to);
            at += from.len();
        } else {
            out.push(body[at]);
            at += 1;
        }
    }
    out
}

/// Writes `json` (valid JSON) again with other whitespace between its tokens and nothing else changed:
/// `indent` per level and `newline` after every `{`, `[` and `,` and before the closing bracket of a
/// non-empty container, `separator` for every `:`; empty containers stay `{}` and `[]`, as serializers
/// write them. `relayout(json, "  ", "\n", ": ")` is `JSON.stringify(value, null, 2)`'s layout, Stripe's.
pub(crate) fn relayout(json: &[u8], indent: &str, newline: &str, separator: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + json.len() / 2);
    let mut depth = 0usize;
    let line = |out: &mut Vec<u8>, depth: usize| {
        out.extend_from_slice(newline.as_bytes());
        for _ in 0..depth {
            out.extend_from_slice(indent.as_bytes());
        }
    };
    let mut at = 0;
    while let Some(&byte) = json.get(at) {
        match byte {
            b'"' => {
                let start = at;
                at += 1;
                while let Some(&byte) = json.get(at) {
                    match byte {
                        b'\\' => at += 2,
                        b'"' => break,
                        _ => at += 1,
                    }
                }
                out.extend_from_slice(json.get(start..=at).unwrap_or(&json[start..]));
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'{' | b'[' => {
                let close = if byte == b'{' { b'}' } else { b']' };
                let next = json[at + 1..]
                    .iter()
                    .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                    .map(|i| at + 1 + i);
                match next {
                    Some(next) if json[next] == close => {
                        out.extend_from_slice(&[byte, close]);
                        at = next;
                    }
                    _ => {
                        out.push(byte);
                        depth += 1;
                        line(&mut out, depth);
                    }
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                line(&mut out, depth);
                out.push(byte);
            }
            b',' => {
                out.push(byte);
                line(&mut out, depth);
            }
            b':' => out.extend_from_slice(separator.as_bytes()),
            _ => out.push(byte),
        }
        at += 1;
    }
    out
}

/// Every non-ASCII character written as `\uXXXX` (a surrogate pair beyond the BMP), as `ensure_ascii`
/// serializers write them. `body` is valid JSON, so non-ASCII characters are all inside strings.
fn escape_non_ascii(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out.into_bytes()
}

/// Every `\uXXXX` escape of a non-ASCII character (a surrogate pair for one beyond the BMP) decoded, or
/// `None` when the body has none.
fn unescape_non_ascii(body: &[u8]) -> Option<Vec<u8>> {
    let hex = |at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(body.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    let mut out = Vec::with_capacity(body.len());
    let mut changed = false;
    let mut at = 0;
    while at < body.len() {
        if body[at] == b'\\' {
            if body.get(at + 1) == Some(&b'u') {
                if let Some(unit) = hex(at + 2) {
                    let decoded = match unit {
                        0xD800..=0xDBFF if body.get(at + 6..at + 8) == Some(b"\\u") => hex(at + 8)
                            .filter(|low| (0xDC00..=0xDFFF).contains(low))
                            .and_then(|low| {
                                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                            })
                            .map(|c| (c, 12)),
                        0x80.. => char::from_u32(unit).map(|c| (c, 6)),
                        _ => None,
                    };
                    if let Some((c, len)) = decoded {
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        at += len;
                        changed = true;
                        continue;
                    }
                }
            }
            // Any other escape is kept as it is, with the character it escapes.
            out.extend_from_slice(&body[at..(at + 2).min(body.len())]);
            at += 2;
            continue;
        }
        out.push(body[at]);
        at += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayout_rewrites_whitespace_only_and_never_panics() {
        let json = br#"{ "a" : [1, {"b":"x\"y\\"}, [], {}], "c": "\u00e9" }"#;
        assert_eq!(
            relayout(json, "  ", "\n", ": "),
            b"{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x\\\"y\\\\\"\n    },\n    [],\n    {}\n  ],\n  \"c\": \"\\u00e9\"\n}"
        );
        assert_eq!(
            relayout(json, "", "", ":"),
            br#"{"a":[1,{"b":"x\"y\\"},[],{}],"c":"\u00e9"}"#
        );
        for broken in [&b"\"unterminated"[..], b"}}}]]", b"\"\\", b"[", b"{\"a\":\"\\"] {
            let _ = relayout(broken, " ", "\n", ": ");
        }
    }

    #[test]
    fn unicode_escapes_both_ways() {
        let body = "{\"name\": \"caf\u{e9} \u{1f600}\", \"q\": \"\\\"\\u0041\"}".as_bytes();
        let escaped = escape_non_ascii(body);
        assert_eq!(escaped, br#"{"name": "caf\u00e9 \ud83d\ude00", "q": "\"\u0041"}"#);
        assert_eq!(unescape_non_ascii(&escaped).unwrap(), body);
        assert_eq!(unescape_non_ascii(br#"{"a": "\u0041\n"}"#), None);
        // Lone or broken escapes are kept as they are.
        assert_eq!(
            unescape_non_ascii(br#"["\ud83d", "\u00e9", "\u12"]"#).unwrap(),
            "[\"\\ud83d\", \"\u{e9}\", \"\\u12\"]".as_bytes()
        );
    }

    /// The last transformation tried (non-ASCII escaped, re-laid out as Stripe) is found with few secrets,
    /// and not once the configured secrets times the transformations before it pass the 48-HMAC cap.
    #[test]
    fn at_most_48_hmacs_per_diagnosis() {
        use crate::{generate_test_header, Verifier};
        let signer = SigningSecret::new("whsec_signer").unwrap();
        let sent = relayout("{\"a\":\"caf\\u00e9\"}".as_bytes(), "  ", "\n", ": ");
        let received = "{\"a\":\"caf\u{e9}\"}".as_bytes();
        let header = generate_test_header(&sent, &signer, Some(1));
        let diagnose = |others: usize| {
            let secrets = (0..others)
                .map(|i| SigningSecret::new(format!("whsec_other_{i}")).unwrap())
                .chain([signer.clone()]);
            let verifier = Verifier::new(SigningSecrets::from_secrets(secrets).unwrap())
                .insecure_skip_timestamp_check()
                .diagnose(Diagnose::new());
            let error = verifier.verify(&header, received).unwrap_err();
            error.diagnosis().unwrap().cause()
        };
        assert_eq!(diagnose(1), Cause::UnicodeEscapes);
        // Three candidates come before it here (a byte-order mark, a final newline, Stripe's layout):
        // with 16 secrets they make the 48 checks, and the fourth is never checked.
        assert_eq!(diagnose(11), Cause::UnicodeEscapes);
        assert_ne!(diagnose(15), Cause::UnicodeEscapes);
    }

    #[test]
    fn stripes_key_order() {
        assert!(keys_in_stripes_order(
            r#"{"id":1,"object":2,"api_version":3,"created":4,"data":5,"type":6}"#
        ));
        assert!(!keys_in_stripes_order(
            r#"{"api_version":3,"created":4,"data":5,"id":1,"object":2}"#
        ));
        assert!(!keys_in_stripes_order(r#"{"id":1,"object":2,"type":6,"data":5}"#));
    }
}
