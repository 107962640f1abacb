//! Shared helpers: a small database with known contents, and an oracle
//! computed from `Domain::events`.
#![allow(dead_code)]

use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{
    Config, Day, Db, Domain, Event, Hit, MS_PER_DAY, ManualClock, TimeRange, Timestamp, VisitorId,
};
use pledgedb_sql::{ExecuteOptions, ResultSet, SqlError, Value};
use pledgedb_workload::{COUNTRY_NETWORKS, Workload, WorkloadConfig};
use std::sync::Arc;

/// The domain of the fixtures.
pub const DOMAIN: &str = "shop.example";

/// A database with data, kept alive with its directory.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub db: Db,
    pub domain: Domain,
    pub clock: ManualClock,
    pub hits: Vec<Hit>,
}

impl Fixture {
    /// Every visible event (the oracle's input).
    pub fn events(&self) -> Vec<Event> {
        self.domain.events(TimeRange::all()).expect("events")
    }

    /// The distinct days with events, oldest first.
    pub fn days(&self) -> Vec<Day> {
        let mut d: Vec<Day> = self.events().iter().map(|e| e.ts.day()).collect();
        d.sort();
        d.dedup();
        d
    }

    /// Runs a query that must succeed.
    pub fn q(&self, sql: &str) -> ResultSet {
        match pledgedb_sql::execute(&self.domain, sql) {
            Ok(r) => r,
            Err(e) => panic!("{sql}\n  failed: {e}"),
        }
    }

    /// Runs a query that must fail.
    pub fn err(&self, sql: &str) -> SqlError {
        match pledgedb_sql::execute(&self.domain, sql) {
            Ok(r) => panic!("{sql}\n  should fail, gave {:?}", r.rows),
            Err(e) => e,
        }
    }

    /// Runs a query with options.
    pub fn q_with(&self, sql: &str, opts: &ExecuteOptions) -> Result<ResultSet, SqlError> {
        pledgedb_sql::execute_with(&self.domain, sql, opts)
    }

    /// The single integer a query returns.
    pub fn int(&self, sql: &str) -> i64 {
        let r = self.q(sql);
        match r.rows.as_slice() {
            [row] => match row.as_slice() {
                [Value::Int(i)] => *i,
                other => panic!("{sql}: not one integer: {other:?}"),
            },
            other => panic!("{sql}: not one row: {other:?}"),
        }
    }
}

pub fn config(tmp: &tempfile::TempDir, clock: &ManualClock) -> Config {
    let entries: Vec<(ipnet::IpNet, &str)> = COUNTRY_NETWORKS
        .iter()
        .map(|(n, c)| (n.parse().expect("network"), *c))
        .collect();
    let bytes = build_country_db(&entries, GeoLayout::Nested).expect("mmdb");
    let geo = tmp.path().join("country.mmdb");
    std::fs::write(&geo, bytes).expect("write mmdb");
    let mut c = Config::default()
        .with_geoip(&geo)
        .with_clock(Arc::new(clock.clone()));
    c.background_compaction = false;
    c
}

/// Workload traffic for one site over `days` days from 2026-03-02, flushed;
/// with `compact`, finished days are sealed (their roll-ups written).
pub fn workload(seed: u64, days: u32, visitors_per_day: u32, compact: bool) -> Fixture {
    let cfg = WorkloadConfig {
        seed,
        domains: vec![DOMAIN.to_string()],
        days,
        visitors_per_day,
        ..WorkloadConfig::default()
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(
        cfg.start
            .plus_millis((i64::from(days) + 1) * MS_PER_DAY + 12 * 3_600_000),
    );
    let db = Db::open(tmp.path().join("data"), config(&tmp, &clock)).expect("open");
    let mut w = Workload::new(cfg);
    for t in w.opt_out_tokens() {
        db.opt_out(t).expect("opt out");
    }
    let hits: Vec<Hit> = w.by_ref().collect();
    for h in &hits {
        let _ = db.ingest(h.clone());
    }
    db.flush().expect("flush");
    if compact {
        db.compact_now().expect("compact");
    }
    let domain = db.domain(DOMAIN).expect("domain");
    Fixture {
        tmp,
        db,
        domain,
        clock,
        hits,
    }
}

/// A database holding exactly `hits` (clock: 2026-03-10 12:00).
pub fn hand_made(hits: Vec<Hit>) -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(Timestamp::from_ymd_hms(2026, 3, 10, 12, 0, 0));
    let db = Db::open(tmp.path().join("data"), config(&tmp, &clock)).expect("open");
    db.create_domain(DOMAIN).expect("create domain");
    for h in &hits {
        let _ = db.ingest(h.clone()).expect("ingest");
    }
    db.flush().expect("flush");
    let domain = db.domain(DOMAIN).expect("domain");
    Fixture {
        tmp,
        db,
        domain,
        clock,
        hits,
    }
}

/// A timestamp on 2026-03-`d` at `h`:`m`.
pub fn at(d: u32, h: u32, m: u32) -> Timestamp {
    Timestamp::from_ymd_hms(2026, 3, d, h, m, 0)
}

/// The SQL text of a visitor id (`NULL` for the anonymous visitor).
pub fn visitor_value(v: VisitorId) -> Value {
    if v == VisitorId::ANONYMOUS {
        Value::Null
    } else {
        Value::Text(v.to_string())
    }
}

/// Text value.
pub fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// Integer value.
pub fn i(n: impl TryInto<i64>) -> Value {
    Value::Int(n.try_into().unwrap_or(i64::MAX))
}
