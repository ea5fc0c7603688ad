//! The verified event envelope, parsed once from the payload without copying it.

mod envelope;

use std::{borrow::Cow, fmt, ops::Range, sync::Arc};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind};

/// A Stripe snapshot event: the envelope fields, and `data.object` kept as raw JSON.
///
/// The event shares the verified payload's [`Bytes`]: nothing of `data.object` is copied or decoded until a
/// handler asks for it with [`data_object`](Self::data_object), into whatever type it names, and the
/// envelope's strings are read where they are in the payload (only strings written with escapes are
/// decoded into a buffer of their own). Unknown event types and API versions never fail: `type` and
/// `api_version` are plain strings. Cloning shares the payload (a reference count increment) and copies a
/// few positions; the event is `Send + Sync + 'static`, so it can live in request extensions.
///
/// The envelope is read by `serde_json`, and every field is what `serde_json::Value` reads from the same
/// bytes: a repeated key counts with its last value, a field of another type than its own reads as absent
/// (see [`from_verified_payload`](Self::from_verified_payload) for the rule).
///
/// ```
/// use bytes::Bytes;
/// use serde::Deserialize;
/// use tower_stripe_webhook::Event;
///
/// #[derive(Deserialize)]
/// struct Charge { id: String, amount: u64 }
///
/// let payload = Bytes::from_static(br#"{"id":"evt_1","object":"event","type":"charge.succeeded",
///   "created":1700000000,"livemode":false,"api_version":"2025-01-27.acacia",
///   "data":{"object":{"id":"ch_1","object":"charge","amount":1999}}}"#);
/// // In a handler the layer gives you the event; here we parse a payload we trust.
/// let event = Event::from_verified_payload(payload)?;
/// assert_eq!(event.event_type(), "charge.succeeded");
/// let charge: Charge = event.data_object()?;
/// assert_eq!((charge.id.as_str(), charge.amount), ("ch_1", 1999));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Event {
    payload: Bytes,
    /// The envelope strings that held escapes, decoded, one after the other. `None` in the usual case: the
    /// other strings are read from `payload`, where they are, so an event costs no allocation of its own.
    decoded: Option<Arc<str>>,
    id: Span,
    event_type: Span,
    api_version: Option<Span>,
    account: Option<Span>,
    request_id: Option<Span>,
    idempotency_key: Option<Span>,
    created: i64,
    livemode: bool,
    pending_webhooks: Option<u64>,
    object: Range<usize>,
    previous_attributes: Option<Range<usize>>,
}

/// Where an envelope string is: a range of the payload (a string written without escapes), or of the
/// event's decoded strings. Positions are 32-bit to keep the `Event` small (it is moved into the
/// request's extensions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    decoded: bool,
}

impl Span {
    /// The string's bytes, from the payload or the decoded strings.
    fn bytes<'a>(self, payload: &'a [u8], decoded: &'a str) -> &'a [u8] {
        let from = if self.decoded { decoded.as_bytes() } else { payload };
        from.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// Places the strings that serde_json read: a borrowed one is found in `text` (the payload) by its
/// position, an owned one (it held escapes) is appended to `decoded`.
struct Placer<'a> {
    text: &'a str,
    decoded: String,
}

impl<'a> Placer<'a> {
    /// Where `slice`, a part of `text`, starts in it.
    fn offset(&self, slice: &str) -> usize {
        slice.as_ptr() as usize - self.text.as_ptr() as usize
    }

    fn raw(&self, raw: &RawValue) -> Range<usize> {
        let start = self.offset(raw.get());
        start..start + raw.get().len()
    }

    fn place(&mut self, text: Option<Cow<'a, str>>) -> Option<Span> {
        let (range, decoded) = match text? {
            Cow::Borrowed(slice) => {
                let start = self.offset(slice);
                (start..start + slice.len(), false)
            }
            Cow::Owned(owned) => {
                let start = self.decoded.len();
                self.decoded.push_str(&owned);
                (start..self.decoded.len(), true)
            }
        };
        // A payload over 4 GiB cannot be buffered by the layer; `Event` refuses it rather than truncate.
        Some(Span {
            start: u32::try_from(range.start).ok()?,
            end: u32::try_from(range.end).ok()?,
            decoded,
        })
    }
}

impl Event {
    /// Parses the envelope of a payload whose signature **has already been verified**.
    ///
    /// The layer and [`Verifier::verify_event`](crate::Verifier::verify_event) call this for you. Use it
    /// directly only for payloads you verified before, e.g. ones queued by the layer's verify-only mode.
    ///
    /// The payload is read with `serde_json` (one linear pass, validating), and the event is what
    /// `serde_json::Value` reads from the same bytes: the payload is a JSON object; a repeated key counts
    /// with its last value; `id`, `object`, `type`, `api_version` and `account` are strings, `created` an
    /// `i64`, `pending_webhooks` a `u64` and `livemode` a bool, each read as absent when of another type
    /// (`Value::as_str`, `as_i64`, `as_u64`, `as_bool`); `request` is a string (the request id, as older API
    /// versions send it) or an object with `id` and `idempotency_key`; `data` is an object whose `object`
    /// is an object; a `data.previous_attributes` of `null` is absent.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAnEvent`] with the [`InvalidEvent`] reason: not JSON, not an object, a thin event
    /// notification (`v2.core.event`), an `object` other than `"event"`, or a required envelope field
    /// (`id`, `type`, `created`, `data.object`) missing.
    pub fn from_verified_payload(payload: Bytes) -> Result<Self, Error> {
        let invalid = |reason| Error::new(ErrorKind::NotAnEvent(reason));
        let text = std::str::from_utf8(&payload).map_err(|error| invalid(utf8_error(&payload, error)))?;
        let fields = envelope::read(text).map_err(|error| json_error(text, error))?;
        match fields.object.as_deref() {
            Some("event") => {}
            Some("v2.core.event") => return Err(invalid(InvalidEvent::ThinEvent)),
            Some(_) => return Err(invalid(InvalidEvent::NotAnEventObject)),
            None => return Err(invalid(InvalidEvent::MissingField("object"))),
        }
        let mut placer = Placer {
            text,
            decoded: String::new(),
        };
        let id = placer
            .place(fields.id)
            .ok_or_else(|| invalid(InvalidEvent::MissingField("id")))?;
        let event_type = placer
            .place(fields.event_type)
            .ok_or_else(|| invalid(InvalidEvent::MissingField("type")))?;
        let created = fields
            .created
            .ok_or_else(|| invalid(InvalidEvent::MissingField("created")))?;
        let data = fields
            .data
            .ok_or_else(|| invalid(InvalidEvent::MissingField("data")))?;
        let object = data
            .object
            .filter(|raw| raw.get().starts_with('{'))
            .ok_or_else(|| invalid(InvalidEvent::MissingField("data.object")))?;
        Ok(Self {
            id,
            event_type,
            api_version: placer.place(fields.api_version),
            account: placer.place(fields.account),
            request_id: placer.place(fields.request_id),
            idempotency_key: placer.place(fields.idempotency_key),
            created,
            livemode: fields.livemode.unwrap_or(false),
            pending_webhooks: fields.pending_webhooks,
            object: placer.raw(object),
            previous_attributes: data.previous_attributes.map(|raw| placer.raw(raw)),
            decoded: (!placer.decoded.is_empty()).then(|| Arc::from(placer.decoded)),
            payload,
        })
    }

    fn string(&self, span: Span) -> &str {
        let bytes = span.bytes(&self.payload, self.decoded.as_deref().unwrap_or_default());
        // Checked when the event was made: this finds valid UTF-8 (ASCII, in practice, a word at a time).
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn optional(&self, span: Option<Span>) -> Option<&str> {
        span.map(|span| self.string(span))
    }

    /// The event id, `evt_...`. Use it to deduplicate deliveries: Stripe may deliver an event more than once.
    pub fn id(&self) -> &str {
        self.string(self.id)
    }

    /// The event type, e.g. `"invoice.paid"`. Any string: types added after this crate was written work.
    pub fn event_type(&self) -> &str {
        self.string(self.event_type)
    }

    /// When the event was created, in Unix seconds.
    pub fn created(&self) -> i64 {
        self.created
    }

    /// `true` for live-mode events, `false` for test mode (and when the field is absent).
    pub fn livemode(&self) -> bool {
        self.livemode
    }

    /// The API version `data.object` was rendered with, if the event carries one.
    pub fn api_version(&self) -> Option<&str> {
        self.optional(self.api_version)
    }

    /// For Connect events, the connected account (`acct_...`) the event belongs to.
    pub fn account(&self) -> Option<&str> {
        self.optional(self.account)
    }

    /// How many webhook deliveries of this event were still pending when it was sent.
    pub fn pending_webhooks(&self) -> Option<u64> {
        self.pending_webhooks
    }

    /// The id of the API request that caused the event (`req_...`), if any; older API versions send it as a
    /// plain string, which is accepted too.
    pub fn request_id(&self) -> Option<&str> {
        self.optional(self.request_id)
    }

    /// The idempotency key of the API request that caused the event, if any.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.optional(self.idempotency_key)
    }

    /// Deserializes `data.object` into the type you name: a struct of just the fields you need, a type from
    /// a Stripe crate, or [`serde_json::Value`]. Borrowing types (`&str`, `&RawValue`) borrow the payload.
    ///
    /// # Errors
    ///
    /// The `serde_json` error when `data.object` does not fit `T`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::Event;
    /// let event = Event::from_verified_payload(Bytes::from_static(
    ///     br#"{"id":"evt_1","object":"event","type":"customer.created","created":1,"data":{"object":{"id":"cus_1"}}}"#,
    /// ))?;
    /// let object: serde_json::Value = event.data_object()?;
    /// assert_eq!(object["id"], "cus_1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_object<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.data_object_raw())
    }

    /// The raw JSON bytes of `data.object`, exactly as signed.
    pub fn data_object_raw(&self) -> &[u8] {
        &self.payload[self.object.clone()]
    }

    /// Deserializes `data.previous_attributes` (present on `*.updated` events) into the type you name.
    ///
    /// # Errors
    ///
    /// The `serde_json` error when the value does not fit `T`.
    pub fn previous_attributes<'a, T: Deserialize<'a>>(&'a self) -> Option<Result<T, serde_json::Error>> {
        self.previous_attributes_raw().map(serde_json::from_slice)
    }

    /// The raw JSON bytes of `data.previous_attributes`, if present.
    pub fn previous_attributes_raw(&self) -> Option<&[u8]> {
        let range = self.previous_attributes.clone()?;
        Some(&self.payload[range])
    }

    /// The whole verified payload, exactly as received.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }
}

/// A payload whose signature was verified, not parsed: what the layer inserts in verify-only mode
/// ([`StripeSignatureLayer::verify_only`](crate::StripeSignatureLayer::verify_only)).
///
/// Queue it as it is and parse it later with [`into_event`](Self::into_event).
///
/// ```
/// use bytes::Bytes;
/// use tower_stripe_webhook::VerifiedPayload;
///
/// # let verified = VerifiedPayload::new(Bytes::from_static(
/// #     br#"{"id":"evt_1","object":"event","type":"ping","created":1,"data":{"object":{}}}"#));
/// let bytes: &Bytes = verified.bytes(); // store these
/// let event = verified.into_event()?;   // or parse them now
/// assert_eq!(event.event_type(), "ping");
/// # Ok::<(), tower_stripe_webhook::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedPayload {
    bytes: Bytes,
}

impl VerifiedPayload {
    /// Marks `bytes` as verified. The layer does this after checking the signature; call it yourself only
    /// on bytes you verified.
    pub fn new(bytes: Bytes) -> Self {
        Self { bytes }
    }

    /// The verified bytes, exactly as received.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The verified bytes, by value.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Parses the event envelope; see [`Event::from_verified_payload`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAnEvent`].
    pub fn into_event(self) -> Result<Event, Error> {
        Event::from_verified_payload(self.bytes)
    }
}

/// Why a payload that is not UTF-8 is not an event, at the position of the first invalid byte (1-based,
/// as serde_json reports its errors).
fn utf8_error(payload: &[u8], error: std::str::Utf8Error) -> InvalidEvent {
    let before = &payload[..error.valid_up_to()];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.len() - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
    InvalidEvent::Json { line, column }
}

/// Why a payload serde_json did not read as an envelope is not an event: JSON that is not an object, or
/// not JSON (with serde_json's position, 1-based, for the engineer looking at the payload).
fn json_error(text: &str, mut error: serde_json::Error) -> Error {
    // The envelope is read as a map, which stops at the first byte of any other value: whether that value
    // is JSON at all is serde_json's skip to say (only on this error path).
    let top_level = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first();
    if error.classify() == serde_json::error::Category::Data && top_level != Some(&b'{') {
        match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => return Error::new(ErrorKind::NotAnEvent(InvalidEvent::NotAnObject)),
            Err(syntax) => error = syntax,
        }
    }
    let reason = InvalidEvent::Json {
        line: error.line(),
        column: error.column(),
    };
    Error::with_source(ErrorKind::NotAnEvent(reason), error)
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("id", &self.id())
            .field("type", &self.event_type())
            .field("created", &self.created())
            .field("livemode", &self.livemode())
            .field("api_version", &self.api_version())
            .field("account", &self.account())
            .field("payload_len", &self.payload().len())
            .finish_non_exhaustive()
    }
}

/// Why a verified payload is not a Stripe snapshot event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidEvent {
    /// The payload is not valid JSON, or an envelope string (`id`, `type`, ...) is not UTF-8; the position
    /// is 1-based.
    Json {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// The payload is JSON but not an object.
    NotAnObject,
    /// A thin event notification (`"object": "v2.core.event"`), which carries no snapshot.
    ThinEvent,
    /// The payload's `object` is not `"event"`.
    NotAnEventObject,
    /// A required envelope field is missing, `null`, or not of its type (`created` not an integer,
    /// `data.object` not an object).
    MissingField(&'static str),
}

impl fmt::Display for InvalidEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json { line, column } => write!(
                f,
                "it is not valid JSON, or an envelope string is not UTF-8 (line {line}, column {column})"
            ),
            Self::NotAnObject => f.write_str("it is JSON but not an object"),
            Self::ThinEvent => f.write_str(
                "it is a thin event notification (v2.core.event) from an event destination; thin events \
                 carry no snapshot and need their own endpoint and handler",
            ),
            Self::NotAnEventObject => f.write_str("its `object` is not \"event\""),
            Self::MissingField(field) => {
                write!(
                    f,
                    "the envelope field `{field}` is missing or not of the expected type"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(payload: &'static [u8]) -> InvalidEvent {
        match Event::from_verified_payload(Bytes::from_static(payload))
            .unwrap_err()
            .kind()
        {
            ErrorKind::NotAnEvent(reason) => *reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    const FULL: &[u8] = br#"{
  "id": "evt_1",
  "object": "event",
  "account": "acct_9",
  "api_version": "2099-01-01.future",
  "created": 1700000000,
  "data": {
    "object": {"id": "in_1", "object": "invoice", "note": "caf\u00e9 \"q\""},
    "previous_attributes": {"status": "open"}
  },
  "livemode": true,
  "pending_webhooks": 2,
  "request": {"id": "req_1", "idempotency_key": "key-1"},
  "type": "brand.new.type",
  "extra_unknown_field": [1, 2, 3]
}"#;

    #[test]
    fn parses_every_envelope_field_and_keeps_data_raw() {
        let event = Event::from_verified_payload(Bytes::from_static(FULL)).unwrap();
        assert_eq!(event.id(), "evt_1");
        assert_eq!(event.event_type(), "brand.new.type");
        assert_eq!(event.created(), 1_700_000_000);
        assert!(event.livemode());
        assert_eq!(event.api_version(), Some("2099-01-01.future"));
        assert_eq!(event.account(), Some("acct_9"));
        assert_eq!(event.pending_webhooks(), Some(2));
        assert_eq!(event.request_id(), Some("req_1"));
        assert_eq!(event.idempotency_key(), Some("key-1"));
        assert_eq!(
            event.data_object_raw(),
            br#"{"id": "in_1", "object": "invoice", "note": "caf\u00e9 \"q\""}"#
        );
        assert_eq!(
            event.previous_attributes_raw(),
            Some(&br#"{"status": "open"}"#[..])
        );
        let value: serde_json::Value = event.data_object().unwrap();
        assert_eq!(value["note"], "café \"q\"");
        // The event shares the payload instead of copying it.
        assert_eq!(event.payload().as_ptr(), FULL.as_ptr());
        let debug = format!("{event:?}");
        assert!(debug.contains("evt_1") && !debug.contains("invoice"), "{debug}");
    }

    #[test]
    fn optional_fields_of_another_type_are_absent_and_the_last_repeated_key_counts() {
        let event = Event::from_verified_payload(Bytes::from_static(
            br#"{"id":"e","object":"event","type":false,"created":1,"data":{"object":{}},
                "livemode":"yes","account":{"id":"acct_1"},"pending_webhooks":-1,"request":7,
                "api_version":["2025"],"type":"invoice.paid"}"#,
        ))
        .unwrap();
        assert_eq!(event.event_type(), "invoice.paid");
        assert_eq!(
            (
                event.livemode(),
                event.account(),
                event.pending_webhooks(),
                event.request_id()
            ),
            (false, None, None, None)
        );
        assert_eq!(event.api_version(), None);
        // A later `data` without `object` replaces the earlier one.
        let error = Event::from_verified_payload(Bytes::from_static(
            br#"{"id":"e","object":"event","type":"x","created":1,"data":{"object":{}},"data":{}}"#,
        ))
        .unwrap_err();
        assert_eq!(
            error.kind(),
            &ErrorKind::NotAnEvent(InvalidEvent::MissingField("data.object"))
        );
    }

    #[test]
    fn older_and_minimal_envelopes() {
        let event = Event::from_verified_payload(Bytes::from_static(
            br#"{"id":"evt_\u0031","object":"event","type":"t","created":1,"request":"req_old","api_version":null,"data":{"object":{}}}"#,
        ))
        .unwrap();
        assert_eq!(event.id(), "evt_1", "escaped strings are decoded");
        assert_eq!(event.request_id(), Some("req_old"));
        assert_eq!(event.idempotency_key(), None);
        assert_eq!(event.api_version(), None);
        assert!(!event.livemode());
        assert!(event.previous_attributes::<serde_json::Value>().is_none());
    }

    #[test]
    fn escaped_strings_are_decoded_beside_raw_ones_even_when_a_key_repeats() {
        let event = Event::from_verified_payload(Bytes::from_static(
            br#"{"id":"evt_\u0061","object":"event","type":"t\u00e9","created":1,"data":{"object":{}},
                "account":"acct_1","id":"evt_\u0062","api_version":"2025\/01","request":{"id":"req_\"1\""}}"#,
        ))
        .unwrap();
        assert_eq!(event.id(), "evt_b", "the last `id` counts");
        assert_eq!(event.event_type(), "t\u{e9}");
        assert_eq!(event.account(), Some("acct_1"));
        assert_eq!(event.api_version(), Some("2025/01"));
        assert_eq!(event.request_id(), Some("req_\"1\""));
        let clone = event.clone();
        assert_eq!((clone.id(), clone.request_id()), ("evt_b", Some("req_\"1\"")));
    }

    #[test]
    fn every_invalid_envelope_has_its_reason() {
        assert!(matches!(reason(b"hello"), InvalidEvent::Json { line: 1, .. }));
        assert!(matches!(reason(b""), InvalidEvent::Json { .. }));
        assert!(matches!(reason(br#"{"id":"evt_1""#), InvalidEvent::Json { .. }));
        assert_eq!(reason(b"[1,2,3]"), InvalidEvent::NotAnObject);
        assert_eq!(reason(b"null"), InvalidEvent::NotAnObject);
        assert_eq!(
            reason(br#"{"id":"evt_1","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered","created":"2025-01-01T00:00:00Z"}"#),
            InvalidEvent::ThinEvent
        );
        assert_eq!(
            reason(br#"{"id":"ch_1","object":"charge"}"#),
            InvalidEvent::NotAnEventObject
        );
        assert_eq!(
            reason(br#"{"id":"evt_1","type":"x"}"#),
            InvalidEvent::MissingField("object")
        );
        assert_eq!(
            reason(br#"{"object":"event","type":"x","created":1,"data":{"object":{}}}"#),
            InvalidEvent::MissingField("id")
        );
        assert_eq!(
            reason(br#"{"id":"e","object":"event","created":1,"data":{"object":{}}}"#),
            InvalidEvent::MissingField("type")
        );
        assert_eq!(
            reason(br#"{"id":"e","object":"event","type":"ping"}"#),
            InvalidEvent::MissingField("created")
        );
        assert_eq!(
            reason(br#"{"id":"e","object":"event","type":"x","created":1}"#),
            InvalidEvent::MissingField("data")
        );
        assert_eq!(
            reason(br#"{"id":"e","object":"event","type":"x","created":1,"data":{"object":null}}"#),
            InvalidEvent::MissingField("data.object")
        );
        // A required field of another type is missing, as `serde_json::Value::as_str` would have it.
        assert_eq!(
            reason(br#"{"id":7,"object":"event","type":"x","created":1,"data":{"object":{}}}"#),
            InvalidEvent::MissingField("id")
        );
        assert_eq!(
            reason(br#"{"id":"e","object":"event","type":"x","created":1.5,"data":{"object":{}}}"#),
            InvalidEvent::MissingField("created")
        );
    }

    /// The envelope's strings are checked for UTF-8 once, together; each must still be valid on its own,
    /// including two invalid halves that would make a valid character side by side.
    #[test]
    fn envelope_strings_must_each_be_utf8() {
        let event = |id: &[u8], event_type: &[u8]| {
            let mut payload = br#"{"object":"event","created":1,"data":{"object":{}},"id":""#.to_vec();
            payload.extend_from_slice(id);
            payload.extend_from_slice(br#"","type":""#);
            payload.extend_from_slice(event_type);
            payload.extend_from_slice(br#""}"#);
            Event::from_verified_payload(Bytes::from(payload))
        };
        let ok = event("evt_\u{e9}".as_bytes(), "caf\u{e9}".as_bytes()).unwrap();
        assert_eq!((ok.id(), ok.event_type()), ("evt_\u{e9}", "caf\u{e9}"));
        for (id, event_type) in [
            (&b"evt_\xff"[..], &b"x"[..]),
            (b"x", b"\xc3"),
            // "\xc3" + "\xa9" is "é", but neither half is a string.
            (b"evt_\xc3", b"\xa9"),
        ] {
            let error = event(id, event_type).unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::NotAnEvent(InvalidEvent::Json { .. })),
                "{error:?}"
            );
        }
    }

    #[test]
    fn is_cheap_to_share_across_threads() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<Event>();
        let event = Event::from_verified_payload(Bytes::from_static(FULL)).unwrap();
        let clone = event.clone();
        // The clone shares the payload, and its strings are the payload's own bytes.
        assert_eq!(clone.payload().as_ptr(), event.payload().as_ptr());
        assert!(FULL.as_ptr_range().contains(&clone.id().as_ptr()));
        assert!(FULL.as_ptr_range().contains(&clone.event_type().as_ptr()));
    }
}
