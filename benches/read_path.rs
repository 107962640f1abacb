//! The raw read path over 30 sealed days of one busy domain (the comparison
//! bench's main dataset, about a million events): the ad-hoc scan through
//! the Reader, a dashboard filtered on one country, and the questions the
//! web dashboard answers from raw events (visits, heatmap, forms).
//! `PLEDGEDB_BENCH_QUICK=1` uses 3 days of 100 visitors.

mod support;

use criterion::{criterion_group, criterion_main};
use pledgedb::domain::reader::{Columns, Predicate};
use pledgedb::{Country, DayRange, Dimension, Filters, Query, TimeRange};
use std::collections::HashSet;
use std::hint::black_box;

fn quick() -> bool {
    std::env::var("PLEDGEDB_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn bench(c: &mut criterion::Criterion) {
    let (days, visitors) = if quick() { (3, 100) } else { (30, 1_870) };
    let scratch = support::Scratch::new(days);
    scratch.ingest(support::workload(days, visitors).collect());
    if let Err(e) = scratch.db.compact_now() {
        panic!("compaction: {e}");
    }
    let d = match scratch.db.domain("shop.example") {
        Ok(d) => d,
        Err(e) => panic!("domain: {e}"),
    };
    let first = support::workload(days, visitors).config().start.day();
    let range = DayRange::new(first, first.plus(days as i32 - 1));
    let time = TimeRange::new(range.first.start(), range.last.end());
    // The most viewed page other than the home page.
    let page = match d.count_by_path(time) {
        Ok(v) => v
            .into_iter()
            .map(|(p, _)| p.as_str().to_string())
            .find(|p| p != "/")
            .unwrap_or_else(|| "/".to_string()),
        Err(e) => panic!("paths: {e}"),
    };
    let mut g = c.benchmark_group("read_path");
    g.bench_function("adhoc_scan", |b| {
        let pred = Predicate {
            filters: Filters {
                page: Some(page.clone()),
                ..Filters::default()
            },
            ..Predicate::default()
        };
        b.iter(|| {
            let reader = d.reader(time).unwrap_or_else(|e| panic!("{e}"));
            let (parts, _) = reader
                .fold(
                    Columns::VISITOR | Columns::COUNTRY | Columns::DEVICE,
                    &pred,
                    HashSet::<(Country, u8, u64), pledgedb::hash::FoldState>::default,
                    |seen, batch| {
                        for &r in batch.rows() {
                            let v = batch.visitor(r).0;
                            if v != 0 {
                                seen.insert((batch.country(r), batch.device(r).code(), v));
                            }
                        }
                    },
                )
                .unwrap_or_else(|e| panic!("{e}"));
            let mut all = HashSet::<_, pledgedb::hash::FoldState>::default();
            all.extend(parts.into_iter().flatten());
            black_box(all.len())
        });
    });
    g.bench_function("dashboard", |b| {
        b.iter(|| black_box(d.dashboard(range).unwrap_or_else(|e| panic!("{e}")).totals));
    });
    g.bench_function("filtered_dashboard", |b| {
        let q = Query::days(range).filtered(Filters {
            country: Some(Country::from_code("US")),
            ..Filters::default()
        });
        b.iter(|| {
            let r = d.rollups(&q).unwrap_or_else(|e| panic!("{e}"));
            black_box((
                r.metrics(),
                r.breakdown(Dimension::Page, 10),
                r.timeseries().len(),
            ))
        });
    });
    g.bench_function("visits", |b| {
        b.iter(|| {
            black_box(
                d.sessions(range, 50)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .len(),
            )
        });
    });
    g.bench_function("heatmap", |b| {
        b.iter(|| {
            black_box(
                d.heatmap(range, &page, 20)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .len(),
            )
        });
    });
    g.bench_function("forms", |b| {
        b.iter(|| {
            black_box(
                d.form_analytics(range, None)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .len(),
            )
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
