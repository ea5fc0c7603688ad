//! [`Event`]: a snapshot event (`"object": "event"`), the envelope read from the verified payload.

use std::{fmt, ops::Range};

use bytes::Bytes;
use serde::Deserialize;

use super::{envelope::Fields, missing, read_as, Kind, Placer, Span, Strings};
use crate::error::Error;

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
    strings: Strings,
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
    /// [`ErrorKind::NotAnEvent`](crate::ErrorKind::NotAnEvent) with the [`InvalidEvent`](super::InvalidEvent) reason: not JSON, not an object, a thin event
    /// notification (`v2.core.event`), an `object` other than `"event"`, or a required envelope field
    /// (`id`, `type`, `created`, `data.object`) missing.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let event = Event::from_verified_payload(TestEvent::new("invoice.paid", json!({"id": "in_1"})).to_bytes())?;
    /// assert_eq!(event.event_type(), "invoice.paid");
    /// // A thin notification is not a snapshot event: the error names the mix-up.
    /// let thin = tower_stripe_webhook::test_helpers::TestNotification::new("v1.billing.meter.no_meter_found").to_bytes();
    /// assert_eq!(Event::from_verified_payload(thin).unwrap_err().code(), "unexpected_thin_event");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_verified_payload(payload: Bytes) -> Result<Self, Error> {
        read_as(payload, Kind::Snapshot, Self::from_fields)
    }

    /// The event of `fields`, read from `payload` (a snapshot event's).
    pub(super) fn from_fields<'a>(
        payload: &Bytes,
        fields: Fields<'a>,
        mut placer: Placer<'a>,
    ) -> Result<Self, Error> {
        let id = placer.place(fields.id).ok_or_else(|| missing("id"))?;
        let event_type = placer.place(fields.event_type).ok_or_else(|| missing("type"))?;
        let created = fields.created.as_i64().ok_or_else(|| missing("created"))?;
        let data = fields.data.ok_or_else(|| missing("data"))?;
        let object = data
            .object
            .filter(|raw| raw.get().starts_with('{'))
            .ok_or_else(|| missing("data.object"))?;
        Ok(Self {
            id,
            event_type,
            api_version: placer.place(fields.api_version),
            account: placer.place(fields.account),
            request_id: placer.place(fields.request.id),
            idempotency_key: placer.place(fields.request.idempotency_key),
            created,
            livemode: fields.livemode.unwrap_or(false),
            pending_webhooks: fields.pending_webhooks,
            object: placer.raw(object),
            previous_attributes: data.previous_attributes.map(|raw| placer.raw(raw)),
            strings: Strings::new(payload.clone(), placer),
        })
    }

    /// The event id, `evt_...`. Use it to deduplicate deliveries: Stripe may deliver an event more than once.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", json!({"id": "in_1"})).id("evt_1NG8Du2eZvKYlo2C").to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.id(), "evt_1NG8Du2eZvKYlo2C");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> &str {
        self.strings.get(self.id)
    }

    /// The event type, e.g. `"invoice.paid"`. Any string: types added after this crate was written work.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let event = Event::from_verified_payload(TestEvent::new("invoice.paid", json!({"id": "in_1"})).to_bytes())?;
    /// match event.event_type() {
    ///     "invoice.paid" => {} // fulfil the order
    ///     other => panic!("unexpected {other}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_type(&self) -> &str {
        self.strings.get(self.event_type)
    }

    /// When the event was created, in Unix seconds.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", json!({})).created(1_700_000_000).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.created(), 1_700_000_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created(&self) -> i64 {
        self.created
    }

    /// `true` for live-mode events, `false` for test mode (and when the field is absent).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let test_mode = TestEvent::new("invoice.paid", json!({})).livemode(false).to_bytes();
    /// assert!(!Event::from_verified_payload(test_mode)?.livemode());
    /// let live = TestEvent::new("invoice.paid", json!({})).livemode(true).to_bytes();
    /// assert!(Event::from_verified_payload(live)?.livemode());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn livemode(&self) -> bool {
        self.livemode
    }

    /// The API version `data.object` was rendered with, if the event carries one.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", json!({})).api_version("2025-01-27.acacia").to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.api_version(), Some("2025-01-27.acacia"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_version(&self) -> Option<&str> {
        self.strings.optional(self.api_version)
    }

    /// For Connect events, the connected account (`acct_...`) the event belongs to.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let connect = TestEvent::new("invoice.paid", json!({})).account("acct_1").to_bytes();
    /// assert_eq!(Event::from_verified_payload(connect)?.account(), Some("acct_1"));
    /// let own = TestEvent::new("invoice.paid", json!({})).to_bytes();
    /// assert_eq!(Event::from_verified_payload(own)?.account(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn account(&self) -> Option<&str> {
        self.strings.optional(self.account)
    }

    /// How many webhook deliveries of this event were still pending when it was sent.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", json!({})).pending_webhooks(2).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.pending_webhooks(), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending_webhooks(&self) -> Option<u64> {
        self.pending_webhooks
    }

    /// The id of the API request that caused the event (`req_...`), if any; older API versions send it as a
    /// plain string, which is accepted too.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("customer.created", json!({})).request(Some("req_1"), Some("key-1")).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.request_id(), Some("req_1"));
    /// // Caused by no API request (a Dashboard action, an automatic renewal):
    /// let body = TestEvent::new("invoice.paid", json!({})).request(None, None).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.request_id(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.strings.optional(self.request_id)
    }

    /// The idempotency key of the API request that caused the event, if any.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("customer.created", json!({})).request(Some("req_1"), Some("key-1")).to_bytes();
    /// assert_eq!(Event::from_verified_payload(body)?.idempotency_key(), Some("key-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn idempotency_key(&self) -> Option<&str> {
        self.strings.optional(self.idempotency_key)
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
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("customer.created", json!({"id": "cus_1"})).to_bytes();
    /// let event = Event::from_verified_payload(body)?;
    /// let raw = event.data_object_raw();
    /// assert!(raw.starts_with(b"{") && raw.ends_with(b"}"));
    /// assert_eq!(serde_json::from_slice::<serde_json::Value>(raw)?["id"], "cus_1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_object_raw(&self) -> &[u8] {
        &self.strings.payload[self.object.clone()]
    }

    /// Deserializes `data.previous_attributes` (present on `*.updated` events) into the type you name.
    ///
    /// # Errors
    ///
    /// The `serde_json` error when the value does not fit `T`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("customer.updated", json!({"email": "b@example.com"}))
    ///     .previous_attributes(json!({"email": "a@example.com"}))
    ///     .to_bytes();
    /// let event = Event::from_verified_payload(body)?;
    /// let previous: serde_json::Value = event.previous_attributes().expect("an update")?;
    /// assert_eq!(previous["email"], "a@example.com");
    /// # let created = Event::from_verified_payload(TestEvent::new("customer.created", json!({})).to_bytes())?;
    /// # assert!(created.previous_attributes::<serde_json::Value>().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn previous_attributes<'a, T: Deserialize<'a>>(&'a self) -> Option<Result<T, serde_json::Error>> {
        self.previous_attributes_raw().map(serde_json::from_slice)
    }

    /// The raw JSON bytes of `data.previous_attributes`, if present.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("customer.updated", json!({})).previous_attributes(json!({"name": null})).to_bytes();
    /// let event = Event::from_verified_payload(body)?;
    /// let raw = event.previous_attributes_raw().expect("an update");
    /// assert_eq!(serde_json::from_slice::<serde_json::Value>(raw)?, json!({"name": null}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn previous_attributes_raw(&self) -> Option<&[u8]> {
        let range = self.previous_attributes.clone()?;
        Some(&self.strings.payload[range])
    }

    /// The whole verified payload, exactly as received.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_stripe_webhook::{test_helpers::TestEvent, Event};
    /// let body = TestEvent::new("invoice.paid", json!({})).to_bytes();
    /// let event = Event::from_verified_payload(body.clone())?;
    /// // The exact bytes that were signed: store or forward these, not a re-serialization.
    /// assert_eq!(event.payload(), &body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn payload(&self) -> &Bytes {
        &self.strings.payload
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{error::ErrorKind, InvalidEvent};

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
