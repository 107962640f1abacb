//! Shared helpers of the end-to-end tests: a data directory with a test
//! GeoIP database and a manual clock, and a byte scanner over every file.
#![allow(dead_code)]

use pledgedb::geo::writer::{GeoLayout, build_country_db};
use pledgedb::{Config, Db, ManualClock, Timestamp};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Networks of the test GeoIP database and their countries.
pub const NETWORKS: &[(&str, &str)] = &[
    ("203.0.113.0/24", "DE"),
    ("198.51.100.0/24", "FR"),
    ("192.0.2.0/24", "US"),
    ("100.64.0.0/10", "JP"),
    ("2001:db8:1::/48", "NL"),
    ("2001:db8:2::/48", "BR"),
    ("2a02:1234::/32", "SE"),
];

/// The country the test database gives an address, or "ZZ".
pub fn expected_country(ip: IpAddr) -> &'static str {
    for (net, cc) in NETWORKS {
        let net: ipnet::IpNet = net.parse().expect("network");
        if net.contains(&ip) {
            return cc;
        }
    }
    "ZZ"
}

/// Writes the test GeoIP database (nested GeoIP2 layout or flat layout).
pub fn write_geoip(dir: &Path, layout: GeoLayout) -> PathBuf {
    let entries: Vec<(ipnet::IpNet, &str)> = NETWORKS
        .iter()
        .map(|(n, c)| (n.parse().expect("network"), *c))
        .collect();
    let bytes = build_country_db(&entries, layout).expect("build mmdb");
    let path = dir.join(match layout {
        GeoLayout::Nested => "country-nested.mmdb",
        GeoLayout::Flat => "country-flat.mmdb",
    });
    std::fs::write(&path, bytes).expect("write mmdb");
    path
}

/// A scratch directory with a data directory, a GeoIP file and a clock.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub geoip: PathBuf,
    pub clock: ManualClock,
}

/// 2026-11-02 12:00 UTC: the tests' "now".
pub fn start_time() -> Timestamp {
    Timestamp::from_ymd_hms(2026, 11, 2, 12, 0, 0)
}

impl Env {
    pub fn new() -> Env {
        Env::with_layout(GeoLayout::Nested)
    }

    pub fn with_layout(layout: GeoLayout) -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        let geoip = write_geoip(tmp.path(), layout);
        let data = tmp.path().join("data");
        Env {
            tmp,
            data,
            geoip,
            clock: ManualClock::new(start_time()),
        }
    }

    pub fn config(&self) -> Config {
        let mut c = Config::default()
            .with_geoip(&self.geoip)
            .with_clock(Arc::new(self.clock.clone()));
        c.background_compaction = false;
        c
    }

    pub fn open(&self) -> Db {
        Db::open(&self.data, self.config()).expect("open")
    }
}

/// Every file under `dir`, recursively, with its bytes.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.push((p, bytes));
            }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Files under `dir` that contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    all_files(dir)
        .into_iter()
        .filter(|(_, b)| contains(b, needle))
        .map(|(p, _)| p)
        .collect()
}

/// For each file under `dir`, the patterns it contains (searched all at once
/// with Aho-Corasick, so thousands of patterns cost one pass per file).
pub fn find_any(dir: &Path, patterns: &[String]) -> Vec<(PathBuf, String)> {
    let ac = aho_corasick::AhoCorasick::new(patterns).expect("patterns");
    let mut found = Vec::new();
    for (path, bytes) in all_files(dir) {
        for m in ac.find_overlapping_iter(&bytes) {
            found.push((path.clone(), patterns[m.pattern().as_usize()].clone()));
        }
    }
    found
}

/// Every textual form of an IP address a file might hold it in.
pub fn textual_forms(ip: IpAddr) -> Vec<String> {
    let mut v = vec![ip.to_string()];
    if let IpAddr::V6(v6) = ip {
        let seg = v6.segments();
        v.push(
            seg.iter()
                .map(|s| format!("{s:04x}"))
                .collect::<Vec<_>>()
                .join(":"),
        );
        v.push(
            seg.iter()
                .map(|s| format!("{s:x}"))
                .collect::<Vec<_>>()
                .join(":"),
        );
        v.push(ip.to_string().to_uppercase());
        v.push(ip.to_string().replace(':', "%3A"));
        v.push(ip.to_string().replace(':', "%3a"));
    }
    v
}

impl Env {
    /// The clock's current time.
    pub fn clock_now(&self) -> Timestamp {
        use pledgedb::Clock;
        self.clock.now()
    }
}
