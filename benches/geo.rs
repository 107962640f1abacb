//! `GeoDb::country` on the workload's test database: 1,024 addresses, IPv4
//! and IPv6, found and not found.

mod support;

use criterion::{Throughput, criterion_group, criterion_main};
use pledgedb::geo::GeoDb;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn addresses() -> Vec<IpAddr> {
    let mut out = Vec::with_capacity(1_024);
    let mut x: u32 = 0x9E37_79B9;
    for i in 0..1_024u32 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let ip = match i % 4 {
            // Inside the workload's IPv4 networks (100.64.0.0/10 and more).
            0 => IpAddr::V4(Ipv4Addr::from(0x6440_0000 | (x & 0x003F_FFFF))),
            1 => IpAddr::V4(Ipv4Addr::new(203, 0, 113, (x & 0xFF) as u8)),
            // Inside an IPv6 network of the workload.
            2 => IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0x49,
                0,
                0,
                0,
                (x >> 16) as u16,
                x as u16,
            )),
            // Not in the database.
            _ => IpAddr::V4(Ipv4Addr::new(10, (x >> 16) as u8, (x >> 8) as u8, x as u8)),
        };
        out.push(ip);
    }
    out
}

fn geo(c: &mut criterion::Criterion) {
    let db = match GeoDb::from_bytes(support::geo_bytes()) {
        Ok(db) => db,
        Err(e) => panic!("opening the bench GeoIP database: {e}"),
    };
    let ips = addresses();
    let mut g = c.benchmark_group("geo");
    g.throughput(Throughput::Elements(ips.len() as u64));
    g.bench_function("country_1024_lookups", |b| {
        b.iter(|| {
            let mut known = 0usize;
            for ip in black_box(&ips) {
                known += usize::from(db.country(*ip) != pledgedb::Country::UNKNOWN);
            }
            known
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = geo
}
criterion_main!(benches);
