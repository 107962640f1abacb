//! The IP scrubber behind [`Text::new`](super::Text::new) (promise P1).
//!
//! The input is cut into maximal *runs* of address characters: hex digits,
//! `.` and `:`, where the percent-escapes `%3A`, `%2E` (any case) and their
//! double-encoded forms `%253A`, `%252E` count as `:` and `.`. A run that
//! holds an IPv4 or IPv6 literal anywhere inside it is replaced as a whole by
//! [`REDACTED_IP`]; when the run is wrapped in `[` `]` (an IPv6 URL host) the
//! brackets go with it.
//!
//! A run is looked at twice: as written (with every `%` cutting it, so that
//! an address whose digits touch an escape is still found), and, if it holds
//! escapes, decoded. In each reading:
//!
//! * IPv4: any `d.d.d.d` substring whose two inner parts are whole groups of
//!   one to three decimal digits with values up to 255. Leading zeros are
//!   allowed, and the outer parts may be glued to more digits (`5192.0.2.1`
//!   holds `192.0.2.1`).
//! * IPv6: eight groups of one to four hex digits joined by single colons, or
//!   a `::` with at least one group next to it. Embedded IPv4 tails are caught
//!   by the IPv4 rule.
//!
//! Two exceptions keep ordinary text intact. The lone `::` is not an address.
//! A *short* `::` form, one with at most two groups such as `fe80::1` or
//! `d::ec`, does not count when its written form is glued to an ASCII letter
//! or `_` on either side: that is what `std::vec`, `Vec::new` or the CSS
//! `a::before` look like. Short forms in a percent-encoded run always count.
//!
//! Every check looks at a bounded number of bytes around each separator, so
//! the scrubber is linear in the length of its input. Without an IP it does
//! not allocate (unless a run with escapes is longer than 64 bytes).

use std::borrow::Cow;

/// What every IPv4 or IPv6 literal in stored text is replaced by.
pub const REDACTED_IP: &str = "[ip]";

/// Returns `input` with every IPv4 or IPv6 literal replaced by
/// [`REDACTED_IP`], or `input` itself, borrowed, when it holds none.
///
/// Addresses are found anywhere: inside URLs and query strings, bracketed,
/// percent-encoded (`2001%3Adb8%3A%3A1`, `192%2E0%2E2%2E1`), glued to other
/// text, fully expanded or compressed, in either case, with an embedded IPv4
/// part. The whole run of address characters holding the address is
/// replaced, so `fe80::1%eth0` becomes `[ip]%eth0`. Never panics.
#[must_use]
pub fn redact_ips(input: &str) -> Cow<'_, str> {
    let b = input.as_bytes();
    if !may_hold_ip(b) {
        return Cow::Borrowed(input);
    }
    let Some(first) = next_ip_run(b, 0) else {
        return Cow::Borrowed(input);
    };
    let mut out = String::with_capacity(input.len());
    let mut copied = 0;
    let mut next = Some(first);
    while let Some((start, end)) = next {
        let (start, end) = with_brackets(b, start, end);
        // Run boundaries sit next to ASCII bytes, so they are char boundaries.
        out.push_str(input.get(copied..start).unwrap_or_default());
        out.push_str(REDACTED_IP);
        copied = end;
        next = next_ip_run(b, end);
    }
    out.push_str(input.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// Whether `input` holds an IPv4 or IPv6 literal, that is whether
/// [`redact_ips`] would change it.
#[must_use]
pub fn contains_ip(input: &str) -> bool {
    let b = input.as_bytes();
    may_hold_ip(b) && next_ip_run(b, 0).is_some()
}

/// The fast path: without `.`, `:` or `%` there is no address.
fn may_hold_ip(b: &[u8]) -> bool {
    b.iter().any(|&c| matches!(c, b'.' | b':' | b'%'))
}

/// Widens a run to the `[` `]` around it, if both are there.
fn with_brackets(b: &[u8], start: usize, end: usize) -> (usize, usize) {
    let open = start.checked_sub(1).and_then(|i| b.get(i)) == Some(&b'[');
    if open && b.get(end) == Some(&b']') {
        (start - 1, end + 1)
    } else {
        (start, end)
    }
}

/// The run unit at `i`: its length in bytes and the character it stands for.
fn unit_at(b: &[u8], i: usize) -> Option<(usize, u8)> {
    let c = *b.get(i)?;
    match c {
        b'.' | b':' => Some((1, c)),
        _ if c.is_ascii_hexdigit() => Some((1, c)),
        b'%' => match b.get(i + 1..)? {
            [b'3', b'a' | b'A', ..] => Some((3, b':')),
            [b'2', b'e' | b'E', ..] => Some((3, b'.')),
            [b'2', b'5', b'3', b'a' | b'A', ..] => Some((5, b':')),
            [b'2', b'5', b'2', b'e' | b'E', ..] => Some((5, b'.')),
            _ => None,
        },
        _ => None,
    }
}

/// The next run at or after `from` that holds an address, as a byte range.
fn next_ip_run(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < b.len() {
        if unit_at(b, i).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut escaped = false;
        let mut separated = false;
        while let Some((len, c)) = unit_at(b, i) {
            escaped |= len > 1;
            separated |= c == b'.' || c == b':';
            i += len;
        }
        if separated && run_holds_ip(b, start, i, escaped) {
            return Some((start, i));
        }
    }
    None
}

/// Whether the run `b[start..end]` holds an address in either reading.
fn run_holds_ip(b: &[u8], start: usize, end: usize, escaped: bool) -> bool {
    let Some(raw) = b.get(start..end) else {
        return false;
    };
    let outer_left = start.checked_sub(1).and_then(|i| b.get(i)).copied();
    let outer_right = b.get(end).copied();
    // As written: every `%` cuts the run and is itself no letter.
    let pieces = raw.split(|&c| c == b'%').count();
    for (k, piece) in raw.split(|&c| c == b'%').enumerate() {
        let left = if k == 0 { outer_left } else { Some(b'%') };
        let right = if k + 1 == pieces {
            outer_right
        } else {
            Some(b'%')
        };
        if holds_ip(piece, is_ident(left), is_ident(right), false) {
            return true;
        }
    }
    if !escaped {
        return false;
    }
    // Decoded: escapes become the `:` or `.` they stand for. Short runs are
    // decoded on the stack.
    let mut stack = [0u8; 64];
    let mut heap = Vec::new();
    let mut len = 0;
    let mut i = start;
    while i < end {
        let Some((n, c)) = unit_at(b, i) else {
            break;
        };
        if let Some(slot) = stack.get_mut(len) {
            *slot = c;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(c);
        }
        len += 1;
        i += n;
    }
    let decoded = if len <= stack.len() {
        stack.get(..len).unwrap_or_default()
    } else {
        &heap
    };
    holds_ip(decoded, false, false, true)
}

/// Whether `c` is a letter or `_`, the glue of identifiers such as `std::vec`.
fn is_ident(c: Option<u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
}

/// Whether `s`, made of hex digits, `.` and `:` only, holds an address.
/// `left_ident` and `right_ident` tell whether the bytes just outside `s` are
/// identifier characters. `decoded` marks the decoded reading of a run with
/// escapes: there short `::` forms count even when glued, and seven groups
/// joined by single colons are enough, because text just before the address
/// may have formed an escape with its first group (`%2` + `e:1:…`).
fn holds_ip(s: &[u8], left_ident: bool, right_ident: bool, decoded: bool) -> bool {
    holds_ipv4(s) || holds_ipv6(s, left_ident, right_ident, decoded)
}

/// Whether `s` holds a dotted quad.
fn holds_ipv4(s: &[u8]) -> bool {
    s.iter()
        .enumerate()
        .any(|(i, &c)| c == b'.' && ipv4_at_dot(s, i))
}

/// Whether a dotted quad has its first dot at `dot`.
fn ipv4_at_dot(s: &[u8], dot: usize) -> bool {
    let before = dot.checked_sub(1).and_then(|i| s.get(i));
    if !before.is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let Some(second) = inner_octet(s, dot + 1) else {
        return false;
    };
    let Some(third) = inner_octet(s, second + 1) else {
        return false;
    };
    s.get(third + 1).is_some_and(u8::is_ascii_digit)
}

/// An octet of one to three decimal digits, at most 255, starting at `from`
/// and followed by a dot: returns the position of that dot.
fn inner_octet(s: &[u8], from: usize) -> Option<usize> {
    let mut value = 0u32;
    let mut i = from;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if i - from == 3 {
            return None;
        }
        value = value * 10 + u32::from(c - b'0');
        i += 1;
    }
    (i > from && value <= 255 && s.get(i) == Some(&b'.')).then_some(i)
}

/// The groups of an IPv6 candidate that end at the current group.
#[derive(Clone, Copy)]
struct Head {
    /// How many groups, at most 8.
    groups: usize,
    /// Where the first of them starts.
    start: usize,
}

/// Whether `s` holds an IPv6 address without its IPv4 tail (see
/// [`holds_ip`] for the parameters).
fn holds_ipv6(s: &[u8], left_ident: bool, right_ident: bool, decoded: bool) -> bool {
    let counts = |groups: usize, start: usize, end: usize| {
        groups >= 3 || decoded || !glued(s, start, end, left_ident, right_ident)
    };
    let full = if decoded { 7 } else { 8 };
    // The group chain just before the current separator.
    let mut head: Option<Head> = None;
    // The group chain before the current group, if a single colon joins them.
    let mut linked: Option<Head> = None;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c.is_ascii_hexdigit() {
            let start = i;
            while s.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
            if linked.is_some_and(|l| l.groups + 1 >= full) {
                return true;
            }
            head = Some(match linked {
                // A longer group can only be the first of an address.
                _ if i - start > 4 => Head {
                    groups: 1,
                    start: i - 4,
                },
                Some(l) => Head {
                    groups: (l.groups + 1).min(8),
                    start: l.start,
                },
                None => Head { groups: 1, start },
            });
            linked = None;
            continue;
        }
        let sep_start = i;
        while s.get(i).is_some_and(|c| !c.is_ascii_hexdigit()) {
            i += 1;
        }
        let sep = s.get(sep_start..i).unwrap_or_default();
        let before = head.take();
        linked = None;
        if sep == b":" {
            linked = before;
            continue;
        }
        let group_follows = i < s.len();
        if sep == b"::" {
            let (h, start) = before.map_or((0, sep_start), |h| (h.groups, h.start));
            let (t, end) = if group_follows { tail(s, i) } else { (0, i) };
            if h + t > 0 && counts(h + t, start, end) {
                return true;
            }
            continue;
        }
        let leading = sep.iter().take_while(|&&c| c == b':').count();
        let trailing = sep.iter().rev().take_while(|&&c| c == b':').count();
        if let Some(h) = before
            && leading >= 2
            && counts(h.groups, h.start, sep_start + 2)
        {
            return true;
        }
        if group_follows && trailing >= 2 {
            let (t, end) = tail(s, i);
            if counts(t, i - 2, end) {
                return true;
            }
        }
    }
    false
}

/// Counts the groups (up to 3) of an IPv6 candidate that follow a `::` and
/// start at `from`; returns the count and where the last of them ends.
fn tail(s: &[u8], from: usize) -> (usize, usize) {
    let mut groups = 0;
    let mut i = from;
    loop {
        let start = i;
        while i - start < 5 && s.get(i).is_some_and(u8::is_ascii_hexdigit) {
            i += 1;
        }
        if i == start {
            return (groups, i);
        }
        groups += 1;
        if i - start == 5 {
            // A longer group can only be the last of an address.
            return (groups, start + 4);
        }
        let joined = s.get(i) == Some(&b':') && s.get(i + 1).is_some_and(u8::is_ascii_hexdigit);
        if groups >= 3 || !joined {
            return (groups, i);
        }
        i += 1;
    }
}

/// Whether `s[start..end]` is glued to an identifier character on either side.
fn glued(s: &[u8], start: usize, end: usize, left_ident: bool, right_ident: bool) -> bool {
    let left = start
        .checked_sub(1)
        .map_or(left_ident, |i| is_ident(s.get(i).copied()));
    let right = if end < s.len() {
        is_ident(s.get(end).copied())
    } else {
        right_ident
    };
    left || right
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// The fully expanded form of an IPv6 address, lower case.
    fn expanded(a: Ipv6Addr) -> String {
        a.segments()
            .iter()
            .map(|g| format!("{g:04x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Every textual form of `ip` that must be gone from scrubbed text.
    fn forms(ip: IpAddr) -> Vec<String> {
        let shown = ip.to_string();
        let mut forms = vec![shown.clone(), shown.to_ascii_uppercase()];
        if let IpAddr::V6(a) = ip {
            forms.push(expanded(a));
            forms.push(expanded(a).to_ascii_uppercase());
        }
        forms.push(shown.replace(':', "%3A").replace('.', "%2E"));
        forms
    }

    /// Asserts that `input`, which holds `ip`, is scrubbed clean of it.
    fn assert_scrubbed(input: &str, ip: IpAddr) -> String {
        assert!(contains_ip(input), "not seen as holding an IP: {input:?}");
        let out = redact_ips(input);
        assert!(matches!(out, Cow::Owned(_)), "{input:?}");
        for form in forms(ip) {
            assert!(
                !out.contains(&form),
                "{input:?} -> {out:?} still holds {form}"
            );
        }
        assert!(out.contains(REDACTED_IP), "{input:?} -> {out:?}");
        assert!(!contains_ip(&out), "{input:?} -> {out:?} still holds an IP");
        assert_eq!(redact_ips(&out), out, "not idempotent on {input:?}");
        out.into_owned()
    }

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    #[test]
    fn ipv4_forms_are_redacted() {
        let cases = [
            ("192.0.2.1", v4("192.0.2.1")),
            ("http://192.168.1.1/x", v4("192.168.1.1")),
            ("https://192.168.1.1:8443/a?b=c", v4("192.168.1.1")),
            ("/search?ip=203.0.113.9&a=1", v4("203.0.113.9")),
            ("for=198.51.100.7;proto=https", v4("198.51.100.7")),
            (
                "Mozilla/5.0 (X11; Linux) via 10.0.0.1 Firefox/128.0",
                v4("10.0.0.1"),
            ),
            (r#"{"ip":"192.0.2.44","ok":true}"#, v4("192.0.2.44")),
            ("010.001.002.003", v4("10.1.2.3")),
            ("255.255.255.255", v4("255.255.255.255")),
            ("0.0.0.0", v4("0.0.0.0")),
            ("a192.0.2.1b", v4("192.0.2.1")),
            ("5192.0.2.13", v4("192.0.2.1")),
            ("192%2E0%2E2%2E1", v4("192.0.2.1")),
            ("?ip=192%2e0%2e2%2e1&x", v4("192.0.2.1")),
            ("192%252E0%252E2%252E1", v4("192.0.2.1")),
            ("héllo 198.51.100.7 wörld ☃", v4("198.51.100.7")),
            ("x-forwarded-for: 203.0.113.9, 10.0.0.1", v4("203.0.113.9")),
        ];
        for (input, ip) in cases {
            assert_scrubbed(input, ip);
        }
        assert!(!redact_ips("010.001.002.003").contains("010.001.002.003"));
        assert!(!redact_ips("a192%2E0%2E2%2E1").contains("192%2E0%2E2%2E1"));
    }

    #[test]
    fn ipv6_forms_are_redacted() {
        let cases = [
            ("2001:db8::1", v6("2001:db8::1")),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", v6("2001:db8::1")),
            ("2001:DB8::1", v6("2001:db8::1")),
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", v6("2001:db8::1")),
            ("::1", v6("::1")),
            ("::ffff:192.0.2.1", v6("::ffff:192.0.2.1")),
            ("::FFFF:192.0.2.1", v6("::ffff:192.0.2.1")),
            ("64:ff9b::192.0.2.33", v6("64:ff9b::192.0.2.33")),
            ("http://[2001:db8::1]:8080/", v6("2001:db8::1")),
            ("https://[::1]/admin", v6("::1")),
            ("fe80::1%eth0", v6("fe80::1")),
            ("fe80::1%25eth0", v6("fe80::1")),
            ("2001%3Adb8%3A%3A1", v6("2001:db8::1")),
            ("?ip=2001%3adb8%3a%3a1&a=1", v6("2001:db8::1")),
            ("2001%253Adb8%253A%253A1", v6("2001:db8::1")),
            ("x2001:db8::1y", v6("2001:db8::1")),
            ("1:2:3:4:5:6:7:8", v6("1:2:3:4:5:6:7:8")),
            ("fe80::", v6("fe80::")),
            ("2001:db8::", v6("2001:db8::")),
            ("a::b", v6("a::b")),
            ("ip=fe80::1&x", v6("fe80::1")),
            ("addr:fe80::1", v6("fe80::1")),
            ("for=\"[2001:db8:cafe::17]:4711\"", v6("2001:db8:cafe::17")),
            (
                "2001:db8:85a3::8a2e:370:7334",
                v6("2001:db8:85a3::8a2e:370:7334"),
            ),
            ("::ffff:c000:0201", v6("::ffff:192.0.2.1")),
            ("client 2001:db8::1 said hi", v6("2001:db8::1")),
            ("ユーザー2001:db8::1です", v6("2001:db8::1")),
            (
                r#"{"ip":"2a00:1450:4001:82a::200e"}"#,
                v6("2a00:1450:4001:82a::200e"),
            ),
        ];
        for (input, ip) in cases {
            assert_scrubbed(input, ip);
        }
    }

    #[test]
    fn replacement_is_exact() {
        let cases = [
            ("http://192.168.1.1/x", "http://[ip]/x"),
            ("http://[2001:db8::1]:8080/", "http://[ip]:8080/"),
            ("fe80::1%eth0", "[ip]%eth0"),
            ("?ip=203.0.113.9&a=1", "?ip=[ip]&a=1"),
            ("for=198.51.100.7;", "for=[ip];"),
            ("a 1.2.3.4 b 5.6.7.8 c", "a [ip] b [ip] c"),
            ("2001%3Adb8%3A%3A1", "[ip]"),
            ("x2001:db8::1y", "x[ip]y"),
            ("[[::1]]", "[[ip]]"),
            ("[ip]", "[ip]"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_ips(input), want, "{input:?}");
        }
    }

    #[test]
    fn non_addresses_are_kept() {
        let cases = [
            "",
            "hello world",
            "12:30:45",
            "2026-11-29",
            "2026-11-29T12:30:45.123Z",
            "Mon, 29 Nov 2026 12:30:45 GMT",
            "aa:bb:cc:dd:ee:ff",
            "AA:BB:CC:DD:EE:FF",
            "1.2.3",
            "version 1.2.3 of 2.0",
            "Chrome/120.0.6099.109",
            "10.0.19045.1234",
            "/products/shoe-42",
            "https://shop.example:8443/a/b?q=1",
            "3.14159",
            "::",
            "std::vec::Vec",
            "Vec::new",
            "a::before",
            "li::marker",
            "Foo::Bar::baz",
            "crate::text::scrub",
            "ratio 16:9",
            "John 3:16",
            "100% sure, 50% off",
            "%3A",
            "%2E%2E",
            "a:b:c:d:e:f:g:h",
            "1:2:3:4:5:6:7",
            "héllo wörld ☃ ⌘.",
            "deadbeef",
        ];
        for input in cases {
            assert!(!contains_ip(input), "{input:?} seen as holding an IP");
            assert!(
                matches!(redact_ips(input), Cow::Borrowed(s) if s == input),
                "{input:?}"
            );
        }
    }

    #[test]
    fn long_runs_are_handled() {
        let colons = "1:".repeat(50_000);
        assert!(contains_ip(&colons));
        let digits = "1".repeat(100_000);
        assert!(!contains_ip(&format!("{digits}.{digits}")));
        let dots = "1.".repeat(3);
        assert!(!contains_ip(&dots));
        let mixed = "ab:".repeat(7) + "ab";
        assert_eq!(redact_ips(&mixed), "[ip]");
        let escaped = "%3A".repeat(10_000) + "1";
        assert_eq!(redact_ips(&escaped), "[ip]");
        // Escaped runs on both sides of the 64-byte stack buffer.
        for n in 20..40 {
            let with_ip = format!("{}2001%3Adb8%3A%3A1", "f.".repeat(n));
            assert_eq!(redact_ips(&with_ip), "[ip]", "{n}");
            let without = format!("{}%3A", "f.".repeat(n));
            assert!(!contains_ip(&without), "{n}");
        }
    }

    /// A IPv6 group, zero a third of the time so that `::` forms come up.
    fn group() -> impl Strategy<Value = u16> {
        prop_oneof![1 => Just(0u16), 2 => any::<u16>()]
    }

    fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
        prop_oneof![
            4 => proptest::array::uniform8(group()).prop_map(Ipv6Addr::from),
            1 => any::<u32>().prop_map(|v| Ipv4Addr::from(v).to_ipv6_mapped()),
            1 => any::<u128>().prop_map(Ipv6Addr::from),
        ]
        .prop_filter("the lone :: is not redacted", |a| !a.is_unspecified())
    }

    /// Text to embed addresses in: ASCII with address characters, and Unicode.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["[ -~]{0,12}", "[0-9a-fA-F.:%xyz_\\[\\] ]{0,8}", "\\PC{0,8}",]
    }

    /// A short `::` form: it only counts when not glued to a letter.
    fn is_short(a: Ipv6Addr) -> bool {
        let shown = a.to_string();
        shown.contains("::")
            && !shown.contains('.')
            && shown.split(':').filter(|g| !g.is_empty()).count() <= 2
    }

    /// Non-identifier characters that may sit around a short `::` form.
    fn gap() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![" ", "/", "=", "&", "\"", ",", "é", "\n", "(", ")"])
    }

    /// A dotted quad by the scrubber's rules, checked the slow way.
    fn is_dotted_quad(s: &str) -> bool {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                (1..=3).contains(&p.len())
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|v| v <= 255)
            })
    }

    /// What std's parser and a slow scan of every substring find in `s`:
    /// (an address other than a short `::` form, any address but `::`).
    fn oracle(s: &str) -> (bool, bool) {
        let (mut strong, mut any) = (false, false);
        for i in 0..s.len() {
            for j in i + 1..=s.len().min(i + 45) {
                let Some(sub) = s.get(i..j) else { continue };
                let v6 = sub != "::" && sub.parse::<Ipv6Addr>().is_ok();
                let short = sub.contains("::")
                    && !sub.contains('.')
                    && sub.split(':').filter(|g| !g.is_empty()).count() <= 2;
                if is_dotted_quad(sub) || (v6 && !short) {
                    strong = true;
                }
                any |= is_dotted_quad(sub) || v6;
            }
        }
        (strong, any)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn embedded_ipv4_is_redacted(
            before in text(),
            v in any::<u32>(),
            after in text(),
            form in 0..3usize,
        ) {
            let a = Ipv4Addr::from(v);
            let written = match form {
                0 => a.to_string(),
                1 => a.to_string().replace('.', "%2E"),
                _ => a.octets().map(|o| format!("{o:03}")).join("."),
            };
            let input = format!("{before}{written}{after}");
            let out = redact_ips(&input);
            prop_assert!(!out.contains(&a.to_string()), "{input:?} -> {out:?}");
            prop_assert!(!out.contains(&written), "{input:?} -> {out:?}");
            prop_assert!(!contains_ip(&out), "{input:?} -> {out:?}");
        }

        #[test]
        fn embedded_ipv6_is_redacted(
            before in text(),
            a in ipv6(),
            after in text(),
            form in 0..7usize,
            gaps in (gap(), gap()),
        ) {
            let shown = a.to_string();
            let written = match form {
                0 => shown.clone(),
                1 => expanded(a),
                2 => shown.to_ascii_uppercase(),
                3 => expanded(a).to_ascii_uppercase(),
                4 => shown.replace(':', "%3A").replace('.', "%2E"),
                5 => shown.replace(':', "%3a"),
                _ => format!("http://[{shown}]:8080/"),
            };
            // Short forms count only when not glued to identifier characters.
            let (l, r) = if is_short(a) && form <= 2 { gaps } else { ("", "") };
            let input = format!("{before}{l}{written}{r}{after}");
            let out = redact_ips(&input);
            for f in [&shown, &expanded(a), &shown.to_ascii_uppercase(), &written] {
                prop_assert!(!out.contains(f.as_str()), "{input:?} -> {out:?} holds {f}");
            }
            prop_assert!(!contains_ip(&out), "{input:?} -> {out:?}");
        }

        #[test]
        fn agrees_with_std_parser(
            input in prop_oneof![
                "[0-9a-fA-F.:gx_ ]{0,30}",
                prop::collection::vec(
                    prop_oneof!["[0-9a-fA-F]{1,5}", "[0-9]{1,4}", Just(":".to_owned()), Just("::".to_owned()), Just(".".to_owned()), "[gx_ :.]{1,3}"],
                    0..16,
                )
                .prop_map(|tokens| tokens.concat()),
            ],
        ) {
            let (strong, any) = oracle(&input);
            let found = contains_ip(&input);
            prop_assert!(!strong || found, "missed an address in {:?}", input);
            prop_assert!(!found || any, "no address in {:?}", input);
        }

        #[test]
        fn arbitrary_text_is_safe_and_idempotent(
            input in prop_oneof!["\\PC*", ".*", "[0-9a-fA-F.:%\\[\\]gx_ é]{0,60}"],
        ) {
            let out = redact_ips(&input);
            prop_assert_eq!(contains_ip(&input), out != input);
            prop_assert_eq!(matches!(out, Cow::Borrowed(_)), out == input);
            prop_assert!(!contains_ip(&out), "{input:?} -> {out:?}");
            prop_assert_eq!(redact_ips(&out), out.clone());
        }
    }
}
