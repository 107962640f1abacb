//! Promise P1: no IP address is ever stored. Thousands of hits carry IPv4 and
//! IPv6 addresses in every field a tracker can send; after flush and close,
//! no file under the data directory holds any textual form of any of them,
//! and the countries derived from them are right.

mod common;

use common::{Env, expected_country, textual_forms};
use pledgedb::geo::writer::GeoLayout;
use pledgedb::{FormField, Hit, HitKind, HitProp, TimeRange};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn random_ip(rng: &mut StdRng) -> IpAddr {
    match rng.random_range(0..6) {
        0 => IpAddr::V4(Ipv4Addr::new(203, 0, 113, rng.random())),
        1 => IpAddr::V4(Ipv4Addr::new(198, 51, 100, rng.random())),
        2 => IpAddr::V4(Ipv4Addr::new(
            rng.random_range(1..=223),
            rng.random(),
            rng.random(),
            rng.random(),
        )),
        3 => IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            1,
            rng.random(),
            rng.random(),
            0,
            rng.random(),
            rng.random_range(1..=0xffff),
        )),
        4 => IpAddr::V6(Ipv6Addr::new(
            0x2a02,
            0x1234,
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
            rng.random(),
        )),
        _ => IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            2,
            0,
            0,
            0,
            0,
            rng.random_range(1..=0xffff),
        )),
    }
}

fn url_form(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The address spelled in a host name: `c-203-0-113-9.example.net`, or
/// Microsoft's IPv6 literal `2001-db8--1.ipv6-literal.net`.
fn host_name_form(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("c-{}-{}-{}-{}.example.net", o[0], o[1], o[2], o[3])
        }
        IpAddr::V6(v6) => format!("{}.ipv6-literal.net", v6.to_string().replace(':', "-")),
    }
}

/// The address as a host name spells it, without the rest of the name.
fn dashed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.octets().map(|o| o.to_string()).join("-"),
        IpAddr::V6(v6) => v6.to_string().replace(':', "-"),
    }
}

fn run(layout: GeoLayout) {
    let env = Env::with_layout(layout);
    let db = env.open();
    let mut rng = StdRng::seed_from_u64(7);
    let mut ips = Vec::new();
    let mut expected = HashMap::new();
    for i in 0..3000 {
        let ip = random_ip(&mut rng);
        let other = random_ip(&mut rng);
        ips.push(ip);
        ips.push(other);
        let host = if i % 8 < 4 {
            url_form(other)
        } else {
            host_name_form(other)
        };
        let url =
            format!("https://shop.example/geo/{i}/{ip}?client={ip}&utm_source={other}&x=1#{ip}");
        let kind = match i % 4 {
            0 => HitKind::PageView {
                referrer: Some(format!("http://{host}/from?ip={ip}")),
            },
            1 => HitKind::Custom {
                name: format!("signup {ip}"),
                props: vec![
                    ("client_ip".into(), HitProp::Text(ip.to_string())),
                    (
                        format!("k-{other}"),
                        HitProp::Text(format!("for={other};proto=https")),
                    ),
                ],
            },
            2 => HitKind::FormSubmit {
                form: format!("contact-{ip}"),
                fields: vec![
                    FormField::new("message", format!("my address is {ip}, call back")),
                    FormField::new(format!("field {other}"), other.to_string()),
                ],
            },
            _ => HitKind::Click {
                x: 10,
                y: 20,
                target: format!("a[href='http://{host}/']"),
            },
        };
        let hit = Hit::new("shop.example", url, kind)
            .ip(ip)
            .user_agent(format!(
                "Mozilla/5.0 (X11; Linux x86_64) Proxy/{ip} Firefox/120.0"
            ))
            .client_id(format!("client-{i}"))
            .at(common::start_time().plus_millis(i64::from(i) * 1000));
        expected.insert(format!("/geo/{i}/[ip]"), expected_country(ip));
        let r = db.ingest(hit).expect("ingest");
        assert_eq!(r, pledgedb::Ingested::Queued);
    }
    db.flush().expect("flush");

    // Countries: each event's path names its hit; the IP in the path itself
    // was redacted to [ip].
    let events = db
        .domain("shop.example")
        .expect("domain")
        .events(TimeRange::all())
        .expect("events");
    assert_eq!(events.len(), 3000);
    let mut known = 0;
    for e in &events {
        let want = expected
            .get(e.path.as_str())
            .unwrap_or_else(|| panic!("unexpected path {}", e.path));
        assert_eq!(e.country.as_str(), *want, "country of {}", e.path);
        if *want != "ZZ" {
            known += 1;
        }
    }
    assert!(
        known > 1500,
        "most test addresses are in the test database ({known})"
    );
    db.close().expect("close");

    let files = common::all_files(&env.data);
    assert!(files.len() >= 3, "global, control and a segment file exist");
    let forms: Vec<String> = ips
        .iter()
        .flat_map(|ip| {
            let mut f = textual_forms(*ip);
            f.push(dashed(*ip));
            f
        })
        .collect();
    assert!(forms.len() > 10_000);
    let found = common::find_any(&env.data, &forms);
    assert!(
        found.is_empty(),
        "IP addresses found in files: {:?}",
        &found[..found.len().min(5)]
    );
    // The scan itself finds what is there: a planted address is caught.
    std::fs::write(
        env.data.join("planted"),
        format!("x{}y", forms[forms.len() / 2]),
    )
    .expect("plant");
    assert!(!common::find_any(&env.data, &forms).is_empty());
}

#[test]
fn no_ip_in_any_file_nested_geoip_layout() {
    run(GeoLayout::Nested);
}

#[test]
fn no_ip_in_any_file_flat_geoip_layout() {
    run(GeoLayout::Flat);
}
