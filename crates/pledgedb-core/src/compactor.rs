//! The compactor: retention, erasure purges, salt rotation and tombstone
//! expiry. A background thread runs it on a schedule and when an erasure asks
//! for it; [`Db::compact_now`](crate::Db::compact_now) runs every pending
//! job and returns when done.
//!
//! The compactor is handed a [`CompactorHandle`] by the engine: the parts of
//! the shared state it works on (the domains, the file opener, the salts,
//! the writer link, the configuration) and its own records (job failures,
//! its thread), never the whole engine.
//!
//! Segment rewrites and deletions are carried out by the domain's writer
//! thread, one segment per message, so ingest into a domain is never blocked
//! for longer than one segment swap.

use crate::config::Config;
use crate::domain::shared::DomainShared;
use crate::error::StorageError;
use crate::identity::EraseTag;
use crate::storage::Opener;
use crate::storage::control::ErasureKind;
use crate::storage::global::GlobalFile;
use crate::time::{Day, Timestamp};
use crate::writer::{Msg, PurgeOutcome, WriterLink};
use crossbeam_channel::{Receiver, Sender, bounded};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// What one compaction pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CompactionReport {
    /// Segments deleted because their day passed the raw-event TTL.
    pub segments_expired: u64,
    /// Segments rewritten to purge erased events.
    pub segments_rewritten: u64,
    /// Events physically removed by those rewrites.
    pub events_purged: u64,
    /// Erasure requests whose purge completed in this pass.
    pub erasures_completed: u64,
    /// Cookieless salts deleted (older than 48 hours).
    pub salts_deleted: u64,
    /// Tombstones removed after their TTL.
    pub tombstones_expired: u64,
    /// Finished days whose roll-up was computed and segment written fresh.
    pub segments_sealed: u64,
    /// Daily aggregates deleted after the aggregate TTL.
    pub aggregates_expired: u64,
    /// Quarantined segments deleted because their day passed the raw-event
    /// TTL.
    pub quarantine_expired: u64,
    /// Quarantined segments deleted because an erasure of their domain
    /// completed: they may hold the erased events and cannot be rewritten.
    pub quarantine_erased: u64,
}

impl std::ops::AddAssign for CompactionReport {
    fn add_assign(&mut self, o: Self) {
        self.segments_expired += o.segments_expired;
        self.segments_rewritten += o.segments_rewritten;
        self.events_purged += o.events_purged;
        self.erasures_completed += o.erasures_completed;
        self.salts_deleted += o.salts_deleted;
        self.tombstones_expired += o.tombstones_expired;
        self.segments_sealed += o.segments_sealed;
        self.aggregates_expired += o.aggregates_expired;
        self.quarantine_expired += o.quarantine_expired;
        self.quarantine_erased += o.quarantine_erased;
    }
}

/// What the compactor is handed by the engine: shared with the engine,
/// nothing more than compaction needs.
pub(crate) struct CompactorHandle {
    pub(crate) config: Arc<Config>,
    /// The global file, for the count of completed erasures.
    pub(crate) global: Arc<Mutex<GlobalFile>>,
    pub(crate) domains: Arc<RwLock<HashMap<String, Arc<DomainShared>>>>,
    pub(crate) opener: Arc<Opener>,
    /// Cookieless salts by day (memory only), rotated here.
    pub(crate) salts: Arc<Mutex<HashMap<Day, [u8; 16]>>>,
    pub(crate) writers: Arc<WriterLink>,
    /// Domains whose compaction jobs failed in their last pass, by name.
    pub(crate) job_failures: Mutex<BTreeMap<String, JobFailure>>,
    /// The background thread, while it runs.
    background: Mutex<Option<Background>>,
}

impl CompactorHandle {
    pub(crate) fn new(
        config: Arc<Config>,
        global: Arc<Mutex<GlobalFile>>,
        domains: Arc<RwLock<HashMap<String, Arc<DomainShared>>>>,
        opener: Arc<Opener>,
        salts: Arc<Mutex<HashMap<Day, [u8; 16]>>>,
        writers: Arc<WriterLink>,
    ) -> CompactorHandle {
        CompactorHandle {
            config,
            global,
            domains,
            opener,
            salts,
            writers,
            job_failures: Mutex::new(BTreeMap::new()),
            background: Mutex::new(None),
        }
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.writers.flush()
    }

    fn send(&self, writer: usize, msg: Msg) -> Result<(), StorageError> {
        self.writers.send(writer, msg)
    }
}

/// A domain whose compaction jobs fail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobFailure {
    /// The domain.
    pub domain: String,
    /// The last error (IP-shaped text redacted).
    pub error: String,
    /// When the jobs first failed in a row.
    pub since: Timestamp,
    /// Failed passes in a row.
    pub attempts: u32,
    /// When the background compactor tries again (the wait doubles with
    /// every failure, up to its period).
    pub next_attempt: Timestamp,
}

/// The background thread and its wake-up channel.
pub(crate) struct Background {
    wake: Sender<()>,
    handle: Option<JoinHandle<()>>,
}

/// Starts the background thread, if configured.
pub(crate) fn start(handle: &Arc<CompactorHandle>) -> Result<(), StorageError> {
    if !handle.config.background_compaction {
        return Ok(());
    }
    let (tx, rx) = bounded::<()>(1);
    let weak = Arc::downgrade(handle);
    let period =
        Duration::from_millis((handle.config.erasure_deadline_ms / 4).clamp(1_000, 60_000) as u64);
    let thread = std::thread::Builder::new()
        .name("pledgedb-compactor".into())
        .spawn(move || background(weak, rx, period))
        .map_err(|e| StorageError::io("compactor thread", e))?;
    *handle.background.lock() = Some(Background {
        wake: tx,
        handle: Some(thread),
    });
    Ok(())
}

fn background(db: Weak<CompactorHandle>, wake: Receiver<()>, period: Duration) {
    loop {
        match wake.recv_timeout(period) {
            Ok(()) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
        let Some(inner) = db.upgrade() else { return };
        if inner
            .writers
            .closed
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return;
        }
        // Failures are recorded per domain (Db::health) and retried with
        // backoff; the pending work stays recorded in the tombstones and the
        // segment dates.
        let _ = run(&inner, false);
    }
}

/// Asks the background thread for a pass.
pub(crate) fn wake(inner: &CompactorHandle) {
    if let Some(b) = inner.background.lock().as_ref() {
        let _ = b.wake.try_send(());
    }
}

/// Stops the background thread of a database.
pub(crate) fn stop(inner: &CompactorHandle) {
    let bg = inner.background.lock().take();
    if let Some(mut bg) = bg {
        drop(bg.wake);
        if let Some(h) = bg.handle.take()
            && h.thread().id() != std::thread::current().id()
        {
            let _ = h.join();
        }
    }
}

/// One full pass: retention, salts, erasure purges, tombstone expiry, for
/// every domain on its own: a domain whose jobs fail never stops the others.
/// Its failure is recorded (see [`Db::health`](crate::Db::health)) and, in the background, it
/// is retried after a wait that doubles with every failure; `compact_now`
/// (`force`) tries every domain. Returns the first failure, after every
/// other domain has had its pass.
pub(crate) fn run(inner: &CompactorHandle, force: bool) -> Result<CompactionReport, StorageError> {
    static PASS: Mutex<()> = Mutex::new(());
    let _one_at_a_time = PASS.lock();
    let mut first_err = inner.flush().err();
    let now = inner.config.clock.now();
    let mut report = CompactionReport::default();
    let mut domains: Vec<Arc<DomainShared>> = inner.domains.read().values().cloned().collect();
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    for d in &domains {
        let due = force
            || inner
                .job_failures
                .lock()
                .get(&d.name)
                .is_none_or(|f| f.next_attempt <= now);
        if !due {
            continue;
        }
        // Purge first, so a segment about to expire is rewritten without
        // the erased events before its roll-up moves to the aggregate file.
        let jobs = purge(inner, d, now).and_then(|p| {
            let e = expire(inner, d, now)?;
            let s = seal(inner, d, now)?;
            Ok((p, e, s))
        });
        match jobs {
            Ok((p, e, s)) => {
                report += p;
                report += e;
                report += s;
                inner.job_failures.lock().remove(&d.name);
            }
            Err(e) => {
                record_failure(inner, &d.name, &e, now);
                first_err.get_or_insert(e);
            }
        }
    }
    report.salts_deleted = rotate_salts(inner, now);
    report.quarantine_expired = expire_quarantine(inner, now)?;
    if report.erasures_completed > 0 {
        inner
            .global
            .lock()
            .add_counter("erasures", report.erasures_completed)?;
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// The longest wait before a failing domain is tried again.
const MAX_BACKOFF_MS: i64 = 60_000;

fn record_failure(inner: &CompactorHandle, domain: &str, e: &StorageError, now: Timestamp) {
    let mut failures = inner.job_failures.lock();
    let f = failures
        .entry(domain.to_string())
        .or_insert_with(|| JobFailure {
            domain: domain.to_string(),
            error: String::new(),
            since: now,
            attempts: 0,
            next_attempt: now,
        });
    f.attempts = f.attempts.saturating_add(1);
    f.error = crate::text::redact_ips(&e.to_string()).into_owned();
    let wait = 1_000i64
        .saturating_mul(1i64 << f.attempts.min(16))
        .min(MAX_BACKOFF_MS);
    f.next_attempt = now.plus_millis(wait);
}

/// Deletes quarantined segments whose day is past their domain's raw-event
/// retention (they hold raw events of that day, which retention ends).
fn expire_quarantine(inner: &CompactorHandle, now: Timestamp) -> Result<u64, StorageError> {
    let domains = inner.domains.read();
    inner.opener.quarantine.delete_where(|original| {
        let mut parts = original.iter().map(|p| p.to_string_lossy());
        let (Some(top), Some(name), Some(dir), Some(file)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if top != crate::storage::DOMAINS_DIR || dir != crate::storage::segment::SEGMENT_DIR {
            return false;
        }
        let Some(day) = crate::storage::segment::parse_segment_file_name(&file) else {
            return false;
        };
        let retention = domains
            .get(name.as_ref())
            .map_or(inner.config.domain_defaults.retention, |d| {
                d.settings.read().retention
            });
        day.end() <= retention.cutoff(now)
    })
}

fn ask<T>(
    inner: &CompactorHandle,
    d: &Arc<DomainShared>,
    make: impl FnOnce(Sender<Result<T, StorageError>>) -> Msg,
) -> Result<T, StorageError> {
    let (tx, rx) = bounded(1);
    inner.send(d.writer, make(tx))?;
    rx.recv().map_err(|_| StorageError::WriterGone)?
}

/// Deletes the segments whose day ended before the raw-event TTL.
fn expire(
    inner: &CompactorHandle,
    d: &Arc<DomainShared>,
    now: Timestamp,
) -> Result<CompactionReport, StorageError> {
    let before = d.retention_cutoff(now).day();
    let any = d
        .segments
        .days()
        .first()
        .is_some_and(|first| *first < before);
    if !any {
        return Ok(CompactionReport::default());
    }
    let days = ask(inner, d, |reply| Msg::Expire {
        domain: Arc::clone(d),
        before,
        reply,
    })?;
    Ok(CompactionReport {
        segments_expired: days.len() as u64,
        ..CompactionReport::default()
    })
}

/// A day is sealed (its roll-up computed) once it has been over for this
/// long, so that late hits rarely reopen it.
pub const SEAL_GRACE_MS: i64 = 3_600_000;

/// Seals every finished day without a roll-up.
fn seal(
    inner: &CompactorHandle,
    d: &Arc<DomainShared>,
    now: Timestamp,
) -> Result<CompactionReport, StorageError> {
    let mut report = CompactionReport::default();
    let candidates: Vec<Day> = d
        .segments
        .days()
        .into_iter()
        .filter(|day| day.end().0.saturating_add(SEAL_GRACE_MS) <= now.0)
        .collect();
    for day in candidates {
        // Days known sealed are not opened to ask again.
        let sealed = match d.segments.known_sealed(day) {
            Some(s) => s,
            None => match d.segments.get(day)? {
                Some(seg) => {
                    let s = seg.is_sealed()?;
                    d.segments.mark_sealed(day, s);
                    s
                }
                None => true,
            },
        };
        if sealed {
            continue;
        }
        let sealed = ask(inner, d, |reply| Msg::Seal {
            domain: Arc::clone(d),
            day,
            reply,
        })?;
        report.segments_sealed += u64::from(sealed);
    }
    let agg_days = i64::from(d.settings.read().retention.aggregate_days);
    let before = now.plus_millis(-agg_days * crate::time::MS_PER_DAY).day();
    report.aggregates_expired = d.aggregates.expire(before)?;
    Ok(report)
}

/// Rewrites every segment holding events of a pending tombstone, then marks
/// the tombstones purged; removes tombstones past their TTL.
fn purge(
    inner: &CompactorHandle,
    d: &Arc<DomainShared>,
    now: Timestamp,
) -> Result<CompactionReport, StorageError> {
    let mut report = CompactionReport::default();
    let stones = d.tombstones();
    let pending: Vec<(EraseTag, ErasureKind)> = stones
        .iter()
        .filter(|(_, t)| t.purged_at.is_none())
        .map(|(tag, t)| (*tag, t.kind))
        .collect();
    if !pending.is_empty() {
        let visitor_tags: Vec<EraseTag> = pending
            .iter()
            .filter(|(_, k)| *k == ErasureKind::Visitor)
            .map(|(t, _)| *t)
            .collect();
        let any_session = pending.iter().any(|(_, k)| *k == ErasureKind::Session);
        let mut days = BTreeSet::new();
        // Every day that has a file, opened if it is not: the set of
        // known days is the set of files.
        for day in d.segments.days() {
            let holds = match d.segments.get(day)? {
                Some(seg) => any_session || seg.has_any_tag(&visitor_tags)?,
                None => false,
            };
            if holds {
                days.insert(day);
            }
        }
        let mut removed = 0u64;
        let mut rewritten = 0u64;
        // Per request: events removed and segments whose rewrite removed
        // at least one of them.
        let mut per_request: HashMap<EraseTag, (u64, u64)> = HashMap::new();
        for day in days {
            let out: PurgeOutcome = ask(inner, d, |reply| Msg::Purge {
                domain: Arc::clone(d),
                day,
                reply,
            })?;
            removed += out.events_removed;
            rewritten += u64::from(out.rewritten);
            for (tag, n) in out.removed_by {
                let entry = per_request.entry(tag).or_default();
                entry.0 += n;
                entry.1 += u64::from(n > 0);
            }
        }
        let done: Vec<(EraseTag, u64, u64)> = pending
            .iter()
            .map(|(t, _)| {
                let (events, segments) = per_request.get(t).copied().unwrap_or_default();
                (*t, events, segments)
            })
            .collect();
        d.control.mark_purged(&done, now)?;
        for (tag, t) in d.control.tombstones()? {
            if pending.iter().any(|(p, _)| *p == tag) {
                d.put_tombstone(tag, t);
            }
        }
        report.segments_rewritten = rewritten;
        report.events_purged = removed;
        report.erasures_completed = pending.len() as u64;
        // A quarantined segment of this domain may hold the erased events
        // and cannot be rewritten: the erasure wins over keeping damaged
        // data for an operator, so it goes now (counted in the report).
        report.quarantine_erased = inner.opener.quarantine.delete_where(|original| {
            crate::storage::quarantine::was_segment_of(original, &d.name)
        })?;
    }
    let ttl_ms = i64::from(d.settings.read().retention.tombstone_hours) * 3_600_000;
    let expired: Vec<EraseTag> = d
        .tombstones()
        .into_iter()
        .filter(|(_, t)| {
            t.purged_at
                .is_some_and(|p| p.0.saturating_add(ttl_ms) <= now.0)
        })
        .map(|(tag, _)| tag)
        .collect();
    if !expired.is_empty() {
        d.control.remove_tombstones(&expired)?;
        d.control.rewrite()?;
        d.drop_tombstones(&expired);
        report.tombstones_expired = expired.len() as u64;
    }
    Ok(report)
}

/// Forgets cookieless salts older than 48 hours (keeps today's and
/// yesterday's). Salts exist only in memory, so nothing is left of them.
fn rotate_salts(inner: &CompactorHandle, now: Timestamp) -> u64 {
    let keep_from = now.day().plus(-1);
    let mut salts = inner.salts.lock();
    let before = salts.len();
    salts.retain(|d, _| *d >= keep_from);
    (before - salts.len()) as u64
}
