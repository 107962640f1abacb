//! The IP scrubber behind [`Text::new`](super::Text::new) (promise P1).
//!
//! Untrusted text is first read the way a person or a program would read it
//! ([`super::normalize`]: percent-escapes decoded to a fixed point, Unicode
//! compatibility forms such as full-width or circled digits folded to ASCII,
//! dashes and ideographic full stops mapped, invisible characters dropped);
//! the one definition of an IP-shaped match ([`super::ipmatch`]) runs over
//! that reading; and every match is replaced, in the original text, by
//! [`REDACTED_IP`]. When text holds `%`, it is read three times: with every
//! escape decoded, with only the escapes of hex digits and separators
//! decoded, and with only the escapes of separators decoded, so that text
//! glued before an address that forms an escape with its first digit
//! (`%2001:db8::1`, `%00.0.%30.0`, `%41.2.3.%34`) cannot hide it.
//!
//! The audit ([`crate::audit`]) uses the same definition through
//! [`each_span`].
//!
//! Text without `.`, `:`, `-`, `_`, `%` and non-ASCII characters holds no
//! address and is returned at once; ASCII text without `%` (and text whose
//! non-ASCII characters NFKC leaves alone) is matched as written, without
//! allocation. Everything is linear in the length of the input and never
//! panics.

use super::ipmatch::each_match;
use super::normalize::{Escapes, has_escapes, needs_normalizing, normalize};
use std::borrow::Cow;
use std::ops::Range;

/// What every IPv4 or IPv6 literal in stored text is replaced by.
pub const REDACTED_IP: &str = "[ip]";

/// Returns `input` with every IP-shaped span replaced by [`REDACTED_IP`], or
/// `input` itself, borrowed, when it holds none.
///
/// Addresses are found anywhere: inside URLs, host names and query strings,
/// bracketed, percent-encoded (`2001%3Adb8%3A%3A1`, `%32%30%33%2E…`, double
/// encoded), full-width (`２０３．０．１１３．９`), dashed (`c-73-22-11-5`,
/// `2001-db8--1.ipv6-literal.net`), glued to other text, fully expanded or
/// compressed, in either case, with an embedded IPv4 part, and partial ones
/// (96 bits of an IPv6 address, a /64 prefix, `203.0.113.`). A colon or dot
/// address is replaced with the whole run of hex digits, `.` and `:` that
/// holds it, so `fe80::1%eth0` becomes `[ip]%eth0`. Never panics.
#[must_use]
pub fn redact_ips(input: &str) -> Cow<'_, str> {
    let spans = ip_spans(input);
    if spans.is_empty() {
        return Cow::Borrowed(input);
    }
    // Redaction runs to a fixed point: in hostile text, removing one match
    // can join what was around it into another (an escape or a dash chain
    // that now reads differently). Every pass removes at least one address
    // character and adds none, so this ends; past a bound, the whole text
    // is replaced, so that scrubbed text never holds an address and
    // scrubbing it again changes nothing.
    let mut out = replace_spans(input, &spans);
    for _ in 0..MAX_PASSES {
        let again = ip_spans(&out);
        if again.is_empty() {
            return Cow::Owned(out);
        }
        out = replace_spans(&out, &again);
    }
    if contains_ip(&out) {
        out = REDACTED_IP.to_string();
    }
    Cow::Owned(out)
}

/// Passes of [`redact_ips`] before a text that keeps spelling an address is
/// replaced whole.
const MAX_PASSES: usize = 8;

/// `input` with every span replaced by [`REDACTED_IP`].
fn replace_spans(input: &str, spans: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(input.len());
    let mut copied = 0;
    for span in spans {
        // Spans start and end at char boundaries of the input.
        out.push_str(input.get(copied..span.start).unwrap_or_default());
        out.push_str(REDACTED_IP);
        copied = span.end;
    }
    out.push_str(input.get(copied..).unwrap_or_default());
    out
}

/// Whether `input` holds anything IP-shaped, that is whether [`redact_ips`]
/// would change it.
#[must_use]
pub fn contains_ip(input: &str) -> bool {
    let mut found = false;
    each_span(input, &mut |_, _| {
        found = true;
        false
    });
    found
}

/// The byte ranges of `input` that [`redact_ips`] replaces: sorted,
/// disjoint, not adjacent, on char boundaries. Empty (and not allocated)
/// when there is none.
#[must_use]
pub fn ip_spans(input: &str) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    each_span(input, &mut |r, _| {
        spans.push(r);
        true
    });
    if spans.len() > 1 {
        spans.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for r in spans {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        spans = merged;
    }
    spans
}

/// Calls `sink` with every IP-shaped span of `input` (an original byte
/// range, and whether the match is unmistakable even in binary data), in no
/// particular order and possibly overlapping, until `sink` returns `false`.
pub(crate) fn each_span(input: &str, sink: &mut dyn FnMut(Range<usize>, bool) -> bool) {
    let b = input.as_bytes();
    if !may_hold_ip(b) {
        return;
    }
    if !needs_normalizing(input) {
        each_match(b, &mut |m| sink(m.start..m.end, m.strong));
        return;
    }
    let readings: &[Escapes] = if has_escapes(b) {
        &[Escapes::All, Escapes::Address, Escapes::Separators]
    } else {
        &[Escapes::All]
    };
    for &escapes in readings {
        let units = normalize(input, escapes);
        let bytes: Vec<u8> = units.iter().map(|u| u.byte).collect();
        let mut go_on = true;
        each_match(&bytes, &mut |m| {
            let (Some(first), Some(last)) = (units.get(m.start), units.get(m.end.wrapping_sub(1)))
            else {
                return true;
            };
            go_on = sink(first.start..last.end, m.strong);
            go_on
        });
        if !go_on {
            return;
        }
    }
}

/// Scrubs `input`, then cuts the result to at most `max` bytes at a char
/// boundary: the only order in which untrusted text may be shortened, since
/// a cut first could leave half an address the scrubber no longer sees.
/// A cut that makes a prefix IP-shaped (the start of a MAC address can be
/// the start of an IPv6 address) is scrubbed again.
#[must_use]
pub fn redact_then_cut(input: &str, max: usize) -> String {
    let mut s = redact_ips(input).into_owned();
    for _ in 0..8 {
        if s.len() <= max {
            return s;
        }
        s.truncate(floor_boundary(&s, max));
        match redact_ips(&s) {
            Cow::Borrowed(_) => return s,
            Cow::Owned(again) => s = again,
        }
    }
    // Not reached for real input; stay safe anyway.
    let first = ip_spans(&s).first().map_or(s.len(), |r| r.start);
    s.truncate(floor_boundary(&s, first.min(max)));
    s
}

/// The largest char boundary of `s` that is at most `max`.
fn floor_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// The fast path: without a separator, an escape or a non-ASCII character
/// there is no address.
fn may_hold_ip(b: &[u8]) -> bool {
    b.iter()
        .any(|&c| matches!(c, b'.' | b':' | b'-' | b'_' | b'%' | b'&') || c >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `text_scrub` fuzz target: one pass of redaction joined
    /// what was around a match into a new one.
    #[test]
    fn redaction_runs_to_a_fixed_point() {
        let input = "&%BA;04----%1--1-1--1%1--1--1-10";
        let out = redact_ips(input);
        assert!(!contains_ip(&out), "{input:?} -> {out:?}");
        assert_eq!(redact_ips(&out), out);
        assert!(contains_ip(input));
    }
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
            // Deliberately changed: "1:2:3:4:5:6:7", seven groups, is now
            // 112 bits of an address and redacted (see
            // `partial_addresses_are_redacted`).
            "00:1A:2B:3C:4D:5E",
            "00-11-22-33-44-55",
            "0a-11-22-33-44-55",
            "mac 00-1A-2B-3C-4D-5E ok",
            "2026-11-29-report",
            "550e8400-e29b-41d4-a716-446655440000",
            "size-10-12-14",
            "page-2--final",
            "web-2--beta",
            "dead-beef-cafe",
            "a-b-c-d-e-f-g-h",
            "x-forwarded-for",
            "snake_case_name_2",
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
        // Deliberately changed: a trailing-dot triple is now the first 24
        // bits of an address and redacted.
        let dots = "1.".repeat(3);
        assert!(contains_ip(&dots));
        assert!(!contains_ip("1.1"));
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

    /// A partial address by the scrubber's definition, checked the slow way
    /// (deliberately added with it): a trailing-dot triple not followed by a
    /// digit, or four to seven hex groups joined by single colons.
    fn is_partial(s: &str, next: Option<u8>) -> bool {
        let triple = s.strip_suffix('.').is_some_and(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            parts.len() == 3
                && parts.iter().all(|p| {
                    (1..=3).contains(&p.len())
                        && p.bytes().all(|b| b.is_ascii_digit())
                        && p.parse::<u16>().is_ok_and(|v| v <= 255)
                })
        }) && !next.is_some_and(|b| b.is_ascii_digit());
        let groups: Vec<&str> = s.split(':').collect();
        let chain = (4..=7).contains(&groups.len())
            && groups
                .iter()
                .all(|g| (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit()));
        let dashed: Vec<&str> = s.split(['-', '_']).collect();
        let dashed_quad = dashed.len() == 4
            && dashed.iter().all(|p| {
                (1..=3).contains(&p.len())
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|v| v <= 255)
            });
        triple || chain || dashed_quad
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
                any |= is_dotted_quad(sub) || v6 || is_partial(sub, s.as_bytes().get(j).copied());
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
