//! Measures ingest to durable from one caller: generates a seeded workload,
//! then times `ingest_batch` + `flush`. `cargo run --release --example
//! ingest_rate -- [hits]`.

use pledgedb::{Config, Db};
use pledgedb_workload::{Workload, WorkloadConfig};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let cfg = WorkloadConfig {
        days: 7,
        visitors_per_day: 20_000,
        ..WorkloadConfig::default()
    };
    let t = Instant::now();
    let hits: Vec<_> = Workload::new(cfg).take(n).collect();
    eprintln!("generated {n} hits in {:.2} s", t.elapsed().as_secs_f64());
    let dir = tempfile::tempdir()?;
    let last = hits.last().and_then(|h| h.timestamp).map_or(0, |t| t.0);
    let config = Config {
        background_compaction: false,
        clock: std::sync::Arc::new(pledgedb::ManualClock::new(pledgedb::Timestamp(
            last + 3_600_000,
        ))),
        ..Config::default()
    };
    let db = Db::open(dir.path(), config)?;
    let t = Instant::now();
    let mut it = hits.into_iter();
    loop {
        let chunk: Vec<_> = it.by_ref().take(10_000).collect();
        if chunk.is_empty() {
            break;
        }
        for r in db.ingest_batch(chunk) {
            let _ = r?;
        }
    }
    let queued = t.elapsed().as_secs_f64();
    db.flush()?;
    eprintln!(
        "queued in {queued:.2} s, durable after {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let secs = t.elapsed().as_secs_f64();
    println!("{n} hits in {secs:.2} s: {:.0} hits/s", n as f64 / secs);
    Ok(())
}
