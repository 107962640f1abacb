//! The typed query layer: dashboard metrics, time series and breakdowns,
//! answered from daily roll-ups when they cover the question and from raw
//! events otherwise, with identical results either way; form analytics,
//! submitted data, session replay and click heatmaps from raw events.

pub mod filter;
pub mod forms;
pub mod hll;
pub mod replay;
pub mod rollup;

use crate::codec::BlockView;
use crate::domain::Domain;
use crate::error::{ReadError, StorageError};
use crate::event::{Country, Device, Event, EventKind};
use crate::storage::control::ErasureKind;
use crate::time::{Day, Timestamp};
pub use filter::{FilterExpr, FilterField};
pub use hll::Hll;
pub use rollup::{Agg, DIRECT, DayRollup, Dimension, OTHER, fold_rare, rollup};
use serde::Serialize;
use std::collections::BTreeMap;

/// An inclusive range of UTC days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DayRange {
    /// First day included.
    pub first: Day,
    /// Last day included.
    pub last: Day,
}

impl DayRange {
    /// `first..=last`.
    #[must_use]
    pub fn new(first: Day, last: Day) -> Self {
        DayRange { first, last }
    }

    /// The `n` days ending with `last`.
    #[must_use]
    pub fn last_n(last: Day, n: u32) -> Self {
        let back = i32::try_from(n.max(1) - 1).unwrap_or(i32::MAX);
        DayRange {
            first: last.plus(-back),
            last,
        }
    }

    /// Days in the range.
    pub fn days(&self) -> impl Iterator<Item = Day> + use<> {
        let (a, b) = (self.first.0, self.last.0);
        (a..=b).map(Day)
    }
}

/// Conditions on events. A query with filters is answered from raw events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filters {
    /// Only events from this country.
    pub country: Option<Country>,
    /// Only events from this device class.
    pub device: Option<Device>,
    /// Only events from this browser family.
    pub browser: Option<String>,
    /// Only events on this page path.
    pub page: Option<String>,
    /// Only page views with this referrer host (`(direct)` for none).
    pub referrer: Option<String>,
    /// Only events this expression accepts (several values, negation,
    /// substrings, and/or/not: see [`filter`]).
    pub expr: Option<FilterExpr>,
}

impl Filters {
    /// Whether no condition is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Filters::default()
    }

    /// Whether an event passes.
    #[must_use]
    pub fn accepts(&self, e: &Event) -> bool {
        self.country.is_none_or(|c| c == e.country)
            && self.device.is_none_or(|d| d == e.device)
            && self
                .browser
                .as_deref()
                .is_none_or(|b| b == e.browser.as_str())
            && self.page.as_deref().is_none_or(|p| p == e.path.as_str())
            && self.referrer.as_deref().is_none_or(|r| match &e.kind {
                EventKind::PageView { referrer, .. } => {
                    if referrer.is_empty() {
                        r == DIRECT
                    } else {
                        r == referrer.as_str()
                    }
                }
                _ => false,
            })
            && self.expr.as_ref().is_none_or(|x| x.accepts(e))
    }
}

/// What a dashboard question is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Query {
    /// The days.
    pub days: DayRange,
    /// Conditions on events.
    pub filters: Filters,
    /// Answer from raw events even where a roll-up exists (for checking).
    pub raw_only: bool,
}

impl Query {
    /// All events of a range of days.
    #[must_use]
    pub fn days(days: DayRange) -> Self {
        Query {
            days,
            filters: Filters::default(),
            raw_only: false,
        }
    }

    /// The same query with filters.
    #[must_use]
    pub fn filtered(mut self, f: Filters) -> Self {
        self.filters = f;
        self
    }

    /// The same query, forced to raw events.
    #[must_use]
    pub fn raw(mut self) -> Self {
        self.raw_only = true;
        self
    }
}

/// Where a day's answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The day's roll-up in its segment.
    Rollup,
    /// A scan of the day's raw events.
    Raw,
    /// The long-lived aggregate kept after the raw events expired.
    Aggregate,
}

/// Dashboard metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    /// Estimated distinct visitors (HyperLogLog, ±1.6 % standard error).
    pub visitors: u64,
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
}

impl Metrics {
    /// Bounces per visit, 0 when there was no visit.
    #[must_use]
    pub fn bounce_rate(&self) -> f64 {
        if self.visits == 0 {
            0.0
        } else {
            self.bounces as f64 / self.visits as f64
        }
    }

    /// Mean visit duration in milliseconds, 0 when there was no visit.
    #[must_use]
    pub fn avg_visit_ms(&self) -> u64 {
        self.duration_ms.checked_div(self.visits).unwrap_or(0)
    }
}

impl From<&Agg> for Metrics {
    fn from(a: &Agg) -> Self {
        Metrics {
            visitors: a.visitors.estimate(),
            pageviews: a.pageviews,
            visits: a.visits,
            bounces: a.bounces,
            duration_ms: a.duration_ms,
            events: a.events,
        }
    }
}

/// Longest range of days one query may cover.
pub const MAX_QUERY_DAYS: i32 = 36_600;

impl Domain {
    fn check_range(days: &DayRange) -> Result<(), ReadError> {
        if days.last < days.first {
            return Err(ReadError::Invalid("the range ends before it starts".into()));
        }
        if i64::from(days.last.0) - i64::from(days.first.0) >= i64::from(MAX_QUERY_DAYS) {
            return Err(ReadError::Invalid(format!(
                "a query covers at most {MAX_QUERY_DAYS} days"
            )));
        }
        Ok(())
    }

    /// Whether a day's roll-up may answer: no unpurged tombstone touches the
    /// day and the whole day is inside the retention window.
    fn rollup_usable(
        &self,
        day: Day,
        seg: &crate::storage::segment::Segment,
    ) -> Result<bool, StorageError> {
        let now = self.db_clock_now();
        if day.start() < self.shared.retention_cutoff(now) {
            return Ok(false);
        }
        let pending: Vec<(u128, ErasureKind)> = self
            .shared
            .tombstones()
            .into_iter()
            .filter(|(_, t)| t.purged_at.is_none())
            .map(|(tag, t)| (tag, t.kind))
            .collect();
        if pending.iter().any(|(_, k)| *k == ErasureKind::Session) {
            return Ok(false);
        }
        let tags: Vec<u128> = pending.into_iter().map(|(t, _)| t).collect();
        Ok(tags.is_empty() || !seg.has_any_tag(&tags)?)
    }

    /// The roll-up of each day of the query that has data, and its source.
    pub fn day_rollups(&self, q: &Query) -> Result<Vec<(Day, DayRollup, Source)>, ReadError> {
        Self::check_range(&q.days)?;
        let mut segments: BTreeMap<Day, std::sync::Arc<crate::storage::segment::Segment>> =
            BTreeMap::new();
        for day in self.shared.segments.days_in(q.days.first, q.days.last) {
            if let Some(seg) = self.shared.segments.get(day)? {
                segments.insert(day, seg);
            }
        }
        let mut out = Vec::new();
        let unfiltered = q.filters.is_empty() && !q.raw_only;
        if unfiltered {
            for (day, r) in self.shared.aggregates_in(q.days)? {
                if !segments.contains_key(&day) {
                    out.push((day, r, Source::Aggregate));
                }
            }
        }
        let mut raw_days = Vec::new();
        for (day, seg) in segments {
            if unfiltered
                && self.rollup_usable(day, &seg)?
                && let Some(r) = seg.rollup()?
            {
                out.push((day, DayRollup::clone(&r), Source::Rollup));
                continue;
            }
            raw_days.push(day);
        }
        for (day, r) in self.raw_rollups(&raw_days, &q.filters)? {
            out.push((day, r, Source::Raw));
        }
        out.sort_by_key(|(d, _, _)| *d);
        Ok(out)
    }

    /// The roll-ups of days computed from their raw events, filtered, one
    /// projected scan per day (only the columns a roll-up needs, blocks the
    /// filters rule out skipped), the days spread over the available cores.
    fn raw_rollups(
        &self,
        days: &[Day],
        filters: &Filters,
    ) -> Result<Vec<(Day, DayRollup)>, ReadError> {
        use crate::domain::reader::{Columns, Predicate};
        let pred = Predicate {
            filters: filters.clone(),
            ..Predicate::default()
        };
        let one = |day: Day| -> Result<Option<(Day, DayRollup)>, ReadError> {
            let mut events = Vec::new();
            self.reader(crate::domain::TimeRange::new(day.start(), day.end()))?
                .scan(Columns::ROLLUP, &pred, |e| {
                    events.push(e.clone());
                    std::ops::ControlFlow::Continue(())
                })?;
            Ok((!events.is_empty()).then(|| (day, rollup(&events))))
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(days.len());
        if threads <= 1 {
            return days.iter().filter_map(|d| one(*d).transpose()).collect();
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(day) = days.get(i) else { break };
                            mine.push(one(*day));
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Vec<_>>()
        });
        results.into_iter().filter_map(Result::transpose).collect()
    }

    /// Metrics over the query's days.
    pub fn metrics(&self, q: &Query) -> Result<Metrics, ReadError> {
        let mut total = Agg::default();
        for (_, r, _) in self.day_rollups(q)? {
            total.merge(&r.totals);
        }
        Ok(Metrics::from(&total))
    }

    /// Metrics per day, for every day of the range (zero for days without
    /// data).
    pub fn timeseries(&self, q: &Query) -> Result<Vec<(Day, Metrics)>, ReadError> {
        let by_day: BTreeMap<Day, Metrics> = self
            .day_rollups(q)?
            .into_iter()
            .map(|(d, r, _)| (d, Metrics::from(&r.totals)))
            .collect();
        Ok(q.days
            .days()
            .map(|d| (d, by_day.get(&d).copied().unwrap_or_default()))
            .collect())
    }

    /// The top `limit` values of a dimension, by visitors then page views.
    pub fn breakdown(
        &self,
        q: &Query,
        dim: Dimension,
        limit: usize,
    ) -> Result<Vec<(String, Metrics)>, ReadError> {
        let mut merged: BTreeMap<String, Agg> = BTreeMap::new();
        for (_, r, _) in self.day_rollups(q)? {
            if let Some(values) = r.by.get(&dim) {
                for (k, a) in values {
                    merged.entry(k.clone()).or_default().merge(a);
                }
            }
        }
        let mut rows: Vec<(String, Metrics)> = merged
            .iter()
            .map(|(k, a)| (k.clone(), Metrics::from(a)))
            .collect();
        rows.sort_by(|a, b| {
            b.1.visitors
                .cmp(&a.1.visitors)
                .then(b.1.pageviews.cmp(&a.1.pageviews))
                .then(b.1.visits.cmp(&a.1.visits))
                .then_with(|| a.0.cmp(&b.0))
        });
        rows.truncate(limit);
        Ok(rows)
    }

    /// Which source answers each day of a query (for operators and tests).
    pub fn explain(&self, q: &Query) -> Result<Vec<(Day, Source)>, ReadError> {
        Ok(self
            .day_rollups(q)?
            .into_iter()
            .map(|(d, _, s)| (d, s))
            .collect())
    }

    fn db_clock_now(&self) -> Timestamp {
        self.clock().now()
    }
}

/// Decodes every block of a segment into events (used by sealing and
/// rewrites).
pub(crate) fn segment_events(
    seg: &crate::storage::segment::Segment,
) -> Result<Vec<Event>, StorageError> {
    let mut events = Vec::new();
    let path = seg.path.clone();
    seg.for_each_block(|_, bytes| {
        let codec = |e| StorageError::Codec {
            path: path.clone(),
            source: e,
        };
        events.extend(
            BlockView::parse(bytes)
                .map_err(codec)?
                .events()
                .map_err(codec)?,
        );
        Ok(())
    })?;
    Ok(events)
}
