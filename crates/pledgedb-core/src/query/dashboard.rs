//! The dashboard as one report: what a front end shows for a range of days
//! (totals, where each day's answer came from, the top pages, countries,
//! referrers and devices, the daily series), computed here so that a front
//! end only renders it. Also the choice of a visit worth replaying.

use super::{DayRange, Dimension, Metrics, Query, Source};
use crate::domain::{Domain, TimeRange};
use crate::error::ReadError;
use crate::event::{EventKind, SessionId};
use crate::time::Day;
use serde::Serialize;
use std::collections::HashMap;

/// Rows in each top list of a [`Dashboard`].
pub const DASHBOARD_TOP: usize = 10;

/// The dashboard of one domain over a range of days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    /// The days.
    pub days: DayRange,
    /// Totals over the days.
    pub totals: Metrics,
    /// Days answered from their roll-up.
    pub days_from_rollups: usize,
    /// Days answered from a scan of raw events.
    pub days_from_raw: usize,
    /// Days answered from the long-lived aggregates.
    pub days_from_aggregates: usize,
    /// The top pages (visits: visits that viewed the page).
    pub pages: Vec<(String, Metrics)>,
    /// The top countries.
    pub countries: Vec<(String, Metrics)>,
    /// The top referrers.
    pub referrers: Vec<(String, Metrics)>,
    /// The top device classes.
    pub devices: Vec<(String, Metrics)>,
    /// One row per day of the range.
    pub daily: Vec<(Day, Metrics)>,
}

impl Domain {
    /// The dashboard of `days`: totals, the [`DASHBOARD_TOP`] pages,
    /// countries, referrers and devices, and the daily series, answered
    /// like [`metrics`](Self::metrics), [`breakdown`](Self::breakdown) and
    /// [`timeseries`](Self::timeseries).
    pub fn dashboard(&self, days: DayRange) -> Result<Dashboard, ReadError> {
        // One read of the days answers every part.
        let r = self.rollups(&Query::days(days))?;
        let sources = r.sources();
        let count = |s: Source| sources.iter().filter(|(_, x)| *x == s).count();
        Ok(Dashboard {
            days,
            totals: r.metrics(),
            days_from_rollups: count(Source::Rollup),
            days_from_raw: count(Source::Raw),
            days_from_aggregates: count(Source::Aggregate),
            pages: r.breakdown(Dimension::Page, DASHBOARD_TOP),
            countries: r.breakdown(Dimension::Country, DASHBOARD_TOP),
            referrers: r.breakdown(Dimension::Referrer, DASHBOARD_TOP),
            devices: r.breakdown(Dimension::Device, DASHBOARD_TOP),
            daily: r.timeseries(),
        })
    }

    /// A visit of `days` with keystrokes and a form submit, the one with
    /// the fewest events (the smallest id among equals): a short visit that
    /// shows what a replay keeps and masks. `None` if there is none.
    pub fn visit_to_replay(&self, days: DayRange) -> Result<Option<SessionId>, ReadError> {
        #[derive(Default)]
        struct Seen {
            keys: bool,
            submit: bool,
            events: u64,
        }
        let mut by: HashMap<SessionId, Seen> = HashMap::new();
        let range = TimeRange::new(days.first.start(), days.last.end());
        self.scan(range, |e| {
            if e.session == SessionId(0) {
                return;
            }
            let s = by.entry(e.session).or_default();
            s.events += 1;
            match e.kind {
                EventKind::Keystroke { .. } => s.keys = true,
                EventKind::FormSubmit { .. } => s.submit = true,
                _ => {}
            }
        })?;
        Ok(by
            .into_iter()
            .filter(|(_, s)| s.keys && s.submit)
            .min_by_key(|(id, s)| (s.events, *id))
            .map(|(id, _)| id))
    }
}

#[cfg(test)]
mod tests {
    use crate::time::{ManualClock, Timestamp};
    use crate::{Config, Db, Dimension, FormField, Hit, HitKind, KeyKind, Query};
    use std::sync::Arc;

    /// The report equals the questions it answers, asked one by one, and
    /// picks the shortest visit with keystrokes and a submit.
    #[test]
    fn the_dashboard_is_the_answers_of_its_questions() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp(20_000 * crate::MS_PER_DAY + 3_600_000);
        let config = Config {
            background_compaction: false,
            ..Config::default().with_clock(Arc::new(ManualClock::new(now)))
        };
        let db = Db::open(dir.path(), config).unwrap();
        let mut hits = Vec::new();
        for v in 0..12 {
            for p in 0..(v % 4 + 1) {
                hits.push(
                    Hit::page_view("d.example", format!("/p{p}"))
                        .client_id(format!("v{v}"))
                        .at(now.plus_millis(-(i64::from(v) * 3_600_000) - i64::from(p))),
                );
            }
        }
        for (v, keys) in [("long", 5), ("short", 2), ("none", 0)] {
            hits.push(Hit::page_view("d.example", "/form").client_id(v).at(now));
            for _ in 0..keys {
                let key = HitKind::Keystroke {
                    form: "f".into(),
                    field: "name".into(),
                    key: KeyKind::Character,
                };
                hits.push(Hit::new("d.example", "/form", key).client_id(v).at(now));
            }
            if keys > 0 {
                let submit = HitKind::FormSubmit {
                    form: "f".into(),
                    fields: vec![FormField::new("name", "x")],
                };
                hits.push(Hit::new("d.example", "/form", submit).client_id(v).at(now));
            }
        }
        for r in db.ingest_batch(hits) {
            let _ = r.unwrap();
        }
        db.flush().unwrap();
        let d = db.domain("d.example").unwrap();
        let days = crate::DayRange::last_n(now.day(), 3);
        let dash = d.dashboard(days).unwrap();
        let q = Query::days(days);
        assert_eq!(dash.totals, d.metrics(&q).unwrap());
        assert_eq!(dash.daily, d.timeseries(&q).unwrap());
        assert_eq!(dash.pages, d.breakdown(&q, Dimension::Page, 10).unwrap());
        assert_eq!(
            dash.countries,
            d.breakdown(&q, Dimension::Country, 10).unwrap()
        );
        assert_eq!(
            dash.referrers,
            d.breakdown(&q, Dimension::Referrer, 10).unwrap()
        );
        assert_eq!(
            dash.devices,
            d.breakdown(&q, Dimension::Device, 10).unwrap()
        );
        assert_eq!(
            dash.days_from_rollups + dash.days_from_raw + dash.days_from_aggregates,
            d.explain(&q).unwrap().len()
        );
        assert!(dash.totals.pageviews >= 30);
        let picked = d
            .visit_to_replay(days)
            .unwrap()
            .expect("a visit with a submit");
        let steps = d.replay(picked).unwrap();
        assert_eq!(
            steps.len(),
            4,
            "the short visit: a view, two keys, a submit"
        );
    }
}
