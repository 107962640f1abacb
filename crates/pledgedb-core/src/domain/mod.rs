//! The domain handle: the only door to one domain's data. Every read,
//! setting, export and erasure goes through a [`Domain`], and no method of it
//! can reach another domain (promise P2).

mod link;
pub mod reader;
pub(crate) use crate::storage::segments;
pub(crate) mod shared;

use crate::codec::BlockView;
use crate::error::{DomainError, ReadError, StorageError};
use crate::event::{Country, Event, SessionId, VisitorId};
use crate::settings::{ConsentPolicy, DomainSettings, Retention};
use crate::storage::control::{ErasureKind, ErasureRecord};
use crate::text::Text;
use crate::time::Timestamp;
pub(crate) use link::EngineLink;
use serde::Serialize;
use shared::DomainShared;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A half-open time range `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// First millisecond included.
    pub from: Timestamp,
    /// First millisecond excluded.
    pub to: Timestamp,
}

impl TimeRange {
    /// `[from, to)`.
    #[must_use]
    pub fn new(from: Timestamp, to: Timestamp) -> Self {
        TimeRange { from, to }
    }

    /// All of time.
    #[must_use]
    pub fn all() -> Self {
        TimeRange {
            from: Timestamp(i64::MIN),
            to: Timestamp(i64::MAX),
        }
    }

    /// Whether `t` is inside.
    #[must_use]
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}

/// Names a visitor for export or erasure. Its `Debug` never prints a client
/// id: a log line must not become a copy of one.
#[derive(Clone, PartialEq, Eq)]
pub enum VisitorRef {
    /// The first-party client id (cookie value) the tracker sent.
    ClientId(String),
    /// The stored visitor id.
    Id(VisitorId),
}

impl std::fmt::Debug for VisitorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VisitorRef::ClientId(c) => write!(f, "ClientId(<{} bytes>)", c.len()),
            VisitorRef::Id(v) => f.debug_tuple("Id").field(v).finish(),
        }
    }
}

impl VisitorRef {
    /// Reads what an operator typed: a 16-digit hex visitor id, or else a
    /// client id.
    #[must_use]
    pub fn parse(s: &str) -> VisitorRef {
        match VisitorId::parse_hex(s) {
            Some(v) => VisitorRef::Id(v),
            None => VisitorRef::ClientId(s.to_string()),
        }
    }
}

pub use crate::error::EraseError;

/// The receipt of an erasure request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErasureReceipt {
    /// The request's number in the domain's erasure log.
    pub request: u64,
    /// When the tombstone was written. From this moment no read returns the
    /// erased data.
    pub requested_at: Timestamp,
    /// The latest moment the bytes will be physically gone, given the
    /// configured erasure deadline.
    pub purge_deadline: Timestamp,
    /// Segments that held the erased data when the request was made.
    pub segments: usize,
}

/// What an erasure request did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Erasure {
    /// A tombstone was written; the purge follows.
    Pending(ErasureReceipt),
    /// Nothing is stored about that visitor; nothing was written.
    NotFound,
}

/// Everything stored about one visitor of one domain (promise P5).
#[derive(Clone, Debug, Serialize)]
pub struct VisitorExport {
    /// The domain.
    pub domain: String,
    /// The visitor's id in this domain.
    pub visitor: VisitorId,
    /// When the export was made.
    pub exported_at: Timestamp,
    /// The retention that applies to these events.
    pub retention: Retention,
    /// The consent policy that applies.
    pub consent: ConsentPolicy,
    /// Every stored event of the visitor, oldest first.
    pub events: Vec<Event>,
}

/// A cheap, cloneable handle on one domain.
#[derive(Clone)]
pub struct Domain {
    db: Arc<dyn EngineLink>,
    pub(crate) shared: Arc<DomainShared>,
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain")
            .field("name", &self.shared.name)
            .finish()
    }
}

impl Domain {
    pub(crate) fn new(db: Arc<dyn EngineLink>, shared: Arc<DomainShared>) -> Self {
        Domain { db, shared }
    }

    pub(crate) fn clock(&self) -> &Arc<dyn crate::time::Clock> {
        &self.db.config().clock
    }

    /// The domain's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    fn check_live(&self) -> Result<(), StorageError> {
        if self.shared.removed.load(Ordering::Acquire) {
            Err(StorageError::DomainRemoved)
        } else {
            Ok(())
        }
    }

    /// The domain's settings.
    #[must_use]
    pub fn settings(&self) -> DomainSettings {
        (**self.shared.settings.read()).clone()
    }

    /// Replaces the domain's settings (persisted in its control file).
    pub fn set_settings(&self, s: DomainSettings) -> Result<(), DomainError> {
        s.validate().map_err(DomainError::InvalidSetting)?;
        self.check_live()?;
        let mut cur = self.shared.settings.write();
        self.shared.control.set_settings(&s)?;
        *cur = Arc::new(s);
        Ok(())
    }

    /// Sets the retention.
    pub fn set_retention(&self, r: Retention) -> Result<(), DomainError> {
        let mut s = self.settings();
        s.retention = r;
        self.set_settings(s)
    }

    /// Sets the consent policy.
    pub fn set_consent_policy(&self, p: ConsentPolicy) -> Result<(), DomainError> {
        let mut s = self.settings();
        s.consent = p;
        self.set_settings(s)
    }

    /// Calls `f` with every visible event in `range`, segment by segment.
    /// Visible: flushed, inside the raw-event TTL, and not covered by a
    /// tombstone.
    pub fn scan(&self, range: TimeRange, mut f: impl FnMut(&Event)) -> Result<(), ReadError> {
        self.reader(range)?
            .scan(reader::Columns::ALL, &reader::Predicate::all(), |e| {
                f(e);
                std::ops::ControlFlow::Continue(())
            })?;
        Ok(())
    }

    /// Every visible event in `range`, in storage order.
    pub fn events(&self, range: TimeRange) -> Result<Vec<Event>, ReadError> {
        let mut out = Vec::new();
        self.scan(range, |e| out.push(e.clone()))?;
        Ok(out)
    }

    /// The number of visible events in `range`.
    pub fn count(&self, range: TimeRange) -> Result<u64, ReadError> {
        let mut n = 0u64;
        self.scan(range, |_| n += 1)?;
        Ok(n)
    }

    /// Events per country in `range`, most first.
    pub fn count_by_country(&self, range: TimeRange) -> Result<Vec<(Country, u64)>, ReadError> {
        let mut m: HashMap<Country, u64> = HashMap::new();
        self.scan(range, |e| *m.entry(e.country).or_default() += 1)?;
        Ok(sorted_counts(m))
    }

    /// Events per page path in `range`, most first.
    pub fn count_by_path(&self, range: TimeRange) -> Result<Vec<(Text, u64)>, ReadError> {
        let mut m: HashMap<Text, u64> = HashMap::new();
        self.scan(range, |e| *m.entry(e.path.clone()).or_default() += 1)?;
        Ok(sorted_counts(m))
    }

    /// The visitor id a reference names in this domain.
    #[must_use]
    pub fn visitor_id(&self, who: &VisitorRef) -> VisitorId {
        match who {
            VisitorRef::ClientId(c) => self.shared.secret.visitor_from_client(c),
            VisitorRef::Id(v) => *v,
        }
    }

    /// Everything stored about one visitor (promise P5): every visible event,
    /// with the retention and consent settings that apply. Events still in
    /// the writers' queues are flushed first so the export is complete.
    pub fn export_visitor(&self, who: &VisitorRef) -> Result<VisitorExport, ReadError> {
        self.check_live()?;
        let visitor = self.visitor_id(who);
        if visitor == VisitorId::ANONYMOUS {
            return Err(ReadError::Invalid(
                "the anonymous visitor id 0 names no one".into(),
            ));
        }
        self.db.flush()?;
        let now = self.db.config().clock.now();
        let from = self.shared.retention_cutoff(now);
        let tag = self.shared.secret.visitor_tag(visitor);
        let mut filter = self.shared.erased_filter();
        let mut events = Vec::new();
        for seg in self.shared.segments_in(from, Timestamp(i64::MAX))? {
            if !seg.has_any_tag(&[tag])? {
                continue;
            }
            let path = seg.path.clone();
            let codec = |e| StorageError::Codec {
                path: path.clone(),
                source: e,
            };
            seg.for_each_block(|_, bytes| {
                let view = BlockView::parse(bytes).map_err(codec)?;
                if !view.visitors().map_err(codec)?.contains(&visitor.0) {
                    return Ok(());
                }
                for e in view.events().map_err(codec)? {
                    if e.visitor == visitor && e.ts >= from && !filter.erased(&e) {
                        events.push(e);
                    }
                }
                Ok(())
            })?;
        }
        events.sort_by_key(|e| e.ts);
        let settings = self.settings();
        Ok(VisitorExport {
            domain: self.shared.name.clone(),
            visitor,
            exported_at: now,
            retention: settings.retention,
            consent: settings.consent,
            events,
        })
    }

    /// Erases one visitor (promise P6): writes a durable tombstone and
    /// returns. From that moment no read, count or export returns the
    /// visitor's events, including ones still queued; the compactor then
    /// rewrites every segment that held them, within the erasure deadline.
    pub fn erase_visitor(&self, who: &VisitorRef) -> Result<Erasure, EraseError> {
        if self.shared.removed.load(Ordering::Acquire) {
            return Err(EraseError::DomainGone);
        }
        if let VisitorRef::ClientId(c) = who
            && c.is_empty()
        {
            return Err(EraseError::InvalidId("empty client id"));
        }
        let visitor = self.visitor_id(who);
        if visitor == VisitorId::ANONYMOUS {
            return Err(EraseError::InvalidId(
                "the anonymous visitor id 0 names no one",
            ));
        }
        // Everything queued before the request reaches the files, so the
        // index below sees it.
        self.db.flush()?;
        let tag = self.shared.secret.visitor_tag(visitor);
        let mut segments = 0;
        for seg in self
            .shared
            .segments_in(Timestamp(i64::MIN), Timestamp(i64::MAX))?
        {
            if seg.has_any_tag(&[tag])? {
                segments += 1;
            }
        }
        // A quarantined segment of this domain cannot be read: it may hold
        // the visitor, so the request is recorded and its purge deletes it.
        segments += self.quarantined_segments();
        if segments == 0 {
            return Ok(Erasure::NotFound);
        }
        self.record_erasure(tag, ErasureKind::Visitor, segments)
    }

    /// Erases one session: like [`Domain::erase_visitor`], for the events of
    /// one visit.
    pub fn erase_session(&self, session: SessionId) -> Result<Erasure, EraseError> {
        if self.shared.removed.load(Ordering::Acquire) {
            return Err(EraseError::DomainGone);
        }
        if session == SessionId(0) {
            return Err(EraseError::InvalidId(
                "the anonymous session id 0 names no visit",
            ));
        }
        self.db.flush()?;
        let tag = self.shared.secret.session_tag(session);
        let mut segments = 0;
        for seg in self
            .shared
            .segments_in(Timestamp(i64::MIN), Timestamp(i64::MAX))?
        {
            let mut found = false;
            seg.for_each_block(|_, bytes| {
                if !found
                    && let Ok(view) = BlockView::parse(bytes)
                    && view.sessions().is_ok_and(|s| s.contains(&session.0))
                {
                    found = true;
                }
                Ok(())
            })?;
            segments += usize::from(found);
        }
        segments += self.quarantined_segments();
        if segments == 0 {
            return Ok(Erasure::NotFound);
        }
        self.record_erasure(tag, ErasureKind::Session, segments)
    }

    /// Segments of this domain set aside in the quarantine.
    fn quarantined_segments(&self) -> usize {
        self.shared
            .opener
            .quarantine
            .files()
            .iter()
            .filter(|f| crate::storage::quarantine::was_segment_of(&f.original, &self.shared.name))
            .count()
    }

    fn record_erasure(
        &self,
        tag: crate::identity::EraseTag,
        kind: ErasureKind,
        segments: usize,
    ) -> Result<Erasure, EraseError> {
        // A request for someone whose purge is still pending is the same
        // request: it answers with the receipt already given.
        if let Some((_, stone)) = self
            .shared
            .tombstones()
            .into_iter()
            .find(|(t, s)| *t == tag && s.purged_at.is_none())
        {
            return Ok(Erasure::Pending(ErasureReceipt {
                request: stone.request,
                requested_at: stone.requested_at,
                purge_deadline: stone
                    .requested_at
                    .plus_millis(self.db.config().erasure_deadline_ms),
                segments,
            }));
        }
        let now = self.db.config().clock.now();
        let stone = self.shared.control.add_tombstone(tag, kind, now)?;
        let receipt = ErasureReceipt {
            request: stone.request,
            requested_at: now,
            purge_deadline: now.plus_millis(self.db.config().erasure_deadline_ms),
            segments,
        };
        self.shared.put_tombstone(tag, stone);
        self.db.wake_compactor();
        Ok(Erasure::Pending(receipt))
    }

    /// The anonymous erasure log: one record per request, saying when it was
    /// made and purged and how much it removed, never whom it concerned.
    pub fn erasure_log(&self) -> Result<Vec<ErasureRecord>, StorageError> {
        self.shared.control.erasure_log()
    }

    /// Erasure requests whose purge has not completed yet.
    #[must_use]
    pub fn pending_purges(&self) -> usize {
        self.shared
            .tombstones()
            .iter()
            .filter(|(_, t)| t.purged_at.is_none())
            .count()
    }

    /// Days that have a segment file, oldest first.
    #[must_use]
    pub fn segment_days(&self) -> Vec<crate::time::Day> {
        self.shared.segments.days()
    }
}

fn sorted_counts<K: Ord>(m: HashMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}
