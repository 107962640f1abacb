//! Importing history: hits older than a domain's raw-event retention go
//! straight into the day roll-ups of its aggregate file (anonymous counts,
//! no raw event is written), so a site can bring its old logs in and then
//! delete them; and the per-domain records of imported files that let an
//! importer refuse a repeat and resume an interrupted run.
//!
//! Every hit goes through the same pipeline as [`Db::ingest_batch`]
//! (`Engine::prepare_with` in `ingest.rs`: validation, privacy gate, geo, identity,
//! scrubbing); only where the finished event goes differs. Events inside
//! the raw retention are queued for the domain's writer as usual. Older
//! ones are buffered per domain and day, given sessions as the writer gives
//! them (a visit ends after 30 minutes without an event), and when a day is
//! complete (a hit two days later arrived, or [`History::finish`]) rolled
//! up with [`crate::query::rollup`] and merged into the aggregate file,
//! where rows seen by fewer than `min_aggregate_visitors` visitors fold into
//! `(other)` (`AggregateFile::merge`).

use crate::db::Db;
use crate::domain::Domain;
use crate::domain::shared::DomainShared;
use crate::error::{DomainError, IngestError, StorageError};
use crate::event::{Event, SessionId, VisitorId};
use crate::hit::Hit;
use crate::ingest::{Group, Ingested, Prepared};
use crate::time::{Day, Timestamp};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;
use std::sync::Arc;

/// A visit ends after 30 minutes without an event (as in the writer).
const SESSION_GAP_MS: i64 = 30 * 60 * 1000;

/// The longest accepted past window of an import of history, in days.
pub const MAX_HISTORY_DAYS: i64 = 36_500;

/// What became of one hit of an import of history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum HistoryIngested {
    /// Inside the raw retention: queued for the writer, as
    /// [`Db::ingest_batch`] does (or dropped by the gate).
    Raw(Ingested),
    /// Past the raw retention: counted in its day's roll-up in the
    /// aggregate file (durable after [`History::finish`]). `anonymous` if
    /// the hit had no visitor id.
    Aggregated {
        /// The hit had no visitor id.
        anonymous: bool,
    },
}

/// An import of history into a [`Db`]; see the module documentation. Call
/// [`History::finish`] at the end: roll-ups of buffered days are written
/// there.
pub struct History<'db> {
    db: &'db Db,
    max_past_days: i64,
    domains: HashMap<String, Arc<DomainShared>>,
    days: BTreeMap<(String, Day), Vec<Event>>,
    newest: HashMap<String, Day>,
    sessions: HashMap<(String, VisitorId), (Timestamp, SessionId)>,
    aggregated: u64,
}

impl Db {
    /// Starts an import of history that accepts hits up to `max_past_days`
    /// in the past (1 to [`MAX_HISTORY_DAYS`]; `None`:
    /// [`Limits::max_past_days`](crate::Limits), 3,650 by default); hits
    /// older than a domain's aggregate retention are dropped as expired.
    #[must_use]
    pub fn history(&self, max_past_days: Option<i64>) -> History<'_> {
        let days = max_past_days.unwrap_or(self.inner.config.limits.max_past_days);
        History {
            db: self,
            max_past_days: days.clamp(1, MAX_HISTORY_DAYS),
            domains: HashMap::new(),
            days: BTreeMap::new(),
            newest: HashMap::new(),
            sessions: HashMap::new(),
            aggregated: 0,
        }
    }
}

impl History<'_> {
    /// Ingests hits: one result per hit, in order, as
    /// [`Db::ingest_batch`]. Days complete by now are rolled up and merged
    /// into their aggregate file.
    pub fn ingest_batch(
        &mut self,
        hits: impl IntoIterator<Item = Hit>,
    ) -> Vec<Result<HistoryIngested, IngestError>> {
        let inner = &self.db.inner;
        let now = inner.config.clock.now();
        let mut raw: Vec<Result<Ingested, IngestError>> = Vec::new();
        let mut raw_at: Vec<usize> = Vec::new();
        let mut out: Vec<Result<HistoryIngested, IngestError>> = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        for hit in hits {
            match inner.prepare_with(hit, Some(self.max_past_days)) {
                Err(e) => out.push(Err(e)),
                Ok(Prepared::Dropped(r)) => {
                    out.push(Ok(HistoryIngested::Raw(Ingested::Dropped(r))));
                }
                Ok(Prepared::Event(shared, p)) => {
                    if p.event.ts < shared.settings.read().retention.cutoff(now) {
                        let anonymous = p.event.visitor == VisitorId::ANONYMOUS;
                        self.buffer(&shared, p.event, p.session);
                        out.push(Ok(HistoryIngested::Aggregated { anonymous }));
                        continue;
                    }
                    let index = raw.len();
                    raw.push(Ok(p.outcome()));
                    raw_at.push(out.len());
                    out.push(Ok(HistoryIngested::Raw(p.outcome())));
                    match groups.iter_mut().find(|g| Arc::ptr_eq(&g.shared, &shared)) {
                        Some(g) => {
                            g.pending.push(p);
                            g.results.push(index);
                        }
                        None => groups.push(Group {
                            shared,
                            pending: vec![p],
                            results: vec![index],
                        }),
                    }
                }
            }
        }
        inner.send_groups(groups, &mut raw);
        for (r, at) in raw.into_iter().zip(raw_at) {
            if let Err(e) = r {
                out[at] = Err(e);
            }
        }
        if let Err(e) = self.write_complete_days() {
            // Nothing of the failed days was written; report it on the hits
            // of this batch that went there.
            let msg = e.to_string();
            for r in &mut out {
                if matches!(r, Ok(HistoryIngested::Aggregated { .. })) {
                    *r = Err(IngestError::Storage(StorageError::corrupt("", msg.clone())));
                }
            }
        }
        out
    }

    /// Hits counted into aggregates so far (written or buffered).
    #[must_use]
    pub fn aggregated(&self) -> u64 {
        self.aggregated
    }

    fn buffer(&mut self, shared: &Arc<DomainShared>, mut event: Event, session: Option<SessionId>) {
        let name = shared.name.clone();
        self.domains
            .entry(name.clone())
            .or_insert_with(|| Arc::clone(shared));
        event.session = match session {
            Some(s) => s,
            None if event.visitor == VisitorId::ANONYMOUS => SessionId(0),
            None => {
                let key = (name.clone(), event.visitor);
                match self.sessions.get_mut(&key) {
                    Some((last, sid)) if (event.ts.0 - last.0).abs() <= SESSION_GAP_MS => {
                        if event.ts > *last {
                            *last = event.ts;
                        }
                        *sid
                    }
                    _ => {
                        let sid = shared.secret.session_started(event.visitor, event.ts);
                        self.sessions.insert(key, (event.ts, sid));
                        sid
                    }
                }
            }
        };
        let day = event.ts.day();
        let newest = self.newest.entry(name.clone()).or_insert(day);
        if day > *newest {
            *newest = day;
        }
        self.days.entry((name, day)).or_default().push(event);
        self.aggregated += 1;
    }

    /// Writes the days that no later hit of a sorted log can still reach:
    /// those more than one day before the newest day seen of their domain.
    fn write_complete_days(&mut self) -> Result<(), StorageError> {
        let done: Vec<(String, Day)> = self
            .days
            .keys()
            .filter(|(name, day)| self.newest.get(name).is_some_and(|n| day.0 < n.0 - 1))
            .cloned()
            .collect();
        for key in done {
            self.write_day(&key)?;
        }
        if self.sessions.len() > 200_000 {
            self.sessions.clear();
        }
        Ok(())
    }

    fn write_day(&mut self, key: &(String, Day)) -> Result<(), StorageError> {
        let Some(events) = self.days.get(key) else {
            return Ok(());
        };
        let Some(shared) = self.domains.get(&key.0) else {
            return Ok(());
        };
        if shared.removed.load(std::sync::atomic::Ordering::Acquire) {
            self.days.remove(key);
            return Ok(());
        }
        // An erasure requested before the import covers its visitor here
        // too.
        let mut filter = shared.erased_filter();
        let kept: Vec<&Event> = events.iter().filter(|e| !filter.erased(e)).collect();
        if !kept.is_empty() {
            let rollup = crate::rollup::rollup(kept);
            let k = shared.settings.read().min_aggregate_visitors;
            shared.aggregates.merge(key.1, &rollup, k)?;
        }
        self.days.remove(key);
        Ok(())
    }

    /// Rolls up every buffered day and merges it into its aggregate file.
    /// When this returns `Ok`, every hit reported as
    /// [`HistoryIngested::Aggregated`] is durable. (Raw hits are durable
    /// after [`Db::flush`].)
    ///
    /// # Errors
    ///
    /// A storage failure; the days not yet written stay buffered, and a
    /// later call tries them again.
    pub fn finish(&mut self) -> Result<(), StorageError> {
        let keys: Vec<(String, Day)> = self.days.keys().cloned().collect();
        for key in keys {
            self.write_day(&key)?;
        }
        self.sessions.clear();
        Ok(())
    }
}

pub use crate::storage::import_record::ImportRecord;

impl Domain {
    /// The keyed fingerprint under which an importer records a digest of
    /// imported content in this domain: SipHash-1-3 (128-bit) of the digest
    /// under a key derived from the domain's secret. It reveals nothing of
    /// the content without the secret and differs across domains.
    #[must_use]
    pub fn import_fingerprint(&self, digest: &[u8]) -> u128 {
        let secret = self.shared.secret.to_bytes();
        let mut key = [0u8; 16];
        let mut derive = siphasher::sip::SipHasher13::new_with_key(&{
            let mut k = [0u8; 16];
            k.copy_from_slice(&secret[16..]);
            k
        });
        derive.write(b"pledgedb import fingerprint key");
        derive.write(&secret[..16]);
        let a = derive.finish();
        derive.write_u8(1);
        let b = derive.finish();
        key[..8].copy_from_slice(&a.to_le_bytes());
        key[8..].copy_from_slice(&b.to_le_bytes());
        let mut h = siphasher::sip128::SipHasher13::new_with_key(&key);
        h.write(digest);
        siphasher::sip128::Hasher128::finish128(&h).as_u128()
    }

    /// The records of inputs imported into this domain, with their numbers.
    ///
    /// # Errors
    ///
    /// A storage failure.
    pub fn import_records(&self) -> Result<Vec<(u64, ImportRecord)>, DomainError> {
        Ok(self.shared.control.imports()?)
    }

    /// Stores an import record under its number `id` (replacing it), or
    /// under a new number if `None`; returns the number. The write is
    /// durable when this returns.
    ///
    /// # Errors
    ///
    /// A storage failure.
    pub fn put_import_record(
        &self,
        id: Option<u64>,
        rec: &ImportRecord,
    ) -> Result<u64, DomainError> {
        Ok(self.shared.control.put_import(id, rec)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS_PER_DAY;
    use crate::time::ManualClock;
    use crate::{Config, DayRange, Dimension, Query};

    fn db(dir: &std::path::Path, now: Timestamp) -> Db {
        let clock = ManualClock::new(now);
        Db::open(dir, Config::default().with_clock(Arc::new(clock))).unwrap()
    }

    #[test]
    fn old_hits_become_aggregates_and_recent_ones_raw_events() {
        let tmp = tempfile::tempdir().unwrap();
        let now = Timestamp::from_ymd_hms(2026, 6, 1, 12, 0, 0);
        let db = db(tmp.path(), now);
        let old = now.plus_millis(-200 * MS_PER_DAY);
        let recent = now.plus_millis(-10 * MS_PER_DAY);
        let ancient = now.plus_millis(-800 * MS_PER_DAY);
        let mut hits = Vec::new();
        for v in 0..6 {
            for (i, t) in [old, recent].into_iter().enumerate() {
                hits.push(
                    Hit::page_view("h.example", "/p")
                        .client_id(format!("c{v}"))
                        .at(t.plus_millis(i as i64 * 1000 + v)),
                );
            }
        }
        hits.push(Hit::page_view("h.example", "/p").at(ancient));
        let mut h = db.history(None);
        let r = h.ingest_batch(hits);
        assert_eq!(
            r.iter()
                .filter(|r| matches!(r, Ok(HistoryIngested::Aggregated { .. })))
                .count(),
            6
        );
        assert!(matches!(
            r.last(),
            Some(Ok(HistoryIngested::Raw(Ingested::Dropped(
                crate::DropReason::Expired
            ))))
        ));
        h.finish().unwrap();
        db.flush().unwrap();
        let d = db.domain("h.example").unwrap();
        let q = Query::days(DayRange::new(old.day(), old.day()));
        let m = d.metrics(&q).unwrap();
        assert_eq!((m.pageviews, m.visits, m.visitors), (6, 6, 6));
        let q = Query::days(DayRange::new(recent.day(), recent.day()));
        assert_eq!(d.metrics(&q).unwrap().pageviews, 6);
        let pages = d
            .breakdown(
                &Query::days(DayRange::new(old.day(), old.day())),
                Dimension::Page,
                10,
            )
            .unwrap();
        assert_eq!(pages[0].0, "/p");
    }

    #[test]
    fn history_merges_into_the_aggregate_a_day_already_has() {
        let tmp = tempfile::tempdir().unwrap();
        let start = Timestamp::from_ymd_hms(2026, 1, 10, 12, 0, 0);
        let clock = ManualClock::new(start);
        let mut config = Config::default().with_clock(Arc::new(clock.clone()));
        config.background_compaction = false;
        let db = Db::open(tmp.path(), config).unwrap();
        let day = start.plus_millis(-MS_PER_DAY).day();
        let hit = |v: u32, t: Timestamp| {
            Hit::page_view("m.example", "/same")
                .client_id(format!("v{v}"))
                .at(t)
        };
        // Raw events of the day, which then expire into the aggregates.
        for v in 0..5 {
            let _ = db
                .ingest(hit(v, day.start().plus_millis(3_600_000)))
                .unwrap();
        }
        db.flush().unwrap();
        clock.advance_days(100);
        assert_eq!(db.compact_now().unwrap().segments_expired, 1);
        let d = db.domain("m.example").unwrap();
        let q = Query::days(DayRange::new(day, day));
        assert_eq!(d.metrics(&q).unwrap().pageviews, 5);
        // History of the same day, from a log: added, not replacing.
        let mut h = db.history(None);
        let hits: Vec<Hit> = (5..8)
            .map(|v| hit(v, day.start().plus_millis(7_200_000)))
            .collect();
        let r = h.ingest_batch(hits);
        assert!(
            r.iter()
                .all(|r| matches!(r, Ok(HistoryIngested::Aggregated { anonymous: false })))
        );
        h.finish().unwrap();
        let m = d.metrics(&q).unwrap();
        assert_eq!((m.pageviews, m.visits, m.visitors), (8, 8, 8));
        let pages = d.breakdown(&q, Dimension::Page, 10).unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!((pages[0].0.as_str(), pages[0].1.pageviews), ("/same", 8));
    }

    #[test]
    fn the_window_is_the_one_asked_for() {
        let tmp = tempfile::tempdir().unwrap();
        let now = Timestamp::from_ymd_hms(2026, 6, 1, 12, 0, 0);
        let db = db(tmp.path(), now);
        for (window, back, accepted) in [
            (Some(30), 20, true),
            (Some(30), 40, false),
            (None, 3000, true),
            (None, 3700, false),
            (Some(5000), 3700, true),
            (Some(0), 0, true),
        ] {
            let mut h = db.history(window);
            let r = h.ingest_batch([
                Hit::page_view("w.example", "/").at(now.plus_millis(-back * MS_PER_DAY))
            ]);
            let rejected = matches!(&r[0], Err(IngestError::Hit(_)));
            assert_eq!(!rejected, accepted, "{window:?} {back}: {r:?}");
            h.finish().unwrap();
        }
    }

    #[test]
    fn fingerprints_are_keyed_per_domain() {
        let tmp = tempfile::tempdir().unwrap();
        let db = db(tmp.path(), Timestamp::from_ymd_hms(2026, 6, 1, 0, 0, 0));
        let a = db.create_domain("a.example").unwrap();
        let b = db.create_domain("b.example").unwrap();
        assert_eq!(a.import_fingerprint(b"x"), a.import_fingerprint(b"x"));
        assert_ne!(a.import_fingerprint(b"x"), a.import_fingerprint(b"y"));
        assert_ne!(a.import_fingerprint(b"x"), b.import_fingerprint(b"x"));
        let rec = ImportRecord {
            head_lines: 3,
            head: 1,
            lines: 3,
            whole: 1,
            before_last: 2,
            complete: true,
            imported_at: Timestamp(5),
            runs: 1,
        };
        let id = a.put_import_record(None, &rec).unwrap();
        let again = ImportRecord {
            runs: 2,
            ..rec.clone()
        };
        assert_eq!(a.put_import_record(Some(id), &again).unwrap(), id);
        assert_eq!(a.import_records().unwrap(), vec![(id, again)]);
        assert!(b.import_records().unwrap().is_empty());
    }
}
