//! Parsing the `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`.
//!
//! The grammar is the one Stripe's SDKs share (see the crate docs for the policy table):
//!
//! * the header is split on `,` with no trimming of items or keys (`t=1, v1=...` has no `v1` item, as in
//!   stripe-node and stripe-python);
//! * an item is `key=value`, where the value runs to the next `=` (so `v1=<sig>=junk` carries `<sig>`, as in
//!   node and python); items with another key (`v0`, unknown schemes) and items without `=` are ignored,
//!   except a bare `t` or `v1`, which is malformed;
//! * the first `t` wins (python, ruby, java, php, .NET; node and go take the last); Stripe sends one;
//! * `t` is a decimal integer: optional sign, ASCII digits, surrounded only by whitespace that both
//!   stripe-node's `parseInt` and stripe-python's `int` strip. Everything node's `parseInt` would
//!   quietly truncate (`1e9`, `1.5`, `123abc`, `0x1F`) or turn into a never-expiring `NaN` (`abc`) is
//!   malformed. Leading zeros, `+` and `-0` are accepted and normalized, as both SDKs do, because the
//!   signed text is the normalized integer. Values are exact up to 128 bits; longer ones are malformed;
//! * every `v1` value is a candidate signature, compared in order.
//!
//! Parsing does not allocate: [`SignatureHeader`] borrows the header bytes and walks them again for the
//! candidates.

use std::fmt;

use crate::error::{Error, ErrorKind};

/// A parsed `Stripe-Signature` header, borrowing the header's bytes.
///
/// ```
/// use tower_stripe_webhook::SignatureHeader;
///
/// let header = SignatureHeader::parse(b"t=1700000000,v1=abc,v0=def,v1=0123")?;
/// assert_eq!(header.timestamp(), 1_700_000_000);
/// assert_eq!(header.signatures().collect::<Vec<_>>(), [&b"abc"[..], &b"0123"[..]]);
/// # Ok::<(), tower_stripe_webhook::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    raw: &'a [u8],
    timestamp: i128,
    signature_count: usize,
}

impl<'a> SignatureHeader<'a> {
    /// Parses a header value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MalformedHeader`] with the [`MalformedHeader`] reason, or [`ErrorKind::NoV1Signature`]
    /// when the header is well formed but carries no `v1` item.
    ///
    /// ```
    /// use tower_stripe_webhook::{ErrorKind, MalformedHeader, SignatureHeader};
    ///
    /// let err = SignatureHeader::parse(b"t=1e9,v1=abc").unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::MalformedHeader(MalformedHeader::InvalidTimestamp));
    /// let err = SignatureHeader::parse(b"t=1700000000,v0=abc").unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::NoV1Signature);
    /// ```
    pub fn parse(raw: &'a [u8]) -> Result<Self, Error> {
        if raw.is_empty() {
            return Err(malformed(MalformedHeader::Empty));
        }
        let mut timestamp = None;
        let mut signature_count = 0;
        for (key, value) in items(raw) {
            match key {
                b"t" => {
                    let value = value.ok_or(malformed(MalformedHeader::BareTimestamp))?;
                    if timestamp.is_none() {
                        timestamp = Some(parse_timestamp(value)?);
                    }
                }
                b"v1" => {
                    value.ok_or(malformed(MalformedHeader::BareSignature))?;
                    signature_count += 1;
                }
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(malformed(MalformedHeader::MissingTimestamp))?;
        if signature_count == 0 {
            return Err(Error::new(ErrorKind::NoV1Signature));
        }
        Ok(Self {
            raw,
            timestamp,
            signature_count,
        })
    }

    /// The signature timestamp in Unix seconds, saturated to the `i64` range.
    ///
    /// Only a timestamp beyond ±2^63 s (hundreds of billions of years) saturates; such a header verifies
    /// only with the age check disabled or as a far-future timestamp.
    pub fn timestamp(&self) -> i64 {
        saturate(self.timestamp)
    }

    /// Reassembles a header parsed before (by [`SignatureHeader::parse`] on the same bytes).
    pub(crate) fn from_checked(raw: &'a [u8], timestamp: i128, signature_count: usize) -> Self {
        Self {
            raw,
            timestamp,
            signature_count,
        }
    }

    pub(crate) fn timestamp_exact(&self) -> i128 {
        self.timestamp
    }

    /// The `v1` values, in header order, exactly as they appear (not validated: a malformed value simply
    /// never matches).
    pub fn signatures(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        items(self.raw).filter_map(|(key, value)| if key == b"v1" { value } else { None })
    }

    /// How many `v1` values the header carries (at least one).
    ///
    /// ```
    /// # use tower_stripe_webhook::SignatureHeader;
    /// assert_eq!(SignatureHeader::parse(b"t=1,v1=a,v1=b")?.signature_count(), 2);
    /// # Ok::<(), tower_stripe_webhook::Error>(())
    /// ```
    pub fn signature_count(&self) -> usize {
        self.signature_count
    }
}

pub(crate) fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

fn malformed(reason: MalformedHeader) -> Error {
    Error::new(ErrorKind::MalformedHeader(reason))
}

/// `(key, value)` for every `,`-separated item; the value runs from the first `=` to the next `=`.
fn items(raw: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    raw.split(|&b| b == b',').map(|item| {
        let mut parts = item.splitn(3, |&b| b == b'=');
        let key = parts.next().unwrap_or_default();
        (key, parts.next())
    })
}

/// What was wrong with a malformed `Stripe-Signature` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedHeader {
    /// The header value is empty.
    Empty,
    /// More than one `Stripe-Signature` header was sent.
    Repeated,
    /// No `t=` item.
    MissingTimestamp,
    /// A `t` item without `=value`.
    BareTimestamp,
    /// A `v1` item without `=value`.
    BareSignature,
    /// The `t` value is not a decimal integer number of seconds.
    InvalidTimestamp,
    /// The `t` value does not fit in 128 bits.
    TimestampOutOfRange,
    /// A `v1` value with non-ASCII bytes was reached before any signature matched (as stripe-python, which
    /// raises there; signatures are lowercase hex).
    NonAsciiSignature,
}

impl fmt::Display for MalformedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the header is empty",
            Self::Repeated => "the request carries more than one Stripe-Signature header",
            Self::MissingTimestamp => "it has no `t=` timestamp item",
            Self::BareTimestamp => "it has a `t` item without a value",
            Self::BareSignature => "it has a `v1` item without a value",
            Self::InvalidTimestamp => "the `t=` value is not an integer number of seconds",
            Self::TimestampOutOfRange => "the `t=` value is out of range",
            Self::NonAsciiSignature => "a `v1` value contains non-ASCII bytes",
        })
    }
}

/// Parses the `t` value: whitespace, optional sign, ASCII digits, whitespace; exact in `i128`.
fn parse_timestamp(value: &[u8]) -> Result<i128, Error> {
    let mut rest = value;
    while let Some(len) = leading_whitespace(rest) {
        rest = &rest[len..];
    }
    while let Some(len) = trailing_whitespace(rest) {
        rest = &rest[..rest.len() - len];
    }
    let (negative, digits) = match rest {
        [b'-', digits @ ..] => (true, digits),
        [b'+', digits @ ..] => (false, digits),
        digits => (false, digits),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed(MalformedHeader::InvalidTimestamp));
    }
    let mut magnitude: i128 = 0;
    for &digit in digits {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(digit - b'0')))
            .ok_or(malformed(MalformedHeader::TimestampOutOfRange))?;
    }
    Ok(if negative { -magnitude } else { magnitude })
}

/// Length of the whitespace character at the start of `bytes`, for the characters that both JavaScript's
/// `parseInt` and Python's `int` skip before a number: ASCII `\t \n \v \f \r` and space, and (UTF-8) U+00A0,
/// U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. (Node also skips U+FEFF, which Python
/// refuses; Python also skips U+0085, which `parseInt` does not.)
fn leading_whitespace(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'\t'..=b'\r' | b' ', ..] => Some(1),
        [0xC2, 0xA0, ..] => Some(2),
        [0xE1, 0x9A, 0x80, ..]
        | [0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF, ..]
        | [0xE2, 0x81, 0x9F, ..]
        | [0xE3, 0x80, 0x80, ..] => Some(3),
        _ => None,
    }
}

/// Length of the whitespace character at the end of `bytes`: Python's `int` strips the same set as
/// [`leading_whitespace`] plus U+0085 after the digits; node's `parseInt` ignores anything after them.
fn trailing_whitespace(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [.., b'\t'..=b'\r' | b' '] => Some(1),
        [.., 0xC2, 0x85 | 0xA0] => Some(2),
        [.., 0xE1, 0x9A, 0x80]
        | [.., 0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF]
        | [.., 0xE2, 0x81, 0x9F]
        | [.., 0xE3, 0x80, 0x80] => Some(3),
        _ => None,
    }
}

/// The decimal text of a timestamp as the SDKs sign it (normalized: no sign for zero or positives, no
/// leading zeros), written into a stack buffer.
pub(crate) struct TimestampText {
    buf: [u8; 40],
    start: usize,
}

impl TimestampText {
    pub(crate) fn new(value: i128) -> Self {
        let mut buf = [0; 40];
        let mut start = buf.len();
        let mut magnitude = value.unsigned_abs();
        loop {
            start -= 1;
            // `magnitude % 10` is below 10, so the cast cannot truncate.
            buf[start] = b'0' + (magnitude % 10) as u8;
            magnitude /= 10;
            if magnitude == 0 {
                break;
            }
        }
        if value < 0 {
            start -= 1;
            buf[start] = b'-';
        }
        Self { buf, start }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(header: &[u8]) -> ErrorKind {
        SignatureHeader::parse(header).unwrap_err().kind().clone()
    }

    fn ts(value: &str) -> Result<i128, ErrorKind> {
        parse_timestamp(value.as_bytes()).map_err(|e| e.kind().clone())
    }

    #[test]
    fn timestamp_forms_both_sdks_accept() {
        assert_eq!(ts("1700000000"), Ok(1_700_000_000));
        assert_eq!(ts("0001700000000"), Ok(1_700_000_000));
        assert_eq!(ts("+1700000000"), Ok(1_700_000_000));
        assert_eq!(ts("-0"), Ok(0));
        assert_eq!(ts("-5"), Ok(-5));
        assert_eq!(ts(" \t1700000000 \t"), Ok(1_700_000_000));
        assert_eq!(ts("\u{a0}\u{3000}17\u{2009}"), Ok(17));
        assert_eq!(ts("17\u{85}"), Ok(17));
        assert_eq!(ts("9223372036854775808"), Ok(1 << 63));
        assert_eq!(ts("170141183460469231731687303715884105727"), Ok(i128::MAX));
    }

    #[test]
    fn timestamp_forms_we_refuse() {
        let invalid = Err(ErrorKind::MalformedHeader(MalformedHeader::InvalidTimestamp));
        for value in [
            "",
            " ",
            "abc",
            "NaN",
            "Infinity",
            "1e9",
            "1.5",
            "1700000000.0",
            "123abc",
            "0x6553F100",
            "1_700",
            "+-1",
            "- 1",
            "\u{feff}17",
            "\u{85}17",
            "\u{1c}17",
            "17\u{1c}",
            "１７",
        ] {
            assert_eq!(ts(value), invalid, "{value:?}");
        }
        assert_eq!(
            ts(&"1".repeat(40)),
            Err(ErrorKind::MalformedHeader(MalformedHeader::TimestampOutOfRange))
        );
    }

    #[test]
    fn normalized_text_is_what_the_sdks_sign() {
        for (value, text) in [(0, "0"), (7, "7"), (-300, "-300"), (1_700_000_000, "1700000000")] {
            assert_eq!(TimestampText::new(value).as_bytes(), text.as_bytes());
        }
        assert_eq!(
            TimestampText::new(i128::MIN).as_bytes(),
            b"-170141183460469231731687303715884105728"
        );
        assert_eq!(
            TimestampText::new(i128::MAX).as_bytes(),
            b"170141183460469231731687303715884105727"
        );
    }

    #[test]
    fn grammar() {
        let header = SignatureHeader::parse(b"v1=a=junk,x,,t=5=6,v0=b,t=9,V1=c,v1=").unwrap();
        assert_eq!(header.timestamp(), 5, "first t wins, value stops at the next =");
        assert_eq!(header.signatures().collect::<Vec<_>>(), [&b"a"[..], &b""[..]]);
        assert_eq!(header.signature_count(), 2);
    }

    #[test]
    fn every_malformation_has_its_reason() {
        use MalformedHeader::*;
        let m = ErrorKind::MalformedHeader;
        assert_eq!(kind(b""), m(Empty));
        assert_eq!(kind(b"v1=abc"), m(MissingTimestamp));
        assert_eq!(kind(b" t=1,v1=abc"), m(MissingTimestamp));
        assert_eq!(kind(b"t,t=1,v1=abc"), m(BareTimestamp));
        assert_eq!(kind(b"t=1,v1=abc,t"), m(BareTimestamp));
        assert_eq!(kind(b"t=1,v1"), m(BareSignature));
        assert_eq!(kind(b"t=abc,v1=abc"), m(InvalidTimestamp));
        assert_eq!(kind(b"t==1,v1=abc"), m(InvalidTimestamp));
        assert_eq!(kind(b"t=1,v0=abc"), ErrorKind::NoV1Signature);
        assert_eq!(kind(b"t=1, v1=abc"), ErrorKind::NoV1Signature);
        assert_eq!(kind(b","), m(MissingTimestamp));
    }

    #[test]
    fn later_timestamps_are_ignored_like_the_first_wins_sdks() {
        let header = SignatureHeader::parse(b"t=10,t=abc,v1=x").unwrap();
        assert_eq!(header.timestamp(), 10);
    }

    #[test]
    fn saturates_only_beyond_i64() {
        assert_eq!(saturate(5), 5);
        assert_eq!(saturate(i128::from(i64::MAX) + 1), i64::MAX);
        assert_eq!(saturate(i128::from(i64::MIN) - 1), i64::MIN);
    }
}
