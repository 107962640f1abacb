//! Day segments: one redb file per domain per UTC day, holding that day's
//! events in encoded blocks and an index of the visitors in it (by erase tag).
//!
//! A segment is never edited to remove events: it is rewritten to a fresh
//! file (write, fsync, rename over, fsync the directory), because redb does
//! not zero freed pages. An expired segment is unlinked whole.

use super::{Opener, le_u32, replace_file, sync_file, tmp_path};
use crate::error::StorageError;
use crate::identity::EraseTag;
use crate::time::Day;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// The visitor index: the low 64 bits of each visitor's erase tag. A
/// collision can only make an erasure rewrite a segment it did not need to;
/// the rewrite itself filters by the full tag.
pub(crate) const VISITORS: TableDefinition<u64, ()> = TableDefinition::new("visitors");

/// The visitor-index key of an erase tag.
pub(crate) fn index_key(tag: EraseTag) -> u64 {
    tag as u64
}

/// A block value is kept just under 64 KiB: redb allocates pages in powers
/// of two, so a 40 KiB value would take 64 KiB on disk.
pub(crate) const SEALED_BLOCK_BYTES: usize = 65_000;
/// The day's roll-up (postcard `DayRollup`) under the key `"day"`, present
/// once the day is sealed and removed by any later write of events.
pub(crate) const ROLLUP: TableDefinition<&str, &[u8]> = TableDefinition::new("rollup");

/// Directory of the segments inside a domain's directory.
pub(crate) const SEGMENT_DIR: &str = "segments";

/// The file name of a day's segment: `YYYY-MM-DD.redb`.
pub(crate) fn segment_file_name(day: Day) -> String {
    format!("{day}.redb")
}

/// The day of a segment file name, if it is one.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<Day> {
    Day::parse(name.strip_suffix(".redb")?)
}

/// What the rewrite of one block decided.
pub(crate) enum BlockFate {
    /// Copy the stored bytes unchanged.
    Keep,
    /// Store these bytes instead.
    Replace(Vec<u8>),
    /// The block has no surviving event.
    Drop,
}

/// One open day segment.
pub(crate) struct Segment {
    opener: Opener,
    pub(crate) day: Day,
    pub(crate) path: PathBuf,
    pub(crate) db: Database,
    /// The decoded roll-up, once read: dashboards ask for the same days
    /// again and again. Cleared by every write of events.
    /// With a generation that every write of events bumps, so a roll-up
    /// read before a write is never cached after it.
    rollup_cache: parking_lot::Mutex<(u64, Option<std::sync::Arc<crate::rollup::DayRollup>>)>,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("day", &self.day).finish()
    }
}

impl Segment {
    /// Opens a day's segment, creating it if it does not exist.
    pub(crate) fn open(opener: &Opener, seg_dir: &Path, day: Day) -> Result<Segment, StorageError> {
        let path = seg_dir.join(segment_file_name(day));
        let db = opener.open(&path)?;
        let seg = Segment {
            opener: opener.clone(),
            day,
            path,
            db,
            rollup_cache: parking_lot::Mutex::new((0, None)),
        };
        super::quarantine::guarded(&seg.path, || seg.init())?;
        Ok(seg)
    }

    /// Whether a day's segment file has a roll-up, read through a read-only
    /// handle that is dropped before this returns (nothing written, nothing
    /// held). `None` if the file cannot tell that way (missing, needing the
    /// repair of a writable open, or damaged): the caller then opens it.
    pub(crate) fn probe_sealed(opener: &Opener, seg_dir: &Path, day: Day) -> Option<bool> {
        let path = seg_dir.join(segment_file_name(day));
        super::lazy::read_once(opener, &path, |db| {
            let rx = db.begin_read()?;
            let meta = rx.open_table(META)?;
            let stored = meta.get("day")?.map(|v| le_u32(&path, "day", v.value()));
            if stored.transpose()?.map(|d| d as i32) != Some(day.0) {
                return Err(StorageError::corrupt(&path, "not this day's segment"));
            }
            match rx.open_table(ROLLUP) {
                Ok(t) => Ok(t.get("day")?.is_some()),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn init(&self) -> Result<(), StorageError> {
        let rx = self.db.begin_read()?;
        let ok = match rx.open_table(META) {
            Ok(t) => t.get("day")?.is_some(),
            Err(redb::TableError::TableDoesNotExist(_)) => false,
            Err(e) => return Err(e.into()),
        };
        drop(rx);
        if ok {
            let rx = self.db.begin_read()?;
            let t = rx.open_table(META)?;
            if let Some(v) = t.get("day")? {
                let stored = le_u32(&self.path, "day", v.value())? as i32;
                if stored != self.day.0 {
                    return Err(StorageError::corrupt(
                        &self.path,
                        format!(
                            "segment holds day {} under the name of {}",
                            Day(stored),
                            self.day
                        ),
                    ));
                }
            }
            return Ok(());
        }
        let tx = self.db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            meta.insert("day", (self.day.0 as u32).to_le_bytes().as_slice())?;
            meta.insert(
                "block_format",
                [crate::codec::BLOCK_FORMAT_VERSION].as_slice(),
            )?;
            tx.open_table(BLOCKS)?;
            tx.open_table(VISITORS)?;
            tx.open_table(ROLLUP)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The day's roll-up, if the day is sealed.
    pub(crate) fn rollup(
        &self,
    ) -> Result<Option<std::sync::Arc<crate::rollup::DayRollup>>, StorageError> {
        let generation = {
            let cache = self.rollup_cache.lock();
            if let Some(r) = cache.1.as_ref() {
                return Ok(Some(std::sync::Arc::clone(r)));
            }
            cache.0
        };
        let Some(r) = self.read_rollup()? else {
            return Ok(None);
        };
        let r = std::sync::Arc::new(r);
        let mut cache = self.rollup_cache.lock();
        if cache.0 == generation {
            cache.1 = Some(std::sync::Arc::clone(&r));
        }
        Ok(Some(r))
    }

    fn read_rollup(&self) -> Result<Option<crate::rollup::DayRollup>, StorageError> {
        let rx = self.db.begin_read()?;
        let t = match rx.open_table(ROLLUP) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(v) = t.get("day")? else {
            return Ok(None);
        };
        postcard::from_bytes(v.value())
            .map(Some)
            .map_err(|e| StorageError::corrupt(&self.path, format!("roll-up: {e}")))
    }

    /// Whether the day has a roll-up.
    pub(crate) fn is_sealed(&self) -> Result<bool, StorageError> {
        let rx = self.db.begin_read()?;
        match rx.open_table(ROLLUP) {
            Ok(t) => Ok(t.get("day")?.is_some()),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The id the next new block gets.
    pub(crate) fn next_block_id(&self) -> Result<u64, StorageError> {
        let rx = self.db.begin_read()?;
        let t = rx.open_table(BLOCKS)?;
        Ok(t.last()?.map_or(0, |(k, _)| k.value() + 1))
    }

    /// Writes blocks (inserting or overwriting by id) and visitor tags in one
    /// durable transaction.
    pub(crate) fn write(
        &self,
        blocks: &[(u64, &[u8])],
        tags: &[EraseTag],
    ) -> Result<(), StorageError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)
            .map_err(|e| StorageError::Redb(e.into()))?;
        {
            let mut t = tx.open_table(BLOCKS)?;
            for (id, bytes) in blocks {
                t.insert(*id, *bytes)?;
            }
            let mut v = tx.open_table(VISITORS)?;
            for tag in tags {
                v.insert(index_key(*tag), ())?;
            }
            // New events make the roll-up stale: it goes in the same commit,
            // so a roll-up never disagrees with the events beside it.
            tx.open_table(ROLLUP)?.remove("day")?;
        }
        let result = tx.commit().map_err(StorageError::from);
        // After the commit (ok or not), no roll-up read before it is kept.
        let mut cache = self.rollup_cache.lock();
        cache.0 += 1;
        cache.1 = None;
        result
    }

    /// Calls `f` with every stored block, in id order.
    pub(crate) fn for_each_block(
        &self,
        mut f: impl FnMut(u64, &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        // A page store that panics on a damaged page fails this read only.
        super::quarantine::guarded(&self.path, || {
            let rx = self.db.begin_read()?;
            let t = rx.open_table(BLOCKS)?;
            for row in t.iter()? {
                let (k, v) = row?;
                f(k.value(), v.value())?;
            }
            Ok(())
        })
    }

    /// Whether any of `tags` is in this segment's visitor index.
    pub(crate) fn has_any_tag(&self, tags: &[EraseTag]) -> Result<bool, StorageError> {
        let rx = self.db.begin_read()?;
        let t = rx.open_table(VISITORS)?;
        for tag in tags {
            if t.get(index_key(*tag))?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes a fresh copy of this segment to `<path>.tmp`: every block goes
    /// through `fate` (or, with `replacement`, the blocks are exactly those,
    /// numbered from 0), the visitor index loses the `drop_tags`, and the
    /// roll-up is `rollup`. The copy is written in one transaction, so it
    /// carries no slack, then synced and closed; [`Segment::install`] moves
    /// it into place.
    pub(crate) fn write_rewrite(
        &self,
        mut fate: impl FnMut(u64, &[u8]) -> Result<BlockFate, StorageError>,
        replacement: Option<&[Vec<u8>]>,
        drop_tags: &HashSet<EraseTag>,
        rollup: Option<&[u8]>,
    ) -> Result<PathBuf, StorageError> {
        let drop_keys: HashSet<u64> = drop_tags.iter().map(|t| index_key(*t)).collect();
        let tmp = tmp_path(&self.path);
        super::clear_temporary(&self.opener, &tmp)?;
        {
            let fresh = self.opener.open_raw(&tmp)?;
            let mut tx = fresh.begin_write()?;
            tx.set_durability(Durability::Immediate)
                .map_err(|e| StorageError::Redb(e.into()))?;
            let rx = self.db.begin_read()?;
            {
                let mut meta = tx.open_table(META)?;
                for row in rx.open_table(META)?.iter()? {
                    let (k, v) = row?;
                    meta.insert(k.value(), v.value())?;
                }
                let mut blocks = tx.open_table(BLOCKS)?;
                if let Some(new) = replacement {
                    for (id, b) in new.iter().enumerate() {
                        blocks.insert(id as u64, b.as_slice())?;
                    }
                }
                let old_blocks = rx.open_table(BLOCKS)?;
                let old_rows = match replacement {
                    Some(_) => None,
                    None => Some(old_blocks.iter()?),
                };
                for row in old_rows.into_iter().flatten() {
                    let (k, v) = row?;
                    match fate(k.value(), v.value())? {
                        BlockFate::Keep => {
                            blocks.insert(k.value(), v.value())?;
                        }
                        BlockFate::Replace(b) => {
                            blocks.insert(k.value(), b.as_slice())?;
                        }
                        BlockFate::Drop => {}
                    }
                }
                let mut vis = tx.open_table(VISITORS)?;
                for row in rx.open_table(VISITORS)?.iter()? {
                    let (k, _) = row?;
                    if !drop_keys.contains(&k.value()) {
                        vis.insert(k.value(), ())?;
                    }
                }
                let mut r = tx.open_table(ROLLUP)?;
                if let Some(bytes) = rollup {
                    r.insert("day", bytes)?;
                }
            }
            tx.commit()?;
        }
        sync_file(&*self.opener.fs, &tmp)?;
        Ok(tmp)
    }

    /// Replaces this segment's file with a rewritten copy and opens it. The
    /// old `Database` must be dropped by the caller once no reader uses it.
    pub(crate) fn install(&self, tmp: &Path, seg_dir: &Path) -> Result<Segment, StorageError> {
        let target = seg_dir.join(segment_file_name(self.day));
        replace_file(&*self.opener.fs, tmp, &target)?;
        Segment::open(&self.opener, seg_dir, self.day)
    }
}
