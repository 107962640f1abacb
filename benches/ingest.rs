//! Ingest to durable: `ingest_batch` of 10,000 workload hits, then `flush`.

mod support;

use criterion::{BatchSize, Throughput, criterion_group, criterion_main};

const HITS: usize = 10_000;

fn ingest(c: &mut criterion::Criterion) {
    let hits = support::hits(HITS);
    let scratch = support::Scratch::new(7);
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(HITS as u64));
    g.bench_function("ingest_batch_flush_10k", |b| {
        b.iter_batched(
            || hits.clone(),
            |batch| {
                let mut queued = 0usize;
                for r in scratch.db.ingest_batch(batch) {
                    queued += usize::from(r.is_ok());
                }
                let flushed = scratch.db.flush().is_ok();
                (queued, flushed)
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = ingest
}
criterion_main!(benches);
