//! Times one erasure in a domain of about a million events: how long
//! `erase_visitor` takes to return, and how long the purge takes until the
//! visitor's bytes are gone. `cargo run --release --example erase_timing`.

use pledgedb::{Config, Db, Erasure, TimeRange, VisitorId, VisitorRef};
use pledgedb_workload::{Workload, WorkloadConfig};
use std::collections::HashMap;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = WorkloadConfig {
        domains: vec!["shop.example".into()],
        days: 30,
        visitors_per_day: 1_800,
        ..WorkloadConfig::default()
    };
    let hits: Vec<_> = Workload::new(cfg).collect();
    let last = hits.last().and_then(|h| h.timestamp).map_or(0, |t| t.0);
    let dir = tempfile::tempdir()?;
    let config = Config {
        background_compaction: false,
        clock: std::sync::Arc::new(pledgedb::ManualClock::new(pledgedb::Timestamp(
            last + 7_200_000,
        ))),
        ..Config::default()
    };
    let db = Db::open(dir.path(), config)?;
    for chunk in hits.chunks(10_000) {
        for r in db.ingest_batch(chunk.to_vec()) {
            let _ = r?;
        }
    }
    db.flush()?;
    let t = Instant::now();
    db.compact_now()?;
    eprintln!("sealed every day in {:.2} s", t.elapsed().as_secs_f64());
    let d = db.domain("shop.example")?;
    let events = d.events(TimeRange::all())?;
    let mut per_visitor: HashMap<VisitorId, usize> = HashMap::new();
    for e in &events {
        if e.visitor != VisitorId::ANONYMOUS {
            *per_visitor.entry(e.visitor).or_default() += 1;
        }
    }
    let (&victim, &n) = per_visitor
        .iter()
        .max_by_key(|(v, n)| (**n, **v))
        .ok_or("no visitor")?;
    let days: std::collections::BTreeSet<_> = events
        .iter()
        .filter(|e| e.visitor == victim)
        .map(|e| e.ts.day())
        .collect();
    println!(
        "{} events in the domain; the visitor has {n} events on {} days",
        events.len(),
        days.len()
    );
    let t = Instant::now();
    let r = d.erase_visitor(&VisitorRef::Id(victim))?;
    let returned = t.elapsed();
    assert!(matches!(r, Erasure::Pending(_)));
    let t = Instant::now();
    let report = db.compact_now()?;
    let purged = t.elapsed();
    println!(
        "erase_visitor returned in {:.1} ms; purge (compact_now) took {:.1} ms: {} segments rewritten, {} events removed, {} sealed again",
        returned.as_secs_f64() * 1e3,
        purged.as_secs_f64() * 1e3,
        report.segments_rewritten,
        report.events_purged,
        report.segments_sealed
    );
    Ok(())
}
