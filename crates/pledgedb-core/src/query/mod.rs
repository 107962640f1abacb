//! The typed query layer: dashboard metrics, time series and breakdowns,
//! answered from daily roll-ups when they cover the question and from raw
//! events otherwise, with identical results either way; form analytics,
//! submitted data, session replay and click heatmaps from raw events.

pub mod dashboard;
pub use crate::rollup::filter;
pub mod forms;
pub use crate::rollup::hll;
pub mod replay;
pub use crate::rollup;
pub use crate::rollup::visit;

use crate::domain::Domain;
use crate::error::{ReadError, StorageError};
use crate::storage::control::ErasureKind;
use crate::time::{Day, Timestamp};
pub use filter::{FilterExpr, FilterField};
pub use hll::Hll;
pub use rollup::{
    Agg, DIRECT, DayRange, DayRollup, Dimension, Filters, OTHER, RollupBuilder, fold_rare, rollup,
};
use serde::Serialize;
use std::collections::BTreeMap;

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

/// The roll-ups of the days of one query (see [`Domain::rollups`]).
#[derive(Clone, Debug)]
pub struct Rollups {
    days: DayRange,
    list: Vec<(Day, DayRollup, Source)>,
}

impl Rollups {
    /// Metrics over the days.
    #[must_use]
    pub fn metrics(&self) -> Metrics {
        let mut total = Agg::default();
        for (_, r, _) in &self.list {
            total.merge(&r.totals);
        }
        Metrics::from(&total)
    }

    /// Metrics per day, for every day of the range (zero for days without
    /// data).
    #[must_use]
    pub fn timeseries(&self) -> Vec<(Day, Metrics)> {
        let by_day: BTreeMap<Day, Metrics> = self
            .list
            .iter()
            .map(|(d, r, _)| (*d, Metrics::from(&r.totals)))
            .collect();
        self.days
            .days()
            .map(|d| (d, by_day.get(&d).copied().unwrap_or_default()))
            .collect()
    }

    /// The top `limit` values of a dimension, by visitors then page views.
    #[must_use]
    pub fn breakdown(&self, dim: Dimension, limit: usize) -> Vec<(String, Metrics)> {
        let mut merged: BTreeMap<&str, Agg> = BTreeMap::new();
        for (_, r, _) in &self.list {
            if let Some(values) = r.by.get(&dim) {
                for (k, a) in values {
                    merged.entry(k.as_str()).or_default().merge(a);
                }
            }
        }
        let mut rows: Vec<(String, Metrics)> = merged
            .iter()
            .map(|(k, a)| ((*k).to_string(), Metrics::from(a)))
            .collect();
        rows.sort_by(|a, b| {
            b.1.visitors
                .cmp(&a.1.visitors)
                .then(b.1.pageviews.cmp(&a.1.pageviews))
                .then(b.1.visits.cmp(&a.1.visits))
                .then_with(|| a.0.cmp(&b.0))
        });
        rows.truncate(limit);
        rows
    }

    /// Which source answered each day that has data.
    #[must_use]
    pub fn sources(&self) -> Vec<(Day, Source)> {
        self.list.iter().map(|(d, _, s)| (*d, *s)).collect()
    }
}

/// Adds the selected rows of a batch to a roll-up as rows, not events: a
/// page, browser or referrer of the block's dictionaries is found among the
/// roll-up's rows once per block, then each row is counted by index.
fn add_batch(r: &mut crate::rollup::RollupBuilder, b: &crate::domain::reader::Batch) {
    use crate::event::EventType;
    use crate::rollup::{RowEvent, RowId, RowLanding};
    fn cached(memo: &mut [Option<RowId>], id: u32, find: impl FnOnce() -> RowId) -> RowId {
        match memo.get_mut(id as usize) {
            Some(Some(row)) => *row,
            Some(slot) => *slot.insert(find()),
            None => find(),
        }
    }
    let mut pages: Vec<Option<RowId>> = vec![None; b.path_dict().len()];
    let mut browsers: Vec<Option<RowId>> = vec![None; b.browser_dict().len()];
    let mut referrers: Vec<Option<RowId>> = vec![None; b.referrer_dict().len()];
    let direct = r.referrer_row("");
    for &row in b.rows() {
        let page_view = b.event_type(row) == EventType::PageView;
        let pid = b.path_id(row);
        let page = cached(&mut pages, pid, || r.row(Dimension::Page, b.path(row)));
        let bid = b.browser_id(row);
        let browser = cached(&mut browsers, bid, || {
            r.row(Dimension::Browser, b.browser(row))
        });
        let referrer = match b.referrer_id(row) {
            Some(id) if page_view => cached(&mut referrers, id, || {
                r.referrer_row(b.referrer(row).unwrap_or(""))
            }),
            _ => direct,
        };
        let at = RowLanding {
            page,
            referrer,
            country: r.country_row(b.country(row)),
            device: r.device_row(b.device(row)),
            browser,
        };
        r.add_row(RowEvent {
            ts: b.ts(row),
            page_view,
            visitor: b.visitor(row),
            session: b.session(row),
            at,
        });
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
            // Streamed into the roll-up: no day's events are collected.
            let mut r = crate::rollup::RollupBuilder::new();
            self.reader(crate::domain::TimeRange::new(day.start(), day.end()))?
                .scan_batches(Columns::ROLLUP, &pred, |b| {
                    add_batch(&mut r, b);
                    std::ops::ControlFlow::Continue(())
                })?;
            Ok((!r.is_empty()).then(|| (day, r.finish())))
        };
        crate::storage::reader::spread(days, |d| one(*d))
            .into_iter()
            .filter_map(Result::transpose)
            .collect()
    }

    /// The roll-ups of a query's days, read once: every dashboard question
    /// (metrics, series, breakdowns, sources) is answered from them, so a
    /// page that asks several reads the days once.
    pub fn rollups(&self, q: &Query) -> Result<Rollups, ReadError> {
        Ok(Rollups {
            days: q.days,
            list: self.day_rollups(q)?,
        })
    }

    /// Metrics over the query's days.
    pub fn metrics(&self, q: &Query) -> Result<Metrics, ReadError> {
        Ok(self.rollups(q)?.metrics())
    }

    /// Metrics per day, for every day of the range (zero for days without
    /// data).
    pub fn timeseries(&self, q: &Query) -> Result<Vec<(Day, Metrics)>, ReadError> {
        Ok(self.rollups(q)?.timeseries())
    }

    /// The top `limit` values of a dimension, by visitors then page views.
    pub fn breakdown(
        &self,
        q: &Query,
        dim: Dimension,
        limit: usize,
    ) -> Result<Vec<(String, Metrics)>, ReadError> {
        Ok(self.rollups(q)?.breakdown(dim, limit))
    }

    /// Which source answers each day of a query (for operators and tests).
    pub fn explain(&self, q: &Query) -> Result<Vec<(Day, Source)>, ReadError> {
        Ok(self.rollups(q)?.sources())
    }

    fn db_clock_now(&self) -> Timestamp {
        self.clock().now()
    }
}
