//! Access and erasure (promises P5 and P6): everything stored about one
//! visitor, and erasure of a visitor or a session by tombstone.

use super::reader::{Columns, Predicate};
use super::{Domain, EraseError, Erasure, ErasureReceipt, TimeRange, VisitorExport, VisitorRef};
use crate::codec::BlockView;
use crate::error::{ReadError, StorageError};
use crate::event::{SessionId, VisitorId};
use crate::storage::control::{ErasureKind, ErasureRecord};
use crate::time::Timestamp;
use std::sync::atomic::Ordering;

impl Domain {
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
        // The Reader skips every segment whose visitor index does not name
        // the visitor, and every block whose visitor list does not.
        let mut events = Vec::new();
        let pred = Predicate {
            visitor: Some(visitor),
            ..Predicate::default()
        };
        self.scan_where(
            TimeRange::new(from, Timestamp(i64::MAX)),
            Columns::ALL,
            &pred,
            |e| events.push(e.clone()),
        )?;
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
}
