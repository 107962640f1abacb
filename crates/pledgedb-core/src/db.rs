//! The database: a data directory, its domains, and the ingest entry point.

use crate::domain::Domain;
use crate::domain::shared::{DOMAINS_DIR, DomainShared};
use crate::error::{
    DomainError, HitError, HitField, HitProblem, IngestError, OpenError, StorageError,
};
use crate::geo::GeoDb;
use crate::hit::Hit;
use crate::identity::opt_out_hash;
use crate::ingest::{self, Context, DropReason, Ingested};
use crate::limits::{Limits, validate_domain_name};
use crate::settings::DomainSettings;
use crate::storage::global::GlobalFile;
use crate::storage::{create_dir, remove_file};
use crate::time::{Clock, Day, SystemClock};
use crate::writer::{Msg, WriterConfig, WriterPool};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How to open a data directory.
#[derive(Clone, Debug)]
pub struct Config {
    /// A MaxMind-format country database (GeoIP2/GeoLite2 Country or City,
    /// DB-IP lite, ip-location-db). Without one every country is `ZZ`.
    pub geoip: Option<PathBuf>,
    /// The clock. Tests pass a [`ManualClock`](crate::ManualClock).
    pub clock: Arc<dyn Clock>,
    /// Settings given to domains when they are created.
    pub domain_defaults: DomainSettings,
    /// Input limits.
    pub limits: Limits,
    /// Writer pool tuning.
    pub writer: WriterConfig,
    /// Create a domain the first time a hit names it. Default: true.
    pub create_domains_on_ingest: bool,
    /// Run the background compactor thread. Default: true.
    pub background_compaction: bool,
    /// The longest an erasure may wait for its physical purge. Default: one
    /// hour. The background compactor runs at least this often.
    pub erasure_deadline_ms: i64,
    /// The page-store backend of every file; `None` (the default) for
    /// redb's file backend. Tests pass backends that inject I/O errors.
    pub backend: Option<Arc<dyn crate::storage::BackendFactory>>,
    /// The file system every file operation of the engine goes through:
    /// the operating system's ([`OsFs`](crate::OsFs)) by default. A testing
    /// hook: tests put in a simulated disk that can lose power. With
    /// `backend` set, page stores come from `backend` instead.
    pub fs: Arc<dyn crate::Fs>,
    /// Day segments open at once, across every domain: opening a data
    /// directory opens none, a segment opens on first use, and the least
    /// recently used close beyond this many. Default: 128 (each keeps a
    /// 256 KiB page cache while open).
    pub max_open_segments: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            geoip: None,
            clock: Arc::new(SystemClock),
            domain_defaults: DomainSettings::default(),
            limits: Limits::default(),
            writer: WriterConfig::default(),
            create_domains_on_ingest: true,
            background_compaction: true,
            erasure_deadline_ms: 3_600_000,
            backend: None,
            fs: Arc::new(crate::OsFs),
            max_open_segments: 128,
        }
    }
}

impl Config {
    /// The default configuration with a GeoIP database.
    #[must_use]
    pub fn with_geoip(mut self, path: impl Into<PathBuf>) -> Self {
        self.geoip = Some(path.into());
        self
    }

    /// The default configuration with another clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// Counters behind the transparency report, kept since the directory was
/// created.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Hits dropped by the gate, by `drop_index`, not yet added to the
    /// durable counters of the global file.
    pub(crate) dropped: [AtomicU64; 6],
}

pub(crate) fn drop_index(r: DropReason) -> usize {
    match r {
        DropReason::OptedOut => 0,
        DropReason::DoNotTrack => 1,
        DropReason::GlobalPrivacyControl => 2,
        DropReason::NoConsent => 3,
        DropReason::Expired => 4,
        DropReason::SensitiveKeystroke => 5,
    }
}

pub(crate) struct DbInner {
    pub(crate) dir: PathBuf,
    pub(crate) config: Config,
    pub(crate) global: Mutex<GlobalFile>,
    pub(crate) opener: crate::storage::Opener,
    pub(crate) geo: Option<GeoDb>,
    pub(crate) domains: RwLock<HashMap<String, Arc<DomainShared>>>,
    pub(crate) writers: Mutex<Option<WriterPool>>,
    writer_count: usize,
    /// Senders of the writer pool, so ingest does not lock the pool.
    senders: Vec<crossbeam_channel::Sender<Msg>>,
    /// Held shared while sending, exclusively while closing, so no message
    /// is sent after the writers were told to stop.
    send_gate: RwLock<()>,
    pub(crate) opt_out_key: [u8; 16],
    pub(crate) opt_outs: RwLock<HashSet<u128>>,
    /// Cookieless salts by day, in memory only: never written to a file.
    pub(crate) salts: Mutex<HashMap<Day, [u8; 16]>>,
    pub(crate) counters: Counters,
    pub(crate) closed: AtomicBool,
    /// Serialises domain creation and removal.
    domain_lock: Mutex<()>,
    pub(crate) compactor: Mutex<Option<crate::compactor::Background>>,
    /// Domains of the catalog that could not be opened (a damaged control
    /// file), with the cause: never read, written or re-created.
    pub(crate) unavailable: std::collections::BTreeMap<String, String>,
    /// Domains whose compaction jobs failed in their last pass, by name.
    pub(crate) job_failures: Mutex<std::collections::BTreeMap<String, crate::health::JobFailure>>,
}

/// An open data directory. Cheap to clone; all clones share one engine.
/// Dropping the last clone flushes and stops the writers; call
/// [`Db::close`] to see the errors of that last flush.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<DbInner>,
    _closer: Arc<Closer>,
}

/// Closes the engine when the last `Db` clone goes away (domain handles keep
/// only the inner state, so they do not keep the writers alive).
struct Closer(Arc<DbInner>);

impl Drop for Closer {
    fn drop(&mut self) {
        let _ = self.0.shutdown();
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("dir", &self.inner.dir).finish()
    }
}

impl Db {
    /// Opens a data directory, creating it if needed.
    pub fn open(dir: impl AsRef<Path>, config: Config) -> Result<Db, OpenError> {
        let dir = dir.as_ref().to_path_buf();
        config
            .domain_defaults
            .validate()
            .map_err(OpenError::Config)?;
        if config.max_open_segments == 0 {
            return Err(OpenError::Config(
                "max_open_segments must be at least 1".into(),
            ));
        }
        if config.writer.block_events == 0 || config.writer.queue == 0 {
            return Err(OpenError::Config(
                "writer block_events and queue must be at least 1".into(),
            ));
        }
        let geo = match &config.geoip {
            Some(p) => Some(GeoDb::open(p)?),
            None => None,
        };
        create_dir(&*config.fs, &dir)?;
        create_dir(&*config.fs, &dir.join(DOMAINS_DIR))?;
        crate::storage::sweep_temporaries(&*config.fs, &dir)?;
        let opener = crate::storage::Opener::with_fs(
            Arc::clone(&config.fs),
            config.backend.clone(),
            &dir,
            config.max_open_segments,
        );
        let (mut global, state) = GlobalFile::open(&opener, &dir)?;
        global.purge_stored_salts()?;
        let pool = WriterPool::start(config.writer)?;
        let writer_count = pool.len();
        let mut domains = HashMap::new();
        let mut broken = std::collections::BTreeMap::new();
        for name in &state.domains {
            if validate_domain_name(name).is_err() {
                return Err(
                    StorageError::corrupt(&global.path, "invalid domain name in catalog").into(),
                );
            }
            match DomainShared::open(
                &opener,
                &dir,
                name,
                &config.domain_defaults,
                writer_index(name, writer_count),
            ) {
                Ok(shared) => {
                    domains.insert(name.clone(), Arc::new(shared));
                }
                // One domain whose control file is damaged never stops the
                // directory from opening: it is unavailable (no read, no
                // ingest, never re-created with a new secret) and reported,
                // and its files stay as they are for an operator.
                Err(e) if e.is_damage() => {
                    broken.insert(
                        name.clone(),
                        crate::text::redact_ips(&e.to_string()).into_owned(),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        let known: HashSet<&str> = domains
            .keys()
            .chain(broken.keys())
            .map(String::as_str)
            .collect();
        sweep_orphans(&*opener.fs, &dir.join(DOMAINS_DIR), &known)?;
        let inner = Arc::new(DbInner {
            dir,
            geo,
            global: Mutex::new(global),
            opener,
            domains: RwLock::new(domains),
            senders: pool.senders(),
            send_gate: RwLock::new(()),
            writers: Mutex::new(Some(pool)),
            writer_count,
            opt_out_key: state.opt_out_key,
            opt_outs: RwLock::new(state.opt_outs.into_iter().collect()),
            salts: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            domain_lock: Mutex::new(()),
            compactor: Mutex::new(None),
            job_failures: Mutex::new(std::collections::BTreeMap::new()),
            unavailable: broken,
            config,
        });
        let db = Db {
            _closer: Arc::new(Closer(Arc::clone(&inner))),
            inner,
        };
        crate::compactor::start(&db)?;
        Ok(db)
    }

    /// The data directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The clock the engine uses.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.config.clock
    }

    /// Ingests one hit: validates it, applies the privacy gate, derives the
    /// country, visitor and device, scrubs every string, and queues the
    /// resulting event for its domain's writer. On `Err` nothing was written.
    /// The event is durable after the next [`Db::flush`].
    pub fn ingest(&self, hit: Hit) -> Result<Ingested, IngestError> {
        match self.inner.prepare(hit)? {
            Prepared::Dropped(r) => Ok(Ingested::Dropped(r)),
            Prepared::Event(shared, p) => {
                let outcome = p.outcome();
                self.inner
                    .send(shared.writer, Msg::Event(shared, p))
                    .map_err(|_| IngestError::Closed)?;
                Ok(outcome)
            }
        }
    }

    /// Ingests many hits, sending them to the writers in groups. Returns one
    /// result per hit, in order; a bad hit does not stop the others. Each
    /// result is that hit's own: a hit that was dropped or refused keeps its
    /// result even if the group of another hit could not be sent, and only
    /// the hits of a group that did not reach its writer are `Closed`.
    pub fn ingest_batch(
        &self,
        hits: impl IntoIterator<Item = Hit>,
    ) -> Vec<Result<Ingested, IngestError>> {
        let hits = hits.into_iter();
        let mut results = Vec::with_capacity(hits.size_hint().0);
        // Most batches are for one domain: keep groups in a small list
        // found by pointer, not a map keyed by a cloned name. Each group
        // remembers which results are its own.
        let mut groups: Vec<Group> = Vec::new();
        for hit in hits {
            match self.inner.prepare(hit) {
                Err(e) => results.push(Err(e)),
                Ok(Prepared::Dropped(r)) => results.push(Ok(Ingested::Dropped(r))),
                Ok(Prepared::Event(shared, p)) => {
                    let index = results.len();
                    results.push(Ok(p.outcome()));
                    match groups.iter_mut().find(|g| Arc::ptr_eq(&g.shared, &shared)) {
                        Some(g) => {
                            g.pending.push(p);
                            g.results.push(index);
                        }
                        None => {
                            let mut pending = Vec::with_capacity(results.capacity());
                            pending.push(p);
                            groups.push(Group {
                                shared,
                                pending,
                                results: vec![index],
                            });
                        }
                    }
                }
            }
        }
        self.inner.send_groups(groups, &mut results);
        results
    }

    /// Returns when every hit ingested before the call is durable on disk.
    pub fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush()?;
        self.persist_counters()
    }

    /// Flushes and stops the writers. Further calls fail with
    /// `IngestError::Closed`.
    pub fn close(self) -> Result<(), StorageError> {
        self.inner.shutdown()
    }

    /// The handle of an existing domain.
    pub fn domain(&self, name: &str) -> Result<Domain, DomainError> {
        validate_domain_name(name)?;
        self.inner.check_available(name)?;
        let shared = self
            .inner
            .domains
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| DomainError::NotFound(crate::text::redact_ips(name).into_owned()))?;
        Ok(Domain::new(Arc::clone(&self.inner), shared))
    }

    /// The handle of a domain, creating the domain if it does not exist.
    pub fn create_domain(&self, name: &str) -> Result<Domain, DomainError> {
        validate_domain_name(name)?;
        self.inner.check_available(name)?;
        let shared = self.inner.domain_or_create(name)?;
        Ok(Domain::new(Arc::clone(&self.inner), shared))
    }

    /// Day segments open right now, across every domain (at most
    /// [`Config::max_open_segments`]; opening a directory opens none).
    #[must_use]
    pub fn open_segments(&self) -> usize {
        self.inner.opener.segments.len()
    }

    /// The names of all domains, sorted.
    #[must_use]
    pub fn domains(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.domains.read().keys().cloned().collect();
        v.sort();
        v
    }

    /// Records an opt-out token: from now on, hits carrying it are dropped
    /// before anything is written, on every domain (promise P3). The
    /// registry stores a keyed hash of the token, not the token.
    pub fn opt_out(&self, token: &str) -> Result<(), StorageError> {
        let h = opt_out_hash(&self.inner.opt_out_key, token);
        self.inner.global.lock().set_opt_out(h, true)?;
        self.inner.opt_outs.write().insert(h);
        Ok(())
    }

    /// Removes an opt-out token from the registry.
    pub fn opt_in(&self, token: &str) -> Result<(), StorageError> {
        let h = opt_out_hash(&self.inner.opt_out_key, token);
        self.inner.global.lock().set_opt_out(h, false)?;
        self.inner.opt_outs.write().remove(&h);
        Ok(())
    }

    /// Whether a token is opted out.
    #[must_use]
    pub fn is_opted_out(&self, token: &str) -> bool {
        self.inner
            .opt_outs
            .read()
            .contains(&opt_out_hash(&self.inner.opt_out_key, token))
    }
}

/// What the pipeline made of one hit.
pub(crate) enum Prepared {
    /// Dropped by the privacy gate or past retention: nothing was written,
    /// and no domain was created for it.
    Dropped(DropReason),
    /// The event to store, and the domain it goes to.
    Event(Arc<DomainShared>, crate::writer::Pending),
}

/// The events of one domain in a batch, and the positions of their results.
pub(crate) struct Group {
    pub(crate) shared: Arc<DomainShared>,
    pub(crate) pending: Vec<crate::writer::Pending>,
    pub(crate) results: Vec<usize>,
}

/// Which writer thread owns a domain.
fn writer_index(name: &str, writers: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = siphasher::sip::SipHasher13::new();
    name.hash(&mut h);
    (h.finish() % writers.max(1) as u64) as usize
}

impl DbInner {
    pub(crate) fn send(&self, writer: usize, msg: Msg) -> Result<(), StorageError> {
        let _gate = self.send_gate.read();
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::WriterGone);
        }
        self.senders
            .get(writer % self.senders.len().max(1))
            .ok_or(StorageError::WriterGone)?
            .send(msg)
            .map_err(|_| StorageError::WriterGone)
    }

    /// Refuses a domain of the catalog that could not be opened.
    pub(crate) fn check_available(&self, name: &str) -> Result<(), StorageError> {
        match self.unavailable.get(name) {
            Some(cause) => Err(StorageError::Damaged {
                path: self.dir.join(DOMAINS_DIR).join(name),
                what: format!("the domain is unavailable: {cause}"),
            }),
            None => Ok(()),
        }
    }

    /// Sends each group of a batch to its writer; the hits of a group that
    /// could not be sent, and only those, become `Closed`.
    pub(crate) fn send_groups(
        &self,
        groups: Vec<Group>,
        results: &mut [Result<Ingested, IngestError>],
    ) {
        for g in groups {
            let sent = self.send(
                g.shared.writer,
                Msg::Events(Arc::clone(&g.shared), g.pending),
            );
            if sent.is_err() {
                for i in g.results {
                    if let Some(r) = results.get_mut(i) {
                        *r = Err(IngestError::Closed);
                    }
                }
            }
        }
    }

    pub(crate) fn flush(&self) -> Result<(), StorageError> {
        match &*self.writers.lock() {
            Some(pool) => pool.flush(),
            None => Err(StorageError::WriterGone),
        }
    }

    pub(crate) fn shutdown(&self) -> Result<(), StorageError> {
        {
            let _gate = self.send_gate.write();
            if self.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
        }
        crate::compactor::stop(self);
        let pool = self.writers.lock().take();
        let flushed = match pool {
            Some(mut pool) => {
                let r = pool.flush();
                pool.stop();
                r
            }
            None => Ok(()),
        };
        // The drop counters of hits gated since the last flush.
        let counted = self.persist_counters();
        flushed.and(counted)
    }

    pub(crate) fn domain_or_create(&self, name: &str) -> Result<Arc<DomainShared>, StorageError> {
        if let Some(d) = self.domains.read().get(name) {
            return Ok(Arc::clone(d));
        }
        let _guard = self.domain_lock.lock();
        if let Some(d) = self.domains.read().get(name) {
            return Ok(Arc::clone(d));
        }
        let shared = Arc::new(DomainShared::open(
            &self.opener,
            &self.dir,
            name,
            &self.config.domain_defaults,
            writer_index(name, self.writer_count),
        )?);
        self.global
            .lock()
            .add_domain(name, self.config.clock.now().0)?;
        self.domains
            .write()
            .insert(name.to_string(), Arc::clone(&shared));
        Ok(shared)
    }

    /// Removes a domain and every file of it.
    pub(crate) fn erase_domain(&self, name: &str) -> Result<bool, StorageError> {
        let _guard = self.domain_lock.lock();
        let Some(shared) = self.domains.write().remove(name) else {
            return Ok(false);
        };
        shared.removed.store(true, Ordering::Release);
        let (tx, rx) = crossbeam_channel::bounded(1);
        if self
            .send(
                shared.writer,
                Msg::Forget {
                    domain: Arc::clone(&shared),
                    reply: tx,
                },
            )
            .is_ok()
        {
            let _ = rx.recv();
        }
        self.global.lock().remove_domain(name)?;
        shared.segments.clear();
        let dir = shared.dir.clone();
        drop(shared);
        // Unlink every file, then the directories.
        remove_tree(&*self.opener.fs, &dir)?;
        crate::storage::sync_dir(&*self.opener.fs, &self.dir.join(DOMAINS_DIR))?;
        Ok(true)
    }

    /// The cookieless salt of a day, created on first use. Salts live in
    /// memory only (promise P1): a restart starts the day with a new salt.
    pub(crate) fn salt(&self, day: Day) -> Result<[u8; 16], StorageError> {
        let mut salts = self.salts.lock();
        if let Some(s) = salts.get(&day) {
            return Ok(*s);
        }
        let mut s = [0u8; 16];
        getrandom::fill(&mut s)
            .map_err(|e| StorageError::randomness(&self.dir, "a cookieless salt", e))?;
        salts.insert(day, s);
        Ok(s)
    }

    /// The pipeline of one hit, in data-flow order: validate (once), gate,
    /// and only then find or create the domain and derive the event. A hit
    /// the gate drops writes nothing: no domain, no file, no catalog entry
    /// (promise P3); only the in-memory drop counter moves.
    pub(crate) fn prepare(&self, hit: Hit) -> Result<Prepared, IngestError> {
        self.prepare_with(hit, None)
    }

    /// [`prepare`](Self::prepare), or, with `history = Some(days)`, the same
    /// pipeline for an import of history (`crate::history`): hits up to
    /// `days` in the past are accepted (instead of `Limits::max_past_days`),
    /// and only those older than the aggregate retention are dropped as
    /// expired; the caller routes events past the raw retention to the
    /// aggregate file.
    pub(crate) fn prepare_with(
        &self,
        hit: Hit,
        history: Option<i64>,
    ) -> Result<Prepared, IngestError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(IngestError::Closed);
        }
        let existing = self.domains.read().get(&hit.domain).cloned();
        if existing.is_none() {
            validate_domain_name(&hit.domain)
                .map_err(|e| HitError::new(HitField::Domain, HitProblem::DomainName(e)))?;
            self.check_available(&hit.domain)?;
            if !self.config.create_domains_on_ingest {
                return Err(HitError::new(HitField::Domain, HitProblem::UnknownDomain).into());
            }
        }
        self.config.limits.check(&hit)?;
        let now = self.config.clock.now();
        let limits = crate::limits::Limits {
            max_past_days: history.unwrap_or(self.config.limits.max_past_days),
            ..self.config.limits
        };
        let ts = ingest::resolve_time(&hit, now, &limits)?;
        // A domain not created yet is judged by the settings it would get.
        let settings = match &existing {
            Some(shared) => Arc::clone(&*shared.settings.read()),
            None => Arc::new(self.config.domain_defaults.clone()),
        };
        let verdict = ingest::gate(&hit, &settings, |t| {
            self.opt_outs
                .read()
                .contains(&opt_out_hash(&self.opt_out_key, t))
        });
        let identified = match verdict {
            Ok(i) => i,
            Err(r) => return Ok(self.dropped(r)),
        };
        if let Err(r) = ingest::screen(&hit, &settings) {
            return Ok(self.dropped(r));
        }
        let cutoff = match history {
            None => settings.retention.cutoff(now),
            Some(_) => crate::history::aggregate_cutoff(&settings.retention, now),
        };
        if ts < cutoff {
            return Ok(self.dropped(DropReason::Expired));
        }
        let shared = match existing {
            Some(s) => s,
            None => self.domain_or_create(&hit.domain)?,
        };
        let salt = if ingest::needs_salt(&hit, identified) {
            Some(self.salt(ts.day())?)
        } else {
            None
        };
        let cx = Context {
            secret: &shared.secret,
            settings: &settings,
            geo: self.geo.as_ref(),
            salt,
        };
        let pending = ingest::transform(hit, ts, identified, &cx);
        Ok(Prepared::Event(shared, pending))
    }

    /// Counts a dropped hit.
    fn dropped(&self, r: DropReason) -> Prepared {
        self.counters.dropped[drop_index(r)].fetch_add(1, Ordering::Relaxed);
        Prepared::Dropped(r)
    }
}

/// Removes domain directories that are not in the catalog: what is left of a
/// domain whose removal was interrupted by a crash.
fn sweep_orphans(
    fs: &dyn crate::Fs,
    domains_dir: &Path,
    known: &HashSet<&str>,
) -> Result<(), StorageError> {
    let entries = fs
        .read_dir(domains_dir)
        .map_err(|e| StorageError::io(domains_dir, e))?;
    let mut removed = false;
    for entry in entries {
        let name = &entry.name;
        let is_known = name.to_str().is_some_and(|n| known.contains(n));
        if !is_known {
            let path = domains_dir.join(name);
            if entry.kind == crate::storage::fs::FileKind::Dir {
                remove_tree(fs, &path)?;
            } else {
                remove_file(fs, &path)?;
            }
            removed = true;
        }
    }
    if removed {
        crate::storage::sync_dir(fs, domains_dir)?;
    }
    Ok(())
}

/// Removes a directory tree, syncing each directory after its entries are
/// gone.
fn remove_tree(fs: &dyn crate::Fs, dir: &Path) -> Result<(), StorageError> {
    let entries = match fs.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    for entry in entries {
        let path = dir.join(&entry.name);
        if entry.kind == crate::storage::fs::FileKind::Dir {
            remove_tree(fs, &path)?;
        } else {
            remove_file(fs, &path)?;
        }
    }
    fs.remove_dir(dir).map_err(|e| StorageError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hit::Consent;

    /// A batch whose events could not reach the writers keeps the results
    /// of its dropped and refused hits; only the unsent events are `Closed`.
    #[test]
    fn a_failed_send_changes_only_the_results_of_the_unsent_hits() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            background_compaction: false,
            ..Config::default()
        };
        let db = Db::open(dir.path(), config).unwrap();
        db.opt_out("tok").unwrap();
        let hits = vec![
            Hit::page_view("a.example", "/").client_id("c"),
            Hit::page_view("a.example", "/").opt_out_token("tok"),
            Hit::page_view("Not A Domain", "/"),
            Hit::page_view("b.example", "/").consent(Consent::Denied),
        ];
        let mut results = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        for hit in hits {
            match db.inner.prepare(hit) {
                Err(e) => results.push(Err(e)),
                Ok(Prepared::Dropped(r)) => results.push(Ok(Ingested::Dropped(r))),
                Ok(Prepared::Event(shared, p)) => {
                    results.push(Ok(p.outcome()));
                    groups.push(Group {
                        shared,
                        pending: vec![p],
                        results: vec![results.len() - 1],
                    });
                }
            }
        }
        db.inner.closed.store(true, Ordering::Release);
        db.inner.send_groups(groups, &mut results);
        assert!(matches!(results[0], Err(IngestError::Closed)));
        assert!(matches!(
            results[1],
            Ok(Ingested::Dropped(DropReason::OptedOut))
        ));
        assert!(matches!(results[2], Err(IngestError::Hit(_))));
        assert!(matches!(results[3], Err(IngestError::Closed)));
        db.inner.closed.store(false, Ordering::Release);
    }
}
