//! Promise P1 through the public ingest API, for every notation the
//! scrubber knows beyond the plain ones: addresses spelled in host names
//! (dashed, underscored, Microsoft's dashed IPv6 literal), percent-encoded
//! digits (once and twice), full-width and mathematical digits, partial
//! IPv6 chains and /64 prefixes, short IPv6 forms glued to words, and host
//! names longer than the 253 bytes a referrer host is cut to. After flush
//! and close no file holds any of the written forms, nor the plain forms of
//! the addresses; domain names that spell an address are refused without
//! being echoed and leave no directory.

mod common;

use common::{Env, textual_forms};
use pledgedb::{FormField, Hit, HitKind, HitProp, TimeRange};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn percent_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn percent_twice(s: &str) -> String {
    s.bytes().map(|b| format!("%25{b:02x}")).collect()
}

fn math_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x1D7CE + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// The notations of an IPv4 address a hit may carry; each is also a form
/// that must be absent afterwards.
fn v4_notations(a: Ipv4Addr) -> Vec<String> {
    let o = a.octets();
    let dashed = format!("{}-{}-{}-{}", o[0], o[1], o[2], o[3]);
    let under = format!("{}_{}_{}_{}", o[0], o[1], o[2], o[3]);
    vec![
        dashed.clone(),
        under,
        percent_all(&a.to_string()),
        percent_twice(&a.to_string()),
        full_width(&a.to_string()),
        math_digits(&a.to_string()),
        format!(
            "{}.{}.{}.%{:02X}",
            o[0],
            o[1],
            o[2],
            u32::from(b'0') + u32::from(o[3] % 10)
        ),
        full_width(&dashed),
    ]
}

/// The notations of an IPv6 address (and of its prefixes).
fn v6_notations(a: Ipv6Addr) -> Vec<String> {
    let g = a.segments().map(|s| format!("{s:x}"));
    let shown = a.to_string();
    let mut v = vec![
        // Microsoft's literal form.
        shown.replace(':', "-"),
        // 112 and 96 bits, and the /64 prefix with a four-digit group.
        g[..7].join(":"),
        g[..6].join(":"),
        format!("{:04x}:{}", a.segments()[0], g[1..4].join(":")),
        percent_all(&shown),
        full_width(&shown),
    ];
    v.retain(|s| s.bytes().any(|b| b.is_ascii_digit()));
    v
}

fn random_v6(rng: &mut StdRng) -> Ipv6Addr {
    Ipv6Addr::new(
        0x2001,
        0xdb8,
        rng.random_range(1..=0xffff),
        rng.random(),
        rng.random(),
        rng.random(),
        rng.random(),
        rng.random_range(1..=0xffff),
    )
}

#[test]
fn no_notation_of_any_address_is_stored() {
    let env = Env::new();
    let db = env.open();
    let mut rng = StdRng::seed_from_u64(13);
    let mut gone: Vec<String> = Vec::new();
    for i in 0..400u32 {
        let v4 = Ipv4Addr::new(
            rng.random_range(1..=223),
            rng.random(),
            rng.random(),
            rng.random_range(10..=250),
        );
        let v6 = random_v6(&mut rng);
        gone.extend(textual_forms(IpAddr::V4(v4)));
        gone.extend(textual_forms(IpAddr::V6(v6)));
        let mut notes = v4_notations(v4);
        notes.extend(v6_notations(v6));
        gone.extend(notes.iter().cloned());
        let n = |k: u32| notes[(i + k) as usize % notes.len()].clone();
        let o = v4.octets();
        let host = match i % 5 {
            0 => format!("c-{}-{}-{}-{}.hsd1.comcast.net", o[0], o[1], o[2], o[3]),
            1 => format!(
                "ec2-{}-{}-{}-{}.compute-1.amazonaws.com",
                o[0], o[1], o[2], o[3]
            ),
            2 => format!("{}.ipv6-literal.net", v6.to_string().replace(':', "-")),
            3 => format!("ip_{}_{}_{}_{}.lan", o[0], o[1], o[2], o[3]),
            // Longer than 253 bytes, the address at the cut.
            _ => format!("{}.{v4}", "a".repeat(240 + (i as usize % 12))),
        };
        let url = format!(
            "https://shop.example/n/{i}/{}?utm_source={}&utm_term={}",
            n(0),
            n(1),
            n(2)
        );
        let kind = match i % 4 {
            0 => HitKind::PageView {
                referrer: Some(format!("https://{host}/from?ip={}", n(3))),
            },
            1 => HitKind::Custom {
                name: format!("signup ip_fe80::{:x}", i + 1),
                props: vec![
                    ("host".into(), HitProp::Text(host.clone())),
                    (
                        format!("k-{}", n(4)),
                        HitProp::Text(format!(r#"{{"ip":"{}"}}"#, n(5))),
                    ),
                ],
            },
            2 => HitKind::FormSubmit {
                form: format!("contact-{}", n(6)),
                fields: vec![
                    FormField::new("message", format!("my host is {host} and {}", n(7))),
                    FormField::new(format!("field {}", n(8)), n(9)),
                ],
            },
            _ => HitKind::Click {
                x: 1,
                y: 2,
                target: format!("a[href='//{host}/'] host_2a02::{:x}", i + 1),
            },
        };
        let hit = Hit::new("shop.example", url, kind)
            .ip(IpAddr::V4(v4))
            .client_id(format!("c{i}"))
            .at(common::start_time().plus_millis(i64::from(i) * 1000));
        let _ = db.ingest(hit).expect("ingest");
    }
    db.flush().expect("flush");
    let events = db
        .domain("shop.example")
        .expect("domain")
        .events(TimeRange::all())
        .expect("events");
    assert_eq!(events.len(), 400);
    for e in &events {
        let shown = format!("{e:?}");
        assert!(!shown.contains("fe80::"), "{shown}");
        assert!(!shown.contains("2a02::"), "{shown}");
    }
    db.close().expect("close");
    gone.retain(|g| g.len() >= 7);
    let found = common::find_any(&env.data, &gone);
    assert!(
        found.is_empty(),
        "address notations found in files: {:?}",
        &found[..found.len().min(5)]
    );
    // The scan finds what is there.
    std::fs::write(env.data.join("planted"), &gone[gone.len() / 3]).expect("plant");
    assert!(!common::find_any(&env.data, &gone).is_empty());
}

#[test]
fn domain_names_that_spell_an_address_are_refused_without_a_trace() {
    let env = Env::new();
    let db = env.open();
    let bad = [
        "203.0.113.9.nip.io",
        "203-0-113-9.nip.io",
        "c-73-22-11-5.example.net",
        "ip-10-0-0-5.ec2.internal",
        "2001-db8--1.example",
        "fe80--1s4.ipv6-literal.net",
        "198.51.100.7",
    ];
    for name in bad {
        let Err(e) = db.create_domain(name) else {
            panic!("a domain name that spells an address was accepted");
        };
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(name), "{shown}");
        let Err(e) = db.ingest(Hit::page_view(name, "/").at(common::start_time())) else {
            panic!("a hit for a domain name that spells an address was accepted");
        };
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(name), "{shown}");
    }
    db.create_domain("route-66.example").expect("a plain name");
    db.close().expect("close");
    for (path, _) in common::all_files(&env.data) {
        let p = path.to_string_lossy().into_owned();
        for name in bad {
            assert!(!p.contains(name), "{p}");
        }
    }
    let found = common::find_any(&env.data, &bad.map(String::from));
    assert!(found.is_empty(), "{found:?}");
}
