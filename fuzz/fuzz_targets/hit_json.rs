//! Arbitrary bytes as one line of an import file: PledgeDB NDJSON hits
//! (`pledgedb_import::ndjson::parse_line`, with and without a default
//! domain), and the line parser of every format (NDJSON, Plausible
//! payloads, Combined and Common access logs), plus format detection.
//!
//! Properties: nothing panics; no error message holds IP-shaped text (the
//! import crate's errors name a line's problem, never its content); every
//! parsed hit goes through the engine's limits and `Db::ingest`, which
//! answer with a result, never a panic, and store nothing IP-shaped.
#![no_main]

#[path = "common/scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use pledgedb_core::text::contains_ip;
use pledgedb_core::{Config, Db, Hit, Limits, ManualClock, Timestamp};
use pledgedb_import::{Format, ImportOptions, LineParser, detect, ndjson};
use std::sync::{Arc, Mutex, OnceLock};

/// One engine for the whole run, replaced every few thousand hits so that
/// its directory stays small.
struct Engine {
    db: Option<Db>,
    dir: Option<tempfile::TempDir>,
    hits: usize,
}

const HITS_PER_ENGINE: usize = 5000;

fn engine() -> &'static Mutex<Engine> {
    static E: OnceLock<Mutex<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        Mutex::new(Engine {
            db: None,
            dir: None,
            hits: 0,
        })
    })
}

fn open() -> (Db, tempfile::TempDir) {
    let dir = scratch::scratch_dir();
    let clock = ManualClock::new(Timestamp::from_ymd_hms(2026, 11, 2, 12, 0, 0));
    let mut cfg = Config::default().with_clock(Arc::new(clock));
    cfg.background_compaction = false;
    cfg.writer.threads = 1;
    let db = Db::open(dir.path().join("data"), cfg).expect("open");
    (db, dir)
}

fn ingest(hit: Hit) {
    let _ = Limits::default().check(&hit);
    let _ = format!("{hit:?}");
    let mut e = engine().lock().unwrap_or_else(|p| p.into_inner());
    if e.db.is_none() || e.hits >= HITS_PER_ENGINE {
        if let Some(db) = e.db.take() {
            db.close().expect("close");
            let dir = e.dir.take().expect("dir");
            let report = pledgedb_core::audit_dir(dir.path()).expect("audit");
            assert!(report.is_clean(), "IP text stored: {:?}", report.findings);
        }
        let (db, dir) = open();
        e.db = Some(db);
        e.dir = Some(dir);
        e.hits = 0;
    }
    e.hits += 1;
    if let Err(err) = e.db.as_ref().expect("db").ingest(hit) {
        let msg = err.to_string();
        assert!(!contains_ip(&msg), "ingest error holds IP text: {msg}");
    }
}

fn check_err(e: &impl std::fmt::Display) {
    let msg = e.to_string();
    assert!(!contains_ip(&msg), "error holds IP text: {msg}");
}

fuzz_target!(|data: &[u8]| {
    let _ = detect(data);
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    for default in [None, Some("fallback.example")] {
        match ndjson::parse_line(line, default) {
            Ok(hit) => ingest(hit),
            Err(e) => check_err(&e),
        }
    }
    let opts = ImportOptions::default().with_default_domain("fallback.example");
    for format in Format::ALL {
        let mut parser = LineParser::new(format, &opts);
        let mut out = Vec::new();
        match parser.parse_line(line, &mut out) {
            Ok(_) => out.into_iter().for_each(ingest),
            Err(e) => check_err(&e),
        }
    }
});
