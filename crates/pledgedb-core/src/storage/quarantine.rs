//! Quarantine: where a damaged file goes.
//!
//! A file the page store cannot open or read (garbage over a segment, a
//! directory where a segment or its temporary copy should be) is never read
//! as data, never deleted silently, and never allowed to stop the engine:
//! it is moved under `DATA/quarantine/`, keeping its path relative to the
//! data directory (`quarantine/domains/<domain>/segments/<day>.redb.<n>`),
//! with a `.cause` file beside it saying what failed. The health report and
//! the privacy report list every quarantined file until an operator deals
//! with it; the compactor deletes a quarantined segment once its day is past
//! the domain's raw-event retention, and counts it.

use crate::error::StorageError;
use crate::text::redact_ips;
use crate::time::Timestamp;
use parking_lot::Mutex;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Directory of quarantined files inside the data directory.
pub(crate) const QUARANTINE_DIR: &str = "quarantine";

/// One file set aside because it could not be read as what it should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuarantinedFile {
    /// Where the file was, relative to the data directory.
    pub original: PathBuf,
    /// Where it is now, relative to the data directory.
    pub path: PathBuf,
    /// What failed (never the file's contents).
    pub cause: String,
    /// When it was set aside, if known.
    pub at: Option<Timestamp>,
}

impl QuarantinedFile {
    /// The domain the file belonged to, if it was one of a domain's files
    /// (not the global file).
    #[must_use]
    pub fn domain(&self) -> Option<&str> {
        let mut parts = self.original.iter();
        match (parts.next(), parts.next()) {
            (Some(top), Some(name)) if top == super::DOMAINS_DIR => name.to_str(),
            _ => None,
        }
    }
}

/// The quarantine of one data directory, shared by everything that opens
/// files.
#[derive(Debug)]
pub(crate) struct Quarantine {
    fs: Arc<dyn super::fs::Fs>,
    root: PathBuf,
    files: Mutex<Vec<QuarantinedFile>>,
}

impl Quarantine {
    /// The quarantine of the data directory `root`, with the files an
    /// earlier run set aside.
    pub(crate) fn load(fs: Arc<dyn super::fs::Fs>, root: &Path) -> Arc<Quarantine> {
        let q = Quarantine {
            fs,
            root: root.to_path_buf(),
            files: Mutex::new(Vec::new()),
        };
        let base = root.join(QUARANTINE_DIR);
        let mut stack = vec![base.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            let Ok(entries) = q.fs.read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let p = dir.join(&e.name);
                let name = e.name.to_string_lossy().into_owned();
                if name.ends_with(".cause") {
                    continue;
                }
                let cause_file = sidecar(&p);
                let is_dir_entry = q.fs.is_dir(&p) && !q.fs.exists(&cause_file);
                if is_dir_entry {
                    stack.push(p);
                    continue;
                }
                let cause =
                    q.fs.read(&cause_file)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_else(|_| "unknown (set aside by an earlier run)".into());
                let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
                let original = p
                    .strip_prefix(&base)
                    .map(strip_serial)
                    .unwrap_or_else(|_| rel.clone());
                found.push(QuarantinedFile {
                    original,
                    path: rel,
                    cause: cause.trim().to_string(),
                    at: None,
                });
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        *q.files.lock() = found;
        Arc::new(q)
    }

    /// Moves `path` (a file or a directory) into the quarantine and records
    /// why. Returns where it went.
    pub(crate) fn set_aside(
        &self,
        path: &Path,
        cause: &str,
        now: Option<Timestamp>,
    ) -> Result<PathBuf, StorageError> {
        let rel = path
            .strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from(path.file_name().unwrap_or_default()));
        let base = self.root.join(QUARANTINE_DIR).join(&rel);
        let parent = super::parent_dir(&base).to_path_buf();
        super::create_dir(&*self.fs, &parent)?;
        let mut serial = 0u32;
        let target = loop {
            let mut s = base.as_os_str().to_owned();
            s.push(format!(".{serial}"));
            let t = PathBuf::from(s);
            if !self.fs.exists(&t) {
                break t;
            }
            serial += 1;
        };
        let cause = redact_ips(cause).into_owned();
        // The cause is synced before the file moves, so a power cut never
        // leaves a quarantined file with an empty cause beside it.
        self.fs
            .write(&sidecar(&target), format!("{cause}\n").as_bytes())
            .map_err(|e| StorageError::io(&target, e))?;
        super::sync_file(&*self.fs, &sidecar(&target))?;
        self.fs
            .rename(path, &target)
            .map_err(|e| StorageError::io(path, e))?;
        super::sync_dir(&*self.fs, &parent)?;
        super::sync_dir(&*self.fs, super::parent_dir(path))?;
        let entry = QuarantinedFile {
            original: rel,
            path: target
                .strip_prefix(&self.root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| target.clone()),
            cause,
            at: now,
        };
        self.files.lock().push(entry);
        Ok(target)
    }

    /// Every quarantined file.
    pub(crate) fn files(&self) -> Vec<QuarantinedFile> {
        self.files.lock().clone()
    }

    /// Deletes the quarantined files whose original path `doomed` accepts
    /// (segments past retention); returns how many.
    pub(crate) fn delete_where(
        &self,
        mut doomed: impl FnMut(&Path) -> bool,
    ) -> Result<u64, StorageError> {
        let mut files = self.files.lock();
        let mut n = 0;
        let mut kept = Vec::with_capacity(files.len());
        for f in files.drain(..) {
            if doomed(&f.original) {
                let p = self.root.join(&f.path);
                if self.fs.is_dir(&p) {
                    self.fs
                        .remove_dir_all(&p)
                        .map_err(|e| StorageError::io(&p, e))?;
                    super::sync_dir(&*self.fs, super::parent_dir(&p))?;
                } else {
                    super::remove_file(&*self.fs, &p)?;
                }
                super::remove_file(&*self.fs, &sidecar(&p))?;
                n += 1;
            } else {
                kept.push(f);
            }
        }
        *files = kept;
        Ok(n)
    }
}

/// Whether a quarantined file was a day segment of `domain` (by the path it
/// had: `domains/<domain>/segments/YYYY-MM-DD.redb`).
pub(crate) fn was_segment_of(original: &Path, domain: &str) -> bool {
    let mut parts = original.iter().map(|p| p.to_string_lossy());
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(top), Some(d), Some(dir), Some(file), None)
            if top == super::DOMAINS_DIR
                && d == domain
                && dir == super::segment::SEGMENT_DIR
                && super::segment::parse_segment_file_name(&file).is_some()
    )
}

/// The `.cause` file beside a quarantined file.
fn sidecar(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".cause");
    PathBuf::from(s)
}

/// `x/2026-11-02.redb.3` -> `x/2026-11-02.redb`.
fn strip_serial(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    match s.rsplit_once('.') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            PathBuf::from(head)
        }
        _ => p.to_path_buf(),
    }
}

/// Runs `f`, turning a panic of the page store into an error about `path`:
/// a damaged file never kills the thread that touched it.
pub(crate) fn guarded<T>(
    path: &Path,
    f: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(StorageError::Damaged {
                path: path.to_path_buf(),
                what: format!("the page store failed on this file: {}", redact_ips(&what)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_set_aside_is_listed_moved_and_listed_again_after_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let seg = dir.path().join("domains/a.example/segments");
        std::fs::create_dir_all(&seg).unwrap();
        let f = seg.join("2026-11-02.redb");
        std::fs::write(&f, b"garbage").unwrap();
        let q = Quarantine::load(Arc::new(crate::storage::fs::OsFs), dir.path());
        let to = q.set_aside(&f, "cannot open 203.0.113.9", None).unwrap();
        assert!(!f.exists());
        assert!(to.exists());
        let files = q.files();
        assert_eq!(files.len(), 1);
        assert_eq!(
            files[0].original,
            PathBuf::from("domains/a.example/segments/2026-11-02.redb")
        );
        assert!(!files[0].cause.contains("203.0.113.9"));
        let again = Quarantine::load(Arc::new(crate::storage::fs::OsFs), dir.path());
        assert_eq!(again.files()[0].original, files[0].original);
        assert_eq!(again.files()[0].cause, files[0].cause);
        let n = again
            .delete_where(|p| p.ends_with("2026-11-02.redb"))
            .unwrap();
        assert_eq!(n, 1);
        assert!(!to.exists());
        assert!(
            Quarantine::load(Arc::new(crate::storage::fs::OsFs), dir.path())
                .files()
                .is_empty()
        );
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let r: Result<(), StorageError> = guarded(Path::new("x"), || panic!("boom"));
        assert!(matches!(r, Err(StorageError::Damaged { .. })));
    }
}
