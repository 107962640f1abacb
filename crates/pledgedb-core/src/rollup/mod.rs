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

use crate::event::{Country, Device, Event, EventKind, SessionId, VisitorId};
use hll::Hll;
pub use range::{DayRange, Filters};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use visit::Visit;

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

fn referrer_of(referrer: &str) -> &str {
    if referrer.is_empty() {
        DIRECT
    } else {
        referrer
    }
}

/// A row of a roll-up being computed: its counters, and its visitors as an
/// [`HllBuilder`](hll::HllBuilder) (cheap per id) rather than a finished
/// sketch.
#[derive(Default)]
struct Row {
    key: String,
    agg: Agg,
    ids: hll::HllBuilder,
}

impl Row {
    /// Whether anything was counted in it: a row found for an event that
    /// turned out to count nowhere (the referrer of a page view that was no
    /// visit's entry) is left out of the roll-up.
    fn counted(&self) -> bool {
        self.agg.events > 0 || self.agg.visits > 0
    }

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

/// A row of one dimension of a roll-up being computed, found once by its
/// key ([`RollupBuilder::row`]) and then counted into by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowId(u32);

/// The rows of a roll-up being computed, per dimension: the rows in a
/// `Vec` and their keys in a hash map to their index (a row is found with
/// one hash of its key, and its key is allocated once, when the row is
/// new), sorted into the roll-up's `BTreeMap`s at the end.
struct Rows {
    totals: Row,
    index: [std::collections::HashMap<String, u32, crate::hash::FoldState>; 6],
    rows: [Vec<Row>; 6],
}

impl Rows {
    fn new() -> Rows {
        Rows {
            totals: Row::default(),
            index: std::array::from_fn(|_| std::collections::HashMap::default()),
            rows: std::array::from_fn(|_| Vec::new()),
        }
    }

    fn find(&mut self, dim: Dimension, key: &str) -> RowId {
        let d = dim as usize;
        if let Some(&i) = self.index[d].get(key) {
            return RowId(i);
        }
        let rows = &mut self.rows[d];
        let i = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        self.index[d].insert(key.to_string(), i);
        rows.push(Row {
            key: key.to_string(),
            ..Row::default()
        });
        RowId(i)
    }

    /// The row `id` of `dim`; a fresh, uncounted row for an id this
    /// builder never gave out.
    fn get(&mut self, dim: Dimension, id: RowId) -> &mut Row {
        let rows = &mut self.rows[dim as usize];
        let i = id.0 as usize;
        if i >= rows.len() {
            rows.resize_with(i + 1, Row::default);
        }
        &mut rows[i]
    }

    fn key(&self, dim: Dimension, id: RowId) -> &str {
        self.rows[dim as usize]
            .get(id.0 as usize)
            .map_or("", |r| r.key.as_str())
    }

    fn finish(self) -> DayRollup {
        let mut by = BTreeMap::new();
        for (dim, rows) in Dimension::ALL.into_iter().zip(self.rows) {
            let values: BTreeMap<String, Agg> = rows
                .into_iter()
                .filter(Row::counted)
                .map(Row::finish)
                .collect();
            if !values.is_empty() {
                by.insert(dim, values);
            }
        }
        DayRollup {
            totals: self.totals.finish().1,
            by,
        }
    }
}

/// Where an event lands, as rows of the roll-up: its page (a row of
/// [`Dimension::Page`]), its referrer (of [`Dimension::Referrer`], the
/// `(direct)` row for none and for events other than page views), its
/// country, device and browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowLanding {
    /// The page's row of [`Dimension::Page`].
    pub page: RowId,
    /// The referrer's row of [`Dimension::Referrer`].
    pub referrer: RowId,
    /// The country's row.
    pub country: RowId,
    /// The device's row.
    pub device: RowId,
    /// The browser's row.
    pub browser: RowId,
}

/// One event as a roll-up counts it, its values already found as rows:
/// what [`RollupBuilder::add_row`] takes from a scan that reads columns
/// rather than events.
#[derive(Clone, Copy, Debug)]
pub struct RowEvent {
    /// When.
    pub ts: crate::time::Timestamp,
    /// Whether it is a page view.
    pub page_view: bool,
    /// Its visitor ([`VisitorId::ANONYMOUS`] for none).
    pub visitor: VisitorId,
    /// Its session (0 for none).
    pub session: SessionId,
    /// Where it lands.
    pub at: RowLanding,
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
/// [`rollup`] of the same events in the same order. Events come in whole
/// ([`add`](RollupBuilder::add)) or as rows ([`row`](RollupBuilder::row),
/// [`add_row`](RollupBuilder::add_row)); both are counted by one function.
pub struct RollupBuilder {
    r: Rows,
    visits: std::collections::HashMap<SessionId, Visit<RowLanding, RowId>, crate::hash::FoldState>,
    anonymous_pageviews: Vec<RowLanding>,
    countries: std::collections::HashMap<Country, RowId, crate::hash::FoldState>,
    devices: [Option<RowId>; Device::ALL.len()],
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
            visits: std::collections::HashMap::default(),
            anonymous_pageviews: Vec::new(),
            countries: std::collections::HashMap::default(),
            devices: [None; Device::ALL.len()],
        }
    }

    /// Whether no event was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.r.totals.agg.events == 0
    }

    /// The row of `key` in `dim`, made if new. A row found but never
    /// counted in is not part of the roll-up.
    pub fn row(&mut self, dim: Dimension, key: &str) -> RowId {
        self.r.find(dim, key)
    }

    /// The referrer row of a stored referrer host (`""`: `(direct)`).
    pub fn referrer_row(&mut self, referrer: &str) -> RowId {
        self.r.find(Dimension::Referrer, referrer_of(referrer))
    }

    /// The row of a country.
    pub fn country_row(&mut self, c: Country) -> RowId {
        if let Some(&id) = self.countries.get(&c) {
            return id;
        }
        let id = self.r.find(Dimension::Country, c.as_str());
        self.countries.insert(c, id);
        id
    }

    /// The row of a device class.
    pub fn device_row(&mut self, d: Device) -> RowId {
        let slot = usize::from(d.code());
        if let Some(Some(id)) = self.devices.get(slot) {
            return *id;
        }
        let id = self.r.find(Dimension::Device, d.as_str());
        if let Some(s) = self.devices.get_mut(slot) {
            *s = Some(id);
        }
        id
    }

    /// Adds one event.
    pub fn add(&mut self, e: &Event) {
        let (page_view, referrer) = match &e.kind {
            EventKind::PageView { referrer, .. } => (true, referrer.as_str()),
            _ => (false, ""),
        };
        let at = RowLanding {
            page: self.row(Dimension::Page, e.path.as_str()),
            referrer: self.referrer_row(referrer),
            country: self.country_row(e.country),
            device: self.device_row(e.device),
            browser: self.row(Dimension::Browser, e.browser.as_str()),
        };
        self.add_row(RowEvent {
            ts: e.ts,
            page_view,
            visitor: e.visitor,
            session: e.session,
            at,
        });
    }

    /// Adds one event given as rows (see [`RowEvent`]).
    pub fn add_row(&mut self, e: RowEvent) {
        let r = &mut self.r;
        let identified = e.visitor != VisitorId::ANONYMOUS;
        let id = hll::entry_of(e.visitor.0);
        let pv = u64::from(e.page_view);
        for (dim, row) in [
            (Dimension::Country, e.at.country),
            (Dimension::Device, e.at.device),
            (Dimension::Browser, e.at.browser),
        ] {
            let a = r.get(dim, row);
            a.agg.events += 1;
            a.agg.pageviews += pv;
            if identified {
                a.ids.insert_entry(id);
            }
        }
        r.totals.agg.events += 1;
        r.totals.agg.pageviews += pv;
        if identified {
            r.totals.ids.insert_entry(id);
        }
        if e.page_view {
            let a = r.get(Dimension::Page, e.at.page);
            a.agg.pageviews += 1;
            a.agg.events += 1;
            if identified {
                a.ids.insert_entry(id);
            }
        }
        if e.session == SessionId(0) {
            if e.page_view {
                self.anonymous_pageviews.push(e.at);
            }
            return;
        }
        // One definition of a visit (rollup/visit.rs).
        self.visits
            .entry(e.session)
            .or_insert_with(|| Visit::begin(e.session, e.visitor, e.ts, e.at, e.at.page))
            .observe(e.ts, e.page_view, &e.at.page, || e.at);
    }

    /// The roll-up.
    #[must_use]
    pub fn finish(self) -> DayRollup {
        let RollupBuilder {
            mut r,
            visits,
            anonymous_pageviews,
            ..
        } = self;
        // A visit is a session with a page view; its entry is its first
        // page view. An anonymous page view is a visit of its own.
        let visits = visits.into_values().filter_map(|v| {
            let duration = v.duration_ms();
            let entry = v.entry?;
            Some((v.pageviews, duration, v.visitor, entry, v.pages))
        });
        let anonymous = anonymous_pageviews
            .into_iter()
            .map(|at| (1, 0, VisitorId::ANONYMOUS, at, vec![at.page]));
        // The entry-page row of each page row, found once.
        let mut entry_rows: Vec<Option<RowId>> = Vec::new();
        for (pageviews, duration, visitor, entry, pages) in visits.chain(anonymous) {
            let bounce = u64::from(pageviews == 1);
            r.totals.agg.visits += 1;
            r.totals.agg.bounces += bounce;
            r.totals.agg.duration_ms += duration;
            for (dim, row) in [
                (Dimension::Country, entry.country),
                (Dimension::Device, entry.device),
                (Dimension::Browser, entry.browser),
            ] {
                let a = &mut r.get(dim, row).agg;
                a.visits += 1;
                a.bounces += bounce;
                a.duration_ms += duration;
            }
            let page = entry.page.0 as usize;
            if entry_rows.len() <= page {
                entry_rows.resize(page + 1, None);
            }
            let entry_row = match entry_rows[page] {
                Some(id) => id,
                None => {
                    let key = r.key(Dimension::Page, entry.page).to_string();
                    let id = r.find(Dimension::EntryPage, &key);
                    entry_rows[page] = Some(id);
                    id
                }
            };
            for (dim, row) in [
                (Dimension::EntryPage, entry_row),
                (Dimension::Referrer, entry.referrer),
            ] {
                let a = r.get(dim, row);
                a.agg.visits += 1;
                a.agg.bounces += bounce;
                a.agg.duration_ms += duration;
                a.agg.pageviews += pageviews;
                if visitor != VisitorId::ANONYMOUS {
                    a.ids.insert(visitor.0);
                }
            }
            for page in pages {
                let a = &mut r.get(Dimension::Page, page).agg;
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
