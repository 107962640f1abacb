//! The dashboard's data requests over the comparison bench's main dataset
//! shape (3 sites x 30 days x 1,870 visits a day, pledgedb-workload seed
//! 42), answered by the same code the `/app/api/...` routes run: the
//! overview (metrics and the previous period, the daily series, six
//! breakdowns) unfiltered and filtered on one country, the visits list, a
//! heatmap with its targets, and the form reports. Median of 3 runs each.
//!
//! `PLEDGEDB_BENCH_QUICK=1` runs a small dataset (CI smoke).
//!
//! `cargo bench -p pledgedb-server --bench dashboard`

use std::sync::Arc;
use std::time::{Duration, Instant};

use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::query::Dimension;
use pledgedb_core::time::{Day, ManualClock};
use pledgedb_core::{Config, DayRange, Db, Hit, Query};
use pledgedb_server::dashboard::overview::{self, Range};
use pledgedb_workload::{COUNTRY_NETWORKS, Workload, WorkloadConfig};

fn median(mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    runs.sort();
    runs[1]
}

fn main() {
    let quick = std::env::var_os("PLEDGEDB_BENCH_QUICK").is_some();
    let (days, visits) = if quick { (7u32, 150u32) } else { (30, 1_870) };
    let first = Day::from_ymd(2026, 3, 2);
    let clock = ManualClock::new(first.plus(days as i32).start().plus_millis(2 * 3_600_000));
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The workload's addresses come from these networks: with their
    // countries, a country filter selects a realistic share of the events.
    let networks: Vec<(ipnet::IpNet, &str)> = COUNTRY_NETWORKS
        .iter()
        .map(|(n, c)| (n.parse().expect("a network"), *c))
        .collect();
    let geoip = dir.path().join("country.mmdb");
    std::fs::write(
        &geoip,
        build_country_db(&networks, GeoLayout::Nested).expect("a GeoIP database"),
    )
    .expect("write the GeoIP database");
    let config = Config {
        background_compaction: false,
        ..Config::default()
            .with_clock(Arc::new(clock))
            .with_geoip(&geoip)
    };
    let db = Db::open(dir.path().join("data"), config).expect("open");
    let domains = ["shop.example", "blog.example", "docs.example"];
    let w = Workload::new(WorkloadConfig {
        seed: 42,
        domains: domains.iter().map(|d| (*d).to_string()).collect(),
        start: first.start(),
        days,
        visitors_per_day: visits,
        ..WorkloadConfig::default()
    });
    let t = Instant::now();
    let mut batch: Vec<Hit> = Vec::with_capacity(10_000);
    for hit in w {
        batch.push(hit);
        if batch.len() == 10_000 {
            let _ = db.ingest_batch(std::mem::take(&mut batch));
        }
    }
    let _ = db.ingest_batch(batch);
    db.flush().expect("flush");
    db.compact_now().expect("seal");
    let loaded = t.elapsed();
    let d = db.domain("shop.example").expect("the shop");
    let today = first.plus(days as i32);
    let range = || Range::parse(Some("30d"), None, None, today).expect("a range");
    let events = d.count(pledgedb_core::TimeRange::all()).expect("a count");
    let country = d
        .breakdown(&Query::days(range().days), Dimension::Country, 1)
        .expect("countries")
        .first()
        .map(|(c, _)| c.clone())
        .unwrap_or_else(|| "ZZ".into());
    let filters = |c: Option<&str>| {
        overview::filters(|k| (k == "country").then(|| c.map(str::to_string)).flatten())
            .expect("filters")
    };
    let days30 = DayRange::last_n(today, 30);
    let top_page = d
        .breakdown(&Query::days(days30), Dimension::Page, 1)
        .expect("pages")
        .first()
        .map(|(p, _)| p.clone())
        .unwrap_or_else(|| "/".into());
    let rows: Vec<(&str, Duration)> = vec![
        (
            "overview, 30 days",
            median(|| {
                overview::overview(&d, range(), filters(None), None).expect("overview");
            }),
        ),
        (
            "overview, 30 days, one country",
            median(|| {
                overview::overview(&d, range(), filters(Some(&country)), None).expect("overview");
            }),
        ),
        (
            "shared overview (folded), 30 days",
            median(|| {
                overview::overview(&d, range(), filters(None), Some(5)).expect("overview");
            }),
        ),
        (
            "visits list (200), 30 days",
            median(|| {
                d.sessions(days30, 200).expect("sessions");
            }),
        ),
        (
            "heatmap and targets of the top page, 30 days",
            median(|| {
                d.heatmap(days30, &top_page, 20).expect("heatmap");
                d.click_targets(days30, &top_page, 10).expect("targets");
            }),
        ),
        (
            "form reports, 30 days",
            median(|| {
                d.form_analytics(days30, None).expect("forms");
            }),
        ),
    ];
    println!("# Dashboard data requests");
    println!();
    println!(
        "- dataset: {} sites x {days} days x {visits} visits a day; shop.example holds {events} events; loaded and sealed in {:.1} s{}",
        domains.len(),
        loaded.as_secs_f64(),
        if quick { " (quick)" } else { "" }
    );
    println!("- filter: country = {country}; heatmap page: {top_page}");
    println!();
    println!("| request | ms (median of 3) |");
    println!("|---|---:|");
    for (name, t) in rows {
        println!("| {name} | {:.2} |", t.as_secs_f64() * 1000.0);
    }
}
