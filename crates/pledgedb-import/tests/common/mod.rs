//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ipnet::IpNet;
use pledgedb_core::geo::writer::{GeoLayout, build_country_db};
use pledgedb_core::{Config, Db, ManualClock, TimeRange, Timestamp};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The networks test clients come from, with their countries.
pub const NETWORKS: &[(&str, &str)] = &[
    ("192.0.2.0/24", "DE"),
    ("198.51.100.0/24", "FR"),
    ("203.0.113.0/24", "US"),
    ("2001:db8:1::/48", "JP"),
    ("2001:db8:2::/48", "GB"),
];

/// Text that would betray an IP from the test networks.
pub const IP_FRAGMENTS: &[&str] = &["192.0.2.", "198.51.100.", "203.0.113.", "2001:db8"];

/// Opens a fresh database in `dir` whose clock stands at `now`, with a
/// country database for [`NETWORKS`] and no background compaction.
pub fn open_db(dir: &Path, now: Timestamp) -> Db {
    let entries: Vec<(IpNet, &str)> = NETWORKS
        .iter()
        .map(|(n, c)| (n.parse().unwrap(), *c))
        .collect();
    let geo = build_country_db(&entries, GeoLayout::Nested).unwrap();
    let geo_path = dir.join("countries.mmdb");
    std::fs::write(&geo_path, geo).unwrap();
    let mut config = Config::default()
        .with_clock(Arc::new(ManualClock::new(now)))
        .with_geoip(&geo_path);
    config.background_compaction = false;
    Db::open(dir.join("data"), config).unwrap()
}

/// Stored events per country of one domain.
pub fn countries(db: &Db, domain: &str) -> BTreeMap<String, u64> {
    db.domain(domain)
        .unwrap()
        .count_by_country(TimeRange::all())
        .unwrap()
        .into_iter()
        .map(|(c, n)| (c.as_str().to_string(), n))
        .collect()
}

/// Asserts that the data directory holds no IP-shaped text.
pub fn assert_audit_clean(db: &Db) {
    let report = pledgedb_core::audit_dir(db.path()).unwrap();
    assert!(report.files > 0);
    assert!(report.is_clean(), "{:?}", report.findings);
}

/// Asserts that `text` contains nothing IP-like from the test networks.
pub fn assert_no_ip(text: &str) {
    for f in IP_FRAGMENTS {
        assert!(!text.contains(f), "{f} in {text}");
    }
}

/// gzip of `data` as one member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A small deterministic generator (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
