//! Shared setup of the criterion benches: their configuration (short runs,
//! so `cargo bench` stays a matter of minutes), the test GeoIP database and
//! realistic stored events read back from a scratch PledgeDB.
#![allow(dead_code)]

use criterion::Criterion;
use pledgedb::{Config, Db, Event, Hit, ManualClock, TimeRange, Timestamp};
use pledgedb_workload::{COUNTRY_NETWORKS, Workload, WorkloadConfig};
use std::sync::Arc;
use std::time::Duration;

/// Two seconds of measurement, 20 samples, one second of warm-up, and a
/// lighter analysis (10,000 bootstrap resamples, no plots), so one
/// benchmark takes about four seconds.
pub fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20)
        .nresamples(10_000)
        .without_plots()
}

/// The country database matching the workload's client networks.
pub fn geo_bytes() -> Vec<u8> {
    let entries: Vec<(ipnet::IpNet, &str)> = COUNTRY_NETWORKS
        .iter()
        .filter_map(|(n, c)| n.parse().ok().map(|n| (n, *c)))
        .collect();
    match pledgedb::geo::writer::build_country_db(
        &entries,
        pledgedb::geo::writer::GeoLayout::Nested,
    ) {
        Ok(b) => b,
        Err(e) => panic!("building the bench GeoIP database: {e}"),
    }
}

/// A scratch data directory with the bench GeoIP database, a manual clock
/// after the workload's last hit, and no background compaction.
pub struct Scratch {
    pub tmp: tempfile::TempDir,
    pub db: Db,
}

impl Scratch {
    pub fn new(days: u32) -> Scratch {
        let tmp = match tempfile::tempdir() {
            Ok(t) => t,
            Err(e) => panic!("tempdir: {e}"),
        };
        let geo = tmp.path().join("country.mmdb");
        if let Err(e) = std::fs::write(&geo, geo_bytes()) {
            panic!("writing the GeoIP database: {e}");
        }
        let start = WorkloadConfig::default().start;
        let now = start.plus_millis(i64::from(days + 1) * pledgedb::MS_PER_DAY);
        let mut config = Config::default()
            .with_geoip(&geo)
            .with_clock(Arc::new(ManualClock::new(now)));
        config.background_compaction = false;
        let db = match Db::open(tmp.path().join("data"), config) {
            Ok(db) => db,
            Err(e) => panic!("opening the scratch database: {e}"),
        };
        Scratch { tmp, db }
    }

    /// Ingests hits and flushes.
    pub fn ingest(&self, hits: Vec<Hit>) {
        for r in self.db.ingest_batch(hits) {
            if let Err(e) = r {
                panic!("ingest: {e}");
            }
        }
        if let Err(e) = self.db.flush() {
            panic!("flush: {e}");
        }
    }
}

/// One domain's workload of `days` days with `visitors` visits a day.
pub fn workload(days: u32, visitors: u32) -> Workload {
    Workload::new(WorkloadConfig {
        domains: vec!["shop.example".to_string()],
        days,
        visitors_per_day: visitors,
        ..WorkloadConfig::default()
    })
}

/// At least `n` stored events of one domain (one day of traffic), as
/// PledgeDB stores them.
pub fn stored_events(n: usize) -> Vec<Event> {
    let scratch = Scratch::new(1);
    // About 16 stored events per visit.
    let visitors = u32::try_from(n / 12 + 50).unwrap_or(u32::MAX);
    scratch.ingest(workload(1, visitors).collect());
    let domain = match scratch.db.domain("shop.example") {
        Ok(d) => d,
        Err(e) => panic!("domain: {e}"),
    };
    match domain.events(TimeRange::all()) {
        Ok(events) => events,
        Err(e) => panic!("reading events back: {e}"),
    }
}

/// The first workload hits, for ingest benches.
pub fn hits(n: usize) -> Vec<Hit> {
    Workload::new(WorkloadConfig::default()).take(n).collect()
}

/// A timestamp after every hit of a default one-week workload.
pub fn after_default_workload() -> Timestamp {
    let c = WorkloadConfig::default();
    c.start
        .plus_millis(i64::from(c.days + 1) * pledgedb::MS_PER_DAY)
}
