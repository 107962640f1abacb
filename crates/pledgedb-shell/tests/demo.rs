//! Runs the real `pledgedb` binary: the demo tour, then reopens what it
//! wrote, with the library and with the shell.

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
        "Compaction: ",
        "Sites, ",
        "Dashboard (.dashboard)",
        "shop.example: ",
        "Top pages",
        "Top countries",
        "Top referrers",
        "Devices",
        "Daily",
        "Form analytics (.forms)",
        "Forms of shop.example",
        "Session replay (.replay)",
        "Privacy report (.privacy)",
        "What is never recorded",
        "Audit: every byte",
        "Look at the data again",
    ] {
        assert!(out.contains(header), "missing {header:?} in:\n{out}");
    }
    assert!(
        out.contains("Every count matches what the generator expected"),
        "{out}"
    );
    // Every site in the overview; a country code and a page path in the
    // dashboard's tables.
    for site in ["│ shop.example │", "│ blog.example │", "│ docs.example │"] {
        assert!(out.contains(site), "missing {site:?} in:\n{out}");
    }
    assert!(out.contains("│ US "), "{out}");
    assert!(out.contains("│ /pricing "), "{out}");
    // Every generated IP resolves through the demo's GeoIP database.
    assert!(!out.contains("│ ZZ "), "{out}");
    // The dashboard reads the roll-ups sealed by the compaction.
    assert!(
        out.contains(" days from roll-ups, 0 from raw events)"),
        "{out}"
    );
    // The replay masks keystrokes and shows a submit.
    assert!(out.contains("keystroke x"), "{out}");
    assert!(out.contains("••"), "{out}");
    assert!(out.contains("form_submit"), "{out}");
    // The audit is clean (the demo fails otherwise).
    assert!(
        out.lines()
            .any(|l| l.starts_with("clean: ") && l.ends_with("nothing IP-shaped")),
        "{out}"
    );
    // How to open the shell on the same data.
    let shell_line = format!(
        "pledgedb {} --geoip {}",
        dir.join("data").display(),
        dir.join("geoip-demo.mmdb").display()
    );
    assert!(out.contains(&shell_line), "{out}");
    assert!(!pledgedb_core::text::contains_ip(&out), "{out}");

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

    // The shell opens the same directory, as the demo says.
    let data = dir.join("data");
    let o = pledgedb(&[
        data.to_str().unwrap(),
        "-c",
        ".use shop.example",
        "-c",
        ".mode csv",
        "-c",
        "SELECT COUNT(*) AS n FROM events",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = String::from_utf8_lossy(&o.stdout).into_owned();
    let n: u64 = csv.lines().nth(1).unwrap().parse().unwrap();
    assert!(n > 0 && n < ingested, "{csv}");

    // A second run refuses to mix its traffic into the same data.
    let o = pledgedb(&["demo", dir_s, "--days", "1", "--visitors", "5"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("already holds data"), "{err}");
}

#[test]
fn bad_options_are_refused() {
    let o = pledgedb(&["demo", "--days", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pledgedb(&["demo", "--visitors", "many"]);
    assert_eq!(o.status.code(), Some(2));
}
