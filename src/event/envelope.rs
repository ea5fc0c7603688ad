//! Reading the event envelope out of a **verified** payload with `serde_json`, borrowing from it.
//!
//! The payload is read once, by `serde_json::from_str` (after `std::str::from_utf8`, so that the strings
//! serde_json skips are valid UTF-8 too), into borrowed fields: envelope strings written without escapes
//! are slices of the payload, strings with escapes are decoded, and `data.object` and
//! `data.previous_attributes` are `&RawValue`s, the exact text of those values. Every other value is
//! skipped by serde_json's own validating skip. The rule, in terms of the `serde_json::Value` the same
//! bytes read as:
//!
//! - the payload must be a JSON object; a repeated key counts with its **last** value, as in `Value`;
//! - a string field (`id`, `object`, `type`, `api_version`, `account`) is `Value::as_str` of its member, an
//!   integer field is `as_i64` (`created`) or `as_u64` (`pending_webhooks`), `livemode` is `as_bool`: a
//!   member of another type reads as absent;
//! - `request` is a string (the request id, as older API versions send it) or an object with `id` and
//!   `idempotency_key`;
//! - `data` is an object; its `object` must be an object, and a `previous_attributes` of `null` is absent.
//!
//! serde_json is linear in the payload on every input, and nothing here runs before the signature has
//! verified.

use std::borrow::Cow;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The envelope fields of a payload, as the rule above reads them.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    pub(crate) id: Option<Cow<'a, str>>,
    pub(crate) object: Option<Cow<'a, str>>,
    pub(crate) event_type: Option<Cow<'a, str>>,
    pub(crate) created: Option<i64>,
    pub(crate) livemode: Option<bool>,
    pub(crate) api_version: Option<Cow<'a, str>>,
    pub(crate) account: Option<Cow<'a, str>>,
    pub(crate) pending_webhooks: Option<u64>,
    pub(crate) request_id: Option<Cow<'a, str>>,
    pub(crate) idempotency_key: Option<Cow<'a, str>>,
    /// `None` when `data` is absent or not an object.
    pub(crate) data: Option<Data<'a>>,
}

/// The members of `data` the event keeps, as raw JSON text.
#[derive(Debug, Default)]
pub(crate) struct Data<'a> {
    pub(crate) object: Option<&'a RawValue>,
    pub(crate) previous_attributes: Option<&'a RawValue>,
}

/// Reads the envelope of `text`, which must be one JSON object.
pub(crate) fn read(text: &str) -> serde_json::Result<Fields<'_>> {
    serde_json::from_str(text)
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_map`, not a derived struct: a struct would also accept an array, and refuse
        // repeated keys that `serde_json::Value` accepts.
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Id,
    Object,
    Type,
    Created,
    Livemode,
    ApiVersion,
    Account,
    PendingWebhooks,
    Request,
    Data,
    #[serde(other)]
    Other,
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Id => fields.id = map.next_value::<Scalar<'de>>()?.into_str(),
                Key::Object => fields.object = map.next_value::<Scalar<'de>>()?.into_str(),
                Key::Type => fields.event_type = map.next_value::<Scalar<'de>>()?.into_str(),
                Key::ApiVersion => fields.api_version = map.next_value::<Scalar<'de>>()?.into_str(),
                Key::Account => fields.account = map.next_value::<Scalar<'de>>()?.into_str(),
                Key::Created => fields.created = map.next_value::<Scalar<'de>>()?.as_i64(),
                Key::Livemode => fields.livemode = map.next_value::<Scalar<'de>>()?.as_bool(),
                Key::PendingWebhooks => fields.pending_webhooks = map.next_value::<Scalar<'de>>()?.as_u64(),
                Key::Request => {
                    let Request(id, key) = map.next_value()?;
                    (fields.request_id, fields.idempotency_key) = (id, key);
                }
                Key::Data => fields.data = map.next_value::<MaybeData<'de>>()?.0,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

/// Any JSON value, kept only when it is a scalar the envelope may use: what `Value::as_str`, `as_i64`,
/// `as_u64` and `as_bool` read from it.
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    /// serde_json reads non-negative integers as `u64` and negative ones as `i64`, as `Value` does.
    U64(u64),
    I64(i64),
    Other,
}

impl<'a> Scalar<'a> {
    fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(text) => Some(text),
            _ => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::I64(value) => Some(value),
            Self::U64(value) => i64::try_from(value).ok(),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U64(value) => Some(value),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(value) => Some(value),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

/// The `visit_*` methods for the values a visitor of objects reads as `$other`: scalars are dropped,
/// arrays skipped with serde_json's validating skip.
macro_rules! visit_non_objects_as {
    ($other:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($other)
        }
    };
}

/// The `visit_*` methods for strings, borrowed when serde_json can lend them (no escapes), handed to
/// `$make`, a function of a `Cow<'de, str>`.
macro_rules! visit_strings_with {
    ($make:expr) => {
        fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
            Ok($make(Cow::Borrowed(text)))
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok($make(Cow::Owned(text.to_owned())))
        }
        fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
            Ok($make(Cow::Owned(text)))
        }
    };
}

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    visit_strings_with!(Scalar::Str);

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(value))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// `request`: the request id as a string (older API versions), or `{"id": ..., "idempotency_key": ...}`.
struct Request<'a>(Option<Cow<'a, str>>, Option<Cow<'a, str>>);

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum RequestKey {
    Id,
    IdempotencyKey,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Request<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RequestVisitor)
    }
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = Request<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    visit_strings_with!(|id| Request(Some(id), None));
    visit_non_objects_as!(Request(None, None));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut request = Request(None, None);
        while let Some(key) = map.next_key::<RequestKey>()? {
            match key {
                RequestKey::Id => request.0 = map.next_value::<Scalar<'de>>()?.into_str(),
                RequestKey::IdempotencyKey => request.1 = map.next_value::<Scalar<'de>>()?.into_str(),
                RequestKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(request)
    }
}

/// `data`, when it is an object.
struct MaybeData<'a>(Option<Data<'a>>);

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum DataKey {
    Object,
    PreviousAttributes,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for MaybeData<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = MaybeData<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(MaybeData(None))
    }
    visit_non_objects_as!(MaybeData(None));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data = Data::default();
        while let Some(key) = map.next_key::<DataKey>()? {
            match key {
                DataKey::Object => data.object = Some(map.next_value()?),
                DataKey::PreviousAttributes => {
                    let raw: &RawValue = map.next_value()?;
                    data.previous_attributes = (raw.get() != "null").then_some(raw);
                }
                DataKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(MaybeData(Some(data)))
    }
}
