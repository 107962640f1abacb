//! The state of one open domain, shared by its handles, its writer thread and
//! the compactor.

use crate::error::StorageError;
use crate::event::{Event, SessionId, VisitorId};
use crate::identity::{DomainSecret, EraseTag};
use crate::settings::DomainSettings;
use crate::storage::control::{ControlFile, Tombstone};
use crate::storage::segment::{SEGMENT_DIR, Segment, parse_segment_file_name};
use crate::storage::{create_dir, segment::segment_file_name};
use crate::time::{Day, Timestamp};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Directory of the domain partitions inside the data directory.
pub(crate) const DOMAINS_DIR: &str = "domains";

pub(crate) struct DomainShared {
    pub(crate) opener: crate::storage::Opener,
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) seg_dir: PathBuf,
    pub(crate) secret: DomainSecret,
    pub(crate) control: ControlFile,
    pub(crate) aggregates: crate::storage::aggregates::AggregateFile,
    pub(crate) settings: RwLock<Arc<DomainSettings>>,
    pub(crate) segments: RwLock<BTreeMap<Day, Arc<Segment>>>,
    tombstones: RwLock<HashMap<EraseTag, Tombstone>>,
    tombstone_count: AtomicUsize,
    /// Index of the writer thread that owns this domain's segments.
    pub(crate) writer: usize,
    /// Set when the domain was erased; its handles then fail.
    pub(crate) removed: AtomicBool,
}

impl std::fmt::Debug for DomainShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainShared")
            .field("name", &self.name)
            .finish()
    }
}

impl DomainShared {
    /// Opens (or creates) a domain's directory, control file and segments.
    pub(crate) fn open(
        opener: &crate::storage::Opener,
        data_dir: &Path,
        name: &str,
        defaults: &DomainSettings,
        writer: usize,
    ) -> Result<DomainShared, StorageError> {
        let dir = data_dir.join(DOMAINS_DIR).join(name);
        let seg_dir = dir.join(SEGMENT_DIR);
        create_dir(&seg_dir)?;
        // What an interrupted creation or rewrite left: the originals are
        // intact, the copies are discarded and the jobs run again.
        crate::storage::sweep_temporaries(&dir)?;
        crate::storage::sweep_temporaries(&seg_dir)?;
        let (control, secret, settings) = ControlFile::open(opener, &dir, defaults)?;
        let mut segments = BTreeMap::new();
        let entries = std::fs::read_dir(&seg_dir).map_err(|e| StorageError::io(&seg_dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io(&seg_dir, e))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if let Some(day) = parse_segment_file_name(file_name) {
                match Segment::open(opener, &seg_dir, day) {
                    Ok(seg) => {
                        segments.insert(day, Arc::new(seg));
                    }
                    // A damaged segment never stops the directory from
                    // opening: it is set aside and reported.
                    Err(e) if e.is_damage() => {
                        opener
                            .quarantine
                            .set_aside(&entry.path(), &e.to_string(), None)?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let stones: HashMap<_, _> = control.tombstones()?.into_iter().collect();
        let aggregates = crate::storage::aggregates::AggregateFile::open(
            opener,
            &dir,
            settings.min_aggregate_visitors,
        )?;
        Ok(DomainShared {
            opener: opener.clone(),
            name: name.to_string(),
            dir,
            seg_dir,
            secret,
            control,
            aggregates,
            settings: RwLock::new(Arc::new(settings)),
            segments: RwLock::new(segments),
            tombstone_count: AtomicUsize::new(stones.len()),
            tombstones: RwLock::new(stones),
            writer,
            removed: AtomicBool::new(false),
        })
    }

    /// The segment of a day, opening (creating) it if needed.
    pub(crate) fn segment_for_write(&self, day: Day) -> Result<Arc<Segment>, StorageError> {
        if let Some(s) = self.segments.read().get(&day) {
            return Ok(Arc::clone(s));
        }
        let mut segs = self.segments.write();
        if let Some(s) = segs.get(&day) {
            return Ok(Arc::clone(s));
        }
        let existed = self.seg_dir.join(segment_file_name(day)).exists();
        let seg = Arc::new(Segment::open(&self.opener, &self.seg_dir, day)?);
        if !existed {
            crate::storage::sync_dir(&self.seg_dir)?;
        }
        segs.insert(day, Arc::clone(&seg));
        Ok(seg)
    }

    /// The days that have a segment file in the domain's directory, whether
    /// or not their segment is open. The files are the truth: a segment
    /// whose handle was dropped after a failed commit (to be reopened) is
    /// still a day with data that purges and expiry must reach.
    pub(crate) fn days_on_disk(&self) -> Result<std::collections::BTreeSet<Day>, StorageError> {
        let mut days = std::collections::BTreeSet::new();
        let entries =
            std::fs::read_dir(&self.seg_dir).map_err(|e| StorageError::io(&self.seg_dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io(&self.seg_dir, e))?;
            if let Some(day) = entry.file_name().to_str().and_then(parse_segment_file_name) {
                days.insert(day);
            }
        }
        Ok(days)
    }

    /// The open segment of a day that has a file, opening it if needed;
    /// `None` if the day has no file.
    pub(crate) fn existing_segment(&self, day: Day) -> Result<Option<Arc<Segment>>, StorageError> {
        if let Some(s) = self.segments.read().get(&day) {
            return Ok(Some(Arc::clone(s)));
        }
        if !self.seg_dir.join(segment_file_name(day)).exists() {
            return Ok(None);
        }
        self.segment_for_write(day).map(Some)
    }

    /// Segments overlapping `[from, to)`.
    pub(crate) fn segments_in(&self, from: Timestamp, to: Timestamp) -> Vec<Arc<Segment>> {
        if to <= from {
            return Vec::new();
        }
        let (first, last) = (from.day(), Timestamp(to.0 - 1).day());
        if first > last {
            return Vec::new();
        }
        self.segments
            .read()
            .range(first..=last)
            .map(|(_, s)| Arc::clone(s))
            .collect()
    }

    /// The first moment whose events are still within the raw-event TTL.
    pub(crate) fn retention_cutoff(&self, now: Timestamp) -> Timestamp {
        self.settings.read().retention.cutoff(now)
    }

    /// Roll-ups of expired days in a range.
    pub(crate) fn aggregates_in(
        &self,
        days: crate::query::DayRange,
    ) -> Result<Vec<(Day, crate::query::DayRollup)>, StorageError> {
        self.aggregates.range(days)
    }

    pub(crate) fn has_tombstones(&self) -> bool {
        self.tombstone_count.load(Ordering::Acquire) > 0
    }

    pub(crate) fn tombstones(&self) -> Vec<(EraseTag, Tombstone)> {
        self.tombstones
            .read()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    pub(crate) fn put_tombstone(&self, tag: EraseTag, stone: Tombstone) {
        let mut t = self.tombstones.write();
        t.insert(tag, stone);
        self.tombstone_count.store(t.len(), Ordering::Release);
    }

    pub(crate) fn drop_tombstones(&self, tags: &[EraseTag]) {
        let mut t = self.tombstones.write();
        for tag in tags {
            t.remove(tag);
        }
        self.tombstone_count.store(t.len(), Ordering::Release);
    }

    /// A filter deciding whether an event is hidden by a tombstone. Caches
    /// the tag of each visitor and session it has seen.
    pub(crate) fn erased_filter(&self) -> ErasedFilter<'_> {
        ErasedFilter {
            shared: self,
            active: self.has_tombstones(),
            visitors: HashMap::new(),
            sessions: HashMap::new(),
        }
    }
}

/// Decides per event whether a tombstone hides it.
pub(crate) struct ErasedFilter<'a> {
    shared: &'a DomainShared,
    active: bool,
    visitors: HashMap<VisitorId, bool>,
    sessions: HashMap<SessionId, bool>,
}

impl ErasedFilter<'_> {
    pub(crate) fn visitor_erased(&mut self, v: VisitorId) -> bool {
        if !self.active || v == VisitorId::ANONYMOUS {
            return false;
        }
        let shared = self.shared;
        *self.visitors.entry(v).or_insert_with(|| {
            shared
                .tombstones
                .read()
                .contains_key(&shared.secret.visitor_tag(v))
        })
    }

    pub(crate) fn session_erased(&mut self, s: SessionId) -> bool {
        if !self.active || s == SessionId(0) {
            return false;
        }
        let shared = self.shared;
        *self.sessions.entry(s).or_insert_with(|| {
            shared
                .tombstones
                .read()
                .contains_key(&shared.secret.session_tag(s))
        })
    }

    pub(crate) fn erased(&mut self, e: &Event) -> bool {
        self.active && (self.visitor_erased(e.visitor) || self.session_erased(e.session))
    }
}
