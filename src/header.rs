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
    parsed: Parsed,
}

/// What parsing found, as positions in the header: lets the layer parse before reading the body and
/// reassemble the header afterwards without parsing it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The `i128` timestamp as bytes: an `i128` field would align this, and the layer's response future that
    /// holds it, to 16 bytes (the future: 416 bytes with the padding, 400 without).
    timestamp: [u8; 16],
    /// The normalized digits of `t` (no sign, no leading zeros) are `raw[digits.0..digits.1]`.
    digits: (usize, usize),
    signature_count: usize,
    /// Where the first [`KEPT`] `v1` values are, so that matching does not split the header again.
    kept: [(u32, u32); KEPT],
    /// Where to resume looking for `v1` items after the kept ones.
    resume: usize,
}

/// How many `v1` positions a parse keeps: Stripe sends one, or two during a secret rotation.
const KEPT: usize = 4;

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
        match canonical(raw) {
            Some(parsed) => Ok(Self { raw, parsed }),
            None => Self::parse_items(raw),
        }
    }

    /// The general parse, item by item.
    fn parse_items(raw: &'a [u8]) -> Result<Self, Error> {
        if raw.is_empty() {
            return Err(malformed(MalformedHeader::Empty));
        }
        let mut timestamp = None;
        let mut signature_count = 0;
        let mut kept = [(0, 0); KEPT];
        let mut resume = raw.len();
        let mut items = items(raw);
        while let Some((key, value)) = items.next() {
            match key {
                b"t" => {
                    let value = value.ok_or_else(|| malformed(MalformedHeader::BareTimestamp))?;
                    if timestamp.is_none() {
                        let (value_timestamp, digits) = parse_timestamp(value)?;
                        // `value` is a subslice of `raw`: its digits' position in `raw`.
                        let offset = value.as_ptr() as usize - raw.as_ptr() as usize;
                        timestamp = Some((value_timestamp, (offset + digits.start, offset + digits.end)));
                    }
                }
                b"v1" => {
                    let value = value.ok_or_else(|| malformed(MalformedHeader::BareSignature))?;
                    if let Some(slot) = kept.get_mut(signature_count) {
                        let start = value.as_ptr() as usize - raw.as_ptr() as usize;
                        // Header values are far below 4 GiB (hyper caps the whole head at 400 KiB).
                        *slot = (
                            u32::try_from(start).unwrap_or(u32::MAX),
                            u32::try_from(value.len()).unwrap_or(0),
                        );
                        if signature_count + 1 == KEPT {
                            resume = items.position(raw);
                        }
                    }
                    signature_count += 1;
                }
                _ => {}
            }
        }
        let (timestamp, digits) = timestamp.ok_or_else(|| malformed(MalformedHeader::MissingTimestamp))?;
        if signature_count == 0 {
            return Err(Error::new(ErrorKind::NoV1Signature));
        }
        Ok(Self {
            raw,
            parsed: Parsed {
                timestamp: timestamp.to_ne_bytes(),
                digits,
                signature_count,
                kept,
                resume,
            },
        })
    }

    /// The signature timestamp in Unix seconds, saturated to the `i64` range.
    ///
    /// Only a timestamp beyond ±2^63 s (hundreds of billions of years) saturates; such a header verifies
    /// only with the age check disabled or as a far-future timestamp.
    ///
    /// ```
    /// # use tower_stripe_webhook::SignatureHeader;
    /// assert_eq!(SignatureHeader::parse(b"t=1700000000,v1=abc")?.timestamp(), 1_700_000_000);
    /// # Ok::<(), tower_stripe_webhook::Error>(())
    /// ```
    pub fn timestamp(&self) -> i64 {
        saturate(self.timestamp_exact())
    }

    /// What [`parse`](Self::parse) found, to [`reassemble`](Self::reassemble) the header later.
    pub(crate) fn parsed(&self) -> Parsed {
        self.parsed
    }

    /// The header [`parse`](Self::parse) returned for `raw`, from what it found then.
    pub(crate) fn reassemble(raw: &'a [u8], parsed: Parsed) -> Self {
        Self { raw, parsed }
    }

    pub(crate) fn timestamp_exact(&self) -> i128 {
        i128::from_ne_bytes(self.parsed.timestamp)
    }

    /// The timestamp as the SDKs sign it: `-` for negative values, then the digits without leading zeros.
    /// Both are slices (of a constant and of the header): nothing is formatted per request.
    pub(crate) fn signed_timestamp(&self) -> [&'a [u8]; 2] {
        let sign: &'static [u8] = if self.timestamp_exact() < 0 { b"-" } else { b"" };
        let (start, end) = self.parsed.digits;
        [sign, self.raw.get(start..end).unwrap_or_default()]
    }

    /// The `v1` values, in header order, exactly as they appear (not validated: a malformed value simply
    /// never matches).
    ///
    /// ```
    /// # use tower_stripe_webhook::SignatureHeader;
    /// let header = SignatureHeader::parse(b"t=1,v1=aa,v0=bb,v1=cc")?;
    /// assert_eq!(header.signatures().collect::<Vec<_>>(), [&b"aa"[..], b"cc"]); // `v0` is not a signature
    /// # Ok::<(), tower_stripe_webhook::Error>(())
    /// ```
    pub fn signatures(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        signatures(self.raw, self.parsed)
    }

    /// How many `v1` values the header carries (at least one).
    ///
    /// ```
    /// # use tower_stripe_webhook::SignatureHeader;
    /// assert_eq!(SignatureHeader::parse(b"t=1,v1=a,v1=b")?.signature_count(), 2);
    /// # Ok::<(), tower_stripe_webhook::Error>(())
    /// ```
    pub fn signature_count(&self) -> usize {
        self.parsed.signature_count
    }
}

/// What [`SignatureHeader::parse`] finds in a header of exactly the form Stripe sends with one secret,
/// `t=<digits>,v1=<value>` (up to 19 digits, a value without `,` or `=`), read without the general item
/// loop; `None` for any other header, which the general parse then reads. A fast path because every
/// delivery outside a rotation has this form and the item loop was about a third of `verify`'s own
/// instructions at 512 bytes (BENCHMARKS.md). It must find exactly what the general parse finds: the
/// tests compare the two on every form near this one, and the `header` fuzz target checks `parse`
/// against its model.
fn canonical(raw: &[u8]) -> Option<Parsed> {
    let rest = raw.strip_prefix(b"t=")?;
    // `None` (all digits, no `v1`) falls through to the general parse, as does no digit at all.
    let len = rest.iter().position(|b| !b.is_ascii_digit())?;
    if !(1..=19).contains(&len) {
        return None;
    }
    let (digits, rest) = rest.split_at(len);
    let value = rest.strip_prefix(b",v1=")?;
    if value.is_empty() || crate::search::find_either(b',', b'=', value).is_some() {
        return None;
    }
    let magnitude = digits.iter().fold(0u64, |m, &d| m * 10 + u64::from(d - b'0'));
    let zeros = digits.iter().take_while(|&&d| d == b'0').count().min(len - 1);
    let value_start = raw.len() - value.len();
    let mut kept = [(0, 0); KEPT];
    kept[0] = (u32::try_from(value_start).ok()?, u32::try_from(value.len()).ok()?);
    Some(Parsed {
        timestamp: i128::from(magnitude).to_ne_bytes(),
        digits: (2 + zeros, 2 + len),
        signature_count: 1,
        kept,
        resume: raw.len(),
    })
}

/// The `v1` values: the kept positions, then (past [`KEPT`]) the rest of the header, in order.
fn signatures(raw: &[u8], parsed: Parsed) -> impl Iterator<Item = &[u8]> {
    let count = parsed.signature_count;
    let kept = (0..count.min(KEPT)).map(move |i| {
        let (start, len) = parsed.kept[i];
        raw.get(start as usize..start as usize + len as usize)
            .unwrap_or_default()
    });
    let rest = if count > KEPT {
        raw.get(parsed.resume..).unwrap_or_default()
    } else {
        &[]
    };
    kept.chain(items(rest).filter_map(|(key, value)| if key == b"v1" { value } else { None }))
}

pub(crate) fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

fn malformed(reason: MalformedHeader) -> Error {
    Error::new(ErrorKind::MalformedHeader(reason))
}

/// `(key, value)` for every `,`-separated item; the value runs from the first `=` to the next `=`.
///
/// Splits with SIMD byte searches (`crate::search`) rather than a byte-by-byte closure: the header is walked once to parse
/// and once per secret to compare, and a `v1` value is 64 bytes.
fn items(raw: &[u8]) -> Items<'_> {
    Items { rest: Some(raw) }
}

struct Items<'a> {
    rest: Option<&'a [u8]>,
}

impl Items<'_> {
    /// Where the next item starts, as an offset in `raw` (the slice the items come from).
    fn position(&self, raw: &[u8]) -> usize {
        self.rest
            .map_or(raw.len(), |rest| rest.as_ptr() as usize - raw.as_ptr() as usize)
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        // The key is a byte or two: a plain scan finds its end sooner than a `memchr` call.
        let Some(key_end) = rest.iter().position(|&b| b == b'=' || b == b',') else {
            self.rest = None;
            return Some((rest, None));
        };
        let key = &rest[..key_end];
        if rest[key_end] == b',' {
            self.rest = Some(&rest[key_end + 1..]);
            return Some((key, None));
        }
        // One search finds the end of the value and, usually, of the item: the next `,` or `=`.
        let after = &rest[key_end + 1..];
        Some(match crate::search::find_either(b',', b'=', after) {
            None => {
                self.rest = None;
                (key, Some(after))
            }
            Some(end) if after[end] == b',' => {
                self.rest = Some(&after[end + 1..]);
                (key, Some(&after[..end]))
            }
            Some(end) => {
                // A second `=` ends the value; the item runs on to the next `,`.
                self.rest =
                    crate::search::find_byte(b',', &after[end..]).map(|comma| &after[end + comma + 1..]);
                (key, Some(&after[..end]))
            }
        })
    }
}

/// What was wrong with a malformed `Stripe-Signature` header.
///
/// ```
/// # use tower_stripe_webhook::{ErrorKind, MalformedHeader, SignatureHeader};
/// let error = SignatureHeader::parse(b"v1=abc").unwrap_err();
/// assert_eq!(error.kind(), &ErrorKind::MalformedHeader(MalformedHeader::MissingTimestamp));
/// assert_eq!(error.code(), "malformed_header");
/// ```
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
///
/// Returns the value and where its normalized digits (no leading zeros; `0` for zero) lie in `value`.
fn parse_timestamp(value: &[u8]) -> Result<(i128, std::ops::Range<usize>), Error> {
    let (mut start, mut end) = (0, value.len());
    while let Some(len) = leading_whitespace(&value[start..end]) {
        start += len;
    }
    while let Some(len) = trailing_whitespace(&value[start..end]) {
        end -= len;
    }
    let sign = value[start..end].first().copied();
    let negative = sign == Some(b'-');
    if matches!(sign, Some(b'-' | b'+')) {
        start += 1;
    }
    let digits = &value[start..end];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed(MalformedHeader::InvalidTimestamp));
    }
    let magnitude = if digits.len() <= 19 {
        // Fast path: 19 digits always fit a u64 (i128 multiplication is a library call per digit).
        i128::from(digits.iter().fold(0u64, |m, &d| m * 10 + u64::from(d - b'0')))
    } else {
        let mut magnitude: i128 = 0;
        for &digit in digits {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(digit - b'0')))
                .ok_or_else(|| malformed(MalformedHeader::TimestampOutOfRange))?;
        }
        magnitude
    };
    let zeros = digits
        .iter()
        .take_while(|&&d| d == b'0')
        .count()
        .min(digits.len() - 1);
    Ok((if negative { -magnitude } else { magnitude }, start + zeros..end))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(header: &[u8]) -> ErrorKind {
        SignatureHeader::parse(header).unwrap_err().kind().clone()
    }

    fn ts(value: &str) -> Result<i128, ErrorKind> {
        parse_timestamp(value.as_bytes())
            .map(|(value, _)| value)
            .map_err(|e| e.kind().clone())
    }

    fn signed(header: &str) -> String {
        let header = SignatureHeader::parse(header.as_bytes()).unwrap();
        header
            .signed_timestamp()
            .iter()
            .map(|part| String::from_utf8_lossy(part))
            .collect()
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
    fn the_signed_text_is_the_normalized_integer() {
        for (t, text) in [
            ("0", "0"),
            ("000", "0"),
            ("-0", "0"),
            ("+007", "7"),
            (" -300\t", "-300"),
            ("-0010", "-10"),
            ("\u{3000}1700000000\u{85}", "1700000000"),
            (
                "170141183460469231731687303715884105727",
                "170141183460469231731687303715884105727",
            ),
        ] {
            assert_eq!(signed(&format!("x=1,t={t},v1=a")), text, "{t:?}");
        }
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

    /// The fast path finds exactly what the item loop finds, on Stripe's form and on every header one
    /// edit away from it (a byte replaced, inserted or removed anywhere), and it does run on Stripe's form.
    #[test]
    fn the_fast_path_agrees_with_the_general_parse() {
        let v1 = "5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd";
        let forms = [
            format!("t=1492774577,v1={v1}"),
            format!("t=0001,v1={v1}"),
            "t=0,v1=a".to_owned(),
            format!("t=9999999999999999999,v1={v1}"),
            format!("t=99999999999999999999,v1={v1}"),
        ];
        for form in &forms[..4] {
            assert!(canonical(form.as_bytes()).is_some(), "{form}");
        }
        let edits = [
            b',', b'=', b' ', b'\t', b'0', b'9', b'-', b'+', b't', b'v', b'1', b'a', 0xC2, 0xA0,
        ];
        let mut fast = 0;
        for form in &forms {
            let form = form.as_bytes();
            let mut variants = vec![form.to_vec()];
            for at in 0..=form.len() {
                if at < form.len() {
                    variants.push([&form[..at], &form[at + 1..]].concat());
                }
                for &byte in &edits {
                    variants.push([&form[..at], &[byte], &form[at..]].concat());
                    if at < form.len() {
                        variants.push([&form[..at], &[byte], &form[at + 1..]].concat());
                    }
                }
            }
            for header in &variants {
                if let Some(parsed) = canonical(header) {
                    fast += 1;
                    let general = SignatureHeader::parse_items(header).map(|h| h.parsed);
                    assert_eq!(
                        Ok(parsed),
                        general.map_err(|e| e.kind().clone()),
                        "{:?}",
                        String::from_utf8_lossy(header)
                    );
                }
            }
        }
        assert!(fast > 100, "the fast path ran on {fast} variants only");
    }

    #[test]
    fn signatures_beyond_the_kept_ones_are_found_in_order() {
        let header = b"v1=a,t=1,v1=b,v0=x,v1=c,junk,v1=d,v1=e=f,v1=,v1=g";
        let parsed = SignatureHeader::parse(header).unwrap();
        let all: Vec<_> = parsed.signatures().collect();
        assert_eq!(all, [&b"a"[..], b"b", b"c", b"d", b"e", b"", b"g"]);
        assert_eq!(parsed.signature_count(), 7);
        let reassembled = SignatureHeader::reassemble(header, parsed.parsed());
        assert_eq!(reassembled.signatures().collect::<Vec<_>>(), all);
        for n in 0..=5 {
            let header: String = std::iter::once("t=1".to_owned())
                .chain((0..n).map(|i| format!("v1={i}")))
                .collect::<Vec<_>>()
                .join(",");
            match SignatureHeader::parse(header.as_bytes()) {
                Ok(parsed) => assert_eq!(parsed.signatures().count(), n),
                Err(_) => assert_eq!(n, 0),
            }
        }
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
