//! The global file: format version, domain catalog, opt-out registry (as
//! keyed hashes, never the tokens), and the counters of the transparency
//! report.
//!
//! The daily salts of cookieless mode are never stored: with a salt and the
//! domain's secret beside the visitor ids, an exhaustive search over a small
//! address range would lead from an id back to an IP. A `salts` table
//! written by an earlier version is emptied, and the file rewritten fresh,
//! when the file is opened.

use super::{FORMAT_VERSION, Opener, le_u32};
use crate::error::{OpenError, StorageError};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const DOMAINS: TableDefinition<&str, i64> = TableDefinition::new("domains");
pub(crate) const OPT_OUTS: TableDefinition<u128, ()> = TableDefinition::new("opt_outs");
pub(crate) const SALTS: TableDefinition<i32, &[u8]> = TableDefinition::new("salts");
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// File name of the global file inside the data directory.
pub(crate) const GLOBAL_FILE: &str = "pledgedb.redb";

pub(crate) struct GlobalFile {
    opener: Opener,
    pub(crate) path: PathBuf,
    pub(crate) db: Database,
}

/// What the global file holds, loaded at open.
pub(crate) struct GlobalState {
    pub(crate) opt_out_key: [u8; 16],
    pub(crate) domains: Vec<String>,
    pub(crate) opt_outs: Vec<u128>,
}

impl GlobalFile {
    pub(crate) fn open(
        opener: &Opener,
        dir: &Path,
    ) -> Result<(GlobalFile, GlobalState), OpenError> {
        let path = dir.join(GLOBAL_FILE);
        let db = opener.open(&path)?;
        let file = GlobalFile {
            opener: opener.clone(),
            path,
            db,
        };
        let state = file.init_and_load()?;
        Ok((file, state))
    }

    fn init_and_load(&self) -> Result<GlobalState, OpenError> {
        let tx = self.db.begin_write().map_err(StorageError::from)?;
        let opt_out_key;
        {
            let mut meta = tx.open_table(META).map_err(StorageError::from)?;
            let format = meta
                .get("format")
                .map_err(StorageError::from)?
                .map(|v| le_u32(&self.path, "format", v.value()))
                .transpose()?;
            match format {
                Some(FORMAT_VERSION) => {}
                Some(found) => {
                    return Err(OpenError::UnsupportedFormat {
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
                None => {
                    meta.insert("format", FORMAT_VERSION.to_le_bytes().as_slice())
                        .map_err(StorageError::from)?;
                }
            }
            let existing = meta
                .get("opt_out_key")
                .map_err(StorageError::from)?
                .map(|v| v.value().to_vec());
            opt_out_key = match existing {
                Some(k) => k.try_into().map_err(|_| {
                    StorageError::corrupt(&self.path, "opt_out_key is not 16 bytes")
                })?,
                None => {
                    let mut k = [0u8; 16];
                    getrandom::fill(&mut k)
                        .map_err(|e| StorageError::randomness(&self.path, "the opt-out key", e))?;
                    meta.insert("opt_out_key", k.as_slice())
                        .map_err(StorageError::from)?;
                    k
                }
            };
            tx.open_table(DOMAINS).map_err(StorageError::from)?;
            tx.open_table(OPT_OUTS).map_err(StorageError::from)?;
            tx.open_table(SALTS).map_err(StorageError::from)?;
            tx.open_table(COUNTERS).map_err(StorageError::from)?;
        }
        tx.commit().map_err(StorageError::from)?;

        let rx = self.db.begin_read().map_err(StorageError::from)?;
        let mut domains = Vec::new();
        for row in rx
            .open_table(DOMAINS)
            .map_err(StorageError::from)?
            .iter()
            .map_err(StorageError::from)?
        {
            let (k, _) = row.map_err(StorageError::from)?;
            domains.push(k.value().to_string());
        }
        let mut opt_outs = Vec::new();
        for row in rx
            .open_table(OPT_OUTS)
            .map_err(StorageError::from)?
            .iter()
            .map_err(StorageError::from)?
        {
            opt_outs.push(row.map_err(StorageError::from)?.0.value());
        }
        Ok(GlobalState {
            opt_out_key,
            domains,
            opt_outs,
        })
    }

    pub(crate) fn add_domain(&self, name: &str, created_ms: i64) -> Result<(), StorageError> {
        let tx = self.db.begin_write()?;
        tx.open_table(DOMAINS)?.insert(name, created_ms)?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn remove_domain(&self, name: &str) -> Result<(), StorageError> {
        let tx = self.db.begin_write()?;
        tx.open_table(DOMAINS)?.remove(name)?;
        tx.commit()?;
        Ok(())
    }

    /// Adds or removes an opt-out hash; returns whether the registry
    /// changed. A new opt-out also counts in the `opt_outs` counter, in the
    /// same commit.
    pub(crate) fn set_opt_out(&self, hash: u128, on: bool) -> Result<bool, StorageError> {
        let tx = self.db.begin_write()?;
        let changed;
        {
            let mut t = tx.open_table(OPT_OUTS)?;
            changed = if on {
                t.insert(hash, ())?.is_none()
            } else {
                t.remove(hash)?.is_some()
            };
            if on && changed {
                let mut c = tx.open_table(COUNTERS)?;
                let cur = c.get("opt_outs")?.map_or(0, |v| v.value());
                c.insert("opt_outs", cur.saturating_add(1))?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Removes every cookieless salt an earlier version stored, and
    /// rewrites the file fresh so that no freed page keeps one. Returns how
    /// many there were.
    pub(crate) fn purge_stored_salts(&mut self) -> Result<usize, StorageError> {
        // Nothing stored (every directory since salts left the files): a
        // read, no commit.
        {
            let rx = self.db.begin_read()?;
            match rx.open_table(SALTS) {
                Ok(t) if t.is_empty()? => return Ok(0),
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let tx = self.db.begin_write()?;
        let n;
        {
            let mut t = tx.open_table(SALTS)?;
            let old: Vec<i32> = t
                .iter()?
                .map(|r| r.map(|(k, _)| k.value()))
                .collect::<Result<_, _>>()?;
            n = old.len();
            for d in old {
                t.remove(d)?;
            }
        }
        tx.commit()?;
        if n > 0 {
            self.rewrite()?;
        }
        Ok(n)
    }

    pub(crate) fn add_counter(&self, name: &str, by: u64) -> Result<(), StorageError> {
        self.add_counters(&[(name, by)])
    }

    /// Adds to several counters in one commit.
    pub(crate) fn add_counters(&self, deltas: &[(&str, u64)]) -> Result<(), StorageError> {
        if deltas.iter().all(|(_, by)| *by == 0) {
            return Ok(());
        }
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(COUNTERS)?;
            for (name, by) in deltas {
                let cur = t.get(*name)?.map_or(0, |v| v.value());
                t.insert(*name, cur.saturating_add(*by))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn counters(&self) -> Result<Vec<(String, u64)>, StorageError> {
        let rx = self.db.begin_read()?;
        let t = rx.open_table(COUNTERS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_string(), v.value()));
        }
        Ok(out)
    }

    /// Replaces the file by a fresh copy, so that deleted records (salts,
    /// opt-outs) leave no freed page behind.
    pub(crate) fn rewrite(&mut self) -> Result<(), StorageError> {
        let fresh = super::rewrite_fresh(&self.opener, &self.path, &self.db, |rx, tx| {
            super::copy_table(rx, tx, META)?;
            super::copy_table(rx, tx, DOMAINS)?;
            super::copy_table(rx, tx, OPT_OUTS)?;
            super::copy_table(rx, tx, SALTS)?;
            super::copy_table(rx, tx, COUNTERS)
        })?;
        self.db = fresh;
        Ok(())
    }
}
