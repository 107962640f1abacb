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
use std::collections::{BTreeMap, HashMap};
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
    days: Mutex<BTreeMap<Day, Weak<Segment>>>,
    /// Days known to be sealed (or not), so that a compaction pass does not
    /// open every finished day to ask.
    sealed: Mutex<BTreeMap<Day, bool>>,
}

impl std::fmt::Debug for SegmentSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentSet")
            .field("days", &self.days.lock().len())
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
        let mut days = BTreeMap::new();
        let entries = opener
            .fs
            .read_dir(seg_dir)
            .map_err(|e| StorageError::io(seg_dir, e))?;
        for entry in entries {
            if let Some(day) = entry.name.to_str().and_then(parse_segment_file_name) {
                days.insert(day, Weak::new());
            }
        }
        Ok(SegmentSet {
            id: NEXT_SET.fetch_add(1, Ordering::Relaxed),
            opener: opener.clone(),
            seg_dir: seg_dir.to_path_buf(),
            cache: Arc::clone(cache),
            days: Mutex::new(days),
            sealed: Mutex::new(BTreeMap::new()),
        })
    }

    /// Whether a day is known to be sealed; `None` if nobody has looked.
    pub(crate) fn known_sealed(&self, day: Day) -> Option<bool> {
        self.sealed.lock().get(&day).copied()
    }

    /// Records whether a day is sealed (after a seal, a write or a rewrite).
    pub(crate) fn mark_sealed(&self, day: Day, sealed: bool) {
        self.sealed.lock().insert(day, sealed);
    }

    /// Every day that has a file, oldest first.
    pub(crate) fn days(&self) -> Vec<Day> {
        self.days.lock().keys().copied().collect()
    }

    /// The days of `first..=last` that have a file.
    pub(crate) fn days_in(&self, first: Day, last: Day) -> Vec<Day> {
        if last < first {
            return Vec::new();
        }
        self.days
            .lock()
            .range(first..=last)
            .map(|(d, _)| *d)
            .collect()
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
        let Some(weak) = days.get(&day) else {
            return Ok(None);
        };
        if let Some(seg) = weak.upgrade() {
            drop(days);
            self.cache.touch((self.id, day), &seg);
            return Ok(Some(seg));
        }
        match Segment::open(&self.opener, &self.seg_dir, day) {
            Ok(seg) => {
                let seg = Arc::new(seg);
                days.insert(day, Arc::downgrade(&seg));
                drop(days);
                self.cache.touch((self.id, day), &seg);
                Ok(Some(seg))
            }
            Err(e) if e.is_damage() => {
                days.remove(&day);
                drop(days);
                self.sealed.lock().remove(&day);
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
        if let Some(seg) = days.get(&day).and_then(Weak::upgrade) {
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
        days.insert(day, Arc::downgrade(&seg));
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
        self.days.lock().insert(day, Arc::downgrade(&seg));
        self.cache.touch((self.id, day), &seg);
        seg
    }

    /// Drops the handle of a day so that its next use opens the file again
    /// (after a failed commit); the day stays known.
    pub(crate) fn close(&self, day: Day) {
        let mut days = self.days.lock();
        if let Some(w) = days.get_mut(&day) {
            *w = Weak::new();
        }
        drop(days);
        drop(self.cache.drop_key((self.id, day)));
    }

    /// Forgets a day whose file is gone (expired or set aside). Returns the
    /// open segment, if any, so the caller can finish with it.
    pub(crate) fn remove(&self, day: Day) -> Option<Arc<Segment>> {
        self.sealed.lock().remove(&day);
        let weak = self.days.lock().remove(&day);
        let cached = self.cache.drop_key((self.id, day));
        cached.or_else(|| weak.and_then(|w| w.upgrade()))
    }

    /// Forgets every day (the domain is being erased).
    pub(crate) fn clear(&self) {
        self.days.lock().clear();
        self.sealed.lock().clear();
        self.cache.drop_set(self.id);
    }
}

impl Drop for SegmentSet {
    fn drop(&mut self) {
        self.cache.drop_set(self.id);
    }
}
