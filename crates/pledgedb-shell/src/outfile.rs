//! Files the shell writes for the operator (`.export-visitor ID FILE`, the
//! history file) must never land inside the data directory: a copy of a
//! visitor's events there would survive that visitor's erasure, and the
//! engine's purge knows nothing of it. Every such write goes through
//! [`check_outside`] (or [`write_outside`]).

use crate::shell::{ShellError, fail};
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// How many symbolic links one path may pass through before it is refused.
const MAX_LINKS: usize = 40;

/// Why a path may not be written.
#[derive(Debug)]
pub enum Refusal {
    /// It resolves to a place inside the data directory.
    InsideData,
    /// It is a symbolic link whose target does not exist (writing would
    /// create the target, wherever it points).
    DanglingLink,
    /// It is an existing file with other hard links, one of which may be
    /// inside the data directory.
    HardLinked,
    /// It could not be resolved (too many links, unreadable parent, ...).
    Unresolvable(io::Error),
}

/// `path` made absolute against the working directory, with every symbolic
/// link of its existing part followed and every `.` and `..` resolved. The
/// part that does not exist yet cannot hold a link, so it is resolved by
/// name.
pub fn resolve(path: &Path) -> Result<PathBuf, Refusal> {
    resolve_depth(path, 0)
}

fn resolve_depth(path: &Path, depth: usize) -> Result<PathBuf, Refusal> {
    if depth > MAX_LINKS {
        return Err(Refusal::Unresolvable(io::Error::other(
            "too many levels of symbolic links",
        )));
    }
    let abs = std::path::absolute(path).map_err(Refusal::Unresolvable)?;
    let no_ancestor = || Refusal::Unresolvable(io::Error::other("no existing ancestor"));
    // The longest existing ancestor, canonicalized (links followed); `rest`
    // holds the components after it, last first.
    let mut base = abs.clone();
    let mut rest: Vec<OsString> = Vec::new();
    let canon = loop {
        if let Ok(c) = base.canonicalize() {
            break c;
        }
        // A link that exists but leads nowhere (or in a loop): follow it
        // by hand.
        if let Ok(m) = std::fs::symlink_metadata(&base)
            && m.file_type().is_symlink()
        {
            if rest.is_empty() {
                // Writing the file itself would create the link's target.
                return Err(Refusal::DanglingLink);
            }
            let target = std::fs::read_link(&base).map_err(Refusal::Unresolvable)?;
            let mut joined = base.parent().unwrap_or(Path::new("/")).join(target);
            for c in rest.iter().rev() {
                joined.push(c);
            }
            return resolve_depth(&joined, depth + 1);
        }
        match base.components().next_back() {
            Some(c @ (Component::Normal(_) | Component::ParentDir | Component::CurDir)) => {
                rest.push(c.as_os_str().to_owned());
            }
            _ => return Err(no_ancestor()),
        }
        if !base.pop() {
            return Err(no_ancestor());
        }
    };
    let mut out = canon;
    for c in rest.iter().rev() {
        if c == ".." {
            out.pop();
        } else if c != "." {
            out.push(c);
        }
    }
    Ok(out)
}

/// Whether `path` may be written by the shell, given the data directory.
pub fn check(data_dir: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let target = resolve(path)?;
    let data = resolve(data_dir)?;
    if target.starts_with(&data) {
        return Err(Refusal::InsideData);
    }
    if let Ok(m) = std::fs::metadata(&target) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if m.is_file() && m.nlink() > 1 {
                return Err(Refusal::HardLinked);
            }
        }
        #[cfg(not(unix))]
        let _ = m;
    }
    Ok(target)
}

/// [`check`] as a message for the operator: what was refused and why,
/// naming the path given and never what would have been written.
pub fn check_outside(data_dir: &Path, path: &Path) -> Result<PathBuf, ShellError> {
    check(data_dir, path).map_err(|r| {
        let shown = path.display();
        match r {
            Refusal::InsideData => fail(format!(
                "refusing to write {shown}: it is inside the data directory {}, where a copy \
                 would outlive an erasure; choose a file outside it",
                data_dir.display()
            )),
            Refusal::DanglingLink => fail(format!(
                "refusing to write {shown}: it is a symbolic link to a file that does not exist"
            )),
            Refusal::HardLinked => fail(format!(
                "refusing to write {shown}: the file has other hard links, which may be inside \
                 the data directory; remove it or choose another name"
            )),
            Refusal::Unresolvable(e) => fail(format!(
                "refusing to write {shown}: cannot tell where it leads ({e})"
            )),
        }
    })
}

/// `.open DIR` creates files too: DIR may be the open data directory itself
/// (a reopen) but not a place inside it, where a second data directory
/// would sit among the first one's files (and `domains/` is swept of what
/// its catalog does not know).
pub fn check_open(data_dir: &Path, dir: &Path) -> Result<(), ShellError> {
    let (Ok(new), Ok(data)) = (resolve(dir), resolve(data_dir)) else {
        // Opening it will report what is wrong with it.
        return Ok(());
    };
    if new != data && new.starts_with(&data) {
        return Err(fail(format!(
            "refusing to open {}: it is inside the data directory {}; choose a directory outside it",
            dir.display(),
            data_dir.display()
        )));
    }
    Ok(())
}

/// Writes `contents` to `path` after [`check_outside`].
pub fn write_outside(data_dir: &Path, path: &Path, contents: &[u8]) -> Result<(), ShellError> {
    let target = check_outside(data_dir, path)?;
    std::fs::write(&target, contents)
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(data.join("domains/shop.example")).unwrap();
        std::fs::create_dir_all(tmp.path().join("out")).unwrap();
        (tmp, data)
    }

    #[test]
    fn paths_into_the_data_directory_are_refused_in_every_spelling() {
        let (tmp, data) = setup();
        let t = tmp.path();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&data, t.join("link-to-data")).unwrap();
            std::os::unix::fs::symlink(data.join("x.json"), t.join("dangling.json")).unwrap();
            std::os::unix::fs::symlink(t.join("nowhere"), t.join("dangling-dir")).unwrap();
            std::os::unix::fs::symlink(data.join("domains"), t.join("out/inner")).unwrap();
            std::fs::write(data.join("kept.json"), b"{}").unwrap();
            std::os::unix::fs::symlink(data.join("kept.json"), t.join("out/alias.json")).unwrap();
            std::os::unix::fs::symlink("../data", t.join("out/rel-link")).unwrap();
        }
        let inside = [
            data.join("x.json"),
            data.join("domains/shop.example/x.json"),
            data.join("new/sub/x.json"),
            t.join("out/../data/x.json"),
            data.join("domains/../x.json"),
            t.join("nope/../data/new/./x.json"),
            data.clone(),
            #[cfg(unix)]
            t.join("link-to-data/x.json"),
            #[cfg(unix)]
            t.join("link-to-data/fresh/x.json"),
            #[cfg(unix)]
            t.join("out/inner/../x.json"),
            #[cfg(unix)]
            t.join("out/alias.json"),
            #[cfg(unix)]
            t.join("out/rel-link/x.json"),
            #[cfg(unix)]
            t.join("out/rel-link/new/../x.json"),
        ];
        for p in &inside {
            assert!(check(&data, p).is_err(), "{} was accepted", p.display());
        }
        #[cfg(unix)]
        assert!(matches!(
            check(&data, &t.join("dangling.json")),
            Err(Refusal::DanglingLink)
        ));
        let outside = [
            t.join("x.json"),
            t.join("out/x.json"),
            t.join("out/new/x.json"),
            data.join("../out/x.json"),
            t.join("data-copy/x.json"),
        ];
        for p in &outside {
            assert!(check(&data, p).is_ok(), "{} was refused", p.display());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_hard_link_to_a_file_is_refused() {
        let (tmp, data) = setup();
        let inner = data.join("kept.json");
        std::fs::write(&inner, b"{}").unwrap();
        let outer = tmp.path().join("out/alias.json");
        std::fs::hard_link(&inner, &outer).unwrap();
        assert!(matches!(check(&data, &outer), Err(Refusal::HardLinked)));
    }
}
