//! The IP scrubber every stored string passes: `redact_ips` itself, and
//! `Text::new` (which caches IP-free strings of up to 256 bytes per thread)
//! on typical paths and query strings, with and without IP addresses.

mod support;

use criterion::{Throughput, criterion_group, criterion_main};
use pledgedb::Text;
use pledgedb::text::redact_ips;
use std::hint::black_box;

const INPUTS: &[(&str, &str)] = &[
    ("path", "/products/blue-widget-42"),
    (
        "deep_path",
        "/docs/guides/getting-started/installation/linux",
    ),
    (
        "query_utm",
        "utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale",
    ),
    ("query_ipv4", "ref=partner&client=203.0.113.9&lang=en"),
    ("query_ipv4_pct", "next=http%3A%2F%2F198.51.100.23%2Flogin"),
    ("path_ipv6", "/debug/peer/2001:db8::8a2e:370:7334/status"),
    ("css_selector", "div.hero > a.button.primary:nth-child(2)"),
    ("version_string", "Chrome 124.0.6367.91 on build 10.0.19045"),
];

fn long_input() -> String {
    // Longer than the per-thread cache's 256 bytes: always scanned.
    "/search?q=".to_string() + &"analytics+privacy+cookieless+".repeat(12)
}

fn scrub(c: &mut criterion::Criterion) {
    let long = long_input();
    let mut inputs: Vec<(&str, &str)> = INPUTS.to_vec();
    inputs.push(("long_300b", &long));
    let mut g = c.benchmark_group("redact_ips");
    for (name, input) in &inputs {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(*name, |b| b.iter(|| redact_ips(black_box(input)).len()));
    }
    g.finish();
    let mut g = c.benchmark_group("text_new");
    for (name, input) in &inputs {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| Text::new(black_box(input)).as_str().len())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = scrub
}
criterion_main!(benches);
