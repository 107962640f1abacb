//! A page store that hands every operation to the operating system's and
//! tells an observer of the writes and of its closing: what the tests that
//! count what an open writes or holds open watch through the Fs seam.

use redb::StorageBackend;
use std::io;
use std::ops::Bound;
use std::path::PathBuf;

/// What an [`Observed`] page store reports.
pub trait Observer: Send + Sync + std::fmt::Debug {
    /// A write at `offset` or a resize to `offset` bytes of `path`.
    fn wrote(&self, _path: &PathBuf, _offset: u64) {}
    /// The page store of `path` was dropped.
    fn closed(&self, _path: &PathBuf) {}
}

/// A page store reporting to `observer`.
#[derive(Debug)]
pub struct Observed<O: Observer> {
    pub inner: Box<dyn StorageBackend>,
    pub path: PathBuf,
    pub observer: O,
}

impl<O: Observer> Drop for Observed<O> {
    fn drop(&mut self) {
        self.observer.closed(&self.path);
    }
}

impl<O: Observer + 'static> StorageBackend for Observed<O> {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.observer.wrote(&self.path, len);
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.observer.wrote(&self.path, offset);
        self.inner.write(offset, data)
    }
    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }
    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.inner.try_lock_range(s, e)
    }
    fn try_lock_shared_range(
        &self,
        s: Bound<u64>,
        e: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.inner.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.inner.lock_range(s, e)
    }
    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.inner.lock_shared_range(s, e)
    }
    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.inner.unlock_range(s, e)
    }
    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.inner.query_lock_range(s, e)
    }
}
