//! Opening a data directory leaves no file of any domain open: each
//! domain's control and aggregate files are read once and closed, its day
//! segments are listed, and a file opens only when a question or a write
//! needs it. (An open page store costs tens of KiB of memory whatever its
//! size; two per domain made a directory of a thousand domains hold over a
//! hundred MiB before anything was asked.)

mod common;
#[path = "common/observed.rs"]
mod observed;

use common::{Env, start_time};
use observed::{Observed, Observer};
use pledgedb::{DayRange, DirEntry, Fs, Hit, MS_PER_DAY, Metadata, OsFs, Query};
use redb::StorageBackend;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Page stores open now, by file.
type Live = Arc<Mutex<HashMap<PathBuf, usize>>>;

/// The operating system's file system, keeping count of the page stores
/// that are open.
#[derive(Debug, Default)]
struct Tracking {
    live: Live,
}

/// Counts a page store out of [`Live`] when it is dropped.
#[derive(Debug)]
struct Closing(Live);

impl Observer for Closing {
    fn closed(&self, path: &PathBuf) {
        let mut live = self.0.lock().unwrap();
        if let Some(n) = live.get_mut(path) {
            *n -= 1;
            if *n == 0 {
                live.remove(path);
            }
        }
    }
}

impl Fs for Tracking {
    fn open_backend(&self, path: &Path) -> io::Result<Box<dyn StorageBackend>> {
        let inner = OsFs.open_backend(path)?;
        *self
            .live
            .lock()
            .unwrap()
            .entry(path.to_path_buf())
            .or_default() += 1;
        Ok(Box::new(Observed {
            inner,
            path: path.to_path_buf(),
            observer: Closing(Arc::clone(&self.live)),
        }))
    }
    fn sync_file(&self, path: &Path) -> io::Result<()> {
        OsFs.sync_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        OsFs.sync_dir(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        OsFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        OsFs.remove_file(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        OsFs.create_dir_all(dir)
    }
    fn remove_dir(&self, dir: &Path) -> io::Result<()> {
        OsFs.remove_dir(dir)
    }
    fn remove_dir_all(&self, dir: &Path) -> io::Result<()> {
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
        OsFs.write(path, data)
    }
}

/// The open files under `dir`, relative to it, sorted.
fn open_under(live: &Live, dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = live
        .lock()
        .unwrap()
        .keys()
        .filter_map(|p| p.strip_prefix(dir).ok())
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn opening_a_directory_leaves_no_domain_file_open_until_it_is_used() {
    let env = Env::new();
    let t = start_time();
    let domains: Vec<String> = (0..8).map(|i| format!("site{i}.example")).collect();
    {
        let db = env.open();
        let mut hits = Vec::new();
        for d in &domains {
            for day in 1..4i64 {
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
    }

    let tracking = Tracking::default();
    let live = Arc::clone(&tracking.live);
    let mut config = env.config();
    config.fs = Arc::new(tracking);
    let db = pledgedb::Db::open(&env.data, config).unwrap();
    let domains_dir = env.data.join("domains");
    assert_eq!(db.domains(), domains);
    assert_eq!(
        open_under(&live, &domains_dir),
        Vec::<String>::new(),
        "opening the directory left domain files open"
    );
    // Reading every domain's erasure log (the transparency report does)
    // keeps none of them open.
    for d in &domains {
        assert!(db.domain(d).unwrap().erasure_log().unwrap().is_empty());
    }
    assert_eq!(open_under(&live, &domains_dir), Vec::<String>::new());
    let asked = db.domain("site3.example").unwrap();
    let days = DayRange::new(t.day().plus(-3), t.day().plus(-1));
    assert_eq!(asked.metrics(&Query::days(days)).unwrap().pageviews, 3);
    // The question opened that domain's three day segments, nothing else:
    // no aggregate file holds those days, so none was opened to ask.
    let open = open_under(&live, &domains_dir);
    assert_eq!(open.len(), 3, "{open:?}");
    assert!(
        open.iter()
            .all(|p| p.starts_with("site3.example/segments/")),
        "{open:?}"
    );
    // A write opens the file it writes, and only that one.
    let changed = db.domain("site5.example").unwrap();
    let mut s = changed.settings();
    s.min_aggregate_visitors += 1;
    changed.set_settings(s.clone()).unwrap();
    let control: Vec<String> = open_under(&live, &domains_dir)
        .into_iter()
        .filter(|p| !p.contains("/segments/"))
        .collect();
    assert_eq!(control, vec!["site5.example/control.redb".to_string()]);
    drop((asked, changed));
    db.close().unwrap();
    let db = env.open();
    assert_eq!(db.domain("site5.example").unwrap().settings(), s);
}
