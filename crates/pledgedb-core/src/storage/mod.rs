//! The files of a data directory and how they are opened, written and
//! replaced. See `docs/design.md` for the layout.
//!
//! ```text
//! DATA/
//!   pledgedb.redb                 global file: format, domain catalog, opt-out registry, salts, counters
//!   domains/<domain>/control.redb secret, settings, tombstones, erasure log
//!   domains/<domain>/aggregates.redb   anonymous daily roll-ups of expired days (aggregate TTL)
//!   domains/<domain>/segments/YYYY-MM-DD.redb   one file of events (and its roll-up) per UTC day
//! ```

pub(crate) mod aggregates;
pub(crate) mod control;
pub(crate) mod events;
pub mod fs;
pub(crate) mod global;
pub(crate) mod import_record;
pub(crate) mod lazy;
pub(crate) mod quarantine;
pub(crate) mod reader;
pub(crate) mod segment;
pub(crate) mod segments;

use crate::error::StorageError;
use fs::Fs;
use redb::Database;
use std::path::{Path, PathBuf};

/// Directory of the domain partitions inside the data directory.
pub(crate) const DOMAINS_DIR: &str = "domains";

/// The data directory format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Page cache per open file. Segment files are read in large sequential
/// blocks, so a small cache per file keeps memory flat however many files are
/// open.
const CACHE_BYTES: usize = 256 << 10;

/// Supplies the page-store backend of each file the engine opens. The
/// default is redb's file backend; tests pass a factory whose backends
/// inject I/O errors, or keep files in memory.
pub trait BackendFactory: Send + Sync + std::fmt::Debug {
    /// The backend for the file at `path` (which is created if missing).
    fn backend(&self, path: &Path) -> std::io::Result<Box<dyn redb::StorageBackend>>;
}

use std::ops::Bound;

/// Forwards every method, locking included, to a boxed backend (redb takes
/// backends by value).
#[derive(Debug)]
struct Boxed(Box<dyn redb::StorageBackend>);

impl redb::StorageBackend for Boxed {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.0.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.0.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.0.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.0.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.0.write(offset, data)
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.0.close()
    }
    fn try_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.0.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.0.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.lock_range(start, end)
    }
    fn lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<(), redb::BackendError> {
        self.0.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.unlock_range(start, end)
    }
    fn query_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.0.query_lock_range(start, end)
    }
}

/// Opens redb files with the engine's settings and the configured backend,
/// and knows the data directory's quarantine.
#[derive(Clone, Debug)]
pub(crate) struct Opener {
    /// The file system every file operation goes through.
    pub(crate) fs: std::sync::Arc<dyn Fs>,
    factory: Option<std::sync::Arc<dyn BackendFactory>>,
    pub(crate) quarantine: std::sync::Arc<quarantine::Quarantine>,
    /// The open segments of the whole data directory, least recently used
    /// first out.
    pub(crate) segments: std::sync::Arc<segments::SegmentCache>,
}

impl Opener {
    /// An opener on the operating system's file system (unit tests).
    #[cfg(test)]
    pub(crate) fn new(
        factory: Option<std::sync::Arc<dyn BackendFactory>>,
        root: &Path,
        max_open_segments: usize,
    ) -> Self {
        Self::with_fs(
            std::sync::Arc::new(fs::OsFs),
            factory,
            root,
            max_open_segments,
        )
    }

    /// An opener whose file operations go through `fs`.
    pub(crate) fn with_fs(
        fs: std::sync::Arc<dyn Fs>,
        factory: Option<std::sync::Arc<dyn BackendFactory>>,
        root: &Path,
        max_open_segments: usize,
    ) -> Self {
        Opener {
            quarantine: quarantine::Quarantine::load(std::sync::Arc::clone(&fs), root),
            fs,
            factory,
            segments: segments::SegmentCache::new(max_open_segments),
        }
    }

    /// Opens a redb file, creating it if it does not exist. A new file is
    /// created under a temporary name and renamed into place once redb has
    /// written its header, so a failure (a full disk) or a crash during the
    /// creation never leaves a file under the real name that no later open
    /// accepts.
    pub(crate) fn open(&self, path: &Path) -> Result<Database, StorageError> {
        if let Ok(meta) = self.fs.metadata(path) {
            // A file under its real name always holds at least a header (it
            // was created under a temporary name): an empty one was emptied,
            // and opening it would silently make a new, empty database.
            if meta.kind == fs::FileKind::File && meta.len == 0 {
                return Err(StorageError::Damaged {
                    path: path.to_path_buf(),
                    what: "the file is empty".into(),
                });
            }
            return self.open_raw(path);
        }
        let new = new_path(path);
        clear_temporary(self, &new)?;
        let db = self.open_raw(&new)?;
        sync_file(&*self.fs, &new)?;
        replace_file(&*self.fs, &new, path)?;
        Ok(db)
    }

    /// Opens an existing redb file read-only: nothing is written to it, not
    /// even when it closes. Refused if the file needs a repair.
    pub(crate) fn open_read_only(
        &self,
        path: &Path,
    ) -> Result<redb::ReadOnlyDatabase, StorageError> {
        quarantine::guarded(path, || {
            let mut builder = Database::builder();
            builder.set_cache_size(CACHE_BYTES);
            let backend = match &self.factory {
                None => self.fs.open_backend(path),
                Some(f) => f.backend(path),
            }
            .map_err(|e| StorageError::io(path, e))?;
            Ok(builder.open_read_only_with_backend(Boxed(backend))?)
        })
    }

    /// Opens or creates a redb file in place (for temporary files).
    pub(crate) fn open_raw(&self, path: &Path) -> Result<Database, StorageError> {
        quarantine::guarded(path, || {
            let mut builder = Database::builder();
            builder.set_cache_size(CACHE_BYTES);
            let backend = match &self.factory {
                None => self.fs.open_backend(path),
                Some(f) => f.backend(path),
            }
            .map_err(|e| StorageError::io(path, e))?;
            Ok(builder.create_with_backend(Boxed(backend))?)
        })
    }
}

/// Flushes a directory entry to disk, so that a create, rename or unlink in
/// it survives a crash.
pub(crate) fn sync_dir(fs: &dyn Fs, dir: &Path) -> Result<(), StorageError> {
    fs.sync_dir(dir).map_err(|e| StorageError::io(dir, e))
}

/// The directory holding `path` (`.` for a bare relative name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Creates a directory and its missing parents, syncing the parent of each
/// directory it creates: a power cut never loses a directory entry (and
/// with it every file below) that this call reported created.
pub(crate) fn create_dir(fs: &dyn Fs, dir: &Path) -> Result<(), StorageError> {
    if fs.is_dir(dir) {
        return Ok(());
    }
    let mut missing = vec![dir];
    let mut up = dir.parent();
    while let Some(p) = up.filter(|p| !p.as_os_str().is_empty() && !fs.is_dir(p)) {
        missing.push(p);
        up = p.parent();
    }
    fs.create_dir_all(dir)
        .map_err(|e| StorageError::io(dir, e))?;
    for d in missing.into_iter().rev() {
        sync_dir(fs, parent_dir(d))?;
    }
    Ok(())
}

/// Atomically replaces `target` with the fully written and synced `tmp`:
/// rename over, then sync the directory. A crash at any point leaves either
/// the old or the new file under `target`, never neither.
pub(crate) fn replace_file(fs: &dyn Fs, tmp: &Path, target: &Path) -> Result<(), StorageError> {
    fs.rename(tmp, target)
        .map_err(|e| StorageError::io(target, e))?;
    sync_dir(fs, parent_dir(target))
}

/// Unlinks a file and syncs its directory.
pub(crate) fn remove_file(fs: &dyn Fs, path: &Path) -> Result<(), StorageError> {
    match fs.remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StorageError::io(path, e)),
    }
    sync_dir(fs, parent_dir(path))
}

/// Clears the way for a temporary file at `tmp`: removes a leftover file,
/// and sets aside anything else found under that name (a directory, say),
/// so that a stray entry can never block a rewrite.
pub(crate) fn clear_temporary(opener: &Opener, tmp: &Path) -> Result<(), StorageError> {
    match opener.fs.metadata(tmp) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io(tmp, e)),
        Ok(m) if m.kind == fs::FileKind::File => remove_file(&*opener.fs, tmp),
        Ok(_) => opener
            .quarantine
            .set_aside(tmp, "not a file where a temporary copy is written", None)
            .map(|_| ()),
    }
}

/// The temporary name a file is written under before it replaces `path`.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// The temporary name a new file is created under.
pub(crate) fn new_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

/// Deletes what an interrupted creation or rewrite left in a directory:
/// `*.new` and `*.tmp` files. The files they were to replace are intact.
pub(crate) fn sweep_temporaries(fs: &dyn Fs, dir: &Path) -> Result<(), StorageError> {
    let entries = match fs.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    for entry in entries {
        let name = entry.name.to_string_lossy();
        if (name.ends_with(".tmp") || name.ends_with(".new")) && entry.kind == fs::FileKind::File {
            remove_file(fs, &dir.join(&entry.name))?;
        }
    }
    Ok(())
}

/// Fsyncs a file by path (used after a fresh file was written and closed).
pub(crate) fn sync_file(fs: &dyn Fs, path: &Path) -> Result<(), StorageError> {
    fs.sync_file(path).map_err(|e| StorageError::io(path, e))
}

/// Reads a little-endian u32 from a stored record.
pub(crate) fn le_u32(path: &Path, what: &str, b: &[u8]) -> Result<u32, StorageError> {
    let arr: [u8; 4] = b
        .try_into()
        .map_err(|_| StorageError::corrupt(path, format!("{what} is not 4 bytes")))?;
    Ok(u32::from_le_bytes(arr))
}

/// Copies every row of one table from a read transaction into a write
/// transaction.
pub(crate) fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    rx: &redb::ReadTransaction,
    tx: &redb::WriteTransaction,
    def: redb::TableDefinition<K, V>,
) -> Result<(), StorageError> {
    use redb::ReadableTable;
    let src = match rx.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut dst = tx.open_table(def)?;
    for row in src.iter()? {
        let (k, v) = row?;
        dst.insert(k.value(), v.value())?;
    }
    Ok(())
}

/// Replaces a small redb file by a fresh copy holding only its live rows, so
/// that no freed page keeps a deleted record. `copy` moves the tables; the
/// copy is synced, renamed over the original and the directory synced; the
/// returned database is the fresh file, opened.
pub(crate) fn rewrite_fresh(
    opener: &Opener,
    path: &Path,
    old: &Database,
    copy: impl FnOnce(&redb::ReadTransaction, &redb::WriteTransaction) -> Result<(), StorageError>,
) -> Result<Database, StorageError> {
    use redb::ReadableDatabase;
    let tmp = tmp_path(path);
    clear_temporary(opener, &tmp)?;
    {
        let mut fresh = opener.open_raw(&tmp)?;
        let mut tx = fresh.begin_write()?;
        tx.set_durability(redb::Durability::Immediate)
            .map_err(|e| StorageError::Redb(e.into()))?;
        let rx = old.begin_read()?;
        copy(&rx, &tx)?;
        tx.commit()?;
        drop(rx);
        fresh.compact()?;
    }
    sync_file(&*opener.fs, &tmp)?;
    replace_file(&*opener.fs, &tmp, path)?;
    opener.open(path)
}
