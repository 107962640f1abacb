//! Runs the real `pledgedb` binary: the demo, then reopens what it wrote.

use pledgedb_core::{Config, Db, TimeRange};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "pledgedb-shell-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pledgedb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pledgedb"))
        .args(args)
        .output()
        .unwrap()
}

/// The number after a report line's label, without thousands separators.
fn number_after(out: &str, label: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in:\n{out}"));
    let rest = line.trim_start()[label.len()..].trim_start();
    let n: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    n.parse()
        .unwrap_or_else(|_| panic!("no number in {line:?}"))
}

#[test]
fn demo_ingests_reports_and_leaves_a_readable_data_directory() {
    let tmp = TempDir::new("demo");
    let dir = tmp.path().join("demo");
    let dir_s = dir.to_str().unwrap();
    let o = pledgedb(&["demo", dir_s, "--days", "2", "--visitors", "50"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "exit {:?}\n{out}\n{err}", o.status);

    for header in [
        "PledgeDB demo",
        "Consent policies",
        "Ingest",
        "shop.example:",
        "blog.example:",
        "docs.example:",
        "Top pages",
        "Top countries",
        "Look at the data again",
    ] {
        assert!(out.contains(header), "missing {header:?} in:\n{out}");
    }
    assert!(
        out.contains("Every count matches what the generator expected"),
        "{out}"
    );
    // A country code and a page path in the tables.
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("US ")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("/pricing ")),
        "{out}"
    );
    // Every generated IP resolves through the demo's GeoIP database.
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("ZZ ")),
        "{out}"
    );

    let generated = number_after(&out, "hits generated");
    let ingested = number_after(&out, "ingested");
    assert!(ingested > 0 && ingested <= generated, "{out}");
    assert_eq!(number_after(&out, "rejected"), 0);

    // Files: the GeoIP database next to the data directory, not inside.
    assert!(dir.join("geoip-demo.mmdb").is_file());
    assert!(!dir.join("data").join("geoip-demo.mmdb").exists());

    let db = Db::open(dir.join("data"), Config::default()).unwrap();
    assert_eq!(
        db.domains(),
        vec!["blog.example", "docs.example", "shop.example"]
    );
    let mut stored = 0;
    for name in db.domains() {
        stored += db.domain(&name).unwrap().count(TimeRange::all()).unwrap();
    }
    assert_eq!(stored, ingested, "{out}");
    db.close().unwrap();

    // A second run refuses to mix its traffic into the same data.
    let o = pledgedb(&["demo", dir_s, "--days", "1", "--visitors", "5"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("already holds data"), "{err}");
}

#[test]
fn the_shell_is_not_built_yet() {
    let o = pledgedb(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the interactive shell"), "{err}");
    assert!(err.contains("not built yet"), "{err}");

    let o = pledgedb(&["some-dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_options_are_refused() {
    let o = pledgedb(&["demo", "--days", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pledgedb(&["demo", "--visitors", "many"]);
    assert_eq!(o.status.code(), Some(2));
}
