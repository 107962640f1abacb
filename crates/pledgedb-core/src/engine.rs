//! The engine's shared state: one per open data directory, shared by every
//! `Db` clone and every domain handle. It owns the parts and hands each user
//! a narrow handle (the pattern of fjall's keyspace and its supervisor):
//!
//! - the writer pool through a [`WriterLink`] (senders, close gate, flush);
//! - the compactor a [`CompactorHandle`]: the domains, the opener, the
//!   salts, the writer link and the configuration;
//! - a domain handle the [`EngineLink`] trait: configuration, flush,
//!   compactor wake-up.
//!
//! The ingest pipeline (`ingest.rs`) runs over this state; `db.rs` is the
//! public face that delegates to both.

use crate::compactor::CompactorHandle;
use crate::config::Config;
use crate::domain::EngineLink;
use crate::domain::shared::DomainShared;
use crate::error::{OpenError, StorageError};
use crate::geo::GeoDb;
use crate::limits::validate_domain_name;
use crate::storage::global::GlobalFile;
use crate::storage::{DOMAINS_DIR, Opener, create_dir, remove_file};
use crate::time::Day;
use crate::writer::{Msg, WriterLink};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters behind the transparency report, kept since the directory was
/// created.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Hits dropped by the gate, by `ingest::drop_index`, not yet added to
    /// the durable counters of the global file.
    pub(crate) dropped: [AtomicU64; 6],
}

/// The shared state of an open data directory.
pub(crate) struct Engine {
    pub(crate) dir: PathBuf,
    pub(crate) config: Arc<Config>,
    pub(crate) global: Arc<Mutex<GlobalFile>>,
    pub(crate) opener: Arc<Opener>,
    pub(crate) geo: Option<GeoDb>,
    pub(crate) domains: Arc<RwLock<HashMap<String, Arc<DomainShared>>>>,
    /// The writer pool.
    pub(crate) writers: Arc<WriterLink>,
    pub(crate) opt_out_key: [u8; 16],
    pub(crate) opt_outs: RwLock<HashSet<u128>>,
    /// Cookieless salts by day, in memory only: never written to a file.
    pub(crate) salts: Arc<Mutex<HashMap<Day, [u8; 16]>>>,
    pub(crate) counters: Counters,
    /// Serialises domain creation and removal.
    domain_lock: Mutex<()>,
    /// The compactor's handle on this state, and its thread.
    pub(crate) compactor: Arc<CompactorHandle>,
    /// Domains of the catalog that could not be opened (a damaged control
    /// file), with the cause: never read, written or re-created.
    pub(crate) unavailable: BTreeMap<String, String>,
}

/// Which writer thread owns a domain.
fn writer_index(name: &str, writers: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = siphasher::sip::SipHasher13::new();
    name.hash(&mut h);
    (h.finish() % writers.max(1) as u64) as usize
}

impl Engine {
    /// Opens a data directory, creating it if needed, and starts the
    /// writers and the background compactor.
    pub(crate) fn open(dir: PathBuf, config: Config) -> Result<Arc<Engine>, OpenError> {
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
        let opener = Arc::new(Opener::with_fs(
            Arc::clone(&config.fs),
            config.backend.clone(),
            &dir,
            config.max_open_segments,
        ));
        let (mut global, state) = GlobalFile::open(&opener, &dir)?;
        global.purge_stored_salts()?;
        let writers = Arc::new(WriterLink::start(config.writer)?);
        let writer_count = writers.len();
        let mut domains = HashMap::new();
        let mut broken = BTreeMap::new();
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
        let config = Arc::new(config);
        let domains = Arc::new(RwLock::new(domains));
        let salts = Arc::new(Mutex::new(HashMap::new()));
        let global = Arc::new(Mutex::new(global));
        let compactor = Arc::new(CompactorHandle::new(
            Arc::clone(&config),
            Arc::clone(&global),
            Arc::clone(&domains),
            Arc::clone(&opener),
            Arc::clone(&salts),
            Arc::clone(&writers),
        ));
        let engine = Arc::new(Engine {
            dir,
            geo,
            global,
            opener,
            domains,
            writers,
            opt_out_key: state.opt_out_key,
            opt_outs: RwLock::new(state.opt_outs.into_iter().collect()),
            salts,
            counters: Counters::default(),
            domain_lock: Mutex::new(()),
            compactor,
            unavailable: broken,
            config,
        });
        crate::compactor::start(&engine.compactor)?;
        Ok(engine)
    }

    pub(crate) fn send(&self, writer: usize, msg: Msg) -> Result<(), StorageError> {
        self.writers.send(writer, msg)
    }

    /// Whether the engine was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.writers.closed.load(Ordering::Acquire)
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

    pub(crate) fn flush(&self) -> Result<(), StorageError> {
        self.writers.flush()
    }

    /// Closes the gate, stops the compactor, then flushes and stops the
    /// writers. The caller persists the drop counters after.
    pub(crate) fn shutdown(&self) -> Result<(), StorageError> {
        if !self.writers.close() {
            return Ok(());
        }
        crate::compactor::stop(&self.compactor);
        self.writers.stop()
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
            writer_index(name, self.writers.len()),
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

impl EngineLink for Engine {
    fn config(&self) -> &Config {
        &self.config
    }

    fn flush(&self) -> Result<(), StorageError> {
        Engine::flush(self)
    }

    fn wake_compactor(&self) {
        crate::compactor::wake(&self.compactor);
    }
}
