//! What one writer thread holds: per domain and day, the open block and the
//! blocks sealed since the last commit; per domain, the open sessions.

use super::{Pending, PurgeOutcome, WriterConfig};
use crate::codec::{BlockView, encode_block};
use crate::domain::shared::DomainShared;
use crate::error::StorageError;
use crate::event::{Event, SessionId, VisitorId};
use crate::identity::EraseTag;
use crate::storage::quarantine::guarded;
use crate::storage::segment::{BlockFate, Segment, segment_file_name};
use crate::time::{Day, Timestamp};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A visit ends after 30 minutes without an event.
const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Open sessions kept per domain before old ones are pruned.
const MAX_OPEN_SESSIONS: usize = 200_000;
/// Day buffers kept per writer between commits; older ones are evicted (their
/// blocks are already durable; later events of that day start a new block).
const MAX_DAY_BUFFERS: usize = 64;

struct DayBuf {
    /// Id of the open block (the one still growing).
    open_id: u64,
    open: Vec<Event>,
    open_dirty: bool,
    /// Full blocks not yet committed.
    sealed: Vec<(u64, Vec<u8>)>,
    /// Visitors already in this segment's index.
    seen: HashSet<VisitorId>,
    /// Erase tags to add to the index at the next commit.
    new_tags: Vec<EraseTag>,
    touched: u64,
}

struct DomainBuf {
    shared: Arc<DomainShared>,
    days: BTreeMap<Day, DayBuf>,
    /// visitor -> (last event time, session id, session start)
    sessions: HashMap<VisitorId, (Timestamp, SessionId)>,
    newest: Timestamp,
}

pub(super) struct WriterState {
    cfg: WriterConfig,
    domains: HashMap<String, DomainBuf>,
    buffered: usize,
    clock: u64,
    scratch: Vec<u8>,
}

impl WriterState {
    pub(super) fn new(cfg: WriterConfig) -> Self {
        WriterState {
            cfg,
            domains: HashMap::new(),
            buffered: 0,
            clock: 0,
            scratch: Vec::new(),
        }
    }

    pub(super) fn buffered(&self) -> usize {
        self.buffered
    }

    fn domain_buf<'a>(
        domains: &'a mut HashMap<String, DomainBuf>,
        shared: &Arc<DomainShared>,
    ) -> &'a mut DomainBuf {
        let entry = domains
            .entry(shared.name.clone())
            .or_insert_with(|| DomainBuf {
                shared: Arc::clone(shared),
                days: BTreeMap::new(),
                sessions: HashMap::new(),
                newest: Timestamp(i64::MIN),
            });
        if !Arc::ptr_eq(&entry.shared, shared) {
            // The domain was erased and created again: start afresh.
            *entry = DomainBuf {
                shared: Arc::clone(shared),
                days: BTreeMap::new(),
                sessions: HashMap::new(),
                newest: Timestamp(i64::MIN),
            };
        }
        entry
    }

    /// Buffers one event: assigns its session, drops it if a tombstone covers
    /// it, and seals the open block when it is full.
    pub(super) fn push(&mut self, shared: &Arc<DomainShared>, p: Pending) {
        if shared.removed.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        self.clock += 1;
        let tick = self.clock;
        let block_events = self.cfg.block_events.max(1);
        let d = Self::domain_buf(&mut self.domains, shared);
        let mut event = p.event;
        event.session = match p.session {
            Some(s) => s,
            None => assign_session(d, &event),
        };
        if shared.has_tombstones() && shared.erased_filter().erased(&event) {
            return;
        }
        let day = event.ts.day();
        let buf = match d.days.entry(day) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                // On error the commit reports it; start at an id far past
                // anything in use rather than overwrite a block.
                let next = shared
                    .segment_for_write(day)
                    .and_then(|s| s.next_block_id())
                    .unwrap_or(u64::MAX / 2);
                v.insert(DayBuf {
                    open_id: next,
                    open: Vec::new(),
                    open_dirty: false,
                    sealed: Vec::new(),
                    seen: HashSet::new(),
                    new_tags: Vec::new(),
                    touched: tick,
                })
            }
        };
        buf.touched = tick;
        if event.visitor != VisitorId::ANONYMOUS && buf.seen.insert(event.visitor) {
            buf.new_tags.push(shared.secret.visitor_tag(event.visitor));
        }
        buf.open.push(event);
        buf.open_dirty = true;
        self.buffered += 1;
        if buf.open.len() >= block_events {
            let mut bytes = Vec::new();
            encode_block(&buf.open, &mut bytes);
            buf.sealed.push((buf.open_id, bytes));
            buf.open.clear();
            buf.open_id += 1;
            buf.open_dirty = false;
        }
    }

    /// Commits every dirty day buffer, one durable transaction per segment.
    /// On failure the buffers are kept and the next commit retries them.
    pub(super) fn commit(&mut self) -> Result<(), StorageError> {
        self.commit_where(|_| true)
    }

    /// Commits the buffers of one domain only, so that a job on it (purge,
    /// seal, expiry) never waits on, or fails because of, another domain.
    pub(super) fn commit_domain(&mut self, shared: &DomainShared) -> Result<(), StorageError> {
        self.commit_where(|name| name == shared.name)
    }

    fn commit_where(&mut self, which: impl Fn(&str) -> bool) -> Result<(), StorageError> {
        let all = self.domains.keys().all(|n| which(n));
        let mut first_err = None;
        for d in self.domains.values_mut() {
            if d.shared.removed.load(std::sync::atomic::Ordering::Acquire) || !which(&d.shared.name)
            {
                continue;
            }
            for (day, buf) in &mut d.days {
                if !buf.open_dirty && buf.sealed.is_empty() && buf.new_tags.is_empty() {
                    continue;
                }
                let path = d.shared.seg_dir.join(segment_file_name(*day));
                let scratch = &mut self.scratch;
                let r = guarded(&path, || {
                    d.shared.segment_for_write(*day).and_then(|seg| {
                        scratch.clear();
                        let mut blocks: Vec<(u64, &[u8])> = buf
                            .sealed
                            .iter()
                            .map(|(id, b)| (*id, b.as_slice()))
                            .collect();
                        if buf.open_dirty && !buf.open.is_empty() {
                            encode_block(&buf.open, scratch);
                            blocks.push((buf.open_id, scratch));
                        }
                        seg.write(&blocks, &buf.new_tags)
                    })
                });
                match r {
                    Ok(()) => {
                        buf.sealed.clear();
                        buf.new_tags.clear();
                        buf.open_dirty = false;
                        // New events removed the day's roll-up.
                        d.shared.segments.mark_sealed(*day, false);
                    }
                    Err(e) if e.is_damage() => {
                        // The file cannot be read as a segment: it is set
                        // aside, and the buffered events go to a fresh file
                        // at the next commit, indexed anew.
                        set_aside_segment(&d.shared, *day, &e);
                        buf.seen.clear();
                        buf.new_tags = buffered_tags(&d.shared, buf);
                        buf.open_dirty = !buf.open.is_empty();
                        first_err.get_or_insert(e);
                    }
                    Err(e) => {
                        // redb refuses every later operation on a file whose
                        // backend failed ("previous I/O error"): forget this
                        // handle so the retry reopens the file, which redb
                        // then repairs to its last good commit.
                        d.shared.segments.close(*day);
                        // Reopen now if no reader holds the old handle, so
                        // reads keep seeing the day; else the retry does.
                        let _ = d.shared.segment_for_write(*day);
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        if first_err.is_none() && all {
            self.buffered = 0;
            self.evict();
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Keeps memory bounded: drops the least recently used clean day buffers
    /// beyond the cap, and prunes sessions that have ended.
    fn evict(&mut self) {
        let total: usize = self.domains.values().map(|d| d.days.len()).sum();
        if total > MAX_DAY_BUFFERS {
            let mut all: Vec<(u64, String, Day)> = self
                .domains
                .iter()
                .flat_map(|(n, d)| {
                    d.days
                        .iter()
                        .map(move |(day, b)| (b.touched, n.clone(), *day))
                })
                .collect();
            all.sort_unstable();
            for (_, name, day) in all.into_iter().take(total - MAX_DAY_BUFFERS) {
                if let Some(d) = self.domains.get_mut(&name) {
                    d.days.remove(&day);
                }
            }
        }
        for d in self.domains.values_mut() {
            if d.sessions.len() > MAX_OPEN_SESSIONS {
                let cutoff = d.newest.plus_millis(-SESSION_GAP_MS);
                d.sessions.retain(|_, (last, _)| *last >= cutoff);
            }
        }
    }

    /// Rewrites one segment of a domain without the events its tombstones
    /// cover, and filters the open block the same way.
    pub(super) fn purge(
        &mut self,
        shared: &Arc<DomainShared>,
        day: Day,
    ) -> Result<PurgeOutcome, StorageError> {
        let mut filter = shared.erased_filter();
        let mut outcome = PurgeOutcome::default();
        if let Some(d) = self.domains.get_mut(&shared.name)
            && Arc::ptr_eq(&d.shared, shared)
        {
            if let Some(buf) = d.days.get_mut(&day) {
                buf.open.retain(|e| !filter.erased(e));
                // The rewrite below drops the erased visitors from the
                // segment's index. Every visitor this buffer believed to be
                // indexed is forgotten, so that an event of a visitor who
                // comes back after the purge enters the index again: the
                // index can never miss a visitor whose events are stored.
                buf.seen.clear();
            }
            // An erased visitor who comes back starts a new visit: the
            // erased session's id is not reused for new events.
            d.sessions
                .retain(|v, (_, s)| !filter.visitor_erased(*v) && !filter.session_erased(*s));
        }
        // A day whose handle was dropped after a failed commit is opened
        // again here: a purge never skips a file that holds data.
        let Some(seg) = shared.existing_segment(day)? else {
            return Ok(outcome);
        };
        let drop_tags: HashSet<EraseTag> =
            shared.tombstones().into_iter().map(|(t, _)| t).collect();
        let path = seg.path.clone();
        // A purge touches only what it must: a segment with no erased event
        // and no erased visitor in its index is not rewritten.
        let tags: Vec<EraseTag> = drop_tags.iter().copied().collect();
        if !seg.has_any_tag(&tags)? && !holds_erased(&seg, &mut filter)? {
            return Ok(outcome);
        }
        let mut removed = 0u64;
        let mut removed_by: HashMap<EraseTag, u64> = HashMap::new();
        let mut tags_of = EventTags::default();
        let tmp = seg.write_rewrite(
            |_, bytes| {
                let view = BlockView::parse(bytes).map_err(|e| StorageError::Codec {
                    path: path.clone(),
                    source: e,
                })?;
                let codec = |e| StorageError::Codec {
                    path: path.clone(),
                    source: e,
                };
                let visitors = view.visitors().map_err(codec)?;
                let sessions = view.sessions().map_err(codec)?;
                let hit = visitors.iter().zip(&sessions).any(|(v, s)| {
                    filter.visitor_erased(VisitorId(*v)) || filter.session_erased(SessionId(*s))
                });
                if !hit {
                    return Ok(BlockFate::Keep);
                }
                let events = view.events().map_err(codec)?;
                let total = events.len();
                let mut kept: Vec<Event> = Vec::with_capacity(total);
                for e in events {
                    if !filter.erased(&e) {
                        kept.push(e);
                        continue;
                    }
                    for tag in tags_of.of(shared, &e) {
                        if drop_tags.contains(&tag) {
                            *removed_by.entry(tag).or_default() += 1;
                        }
                    }
                }
                removed += (total - kept.len()) as u64;
                if kept.is_empty() {
                    return Ok(BlockFate::Drop);
                }
                let mut out = Vec::new();
                encode_block(&kept, &mut out);
                Ok(BlockFate::Replace(out))
            },
            None,
            &drop_tags,
            None,
        )?;
        let fresh = seg.install(&tmp, &shared.seg_dir)?;
        drop(seg);
        shared.segments.install(day, fresh);
        shared.segments.mark_sealed(day, false);
        outcome.events_removed = removed;
        outcome.rewritten = true;
        outcome.removed_by = removed_by;
        Ok(outcome)
    }

    /// Deletes every segment of a day before `before`, and its buffers.
    pub(super) fn expire(
        &mut self,
        shared: &Arc<DomainShared>,
        before: Day,
    ) -> Result<Vec<Day>, StorageError> {
        if let Some(d) = self.domains.get_mut(&shared.name) {
            d.days.retain(|day, _| *day >= before);
        }
        // Every file of an expired day, open or not, is reached.
        let mut doomed: Vec<(Day, Arc<Segment>)> = Vec::new();
        for day in shared.segments.days().into_iter().filter(|d| *d < before) {
            if let Some(seg) = shared.segments.get(day)? {
                doomed.push((day, seg));
            }
        }
        let mut days = Vec::with_capacity(doomed.len());
        for (day, seg) in doomed {
            // The anonymous roll-up outlives the raw events.
            // A stored roll-up is reused only when no tombstone exists: an
            // erased visitor must not survive into the aggregate.
            let stored = if shared.has_tombstones() {
                None
            } else {
                seg.rollup()?
            };
            let rollup = match stored {
                Some(r) => crate::rollup::DayRollup::clone(&r),
                None => {
                    let mut filter = shared.erased_filter();
                    let events: Vec<Event> = crate::storage::events::segment_events(&seg)?
                        .into_iter()
                        .filter(|e| !filter.erased(e))
                        .collect();
                    crate::rollup::rollup(&events)
                }
            };
            if rollup.totals.events > 0 {
                // Long-lived aggregates keep no row that points at a few
                // people (P6/P7): the merge folds rare values into "(other)",
                // adds to what an import of history stored for the day, and
                // happens once per day even if a crash repeats the expiry.
                let k = shared.settings.read().min_aggregate_visitors;
                shared.aggregates.merge_expired(day, &rollup, k)?;
            }
            let path = seg.path.clone();
            drop(seg);
            drop(shared.segments.remove(day));
            crate::storage::remove_file(&*shared.opener.fs, &path)?;
            days.push(day);
        }
        Ok(days)
    }

    /// Computes the roll-up of a finished day and writes its segment fresh
    /// with it (which also drops the slack of the many commits that filled
    /// it). Returns false if the day has no segment or is sealed already.
    pub(super) fn seal(
        &mut self,
        shared: &Arc<DomainShared>,
        day: Day,
    ) -> Result<bool, StorageError> {
        let Some(seg) = shared.segments.get(day)? else {
            return Ok(false);
        };
        if seg.is_sealed()? {
            shared.segments.mark_sealed(day, true);
            return Ok(false);
        }
        let events = crate::storage::events::segment_events(&seg)?;
        let rollup = crate::rollup::rollup(&events);
        let blocks = pack_blocks(&events);
        drop(events);
        let bytes = postcard::to_allocvec(&rollup)
            .map_err(|e| StorageError::encode(&seg.path, "a roll-up", e))?;
        let tmp = seg.write_rewrite(
            |_, _| Ok(BlockFate::Keep),
            Some(&blocks),
            &HashSet::new(),
            Some(&bytes),
        )?;
        // The blocks were renumbered: this day's buffer (already durable)
        // must not write its open block under its old id again.
        if let Some(d) = self.domains.get_mut(&shared.name)
            && Arc::ptr_eq(&d.shared, shared)
        {
            d.days.remove(&day);
        }
        let fresh = seg.install(&tmp, &shared.seg_dir)?;
        drop(seg);
        shared.segments.install(day, fresh);
        shared.segments.mark_sealed(day, true);
        Ok(true)
    }

    pub(super) fn forget(&mut self, shared: &Arc<DomainShared>) {
        if let Some(d) = self.domains.get(&shared.name)
            && Arc::ptr_eq(&d.shared, shared)
        {
            let n: usize = d.days.values().map(|b| b.open.len()).sum();
            self.buffered = self.buffered.saturating_sub(n);
            self.domains.remove(&shared.name);
        }
    }
}

/// Sets aside a segment whose file is damaged: it leaves the domain's map
/// (no read sees it again) and moves to the quarantine.
pub(super) fn set_aside_segment(shared: &DomainShared, day: Day, e: &StorageError) {
    drop(shared.segments.remove(day));
    let path = shared.seg_dir.join(segment_file_name(day));
    if shared.opener.fs.exists(&path) {
        let _ = shared
            .opener
            .quarantine
            .set_aside(&path, &e.to_string(), None);
    }
}

/// The erase tags of every visitor in a day buffer's uncommitted blocks.
fn buffered_tags(shared: &DomainShared, buf: &mut DayBuf) -> Vec<EraseTag> {
    let mut visitors: HashSet<VisitorId> = buf.open.iter().map(|e| e.visitor).collect();
    for (_, bytes) in &buf.sealed {
        if let Ok(v) = BlockView::parse(bytes).and_then(|b| b.visitors()) {
            visitors.extend(v.into_iter().map(VisitorId));
        }
    }
    visitors.remove(&VisitorId::ANONYMOUS);
    buf.seen = visitors.clone();
    visitors
        .into_iter()
        .map(|v| shared.secret.visitor_tag(v))
        .collect()
}

/// Whether any block of a segment holds an event a tombstone covers
/// (read from the identity column only).
fn holds_erased(
    seg: &Segment,
    filter: &mut crate::domain::shared::ErasedFilter<'_>,
) -> Result<bool, StorageError> {
    let mut found = false;
    let path = seg.path.clone();
    seg.for_each_block(|_, bytes| {
        if found {
            return Ok(());
        }
        let codec = |e| StorageError::Codec {
            path: path.clone(),
            source: e,
        };
        let view = BlockView::parse(bytes).map_err(codec)?;
        let visitors = view.visitors().map_err(codec)?;
        let sessions = view.sessions().map_err(codec)?;
        found = visitors.iter().zip(&sessions).any(|(v, s)| {
            filter.visitor_erased(VisitorId(*v)) || filter.session_erased(SessionId(*s))
        });
        Ok(())
    })?;
    Ok(found)
}

/// The erase tags of events' visitors and sessions, computed once each.
#[derive(Default)]
struct EventTags {
    visitors: HashMap<VisitorId, EraseTag>,
    sessions: HashMap<SessionId, EraseTag>,
}

impl EventTags {
    fn of(&mut self, shared: &DomainShared, e: &Event) -> [EraseTag; 2] {
        let v = *self
            .visitors
            .entry(e.visitor)
            .or_insert_with(|| shared.secret.visitor_tag(e.visitor));
        let s = *self
            .sessions
            .entry(e.session)
            .or_insert_with(|| shared.secret.session_tag(e.session));
        [v, s]
    }
}

/// Packs a finished day's events into blocks that each encode to just under
/// [`SEALED_BLOCK_BYTES`], so no block wastes most of a 64 KiB page.
fn pack_blocks(events: &[Event]) -> Vec<Vec<u8>> {
    use crate::storage::segment::SEALED_BLOCK_BYTES;
    let mut blocks = Vec::new();
    let mut rest = events;
    let mut guess = 4096usize;
    while !rest.is_empty() {
        let mut n = guess.min(rest.len()).max(1);
        loop {
            let mut out = Vec::new();
            encode_block(&rest[..n], &mut out);
            if out.len() <= SEALED_BLOCK_BYTES || n == 1 {
                // Next time aim at the limit from this block's density.
                let per_event = out.len().max(1) as f64 / n as f64;
                guess = ((SEALED_BLOCK_BYTES as f64 * 0.97 / per_event) as usize).max(1);
                blocks.push(out);
                rest = &rest[n..];
                break;
            }
            n = ((n as f64 * SEALED_BLOCK_BYTES as f64 * 0.97 / out.len() as f64) as usize)
                .clamp(1, n - 1);
        }
    }
    blocks
}

/// The session of an event: the visitor's open visit if its last event was
/// less than 30 minutes before, else a new one.
fn assign_session(d: &mut DomainBuf, e: &Event) -> SessionId {
    if e.visitor == VisitorId::ANONYMOUS {
        return SessionId(0);
    }
    if e.ts > d.newest {
        d.newest = e.ts;
    }
    match d.sessions.get_mut(&e.visitor) {
        Some((last, sid)) if (e.ts.0 - last.0).abs() <= SESSION_GAP_MS => {
            if e.ts > *last {
                *last = e.ts;
            }
            *sid
        }
        _ => {
            let sid = d.shared.secret.session_started(e.visitor, e.ts);
            d.sessions.insert(e.visitor, (e.ts, sid));
            sid
        }
    }
}
