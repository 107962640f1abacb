//! The state of one open domain, shared by its handles, its writer thread and
//! the compactor.

use super::segments::SegmentSet;
use crate::error::StorageError;
use crate::event::{Event, SessionId, VisitorId};
use crate::identity::{DomainSecret, EraseTag};
use crate::settings::DomainSettings;
use crate::storage::control::{ControlFile, Tombstone};
use crate::storage::create_dir;
use crate::storage::segment::{SEGMENT_DIR, Segment};
use crate::time::{Day, Timestamp};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub(crate) use crate::storage::DOMAINS_DIR;

pub(crate) struct DomainShared {
    pub(crate) opener: crate::storage::Opener,
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) seg_dir: PathBuf,
    pub(crate) secret: DomainSecret,
    pub(crate) control: ControlFile,
    pub(crate) aggregates: crate::storage::aggregates::AggregateFile,
    pub(crate) settings: RwLock<Arc<DomainSettings>>,
    /// Every day that has a segment file; each opens on first use.
    pub(crate) segments: SegmentSet,
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
        create_dir(&*opener.fs, &seg_dir)?;
        // What an interrupted creation or rewrite left: the originals are
        // intact, the copies are discarded and the jobs run again.
        crate::storage::sweep_temporaries(&*opener.fs, &dir)?;
        crate::storage::sweep_temporaries(&*opener.fs, &seg_dir)?;
        let crate::storage::control::OpenedControl {
            file: control,
            secret,
            settings,
            tombstones,
        } = ControlFile::open(opener, &dir, defaults)?;
        // Listed, not opened: a segment opens on first use.
        let segments = SegmentSet::list(opener, &seg_dir, &opener.segments)?;
        let stones: HashMap<_, _> = tombstones.into_iter().collect();
        let open_aggregates = || {
            crate::storage::aggregates::AggregateFile::open(
                opener,
                &dir,
                settings.min_aggregate_visitors,
            )
        };
        let aggregates = match open_aggregates() {
            Ok(a) => a,
            // A damaged aggregate file is set aside (reported, kept for an
            // operator) and the domain goes on with a fresh one.
            Err(e) if e.is_damage() => {
                let path = dir.join(crate::storage::aggregates::AGGREGATE_FILE);
                if opener.fs.exists(&path) {
                    opener.quarantine.set_aside(&path, &e.to_string(), None)?;
                }
                open_aggregates()?
            }
            Err(e) => return Err(e),
        };
        Ok(DomainShared {
            opener: opener.clone(),
            name: name.to_string(),
            dir,
            seg_dir,
            secret,
            control,
            aggregates,
            settings: RwLock::new(Arc::new(settings)),
            segments,
            tombstone_count: AtomicUsize::new(stones.len()),
            tombstones: RwLock::new(stones),
            writer,
            removed: AtomicBool::new(false),
        })
    }

    /// The segment of a day, opening (creating) it if needed.
    pub(crate) fn segment_for_write(&self, day: Day) -> Result<Arc<Segment>, StorageError> {
        self.segments.get_or_create(day)
    }

    /// The open segment of a day that has a file, opening it if needed;
    /// `None` if the day has no file (or it was damaged and set aside).
    pub(crate) fn existing_segment(&self, day: Day) -> Result<Option<Arc<Segment>>, StorageError> {
        self.segments.get(day)
    }

    /// Segments overlapping `[from, to)`, each opened.
    pub(crate) fn segments_in(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Arc<Segment>>, StorageError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let (first, last) = (from.day(), Timestamp(to.0 - 1).day());
        self.segments.open_in(first, last)
    }

    /// The first moment whose events are still within the raw-event TTL.
    pub(crate) fn retention_cutoff(&self, now: Timestamp) -> Timestamp {
        self.settings.read().retention.cutoff(now)
    }

    /// Roll-ups of expired days in a range.
    pub(crate) fn aggregates_in(
        &self,
        days: crate::rollup::DayRange,
    ) -> Result<Vec<(Day, crate::rollup::DayRollup)>, StorageError> {
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

impl crate::storage::reader::Visibility for DomainShared {
    fn gone(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    fn any_hidden(&self) -> bool {
        self.has_tombstones()
    }

    fn visitor_hidden(&self, v: VisitorId) -> bool {
        self.tombstones
            .read()
            .contains_key(&self.secret.visitor_tag(v))
    }

    fn session_hidden(&self, s: SessionId) -> bool {
        self.tombstones
            .read()
            .contains_key(&self.secret.session_tag(s))
    }

    fn visitor_tag(&self, v: VisitorId) -> EraseTag {
        self.secret.visitor_tag(v)
    }
}
