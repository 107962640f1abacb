//! Scratch directories for fuzz targets that open databases.

use std::path::{Path, PathBuf};

/// A scratch directory, in memory when `/dev/shm` exists (every commit of
/// the engine syncs). libFuzzer ends a process with `exit`, which skips
/// destructors, so each process keeps its directories under
/// `pledgedb-fuzz.<pid>` and the first call of a process removes those of
/// processes that are gone.
pub fn scratch_dir() -> tempfile::TempDir {
    static PARENT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let parent = PARENT.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name();
                let pid = name.to_str().and_then(|n| n.strip_prefix("pledgedb-fuzz."));
                if let Some(pid) = pid
                    && pid.parse::<u32>().is_ok()
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("pledgedb-fuzz.{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch parent");
        dir
    });
    tempfile::tempdir_in(parent).expect("tempdir")
}
