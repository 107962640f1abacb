//! The public face of a data directory: [`Db`] and its methods, which
//! delegate to the engine's shared state (`engine.rs`), the ingest pipeline
//! (`ingest.rs`) and the compactor. Other `impl Db` blocks sit with their
//! concern: `history.rs`, `health.rs`, `report.rs`.

use crate::compactor::CompactionReport;
use crate::domain::Domain;
use crate::engine::Engine;
use crate::error::{DomainError, IngestError, OpenError, StorageError};
use crate::hit::Hit;
use crate::identity::opt_out_hash;
use crate::ingest::Ingested;
use crate::limits::validate_domain_name;
use crate::time::Clock;
use std::path::Path;
use std::sync::Arc;

pub use crate::config::Config;

/// An open data directory. Cheap to clone; all clones share one engine.
/// Dropping the last clone flushes and stops the writers; call
/// [`Db::close`] to see the errors of that last flush.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<Engine>,
    _closer: Arc<Closer>,
}

/// Closes the engine when the last `Db` clone goes away (domain handles keep
/// only the inner state, so they do not keep the writers alive).
struct Closer(Arc<Engine>);

impl Drop for Closer {
    fn drop(&mut self) {
        let _ = close_engine(&self.0);
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
        let inner = Engine::open(dir.as_ref().to_path_buf(), config)?;
        Ok(Db {
            _closer: Arc::new(Closer(Arc::clone(&inner))),
            inner,
        })
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
        self.inner.ingest_one(hit)
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
        self.inner.ingest_many(hits)
    }

    /// Returns when every hit ingested before the call is durable on disk.
    pub fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush()?;
        self.persist_counters()
    }

    /// Flushes and stops the writers. Further calls fail with
    /// `IngestError::Closed`.
    pub fn close(self) -> Result<(), StorageError> {
        close_engine(&self.inner)
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
        Ok(Domain::new(self.inner.clone(), shared))
    }

    /// The handle of a domain, creating the domain if it does not exist.
    pub fn create_domain(&self, name: &str) -> Result<Domain, DomainError> {
        validate_domain_name(name)?;
        self.inner.check_available(name)?;
        let shared = self.inner.domain_or_create(name)?;
        Ok(Domain::new(self.inner.clone(), shared))
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

    /// Runs every pending compaction job (expiry, erasure purges, salt
    /// rotation, tombstone expiry) and returns when all are done.
    pub fn compact_now(&self) -> Result<CompactionReport, StorageError> {
        crate::compactor::run(&self.inner.compactor, true)
    }

    /// Removes a whole domain: every file of it is unlinked and its secret
    /// with it. Returns `false` if there was no such domain.
    pub fn erase_domain(&self, name: &str) -> Result<bool, DomainError> {
        validate_domain_name(name)?;
        Ok(self.inner.erase_domain(name)?)
    }
}

/// Flushes and stops the writers and the compactor, then adds the drop
/// counters of hits gated since the last flush to the durable ones.
fn close_engine(inner: &Engine) -> Result<(), StorageError> {
    let flushed = inner.shutdown();
    let counted = inner.persist_counters();
    flushed.and(counted)
}
