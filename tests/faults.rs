//! Fault injection through `Config::backend`: every file the engine opens
//! gets a page-store backend that wraps redb's `FileBackend` and fails a
//! `write`, `sync_data` or `set_len` when a shared countdown reaches zero,
//! either once (the next call works again) or for good (a disk that stays
//! full).
//!
//! For many countdown values, a fixed sequence of ingest, flush, erasure,
//! compaction (purge rewrites, sealing rewrites, tombstone expiry with a
//! control-file rewrite), opt-out and close runs against the faulty
//! backends. The engine must answer with typed errors, never panic (on the
//! caller's thread or any of its own), and after the database is dropped
//! and opened again without faults:
//!
//! - every event acknowledged by a successful `flush` (or `erase_visitor`,
//!   `compact_now` or `close`, which flush first) is there, and nothing that
//!   was never ingested;
//! - no visitor whose `erase_visitor` returned `Ok` is visible;
//! - a compaction pass completes every pending purge, after which no file
//!   holds any byte of the erased visitors' events, and the audit finds no
//!   IP text.

mod common;

use common::start_time;
use pledgedb::{
    BackendFactory, Config, Db, Erasure, Hit, ManualClock, TimeRange, VisitorRef, audit_dir,
};
use redb::StorageBackend;
use redb::backends::FileBackend;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

// ------------------------------------------------------------ backends --

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Only the call at which the countdown reaches zero fails.
    Once,
    /// That call and every later one fail, like a disk that stays full.
    Sticky,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Write,
    Sync,
    SetLen,
}

/// The countdown shared by every backend of one database.
#[derive(Debug)]
struct Faults {
    mode: Mode,
    kinds: Vec<Kind>,
    /// Eligible calls left before the failing one; `u64::MAX` never fails.
    countdown: AtomicU64,
    tripped: AtomicBool,
    /// Eligible calls seen.
    calls: AtomicU64,
    /// Failures injected.
    injected: AtomicU64,
}

impl Faults {
    fn new(mode: Mode, kinds: &[Kind], fail_at: u64) -> Arc<Faults> {
        Arc::new(Faults {
            mode,
            kinds: kinds.to_vec(),
            countdown: AtomicU64::new(fail_at),
            tripped: AtomicBool::new(false),
            calls: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        })
    }

    fn check(&self, kind: Kind) -> io::Result<()> {
        if !self.kinds.contains(&kind) {
            return Ok(());
        }
        self.calls.fetch_add(1, Ordering::SeqCst);
        let fail = if self.mode == Mode::Sticky && self.tripped.load(Ordering::SeqCst) {
            true
        } else {
            let left = self
                .countdown
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                    (c != u64::MAX && c > 0).then(|| c - 1)
                });
            matches!(left, Ok(1))
        };
        if !fail {
            return Ok(());
        }
        self.tripped.store(true, Ordering::SeqCst);
        let n = self.injected.fetch_add(1, Ordering::SeqCst);
        // Alternate a full disk and a plain I/O error.
        Err(if n.is_multiple_of(2) {
            io::Error::new(io::ErrorKind::StorageFull, "injected: no space left")
        } else {
            io::Error::other("injected: I/O error")
        })
    }
}

#[derive(Debug)]
struct FaultyFactory(Arc<Faults>);

impl BackendFactory for FaultyFactory {
    fn backend(&self, path: &Path) -> io::Result<Box<dyn StorageBackend>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let inner = FileBackend::new(file).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Box::new(FaultyBackend {
            inner,
            faults: Arc::clone(&self.0),
        }))
    }
}

#[derive(Debug)]
struct FaultyBackend {
    inner: FileBackend,
    faults: Arc<Faults>,
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.faults.check(Kind::SetLen)?;
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.faults.check(Kind::Sync)?;
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.faults.check(Kind::Write)?;
        self.inner.write(offset, data)
    }
    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }
    fn try_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.inner.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.inner.lock_range(start, end)
    }
    fn lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<(), redb::BackendError> {
        self.inner.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.inner.unlock_range(start, end)
    }
    fn query_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

// -------------------------------------------------------------- panics --

/// Panics anywhere in the process (the engine's writer threads included),
/// counted by a hook installed once.
fn panics() -> &'static AtomicU64 {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            COUNT.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
    &COUNT
}

// ------------------------------------------------------------ scenario --

const DOMAINS: [&str; 2] = ["a.example", "b.example"];
const ROUNDS: usize = 4;
const PER_ROUND: usize = 6;

fn marker(seq: usize) -> String {
    format!("FAULTMARK{seq:05}Z")
}

fn ip(seq: usize) -> std::net::IpAddr {
    std::net::IpAddr::from([203, 0, 113, (seq % 250) as u8 + 1])
}

/// One hit of the scenario: its domain, client and marker.
#[derive(Clone, Debug)]
struct Sent {
    seq: usize,
    domain: usize,
    client: String,
}

/// What the run against faulty backends was told.
#[derive(Default, Debug)]
struct Outcome {
    /// Hits whose ingest returned `Ok(Queued)`.
    ingested: Vec<Sent>,
    /// How many of them (in order) a successful flush acknowledged.
    acked: usize,
    /// (domain, client) whose erasure returned `Ok(Pending)`.
    erased: BTreeSet<(usize, String)>,
    /// (domain, client) whose erasure returned an error: may or may not be
    /// erased.
    maybe_erased: BTreeSet<(usize, String)>,
    /// Calls that returned an error. Not every fault makes one: a fault can
    /// hit redb closing a file that a rewrite replaced, which no call
    /// reports; what matters is what the directory holds afterwards.
    errors: usize,
}

fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("pledgedb-faults")
            .tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().unwrap()
}

fn config(clock: &ManualClock, factory: Option<Arc<dyn BackendFactory>>) -> Config {
    let mut c = Config::default().with_clock(Arc::new(clock.clone()));
    c.background_compaction = false;
    c.writer.threads = 2;
    c.backend = factory;
    c
}

/// Ingest, flush, erase, compact (purge, seal, tombstone expiry, salts),
/// opt out and close, recording what each call answered.
fn scenario(data: &Path, clock: &ManualClock, faults: &Arc<Faults>, out: &mut Outcome) {
    let factory: Arc<dyn BackendFactory> = Arc::new(FaultyFactory(Arc::clone(faults)));
    let db = match Db::open(data, config(clock, Some(factory))) {
        Ok(db) => db,
        Err(_) => {
            out.errors += 1;
            return;
        }
    };
    let mut seq = 0;
    let ack = |out: &mut Outcome, ok: bool| {
        if ok {
            out.acked = out.ingested.len();
        } else {
            out.errors += 1;
        }
    };
    for round in 0..ROUNDS {
        for i in 0..PER_ROUND {
            seq += 1;
            let domain = i % DOMAINS.len();
            let client = format!("r{round}c{}", i / DOMAINS.len());
            // Half of the hits land yesterday, so that compaction seals that
            // day (a segment rewrite).
            let ts = start_time().plus_millis(-((i % 2) as i64) * 86_400_000 + seq as i64);
            let hit = Hit::page_view(
                DOMAINS[domain],
                format!(
                    "https://{}/{}?from={}",
                    DOMAINS[domain],
                    marker(seq),
                    ip(seq)
                ),
            )
            .client_id(&client)
            .ip(ip(seq))
            .user_agent(format!("Mozilla/5.0 via {}", ip(seq)))
            .at(ts);
            match db.ingest(hit) {
                Ok(pledgedb::Ingested::Queued) => out.ingested.push(Sent {
                    seq,
                    domain,
                    client,
                }),
                Ok(other) => panic!("hit {seq}: {other:?}"),
                Err(_) => out.errors += 1,
            }
        }
        let ok = db.flush().is_ok();
        ack(out, ok);
        if round % 2 == 0 {
            // Erase the first client of this round on both domains.
            for (d, name) in DOMAINS.iter().enumerate() {
                let client = format!("r{round}c0");
                let who = VisitorRef::ClientId(client.clone());
                let r = db
                    .domain(name)
                    .map_err(|_| ())
                    .and_then(|dom| dom.erase_visitor(&who).map_err(|_| ()));
                match r {
                    Ok(Erasure::Pending(_)) => {
                        out.erased.insert((d, client));
                        ack(out, true);
                    }
                    Ok(Erasure::NotFound) => {
                        // Only possible if its hits never reached a file.
                        ack(out, true);
                    }
                    Err(()) => {
                        out.errors += 1;
                        out.maybe_erased.insert((d, client));
                    }
                }
            }
        }
        if round == 1 && db.opt_out("faults-token").is_err() {
            out.errors += 1;
        }
        if round >= 1 {
            // Two hours on: yesterday is sealed; in the last round a day
            // and more, so purged tombstones expire (control-file rewrite)
            // and old salts go (global-file rewrite).
            clock.advance_millis(if round == ROUNDS - 1 { 26 } else { 2 } * 3_600_000);
            let ok = db.compact_now().is_ok();
            ack(out, ok);
        }
    }
    let ok = db.close().is_ok();
    ack(out, ok);
}

/// Opens the directory without faults and checks the promises.
fn verify(data: &Path, clock: &ManualClock, out: &Outcome, what: &str) {
    let db = Db::open(data, config(clock, None))
        .unwrap_or_else(|e| panic!("{what}: reopen without faults failed: {e}"));
    let hidden = |s: &Sent| {
        out.erased.contains(&(s.domain, s.client.clone()))
            || out.maybe_erased.contains(&(s.domain, s.client.clone()))
    };
    let ingested: BTreeMap<usize, &Sent> = out.ingested.iter().map(|s| (s.seq, s)).collect();
    for (d, name) in DOMAINS.iter().enumerate() {
        let present: Vec<usize> = match db.domain(name) {
            Ok(dom) => dom
                .events(TimeRange::all())
                .unwrap_or_else(|e| panic!("{what}: read {name}: {e}"))
                .iter()
                .map(|e| {
                    let p = e.path.as_str();
                    p.strip_prefix("/FAULTMARK")
                        .and_then(|p| p.get(..5))
                        .and_then(|p| p.parse().ok())
                        .unwrap_or_else(|| panic!("{what}: unknown event path {p:?}"))
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let set: BTreeSet<usize> = present.iter().copied().collect();
        assert_eq!(set.len(), present.len(), "{what}: {name}: an event twice");
        for seq in &set {
            let s = ingested
                .get(seq)
                .unwrap_or_else(|| panic!("{what}: {name}: event {seq} was never accepted"));
            assert_eq!(s.domain, d, "{what}: event {seq} in the wrong domain");
            assert!(
                !out.erased.contains(&(s.domain, s.client.clone())),
                "{what}: {name}: event {seq} of erased visitor {} is visible",
                s.client
            );
        }
        for s in &out.ingested[..out.acked] {
            if s.domain == d && !hidden(s) {
                assert!(
                    set.contains(&s.seq),
                    "{what}: {name}: acknowledged event {} is lost",
                    s.seq
                );
            }
        }
    }
    // Whatever purge the faults interrupted completes now.
    db.compact_now()
        .unwrap_or_else(|e| panic!("{what}: compaction without faults failed: {e}"));
    for name in DOMAINS {
        if let Ok(dom) = db.domain(name) {
            assert_eq!(dom.pending_purges(), 0, "{what}: {name}: purges left");
        }
    }
    db.close().unwrap();
    let erased_markers: Vec<String> = out
        .ingested
        .iter()
        .filter(|s| out.erased.contains(&(s.domain, s.client.clone())))
        .map(|s| marker(s.seq))
        .collect();
    if !erased_markers.is_empty() {
        let found = common::find_any(data, &erased_markers);
        assert!(found.is_empty(), "{what}: erased data left: {found:?}");
    }
    let report = audit_dir(data).unwrap();
    assert!(report.is_clean(), "{what}: audit: {:?}", report.findings);
    let forms: Vec<String> = (1..=ROUNDS * PER_ROUND)
        .flat_map(|s| common::textual_forms(ip(s)))
        .collect();
    let found = common::find_any(data, &forms);
    assert!(found.is_empty(), "{what}: IP text stored: {found:?}");
}

/// Runs the scenario once with a countdown and checks the result.
fn one(mode: Mode, kinds: &[Kind], fail_at: u64) -> (u64, u64, usize) {
    let tmp = scratch();
    let data = tmp.path().join("data");
    let clock = ManualClock::new(start_time());
    let faults = Faults::new(mode, kinds, fail_at);
    let what = format!("{mode:?} {kinds:?} at call {fail_at}");
    let mut out = Outcome::default();
    let before = panics().load(Ordering::SeqCst);
    let r = catch_unwind(AssertUnwindSafe(|| {
        scenario(&data, &clock, &faults, &mut out);
    }));
    assert!(r.is_ok(), "{what}: the engine panicked");
    assert_eq!(
        panics().load(Ordering::SeqCst),
        before,
        "{what}: a thread of the engine panicked"
    );
    let injected = faults.injected.load(Ordering::SeqCst);
    verify(&data, &clock, &out, &what);
    (injected, faults.calls.load(Ordering::SeqCst), out.errors)
}

/// Countdown values for a run that makes `total` eligible calls: every one
/// of the first 20, then 30 spread over the rest (`PLEDGEDB_FAULT_POINTS=N`
/// for N), and one past the end (no fault).
fn countdowns(total: u64) -> Vec<u64> {
    let spread: u64 = std::env::var("PLEDGEDB_FAULT_POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut v: Vec<u64> = (1..=total.min(20)).collect();
    if total > 20 {
        let step = ((total - 20) / spread.max(1)).max(1);
        v.extend((21..=total).step_by(step as usize));
    }
    v.push(total + 1);
    v
}

/// Serialises the sweeps: each one runs many databases, and two cores are
/// all there is.
fn sweep_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn sweep(mode: Mode) {
    let _serial = sweep_lock();
    let mut injected = 0;
    let mut runs = 0;
    let mut errors = 0;
    for kinds in [
        &[Kind::Write, Kind::Sync, Kind::SetLen][..],
        &[Kind::Write],
        &[Kind::Sync],
        &[Kind::SetLen],
    ] {
        // A clean run counts the eligible calls.
        let (none, total, clean_errors) = one(mode, kinds, u64::MAX);
        assert_eq!((none, clean_errors), (0, 0), "a run without faults fails");
        assert!(total > 0, "{kinds:?}: no call to fail");
        for at in countdowns(total) {
            let (n, _, e) = one(mode, kinds, at);
            injected += n;
            errors += e;
            runs += 1;
        }
    }
    eprintln!(
        "faults {mode:?}: {runs} runs, {injected} faults injected, {errors} errors returned, \
         all survived"
    );
    assert!(injected > 0);
}

#[test]
fn a_fault_that_happens_once_loses_nothing_acknowledged() {
    sweep(Mode::Once);
}

#[test]
fn a_disk_that_stays_full_loses_nothing_acknowledged() {
    sweep(Mode::Sticky);
}
