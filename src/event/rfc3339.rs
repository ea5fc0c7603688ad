//! Reading an RFC 3339 timestamp (`2022-02-15T00:27:45.330Z`) as Unix milliseconds, exactly, without a
//! date library: thin event notifications carry `created` in this form.

/// `text` as milliseconds since the Unix epoch (digits past the milliseconds are truncated, toward the
/// past), or `None` when it is not an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS`, an optional fraction,
/// then `Z` or an offset `±HH:MM` (`T`, `Z` in either case, as RFC 3339 allows). A leap second (`:60`)
/// reads as the first second of the next minute.
pub(crate) fn unix_millis(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        digits.iter().try_fold(0i64, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + i64::from(digit - b'0'))
        })
    };
    let separator = |at: usize, expected: &[u8]| bytes.get(at).is_some_and(|b| expected.contains(b));
    if !(separator(4, b"-")
        && separator(7, b"-")
        && separator(10, b"Tt")
        && separator(13, b":")
        && separator(16, b":"))
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if bytes.get(at) == Some(&b'.') {
        let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        // The first three digits, padded: `.5` is 500 ms, `.123456789` is 123 ms.
        for place in 0..3 {
            let digit = bytes.get(at + 1 + place).filter(|_| place < digits);
            millis = millis * 10 + digit.map_or(0, |d| i64::from(d - b'0'));
        }
        at += 1 + digits;
    }
    let offset_minutes = match bytes.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let (hours, minutes) = (number(at + 1..at + 3)?, number(at + 4..at + 6)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`), for years 0 to 9999.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // Expected values from `datetime.fromisoformat(...).timestamp()` in Python.
        assert_eq!(unix_millis("2022-02-15T00:27:45.330Z"), Some(1_644_884_865_330));
        assert_eq!(unix_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_millis("1970-01-01T00:00:00.001Z"), Some(1));
        assert_eq!(unix_millis("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(unix_millis("1970-01-12T21:42:34.472Z"), Some(1_028_554_472));
        assert_eq!(unix_millis("2000-02-29T12:00:00Z"), Some(951_825_600_000));
        // Nanoseconds are truncated to milliseconds; lowercase separators are RFC 3339 too.
        assert_eq!(
            unix_millis("2025-10-04T15:13:32.232083866Z"),
            Some(1_759_590_812_232)
        );
        assert_eq!(unix_millis("2025-10-04t15:13:32.2z"), Some(1_759_590_812_200));
        // Offsets.
        assert_eq!(
            unix_millis("2022-02-15T01:27:45.330+01:00"),
            Some(1_644_884_865_330)
        );
        assert_eq!(
            unix_millis("2022-02-14T19:27:45.330-05:00"),
            Some(1_644_884_865_330)
        );
        assert_eq!(unix_millis("9999-12-31T23:59:59.999Z"), Some(253_402_300_799_999));
        assert_eq!(unix_millis("0000-01-01T00:00:00Z"), Some(-62_167_219_200_000));
    }

    #[test]
    fn agrees_with_a_day_by_day_count() {
        let mut days = 0i64;
        for year in 1970..2100 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    let text = format!("{year:04}-{month:02}-{day:02}T00:00:00Z");
                    assert_eq!(unix_millis(&text), Some(days * 86_400_000), "{text}");
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for text in [
            "",
            "2022-02-15",
            "2022-02-15 00:27:45Z",
            "2022-02-15T00:27:45",
            "2022-02-15T00:27:45.Z",
            "2022-02-15T00:27:45.330",
            "2022-02-15T00:27:45.330ZZ",
            "2022-13-15T00:27:45Z",
            "2022-02-29T00:27:45Z",
            "2022-02-15T24:00:00Z",
            "2022-02-15T00:60:00Z",
            "2022-02-15T00:00:61Z",
            "2022-02-15T00:00:00+24:00",
            "2022-02-15T00:00:00+0100",
            "+2022-02-15T00:00:00Z",
            "２０２２-02-15T00:00:00Z",
            "1644884865",
        ] {
            assert_eq!(unix_millis(text), None, "{text:?}");
        }
    }
}
