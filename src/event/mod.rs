//! What a verified payload holds: a snapshot [`Event`], a thin [`EventNotification`], or either
//! ([`AnyEvent`]), each read once from the payload by `serde_json` without copying it (`envelope`).

mod envelope;
mod rfc3339;
mod snapshot;
mod thin;

use std::{borrow::Cow, fmt, ops::Range, sync::Arc};

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind};

pub use snapshot::Event;
pub use thin::{EventNotification, EventReason, RelatedObject};

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

/// The payload an event was read from, and the strings of it that held escapes, decoded: where the
/// [`Span`]s of an event point.
#[derive(Clone)]
struct Strings {
    payload: Bytes,
    /// `None` in the usual case, where no envelope string held an escape: an event then costs no
    /// allocation of its own.
    decoded: Option<Arc<str>>,
}

impl Strings {
    fn new(payload: Bytes, placer: Placer<'_>) -> Self {
        Self {
            decoded: (!placer.decoded.is_empty()).then(|| Arc::from(placer.decoded)),
            payload,
        }
    }

    fn get(&self, span: Span) -> &str {
        let bytes = span.bytes(&self.payload, self.decoded.as_deref().unwrap_or_default());
        // The payload was checked to be UTF-8 when the event was made, and spans fall on its strings'
        // boundaries: this finds valid UTF-8 (ASCII, in practice, a word at a time).
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn optional(&self, span: Option<Span>) -> Option<&str> {
        span.map(|span| self.get(span))
    }
}

/// The two kinds of event Stripe delivers, told apart by the payload's `object`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `"object": "event"`.
    Snapshot,
    /// `"object": "v2.core.event"`.
    Thin,
}

/// The envelope of a verified payload, and the placer its strings go through; or why it is not one.
fn read(payload: &[u8]) -> Result<(envelope::Fields<'_>, Kind, Placer<'_>), Error> {
    let invalid = |reason| Error::new(ErrorKind::NotAnEvent(reason));
    let text = std::str::from_utf8(payload).map_err(|error| invalid(utf8_error(payload, error)))?;
    let fields = envelope::read(text).map_err(|error| json_error(text, error))?;
    let kind = match fields.object.as_deref() {
        Some("event") => Kind::Snapshot,
        Some("v2.core.event") => Kind::Thin,
        Some(_) => return Err(invalid(InvalidEvent::NotAnEventObject)),
        None => return Err(invalid(InvalidEvent::MissingField("object"))),
    };
    let placer = Placer {
        text,
        decoded: String::new(),
    };
    Ok((fields, kind, placer))
}

/// A verified payload read as one kind, `want`: `build` makes it from the envelope; a payload of the other
/// kind is the error that names the mix-up ([`InvalidEvent::ThinEvent`] or [`InvalidEvent::SnapshotEvent`]).
fn read_as<T>(
    payload: Bytes,
    want: Kind,
    build: impl for<'a> FnOnce(&Bytes, envelope::Fields<'a>, Placer<'a>) -> Result<T, Error>,
) -> Result<T, Error> {
    match read(&payload)? {
        (fields, kind, placer) if kind == want => build(&payload, fields, placer),
        (_, Kind::Thin, _) => Err(Error::new(ErrorKind::NotAnEvent(InvalidEvent::ThinEvent))),
        (_, Kind::Snapshot, _) => Err(Error::new(ErrorKind::NotAnEvent(InvalidEvent::SnapshotEvent))),
    }
}

/// The error for an envelope field, `field`, that is missing or of the wrong type.
fn missing(field: &'static str) -> Error {
    Error::new(ErrorKind::NotAnEvent(InvalidEvent::MissingField(field)))
}

/// A verified event of either kind: what the layer inserts when it accepts both
/// ([`Accept::AnyEvent`](crate::Accept::AnyEvent)), so that one route can serve a snapshot destination
/// and a thin one (each with its own secret; [`Verified::secret_label`](crate::Verified::secret_label)
/// tells which matched).
///
/// ```
/// use bytes::Bytes;
/// use tower_stripe_webhook::AnyEvent;
///
/// let thin = AnyEvent::from_verified_payload(Bytes::from_static(
///     br#"{"id":"evt_1","object":"v2.core.event","type":"v1.billing.meter.no_meter_found","created":"2025-01-01T00:00:00.000Z"}"#,
/// ))?;
/// match thin {
///     AnyEvent::Snapshot(event) => println!("snapshot {}", event.event_type()),
///     AnyEvent::Thin(notification) => assert_eq!(notification.event_type(), "v1.billing.meter.no_meter_found"),
/// }
/// # Ok::<(), tower_stripe_webhook::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum AnyEvent {
    /// A snapshot event (`"object": "event"`).
    Snapshot(Event),
    /// A thin event notification (`"object": "v2.core.event"`).
    Thin(EventNotification),
}

impl AnyEvent {
    /// Reads a payload whose signature **has already been verified** as either kind, by its `object`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAnEvent`]: as [`Event::from_verified_payload`] for a snapshot event, as
    /// [`EventNotification::from_verified_payload`] for a thin one; an `object` that is neither, or none,
    /// is [`InvalidEvent::NotAnEventObject`] or [`InvalidEvent::MissingField`].
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::{TestEvent, TestNotification}, AnyEvent};
    /// let snapshot = AnyEvent::from_verified_payload(TestEvent::new("invoice.paid", json!({})).to_bytes())?;
    /// assert!(matches!(snapshot, AnyEvent::Snapshot(_)));
    /// let thin = AnyEvent::from_verified_payload(TestNotification::new("v2.core.event_destination.ping").to_bytes())?;
    /// assert!(matches!(thin, AnyEvent::Thin(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_verified_payload(payload: Bytes) -> Result<Self, Error> {
        let (fields, kind, placer) = read(&payload)?;
        Ok(match kind {
            Kind::Snapshot => Self::Snapshot(Event::from_fields(&payload, fields, placer)?),
            Kind::Thin => Self::Thin(EventNotification::from_fields(&payload, fields, placer)?),
        })
    }

    /// The event id (`evt_...`), whichever the kind.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::{TestEvent, TestNotification}, AnyEvent};
    /// let event = AnyEvent::from_verified_payload(TestEvent::new("invoice.paid", json!({})).id("evt_1").to_bytes())?;
    /// assert_eq!(event.id(), "evt_1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> &str {
        match self {
            Self::Snapshot(event) => event.id(),
            Self::Thin(notification) => notification.id(),
        }
    }

    /// The event type, whichever the kind.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::{TestEvent, TestNotification}, AnyEvent};
    /// let event = AnyEvent::from_verified_payload(TestNotification::new("v2.core.event_destination.ping").to_bytes())?;
    /// assert_eq!(event.event_type(), "v2.core.event_destination.ping");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_type(&self) -> &str {
        match self {
            Self::Snapshot(event) => event.event_type(),
            Self::Thin(notification) => notification.event_type(),
        }
    }

    /// The verified payload, exactly as received.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::{TestEvent, TestNotification}, AnyEvent};
    /// let body = TestEvent::new("invoice.paid", json!({})).to_bytes();
    /// assert_eq!(AnyEvent::from_verified_payload(body.clone())?.payload(), &body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn payload(&self) -> &Bytes {
        match self {
            Self::Snapshot(event) => event.payload(),
            Self::Thin(notification) => notification.payload(),
        }
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
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::VerifiedPayload;
    /// let verified = VerifiedPayload::new(Bytes::from_static(b"{}"));
    /// assert_eq!(verified.bytes(), "{}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bytes: Bytes) -> Self {
        Self { bytes }
    }

    /// The verified bytes, exactly as received.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::VerifiedPayload;
    /// let verified = VerifiedPayload::new(Bytes::from_static(br#"{"id":"evt_1"}"#));
    /// assert_eq!(verified.bytes().len(), 14);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The verified bytes, by value.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::VerifiedPayload;
    /// let verified = VerifiedPayload::new(Bytes::from_static(b"{}"));
    /// let bytes: Bytes = verified.into_bytes(); // to a queue, as signed
    /// assert_eq!(bytes, "{}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Parses the event envelope; see [`Event::from_verified_payload`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAnEvent`].
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::VerifiedPayload;
    /// let verified = VerifiedPayload::new(Bytes::from_static(br#"{"id":"evt_1","object":"event","type":"ping","created":1,"data":{"object":{}}}"#));
    /// assert_eq!(verified.into_event()?.id(), "evt_1");
    /// assert_eq!(VerifiedPayload::new(Bytes::from_static(b"[]")).into_event().unwrap_err().code(), "not_an_event");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

/// Why a verified payload is not the kind of event the route takes.
///
/// ```
/// # use bytes::Bytes;
/// # use tower_stripe_webhook::{ErrorKind, Event, InvalidEvent};
/// let error = Event::from_verified_payload(Bytes::from_static(br#"{"object":"event","id":"evt_1"}"#)).unwrap_err();
/// assert_eq!(error.kind(), &ErrorKind::NotAnEvent(InvalidEvent::MissingField("type")));
/// let error = Event::from_verified_payload(Bytes::from_static(b"{\n  oops")).unwrap_err();
/// assert!(matches!(error.kind(), ErrorKind::NotAnEvent(InvalidEvent::Json { line: 2, .. })));
/// ```
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
    /// A thin event notification (`"object": "v2.core.event"`) where snapshot events are expected: a
    /// thin event destination points at a snapshot route (error code `unexpected_thin_event`).
    ThinEvent,
    /// A snapshot event (`"object": "event"`) where thin event notifications are expected: a snapshot
    /// destination or webhook endpoint points at a thin route (error code `unexpected_snapshot_event`).
    SnapshotEvent,
    /// The payload's `object` is neither `"event"` nor `"v2.core.event"`.
    NotAnEventObject,
    /// A required envelope field is missing, `null`, or not of its type (`created` not an integer in a
    /// snapshot event, `data.object` not an object).
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
                "it is a thin event notification (v2.core.event): a thin event destination is sending to \
                 a route for snapshot events; give thin events their own route (Accept::ThinEvents) or \
                 accept both (Accept::AnyEvent)",
            ),
            Self::SnapshotEvent => f.write_str(
                "it is a snapshot event (\"object\": \"event\"): a snapshot destination or webhook endpoint \
                 is sending to a route for thin event notifications; give snapshot events their own route \
                 or accept both (Accept::AnyEvent)",
            ),
            Self::NotAnEventObject => f.write_str("its `object` is neither \"event\" nor \"v2.core.event\""),
            Self::MissingField(field) => {
                write!(
                    f,
                    "the envelope field `{field}` is missing or not of the expected type"
                )
            }
        }
    }
}
