//! A domain's aggregate file: the daily roll-ups of days whose raw events
//! have expired. They hold no visitor id (visitor counts are HyperLogLog
//! registers) and live for the domain's aggregate TTL.

use super::Opener;
use crate::error::StorageError;
use crate::query::{DayRange, DayRollup};
use crate::time::Day;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};

pub(crate) const DAYS: TableDefinition<i32, &[u8]> = TableDefinition::new("days");

/// File name of the aggregate file inside a domain's directory.
pub(crate) const AGGREGATE_FILE: &str = "aggregates.redb";

pub(crate) struct AggregateFile {
    path: PathBuf,
    db: Database,
}

impl AggregateFile {
    pub(crate) fn open(opener: &Opener, dir: &Path) -> Result<AggregateFile, StorageError> {
        let path = dir.join(AGGREGATE_FILE);
        let db = opener.open(&path)?;
        let tx = db.begin_write()?;
        tx.open_table(DAYS)?;
        tx.commit()?;
        Ok(AggregateFile { path, db })
    }

    pub(crate) fn put(&self, day: Day, r: &DayRollup) -> Result<(), StorageError> {
        let bytes = postcard::to_allocvec(r)
            .map_err(|e| StorageError::encode(&self.path, "a roll-up", e))?;
        let tx = self.db.begin_write()?;
        tx.open_table(DAYS)?.insert(day.0, bytes.as_slice())?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn range(&self, days: DayRange) -> Result<Vec<(Day, DayRollup)>, StorageError> {
        let rx = self.db.begin_read()?;
        let t = rx.open_table(DAYS)?;
        let mut out = Vec::new();
        for row in t.range(days.first.0..=days.last.0)? {
            let (k, v) = row?;
            let r = postcard::from_bytes(v.value()).map_err(|e| {
                StorageError::corrupt(
                    &self.path,
                    format!("roll-up of day {}: {e}", Day(k.value())),
                )
            })?;
            out.push((Day(k.value()), r));
        }
        Ok(out)
    }

    /// Deletes the roll-ups of days before `before`; returns how many.
    pub(crate) fn expire(&self, before: Day) -> Result<u64, StorageError> {
        let tx = self.db.begin_write()?;
        let n;
        {
            let mut t = tx.open_table(DAYS)?;
            let old: Vec<i32> = t
                .range(..before.0)?
                .map(|r| r.map(|(k, _)| k.value()))
                .collect::<Result<_, _>>()?;
            n = old.len() as u64;
            for d in old {
                t.remove(d)?;
            }
        }
        tx.commit()?;
        Ok(n)
    }
}
