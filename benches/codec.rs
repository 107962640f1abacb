//! The block codec on one full block (4,096 realistic events): encoding,
//! decoding every event, and decoding single columns through `BlockView`.

mod support;

use criterion::{Throughput, criterion_group, criterion_main};
use pledgedb::codec::{BlockView, decode_block, encode_block};
use std::hint::black_box;

const BLOCK: usize = 4_096;

fn codec(c: &mut criterion::Criterion) {
    let mut events = support::stored_events(BLOCK);
    events.truncate(BLOCK);
    assert_eq!(events.len(), BLOCK, "the workload yields a full block");
    let mut bytes = Vec::new();
    encode_block(&events, &mut bytes);

    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.bench_function("encode_block", |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            out.clear();
            encode_block(black_box(&events), &mut out);
            out.len()
        });
    });
    g.bench_function("decode_block", |b| {
        b.iter(|| decode_block(black_box(&bytes)).map(|e| e.len()));
    });
    g.bench_function("view_parse", |b| {
        b.iter(|| BlockView::parse(black_box(&bytes)).map(|v| v.len()));
    });
    g.bench_function("view_timestamps", |b| {
        b.iter(|| {
            BlockView::parse(black_box(&bytes)).and_then(|v| v.timestamps().map(|t| t.len()))
        });
    });
    g.bench_function("view_visitors", |b| {
        b.iter(|| BlockView::parse(black_box(&bytes)).and_then(|v| v.visitors().map(|t| t.len())));
    });
    g.bench_function("view_countries", |b| {
        b.iter(|| BlockView::parse(black_box(&bytes)).and_then(|v| v.countries().map(|t| t.len())));
    });
    g.bench_function("view_paths", |b| {
        b.iter(|| BlockView::parse(black_box(&bytes)).and_then(|v| v.paths().map(|t| t.len())));
    });
    g.finish();
    println!(
        "codec: a {BLOCK}-event block is {} bytes ({:.1} bytes/event)",
        bytes.len(),
        bytes.len() as f64 / BLOCK as f64
    );
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = codec
}
criterion_main!(benches);
