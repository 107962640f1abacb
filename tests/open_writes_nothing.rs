//! Opening a data directory that is already complete commits nothing in
//! any domain's files and creates, renames or removes no file, whatever the
//! number of domains (the one global file may commit once). (Each commit costs fsyncs; a directory of a thousand domains
//! took seconds to open while every control and aggregate file committed on
//! open.) What remains is redb's own mark in each file's header when it is
//! opened: one write at offset 0 and its sync.

mod common;

use common::{Env, start_time};
use pledgedb::{DirEntry, Fs, Hit, MS_PER_DAY, Metadata, OsFs};
use redb::StorageBackend;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The operating system's file system, counting every operation that
/// changes the disk.
#[derive(Debug, Default)]
struct Counting {
    changes: Arc<AtomicU64>,
    /// Page-store writes: (file, offset).
    writes: Arc<Mutex<Vec<(PathBuf, u64)>>>,
}

impl Counting {
    fn count(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct CountingBackend {
    inner: Box<dyn StorageBackend>,
    path: PathBuf,
    writes: Arc<Mutex<Vec<(PathBuf, u64)>>>,
}

impl StorageBackend for CountingBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.writes.lock().unwrap().push((self.path.clone(), len));
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.writes
            .lock()
            .unwrap()
            .push((self.path.clone(), offset));
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

impl Fs for Counting {
    fn open_backend(&self, path: &Path) -> io::Result<Box<dyn StorageBackend>> {
        Ok(Box::new(CountingBackend {
            inner: OsFs.open_backend(path)?,
            path: path.to_path_buf(),
            writes: Arc::clone(&self.writes),
        }))
    }
    fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.count();
        OsFs.sync_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.count();
        OsFs.sync_dir(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.count();
        OsFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.count();
        OsFs.remove_file(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.count();
        OsFs.create_dir_all(dir)
    }
    fn remove_dir(&self, dir: &Path) -> io::Result<()> {
        self.count();
        OsFs.remove_dir(dir)
    }
    fn remove_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.count();
        OsFs.remove_dir_all(dir)
    }
    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        OsFs.metadata(path)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        OsFs.read_dir(dir)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        OsFs.read(path)
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.count();
        OsFs.write(path, data)
    }
}

#[test]
fn reopening_a_complete_directory_changes_nothing_on_disk() {
    let env = Env::new();
    let db = env.open();
    let t = start_time();
    let domains: Vec<String> = (0..12).map(|i| format!("site{i}.example")).collect();
    let mut hits = Vec::new();
    for d in &domains {
        for day in 0..3i64 {
            hits.push(
                Hit::page_view(d.as_str(), "/")
                    .client_id("c")
                    .at(t.plus_millis(-day * MS_PER_DAY)),
            );
        }
    }
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    db.compact_now().unwrap();
    db.close().unwrap();

    let counting = Counting::default();
    let changes = Arc::clone(&counting.changes);
    let writes = Arc::clone(&counting.writes);
    let mut config = env.config();
    config.fs = Arc::new(counting);
    let db = pledgedb::Db::open(&env.data, config).unwrap();
    let mut names = db.domains();
    names.sort();
    let mut want = domains.clone();
    want.sort();
    assert_eq!(names, want);
    for d in &domains {
        assert_eq!(
            db.domain(d).unwrap().settings(),
            db.domain(d).unwrap().settings()
        );
    }
    assert_eq!(
        changes.load(Ordering::Relaxed),
        0,
        "opening a complete directory of {} domains created, renamed or removed files",
        domains.len()
    );
    let paged: Vec<(PathBuf, u64)> = writes
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, offset)| *offset != 0 && path.starts_with(env.data.join("domains")))
        .cloned()
        .collect();
    assert!(
        paged.is_empty(),
        "opening committed pages of domain files: {paged:?}"
    );
    // The engine still works on that directory, and its writes are seen.
    let _ = db
        .ingest(Hit::page_view("site0.example", "/x").client_id("d").at(t))
        .unwrap();
    db.flush().unwrap();
    assert!(
        writes
            .lock()
            .unwrap()
            .iter()
            .any(|(_, offset)| *offset != 0)
    );
}
