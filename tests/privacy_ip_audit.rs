//! Promise P9: the audit finds every form the scrubber redacts, planted in
//! a data directory, and a realistic directory audits clean.
//!
//! In a file that is not PledgeDB's, every form is reported. In PledgeDB's
//! own files, which hold random binary between the stored strings, every
//! form that is unmistakable in binary is reported (all IPv4 forms with four
//! groups, IPv6 forms with three groups or four hex digits); the shortest
//! IPv6 forms and trailing-dot triples are not, since random bytes spell
//! them (see docs/privacy.md, P9).

mod common;

use common::{Env, start_time};
use pledgedb::{Hit, audit_dir};
use pledgedb_workload::{Workload, WorkloadConfig};
use std::path::{Path, PathBuf};

/// Every form the scrubber redacts, and whether it is unmistakable in
/// binary.
const FORMS: &[(&str, bool)] = &[
    ("203.0.113.9", true),
    ("http://[2001:db8::1]:8080/", true),
    ("fe80::1", true),
    ("FE80::1%eth0", true),
    ("ip_fe80::1", true),
    ("host_2a02::5", true),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", true),
    ("::ffff:192.0.2.1", true),
    ("2001:db8:85a3:1:2:8a2e:3", true),
    ("2001:db8:85a3:1:2", true),
    ("2001:db8:85a3:8d3", true),
    ("73-22-11-5", true),
    ("c-73-22-11-5.hsd1.comcast.net", true),
    ("ec2-203-0-113-9.compute-1.amazonaws.com", true),
    ("ip_10_0_0_5", true),
    ("2001-db8-85a3--8a2e-370-7334.ipv6-literal.net", true),
    ("fe80--1s4.ipv6-literal.net", true),
    ("%32%30%33%2E%30%2E%31%31%33%2E%39", true),
    ("203.0.113.%39", true),
    ("%2532%2530%2533%252E0.113.9", true),
    ("2001%3Adb8%3A%3A1", true),
    ("２０３．０．１１３．９", true),
    ("ｆｅ８０：：１", true),
    ("①⑨②.⓪.②.①", true),
    ("𝟏𝟗𝟐.𝟎.𝟐.𝟏", true),
    ("c-73‐22‐11‐5.example", true),
    ("::1", false),
    ("a::b", false),
    ("203.0.113.", false),
];

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    common::all_files(dir)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            p.parent()
                .and_then(Path::file_name)
                .is_some_and(|d| d == "segments")
                && p.extension().is_some_and(|e| e == "redb")
        })
        .collect()
}

/// A directory of realistic traffic (pledgedb-workload, as tests/query.rs
/// loads it): several days, sealed, with roll-ups and aggregates.
fn realistic() -> Env {
    let env = Env::new();
    let first = start_time().day();
    let days = 3;
    let cfg = WorkloadConfig {
        seed: 29,
        domains: vec!["shop.example".into(), "blog.example".into()],
        start: first.start(),
        days,
        visitors_per_day: 80,
        ..WorkloadConfig::default()
    };
    env.clock
        .set(first.plus(days as i32).start().plus_millis(2 * 3_600_000));
    let db = env.open();
    let mut w = Workload::new(cfg);
    for t in w.opt_out_tokens().to_vec() {
        db.opt_out(&t).unwrap();
    }
    let hits: Vec<Hit> = w.by_ref().collect();
    assert!(hits.len() > 1000);
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    let _ = db.compact_now().unwrap();
    db.close().unwrap();
    env
}

#[test]
fn a_realistic_directory_audits_clean_and_every_planted_form_is_found() {
    let env = realistic();
    let clean = audit_dir(&env.data).unwrap();
    assert!(clean.files >= 4, "{clean:?}");
    assert!(clean.bytes > 100_000, "{clean:?}");
    assert!(clean.is_clean(), "{:?}", clean.findings);

    let segments = segment_files(&env.data);
    assert!(!segments.is_empty());
    let segment = &segments[0];
    let original = std::fs::read(segment).unwrap();
    let foreign = env
        .data
        .join("domains")
        .join("shop.example")
        .join("notes.log");
    for (form, strong) in FORMS {
        assert!(pledgedb::text::contains_ip(form), "{form}");
        // A file that is not PledgeDB's: every form.
        let mut bytes = b"\x00\x01note: ".to_vec();
        bytes.extend_from_slice(form.as_bytes());
        bytes.push(0);
        std::fs::write(&foreign, &bytes).unwrap();
        let r = audit_dir(&env.data).unwrap();
        assert_eq!(r.findings.len(), 1, "{form}: {:?}", r.findings);
        assert_eq!(r.findings[0].path, foreign);
        assert_eq!(r.findings[0].offset, 2);
        let shown = format!("{r:?}");
        assert!(!shown.contains(form), "a finding echoes {form}");
        std::fs::remove_file(&foreign).unwrap();

        // Bytes appended to a segment file: every unmistakable form.
        let mut planted = original.clone();
        planted.extend_from_slice(&[0, 0xff]);
        planted.extend_from_slice(form.as_bytes());
        planted.push(0);
        std::fs::write(segment, &planted).unwrap();
        let r = audit_dir(&env.data).unwrap();
        if *strong {
            assert_eq!(r.findings.len(), 1, "{form}: {:?}", r.findings);
            assert_eq!(&r.findings[0].path, segment);
            assert_eq!(r.findings[0].offset, original.len() as u64 + 2);
        } else {
            assert!(r.is_clean(), "{form}: {:?}", r.findings);
        }
        std::fs::write(segment, &original).unwrap();
    }
    assert!(audit_dir(&env.data).unwrap().is_clean());
}
