//! Daily roll-ups: the anonymous aggregates dashboards ask for, computed by
//! one function from one day's events. The same function answers raw-scan
//! queries, so a roll-up answer and a raw answer to the same question are
//! equal by construction.
//!
//! Definitions (per UTC day; a visit that crosses midnight counts on both
//! days):
//! - page views: page-view events;
//! - visits: sessions with at least one page view that day; an anonymous
//!   page view (kept without consent, no session) is a visit of its own;
//! - bounces: visits with exactly one page view;
//! - duration: per visit, last event minus first event of the day;
//! - visitors: a HyperLogLog sketch of the visitor ids of all events
//!   (anonymous events are not counted);
//! - breakdowns: by country, device and browser per event; by entry page and
//!   referrer per visit (the values of its first page view); by page per
//!   page view (visits = visits that viewed the page, bounces = one-page
//!   visits of that page).
//!
//! The module sits below storage: the segment and aggregate files store
//! [`DayRollup`]s, and the query layer (`crate::query`) builds on them,
//! re-exporting every type here under `query::`. [`DayRange`] and
//! [`Filters`] (`range.rs`) say which days and which events a question
//! covers.

pub mod filter;
pub mod hll;
mod range;
pub mod visit;

use crate::event::{Event, EventKind, SessionId, VisitorId};
use crate::text::Text;
use hll::Hll;
pub use range::{DayRange, Filters};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use visit::{Landing, Visits};

/// A breakdown dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Country of the event.
    Country,
    /// Device class.
    Device,
    /// Browser family.
    Browser,
    /// Page path of a page view.
    Page,
    /// First page of a visit.
    EntryPage,
    /// Referrer host of a visit's first page view (`(direct)` if none).
    Referrer,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 6] = [
        Dimension::Country,
        Dimension::Device,
        Dimension::Browser,
        Dimension::Page,
        Dimension::EntryPage,
        Dimension::Referrer,
    ];

    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Country => "country",
            Dimension::Device => "device",
            Dimension::Browser => "browser",
            Dimension::Page => "page",
            Dimension::EntryPage => "entry_page",
            Dimension::Referrer => "referrer",
        }
    }

    /// Parses a snake_case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Label of visits without referrer.
pub const DIRECT: &str = "(direct)";

/// Label of the row that long-lived aggregates fold rare values into (see
/// [`fold_rare`]).
pub const OTHER: &str = "(other)";

/// Additive counters and a visitor sketch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agg {
    /// Page views.
    pub pageviews: u64,
    /// Visits.
    pub visits: u64,
    /// One-page visits.
    pub bounces: u64,
    /// Total visit duration in milliseconds.
    pub duration_ms: u64,
    /// All events.
    pub events: u64,
    /// Distinct visitors.
    pub visitors: Hll,
}

impl Agg {
    /// Adds another aggregate into this one.
    /// Counters saturate, so even a roll-up decoded from a damaged file
    /// merges without overflow.
    pub fn merge(&mut self, o: &Agg) {
        self.pageviews = self.pageviews.saturating_add(o.pageviews);
        self.visits = self.visits.saturating_add(o.visits);
        self.bounces = self.bounces.saturating_add(o.bounces);
        self.duration_ms = self.duration_ms.saturating_add(o.duration_ms);
        self.events = self.events.saturating_add(o.events);
        self.visitors.merge(&o.visitors);
    }
}

/// One day's roll-up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRollup {
    /// Everything.
    pub totals: Agg,
    /// Per dimension, per value.
    pub by: BTreeMap<Dimension, BTreeMap<String, Agg>>,
}

impl DayRollup {
    /// Adds another roll-up into this one.
    pub fn merge(&mut self, o: &DayRollup) {
        self.totals.merge(&o.totals);
        for (dim, values) in &o.by {
            let mine = self.by.entry(*dim).or_default();
            for (k, a) in values {
                mine.entry(k.clone()).or_default().merge(a);
            }
        }
    }
}

/// Folds every breakdown row seen by fewer than `k` distinct visitors into
/// one [`OTHER`] row per dimension, so that no row of a long-lived aggregate
/// names a value (a page such as `/account/jane-doe`, an entry page, a
/// referrer, a country, a device or a browser) that points at a handful of
/// people. The `(other)` row carries the merged counters and the merged
/// visitor sketch; [`DayRollup::totals`] are not touched, so totals stay
/// exact and every dimension's rows still sum to what they summed to.
///
/// A row's visitors are its HyperLogLog estimate, which for small counts is
/// the number of distinct registers set: it can fall short of the true count
/// (two visitors sharing a register), never exceed it, so a row is never kept
/// for having too few visitors. A row seen only by anonymous events (no
/// visitor id, so no known number of people) counts 0 visitors and is
/// folded. An `(other)` row already present (a fold of an earlier merge) is
/// kept and grows. `k <= 1` keeps every row.
pub fn fold_rare(r: &mut DayRollup, k: u32) {
    if k <= 1 {
        return;
    }
    for values in r.by.values_mut() {
        let rare: Vec<String> = values
            .iter()
            .filter(|(key, a)| key.as_str() != OTHER && a.visitors.estimate() < u64::from(k))
            .map(|(key, _)| key.clone())
            .collect();
        if rare.is_empty() {
            continue;
        }
        let mut other = values.remove(OTHER).unwrap_or_default();
        for key in rare {
            if let Some(a) = values.remove(&key) {
                other.merge(&a);
            }
        }
        values.insert(OTHER.to_string(), other);
    }
}

/// A visit with at least one page view, ready to be counted.
struct Finished {
    pageviews: u64,
    duration: u64,
    visitor: VisitorId,
    entry: Landing,
    pages: Vec<Text>,
}

fn referrer_of(l: &Landing) -> &str {
    if l.referrer.is_empty() {
        DIRECT
    } else {
        l.referrer.as_str()
    }
}

/// A row of a roll-up being computed: its counters, and its visitors as an
/// [`HllBuilder`] (cheap per id) rather than a finished sketch.
#[derive(Default)]
struct Row {
    key: String,
    agg: Agg,
    ids: hll::HllBuilder,
}

impl std::ops::Deref for Row {
    type Target = Agg;
    fn deref(&self) -> &Agg {
        &self.agg
    }
}

impl std::ops::DerefMut for Row {
    fn deref_mut(&mut self) -> &mut Agg {
        &mut self.agg
    }
}

impl Row {
    fn finish(self) -> (String, Agg) {
        (
            self.key,
            Agg {
                visitors: self.ids.finish(),
                ..self.agg
            },
        )
    }
}

/// The rows of a roll-up being computed, per dimension: the rows in a
/// `Vec` and their keys in a hash map to their index (a row is found with
/// one hash of its key, and its key is allocated once, when the row is
/// new), sorted into the roll-up's `BTreeMap`s at the end.
struct Rows {
    totals: Row,
    index: [std::collections::HashMap<String, usize, crate::hash::FoldState>; 6],
    rows: [Vec<Row>; 6],
    /// The last row found per dimension (events in a row often share a
    /// country, a device or a browser): compared before hashing.
    last: [Option<usize>; 6],
}

impl Rows {
    fn new() -> Rows {
        Rows {
            totals: Row::default(),
            index: std::array::from_fn(|_| std::collections::HashMap::default()),
            rows: std::array::from_fn(|_| Vec::new()),
            last: [None; 6],
        }
    }

    fn slot(&mut self, dim: Dimension, key: &str) -> &mut Row {
        let d = dim as usize;
        let rows = &mut self.rows[d];
        if let Some(i) = self.last[d]
            && rows.get(i).is_some_and(|r| r.key == key)
        {
            return &mut rows[i];
        }
        let i = match self.index[d].get(key) {
            Some(&i) => i,
            None => {
                self.index[d].insert(key.to_string(), rows.len());
                rows.push(Row {
                    key: key.to_string(),
                    ..Row::default()
                });
                rows.len() - 1
            }
        };
        self.last[d] = Some(i);
        &mut rows[i]
    }

    fn finish(self) -> DayRollup {
        let mut by = BTreeMap::new();
        for (dim, rows) in Dimension::ALL.into_iter().zip(self.rows) {
            if !rows.is_empty() {
                by.insert(dim, rows.into_iter().map(Row::finish).collect());
            }
        }
        DayRollup {
            totals: self.totals.finish().1,
            by,
        }
    }
}

/// Computes the roll-up of a set of events (normally one day of one domain).
#[must_use]
pub fn rollup<'a>(events: impl IntoIterator<Item = &'a Event>) -> DayRollup {
    let mut b = RollupBuilder::new();
    for e in events {
        b.add(e);
    }
    b.finish()
}

/// Computes a roll-up from events handed in one at a time (in storage
/// order), so that a scan need not collect them first: the same roll-up as
/// [`rollup`] of the same events in the same order.
pub struct RollupBuilder {
    r: Rows,
    visits: Visits,
    anonymous_pageviews: Vec<Landing>,
}

impl Default for RollupBuilder {
    fn default() -> Self {
        RollupBuilder::new()
    }
}

impl RollupBuilder {
    /// An empty roll-up.
    #[must_use]
    pub fn new() -> RollupBuilder {
        RollupBuilder {
            r: Rows::new(),
            visits: Visits::new(),
            anonymous_pageviews: Vec::new(),
        }
    }

    /// Whether no event was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.r.totals.events == 0
    }

    /// Adds one event.
    pub fn add(&mut self, e: &Event) {
        let r = &mut self.r;
        let is_pv = matches!(e.kind, EventKind::PageView { .. });
        r.totals.events += 1;
        let identified = e.visitor != VisitorId::ANONYMOUS;
        for (dim, key) in [
            (Dimension::Country, e.country.as_str()),
            (Dimension::Device, e.device.as_str()),
            (Dimension::Browser, e.browser.as_str()),
        ] {
            let a = r.slot(dim, key);
            a.events += 1;
            if is_pv {
                a.pageviews += 1;
            }
            if identified {
                a.ids.insert(e.visitor.0);
            }
        }
        if identified {
            r.totals.ids.insert(e.visitor.0);
        }
        if is_pv {
            r.totals.pageviews += 1;
            let a = r.slot(Dimension::Page, e.path.as_str());
            a.pageviews += 1;
            a.events += 1;
            if identified {
                a.ids.insert(e.visitor.0);
            }
        }
        if e.session == SessionId(0) {
            if is_pv {
                self.anonymous_pageviews.push(Landing::of(e));
            }
            return;
        }
        self.visits.add(e);
    }

    /// The roll-up.
    #[must_use]
    pub fn finish(self) -> DayRollup {
        let RollupBuilder {
            mut r,
            visits,
            anonymous_pageviews,
        } = self;
        // One definition of a visit (query/visit.rs): a session with a page
        // view; entry = its first page view.
        let mut all: Vec<Finished> = visits
            .into_visits()
            .filter_map(|v| {
                let duration = v.duration_ms();
                v.entry.map(|entry| Finished {
                    pageviews: v.pageviews,
                    duration,
                    visitor: v.visitor,
                    entry,
                    pages: v.pages,
                })
            })
            .collect();
        for entry in anonymous_pageviews {
            all.push(Finished {
                pageviews: 1,
                duration: 0,
                visitor: VisitorId::ANONYMOUS,
                pages: vec![entry.path.clone()],
                entry,
            });
        }
        for Finished {
            pageviews,
            duration,
            visitor,
            entry,
            pages,
        } in all
        {
            let bounce = u64::from(pageviews == 1);
            r.totals.visits += 1;
            r.totals.bounces += bounce;
            r.totals.duration_ms += duration;
            for (dim, key) in [
                (Dimension::Country, entry.country.as_str()),
                (Dimension::Device, entry.device.as_str()),
                (Dimension::Browser, entry.browser.as_str()),
            ] {
                let a = r.slot(dim, key);
                a.visits += 1;
                a.bounces += bounce;
                a.duration_ms += duration;
            }
            for (dim, key) in [
                (Dimension::EntryPage, entry.path.as_str()),
                (Dimension::Referrer, referrer_of(&entry)),
            ] {
                let a = r.slot(dim, key);
                a.visits += 1;
                a.bounces += bounce;
                a.duration_ms += duration;
                a.pageviews += pageviews;
                if visitor != VisitorId::ANONYMOUS {
                    a.ids.insert(visitor.0);
                }
            }
            for page in &pages {
                let a = r.slot(Dimension::Page, page.as_str());
                a.visits += 1;
                a.bounces += bounce;
            }
        }
        r.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn agg(visitors: std::ops::Range<u64>, pageviews: u64) -> Agg {
        let mut a = Agg {
            pageviews,
            visits: pageviews / 2,
            bounces: pageviews / 3,
            duration_ms: pageviews * 1000,
            events: pageviews + 1,
            visitors: Hll::new(),
        };
        for v in visitors {
            a.visitors.insert(v.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 7);
        }
        a
    }

    fn sums(values: &BTreeMap<String, Agg>) -> (u64, u64, u64, u64, u64) {
        values.values().fold((0, 0, 0, 0, 0), |s, a| {
            (
                s.0 + a.pageviews,
                s.1 + a.visits,
                s.2 + a.bounces,
                s.3 + a.duration_ms,
                s.4 + a.events,
            )
        })
    }

    #[test]
    fn rows_below_k_fold_into_other_with_merged_counters_and_sketch() {
        // (visitors, kept at k = 5?)
        let table: &[(u64, bool)] = &[(0, false), (1, false), (4, false), (5, true), (40, true)];
        let mut r = DayRollup {
            totals: agg(0..100, 1000),
            ..DayRollup::default()
        };
        let mut start = 0;
        for dim in Dimension::ALL {
            let m = r.by.entry(dim).or_default();
            for (i, (n, _)) in table.iter().enumerate() {
                m.insert(format!("v{i}"), agg(start..start + n, 10 + i as u64));
                start += n;
            }
        }
        let before = r.clone();
        fold_rare(&mut r, 5);
        assert_eq!(r.totals, before.totals);
        for dim in Dimension::ALL {
            let m = &r.by[&dim];
            for (i, (_, kept)) in table.iter().enumerate() {
                assert_eq!(m.contains_key(&format!("v{i}")), *kept, "{dim:?} v{i}");
            }
            assert_eq!(sums(m), sums(&before.by[&dim]));
            // 0 + 1 + 4 distinct visitors merged.
            assert_eq!(m[OTHER].visitors.estimate(), 5);
            assert_eq!(m[OTHER].pageviews, 10 + 11 + 12);
        }
    }

    #[test]
    fn k_of_one_keeps_everything_and_an_existing_other_row_grows() {
        let mut r = DayRollup::default();
        let m = r.by.entry(Dimension::Page).or_default();
        m.insert("/a".into(), agg(0..1, 3));
        m.insert(OTHER.into(), agg(10..12, 4));
        let before = r.clone();
        fold_rare(&mut r, 1);
        assert_eq!(r, before);
        fold_rare(&mut r, 5);
        let m = &r.by[&Dimension::Page];
        assert_eq!(m.len(), 1);
        assert_eq!(m[OTHER].pageviews, 7);
        assert_eq!(m[OTHER].visitors.estimate(), 3);
    }

    proptest! {
        #[test]
        fn fold_keeps_totals_and_sums_and_leaves_no_rare_row(
            rows in proptest::collection::vec((0u64..12, 0u64..50), 0..30),
            k in 0u32..12,
        ) {
            let mut r = DayRollup::default();
            let mut start = 0;
            for dim in Dimension::ALL {
                let m = r.by.entry(dim).or_default();
                for (i, (n, pv)) in rows.iter().enumerate() {
                    m.insert(format!("{}{i}", dim.as_str()), agg(start..start + n, *pv));
                    start += n;
                }
            }
            let before = r.clone();
            fold_rare(&mut r, k);
            prop_assert_eq!(&r.totals, &before.totals);
            for dim in Dimension::ALL {
                let m = &r.by[&dim];
                prop_assert_eq!(sums(m), sums(&before.by[&dim]));
                for (key, a) in m {
                    if key != OTHER {
                        prop_assert!(k <= 1 || a.visitors.estimate() >= u64::from(k));
                        prop_assert_eq!(a, &before.by[&dim][key]);
                    }
                }
                // Folding again changes nothing.
                let mut again = r.clone();
                fold_rare(&mut again, k);
                prop_assert_eq!(&again, &r);
            }
        }
    }
}
