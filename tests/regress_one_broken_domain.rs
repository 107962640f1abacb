//! Regressions (promise P6): one broken domain stopped erasure everywhere.
//!
//! - The compactor stopped at the first domain whose job failed, and the
//!   background thread discarded the error: a stray directory named like a
//!   segment's temporary copy made one domain's sealing fail, and every
//!   other domain's purges stayed pending past their deadline, silently.
//! - Garbage bytes written over a segment file made the page store panic
//!   inside a writer thread; the thread died and every later flush,
//!   compaction and close of every domain it served waited forever.
//!
//! Now each domain's jobs run on their own, failures are recorded and
//! reported (`Db::health`, the privacy report), a damaged file is set aside
//! in the quarantine (never read as data, never deleted silently) and the
//! engine goes on.

mod common;

use common::{Env, all_files, contains, start_time};
use pledgedb::{BackendFactory, Config, Db, Erasure, Hit, MS_PER_DAY, TimeRange, VisitorRef};
use redb::StorageBackend;
use redb::backends::FileBackend;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn config(env: &Env) -> Config {
    let mut c = env.config();
    // One writer serves every domain: a dead writer would stop them all.
    c.writer.threads = 1;
    c
}

fn visit(db: &Db, domain: &str, client: &str, path: &str, at: pledgedb::Timestamp) {
    let _ = db
        .ingest(
            Hit::page_view(domain, path.to_string())
                .client_id(client.to_string())
                .at(at),
        )
        .unwrap();
}

fn erase(db: &Db, domain: &str, client: &str) {
    let d = db.domain(domain).unwrap();
    let r = d
        .erase_visitor(&VisitorRef::ClientId(client.into()))
        .unwrap();
    assert!(matches!(r, Erasure::Pending(_)), "{domain}: {r:?}");
}

#[test]
fn a_stray_directory_where_a_temporary_copy_goes_is_set_aside() {
    let env = Env::new();
    let db = Db::open(&env.data, config(&env)).unwrap();
    let day = start_time();
    for d in ["a.example", "b.example"] {
        visit(&db, d, "gone", "/gone-marker", day);
        visit(&db, d, "stays", "/stays-marker", day);
    }
    db.flush().unwrap();
    let stray = env
        .data
        .join("domains/a.example/segments")
        .join(format!("{}.redb.tmp", day.day()));
    std::fs::create_dir(&stray).unwrap();
    std::fs::write(stray.join("junk"), b"junk").unwrap();
    for d in ["a.example", "b.example"] {
        erase(&db, d, "gone");
    }
    // The day is over: the pass purges and seals both domains.
    env.clock.advance_millis(2 * MS_PER_DAY);
    let report = db.compact_now().unwrap();
    assert_eq!(report.erasures_completed, 2);
    assert_eq!(report.segments_sealed, 2);
    for d in ["a.example", "b.example"] {
        assert_eq!(db.domain(d).unwrap().pending_purges(), 0, "{d}");
    }
    assert!(!stray.exists(), "the stray directory was set aside");
    let health = db.health();
    assert_eq!(health.quarantined.len(), 1, "{health:?}");
    assert!(
        health.quarantined[0]
            .original
            .ends_with(format!("{}.redb.tmp", day.day()))
    );
    assert!(health.failing.is_empty(), "{health:?}");
    db.close().unwrap();
    for (path, bytes) in all_files(&env.data) {
        assert!(!contains(&bytes, b"/gone-marker"), "{}", path.display());
    }
}

/// A backend that fails every write and sync of one domain's files while
/// the switch is on: a domain whose disk is broken.
#[derive(Debug)]
struct BrokenDomain {
    on: Arc<AtomicBool>,
}

#[derive(Debug)]
struct Backend {
    inner: FileBackend,
    broken: bool,
    on: Arc<AtomicBool>,
}

impl Backend {
    fn check(&self) -> io::Result<()> {
        if self.broken && self.on.load(Ordering::SeqCst) {
            Err(io::Error::other("injected: this domain's disk is broken"))
        } else {
            Ok(())
        }
    }
}

impl StorageBackend for Backend {
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.check()?;
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.check()?;
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.check()?;
        self.inner.write(offset, data)
    }
}

impl BackendFactory for BrokenDomain {
    fn backend(&self, path: &Path) -> io::Result<Box<dyn StorageBackend>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        Ok(Box::new(Backend {
            inner: FileBackend::new(file).map_err(io::Error::other)?,
            broken: path.to_string_lossy().contains("bad.example"),
            on: Arc::clone(&self.on),
        }))
    }
}

#[test]
fn a_failing_domain_never_holds_up_another_domains_purge_and_is_reported() {
    let env = Env::new();
    let on = Arc::new(AtomicBool::new(false));
    let mut c = config(&env);
    c.backend = Some(Arc::new(BrokenDomain {
        on: Arc::clone(&on),
    }));
    let db = Db::open(&env.data, c).unwrap();
    let t = start_time();
    // "bad" sorts before "good": the old compactor stopped there.
    for d in ["bad.example", "good.example"] {
        visit(&db, d, "gone", "/gone-marker", t);
        visit(&db, d, "stays", "/stays-marker", t);
    }
    db.flush().unwrap();
    for d in ["bad.example", "good.example"] {
        erase(&db, d, "gone");
    }
    on.store(true, Ordering::SeqCst);
    assert!(
        db.compact_now().is_err(),
        "the broken domain's failure is returned"
    );
    assert_eq!(db.domain("good.example").unwrap().pending_purges(), 0);
    assert_eq!(db.domain("bad.example").unwrap().pending_purges(), 1);
    let health = db.health();
    assert_eq!(health.failing.len(), 1, "{health:?}");
    assert_eq!(health.failing[0].domain, "bad.example");
    assert!(health.failing[0].next_attempt > db.clock().now());
    assert!(health.overdue_purges.is_empty(), "not overdue yet");
    // Past the deadline the pending purge is reported, never silent.
    env.clock.advance_millis(2 * 3_600_000);
    let _ = db.compact_now();
    let health = db.health();
    assert_eq!(health.overdue_purges.len(), 1, "{health:?}");
    assert_eq!(health.overdue_purges[0].domain, "bad.example");
    let report = db.privacy_report().unwrap();
    assert_eq!(report.overdue_purges, health.overdue_purges);
    // The disk heals: the next pass completes the purge and clears it.
    on.store(false, Ordering::SeqCst);
    db.compact_now().unwrap();
    assert!(db.health().is_healthy(), "{:?}", db.health());
    db.close().unwrap();
    for (path, bytes) in all_files(&env.data) {
        assert!(!contains(&bytes, b"/gone-marker"), "{}", path.display());
    }
}

fn garbage_over(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len() as usize;
    let junk: Vec<u8> = (0..len.max(8192))
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect();
    std::fs::write(path, junk).unwrap();
}

#[test]
fn a_segment_full_of_garbage_is_set_aside_at_open_and_the_rest_opens() {
    let env = Env::new();
    let db = Db::open(&env.data, config(&env)).unwrap();
    let t = start_time();
    visit(
        &db,
        "a.example",
        "c1",
        "/yesterday",
        t.plus_millis(-MS_PER_DAY),
    );
    visit(&db, "a.example", "c1", "/today", t);
    visit(&db, "b.example", "c1", "/b", t);
    db.close().unwrap();
    let seg = env
        .data
        .join("domains/a.example/segments")
        .join(format!("{}.redb", t.day()));
    garbage_over(&seg);

    let db = Db::open(&env.data, config(&env)).unwrap();
    let health = db.health();
    assert_eq!(health.quarantined.len(), 1, "{health:?}");
    let a = db.domain("a.example").unwrap();
    let paths: Vec<String> = a
        .events(TimeRange::all())
        .unwrap()
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(paths, vec!["/yesterday".to_string()]);
    assert_eq!(
        db.domain("b.example")
            .unwrap()
            .count(TimeRange::all())
            .unwrap(),
        1
    );
    // The day goes on in a fresh file.
    visit(&db, "a.example", "c2", "/after", t);
    db.flush().unwrap();
    assert_eq!(a.count(TimeRange::all()).unwrap(), 2);
    let report = db.privacy_report().unwrap();
    assert_eq!(report.quarantined_files.len(), 1);
    db.close().unwrap();
    // Set aside, not deleted: the bytes are still there for an operator.
    assert!(env.data.join("quarantine").is_dir());
}

#[test]
fn garbage_written_over_an_open_segment_never_kills_the_writer() {
    let env = Env::new();
    let db = Db::open(&env.data, config(&env)).unwrap();
    let t = start_time();
    visit(&db, "a.example", "c1", "/a", t);
    visit(&db, "b.example", "c1", "/b", t);
    db.flush().unwrap();
    let seg = env
        .data
        .join("domains/a.example/segments")
        .join(format!("{}.redb", t.day()));
    garbage_over(&seg);
    // Work on both domains; whatever the damaged file answers, every call
    // returns and the other domain is served.
    for i in 0..50 {
        visit(&db, "a.example", "c1", &format!("/a{i}"), t);
        visit(&db, "b.example", "c1", &format!("/b{i}"), t);
    }
    let _ = db.flush();
    env.clock.advance_millis(2 * MS_PER_DAY);
    let _ = db.compact_now();
    let _ = db.flush();
    visit(&db, "b.example", "c2", "/b-after", t.plus_millis(1));
    db.flush().unwrap();
    let b = db.domain("b.example").unwrap();
    assert!(
        b.events(TimeRange::all())
            .unwrap()
            .iter()
            .any(|e| e.path.as_str() == "/b-after")
    );
    drop(b);
    db.close().unwrap();
    let db = Db::open(&env.data, config(&env)).unwrap();
    assert!(
        db.domain("b.example")
            .unwrap()
            .count(TimeRange::all())
            .unwrap()
            >= 52
    );
    db.close().unwrap();
}
