//! Reading the event envelope out of a verified payload in one pass, without copying or decoding
//! `data.object`.
//!
//! Why not `serde_json` with a borrowed `RawValue`: finding `type` (which Stripe writes after `data`) means
//! walking `data.object`, most of the payload, and serde's validating walk cost as much as the HMAC. What
//! the reader finds is used only once the signature has matched, when the bytes are Stripe's own, so it
//! parses the envelope fields strictly but skips other values structurally: strings to their closing
//! quote (eight bytes at a time, then `memchr2` on quotes and backslashes), objects and arrays by
//! counting their brackets outside strings.
//! The typed parse of `data.object` is `serde_json`'s, when a handler asks for it. The envelope's own
//! fields are validated (UTF-8, no control characters, escapes decoded); values it does not use,
//! `data.object` included, are validated when someone deserializes them. The reader never panics and
//! never reads out of bounds: malformed input is an error.
//!
//! It runs before the signature is known, though: `Verifier::verify_event` calls it while it computes the
//! first secret's HMAC (a block of the payload between two members, see [`read_between`]), so it also
//! reads bodies that will be refused. On any input it takes at most two linear passes (the second when the
//! fast path below misleads it), and its findings are dropped unless the signature verifies.
//!
//! One fast path, because `data.object` is most of the payload and even a structural walk over it costs
//! as much as the HMAC on Stripe's densely quoted JSON: Stripe pretty-prints, and JSON forbids raw newlines
//! inside strings, so every raw `\n` is structural and `data.object` ends at the first line holding only
//! its key's indentation and `}`, which `memmem` finds at tens of GB/s. That cut is a hint: the read must
//! then go on through every remaining member to the exact end of the payload, and on any failure the
//! payload is read again with the exact structural skip.
//!
//! The hint is exact for JSON laid out as serializers write it, Stripe's included: compact (no newline
//! before the key, so no hint), or with the lines inside every container indented deeper than the line
//! that opens it and its closing bracket starting a line indented like that one. A hand-indented body that
//! breaks this can be cut in the wrong place and still be read to its end (fuzzing found one, kept in
//! `fuzz/regressions/envelope/`): `data_object()` then reports an error, and envelope fields written after
//! `data` may differ from a full parse. Such a body has to be signed with the endpoint's secret to get
//! into an event, and no content of a JSON string can change the layout (a string cannot hold a raw
//! newline), so only someone holding the secret can produce one.

use std::{borrow::Cow, ops::Range};

/// The envelope fields found in a payload: where their strings are, positions of the raw JSON values.
#[derive(Debug, Default)]
pub(super) struct Fields {
    pub(super) id: Option<Span>,
    pub(super) object: Option<Span>,
    pub(super) event_type: Option<Span>,
    pub(super) created: Option<i64>,
    pub(super) livemode: Option<bool>,
    pub(super) api_version: Option<Span>,
    pub(super) account: Option<Span>,
    pub(super) pending_webhooks: Option<u64>,
    pub(super) request_id: Option<Span>,
    pub(super) idempotency_key: Option<Span>,
    pub(super) data: bool,
    pub(super) data_object: Option<Range<usize>>,
    pub(super) previous_attributes: Option<Range<usize>>,
    /// The strings written with escapes, decoded, one after the other (spans with `decoded` point here).
    /// Empty in the usual case. With a repeated key it may hold a string no span points to.
    pub(super) decoded: String,
}

/// Where a string value is: between its quotes in the payload (written without escapes), or in
/// [`Fields::decoded`]. Either way valid UTF-8. Positions are 32-bit to keep the `Event` that stores
/// spans small (it is moved into the request's extensions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    start: u32,
    end: u32,
    decoded: bool,
}

impl Span {
    fn new(range: Range<usize>, decoded: bool) -> Option<Self> {
        Some(Self {
            start: u32::try_from(range.start).ok()?,
            end: u32::try_from(range.end).ok()?,
            decoded,
        })
    }

    /// The string's bytes, from the payload or the decoded strings it was read with.
    pub(super) fn bytes<'a>(self, payload: &'a [u8], decoded: &'a str) -> &'a [u8] {
        let from = if self.decoded { decoded.as_bytes() } else { payload };
        from.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// Where reading stopped, as a byte offset in the payload.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Malformed(pub(super) usize);

type Result<T> = std::result::Result<T, Malformed>;

/// Reads the envelope of `payload`, which must be a JSON object (trailing whitespace allowed).
#[cfg(test)]
fn read(payload: &[u8]) -> Result<Fields> {
    read_between(payload, || false)
}

/// [`read`], calling `between` between the members of the envelope's objects and between windows of the
/// `data.object` search: the verifier hashes the next block of the payload there (see
/// `Verifier::verify_event`). `between` returns whether it has more to do (see
/// `search::find_closing_line`).
pub(super) fn read_between(payload: &[u8], between: impl FnMut() -> bool) -> Result<Fields> {
    let mut fields = Fields::default();
    if read_with(payload, true, between, &mut fields).is_err() {
        fields = Fields::default();
        read_with(payload, false, || false, &mut fields)?;
    }
    Ok(fields)
}

/// Reads into `fields`, which start empty.
fn read_with(
    payload: &[u8],
    indentation_hint: bool,
    between: impl FnMut() -> bool,
    fields: &mut Fields,
) -> Result<()> {
    let mut reader = Reader::new(payload, indentation_hint, between);
    let mut decoded = String::new();
    reader.object(|reader, key| {
        match key {
            b"id" => fields.id = reader.text_or_null(&mut decoded)?,
            b"object" => fields.object = reader.text_or_null(&mut decoded)?,
            b"type" => fields.event_type = reader.text_or_null(&mut decoded)?,
            b"api_version" => fields.api_version = reader.text_or_null(&mut decoded)?,
            b"account" => fields.account = reader.text_or_null(&mut decoded)?,
            b"created" => fields.created = reader.created()?,
            b"livemode" => fields.livemode = reader.bool_or_null()?,
            b"pending_webhooks" => fields.pending_webhooks = reader.unsigned_or_null()?,
            b"request" => (fields.request_id, fields.idempotency_key) = reader.request(&mut decoded)?,
            b"data" => {
                // A repeated `data` replaces the earlier one entirely.
                (fields.data_object, fields.previous_attributes) = (None, None);
                fields.data = reader.current() == Some(b'{');
                if fields.data {
                    reader.object(|reader, key| {
                        match key {
                            b"object" => fields.data_object = Some(reader.skip_data_object()?),
                            b"previous_attributes" => {
                                let range = reader.skip_value()?;
                                fields.previous_attributes =
                                    (&payload[range.clone()] != b"null").then_some(range);
                            }
                            _ => {
                                reader.skip_value()?;
                            }
                        }
                        Ok(())
                    })?;
                } else {
                    reader.skip_value()?;
                }
            }
            _ => {
                reader.skip_value()?;
            }
        }
        Ok(())
    })?;
    reader.whitespace();
    if reader.pos == payload.len() {
        fields.decoded = decoded;
        Ok(())
    } else {
        Err(Malformed(reader.pos))
    }
}

/// `0x01` and `0x80` in every byte of a word.
const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The index of the first `"` or `\\` among the eight bytes of `word` (little-endian), if any.
///
/// The classic zero-byte test on `word ^ repeat(byte)`: exact for the lowest matching byte, which is the
/// only one used (borrows can only mark bytes above a real zero).
fn quote_or_backslash(word: u64) -> Option<usize> {
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let found = zero_byte(word ^ (ONES * u64::from(b'"'))) | zero_byte(word ^ (ONES * u64::from(b'\\')));
    (found != 0).then(|| found.trailing_zeros() as usize / 8)
}

/// Appends `text` to the decoded strings and returns where it is; `None` beyond 4 GiB of them (which needs
/// a payload larger still: such a string is refused rather than misplaced).
fn keep_decoded(decoded: &mut String, text: &str) -> Option<Span> {
    let start = decoded.len();
    decoded.push_str(text);
    Span::new(start..decoded.len(), true)
}

/// The high bit of every byte of `word` that is not printable ASCII (below `0x20`, or `0x80` and above),
/// and possibly of bytes above one (a borrow out of it); 0 when all eight are printable ASCII. Exact for
/// the lowest bytes up to the first flagged one, since borrows only run upwards.
fn not_printable_ascii(word: u64) -> u64 {
    (word.wrapping_sub(ONES * 0x20) | word) & HIGHS
}

/// The eight bytes at `pos` as a little-endian word, zeros past the end of `bytes` (so a string's end
/// near the end of the payload is found in words too; a zero is neither a quote nor printable).
fn word_at(bytes: &[u8], pos: usize) -> u64 {
    match bytes.get(pos..pos + 8) {
        Some(word) => u64::from_le_bytes(word.try_into().unwrap_or_default()),
        None => {
            let rest = bytes.get(pos..).unwrap_or_default();
            let mut word = [0u8; 8];
            word.iter_mut().zip(rest).for_each(|(to, from)| *to = *from);
            u64::from_le_bytes(word)
        }
    }
}

/// Where a skipped string ends (after its closing quote) and what it holds.
struct StringEnd {
    end: usize,
    /// A backslash somewhere: the raw bytes are not the string.
    escapes: bool,
    /// Printable ASCII without escapes: the raw bytes are the string, valid UTF-8 without control
    /// characters. `false` when not known.
    plain: bool,
}

struct Reader<'a, B> {
    bytes: &'a [u8],
    pos: usize,
    /// Where the key of the member being read starts (its opening quote).
    key_start: usize,
    /// Whether `data.object` may be cut at its indentation (see the module docs).
    indentation_hint: bool,
    /// Called between the members of objects (and between windows of the `data.object` search, which is
    /// what its answer is for).
    between: B,
}

impl<'a, B: FnMut() -> bool> Reader<'a, B> {
    fn new(bytes: &'a [u8], indentation_hint: bool, between: B) -> Self {
        Self {
            bytes,
            pos: 0,
            key_start: 0,
            indentation_hint,
            between,
        }
    }

    fn whitespace(&mut self) {
        let mut pos = self.pos;
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(pos) {
            pos += 1;
        }
        self.pos = pos;
    }

    /// The byte at the reading position, not consumed. The value readers below start at a value's first
    /// byte, since [`object`](Self::object) skips the whitespace after each colon before calling them.
    fn current(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.whitespace();
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Malformed(self.pos))
        }
    }

    fn malformed<T>(&self) -> Result<T> {
        Err(Malformed(self.pos))
    }

    /// Reads an object, calling `member` with each key (escapes decoded) positioned before its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &[u8]) -> Result<()>) -> Result<()> {
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            (self.between)();
            if self.peek() != Some(b'"') {
                return self.malformed();
            }
            self.key_start = self.pos;
            let key = self.key()?;
            // The colon usually follows the key directly (Stripe writes `"key": value`).
            if self.bytes.get(self.pos) == Some(&b':') {
                self.pos += 1;
            } else {
                self.expect(b':')?;
            }
            self.whitespace();
            member(self, &key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.malformed(),
            }
        }
    }

    /// Reads a key at its opening quote, as [`string`](Self::string) does. Keys are short (Stripe's longest
    /// envelope key has 19 bytes): when one of the first three words holds the closing quote, with no
    /// backslash before it, that is the key, found without the general loop and its setup.
    fn key(&mut self) -> Result<Cow<'a, [u8]>> {
        let start = self.pos + 1;
        let mut pos = start;
        for _ in 0..3 {
            match quote_or_backslash(word_at(self.bytes, pos)) {
                None => pos += 8,
                Some(at) if self.bytes.get(pos + at) == Some(&b'"') => {
                    self.pos = pos + at + 1;
                    return Ok(Cow::Borrowed(&self.bytes[start..pos + at]));
                }
                // A backslash: the general path decodes the escapes.
                Some(_) => break,
            }
        }
        self.string()
    }

    /// Reads a string at its opening quote: its raw bytes when they hold no escape, else decoded. Raw bytes
    /// are not checked (keys are only compared); values are read by [`value_string`](Self::value_string).
    fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let bytes = self.bytes;
        let open = self.pos;
        let StringEnd { end, escapes, .. } = self.skip_string()?;
        if escapes {
            // Rare in envelope fields; serde_json decodes escapes (and surrogate pairs) correctly.
            return serde_json::from_slice::<String>(&bytes[open..end])
                .map(|text| Cow::Owned(text.into_bytes()))
                .map_err(|_| Malformed(open));
        }
        Ok(Cow::Borrowed(&bytes[open + 1..end - 1]))
    }

    /// A string value the event returns: valid UTF-8 and free of raw control characters, as JSON requires
    /// (serde_json refuses such a payload too, wherever the string is). Strings with escapes are decoded
    /// into `decoded`.
    fn value_string(&mut self, decoded: &mut String) -> Result<Span> {
        let open = self.pos;
        let end = self.skip_string()?;
        let raw = open + 1..end.end - 1;
        if !end.plain {
            if end.escapes {
                // Rare in envelope fields; serde_json decodes escapes (and surrogate pairs) correctly and
                // refuses control characters and invalid UTF-8.
                let text = serde_json::from_slice::<String>(&self.bytes[open..end.end])
                    .map_err(|_| Malformed(open))?;
                return keep_decoded(decoded, &text).ok_or(Malformed(open));
            }
            let bytes = &self.bytes[raw.clone()];
            if bytes.iter().any(|&b| b < 0x20) || std::str::from_utf8(bytes).is_err() {
                return Err(Malformed(open));
            }
        }
        // Printable ASCII all through (as Stripe's ids, types and versions are), or checked above.
        match Span::new(raw.clone(), false) {
            Some(span) => Ok(span),
            // Beyond 4 GiB into the payload: kept as a copy instead.
            None => {
                let text = std::str::from_utf8(&self.bytes[raw]).map_err(|_| Malformed(open))?;
                keep_decoded(decoded, text).ok_or(Malformed(open))
            }
        }
    }

    // The typed readers below take a value of another type (or `null`) as absent, as serde_json's
    // `as_str`/`as_bool`/`as_u64` do: an optional field Stripe ever changes the type of does not stop
    // the event, a required one is reported missing, and with a repeated key the last value counts.

    /// A string, else `None`.
    fn text_or_null(&mut self, decoded: &mut String) -> Result<Option<Span>> {
        match self.current() {
            Some(b'"') => self.value_string(decoded).map(Some),
            _ => self.skip_value().map(|_| None),
        }
    }

    /// `true` or `false`, else `None`.
    fn bool_or_null(&mut self) -> Result<Option<bool>> {
        let range = self.skip_value()?;
        Ok(match &self.bytes[range] {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        })
    }

    /// An integer that fits a `u64`, else `None`.
    fn unsigned_or_null(&mut self) -> Result<Option<u64>> {
        Ok(self
            .integer_or_null()?
            .and_then(|value| u64::try_from(value).ok()))
    }

    /// An integer that fits an `i64`, else `None` (a thin event's `created` is a string).
    fn created(&mut self) -> Result<Option<i64>> {
        Ok(self
            .integer_or_null()?
            .and_then(|value| i64::try_from(value).ok()))
    }

    /// A number written as an optional `-` and decimal digits whose magnitude fits 64 bits, read in the
    /// pass that skips it; a fraction, an exponent or another type of value is `None`.
    fn integer_or_null(&mut self) -> Result<Option<i128>> {
        let negative = match self.current() {
            Some(b'-') => true,
            Some(b'0'..=b'9') => false,
            _ => return self.skip_value().map(|_| None),
        };
        let digits = self.pos + usize::from(negative);
        let mut pos = digits;
        let mut value = 0u64;
        while let Some(&digit @ b'0'..=b'9') = self.bytes.get(pos) {
            value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
            pos += 1;
        }
        // Nineteen digits always fit 64 bits; longer numbers are read again, checked.
        let magnitude = if pos - digits <= 19 {
            Some(value)
        } else {
            self.bytes[digits..pos].iter().try_fold(0u64, |m, &digit| {
                m.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
            })
        };
        if pos == digits || matches!(self.bytes.get(pos), Some(b'.' | b'e' | b'E' | b'+' | b'-')) {
            // No digit after the sign (malformed), or not an integer: skipped as any number.
            self.skip_number()?;
            return Ok(None);
        }
        self.pos = pos;
        Ok(magnitude.map(|m| if negative { -i128::from(m) } else { i128::from(m) }))
    }

    /// `request`: `null`, an id string (API versions before 2017-05-25), or `{"id", "idempotency_key"}`.
    fn request(&mut self, decoded: &mut String) -> Result<(Option<Span>, Option<Span>)> {
        match self.current() {
            Some(b'{') => {
                let (mut id, mut key) = (None, None);
                self.object(|reader, name| {
                    match name {
                        b"id" => id = reader.text_or_null(decoded)?,
                        b"idempotency_key" => key = reader.text_or_null(decoded)?,
                        _ => {
                            reader.skip_value()?;
                        }
                    }
                    Ok(())
                })?;
                Ok((id, key))
            }
            _ => Ok((self.text_or_null(decoded)?, None)),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.malformed()
        }
    }

    /// Skips any value (at its first byte) and returns where it was.
    fn skip_value(&mut self) -> Result<Range<usize>> {
        let start = self.pos;
        match self.current() {
            Some(b'"') => {
                self.skip_string()?;
            }
            Some(b'{') => self.skip_container(b'{', b'}')?,
            Some(b'[') => self.skip_container(b'[', b']')?,
            Some(b't') => self.literal(b"true")?,
            Some(b'f') => self.literal(b"false")?,
            Some(b'n') => self.literal(b"null")?,
            Some(b'-' | b'0'..=b'9') => {
                self.skip_number()?;
            }
            _ => return self.malformed(),
        }
        Ok(start..self.pos)
    }

    /// Skips `data.object`: at the first line with only its key's indentation and `}` when the hint is on
    /// and the key starts a line, else structurally.
    fn skip_data_object(&mut self) -> Result<Range<usize>> {
        let start = self.pos;
        if self.indentation_hint && self.bytes.get(start) == Some(&b'{') {
            let line = self.bytes[..self.key_start].iter().rposition(|&b| b == b'\n');
            if let Some(newline) = line {
                let indent = &self.bytes[newline + 1..self.key_start];
                if indent.iter().all(|&b| b == b' ' || b == b'\t') {
                    let after = &self.bytes[start..];
                    let between = &mut self.between;
                    if let Some(found) = crate::search::find_closing_line(indent, after, between) {
                        self.pos = start + found + indent.len() + 2;
                        return Ok(start..self.pos);
                    }
                }
            }
        }
        self.skip_value()
    }

    /// Skips a string at its opening quote; returns where it ends and what it holds.
    fn skip_string(&mut self) -> Result<StringEnd> {
        let mut pos = self.pos + 1;
        let mut escapes = false;
        let mut plain = true;
        // Keys and envelope values are short: eight bytes at a time (SWAR) find their end sooner than a
        // `memchr2` call, which pays off only on long strings. The same words tell whether the string is
        // printable ASCII, which spares envelope values a second pass (control characters, UTF-8).
        let short = self.bytes.len().min(pos + 32);
        while pos < short {
            let word = word_at(self.bytes, pos);
            match quote_or_backslash(word) {
                None => {
                    plain &= not_printable_ascii(word) == 0;
                    pos += 8;
                }
                Some(at) if self.bytes[pos + at] == b'"' => {
                    // Only the bytes before the quote count (the lowest `at` bytes, read little-endian).
                    let before = u64::MAX.checked_shr(64 - 8 * at as u32).unwrap_or(0);
                    plain &= not_printable_ascii(word) & before == 0;
                    self.pos = pos + at + 1;
                    return Ok(StringEnd {
                        end: self.pos,
                        escapes,
                        plain: plain && !escapes,
                    });
                }
                Some(at) => {
                    // A backslash escapes the next byte, whatever it is.
                    escapes = true;
                    pos += at + 2;
                }
            }
        }
        // Long strings: whether they are plain is left to the caller's own check.
        loop {
            match crate::search::find_either(b'"', b'\\', self.bytes.get(pos..).unwrap_or_default()) {
                Some(found) if self.bytes[pos + found] == b'"' => {
                    self.pos = pos + found + 1;
                    return Ok(StringEnd {
                        end: self.pos,
                        escapes,
                        plain: false,
                    });
                }
                // A backslash escapes the next byte, whatever it is.
                Some(found) => {
                    escapes = true;
                    pos += found + 2;
                }
                None => return Err(Malformed(self.pos)),
            }
        }
    }

    /// Skips an object or array at its opening bracket, matching brackets of that kind outside strings.
    ///
    /// Brackets of the other kind balance inside a valid value, so only one kind is counted; strings are
    /// skipped whole (escapes included) by [`skip_string`](Self::skip_string). A byte loop rather than
    /// `memchr3`: Stripe's JSON is so densely quoted that a search stops every few bytes anyway, and on
    /// short values (`request`'s members, most `previous_attributes`) setting one up costs more than the
    /// whole loop; on a long compact `data.object` (no indentation hint) the loop was faster too (see
    /// BENCHMARKS.md).
    fn skip_container(&mut self, open: u8, close: u8) -> Result<()> {
        let start = self.pos;
        if self.bytes.get(start) != Some(&open) {
            return Err(Malformed(start));
        }
        let mut depth = 1usize;
        let mut pos = start + 1;
        while let Some(&byte) = self.bytes.get(pos) {
            if byte == b'"' {
                self.pos = pos;
                pos = self.skip_string()?.end;
                continue;
            }
            if byte == open {
                depth += 1;
            } else if byte == close {
                depth -= 1;
                if depth == 0 {
                    self.pos = pos + 1;
                    return Ok(());
                }
            }
            pos += 1;
        }
        Err(Malformed(start))
    }

    /// Skips a number (`-`, digits, `.`, exponent); returns where it was.
    fn skip_number(&mut self) -> Result<Range<usize>> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        if self.pos == digits || !self.bytes[digits].is_ascii_digit() {
            return Err(Malformed(start));
        }
        Ok(start..self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(payload: &'a [u8], fields: &'a Fields, span: Option<Span>) -> Option<&'a str> {
        span.map(|span| std::str::from_utf8(span.bytes(payload, &fields.decoded)).unwrap())
    }

    #[test]
    fn skips_values_structurally_and_finds_fields_after_them() {
        let payload = br#" {"data": {"previous_attributes": null, "object": {"a": "}{\"}", "b": [1, {"c": "\\"}, "]"], "d": {}},
            "x": 1}, "arr": [[{"}": "["}], -1.5e3], "s": "\\\\", "type": "t\u00e9", "created": 17, "livemode": true,
            "request": {"id": "req_1", "other": [null]}, "pending_webhooks": 0, "id": "evt"} "#;
        let fields = read(payload).unwrap();
        let object = fields.data_object.clone().unwrap();
        assert_eq!(
            &payload[object],
            br#"{"a": "}{\"}", "b": [1, {"c": "\\"}, "]"], "d": {}}"#
        );
        assert!(fields.previous_attributes.is_none());
        assert_eq!(text(payload, &fields, fields.event_type), Some("té"));
        assert_eq!(text(payload, &fields, fields.id), Some("evt"));
        assert_eq!(text(payload, &fields, fields.request_id), Some("req_1"));
        assert_eq!(fields.created, Some(17));
        assert_eq!((fields.livemode, fields.pending_webhooks), (Some(true), Some(0)));
    }

    #[test]
    fn keys_of_any_length_and_escaped_keys_are_read_as_serde_reads_them() {
        // Short, long (beyond the three words of the fast path), escaped, at the very end of the payload.
        let payload = br#"{"a_key_longer_than_twenty_four_bytes": {"type": "no"}, "\u0074ype": "t", "pending_webhooks": 3,
            "ab\"c": 1, "idempotency": "x", "request": {"idempotency_key": "k", "id\u0000": "no"}, "id": "e"}"#;
        let fields = read(payload).unwrap();
        assert_eq!(text(payload, &fields, fields.event_type), Some("t"));
        assert_eq!(fields.pending_webhooks, Some(3));
        assert_eq!(text(payload, &fields, fields.idempotency_key), Some("k"));
        assert_eq!(fields.request_id, None);
        assert_eq!(text(payload, &fields, fields.id), Some("e"));
        let value: serde_json::Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(value["type"], "t");
    }

    #[test]
    fn integers_are_read_from_their_first_byte() {
        let read = |text: &[u8]| {
            let mut reader = Reader::new(text, false, || false);
            let value = reader.integer_or_null();
            (value, reader.pos)
        };
        assert_eq!(read(b"17,"), (Ok(Some(17)), 2));
        assert_eq!(read(b"-3}"), (Ok(Some(-3)), 2));
        assert_eq!(read(b"18446744073709551615"), (Ok(Some(u64::MAX.into())), 20));
        // Not integers: skipped whole, `None`.
        assert_eq!(read(b"1.5e3,"), (Ok(None), 5));
        assert_eq!(read(b"18446744073709551616"), (Ok(None), 20));
        assert_eq!(read(b"\"17\""), (Ok(None), 4));
        assert_eq!(read(b"null"), (Ok(None), 4));
        // Malformed: an error where the number starts.
        assert_eq!(read(b"-x").0, Err(Malformed(0)));
    }

    #[test]
    fn plain_strings_are_told_apart_in_the_words_that_find_their_end() {
        let skip_in = |text: &[u8]| {
            let mut reader = Reader::new(text, false, || false);
            let end = reader.skip_string()?;
            Ok::<_, Malformed>((end.end, end.escapes, end.plain))
        };
        // In a payload, more follows a string: whole words past its end, of bytes that do not count.
        let skip = |text: &[u8]| skip_in(&[text, &[0xff; 16]].concat()).unwrap();
        // Bytes after the closing quote do not count, in the word that holds it or after it.
        assert_eq!(skip(b"\"evt_1\"\x01\xff\x00"), (7, false, true));
        assert_eq!(skip(b"\"\""), (2, false, true));
        // Near the end of the payload the last word is padded with zeros, which do not count either.
        assert_eq!(skip_in(b"\"ab\"\xff"), Ok((4, false, true)));
        assert_eq!(skip_in(b"\"ab\xff\""), Ok((5, false, false)));
        assert!(skip_in(b"\"abc").is_err());
        assert_eq!(skip(b"\"invoice.payment_succeeded\",\n"), (27, false, true));
        // Before it, every byte counts: control characters, bytes of multi-byte characters, at any place.
        for bad in [0x00, 0x01, 0x1f, 0x80, 0xc3, 0xff] {
            for at in 1..20 {
                let mut text = b"\"abcdefghijklmnopqrstuvwxyz\"".to_vec();
                text[at] = bad;
                assert_eq!(skip(&text), (28, false, false), "{bad:#x} at {at}");
            }
        }
        // DEL and space are printable here (JSON allows them raw); escapes are not plain.
        assert_eq!(skip(b"\" \x7f\""), (4, false, true));
        assert_eq!(skip(b"\"a\\\"b\""), (6, true, false));
        // Long strings leave the check to the caller.
        let long = [&b"\""[..], &[b'a'; 40], b"\""].concat();
        assert_eq!(skip(&long), (42, false, false));
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        for payload in [
            &b""[..],
            b"{",
            b"{\"",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"{\"a\":1} x",
            b"[]",
            b"{\"a\":\"\\",
            b"{\"a\":\"\\\"}",
            b"{\"a\":{\"b\":1}",
            b"{\"a\":[1,2}",
            b"{\"a\":tru}",
            b"{\"a\":-}",
            b"{\"a\":.5}",
            b"{\"id\":\"\x01\"}",
            b"{\"created\":\"x\"",
            b"{\"data\":{\"object\":}}",
            b"{a:1}",
        ] {
            assert!(read(payload).is_err(), "{:?}", String::from_utf8_lossy(payload));
        }
        assert!(read(b"{}").is_ok());
        assert!(read(b" \n{ } \n").is_ok());
        // An envelope string that is not UTF-8, as serde_json would have it.
        assert_eq!(read(b"{\"id\":\"\xff\"}").unwrap_err(), Malformed(6));
        assert_eq!(
            read(b"{\"id\":\"ok\",\"id\":\"\xc3\"}").unwrap_err(),
            Malformed(16)
        );
    }

    #[test]
    fn the_indentation_hint_is_checked_by_the_rest_of_the_read() {
        // Pretty-printed: the hint cuts data.object at "\n    }".
        let pretty = b"{\n  \"data\": {\n    \"object\": {\n      \"a\": {\n        \"b\": 1\n      }\n    },\n    \"previous_attributes\": {\"a\": 2}\n  },\n  \"type\": \"t\"\n}";
        let fields = read(pretty).unwrap();
        let object = &pretty[fields.data_object.clone().unwrap()];
        assert!(object.starts_with(b"{\n      \"a\"") && object.ends_with(b"\n    }"));
        assert_eq!(
            &pretty[fields.previous_attributes.clone().unwrap()],
            b"{\"a\": 2}"
        );
        // A misleading line inside data.object (a closing brace at the key's indentation that closes
        // something deeper): the hinted read cannot reach the end consistently, and the exact read wins.
        let tricky = b"{\n  \"data\": {\n    \"object\": {\"x\": {\"y\": 1\n    }, \"type\": \"fake\"}\n  },\n  \"type\": \"real\"\n}";
        let fields = read(tricky).unwrap();
        assert_eq!(text(tricky, &fields, fields.event_type), Some("real"));
        let object = &tricky[fields.data_object.clone().unwrap()];
        assert_eq!(object, b"{\"x\": {\"y\": 1\n    }, \"type\": \"fake\"}");
        // Too late: data.object written on one line, a later line matching the indentation.
        let late = b"{\n  \"data\": {\n    \"object\": {\"k\": 1}\n  },\n  \"request\": {\n    \"id\": null\n    },\n  \"type\": \"t\"\n}";
        // (the request's closing line has data.object's indentation: the hint cuts there, the rest of the
        // read fails, and the exact read finds the real end)
        let fields = read(late).unwrap();
        assert_eq!(&late[fields.data_object.clone().unwrap()], b"{\"k\": 1}");
        assert_eq!(text(late, &fields, fields.event_type), Some("t"));
        let late = b"{\n  \"data\": {\n    \"object\": {\"k\": 1}\n  },\n  \"x\": [\n    {}\n    ],\n  \"type\": \"t\"\n}";
        let fields = read(late).unwrap();
        assert_eq!(&late[fields.data_object.clone().unwrap()], b"{\"k\": 1}");
    }

    #[test]
    fn agrees_with_serde_on_where_data_object_is() {
        let payload = br#"{"data":{"object":{"k":"v \"quoted\" \\ back","n":[1,2,{"x":null}]}},"id":"e"}"#;
        let fields = read(payload).unwrap();
        let value: serde_json::Value = serde_json::from_slice(payload).unwrap();
        let ours: serde_json::Value =
            serde_json::from_slice(&payload[fields.data_object.clone().unwrap()]).unwrap();
        assert_eq!(ours, value["data"]["object"]);
    }
}
