//! Power loss, not only kill -9: the engine runs on a simulated disk
//! (`power_loss/sim.rs`) that keeps only what was synced, and power is cut
//! at random steps (file writes, syncs, renames, unlinks, directory syncs)
//! of a seeded scenario of ingest, flush, erasure, opt-outs, clock moves
//! and compaction (purge rewrites, sealing, retention, tombstone expiry,
//! salt purges). The image that survives each cut (every un-synced write
//! and directory change lost, or a random subset of them kept) is checked:
//!
//! - the directory opens, every file opens (nothing quarantined, no domain
//!   unavailable: no torn file);
//! - every hit a successful `flush` (or `erase_visitor`, `compact_now`,
//!   `close`) acknowledged is there (unless its day has passed retention),
//!   and no event that was never accepted;
//! - no visitor whose `erase_visitor` returned `Ok` is visible, and an
//!   opted-out token stays opted out;
//! - where a compaction reported a domain's purges done, the image holds no
//!   byte of those visitors' events (their markers);
//! - no IP text (the audit scanner, and every textual form of the IPs
//!   sent); after a compaction on the reopened directory, no purge is left
//!   and no erased marker anywhere.
//!
//! 1,000 cuts by default; `PLEDGEDB_POWER_CUTS=N` for more,
//! `PLEDGEDB_SOAK_SECS=N` to keep cutting for N seconds, and
//! `PLEDGEDB_POWER_SEED=S` to replay a round (a failure prints it).
//! The planted-bug tests make the disk swallow one kind of sync and assert
//! that the same checks catch it.

mod common;
mod power_loss {
    pub mod sim;
}

use common::start_time;
use pledgedb::{
    Clock, Config, Db, DomainSettings, Erasure, Hit, Ingested, ManualClock, TimeRange, Timestamp,
    VisitorRef, audit_dir_in,
};
use power_loss::sim::{Image, Loss, Planted, SimFs};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

const DOMAINS: [&str; 2] = ["a.example", "b.example"];
/// The simulated disk's data directory. Nothing by that name exists on the
/// real disk, and the test checks nothing is created there: every file
/// operation goes through `Config::fs`.
const DATA: &str = "/pledgedb-power-loss-sim/data";
const SIM_ROOT: &str = "/pledgedb-power-loss-sim";
/// Raw events are kept this many days in the simulation, so that rounds
/// reach retention.
const RAW_DAYS: u32 = 2;

fn marker(seq: usize) -> String {
    format!("PWRMARK{seq:05}Z")
}

fn ip(seq: usize) -> std::net::IpAddr {
    if seq.is_multiple_of(3) {
        std::net::IpAddr::from([0x2001, 0xdb8, 7, 0, 0, 0, 0, (seq % 60_000) as u16 + 1])
    } else {
        std::net::IpAddr::from([198, 51, 100, (seq % 250) as u8 + 1])
    }
}

fn config(clock: &ManualClock, fs: &SimFs) -> Config {
    let mut c = Config::default().with_clock(Arc::new(clock.clone()));
    c.background_compaction = false;
    c.writer.threads = 1;
    c.fs = Arc::new(fs.clone());
    let mut d = DomainSettings::default();
    d.retention.raw_event_days = RAW_DAYS;
    d.retention.tombstone_hours = 2;
    c.domain_defaults = d;
    c
}

/// One accepted hit.
#[derive(Clone, Debug)]
struct Sent {
    domain: usize,
    client: Option<String>,
    ts: Timestamp,
}

/// What the scenario was told, in order; an image carries how much of it
/// had been told when power was cut.
#[derive(Clone, Debug)]
enum Told {
    /// Every hit accepted so far (this many) is durable.
    Durable(usize),
    /// This visitor is erased.
    Erased(usize, String),
    /// This token is opted out.
    OptedOut(String),
    /// A compaction reported this domain's purges done.
    Purged(usize),
    /// The clock reads at least this.
    Time(Timestamp),
}

#[derive(Debug, Default)]
struct Run {
    sent: BTreeMap<usize, Sent>,
    /// Hits accepted, in order (seq numbers).
    accepted: Vec<usize>,
    told: Vec<Told>,
    /// Visitors an erasure was asked for (answered or not).
    asked_erase: BTreeSet<(usize, String)>,
    /// Seq numbers sent with an opted-out token (must never be stored).
    opted_out_hits: BTreeSet<usize>,
    /// What the compactions of the round did: segments expired, rewritten
    /// by a purge, sealed; salts deleted; tombstones expired.
    did: [u64; 5],
}

impl Run {
    fn tell(&mut self, fs: &SimFs, t: Told) {
        self.told.push(t);
        fs.note(self.told.len() as u64);
    }
}

/// The scenario of one round: a seeded sequence of calls.
fn scenario(seed: u64, fs: &SimFs, clock: &ManualClock) -> Run {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x005e_ed0f_d15c);
    let mut run = Run::default();
    let db = Db::open(DATA, config(clock, fs)).expect("open on a fresh simulated disk");
    let mut seq = 0usize;
    let mut next_client = [0usize; 2];
    let mut live: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut opted = 0usize;
    let actions = rng.random_range(10..18);
    // The last moves: an erasure, its purge, its tombstone's expiry, a
    // day's end.
    let tail = [60, 96, 80, 96, 80, 96];
    for i in 0..actions + tail.len() {
        let pick = match i.checked_sub(actions) {
            Some(t) => tail[t],
            None => rng.random_range(0..100),
        };
        match pick {
            0..40 => {
                for _ in 0..rng.random_range(1..7) {
                    seq += 1;
                    let d = rng.random_range(0..2);
                    let client = match rng.random_range(0..10) {
                        0 => None,
                        1..4 => {
                            next_client[d] += 1;
                            let c = format!("c{}", next_client[d]);
                            live[d].push(c.clone());
                            Some(c)
                        }
                        _ if live[d].is_empty() => {
                            next_client[d] += 1;
                            let c = format!("c{}", next_client[d]);
                            live[d].push(c.clone());
                            Some(c)
                        }
                        _ => Some(live[d][rng.random_range(0..live[d].len())].clone()),
                    };
                    let ts = clock
                        .now()
                        .plus_millis(-rng.random_range(0..30 * 3_600_000));
                    let mut hit = Hit::page_view(
                        DOMAINS[d],
                        format!("https://{}/{}?from={}", DOMAINS[d], marker(seq), ip(seq)),
                    )
                    .ip(ip(seq))
                    .user_agent(format!("Mozilla/5.0 via {}", ip(seq)))
                    .at(ts);
                    if let Some(c) = &client {
                        hit = hit.client_id(c);
                    }
                    if let Ok(Ingested::Queued) = db.ingest(hit) {
                        run.sent.insert(
                            seq,
                            Sent {
                                domain: d,
                                client,
                                ts,
                            },
                        );
                        run.accepted.push(seq);
                    }
                }
            }
            40..55 => {
                db.flush().expect("flush");
                let n = run.accepted.len();
                run.tell(fs, Told::Durable(n));
            }
            55..67 => {
                let d = rng.random_range(0..2);
                if live[d].is_empty() {
                    continue;
                }
                let c = live[d].swap_remove(rng.random_range(0..live[d].len()));
                run.asked_erase.insert((d, c.clone()));
                let n = run.accepted.len();
                let r = db
                    .domain(DOMAINS[d])
                    .expect("domain")
                    .erase_visitor(&VisitorRef::ClientId(c.clone()))
                    .expect("erase");
                // It flushed first.
                run.tell(fs, Told::Durable(n));
                if let Erasure::Pending(_) = r {
                    run.tell(fs, Told::Erased(d, c));
                }
            }
            67..72 => {
                opted += 1;
                let token = format!("optout-token-{opted}");
                db.opt_out(&token).expect("opt out");
                run.tell(fs, Told::OptedOut(token.clone()));
                seq += 1;
                let d = rng.random_range(0..2);
                let hit = Hit::page_view(DOMAINS[d], format!("https://x/{}", marker(seq)))
                    .opt_out_token(&token)
                    .ip(ip(seq))
                    .at(clock.now());
                run.opted_out_hits.insert(seq);
                let r = db.ingest(hit).expect("ingest");
                assert!(
                    matches!(r, Ingested::Dropped(_)),
                    "an opted-out hit was kept: {r:?}"
                );
            }
            72..88 => {
                let to = clock.now().plus_millis(rng.random_range(1..40) * 3_600_000);
                run.tell(fs, Told::Time(to));
                clock.set(to);
            }
            _ => {
                let r = db.compact_now().expect("compact");
                for (i, n) in [
                    r.segments_expired,
                    r.segments_rewritten,
                    r.segments_sealed,
                    r.salts_deleted,
                    r.tombstones_expired,
                ]
                .into_iter()
                .enumerate()
                {
                    run.did[i] += n;
                }
                let n = run.accepted.len();
                run.tell(fs, Told::Durable(n));
                for (d, name) in DOMAINS.iter().enumerate() {
                    if let Ok(dom) = db.domain(name)
                        && dom.pending_purges() == 0
                    {
                        run.tell(fs, Told::Purged(d));
                    }
                }
            }
        }
    }
    db.close().expect("close");
    let n = run.accepted.len();
    run.tell(fs, Told::Durable(n));
    run
}

/// What an image was promised, from the calls answered before the cut.
struct Promised {
    durable: usize,
    erased: BTreeSet<(usize, String)>,
    opted_out: Vec<String>,
    /// Markers that must be gone from every file of the image.
    purged: Vec<String>,
    now: Timestamp,
}

fn promised(run: &Run, told: usize) -> Promised {
    let mut p = Promised {
        durable: 0,
        erased: BTreeSet::new(),
        opted_out: Vec::new(),
        purged: Vec::new(),
        now: start_time(),
    };
    let mut purged = BTreeSet::new();
    for t in &run.told[..told] {
        match t {
            Told::Durable(n) => p.durable = p.durable.max(*n),
            Told::Erased(d, c) => {
                p.erased.insert((*d, c.clone()));
            }
            Told::OptedOut(t) => p.opted_out.push(t.clone()),
            Told::Purged(d) => {
                for (ed, c) in &p.erased {
                    if ed == d {
                        purged.insert((*ed, c.clone()));
                    }
                }
            }
            Told::Time(ts) => p.now = p.now.max(*ts),
        }
    }
    p.purged = run
        .sent
        .iter()
        .filter(|(_, s)| {
            s.client
                .as_ref()
                .is_some_and(|c| purged.contains(&(s.domain, c.clone())))
        })
        .map(|(seq, _)| marker(*seq))
        .collect();
    p
}

fn find_any(files: &[(std::path::PathBuf, Vec<u8>)], patterns: &[String]) -> Vec<String> {
    if patterns.is_empty() {
        return Vec::new();
    }
    let ac = aho_corasick::AhoCorasick::new(patterns).expect("patterns");
    let mut found = Vec::new();
    for (path, bytes) in files {
        for m in ac.find_overlapping_iter(bytes) {
            found.push(format!(
                "{} in {}",
                patterns[m.pattern().as_usize()],
                path.display()
            ));
        }
    }
    found
}

/// Checks one image; the first broken promise as an error.
fn verify(run: &Run, image: &Image) -> Result<(), String> {
    let p = promised(run, image.note as usize);
    let files: Vec<_> = image
        .files()
        .into_iter()
        .map(|(p, b)| (p, b.to_vec()))
        .collect();
    let left = find_any(&files, &p.purged);
    if !left.is_empty() {
        return Err(format!("a purge reported done left erased data: {left:?}"));
    }
    let forms: Vec<String> = run
        .sent
        .keys()
        .chain(run.opted_out_hits.iter())
        .flat_map(|s| common::textual_forms(ip(*s)))
        .collect();
    let ips = find_any(&files, &forms);
    if !ips.is_empty() {
        return Err(format!("IP text stored: {ips:?}"));
    }
    let fs = SimFs::from_image(image, image.step);
    let report = if pledgedb::Fs::exists(&fs, Path::new(DATA)) {
        audit_dir_in(&fs, Path::new(DATA)).map_err(|e| format!("audit: {e}"))?
    } else {
        pledgedb::AuditReport::default()
    };
    if !report.is_clean() {
        return Err(format!("audit: {:?}", report.findings));
    }
    let clock = ManualClock::new(p.now);
    let db = Db::open(DATA, config(&clock, &fs)).map_err(|e| format!("reopen failed: {e}"))?;
    let today = p.now.day();
    for (d, name) in DOMAINS.iter().enumerate() {
        let events = match db.domain(name) {
            Ok(dom) => dom
                .events(TimeRange::all())
                .map_err(|e| format!("read {name}: {e}"))?,
            Err(_) => Vec::new(),
        };
        let mut present = BTreeSet::new();
        for e in &events {
            let seq: usize = e
                .path
                .as_str()
                .strip_prefix("/PWRMARK")
                .and_then(|s| s.get(..5))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{name}: unknown event path {:?}", e.path.as_str()))?;
            if !present.insert(seq) {
                return Err(format!("{name}: event {seq} twice"));
            }
            let s = run
                .sent
                .get(&seq)
                .ok_or_else(|| format!("{name}: event {seq} was never accepted"))?;
            if s.domain != d {
                return Err(format!("event {seq} in the wrong domain"));
            }
            if let Some(c) = &s.client
                && p.erased.contains(&(d, c.clone()))
            {
                return Err(format!(
                    "{name}: event {seq} of erased visitor {c} is visible"
                ));
            }
        }
        for seq in &run.accepted[..p.durable] {
            let s = &run.sent[seq];
            let erased = s
                .client
                .as_ref()
                .is_some_and(|c| run.asked_erase.contains(&(s.domain, c.clone())));
            // A day within a day of the retention cutoff may be gone.
            let young = s.ts.day().0 >= today.0 - (RAW_DAYS as i32 - 1);
            if s.domain == d && !erased && young && !present.contains(seq) {
                return Err(format!("{name}: acknowledged event {seq} is lost"));
            }
        }
    }
    for token in &p.opted_out {
        let hit = Hit::page_view(DOMAINS[0], "https://a.example/after").opt_out_token(token);
        match db.ingest(hit) {
            Ok(Ingested::Dropped(_)) => {}
            other => return Err(format!("an opt-out was lost: {other:?}")),
        }
    }
    let health = db.health();
    if !health.quarantined.is_empty() || !health.unavailable.is_empty() {
        return Err(format!(
            "a file does not open: quarantined {:?}, unavailable {:?}",
            health.quarantined, health.unavailable
        ));
    }
    // Whatever purge the cut interrupted completes now (a compaction pass
    // costs a reopen's worth of time, so only where one is pending).
    let pending = DOMAINS
        .iter()
        .any(|name| db.domain(name).is_ok_and(|d| d.pending_purges() > 0));
    if pending {
        db.compact_now()
            .map_err(|e| format!("compaction after the cut: {e}"))?;
    }
    for name in DOMAINS {
        if let Ok(dom) = db.domain(name)
            && dom.pending_purges() != 0
        {
            return Err(format!("{name}: purges left after compaction"));
        }
    }
    db.close()
        .map_err(|e| format!("close after the cut: {e}"))?;
    let erased_markers: Vec<String> = run
        .sent
        .iter()
        .filter(|(_, s)| {
            s.client
                .as_ref()
                .is_some_and(|c| p.erased.contains(&(s.domain, c.clone())))
        })
        .map(|(seq, _)| marker(*seq))
        .collect();
    let left = find_any(&fs.all_files(), &erased_markers);
    if !left.is_empty() {
        return Err(format!("erased data left after the purge: {left:?}"));
    }
    Ok(())
}

/// One round: the scenario of `seed` with power cut before each of `cuts`
/// (and once more after the end); the first failure with its step.
fn round(
    seed: u64,
    cuts: Cuts,
    planted: Option<Planted>,
) -> (usize, u64, [u64; 5], Result<(), String>) {
    let fs = SimFs::new(seed);
    if let Some(bug) = planted {
        fs.plant(bug);
    }
    match cuts {
        Cuts::Steps(s) => fs.set_cuts(s),
        Cuts::Chance(p) => fs.set_cut_chance(p),
    }
    let clock = ManualClock::new(start_time());
    let run = scenario(seed, &fs, &clock);
    let steps = fs.steps();
    let mut images = fs.take_images();
    images.push(fs.cut(Loss::All));
    images.push(fs.cut(Loss::Random));
    // In a random order: a planted bug is found sooner, wherever its
    // window lies.
    use rand::seq::SliceRandom;
    images.shuffle(&mut StdRng::seed_from_u64(seed));
    let n = images.len();
    for img in &images {
        if let Err(e) = verify(&run, img) {
            return (
                n,
                steps,
                run.did,
                Err(format!(
                    "power cut before step {} ({:?} loss): {e}",
                    img.step, img.loss
                )),
            );
        }
    }
    (n, steps, run.did, Ok(()))
}

/// Where a round cuts power.
enum Cuts {
    /// Before each of these steps.
    Steps(BTreeSet<u64>),
    /// Before any step, with this chance.
    Chance(f64),
}

/// The chance of a cut before a step: a round's scenario makes a few
/// hundred steps, so about a dozen cuts per round.
const CUT_CHANCE: f64 = 1.0 / 30.0;

/// The steps of a round's scenario, learned from a run without cuts.
fn steps_of(seed: u64) -> u64 {
    let fs = SimFs::new(seed);
    let clock = ManualClock::new(start_time());
    scenario(seed, &fs, &clock);
    fs.steps()
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

#[test]
fn the_simulated_disk_keeps_only_what_was_synced() {
    power_loss::sim::self_check();
}

#[test]
fn power_cut_at_random_steps_loses_nothing_acknowledged() {
    let want = env_u64("PLEDGEDB_POWER_CUTS").unwrap_or(1_000) as usize;
    let soak = env_u64("PLEDGEDB_SOAK_SECS").map(std::time::Duration::from_secs);
    let first = env_u64("PLEDGEDB_POWER_SEED").unwrap_or_else(|| rand::rng().random());
    let started = std::time::Instant::now();
    let (mut cuts, mut rounds, mut steps) = (0usize, 0u64, 0u64);
    let mut did = [0u64; 5];
    loop {
        let seed = first.wrapping_add(rounds);
        let (n, s, d, r) = round(seed, Cuts::Chance(CUT_CHANCE), None);
        for (t, x) in did.iter_mut().zip(d) {
            *t += x;
        }
        if let Err(e) = r {
            panic!("round {rounds}: {e}\nreplay with PLEDGEDB_POWER_SEED={seed}");
        }
        cuts += n;
        rounds += 1;
        steps += s;
        let done = match soak {
            Some(d) => started.elapsed() >= d,
            None => cuts >= want,
        };
        if done {
            break;
        }
    }
    eprintln!(
        "power loss: {rounds} rounds, {steps} steps, {cuts} power cuts, all survived \
         (first seed {first}, {:.1} s); compactions expired {} segments, rewrote {} for \
         purges, sealed {}, deleted {} salts, expired {} tombstones",
        started.elapsed().as_secs_f64(),
        did[0],
        did[1],
        did[2],
        did[3],
        did[4]
    );
    assert!(
        !Path::new(SIM_ROOT).exists(),
        "the engine wrote to the real disk, around Config::fs"
    );
    // The rounds reach every kind of rewrite and deletion.
    assert!(
        did.iter().all(|n| *n > 0),
        "a kind of compaction never ran: {did:?}"
    );
}

/// Runs rounds with a planted bug, cutting power before every step of the
/// scenario, until the checks catch it; the seed and the failure.
fn catch(bug: Planted) -> (u64, String) {
    for seed in 0..40u64 {
        let steps = steps_of(seed);
        let (_, _, _, r) = round(seed, Cuts::Steps((0..steps).collect()), Some(bug));
        if let Err(e) = r {
            eprintln!("planted {bug:?}: caught in round seed {seed}: {e}");
            return (seed, e);
        }
    }
    panic!("planted {bug:?}: no round caught it");
}

#[test]
fn a_skipped_sync_before_a_rename_is_caught() {
    catch(Planted::NoSyncBeforeRename);
}

#[test]
fn a_skipped_directory_sync_after_a_rename_is_caught() {
    catch(Planted::NoDirSyncAfterRename);
}

#[test]
fn a_skipped_directory_sync_after_a_rewrite_is_caught() {
    catch(Planted::NoDirSyncAfterRewrite);
}

#[test]
fn a_rename_before_the_header_is_durable_is_caught() {
    catch(Planted::RenameBeforeHeaderDurable);
}

/// Regression: a directory the engine created (the data directory's
/// missing parents, a new domain's directory) had only its innermost
/// parent synced, so a power cut after an acknowledged flush could drop
/// the domain's directory entry, and with it every event and its secret.
/// Now each created directory's parent is synced (`storage::create_dir`).
#[test]
fn directories_the_engine_creates_survive_a_power_cut() {
    for (data, create) in [
        (DATA, false),
        (DATA, true),
        ("/pledgedb-power-loss-sim/a/data", false),
        ("/pledgedb-power-loss-sim/a/b/c/data", true),
    ] {
        let what = format!(
            "data dir {data}, domain created by {}",
            if create { "call" } else { "ingest" }
        );
        let fs = SimFs::new(7);
        let clock = ManualClock::new(start_time());
        let db = Db::open(data, config(&clock, &fs)).unwrap();
        if create {
            db.create_domain(DOMAINS[1]).unwrap();
        }
        let hit = Hit::page_view(DOMAINS[0], format!("https://a.example/{}", marker(1)))
            .client_id("c1")
            .at(start_time());
        assert!(matches!(db.ingest(hit), Ok(Ingested::Queued)), "{what}");
        db.flush().unwrap();
        for loss in [Loss::All, Loss::Random] {
            let image = fs.cut(loss);
            let again = SimFs::from_image(&image, 1);
            let db2 = Db::open(data, config(&clock, &again))
                .unwrap_or_else(|e| panic!("{what}, {loss:?}: reopen: {e}"));
            let events = db2
                .domain(DOMAINS[0])
                .unwrap_or_else(|e| panic!("{what}, {loss:?}: domain lost: {e}"))
                .events(TimeRange::all())
                .unwrap();
            assert_eq!(
                events.len(),
                1,
                "{what}, {loss:?}: the flushed event is lost"
            );
            if create {
                assert!(
                    db2.domain(DOMAINS[1]).is_ok(),
                    "{what}, {loss:?}: created domain lost"
                );
            }
            assert!(
                db2.health().is_healthy(),
                "{what}, {loss:?}: {:?}",
                db2.health()
            );
            db2.close().unwrap();
        }
        db.close().unwrap();
    }
    assert!(
        !Path::new(SIM_ROOT).exists(),
        "the engine wrote to the real disk"
    );
}

/// A file set aside in the quarantine keeps its cause across a power cut:
/// the cause file is synced before the damaged file moves
/// (`Quarantine::set_aside`), so the health report still says why. Table
/// over the files a reopen or a read finds damaged.
#[test]
fn a_quarantined_file_keeps_its_cause_after_a_power_cut() {
    for (what, rel) in [
        ("segment", "domains/a.example/segments/2026-11-02.redb"),
        ("aggregate file", "domains/a.example/aggregates.redb"),
    ] {
        let fs = SimFs::new(11);
        let clock = ManualClock::new(start_time());
        let db = Db::open(DATA, config(&clock, &fs)).unwrap();
        let hit = Hit::page_view(DOMAINS[0], format!("https://a.example/{}", marker(1)))
            .client_id("c1")
            .at(start_time());
        assert!(matches!(db.ingest(hit), Ok(Ingested::Queued)));
        db.close().unwrap();
        let path = Path::new(DATA).join(rel);
        assert!(fs.read_file(&path).is_some(), "{what}: no file at {rel}");
        pledgedb::Fs::write(&fs, &path, b"this is not a redb file, not at all").unwrap();
        pledgedb::Fs::sync_file(&fs, &path).unwrap();
        let db = Db::open(DATA, config(&clock, &fs)).unwrap();
        if let Ok(d) = db.domain(DOMAINS[0]) {
            let _ = d.events(TimeRange::all());
        }
        let cause = db
            .health()
            .quarantined
            .first()
            .unwrap_or_else(|| panic!("{what}: nothing quarantined"))
            .path
            .clone();
        db.close().unwrap();
        let image = fs.cut(Loss::All);
        let again = SimFs::from_image(&image, 1);
        let db = Db::open(DATA, config(&clock, &again)).unwrap();
        let q = db.health().quarantined;
        assert_eq!(q.len(), 1, "{what}: {q:?}");
        assert_eq!(q[0].path, cause, "{what}");
        assert!(
            q[0].cause.contains("damaged") || q[0].cause.contains("redb"),
            "{what}: the cause was lost: {:?}",
            q[0].cause
        );
        db.close().unwrap();
    }
}
