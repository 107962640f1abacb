//! The one seam between the engine and the file system.
//!
//! Every file-system operation on a data directory goes through a [`Fs`]:
//! creating and opening files (as redb page-store backends, through which
//! every write and `sync_data` of a page store passes), syncing a file by
//! path, renaming, unlinking, creating and removing directories, syncing a
//! directory, listing one, and the few small whole-file reads and writes of
//! the quarantine and the audit. [`OsFs`], the default, is the operating
//! system's; tests put in another through `Config::fs` (a simulated disk
//! that can lose power). The seam costs one dynamic call per file
//! operation, nothing per event: the page store's writes are redb's, in
//! whole batches.
//!
//! A test (`storage::fs::tests::no_direct_file_system_use_outside_the_seam`)
//! fails if any other module of the engine touches `std::fs` or a path's
//! file-system methods. The GeoIP database (an input the application names,
//! not part of the data directory) is read in `geo.rs` directly.

use std::ffi::OsString;
use std::io;
use std::path::Path;

/// What a directory entry or a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// Anything else (a symbolic link, a socket, ...).
    Other,
}

/// What [`Fs::metadata`] says about a path (without following a link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// What it is.
    pub kind: FileKind,
    /// Its length in bytes (files).
    pub len: u64,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name in its directory.
    pub name: OsString,
    /// What it is (not following a link).
    pub kind: FileKind,
}

/// The file-system operations of the engine. Every method works on one
/// path and returns the operating system's error kinds (`NotFound` for a
/// missing path), which the engine maps to typed errors.
///
/// Durability contract (what the engine relies on and a simulated disk
/// checks): data written through a backend is durable once that backend's
/// `sync_data` or [`Fs::sync_file`] on its path returned; a create, rename
/// or unlink in a directory is durable once [`Fs::sync_dir`] of that
/// directory returned.
pub trait Fs: Send + Sync + std::fmt::Debug {
    /// Opens the file at `path` as a page-store backend, creating it (empty)
    /// if it does not exist.
    fn open_backend(&self, path: &Path) -> io::Result<Box<dyn redb::StorageBackend>>;
    /// Flushes a file's data and size to the disk.
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    /// Flushes a directory's entries (creates, renames, unlinks in it).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Renames `from` to `to`, replacing a file at `to` atomically.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Unlinks a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates a directory and its missing parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Removes an empty directory.
    fn remove_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a directory and everything under it.
    fn remove_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// What `path` is, without following a link.
    fn metadata(&self, path: &Path) -> io::Result<Metadata>;
    /// The entries of a directory, in no particular order.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>>;
    /// The whole content of a file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Creates or truncates a file and writes `data` into it (not synced).
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()>;

    /// Whether something is at `path`.
    fn exists(&self, path: &Path) -> bool {
        self.metadata(path).is_ok()
    }
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool {
        self.metadata(path).is_ok_and(|m| m.kind == FileKind::Dir)
    }
}

/// The operating system's file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsFs;

fn kind_of(t: std::fs::FileType) -> FileKind {
    if t.is_file() {
        FileKind::File
    } else if t.is_dir() {
        FileKind::Dir
    } else {
        FileKind::Other
    }
}

impl Fs for OsFs {
    fn open_backend(&self, path: &Path) -> io::Result<Box<dyn redb::StorageBackend>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let backend =
            redb::backends::FileBackend::new(file).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Box::new(backend))
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        std::fs::File::open(path)?.sync_all()
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn remove_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::remove_dir(dir)
    }

    fn remove_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::remove_dir_all(dir)
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        let m = std::fs::symlink_metadata(path)?;
        Ok(Metadata {
            kind: kind_of(m.file_type()),
            len: m.len(),
        })
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            out.push(DirEntry {
                name: e.file_name(),
                kind: kind_of(e.file_type()?),
            });
        }
        Ok(out)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        std::fs::write(path, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What touches the file system without the seam: `std::fs`, a `File`
    /// or `OpenOptions`, redb's own file opening, and the file-system
    /// methods of `Path`.
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "File::",
        "OpenOptions",
        "FileBackend",
        "Database::create",
        "Database::open",
        "builder.create(",
        "builder.open(",
        ".exists()",
        ".is_dir()",
        ".is_file()",
        ".symlink_metadata()",
        ".read_dir()",
        ".metadata()",
        ".canonicalize()",
    ];

    /// Whether `line` holds `pattern` as a whole word start (`File::` but
    /// not `ControlFile::`).
    fn holds(line: &str, pattern: &str) -> bool {
        line.match_indices(pattern).any(|(i, _)| {
            !pattern.starts_with(char::is_alphabetic)
                || !line[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    /// The engine's code (test modules excluded: they build fixtures on a
    /// real temporary directory).
    fn engine_sources(dir: &Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                engine_sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if name == "tests.rs" || name.ends_with("_tests.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                let code = match text.find("#[cfg(test)]") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.push((p, code));
            }
        }
    }

    #[test]
    fn no_direct_file_system_use_outside_the_seam() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        engine_sources(&root, &mut files);
        assert!(files.len() > 20, "the sources were not found");
        let mut found = Vec::new();
        for (path, code) in &files {
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
            // The seam itself, and the GeoIP input file (not data).
            if rel == "storage/fs.rs" || rel == "geo.rs" {
                continue;
            }
            for (n, line) in code.lines().enumerate() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for f in FORBIDDEN {
                    if holds(line, f) {
                        found.push(format!("{rel}:{}: {f}", n + 1));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "file-system use outside storage/fs.rs: {found:#?}"
        );
    }

    #[test]
    fn the_check_sees_a_direct_use() {
        // The patterns match what they are meant to (the check can fail).
        let sample = "let b = std::fs::read(p)?; if path.exists() {} ControlFile::open(x)";
        let hits: Vec<_> = FORBIDDEN.iter().filter(|f| holds(sample, f)).collect();
        assert_eq!(hits, vec![&"std::fs", &".exists()"]);
        assert!(holds("let f = File::open(p);", "File::"));
    }

    #[test]
    fn os_fs_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = OsFs;
        let d = tmp.path().join("a/b");
        fs.create_dir_all(&d).unwrap();
        assert!(fs.is_dir(&d));
        let f = d.join("x");
        fs.write(&f, b"hello").unwrap();
        assert_eq!(fs.metadata(&f).unwrap().len, 5);
        fs.sync_file(&f).unwrap();
        fs.rename(&f, &d.join("y")).unwrap();
        fs.sync_dir(&d).unwrap();
        assert!(!fs.exists(&f));
        let names: Vec<_> = fs
            .read_dir(&d)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, vec![OsString::from("y")]);
        assert_eq!(fs.read(&d.join("y")).unwrap(), b"hello");
        fs.remove_file(&d.join("y")).unwrap();
        fs.remove_dir(&d).unwrap();
        assert_eq!(fs.metadata(&d).unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
