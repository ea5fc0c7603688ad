//! Reading the envelope out of a **verified** payload with `serde_json`, borrowing from it.
//!
//! The payload is read once, by `serde_json::from_str` (after `std::str::from_utf8`, so that the strings
//! serde_json skips are valid UTF-8 too), into borrowed fields: strings written without escapes are
//! slices of the payload, strings with escapes are decoded, and `data.object` and
//! `data.previous_attributes` are `&RawValue`s, the exact text of those values. Every other value is
//! skipped by serde_json's own validating skip. The fields of a snapshot event and of a thin event
//! notification are read in the same pass; the `object` member says which the payload is. The rule, in
//! terms of the `serde_json::Value` the same bytes read as:
//!
//! - the payload must be a JSON object; a repeated key counts with its **last** value, as in `Value`;
//! - a string field is `Value::as_str` of its member, an integer field `as_i64` or `as_u64`, a boolean
//!   `as_bool`: a member of another type reads as absent;
//! - an object field (`data`, `request`, `reason`, `related_object`) that is not an object reads as
//!   absent, except `request`, which older API versions send as the request id, a string;
//! - a `data.previous_attributes` of `null` is absent.
//!
//! serde_json is linear in the payload on every input, and nothing here runs before the signature has
//! verified.

use std::{borrow::Cow, marker::PhantomData};

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The envelope fields of a payload, as the rule above reads them.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    pub(crate) id: Option<Cow<'a, str>>,
    pub(crate) object: Option<Cow<'a, str>>,
    pub(crate) event_type: Option<Cow<'a, str>>,
    /// An integer in a snapshot event, an RFC 3339 string in a thin notification.
    pub(crate) created: Scalar<'a>,
    pub(crate) livemode: Option<bool>,
    pub(crate) api_version: Option<Cow<'a, str>>,
    pub(crate) account: Option<Cow<'a, str>>,
    pub(crate) pending_webhooks: Option<u64>,
    pub(crate) request: Request<'a>,
    pub(crate) data: Option<Data<'a>>,
    /// Thin notifications: the account (or `/`-separated context) the event happened in.
    pub(crate) context: Option<Cow<'a, str>>,
    pub(crate) reason: Option<Reason<'a>>,
    pub(crate) related_object: Option<RelatedObject<'a>>,
}

/// The members of `data` the event keeps, as raw JSON text.
#[derive(Debug, Default)]
pub(crate) struct Data<'a> {
    pub(crate) object: Option<&'a RawValue>,
    pub(crate) previous_attributes: Option<&'a RawValue>,
}

/// `request`: the request id as a string (older API versions), or `{"id": ..., "idempotency_key": ...}`.
#[derive(Debug, Default)]
pub(crate) struct Request<'a> {
    pub(crate) id: Option<Cow<'a, str>>,
    pub(crate) idempotency_key: Option<Cow<'a, str>>,
}

/// A thin notification's `reason`: `{"type": "request", "request": {"id", "idempotency_key"}}`.
#[derive(Debug, Default)]
pub(crate) struct Reason<'a> {
    pub(crate) kind: Option<Cow<'a, str>>,
    pub(crate) request: Request<'a>,
}

/// A thin notification's `related_object`: `{"id", "type", "url"}`.
#[derive(Debug, Default)]
pub(crate) struct RelatedObject<'a> {
    pub(crate) id: Option<Cow<'a, str>>,
    pub(crate) kind: Option<Cow<'a, str>>,
    pub(crate) url: Option<Cow<'a, str>>,
}

/// Reads the envelope of `text`, which must be one JSON object.
pub(crate) fn read(text: &str) -> serde_json::Result<Fields<'_>> {
    serde_json::from_str(text)
}

/// The members of an object the envelope reads, each by its key (a derived identifier, so that keys
/// written with escapes are decoded as `Value` decodes them; unknown keys are `Other` and skipped).
trait Members<'de>: Default {
    type Key: Deserialize<'de>;

    /// Reads the value of `key` from `map`, replacing what an earlier member of the same key set.
    fn member<A: MapAccess<'de>>(&mut self, key: Self::Key, map: &mut A) -> Result<(), A::Error>;
}

/// Reads every member of `map` into a `T`.
fn members<'de, T: Members<'de>, A: MapAccess<'de>>(mut map: A) -> Result<T, A::Error> {
    let mut members = T::default();
    while let Some(key) = map.next_key()? {
        members.member(key, &mut map)?;
    }
    Ok(members)
}

/// A string member: `Value::as_str`.
fn string<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<Cow<'de, str>>, A::Error> {
    Ok(map.next_value::<Scalar<'de>>()?.into_str())
}

/// An object member: absent when of another type.
fn object<'de, T: Members<'de>, A: MapAccess<'de>>(map: &mut A) -> Result<Option<T>, A::Error> {
    Ok(map.next_value::<MaybeObject<T>>()?.0)
}

fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_map`, not a derived struct: a struct would also accept an array, and refuse
        // repeated keys that `serde_json::Value` accepts.
        let (_, fields) = deserializer.deserialize_map(ScalarVisitor::<Fields<'de>>(PhantomData))?;
        Ok(fields.unwrap_or_default())
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
    Context,
    Reason,
    RelatedObject,
    #[serde(other)]
    Other,
}

impl<'de> Members<'de> for Fields<'de> {
    type Key = Key;

    fn member<A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Id => self.id = string(map)?,
            Key::Object => self.object = string(map)?,
            Key::Type => self.event_type = string(map)?,
            Key::ApiVersion => self.api_version = string(map)?,
            Key::Account => self.account = string(map)?,
            Key::Context => self.context = string(map)?,
            Key::Created => self.created = map.next_value()?,
            Key::Livemode => self.livemode = map.next_value::<Scalar<'de>>()?.as_bool(),
            Key::PendingWebhooks => self.pending_webhooks = map.next_value::<Scalar<'de>>()?.as_u64(),
            Key::Request => self.request = map.next_value()?,
            Key::Data => self.data = object(map)?,
            Key::Reason => self.reason = object(map)?,
            Key::RelatedObject => self.related_object = object(map)?,
            Key::Other => skip(map)?,
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum DataKey {
    Object,
    PreviousAttributes,
    #[serde(other)]
    Other,
}

impl<'de> Members<'de> for Data<'de> {
    type Key = DataKey;

    fn member<A: MapAccess<'de>>(&mut self, key: DataKey, map: &mut A) -> Result<(), A::Error> {
        match key {
            DataKey::Object => self.object = Some(map.next_value()?),
            DataKey::PreviousAttributes => {
                let raw: &RawValue = map.next_value()?;
                self.previous_attributes = (raw.get() != "null").then_some(raw);
            }
            DataKey::Other => skip(map)?,
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum RequestKey {
    Id,
    IdempotencyKey,
    #[serde(other)]
    Other,
}

impl<'de> Members<'de> for Request<'de> {
    type Key = RequestKey;

    fn member<A: MapAccess<'de>>(&mut self, key: RequestKey, map: &mut A) -> Result<(), A::Error> {
        match key {
            RequestKey::Id => self.id = string(map)?,
            RequestKey::IdempotencyKey => self.idempotency_key = string(map)?,
            RequestKey::Other => skip(map)?,
        }
        Ok(())
    }
}

/// `request` is an object, or the request id as a string (older API versions).
impl<'de> Deserialize<'de> for Request<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(
            match Scalar::deserialize_with_object::<D, Request<'de>>(deserializer)? {
                (_, Some(request)) => request,
                (scalar, None) => Request {
                    id: scalar.into_str(),
                    idempotency_key: None,
                },
            },
        )
    }
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum ReasonKey {
    Type,
    Request,
    #[serde(other)]
    Other,
}

impl<'de> Members<'de> for Reason<'de> {
    type Key = ReasonKey;

    fn member<A: MapAccess<'de>>(&mut self, key: ReasonKey, map: &mut A) -> Result<(), A::Error> {
        match key {
            ReasonKey::Type => self.kind = string(map)?,
            ReasonKey::Request => self.request = object(map)?.unwrap_or_default(),
            ReasonKey::Other => skip(map)?,
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum RelatedKey {
    Id,
    Type,
    Url,
    #[serde(other)]
    Other,
}

impl<'de> Members<'de> for RelatedObject<'de> {
    type Key = RelatedKey;

    fn member<A: MapAccess<'de>>(&mut self, key: RelatedKey, map: &mut A) -> Result<(), A::Error> {
        match key {
            RelatedKey::Id => self.id = string(map)?,
            RelatedKey::Type => self.kind = string(map)?,
            RelatedKey::Url => self.url = string(map)?,
            RelatedKey::Other => skip(map)?,
        }
        Ok(())
    }
}

/// Any JSON value, kept only when it is a scalar the envelope may use: what `Value::as_str`, `as_i64`,
/// `as_u64` and `as_bool` read from it.
#[derive(Debug, Default)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    /// serde_json reads non-negative integers as `u64` and negative ones as `i64`, as `Value` does.
    U64(u64),
    I64(i64),
    /// `null`, a float, an array or an object; or absent.
    #[default]
    Other,
}

impl<'a> Scalar<'a> {
    pub(crate) fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_i64(&self) -> Option<i64> {
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

    /// Any value: a scalar, or the members of an object read into a `T` (an array is skipped).
    fn deserialize_with_object<D, T>(deserializer: D) -> Result<(Self, Option<T>), D::Error>
    where
        D: Deserializer<'a>,
        T: Members<'a>,
    {
        deserializer.deserialize_any(ScalarVisitor::<T>(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // An object's members are skipped into the unit reader.
        Ok(Self::deserialize_with_object::<D, ()>(deserializer)?.0)
    }
}

/// Members of nothing: every member is skipped.
impl<'de> Members<'de> for () {
    type Key = IgnoredAny;

    fn member<A: MapAccess<'de>>(&mut self, _: IgnoredAny, map: &mut A) -> Result<(), A::Error> {
        skip(map)
    }
}

struct ScalarVisitor<T>(PhantomData<T>);

impl<'de, T: Members<'de>> Visitor<'de> for ScalarVisitor<T> {
    type Value = (Scalar<'de>, Option<T>);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok((Scalar::Str(Cow::Borrowed(text)), None))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok((Scalar::Str(Cow::Owned(text.to_owned())), None))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok((Scalar::Str(Cow::Owned(text)), None))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok((Scalar::Bool(value), None))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok((Scalar::I64(value), None))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok((Scalar::U64(value), None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok((Scalar::Other, None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((Scalar::Other, None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((Scalar::Other, None))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok((Scalar::Other, Some(members(map)?)))
    }
}

/// An object read into a `T`; `None` for any other value.
struct MaybeObject<T>(Option<T>);

impl<'de, T: Members<'de>> Deserialize<'de> for MaybeObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(Scalar::deserialize_with_object::<D, T>(deserializer)?.1))
    }
}
