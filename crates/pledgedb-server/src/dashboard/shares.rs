//! Read-only links to one site's dashboard. The link's token is shown once;
//! the store keeps only its SHA-256, the site and when it was made, so a
//! copy of the data directory cannot be turned back into working links.

use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file of the store, in the data directory.
pub const FILE: &str = "shares.json";

/// One link as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// A short public name of the link (the first 8 bytes of its hash).
    pub id: String,
    /// The SHA-256 of the token, hex.
    hash: String,
    /// The site the link shows.
    pub site: String,
    /// When it was made, milliseconds since the epoch (a number, so that
    /// the directory's IP audit never meets time text).
    pub created_ms: i64,
}

/// The links of a data directory.
pub struct Shares {
    path: PathBuf,
    list: Mutex<Vec<Share>>,
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Shares {
    /// Opens (or starts) the store of the data directory `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Shares> {
        let path = dir.join(FILE);
        let list = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is damaged: {e}", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(Shares {
            path,
            list: Mutex::new(list),
        })
    }

    /// Makes a link to `site`; returns its token (shown once) and record.
    pub fn create(&self, site: &str, created_ms: i64) -> std::io::Result<(String, Share)> {
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let hash = digest(&token);
        let share = Share {
            id: hash[..16].to_string(),
            hash,
            site: site.to_string(),
            created_ms,
        };
        let mut list = self.list.lock();
        let mut next = list.clone();
        next.push(share.clone());
        self.save(&next)?;
        *list = next;
        Ok((token, share))
    }

    /// The links of a site.
    pub fn of_site(&self, site: &str) -> Vec<Share> {
        self.list
            .lock()
            .iter()
            .filter(|s| s.site == site)
            .cloned()
            .collect()
    }

    /// The site a token opens, if it is a live link.
    pub fn resolve(&self, token: &str) -> Option<String> {
        if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let hash = digest(token);
        self.list
            .lock()
            .iter()
            .find(|s| s.hash == hash)
            .map(|s| s.site.clone())
    }

    /// Revokes the link `id` of `site`; false if there is none.
    pub fn revoke(&self, site: &str, id: &str) -> std::io::Result<bool> {
        let mut list = self.list.lock();
        let next: Vec<Share> = list
            .iter()
            .filter(|s| !(s.site == site && s.id == id))
            .cloned()
            .collect();
        if next.len() == list.len() {
            return Ok(false);
        }
        self.save(&next)?;
        *list = next;
        Ok(true)
    }

    /// Writes the whole list: a temporary file, fsync, rename, fsync the
    /// directory, so a crash leaves the old list or the new one.
    fn save(&self, list: &[Share]) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(list).map_err(std::io::Error::other)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}
