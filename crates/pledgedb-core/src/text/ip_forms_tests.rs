//! Table and property tests of the IP-shaped class (promise P1): addresses
//! spelled in host names, partial addresses, encodings, short forms glued to
//! words, and scrub-before-cut.

use super::{REDACTED_IP, contains_ip, ip_spans, redact_ips, redact_then_cut, referrer_host};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Asserts that `input` is seen, changed, cleaned of every `gone` string,
/// and that the result is stable.
fn assert_redacted(input: &str, gone: &[&str]) -> String {
    assert!(contains_ip(input), "not seen as holding an IP: {input:?}");
    let out = redact_ips(input).into_owned();
    assert!(out.contains(REDACTED_IP), "{input:?} -> {out:?}");
    for g in gone {
        assert!(!out.contains(g), "{input:?} -> {out:?} still holds {g:?}");
    }
    assert!(!contains_ip(&out), "{input:?} -> {out:?} still holds an IP");
    assert_eq!(redact_ips(&out), out, "not idempotent on {input:?}");
    out
}

fn assert_kept(input: &str) {
    assert!(!contains_ip(input), "{input:?} seen as holding an IP");
    assert_eq!(redact_ips(input), input);
}

#[test]
fn addresses_spelled_in_host_names_are_redacted() {
    let cases: &[(&str, &[&str])] = &[
        (
            "ec2-203-0-113-9.compute-1.amazonaws.com",
            &["203-0-113-9", "113-9"],
        ),
        ("c-73-22-11-5.hsd1.comcast.net", &["73-22-11-5", "22-11-5"]),
        ("ip-10-0-0-5.ec2.internal", &["10-0-0-5"]),
        ("203-0-113-9.static.example.net", &["203-0-113-9"]),
        ("ip_10_0_0_5", &["10_0_0_5"]),
        ("host_192_168_1_20.lan", &["192_168_1_20"]),
        ("IP-10-0-0-5.EC2.INTERNAL", &["10-0-0-5"]),
        ("10-0_0-5", &["10-0_0-5"]),
        (
            "2001-db8-85a3--8a2e-370-7334.ipv6-literal.net",
            &["2001-db8-85a3", "8a2e-370-7334"],
        ),
        ("fe80--1s4.ipv6-literal.net", &["fe80--1", "1s4"]),
        ("2001-DB8--1.IPV6-LITERAL.NET", &["2001-DB8--1"]),
        ("--1.ipv6-literal.net", &["--1"]),
        (
            "2001-0db8-0000-0000-0000-0000-0000-0001",
            &["2001-0db8", "0000-0001"],
        ),
        ("peer 2001-db8--1 said", &["2001-db8--1"]),
        ("2001-db8--", &["2001-db8--"]),
        ("1-2-3-4-5-6-7-8", &["1-2-3-4-5-6-7-8"]),
        (
            "https://c-73-22-11-5.hsd1.comcast.net/path?x=1",
            &["73-22-11-5"],
        ),
        ("utm_source=ip-198-51-100-7", &["198-51-100-7"]),
        (r#"{"host":"ec2-203-0-113-9"}"#, &["203-0-113-9"]),
        ("a[href='//10-1-2-3.nip.io/']", &["10-1-2-3"]),
        ("203.0.113.9.nip.io", &["203.0.113.9"]),
    ];
    for (input, gone) in cases {
        assert_redacted(input, gone);
    }
    assert_eq!(
        redact_ips("c-73-22-11-5.hsd1.comcast.net"),
        "c-[ip].hsd1.comcast.net"
    );
    assert_eq!(
        redact_ips("ec2-203-0-113-9.compute-1.amazonaws.com"),
        "ec2-[ip].compute-1.amazonaws.com"
    );
    assert_eq!(redact_ips("ip_10_0_0_5"), "ip_[ip]");
    assert_eq!(
        redact_ips("fe80--1s4.ipv6-literal.net"),
        "[ip].ipv6-literal.net"
    );
}

#[test]
fn partial_addresses_are_redacted() {
    let cases: &[(&str, &[&str])] = &[
        ("2001:db8:85a3:1:2:8a2e:3", &["2001:db8", "8a2e:3"]),
        ("2001:db8:85a3:1:2", &["2001:db8:85a3"]),
        ("2a02:1234:5:6:7:8", &["2a02:1234"]),
        ("1:2:3:4:5:6:7", &["1:2:3"]),
        ("2001:db8:85a3:8d3", &["2001:db8:85a3"]),
        ("prefix=2A02:1234:AB:CD&x", &["2A02:1234"]),
        ("203.0.113.", &["203.0.113"]),
        ("ip=203.0.113.&x=1", &["203.0.113"]),
        ("00:1a:2b:3c:4d:5e:6f", &["00:1a:2b:3c"]),
        ("upgrade to 1.2.3.", &["1.2.3"]),
    ];
    for (input, gone) in cases {
        assert_redacted(input, gone);
    }
    for kept in [
        "aa:bb:cc:dd:ee:ff",
        "00:1A:2B:3C:4D:5E",
        "12:30:45",
        "12:30:45:99",
        "dead:beef:cafe:babe",
        "1.2.3",
        "1.2.3.example",
    ] {
        if kept == "1.2.3.example" {
            // A trailing-dot triple followed by a word is redacted too.
            assert!(contains_ip(kept));
            continue;
        }
        assert_kept(kept);
    }
}

#[test]
fn encoded_addresses_are_redacted_in_the_original() {
    let cases: &[(&str, &str)] = &[
        ("%32%30%33%2E%30%2E%31%31%33%2E%39", "[ip]"),
        ("203.0.113.%39", "[ip]"),
        ("%2532%2530%2533%252E0.113.9", "[ip]"),
        ("?ip=%25%33%32%30%33.0.113.9&a=1", "?ip=[ip]&a=1"),
        ("２０３．０．１１３．９", "[ip]"),
        ("ip ２０３.０.113。９ here", "ip [ip] here"),
        ("①⑨②.⓪.②.①", "[ip]"),
        ("𝟏𝟗𝟐.𝟎.𝟐.𝟏", "[ip]"),
        ("¹⁹².⁰.².¹", "[ip]"),
        ("203\u{200B}.0.113.9", "[ip]"),
        ("c-73‐22‐11‐5.example", "c-[ip].example"),
        ("ｆｅ８０：：１", "[ip]"),
        ("2001%3Adb8%3A%3A1", "[ip]"),
        ("%40%2E0%2E0%2E0", "%[ip]"),
        ("x%2001:db8::1", "x%[ip]"),
        ("%00.0.%30.0", "%[ip]"),
        ("%41.2.3.%34", "%[ip]%34"),
        ("%EF%BC%92%EF%BC%90%EF%BC%93.0.113.9", "[ip]"),
        ("c%2D73%2D22%2D11%2D5", "c%2D[ip]"),
        ("２０３－０－１１３－９", "[ip]"),
        ("٢٠٣.٠.١١٣.٩", "[ip]"),
        ("&#50;&#48;&#51;.0.113.&#x39;", "[ip]"),
        ("<a title=\"&#102;e80::1\">", "<a title=\"[ip]\">"),
        ("ip २०३-०-११३-९", "ip [ip]"),
    ];
    for (input, want) in cases {
        assert_eq!(redact_ips(input), *want, "{input:?}");
        assert!(!contains_ip(want), "{want:?}");
    }
    // Spans are char boundaries of the original.
    for (input, _) in cases {
        for r in ip_spans(input) {
            assert!(input.is_char_boundary(r.start) && input.is_char_boundary(r.end));
        }
    }
}

#[test]
fn short_forms_glued_to_words() {
    for input in [
        "ip_fe80::1",
        "host_2a02::5",
        "fe80::1",
        "xfe80::1y",
        "a::b",
        "dead::beef",
        "::1",
        "ab::cd_x",
        "host_ab::cd",
        "v6=fe80::a",
        "std::1",
        "IP_FE80::1",
        "std::",
    ] {
        assert_redacted(input, &["::"]);
    }
    for input in [
        "std::vec",
        "Vec::new",
        "a::before",
        "li::marker",
        "Foo::Bar::baz",
        "crate::text::scrub",
        "p::first-line",
        "Option::None",
    ] {
        assert_kept(input);
    }
}

#[test]
fn cutting_happens_after_scrubbing() {
    // A host cut at 253 bytes in the middle of an address.
    for tail in [
        "203.0.113.9",
        "2001:db8:85a3:1:2:8a2e:370:7334",
        "c-73-22-11-5",
    ] {
        for pad in 230..253 {
            let host = format!("{}{tail}", "a".repeat(pad));
            let url = format!("https://{host}/x");
            let out = referrer_host(&url);
            assert!(out.len() <= 253);
            assert!(!contains_ip(&out), "{pad}: {out:?}");
            for piece in ["203.0.113", "2001:db8:85a3", "73-22-11"] {
                assert!(!out.contains(piece), "{pad}: {out:?}");
            }
            let not_url = referrer_host(&host);
            assert!(
                not_url.len() <= 253 && !contains_ip(&not_url),
                "{not_url:?}"
            );
        }
    }
    // A cut that would make a MAC address the start of an IPv6 address.
    let mac = format!("{}00:1a:2b:3c:4d:5e", "x".repeat(240));
    let out = redact_then_cut(&mac, 252);
    assert!(out.len() <= 252 && !contains_ip(&out), "{out:?}");
    let out = redact_then_cut("é1.2.3.4", 2);
    assert_eq!(out, "é");
}

/// Writes `c` the way `mode` says: as is, full-width, percent-encoded once or
/// twice, mathematical bold (digits only), or fully percent-encoded UTF-8 of
/// its full-width form.
fn spell(c: char, mode: u8) -> String {
    let full = |c: char| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c);
    match mode {
        1 => full(c).to_string(),
        2 => format!("%{:02X}", u32::from(c)),
        3 => format!("%25{:02x}", u32::from(c)),
        4 if c.is_ascii_digit() => char::from_u32(0x1D7CE + u32::from(c) - u32::from('0'))
            .map_or(c.to_string(), String::from),
        5 => full(c)
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect(),
        _ => c.to_string(),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,10}",
        "[a-zA-Z/=&?\" ]{0,8}",
        "\\PC{0,6}",
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn mixed_encodings_of_ipv4_are_redacted(
        before in text(),
        v in any::<u32>(),
        after in text(),
        modes in prop::collection::vec(0u8..6, 15),
        sep in prop::sample::select(vec![".", "-", "_"]),
    ) {
        let a = Ipv4Addr::from(v);
        let plain = a.octets().map(|o| o.to_string()).join(sep);
        let written: String = plain
            .chars()
            .zip(modes.iter().cycle())
            .map(|(c, &m)| spell(c, m))
            .collect();
        // Dashed forms are whole groups: keep digits off their ends. Text
        // that forms an escape with the first digit (`%4` before `1.…`)
        // makes a different address, or none, for any decoder: keep it off.
        let escape_glue = before.ends_with('%')
            || before.len() >= 2 && before.as_bytes()[before.len() - 2] == b'%';
        let (l, r) = if sep != "." { ("/", "/") } else if escape_glue { (" ", "") } else { ("", "") };
        let input = format!("{before}{l}{written}{r}{after}");
        let out = redact_ips(&input);
        prop_assert!(!out.contains(&written), "{input:?} -> {out:?}");
        prop_assert!(!out.contains(&plain), "{input:?} -> {out:?}");
        prop_assert!(!contains_ip(&out), "{input:?} -> {out:?}");
    }

    #[test]
    fn mixed_encodings_of_ipv6_are_redacted(
        before in text(),
        segs in proptest::array::uniform8(prop_oneof![Just(0u16), any::<u16>()]),
        after in text(),
        modes in prop::collection::vec(0u8..4, 39),
        form in 0..3usize,
    ) {
        let a = Ipv6Addr::from(segs);
        let shown = a.to_string();
        let plain = match form {
            0 => shown.clone(),
            1 => a.segments().map(|g| format!("{g:x}")).join(":"),
            _ => shown.replace([':', '.'], "-"),
        };
        prop_assume!(plain.bytes().any(|b| b.is_ascii_digit()));
        prop_assume!(form != 2 || !plain.contains('-') || plain.matches("--").count() <= 1);
        let written: String = plain
            .chars()
            .zip(modes.iter().cycle())
            .map(|(c, &m)| spell(c, m))
            .collect();
        let input = format!("{before} {written} {after}");
        let groups = plain.split([':', '-']).filter(|g| !g.is_empty()).count();
        prop_assume!(form != 2 || groups >= 2 || plain.contains('.'));
        let out = redact_ips(&input);
        prop_assert!(!out.contains(&written), "{input:?} -> {out:?}");
        prop_assert!(!contains_ip(&out), "{input:?} -> {out:?}");
    }

    #[test]
    fn host_names_with_dashed_quads(
        prefix in "[a-z]{1,5}",
        v in any::<u32>(),
        sep in prop::sample::select(vec!['-', '_']),
        suffix in "[a-z0-9]{1,6}\\.(net|com|internal)",
        upper in any::<bool>(),
    ) {
        let a = Ipv4Addr::from(v);
        let quad = a.octets().map(|o| o.to_string()).join(&sep.to_string());
        let host = format!("{prefix}{sep}{quad}.{suffix}");
        let host = if upper { host.to_uppercase() } else { host };
        let out = redact_ips(&host);
        prop_assert!(!out.contains(&quad), "{host:?} -> {out:?}");
        prop_assert!(!contains_ip(&out));
        prop_assert!(out.ends_with(&suffix.to_uppercase()) || out.ends_with(&suffix));
    }

    #[test]
    fn arbitrary_unicode_is_safe_and_idempotent(
        input in prop_oneof![
            "\\PC{0,40}",
            "[0-9a-f.:%\\-_２３．：－｡。①𝟏\u{200B}]{0,40}",
            "(%2[5EeDd]|%3[AaF0-9]|[0-9.:-]){0,30}",
        ],
    ) {
        let out = redact_ips(&input);
        prop_assert_eq!(contains_ip(&input), out != input);
        prop_assert!(!contains_ip(&out), "{input:?} -> {out:?}");
        prop_assert_eq!(redact_ips(&out), out.clone());
        let cut = redact_then_cut(&input, 17);
        prop_assert!(cut.len() <= 17 && !contains_ip(&cut));
    }
}
