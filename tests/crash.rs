//! Crash test: the test binary runs itself as a child process that ingests,
//! flushes, erases visitors and compacts in a loop, and the parent kills it
//! with SIGKILL at a random moment, then opens the directory and checks
//! what a crash may and may not lose (design.md §7):
//!
//! - every hit acknowledged by a successful `flush` is there, and no event
//!   that was never sent;
//! - no visitor whose `erase_visitor` returned is visible;
//! - a compaction pass completes every pending purge, after which no file
//!   holds the erased visitors' markers, and the audit finds no IP text.
//!
//! The child records what was acknowledged in a side file, appending one
//! line and syncing it after each call returned: `A <seq>` (every hit up to
//! `seq` is durable), `e <domain> <client>` before an erasure and
//! `E <domain> <client>` after it returned `Ok`.
//!
//! 50 rounds by default; `PLEDGEDB_CRASH_ROUNDS=N` for more, and
//! `PLEDGEDB_CRASH_SEED` to replay a run (the seed is printed on failure).
//! `PLEDGEDB_SOAK_SECS=N` (a soak) runs rounds for N seconds instead,
//! starting a fresh directory after every `PLEDGEDB_CRASH_ROUNDS` rounds
//! so that one directory does not grow without end.

mod common;

use common::start_time;
use pledgedb::{Config, Db, Erasure, Hit, ManualClock, TimeRange, VisitorRef, audit_dir};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

const CHILD_DIR: &str = "PLEDGEDB_CRASH_CHILD_DIR";
const CHILD_SIDE: &str = "PLEDGEDB_CRASH_CHILD_SIDE";
const CHILD_SEED: &str = "PLEDGEDB_CRASH_CHILD_SEED";
const CHILD_START: &str = "PLEDGEDB_CRASH_CHILD_START";
const DOMAINS: [&str; 2] = ["a.example", "b.example"];
const HITS_PER_CLIENT: u64 = 4;
const BATCH: u64 = 12;

fn marker(seq: u64) -> String {
    format!("CRASHMARK{seq:07}Z")
}

fn client_of(seq: u64) -> String {
    format!("k{}", seq / HITS_PER_CLIENT)
}

fn domain_of(seq: u64) -> usize {
    ((seq / HITS_PER_CLIENT) % DOMAINS.len() as u64) as usize
}

fn ip(seq: u64) -> std::net::IpAddr {
    if seq.is_multiple_of(2) {
        std::net::IpAddr::from([198, 51, 100, (seq % 250) as u8 + 1])
    } else {
        std::net::IpAddr::from([0x2001, 0xdb8, 2, 0, 0, 0, 0, (seq % 60_000) as u16 + 1])
    }
}

fn config(clock: &ManualClock) -> Config {
    let mut c = Config::default().with_clock(Arc::new(clock.clone()));
    c.background_compaction = false;
    c
}

/// What the side file says.
#[derive(Debug, Default)]
struct Record {
    /// Per child: the first sequence number it used and the last one a
    /// flush acknowledged (`start - 1` when none was).
    children: Vec<(u64, u64)>,
    /// Erasures that returned `Ok(Pending)`.
    erased: BTreeSet<(usize, String)>,
    /// Erasures that were started (they may have taken effect).
    attempted: BTreeSet<(usize, String)>,
    /// Unexpected errors the child met.
    failures: Vec<String>,
}

impl Record {
    /// Past every sequence number any child may have sent: one unflushed
    /// batch after what was acknowledged.
    fn sent_bound(&self) -> u64 {
        self.children
            .iter()
            .map(|(start, last)| (*start).max(last + 1) + BATCH)
            .max()
            .unwrap_or(0)
    }

    fn acked_count(&self) -> u64 {
        self.children.iter().map(|(s, l)| l + 1 - s).sum()
    }
}

fn read_record(side: &Path) -> Record {
    let text = std::fs::read_to_string(side).unwrap_or_default();
    let mut r = Record::default();
    // A line cut by the kill has no newline: it was not acknowledged.
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    for line in complete.lines() {
        let mut it = line.split(' ');
        match (it.next(), it.next(), it.next()) {
            (Some("S"), Some(n), None) => {
                let start: u64 = n.parse().unwrap();
                r.children.push((start, start - 1));
            }
            (Some("A"), Some(n), None) => {
                let child = r.children.last_mut().expect("A before S");
                child.1 = child.1.max(n.parse().unwrap());
            }
            (Some("e"), Some(d), Some(c)) => {
                r.attempted.insert((d.parse().unwrap(), c.to_string()));
            }
            (Some("E"), Some(d), Some(c)) => {
                r.erased.insert((d.parse().unwrap(), c.to_string()));
            }
            (Some("X"), _, _) => r.failures.push(line.to_string()),
            _ => panic!("bad side-file line {line:?}"),
        }
    }
    r
}

struct Side(std::fs::File);

impl Side {
    fn note(&mut self, line: &str) {
        self.0.write_all(format!("{line}\n").as_bytes()).unwrap();
        self.0.sync_data().unwrap();
    }
}

fn fail(side: &mut Side, what: &str) -> ! {
    side.note(&format!("X {}", what.replace('\n', " ")));
    std::process::exit(3)
}

/// The child's loop: runs until killed.
fn child(dir: &Path, side: &Path, seed: u64, start: u64) -> ! {
    let mut side = Side(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(side)
            .unwrap(),
    );
    let mut seq = start;
    side.note(&format!("S {seq}"));
    let mut rng = StdRng::seed_from_u64(seed);
    let clock = ManualClock::new(start_time());
    let db =
        Db::open(dir, config(&clock)).unwrap_or_else(|e| fail(&mut side, &format!("open: {e}")));
    let mut batches = 0u64;
    loop {
        let first = seq;
        for _ in 0..BATCH {
            let d = domain_of(seq);
            // Today and yesterday, so that compaction seals (rewrites).
            let ts =
                start_time().plus_millis(-(seq.is_multiple_of(3) as i64) * 86_400_000 + seq as i64);
            let hit = Hit::page_view(
                DOMAINS[d],
                format!("/{}-{}?src={}", marker(seq), client_of(seq), ip(seq)),
            )
            .client_id(client_of(seq))
            .ip(ip(seq))
            .user_agent(format!("Mozilla/5.0 ({})", ip(seq)))
            .at(ts);
            match db.ingest(hit) {
                Ok(pledgedb::Ingested::Queued) => {}
                other => fail(&mut side, &format!("ingest {seq}: {other:?}")),
            }
            seq += 1;
        }
        if let Err(e) = db.flush() {
            fail(&mut side, &format!("flush: {e}"));
        }
        side.note(&format!("A {}", seq - 1));
        batches += 1;
        if batches.is_multiple_of(2) {
            // Erase a client of this batch.
            let s = rng.random_range(first..seq);
            let (d, c) = (domain_of(s), client_of(s));
            side.note(&format!("e {d} {c}"));
            let dom = db.domain(DOMAINS[d]).unwrap();
            match dom.erase_visitor(&VisitorRef::ClientId(c.clone())) {
                Ok(Erasure::Pending(_)) => side.note(&format!("E {d} {c}")),
                other => fail(&mut side, &format!("erase {c}: {other:?}")),
            }
        }
        if batches.is_multiple_of(3)
            && let Err(e) = db.compact_now()
        {
            fail(&mut side, &format!("compact: {e}"));
        }
    }
}

/// The entry point of the child process; a no-op in a normal test run.
#[test]
fn crash_child() {
    let (Some(dir), Some(side), Some(seed), Some(start)) = (
        std::env::var_os(CHILD_DIR),
        std::env::var_os(CHILD_SIDE),
        std::env::var(CHILD_SEED).ok(),
        std::env::var(CHILD_START).ok(),
    ) else {
        return;
    };
    child(
        Path::new(&dir),
        Path::new(&side),
        seed.parse().unwrap(),
        start.parse().unwrap(),
    );
}

fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("pledgedb-crash")
            .tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().unwrap()
}

/// Parses `/CRASHMARK<seq>Z-<client>`.
fn parse_path(p: &str) -> Option<(u64, String)> {
    let rest = p.strip_prefix("/CRASHMARK")?;
    let seq = rest.get(..7)?.parse().ok()?;
    let client = rest.get(7..)?.strip_prefix("Z-")?;
    Some((seq, client.to_string()))
}

/// Checks the directory after a kill; returns the highest sequence number
/// found, so that the next child starts past it.
fn verify(data: &Path, rec: &Record, round: usize, seed: u64) -> u64 {
    let what = format!("round {round} (PLEDGEDB_CRASH_SEED={seed})");
    assert!(
        rec.failures.is_empty(),
        "{what}: the child failed: {:?}",
        rec.failures
    );
    let clock = ManualClock::new(start_time());
    let db = Db::open(data, config(&clock))
        .unwrap_or_else(|e| panic!("{what}: reopen after the kill failed: {e}"));
    let mut highest = 0;
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for (d, name) in DOMAINS.iter().enumerate() {
        let Ok(dom) = db.domain(name) else { continue };
        for e in dom.events(TimeRange::all()).unwrap() {
            let (seq, client) = parse_path(e.path.as_str())
                .unwrap_or_else(|| panic!("{what}: unknown event {:?}", e.path));
            assert_eq!(client, client_of(seq), "{what}: event {seq} mangled");
            assert_eq!(d, domain_of(seq), "{what}: event {seq} in the wrong domain");
            assert_eq!(
                e.visitor,
                dom.visitor_id(&VisitorRef::ClientId(client.clone())),
                "{what}: event {seq} has another visitor"
            );
            assert!(
                !rec.erased.contains(&(d, client.clone())),
                "{what}: event {seq} of erased visitor {client} is visible"
            );
            assert!(seen.insert(seq, d).is_none(), "{what}: event {seq} twice");
            highest = highest.max(seq);
        }
    }
    for &(start, last) in &rec.children {
        for seq in start..=last {
            let key = (domain_of(seq), client_of(seq));
            if rec.erased.contains(&key) || rec.attempted.contains(&key) {
                continue;
            }
            assert!(
                seen.contains_key(&seq),
                "{what}: acknowledged event {seq} is lost"
            );
        }
    }
    db.compact_now()
        .unwrap_or_else(|e| panic!("{what}: compaction after the kill failed: {e}"));
    for name in DOMAINS {
        if let Ok(dom) = db.domain(name) {
            assert_eq!(dom.pending_purges(), 0, "{what}: {name}: purges left");
        }
    }
    db.close().unwrap();
    let last = rec.sent_bound().max(highest);
    let erased: Vec<String> = (1..=last)
        .filter(|s| rec.erased.contains(&(domain_of(*s), client_of(*s))))
        .map(marker)
        .collect();
    if !erased.is_empty() {
        let found = common::find_any(data, &erased);
        assert!(found.is_empty(), "{what}: erased data left: {found:?}");
    }
    let report = audit_dir(data).unwrap();
    assert!(report.is_clean(), "{what}: audit: {:?}", report.findings);
    let ips: BTreeSet<std::net::IpAddr> = (1..=last).map(ip).collect();
    let forms: Vec<String> = ips.into_iter().flat_map(common::textual_forms).collect();
    let found = common::find_any(data, &forms);
    assert!(found.is_empty(), "{what}: IP text stored: {found:?}");
    highest
}

#[test]
fn killed_at_random_moments_loses_nothing_acknowledged() {
    let rounds: usize = std::env::var("PLEDGEDB_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("PLEDGEDB_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let mut rng = StdRng::seed_from_u64(seed);
    let tmp = scratch();
    let data: PathBuf = tmp.path().join("data");
    let side = tmp.path().join("acknowledged");
    let exe = std::env::current_exe().unwrap();
    let soak = std::env::var("PLEDGEDB_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(std::time::Duration::from_secs);
    let started = std::time::Instant::now();
    let mut next = 1u64;
    let mut rec = Record::default();
    let (mut total_rounds, mut total_acked, mut total_erased) = (0usize, 0u64, 0usize);
    let mut round = 0;
    loop {
        match soak {
            None if round == rounds => break,
            Some(d) if started.elapsed() >= d => break,
            Some(_) if round == rounds => {
                // A fresh directory for the next stretch of the soak.
                total_acked += rec.acked_count();
                total_erased += rec.erased.len();
                std::fs::remove_dir_all(&data).unwrap();
                let _ = std::fs::remove_file(&side);
                next = 1;
                round = 0;
            }
            _ => {}
        }
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_DIR, &data)
            .env(CHILD_SIDE, &side)
            .env(CHILD_SEED, rng.random::<u64>().to_string())
            .env(CHILD_START, next.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The crash: SIGKILL after a random moment of work.
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(5..400)));
        child.kill().unwrap();
        child.wait().unwrap();
        rec = read_record(&side);
        let highest = verify(&data, &rec, total_rounds, seed);
        // The next child numbers its hits past anything stored or sent.
        next = highest.max(rec.sent_bound()) + 1;
        round += 1;
        total_rounds += 1;
    }
    eprintln!(
        "crash: {total_rounds} rounds survived, {} hits acknowledged, {} visitors erased \
         (seed {seed}, {:.0} s)",
        total_acked + rec.acked_count(),
        total_erased + rec.erased.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        total_acked + rec.acked_count() > 0,
        "no child got as far as a flush"
    );
}
