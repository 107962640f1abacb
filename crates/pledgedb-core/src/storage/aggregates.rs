//! A domain's aggregate file: the daily roll-ups of days whose raw events
//! have expired. They hold no visitor id (visitor counts are HyperLogLog
//! registers) and live for the domain's aggregate TTL.

use super::Opener;
use super::lazy::LazyDb;
use crate::error::StorageError;
use crate::rollup::{DayRange, DayRollup};
use crate::time::Day;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};

pub(crate) const DAYS: TableDefinition<i32, &[u8]> = TableDefinition::new("days");
/// Days whose segment's roll-up was merged in on expiry, so that an expiry
/// repeated after a crash (before the segment was unlinked) does not count
/// the day twice.
pub(crate) const EXPIRED: TableDefinition<i32, ()> = TableDefinition::new("expired");

/// The `k` every stored roll-up is folded with (key `"k"`): a file written
/// before the fold existed, or under another `k`, is folded when opened.
pub(crate) const FOLDED: TableDefinition<&str, u32> = TableDefinition::new("folded");

/// File name of the aggregate file inside a domain's directory.
pub(crate) const AGGREGATE_FILE: &str = "aggregates.redb";

/// Copies every table of the file (for a fresh rewrite).
fn copy_all(rx: &redb::ReadTransaction, tx: &redb::WriteTransaction) -> Result<(), StorageError> {
    super::copy_table(rx, tx, DAYS)?;
    super::copy_table(rx, tx, EXPIRED)?;
    super::copy_table(rx, tx, FOLDED)
}

/// A domain's aggregate file. Opening the data directory reads, once, which
/// days it holds (their first and last); the file itself opens on first
/// use, and a question whose days it does not hold never opens it.
pub(crate) struct AggregateFile {
    opener: Opener,
    path: PathBuf,
    db: LazyDb,
    /// The first and last day with a roll-up or an expiry mark; `None` when
    /// it holds none. Kept up to date by every write.
    held: parking_lot::Mutex<Option<(i32, i32)>>,
}

/// The first and last day of the file's days and expiry marks.
fn held_days(db: &impl ReadableDatabase) -> Result<Option<(i32, i32)>, StorageError> {
    let rx = db.begin_read()?;
    let mut held: Option<(i32, i32)> = None;
    let mut widen = |d: i32| {
        held = Some(held.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
    };
    let days = match rx.open_table(DAYS) {
        Ok(t) => Some(t),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(t) = days {
        for row in [t.first()?, t.last()?].into_iter().flatten() {
            widen(row.0.value());
        }
    }
    let marks = match rx.open_table(EXPIRED) {
        Ok(t) => Some(t),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(t) = marks {
        for row in [t.first()?, t.last()?].into_iter().flatten() {
            widen(row.0.value());
        }
    }
    Ok(held)
}

impl AggregateFile {
    /// Whether the file has its tables and was folded with `k`.
    fn folded_with(db: &impl ReadableDatabase, k: u32) -> Result<bool, StorageError> {
        let rx = db.begin_read()?;
        let missing = |e: &redb::TableError| matches!(e, redb::TableError::TableDoesNotExist(_));
        for t in [
            rx.open_table(DAYS).map(|_| ()),
            rx.open_table(EXPIRED).map(|_| ()),
        ] {
            match t {
                Ok(()) => {}
                Err(e) if missing(&e) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        match rx.open_table(FOLDED) {
            Ok(f) => Ok(f.get("k")?.map(|v| v.value()) == Some(k)),
            Err(e) if missing(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens (or creates) the aggregate file of a domain whose
    /// `min_aggregate_visitors` is `k`. If its roll-ups were not folded with
    /// `k` (a file from before the fold existed, or `k` changed since), every
    /// stored day is folded now and the file written fresh, so no freed page
    /// keeps a rare row. A roll-up that cannot be decoded is left as it is
    /// (reads report it).
    pub(crate) fn open(opener: &Opener, dir: &Path, k: u32) -> Result<AggregateFile, StorageError> {
        let path = dir.join(AGGREGATE_FILE);
        // Already folded with `k` and complete: read through a read-only
        // handle, then closed (no write, nothing held).
        let ready = super::lazy::read_once(opener, &path, |db| {
            if Self::folded_with(db, k)? {
                Ok(Some(held_days(db)?))
            } else {
                Ok(None)
            }
        });
        if let Some(Some(held)) = ready {
            return Ok(AggregateFile {
                opener: opener.clone(),
                db: LazyDb::closed(opener, &path),
                path,
                held: parking_lot::Mutex::new(held),
            });
        }
        let mut db = opener.open(&path)?;
        // Folded and complete, but it needed the repair of a writable open.
        if Self::folded_with(&db, k)? {
            let held = held_days(&db)?;
            return Ok(AggregateFile {
                opener: opener.clone(),
                db: LazyDb::open(opener, &path, db),
                path,
                held: parking_lot::Mutex::new(held),
            });
        }
        let tx = db.begin_write()?;
        let mut refolded = false;
        {
            let mut days = tx.open_table(DAYS)?;
            tx.open_table(EXPIRED)?;
            let mut folded = tx.open_table(FOLDED)?;
            let done = folded.get("k")?.map(|v| v.value());
            if done != Some(k) {
                let rows: Vec<(i32, Vec<u8>)> = days
                    .iter()?
                    .map(|r| r.map(|(d, v)| (d.value(), v.value().to_vec())))
                    .collect::<Result<_, _>>()?;
                for (day, bytes) in rows {
                    let Ok(mut r) = postcard::from_bytes::<DayRollup>(&bytes) else {
                        continue;
                    };
                    let before = r.clone();
                    crate::rollup::fold_rare(&mut r, k);
                    if r != before {
                        let b = postcard::to_allocvec(&r)
                            .map_err(|e| StorageError::encode(&path, "a roll-up", e))?;
                        days.insert(day, b.as_slice())?;
                        refolded = true;
                    }
                }
                folded.insert("k", k)?;
            }
        }
        tx.commit()?;
        if refolded {
            db = super::rewrite_fresh(opener, &path, &db, copy_all)?;
        }
        let held = held_days(&db)?;
        Ok(AggregateFile {
            opener: opener.clone(),
            db: LazyDb::open(opener, &path, db),
            path,
            held: parking_lot::Mutex::new(held),
        })
    }

    /// Adds `r` into the stored roll-up of `day` (if any), folds every row
    /// seen by fewer than `k` visitors into `(other)`
    /// ([`fold_rare`](crate::rollup::fold_rare)) and stores the result, in
    /// one transaction. Every writer of this file goes through here, so no
    /// stored row names a value fewer than `k` visitors saw.
    pub(crate) fn merge(&self, day: Day, r: &DayRollup, k: u32) -> Result<(), StorageError> {
        self.merge_inner(day, r, k, false)
    }

    /// [`merge`](Self::merge) of the roll-up of an expiring segment: done
    /// once per day, so repeating an expiry (a crash before the segment was
    /// unlinked) adds nothing.
    pub(crate) fn merge_expired(
        &self,
        day: Day,
        r: &DayRollup,
        k: u32,
    ) -> Result<(), StorageError> {
        self.merge_inner(day, r, k, true)
    }

    fn merge_inner(
        &self,
        day: Day,
        r: &DayRollup,
        k: u32,
        expiry: bool,
    ) -> Result<(), StorageError> {
        // An expiry is the compactor's: the file is closed again after if it
        // was closed.
        let write = |db: &Database| -> Result<(), StorageError> {
            let tx = db.begin_write()?;
            {
                if expiry {
                    let mut marks = tx.open_table(EXPIRED)?;
                    if marks.get(day.0)?.is_some() {
                        return Ok(());
                    }
                    marks.insert(day.0, ())?;
                }
                let mut t = tx.open_table(DAYS)?;
                let existing = t.get(day.0)?.map(|v| v.value().to_vec());
                let mut merged = match existing {
                    Some(b) => postcard::from_bytes::<DayRollup>(&b).map_err(|e| {
                        StorageError::corrupt(&self.path, format!("roll-up of day {day}: {e}"))
                    })?,
                    None => DayRollup::default(),
                };
                merged.merge(r);
                crate::rollup::fold_rare(&mut merged, k);
                let bytes = postcard::to_allocvec(&merged)
                    .map_err(|e| StorageError::encode(&self.path, "a roll-up", e))?;
                t.insert(day.0, bytes.as_slice())?;
            }
            tx.commit()?;
            Ok(())
        };
        let mut held = self.held.lock();
        if expiry {
            self.db.with_transient(|db| write(db))?;
        } else {
            self.db.with(write)?;
        }
        *held = Some(held.map_or((day.0, day.0), |(a, b)| (a.min(day.0), b.max(day.0))));
        Ok(())
    }

    pub(crate) fn range(&self, days: DayRange) -> Result<Vec<(Day, DayRollup)>, StorageError> {
        // Days the file does not hold never open it.
        let held = *self.held.lock();
        match held {
            Some((first, last)) if first <= days.last.0 && days.first.0 <= last => {}
            _ => return Ok(Vec::new()),
        }
        self.db.with(|db| self.read_range(db, days))
    }

    fn read_range(
        &self,
        db: &Database,
        days: DayRange,
    ) -> Result<Vec<(Day, DayRollup)>, StorageError> {
        let rx = db.begin_read()?;
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

    /// Deletes the roll-ups of days before `before`; returns how many. When
    /// any was deleted the file is then written fresh (promise P7): redb
    /// does not zero freed pages, so only a new file leaves no byte of an
    /// expired roll-up behind.
    pub(crate) fn expire(&self, before: Day) -> Result<u64, StorageError> {
        let mut held = self.held.lock();
        // Nothing before `before`: the file is not opened.
        if !held.is_some_and(|(first, _)| first < before.0) {
            return Ok(0);
        }
        let (n, now_held) = self.db.with_transient(|db| {
            let n = self.expire_in(db, before)?;
            Ok((n, held_days(db)?))
        })?;
        *held = now_held;
        Ok(n)
    }

    fn expire_in(&self, db: &mut Database, before: Day) -> Result<u64, StorageError> {
        let tx = db.begin_write()?;
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
            let mut marks = tx.open_table(EXPIRED)?;
            let old: Vec<i32> = marks
                .range(..before.0)?
                .map(|r| r.map(|(k, _)| k.value()))
                .collect::<Result<_, _>>()?;
            for d in old {
                marks.remove(d)?;
            }
        }
        tx.commit()?;
        if n > 0 {
            let fresh = super::rewrite_fresh(&self.opener, &self.path, db, copy_all)?;
            *db = fresh;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{Agg, DayRange};

    fn rollup(pageviews: u64) -> DayRollup {
        let mut r = DayRollup {
            totals: Agg {
                pageviews,
                events: pageviews,
                ..Agg::default()
            },
            ..DayRollup::default()
        };
        let mut a = Agg {
            pageviews,
            ..Agg::default()
        };
        for v in 0..10 {
            a.visitors.insert(v);
        }
        r.by.entry(crate::rollup::Dimension::Page)
            .or_default()
            .insert("/p".into(), a);
        r
    }

    fn pageviews(f: &AggregateFile, day: Day) -> u64 {
        f.range(DayRange::new(day, day))
            .unwrap()
            .first()
            .map_or(0, |(_, r)| r.totals.pageviews)
    }

    #[test]
    fn an_expiry_merges_once_and_history_adds_up() {
        let tmp = tempfile::tempdir().unwrap();
        let f = AggregateFile::open(&Opener::new(None, tmp.path(), 8), tmp.path(), 5).unwrap();
        let day = Day(20_000);
        f.merge(day, &rollup(3), 5).unwrap();
        f.merge_expired(day, &rollup(10), 5).unwrap();
        assert_eq!(pageviews(&f, day), 13);
        // A crash before the segment was unlinked repeats the expiry.
        f.merge_expired(day, &rollup(10), 5).unwrap();
        assert_eq!(pageviews(&f, day), 13);
        f.merge(day, &rollup(2), 5).unwrap();
        assert_eq!(pageviews(&f, day), 15);
        assert_eq!(f.expire(day.plus(1)).unwrap(), 1);
        assert_eq!(pageviews(&f, day), 0);
        let marked =
            f.db.with(|db| Ok(db.begin_read()?.open_table(EXPIRED)?.get(day.0)?.is_some()))
                .unwrap();
        assert!(!marked);
    }

    #[test]
    fn a_complete_file_opens_on_first_use_and_days_it_lacks_never_open_it() {
        let tmp = tempfile::tempdir().unwrap();
        let opener = Opener::new(None, tmp.path(), 8);
        let day = Day(20_010);
        {
            let f = AggregateFile::open(&opener, tmp.path(), 5).unwrap();
            f.merge(day, &rollup(3), 5).unwrap();
        }
        let f = AggregateFile::open(&opener, tmp.path(), 5).unwrap();
        assert!(!f.db.is_open(), "opening read the file and kept it open");
        // Days it does not hold, and an expiry with nothing to expire.
        assert!(
            f.range(DayRange::new(day.plus(1), day.plus(30)))
                .unwrap()
                .is_empty()
        );
        assert!(
            f.range(DayRange::new(day.plus(-30), day.plus(-1)))
                .unwrap()
                .is_empty()
        );
        assert_eq!(f.expire(day).unwrap(), 0);
        assert!(!f.db.is_open());
        // The compactor's expiry merge closes the file again after.
        f.merge_expired(day.plus(1), &rollup(4), 5).unwrap();
        assert!(!f.db.is_open());
        // A day it holds opens it; it stays open.
        assert_eq!(pageviews(&f, day), 3);
        assert!(f.db.is_open());
        assert_eq!(pageviews(&f, day.plus(1)), 4);
        // The held days follow an expiry: the day left is still found.
        assert_eq!(f.expire(day.plus(1)).unwrap(), 1);
        assert_eq!(pageviews(&f, day), 0);
        assert_eq!(pageviews(&f, day.plus(1)), 4);
        assert_eq!(f.expire(day.plus(2)).unwrap(), 1);
        assert_eq!(*f.held.lock(), None);
    }

    #[test]
    fn opening_folds_a_file_written_without_the_fold_or_with_another_k() {
        let tmp = tempfile::tempdir().unwrap();
        let opener = Opener::new(None, tmp.path(), 8);
        let day = Day(20_001);
        {
            // As an older version wrote it: no fold, no marker.
            let f = AggregateFile::open(&opener, tmp.path(), 1).unwrap();
            let mut r = rollup(4);
            let mut rare = Agg::default();
            rare.visitors.insert(1);
            rare.pageviews = 1;
            r.by.entry(crate::rollup::Dimension::Page)
                .or_default()
                .insert("/account/jane-doe".into(), rare);
            f.merge(day, &r, 1).unwrap();
        }
        let path = tmp.path().join(AGGREGATE_FILE);
        let has = |needle: &[u8]| {
            let b = std::fs::read(&path).unwrap();
            b.windows(needle.len()).any(|w| w == needle)
        };
        assert!(has(b"/account/jane-doe"));
        let f = AggregateFile::open(&opener, tmp.path(), 5).unwrap();
        let r = &f.range(DayRange::new(day, day)).unwrap()[0].1;
        let pages = &r.by[&crate::rollup::Dimension::Page];
        assert!(pages.contains_key("/p"));
        assert!(!pages.contains_key("/account/jane-doe"));
        assert_eq!(pages[crate::rollup::OTHER].pageviews, 1);
        assert_eq!(r.totals.pageviews, 4);
        drop(f);
        assert!(!has(b"/account/jane-doe"));
        // Opening again with the same k changes nothing.
        let f = AggregateFile::open(&opener, tmp.path(), 5).unwrap();
        assert_eq!(&f.range(DayRange::new(day, day)).unwrap()[0].1, r);
    }
}
