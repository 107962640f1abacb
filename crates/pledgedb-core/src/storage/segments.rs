//! A domain's day segments, opened lazily.
//!
//! Opening a data directory lists each domain's segment files and opens
//! none of them: a segment opens on first use. Open segments are held by one
//! least-recently-used cache shared by every domain of the directory
//! ([`SegmentCache`], at most [`crate::Config::max_open_segments`] open);
//! a domain's map keeps a weak handle, so a segment evicted from the cache
//! while a reader still uses it is reused, never opened twice.
//!
//! The set of known days is the set of files: a day enters it when its file
//! is created and leaves it when its file is deleted (retention) or set
//! aside (quarantine). Closing a handle (after a failed commit) keeps the
//! day known, so purges and expiry always reach it.

use crate::error::StorageError;
use crate::storage::Opener;
use crate::storage::segment::{Segment, parse_segment_file_name, segment_file_name};
use crate::time::Day;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// The open segments of a data directory, least recently used first out.
#[derive(Debug)]
pub(crate) struct SegmentCache {
    cap: usize,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    clock: u64,
    /// (set, day) -> (last use, the open segment).
    open: HashMap<(u64, Day), (u64, Arc<Segment>)>,
}

impl SegmentCache {
    pub(crate) fn new(cap: usize) -> Arc<SegmentCache> {
        Arc::new(SegmentCache {
            cap: cap.max(1),
            state: Mutex::new(CacheState::default()),
        })
    }

    /// Marks a segment as just used, evicting the least recently used ones
    /// beyond the cap (they close once no reader holds them).
    fn touch(&self, key: (u64, Day), seg: &Arc<Segment>) {
        let mut evicted = Vec::new();
        {
            let mut st = self.state.lock();
            st.clock += 1;
            let now = st.clock;
            st.open.insert(key, (now, Arc::clone(seg)));
            while st.open.len() > self.cap {
                let Some(oldest) = st.open.iter().min_by_key(|(_, (t, _))| *t).map(|(k, _)| *k)
                else {
                    break;
                };
                if let Some((_, s)) = st.open.remove(&oldest) {
                    evicted.push(s);
                }
            }
        }
        // Closed outside the lock.
        drop(evicted);
    }

    fn drop_key(&self, key: (u64, Day)) -> Option<Arc<Segment>> {
        self.state.lock().open.remove(&key).map(|(_, s)| s)
    }

    fn drop_set(&self, set: u64) {
        let dropped: Vec<_> = {
            let mut st = self.state.lock();
            let keys: Vec<_> = st.open.keys().filter(|k| k.0 == set).copied().collect();
            keys.into_iter()
                .filter_map(|k| st.open.remove(&k))
                .collect()
        };
        drop(dropped);
    }

    /// Segments open now.
    pub(crate) fn len(&self) -> usize {
        self.state.lock().open.len()
    }
}

static NEXT_SET: AtomicU64 = AtomicU64::new(1);

/// How often a day whose last handle is closing on another thread is tried
/// again before its "already open" error is returned.
const CLOSE_RETRIES: u32 = 100_000;

/// One domain's segments: every day that has a file, and the weak handle of
/// its segment while it is open.
pub(crate) struct SegmentSet {
    id: u64,
    opener: Opener,
    seg_dir: PathBuf,
    cache: Arc<SegmentCache>,
    days: Mutex<Days>,
}

/// What is known of a day's roll-up without opening its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sealed {
    Unknown,
    Yes,
    No,
}

/// The days of a domain, kept compact: a directory of a thousand domains
/// of a year of days each holds hundreds of thousands of them.
#[derive(Default)]
struct Days {
    /// Every day that has a file, oldest first.
    list: Vec<Day>,
    /// Whether each day of `list` is known to be sealed (same index), so
    /// that a compaction pass does not open every finished day to ask.
    sealed: Vec<Sealed>,
    /// The handle of each day opened since (dead once it closed).
    open: HashMap<Day, Weak<Segment>>,
}

/// Dead handles are dropped from [`Days::open`] once it holds this many.
const PRUNE_OPEN: usize = 64;

impl Days {
    fn index(&self, day: Day) -> Result<usize, usize> {
        self.list.binary_search(&day)
    }

    fn contains(&self, day: Day) -> bool {
        self.index(day).is_ok()
    }

    /// Adds a day (if new).
    fn add(&mut self, day: Day) {
        if let Err(i) = self.index(day) {
            self.list.insert(i, day);
            self.sealed.insert(i, Sealed::Unknown);
        }
    }

    /// Forgets a day; returns its handle, if any.
    fn remove(&mut self, day: Day) -> Option<Weak<Segment>> {
        if let Ok(i) = self.index(day) {
            self.list.remove(i);
            self.sealed.remove(i);
        }
        self.open.remove(&day)
    }

    fn live(&self, day: Day) -> Option<Arc<Segment>> {
        self.open.get(&day).and_then(Weak::upgrade)
    }

    fn set_open(&mut self, day: Day, seg: &Arc<Segment>) {
        if self.open.len() >= PRUNE_OPEN {
            self.open.retain(|_, w| w.strong_count() > 0);
        }
        self.open.insert(day, Arc::downgrade(seg));
    }
}

impl std::fmt::Debug for SegmentSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentSet")
            .field("days", &self.days.lock().list.len())
            .finish()
    }
}

impl SegmentSet {
    /// The segments of a directory, listed, none opened.
    pub(crate) fn list(
        opener: &Opener,
        seg_dir: &Path,
        cache: &Arc<SegmentCache>,
    ) -> Result<SegmentSet, StorageError> {
        let entries = opener
            .fs
            .read_dir(seg_dir)
            .map_err(|e| StorageError::io(seg_dir, e))?;
        let mut list: Vec<Day> = entries
            .iter()
            .filter_map(|entry| entry.name.to_str().and_then(parse_segment_file_name))
            .collect();
        list.sort_unstable();
        list.dedup();
        list.shrink_to_fit();
        let sealed = vec![Sealed::Unknown; list.len()];
        Ok(SegmentSet {
            id: NEXT_SET.fetch_add(1, Ordering::Relaxed),
            opener: opener.clone(),
            seg_dir: seg_dir.to_path_buf(),
            cache: Arc::clone(cache),
            days: Mutex::new(Days {
                list,
                sealed,
                open: HashMap::new(),
            }),
        })
    }

    /// Whether a day is sealed, as far as it can be told without opening
    /// its file for writing: remembered, or asked of its open segment, or
    /// read through a read-only handle that is dropped at once (nothing
    /// written, nothing held: a compaction pass over a directory of many
    /// days then opens none of them to ask). `None` if the day has no file
    /// or its file cannot tell that way (it needs a repair or is damaged):
    /// the caller then opens it.
    pub(crate) fn known_sealed(&self, day: Day) -> Option<bool> {
        // Held while reading, so that no writable open of this day races the
        // read-only one.
        let mut days = self.days.lock();
        let i = days.index(day).ok()?;
        match days.sealed.get(i)? {
            Sealed::Yes => return Some(true),
            Sealed::No => return Some(false),
            Sealed::Unknown => {}
        }
        let sealed = match days.live(day) {
            Some(seg) => seg.is_sealed().ok()?,
            None => Segment::probe_sealed(&self.opener, &self.seg_dir, day)?,
        };
        days.sealed[i] = if sealed { Sealed::Yes } else { Sealed::No };
        Some(sealed)
    }

    /// Records whether a day is sealed (after a seal, a write or a rewrite);
    /// nothing for a day that has no file.
    pub(crate) fn mark_sealed(&self, day: Day, sealed: bool) {
        let mut days = self.days.lock();
        if let Ok(i) = days.index(day) {
            days.sealed[i] = if sealed { Sealed::Yes } else { Sealed::No };
        }
    }

    /// Every day that has a file, oldest first.
    pub(crate) fn days(&self) -> Vec<Day> {
        self.days.lock().list.clone()
    }

    /// The days of `first..=last` that have a file.
    pub(crate) fn days_in(&self, first: Day, last: Day) -> Vec<Day> {
        if last < first {
            return Vec::new();
        }
        let days = self.days.lock();
        let from = days.list.partition_point(|d| *d < first);
        let to = days.list.partition_point(|d| *d <= last);
        days.list[from..to].to_vec()
    }

    /// The open segment of a day that has a file, opening it if needed;
    /// `None` if the day has no file, or its file turned out to be damaged
    /// (it is then set aside in the quarantine and the day forgotten).
    pub(crate) fn get(&self, day: Day) -> Result<Option<Arc<Segment>>, StorageError> {
        let mut tries = 0u32;
        loop {
            match self.try_get(day) {
                // The last handle of this day is being closed by another
                // thread right now (its strong count is 0, so it cannot be
                // reused, but its file is not released yet): let that close
                // finish, then open the file again.
                Err(StorageError::Redb(redb::Error::DatabaseAlreadyOpen))
                    if tries < CLOSE_RETRIES =>
                {
                    tries += 1;
                    std::thread::yield_now();
                }
                other => return other,
            }
        }
    }

    fn try_get(&self, day: Day) -> Result<Option<Arc<Segment>>, StorageError> {
        let mut days = self.days.lock();
        if !days.contains(day) {
            return Ok(None);
        }
        if let Some(seg) = days.live(day) {
            drop(days);
            self.cache.touch((self.id, day), &seg);
            return Ok(Some(seg));
        }
        match Segment::open(&self.opener, &self.seg_dir, day) {
            Ok(seg) => {
                let seg = Arc::new(seg);
                days.set_open(day, &seg);
                drop(days);
                self.cache.touch((self.id, day), &seg);
                Ok(Some(seg))
            }
            Err(e) if e.is_damage() => {
                days.remove(day);
                drop(days);
                let path = self.seg_dir.join(segment_file_name(day));
                if self.opener.fs.exists(&path) {
                    self.opener
                        .quarantine
                        .set_aside(&path, &e.to_string(), None)?;
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The segment of a day, creating its file if needed (for writes).
    pub(crate) fn get_or_create(&self, day: Day) -> Result<Arc<Segment>, StorageError> {
        if let Some(seg) = self.get(day)? {
            return Ok(seg);
        }
        let mut days = self.days.lock();
        if let Some(seg) = days.live(day) {
            return Ok(seg);
        }
        let existed = self
            .opener
            .fs
            .exists(&self.seg_dir.join(segment_file_name(day)));
        let seg = Arc::new(Segment::open(&self.opener, &self.seg_dir, day)?);
        if !existed {
            crate::storage::sync_dir(&*self.opener.fs, &self.seg_dir)?;
        }
        days.add(day);
        days.set_open(day, &seg);
        drop(days);
        self.cache.touch((self.id, day), &seg);
        Ok(seg)
    }

    /// The segments of the days in `first..=last`, each opened.
    pub(crate) fn open_in(&self, first: Day, last: Day) -> Result<Vec<Arc<Segment>>, StorageError> {
        let mut out = Vec::new();
        for day in self.days_in(first, last) {
            if let Some(seg) = self.get(day)? {
                out.push(seg);
            }
        }
        Ok(out)
    }

    /// Puts the freshly opened copy of a rewritten day in place of the old
    /// handle (readers holding the old one finish on the old file).
    pub(crate) fn install(&self, day: Day, seg: Segment) -> Arc<Segment> {
        let seg = Arc::new(seg);
        {
            let mut days = self.days.lock();
            days.add(day);
            days.set_open(day, &seg);
        }
        self.cache.touch((self.id, day), &seg);
        seg
    }

    /// Drops the handle of a day so that its next use opens the file again
    /// (after a failed commit); the day stays known.
    pub(crate) fn close(&self, day: Day) {
        let weak = self.days.lock().open.remove(&day);
        drop(weak);
        drop(self.cache.drop_key((self.id, day)));
    }

    /// Forgets a day whose file is gone (expired or set aside). Returns the
    /// open segment, if any, so the caller can finish with it.
    pub(crate) fn remove(&self, day: Day) -> Option<Arc<Segment>> {
        let weak = self.days.lock().remove(day);
        let cached = self.cache.drop_key((self.id, day));
        cached.or_else(|| weak.and_then(|w| w.upgrade()))
    }

    /// Forgets every day (the domain is being erased).
    pub(crate) fn clear(&self) {
        *self.days.lock() = Days::default();
        self.cache.drop_set(self.id);
    }
}

impl Drop for SegmentSet {
    fn drop(&mut self) {
        self.cache.drop_set(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_stay_sorted_and_keep_their_sealed_marks() {
        let tmp = tempfile::tempdir().unwrap();
        let opener = Opener::new(None, tmp.path(), 2);
        let seg_dir = tmp.path().join("segments");
        std::fs::create_dir_all(&seg_dir).unwrap();
        let set = SegmentSet::list(&opener, &seg_dir, &opener.segments).unwrap();
        for d in [20_005, 20_001, 20_003, 20_007] {
            set.get_or_create(Day(d)).unwrap();
        }
        let all = vec![Day(20_001), Day(20_003), Day(20_005), Day(20_007)];
        assert_eq!(set.days(), all);
        assert_eq!(set.days_in(Day(20_002), Day(20_005)), all[1..3].to_vec());
        assert!(set.days_in(Day(20_005), Day(20_004)).is_empty());
        assert!(set.get(Day(20_002)).unwrap().is_none());
        // The cache bound holds across domains' days.
        assert_eq!(opener.segments.len(), 2);
        set.mark_sealed(Day(20_003), true);
        set.mark_sealed(Day(20_005), false);
        set.mark_sealed(Day(20_009), true);
        assert_eq!(set.known_sealed(Day(20_003)), Some(true));
        assert_eq!(set.known_sealed(Day(20_005)), Some(false));
        // Not marked: asked of the file (no roll-up in it).
        assert_eq!(set.known_sealed(Day(20_001)), Some(false));
        assert_eq!(set.known_sealed(Day(20_009)), None);
        assert!(!set.days().contains(&Day(20_009)));
        // Closing keeps the day and its mark; removing forgets both.
        set.close(Day(20_003));
        assert_eq!(set.known_sealed(Day(20_003)), Some(true));
        assert!(set.get(Day(20_003)).unwrap().is_some());
        drop(set.remove(Day(20_003)));
        assert_eq!(set.known_sealed(Day(20_003)), None);
        assert!(set.get(Day(20_003)).unwrap().is_none());
        std::fs::remove_file(seg_dir.join(segment_file_name(Day(20_003)))).unwrap();
        drop(set);
        assert_eq!(opener.segments.len(), 0);
        // Listing again finds the files, in order, and opens none.
        let again = SegmentSet::list(&opener, &seg_dir, &opener.segments).unwrap();
        assert_eq!(again.days(), vec![Day(20_001), Day(20_005), Day(20_007)]);
        assert_eq!(opener.segments.len(), 0);
        assert_eq!(again.known_sealed(Day(20_005)), Some(false));
        assert_eq!(opener.segments.len(), 0);
    }

    #[test]
    fn asking_whether_a_day_is_sealed_opens_no_segment() {
        let tmp = tempfile::tempdir().unwrap();
        let opener = Opener::new(None, tmp.path(), 4);
        let seg_dir = tmp.path().join("segments");
        std::fs::create_dir_all(&seg_dir).unwrap();
        {
            let set = SegmentSet::list(&opener, &seg_dir, &opener.segments).unwrap();
            for d in [20_001, 20_002] {
                set.get_or_create(Day(d)).unwrap();
            }
            let seg = set.get(Day(20_002)).unwrap().unwrap();
            let tx = seg.db.begin_write().unwrap();
            tx.open_table(crate::storage::segment::ROLLUP)
                .unwrap()
                .insert("day", [0u8].as_slice())
                .unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(opener.segments.len(), 0);
        let set = SegmentSet::list(&opener, &seg_dir, &opener.segments).unwrap();
        assert_eq!(set.known_sealed(Day(20_001)), Some(false));
        assert_eq!(set.known_sealed(Day(20_002)), Some(true));
        assert_eq!(set.known_sealed(Day(20_003)), None);
        assert_eq!(opener.segments.len(), 0, "asking opened a segment");
        // Read-only, nothing held: the day opens for writing right after.
        assert!(set.get(Day(20_002)).unwrap().unwrap().is_sealed().unwrap());
        // A file that is not that day's segment cannot tell: the caller's
        // open then sets it aside.
        std::fs::write(seg_dir.join(segment_file_name(Day(20_004))), b"not redb").unwrap();
        let set = SegmentSet::list(&opener, &seg_dir, &opener.segments).unwrap();
        assert_eq!(set.known_sealed(Day(20_004)), None);
        assert!(set.get(Day(20_004)).unwrap().is_none());
        assert!(!set.days().contains(&Day(20_004)));
    }
}
