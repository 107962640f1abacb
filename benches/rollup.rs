//! `pledgedb_core::query::rollup` over one day of one domain's events (what
//! sealing a day computes).

mod support;

use criterion::{Throughput, criterion_group, criterion_main};
use pledgedb::query::rollup;
use std::hint::black_box;

fn bench(c: &mut criterion::Criterion) {
    let events = support::stored_events(30_000);
    let mut g = c.benchmark_group("rollup");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function(format!("day_of_{}_events", events.len()), |b| {
        b.iter(|| {
            let r = rollup(black_box(&events));
            r.totals.events
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = bench
}
criterion_main!(benches);
