//! Timestamp parsing by hand: the access-log form (`10/Oct/2000:13:55:36
//! -0700`) and RFC 3339 (`2026-03-02T10:00:00.250+01:00`).
//!
//! Both are parsed from bytes without allocating, and converted to UTC
//! milliseconds with the engine's own calendar arithmetic
//! ([`Timestamp::from_ymd_hms`]), so no date crate is needed: the two
//! formats are fixed-width, and a general-purpose date library would add a
//! dependency and per-line work for no gain.

use pledgedb_core::{Day, Timestamp};

/// Parses an access-log timestamp without its brackets:
/// `DD/Mon/YYYY:HH:MM:SS ±HHMM`, optionally with a fraction of a second
/// after the seconds (`:36.123`). Month names are English, in any case.
#[must_use]
pub fn parse_clf(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let day = digits(b, 0, 2)?;
    let month = month(&b[3..6])?;
    let year = digits(b, 7, 4)?;
    let (hh, mm, ss, ms, rest) = hms(&b[12..])?;
    let rest = rest.strip_prefix(b" ")?;
    let offset = offset(rest, false)?;
    build(year, month, day, hh, mm, ss, ms, offset)
}

/// Parses an RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
/// The separator may also be `t` or a space, and the zone `z`. A fraction is
/// cut to milliseconds.
#[must_use]
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let (hh, mm, ss, ms, rest) = hms(&b[11..])?;
    let offset = offset(rest, true)?;
    build(year, month, day, hh, mm, ss, ms, offset)
}

/// `HH:MM:SS[.fff...]`, returning the rest of the input.
fn hms(b: &[u8]) -> Option<(u32, u32, u32, u32, &[u8])> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let hh = digits(b, 0, 2)?;
    let mm = digits(b, 3, 2)?;
    let ss = digits(b, 6, 2)?;
    let mut rest = &b[8..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        for (i, c) in frac[..n.min(3)].iter().enumerate() {
            ms += u32::from(c - b'0') * [100, 10, 1][i];
        }
        rest = &frac[n..];
    }
    Some((hh, mm, ss, ms, rest))
}

/// A zone offset in milliseconds east of UTC: `Z` (RFC 3339 only),
/// `±HH:MM` (RFC 3339) or `±HHMM` (access logs). Nothing may follow it.
fn offset(b: &[u8], rfc3339: bool) -> Option<i64> {
    if rfc3339 && matches!(b, [b'Z' | b'z']) {
        return Some(0);
    }
    let (sign, rest) = match b.split_first()? {
        (b'+', r) => (1, r),
        (b'-', r) => (-1, r),
        _ => return None,
    };
    let (h, m) = match (rfc3339, rest.len()) {
        (true, 5) if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
        (false, 4) => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (i64::from(h) * 60 + i64::from(m)) * 60_000)
}

#[allow(clippy::too_many_arguments)]
fn build(
    year: u32,
    month: u32,
    day: u32,
    hh: u32,
    mm: u32,
    ss: u32,
    ms: u32,
    offset_ms: i64,
) -> Option<Timestamp> {
    // Seconds may be 60 (a leap second): it counts as the next second.
    if hh > 23 || mm > 59 || ss > 60 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let year = i32::try_from(year).ok()?;
    if Day::from_ymd(year, month, day).to_ymd() != (year, month, day) {
        return None;
    }
    let local = Timestamp::from_ymd_hms(year, month, day, hh, mm, ss);
    Some(Timestamp(
        local.0.checked_add(i64::from(ms))?.checked_sub(offset_ms)?,
    ))
}

/// `n` ASCII digits starting at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// An English three-letter month name, any case.
fn month(b: &[u8]) -> Option<u32> {
    const NAMES: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let m = [
        b.first()?.to_ascii_lowercase(),
        b.get(1)?.to_ascii_lowercase(),
        b.get(2)?.to_ascii_lowercase(),
    ];
    NAMES
        .iter()
        .position(|n| **n == m)
        .and_then(|i| u32::try_from(i + 1).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Timestamp {
        Timestamp::from_ymd_hms(y, mo, d, h, mi, s)
    }

    #[test]
    fn clf_with_offsets() {
        assert_eq!(
            parse_clf("10/Oct/2000:13:55:36 -0700"),
            Some(ts(2000, 10, 10, 20, 55, 36))
        );
        assert_eq!(
            parse_clf("10/oct/2000:13:55:36 +0000"),
            Some(ts(2000, 10, 10, 13, 55, 36))
        );
        assert_eq!(
            parse_clf("01/Jan/2026:03:00:00 +0530"),
            Some(ts(2025, 12, 31, 21, 30, 0))
        );
        assert_eq!(
            parse_clf("01/Jan/2026:03:00:00.250 +0000"),
            Some(ts(2026, 1, 1, 3, 0, 0).plus_millis(250))
        );
        for bad in [
            "",
            "10/Oct/2000:13:55:36",
            "10/Oct/2000:13:55:36 -07000",
            "10/Oct/2000:13:55:36 0700",
            "10/Okt/2000:13:55:36 -0700",
            "31/Feb/2000:13:55:36 -0700",
            "10/Oct/2000:24:55:36 -0700",
            "10/Oct/2000:13:60:36 -0700",
            "10/Oct/2000:13:55:36 -2400",
            "1/Oct/2000:13:55:36 -0700 ",
            "10/Oct/2000 13:55:36 -0700",
        ] {
            assert_eq!(parse_clf(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_forms() {
        let base = ts(2026, 3, 2, 10, 0, 0);
        assert_eq!(parse_rfc3339("2026-03-02T10:00:00Z"), Some(base));
        assert_eq!(parse_rfc3339("2026-03-02t10:00:00z"), Some(base));
        assert_eq!(parse_rfc3339("2026-03-02 10:00:00Z"), Some(base));
        assert_eq!(
            parse_rfc3339("2026-03-02T11:00:00.250+01:00"),
            Some(base.plus_millis(250))
        );
        assert_eq!(
            parse_rfc3339("2026-03-02T05:30:00.123456789-04:30"),
            Some(base.plus_millis(123))
        );
        for bad in [
            "2026-03-02T10:00:00",
            "2026-03-02T10:00:00+0100",
            "2026-02-30T10:00:00Z",
            "2026-03-02T10:00:00.Z",
            "2026-03-02T10:00:00Zjunk",
            "2026-3-02T10:00:00Z",
            "not a time",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }
}
