//! Opening a data directory that is already complete commits nothing in
//! any domain's files and creates, renames or removes no file, whatever the
//! number of domains (the one global file may commit once). (Each commit costs fsyncs; a directory of a thousand domains
//! took seconds to open while every control and aggregate file committed on
//! open.) What remains is redb's own mark in each file's header when it is
//! opened: one write at offset 0 and its sync.

mod common;
#[path = "common/observed.rs"]
mod observed;

use common::{Env, start_time};
use observed::{Observed, Observer};
use pledgedb::{DirEntry, Fs, Hit, MS_PER_DAY, Metadata, OsFs};
use redb::StorageBackend;
use std::io;
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

/// Reports page-store writes: (file, offset).
#[derive(Debug)]
struct Writes(Arc<Mutex<Vec<(PathBuf, u64)>>>);

impl Observer for Writes {
    fn wrote(&self, path: &PathBuf, offset: u64) {
        self.0.lock().unwrap().push((path.clone(), offset));
    }
}

impl Fs for Counting {
    fn open_backend(&self, path: &Path) -> io::Result<Box<dyn StorageBackend>> {
        Ok(Box::new(Observed {
            inner: OsFs.open_backend(path)?,
            path: path.to_path_buf(),
            observer: Writes(Arc::clone(&self.writes)),
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
