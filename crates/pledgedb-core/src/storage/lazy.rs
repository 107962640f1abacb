//! A per-domain file (control, aggregates) that is read once when the data
//! directory opens and held open only once it is used.
//!
//! An open redb file costs about 68 KiB of memory whatever its size (its
//! page-cache stripes, its allocator state and the pages read to open it):
//! two per domain made a directory of 1,000 domains take 136 MiB before any
//! question was asked. So opening a directory reads each domain's files
//! through a read-only handle that is dropped at once (a read-only handle
//! writes nothing when it closes), and the writable handle opens on the
//! first use that needs the file.
//!
//! A use that a background job makes of a file that was closed before it
//! closes the file again after (see [`LazyDb::with_transient`]), so the
//! compactor's daily pass over every domain leaves no file open.

use super::Opener;
use crate::error::StorageError;
use parking_lot::{RwLock, RwLockReadGuard};
use redb::{Database, ReadOnlyDatabase, ReadableDatabase};
use std::path::{Path, PathBuf};

/// One file of a domain, opened for writing on first use.
pub(crate) struct LazyDb {
    opener: Opener,
    path: PathBuf,
    db: RwLock<Option<Database>>,
}

impl LazyDb {
    /// A file not opened yet.
    pub(crate) fn closed(opener: &Opener, path: &Path) -> LazyDb {
        LazyDb {
            opener: opener.clone(),
            path: path.to_path_buf(),
            db: RwLock::new(None),
        }
    }

    /// A file already open (it was just created or repaired).
    pub(crate) fn open(opener: &Opener, path: &Path, db: Database) -> LazyDb {
        LazyDb {
            opener: opener.clone(),
            path: path.to_path_buf(),
            db: RwLock::new(Some(db)),
        }
    }

    /// Calls `f` with the open file, opening it first if needed; it stays
    /// open.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        if let Ok(db) = RwLockReadGuard::try_map(self.db.read(), Option::as_ref) {
            return f(&db);
        }
        self.with_mut(|db| f(db))
    }

    /// Calls `f` with the open file and the right to replace it (a fresh
    /// rewrite), no other use running; it stays open.
    pub(crate) fn with_mut<T>(
        &self,
        f: impl FnOnce(&mut Database) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut slot = self.db.write();
        let mut db = match slot.take() {
            Some(db) => db,
            None => self.opener.open(&self.path)?,
        };
        let out = f(&mut db);
        *slot = Some(db);
        out
    }

    /// Calls `f` with a read transaction of the file without keeping it
    /// open: the open handle if there is one, else a read-only handle
    /// dropped after (nothing written, nothing held). A file that cannot be
    /// opened read-only (it needs a repair) is opened and closed again.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        // Held while reading, so that no writable open races the read-only
        // handle.
        let slot = self.db.read();
        if let Some(db) = slot.as_ref() {
            return f(&db.begin_read()?);
        }
        let readable = matches!(
            self.opener.fs.metadata(&self.path),
            Ok(m) if m.kind == super::fs::FileKind::File && m.len > 0
        );
        match readable.then(|| self.opener.open_read_only(&self.path)) {
            Some(Ok(ro)) => super::quarantine::guarded(&self.path, || f(&ro.begin_read()?)),
            _ => {
                drop(slot);
                self.with_transient(|db| f(&db.begin_read()?))
            }
        }
    }

    /// [`with_mut`](Self::with_mut) for a background job: if the file was
    /// closed before, it is closed again after (dropping the handle flushes
    /// it), so a pass over every domain leaves no file open.
    pub(crate) fn with_transient<T>(
        &self,
        f: impl FnOnce(&mut Database) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut slot = self.db.write();
        match slot.take() {
            Some(mut db) => {
                let out = f(&mut db);
                *slot = Some(db);
                out
            }
            None => {
                let mut db = self.opener.open(&self.path)?;
                let out = f(&mut db);
                drop(db);
                out
            }
        }
    }
}

/// Reads a file that exists through a read-only handle, dropped before this
/// returns: no write, no sync, nothing held. `None` when the file is
/// missing or empty, or cannot be opened read-only (it needs the repair a
/// writable open makes after a crash, or it is damaged): the caller then
/// takes the writable path, which creates, repairs or reports it as before.
pub(crate) fn read_once<T>(
    opener: &Opener,
    path: &Path,
    f: impl FnOnce(&ReadOnlyDatabase) -> Result<T, StorageError>,
) -> Option<T> {
    match opener.fs.metadata(path) {
        Ok(m) if m.kind == super::fs::FileKind::File && m.len > 0 => {}
        _ => return None,
    }
    let db = opener.open_read_only(path).ok()?;
    super::quarantine::guarded(path, || f(&db)).ok()
}

#[cfg(test)]
impl LazyDb {
    /// Whether the writable handle is open now.
    pub(crate) fn is_open(&self) -> bool {
        self.db.read().is_some()
    }
}
