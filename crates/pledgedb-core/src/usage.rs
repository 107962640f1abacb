//! Space on disk: how many bytes a data directory, or one domain of it,
//! takes. A front end shows these numbers without knowing the layout of the
//! directory.

use crate::db::Db;
use crate::domain::Domain;
use crate::storage::fs::{FileKind, Fs};
use std::path::Path;

/// Bytes of every file under `dir`, recursively, through the engine's file
/// system; what cannot be read counts as nothing (a file deleted while the
/// sum runs, a directory not there).
fn tree_bytes(fs: &dyn Fs, dir: &Path) -> u64 {
    let Ok(entries) = fs.read_dir(dir) else {
        return 0;
    };
    entries
        .iter()
        .map(|e| {
            let path = dir.join(&e.name);
            match e.kind {
                FileKind::Dir => tree_bytes(fs, &path),
                FileKind::File => fs.metadata(&path).map_or(0, |m| m.len),
                _ => 0,
            }
        })
        .sum()
}

impl Db {
    /// Bytes of every file of the data directory.
    #[must_use]
    pub fn disk_bytes(&self) -> u64 {
        tree_bytes(&*self.inner.opener.fs, self.path())
    }
}

impl Domain {
    /// Bytes of every file of this domain: its control file, aggregate file
    /// and day segments.
    #[must_use]
    pub fn disk_bytes(&self) -> u64 {
        tree_bytes(&*self.shared.opener.fs, &self.shared.dir)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Db, Hit};

    /// The directory holds at least the domain, the domain at least its
    /// segment, and a second domain adds to the directory, not to the first.
    #[test]
    fn disk_bytes_count_the_files_of_the_directory_and_of_each_domain() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Config::default()).unwrap();
        let _ = db
            .ingest(Hit::page_view("a.example", "/").client_id("c"))
            .unwrap();
        db.flush().unwrap();
        let a = db.domain("a.example").unwrap();
        let (a_before, total_before) = (a.disk_bytes(), db.disk_bytes());
        assert!(a_before > 0);
        assert!(total_before > a_before);
        for i in 0..50 {
            let _ = db
                .ingest(Hit::page_view("b.example", format!("/p{i}")).client_id("c"))
                .unwrap();
        }
        db.flush().unwrap();
        let b = db.domain("b.example").unwrap();
        assert!(b.disk_bytes() > 0);
        assert_eq!(a.disk_bytes(), a_before);
        assert!(db.disk_bytes() >= total_before + b.disk_bytes());
        db.erase_domain("b.example").unwrap();
        assert_eq!(b.disk_bytes(), 0);
    }
}
