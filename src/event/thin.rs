//! [`EventNotification`]: a thin event notification (`"object": "v2.core.event"`), as Stripe's event
//! destinations deliver every v2 event and thin versions of v1 events.

use std::fmt;

use bytes::Bytes;
use serde::Deserialize;

use super::{envelope::Fields, missing, read_as, rfc3339, Kind, Placer, Span, Strings};
use crate::error::Error;

/// A thin event notification: the event's id, type and what it is about, without a snapshot of the
/// object.
///
/// Like [`Event`](crate::Event), it shares the verified payload's [`Bytes`] and reads its strings where
/// they are in it, and every field is what `serde_json::Value` reads from the same bytes. To get the
/// full event, fetch it with your own Stripe client: `GET /v2/core/events/{id}`, with the
/// `Stripe-Context` header set to [`context`](Self::context) when there is one (the crate makes no API
/// calls). Fields this type does not model are read on demand with [`deserialize`](Self::deserialize).
///
/// ```
/// use bytes::Bytes;
/// use tower_stripe_webhook::EventNotification;
///
/// let payload = Bytes::from_static(br#"{
///   "id": "evt_test_65R9Ijk8Ul3sVmrBpI6vLt3LExAIbrjeN0uWMMFAeC8M7tgS",
///   "object": "v2.core.event",
///   "type": "v1.billing.meter.error_report_triggered",
///   "livemode": false,
///   "created": "2024-09-17T06:20:52.246Z",
///   "context": "acct_123",
///   "related_object": {"id": "mtr_test_61R9", "type": "billing.meter", "url": "/v1/billing/meters/mtr_test_61R9"}
/// }"#);
/// // In a handler the layer gives you the notification; here we read a payload we trust.
/// let notification = EventNotification::from_verified_payload(payload)?;
/// assert_eq!(notification.event_type(), "v1.billing.meter.error_report_triggered");
/// assert_eq!(notification.created_unix_millis(), Some(1_726_554_052_246));
/// assert_eq!(notification.context(), Some("acct_123"));
/// let related = notification.related_object().unwrap();
/// assert_eq!((related.id, related.object_type), (Some("mtr_test_61R9"), Some("billing.meter")));
/// # Ok::<(), tower_stripe_webhook::Error>(())
/// ```
#[derive(Clone)]
pub struct EventNotification {
    strings: Strings,
    id: Span,
    event_type: Span,
    created: Option<Span>,
    created_unix_millis: Option<i64>,
    livemode: bool,
    context: Option<Span>,
    reason: Option<[Option<Span>; 3]>,
    related_object: Option<[Option<Span>; 3]>,
}

/// Why a thin event happened: its `reason`, borrowed from the notification.
///
/// ```
/// # use tower_stripe_webhook::EventNotification;
/// # use bytes::Bytes;
/// let notification = EventNotification::from_verified_payload(Bytes::from_static(br#"{
///   "id": "evt_1", "object": "v2.core.event", "type": "v1.billing.meter.error_report_triggered",
///   "reason": {"type": "request", "request": {"id": "req_1", "idempotency_key": "key-1"}}
/// }"#))?;
/// let reason = notification.reason().expect("caused by a request");
/// assert_eq!((reason.reason_type, reason.request_id, reason.idempotency_key), (Some("request"), Some("req_1"), Some("key-1")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventReason<'a> {
    /// `reason.type`: `"request"` when an API request caused the event.
    pub reason_type: Option<&'a str>,
    /// `reason.request.id`: the API request (`req_...`).
    pub request_id: Option<&'a str>,
    /// `reason.request.idempotency_key`.
    pub idempotency_key: Option<&'a str>,
}

/// The object a thin event is about: its `related_object`, borrowed from the notification.
///
/// ```
/// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
/// let body = TestNotification::new("v1.billing.meter.error_report_triggered")
///     .related_object("mtr_1", "billing.meter", "/v1/billing/meters/mtr_1")
///     .to_bytes();
/// let notification = EventNotification::from_verified_payload(body)?;
/// let related = notification.related_object().expect("names its object");
/// assert_eq!(related.url, Some("/v1/billing/meters/mtr_1")); // fetch it from there
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelatedObject<'a> {
    /// The object's id.
    pub id: Option<&'a str>,
    /// The object's type, e.g. `"billing.meter"`.
    pub object_type: Option<&'a str>,
    /// The API path to fetch it, relative to `https://api.stripe.com` (e.g. `/v1/billing/meters/mtr_123`).
    pub url: Option<&'a str>,
}

impl EventNotification {
    /// Reads a thin event notification from a payload whose signature **has already been verified**.
    ///
    /// The rule, in terms of what `serde_json::Value` reads from the same bytes: a JSON object (a repeated
    /// key counts with its last value) whose `object` is `"v2.core.event"`, with string `id` and `type`.
    /// `created` is a string (RFC 3339) or absent, `livemode` a bool, `context` a string or absent,
    /// `reason` and `related_object` objects or absent: a member of another type reads as absent, and
    /// members this type does not know (`data`, `changes`, newer ones) never fail.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAnEvent`](crate::ErrorKind::NotAnEvent): not JSON, not an object, [`InvalidEvent::SnapshotEvent`](super::InvalidEvent::SnapshotEvent) for a snapshot
    /// event (`"object": "event"`), another `object`, or `id` or `type` missing.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.event_type(), "v2.core.event_destination.ping");
    /// // A snapshot event is not a thin notification: the error names the mix-up.
    /// let snapshot = tower_stripe_webhook::test_helpers::TestEvent::new("invoice.paid", serde_json::json!({})).to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(snapshot).unwrap_err().code(), "unexpected_snapshot_event");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_verified_payload(payload: Bytes) -> Result<Self, Error> {
        read_as(payload, Kind::Thin, Self::from_fields)
    }

    /// The notification of `fields`, read from `payload` (a thin notification's).
    pub(super) fn from_fields<'a>(
        payload: &Bytes,
        fields: Fields<'a>,
        mut placer: Placer<'a>,
    ) -> Result<Self, Error> {
        let id = placer.place(fields.id).ok_or_else(|| missing("id"))?;
        let event_type = placer.place(fields.event_type).ok_or_else(|| missing("type"))?;
        let created = fields.created.into_str();
        let created_unix_millis = created.as_deref().and_then(rfc3339::unix_millis);
        Ok(Self {
            id,
            event_type,
            created: placer.place(created),
            created_unix_millis,
            livemode: fields.livemode.unwrap_or(false),
            context: placer.place(fields.context),
            reason: fields.reason.map(|reason| {
                [reason.kind, reason.request.id, reason.request.idempotency_key]
                    .map(|text| placer.place(text))
            }),
            related_object: fields
                .related_object
                .map(|related| [related.id, related.kind, related.url].map(|text| placer.place(text))),
            strings: Strings::new(payload.clone(), placer),
        })
    }

    /// The event id (`evt_...`). Stripe may deliver a notification more than once: deduplicate on it.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").id("evt_test_65R").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.id(), "evt_test_65R");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> &str {
        self.strings.get(self.id)
    }

    /// The event type, e.g. `"v1.billing.meter.error_report_triggered"` or
    /// `"v2.core.event_destination.ping"`. Any string: types added after this crate was written work.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v1.billing.meter.no_meter_found").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.event_type(), "v1.billing.meter.no_meter_found");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_type(&self) -> &str {
        self.strings.get(self.event_type)
    }

    /// `created` as sent: an RFC 3339 time with milliseconds, e.g. `"2022-02-15T00:27:45.330Z"`.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").created("2022-02-15T00:27:45.330Z").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.created(), Some("2022-02-15T00:27:45.330Z"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created(&self) -> Option<&str> {
        self.strings.optional(self.created)
    }

    /// `created` in milliseconds since the Unix epoch; `None` when absent or not RFC 3339.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").created("2022-02-15T00:27:45.330Z").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body)?.created_unix_millis(), Some(1_644_884_865_330));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created_unix_millis(&self) -> Option<i64> {
        self.created_unix_millis
    }

    /// `true` for live-mode events, `false` for test mode (and when the field is absent).
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").livemode(true).to_bytes();
    /// assert!(EventNotification::from_verified_payload(body)?.livemode());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn livemode(&self) -> bool {
        self.livemode
    }

    /// The account the event happened in (`acct_...`, possibly `/`-separated segments), for the
    /// `Stripe-Context` header when you fetch the event or its object; `None` for your own account.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").context("acct_1").to_bytes();
    /// // Send it as `Stripe-Context` when you fetch the event.
    /// assert_eq!(EventNotification::from_verified_payload(body)?.context(), Some("acct_1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(&self) -> Option<&str> {
        self.strings.optional(self.context)
    }

    /// Why the event happened, when the notification says.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").to_bytes();
    /// // This notification says nothing of its cause; see `EventReason` for one that does.
    /// assert_eq!(EventNotification::from_verified_payload(body)?.reason(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reason(&self) -> Option<EventReason<'_>> {
        self.reason
            .map(|[reason_type, request_id, idempotency_key]| EventReason {
                reason_type: self.strings.optional(reason_type),
                request_id: self.strings.optional(request_id),
                idempotency_key: self.strings.optional(idempotency_key),
            })
    }

    /// The object the event is about, when the notification names one.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v1.billing.meter.no_meter_found")
    ///     .related_object("mtr_1", "billing.meter", "/v1/billing/meters/mtr_1")
    ///     .to_bytes();
    /// let notification = EventNotification::from_verified_payload(body)?;
    /// assert_eq!(notification.related_object().and_then(|related| related.id), Some("mtr_1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn related_object(&self) -> Option<RelatedObject<'_>> {
        self.related_object.map(|[id, object_type, url]| RelatedObject {
            id: self.strings.optional(id),
            object_type: self.strings.optional(object_type),
            url: self.strings.optional(url),
        })
    }

    /// Deserializes the whole payload into the type you name, for fields this type does not model (a
    /// struct of just those fields, or [`serde_json::Value`]).
    ///
    /// # Errors
    ///
    /// The `serde_json` error when the payload does not fit `T`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::EventNotification;
    /// let notification = EventNotification::from_verified_payload(Bytes::from_static(
    ///     br#"{"id":"evt_1","object":"v2.core.event","type":"v2.core.account.updated","changes":{"a":1}}"#,
    /// ))?;
    /// let whole: serde_json::Value = notification.deserialize()?;
    /// assert_eq!(whole["changes"]["a"], 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.payload())
    }

    /// The whole verified payload, exactly as received.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::TestNotification, EventNotification};
    /// let body = TestNotification::new("v2.core.event_destination.ping").to_bytes();
    /// assert_eq!(EventNotification::from_verified_payload(body.clone())?.payload(), &body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn payload(&self) -> &Bytes {
        &self.strings.payload
    }
}

impl fmt::Debug for EventNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventNotification")
            .field("id", &self.id())
            .field("type", &self.event_type())
            .field("created", &self.created())
            .field("livemode", &self.livemode())
            .field("context", &self.context())
            .field("related_object", &self.related_object())
            .field("payload_len", &self.payload().len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{error::ErrorKind, InvalidEvent};

    fn reason(payload: &'static [u8]) -> InvalidEvent {
        match EventNotification::from_verified_payload(Bytes::from_static(payload))
            .unwrap_err()
            .kind()
        {
            ErrorKind::NotAnEvent(reason) => *reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reads_every_field() {
        let notification = EventNotification::from_verified_payload(Bytes::from_static(
            br#"{"id":"evt_1","object":"v2.core.event","type":"v2.core.account[requirements].updated",
                "created":"2022-02-15T00:27:45.330Z","livemode":true,"context":"acct_1/acct_2",
                "reason":{"type":"request","request":{"id":"req_1","idempotency_key":"k\u00e9y"}},
                "related_object":{"id":"acct_2","type":"v2.core.account","url":"/v2/core/accounts/acct_2"},
                "data":{"anything":[1,2]},"newer_field":{"x":null}}"#,
        ))
        .unwrap();
        assert_eq!(notification.id(), "evt_1");
        assert_eq!(notification.event_type(), "v2.core.account[requirements].updated");
        assert_eq!(notification.created(), Some("2022-02-15T00:27:45.330Z"));
        assert_eq!(notification.created_unix_millis(), Some(1_644_884_865_330));
        assert!(notification.livemode());
        assert_eq!(notification.context(), Some("acct_1/acct_2"));
        assert_eq!(
            notification.reason(),
            Some(EventReason {
                reason_type: Some("request"),
                request_id: Some("req_1"),
                idempotency_key: Some("k\u{e9}y"),
            })
        );
        assert_eq!(
            notification.related_object(),
            Some(RelatedObject {
                id: Some("acct_2"),
                object_type: Some("v2.core.account"),
                url: Some("/v2/core/accounts/acct_2"),
            })
        );
        let debug = format!("{notification:?}");
        assert!(debug.contains("evt_1") && !debug.contains("anything"), "{debug}");
    }

    #[test]
    fn optional_fields_may_be_absent_null_or_of_another_type() {
        let notification = EventNotification::from_verified_payload(Bytes::from_static(
            br#"{"id":"evt_1","object":"v2.core.event","type":"t","created":"yesterday","context":null,
                "reason":null,"related_object":"bm_1","livemode":"true"}"#,
        ))
        .unwrap();
        assert_eq!(notification.created(), Some("yesterday"));
        assert_eq!(notification.created_unix_millis(), None);
        assert_eq!(
            (
                notification.context(),
                notification.reason(),
                notification.related_object()
            ),
            (None, None, None)
        );
        assert!(!notification.livemode());
        let bare = EventNotification::from_verified_payload(Bytes::from_static(
            br#"{"id":"evt_1","object":"v2.core.event","type":"t","created":1700000000}"#,
        ))
        .unwrap();
        assert_eq!((bare.created(), bare.created_unix_millis()), (None, None));
    }

    #[test]
    fn what_is_not_a_thin_notification() {
        assert_eq!(
            reason(br#"{"id":"evt_1","object":"event","type":"x","created":1,"data":{"object":{}}}"#),
            InvalidEvent::SnapshotEvent
        );
        assert_eq!(
            reason(br#"{"id":"evt_1","type":"x"}"#),
            InvalidEvent::MissingField("object")
        );
        assert_eq!(
            reason(br#"{"id":"evt_1","object":"charge","type":"x"}"#),
            InvalidEvent::NotAnEventObject
        );
        assert_eq!(
            reason(br#"{"object":"v2.core.event","type":"x"}"#),
            InvalidEvent::MissingField("id")
        );
        assert_eq!(
            reason(br#"{"id":"evt_1","object":"v2.core.event","type":7}"#),
            InvalidEvent::MissingField("type")
        );
        assert_eq!(reason(b"[]"), InvalidEvent::NotAnObject);
        assert!(matches!(reason(b"{"), InvalidEvent::Json { .. }));
    }
}
