//! One definition of a visit, shared by the daily roll-ups
//! ([`rollup`](super::rollup)), [`Domain::sessions`](crate::Domain::sessions)
//! and SQL's `sessions` table, so that all three agree on a visit's entry
//! page, duration and bounce by construction.
//!
//! A visit is the events of one session id (never the anonymous id 0) among
//! the events it is computed from: one day's for a roll-up, the range asked
//! for by `sessions()` and SQL.
//! - start and end: its first and last event (of any type); duration is end
//!   minus start;
//! - entry: its first page view (the earliest; of equal times, the first
//!   seen); its country, device, browser and referrer are the visit's. A
//!   visit without a page view has no entry: it is no visit to a roll-up,
//!   and `sessions()` and SQL show the first event's page and attributes;
//! - exit page: the page of its last event (of equal times, the last seen);
//! - bounce: exactly one page view.

use crate::event::{Country, Device, Event, EventKind, SessionId, VisitorId};
use crate::text::Text;
use crate::time::Timestamp;
use std::collections::HashMap;

/// Where a visit landed: the page and attributes of its entry page view
/// (or, for a visit without one, of its first event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landing {
    /// When.
    pub ts: Timestamp,
    /// The page.
    pub path: Text,
    /// The referrer host (empty: direct, or not a page view).
    pub referrer: Text,
    /// The country.
    pub country: Country,
    /// The device class.
    pub device: Device,
    /// The browser family.
    pub browser: Text,
}

impl Landing {
    /// The landing an event makes.
    #[must_use]
    pub fn of(e: &Event) -> Landing {
        let referrer = match &e.kind {
            EventKind::PageView { referrer, .. } => referrer.clone(),
            _ => Text::empty(),
        };
        Landing {
            ts: e.ts,
            path: e.path.clone(),
            referrer,
            country: e.country,
            device: e.device,
            browser: e.browser.clone(),
        }
    }
}

/// One visit, as its events are added in any order.
///
/// `L` is what the visit keeps of its landing events and `P` of a page:
/// [`Landing`] and [`Text`] for [`Domain::sessions`](crate::Domain::sessions)
/// and SQL, the rows of a roll-up being computed for the roll-ups. Either
/// way one function, [`Visit::observe`], applies the definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit<L = Landing, P = Text> {
    /// The session id.
    pub session: SessionId,
    /// The visitor (of the first event added).
    pub visitor: VisitorId,
    /// First event.
    pub start: Timestamp,
    /// Last event.
    pub end: Timestamp,
    /// Page views.
    pub pageviews: u64,
    /// All events.
    pub events: u64,
    /// The first page view, if any.
    pub entry: Option<L>,
    /// The first event.
    pub first: L,
    /// The page of the last event.
    pub exit_page: P,
    /// The distinct pages of its page views, in the order first seen.
    pub pages: Vec<P>,
    /// When the entry page view happened.
    entry_ts: Timestamp,
}

impl<L: Clone, P: Clone + PartialEq> Visit<L, P> {
    /// A visit of `session` whose first event seen (at `ts`, on `page`)
    /// lands as `first`, with nothing added yet: [`observe`](Visit::observe)
    /// that event next.
    #[must_use]
    pub fn begin(session: SessionId, visitor: VisitorId, ts: Timestamp, first: L, page: P) -> Self {
        Visit {
            session,
            visitor,
            start: ts,
            end: ts,
            pageviews: 0,
            events: 0,
            entry: None,
            first,
            exit_page: page,
            pages: Vec::new(),
            entry_ts: ts,
        }
    }

    /// Adds one event of the visit: at `ts`, on `page`, a page view or
    /// not; `landing` is what it lands as, asked for only when the event
    /// becomes the visit's entry or first event.
    pub fn observe(&mut self, ts: Timestamp, page_view: bool, page: &P, landing: impl Fn() -> L) {
        self.events += 1;
        if page_view {
            self.pageviews += 1;
            if self.entry.is_none() || ts < self.entry_ts {
                self.entry = Some(landing());
                self.entry_ts = ts;
            }
            if !self.pages.contains(page) {
                self.pages.push(page.clone());
            }
        }
        if ts < self.start {
            self.start = ts;
            self.first = landing();
        }
        if ts >= self.end {
            self.end = ts;
            self.exit_page.clone_from(page);
        }
    }

    /// End minus start, in milliseconds.
    #[must_use]
    pub fn duration_ms(&self) -> u64 {
        u64::try_from(self.end.0.saturating_sub(self.start.0)).unwrap_or(0)
    }

    /// Exactly one page view.
    #[must_use]
    pub fn bounced(&self) -> bool {
        self.pageviews == 1
    }

    /// The entry page view, or the first event for a visit without one.
    #[must_use]
    pub fn landing(&self) -> &L {
        self.entry.as_ref().unwrap_or(&self.first)
    }
}

impl Visit {
    /// A visit of `e`'s session with nothing added yet.
    #[must_use]
    pub fn new(e: &Event) -> Visit {
        Visit::begin(e.session, e.visitor, e.ts, Landing::of(e), e.path.clone())
    }

    /// Adds one event of the visit.
    pub fn add(&mut self, e: &Event) {
        let pv = matches!(e.kind, EventKind::PageView { .. });
        self.observe(e.ts, pv, &e.path, || Landing::of(e));
    }
}

/// The visits of a stream of events, keyed by session.
#[derive(Clone, Debug, Default)]
pub struct Visits {
    map: HashMap<SessionId, Visit, crate::hash::FoldState>,
}

impl Visits {
    /// No visit yet.
    #[must_use]
    pub fn new() -> Visits {
        Visits::default()
    }

    /// Adds one event; events without a session (id 0) belong to no visit.
    /// Returns whether the event started a new visit.
    pub fn add(&mut self, e: &Event) -> bool {
        if e.session == SessionId(0) {
            return false;
        }
        match self.map.get_mut(&e.session) {
            Some(v) => {
                v.add(e);
                false
            }
            None => {
                let mut v = Visit::new(e);
                v.add(e);
                self.map.insert(e.session, v);
                true
            }
        }
    }

    /// Visits so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The visits, in no particular order.
    pub fn into_visits(self) -> impl Iterator<Item = Visit> {
        self.map.into_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, path: &str, pv: bool) -> Event {
        let kind = if pv {
            EventKind::PageView {
                referrer: Text::new(&format!("r{ts}")),
                utm: Text::empty(),
            }
        } else {
            EventKind::Scroll { depth: 10 }
        };
        Event {
            ts: Timestamp(ts),
            visitor: VisitorId(9),
            session: SessionId(3),
            country: Country::UNKNOWN,
            device: Device::Unknown,
            browser: Text::empty(),
            path: Text::new(path),
            kind,
        }
    }

    #[test]
    fn entry_is_the_first_page_view_in_any_arrival_order() {
        let events = [
            ev(5, "/scroll-first", false),
            ev(20, "/b", true),
            ev(10, "/a", true),
            ev(30, "/c", false),
        ];
        // Every order of arrival gives the same visit.
        let orders: [[usize; 4]; 4] = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]];
        for order in orders {
            let mut vs = Visits::new();
            for i in order {
                vs.add(&events[i]);
            }
            let v = vs.into_visits().next().unwrap();
            assert_eq!(v.landing().path.as_str(), "/a");
            assert_eq!(v.landing().referrer.as_str(), "r10");
            assert_eq!(v.first.path.as_str(), "/scroll-first");
            assert_eq!(v.exit_page.as_str(), "/c");
            assert_eq!(v.duration_ms(), 25);
            assert_eq!(v.pageviews, 2);
            assert!(!v.bounced());
        }
    }

    #[test]
    fn a_visit_without_page_view_lands_on_its_first_event() {
        let mut vs = Visits::new();
        vs.add(&ev(7, "/x", false));
        vs.add(&ev(3, "/y", false));
        let v = vs.into_visits().next().unwrap();
        assert!(v.entry.is_none());
        assert_eq!(v.landing().path.as_str(), "/y");
        assert!(!v.bounced());
    }
}
