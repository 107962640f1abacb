//! The dashboard's main question: metrics with the change against the
//! previous period, a time series and the top rows of every dimension, for
//! a range and a set of filters, all answered by the engine's typed query
//! API (hour buckets for a single day from its raw events).

use std::collections::{BTreeMap, HashSet};

use pledgedb_core::query::Dimension;
use pledgedb_core::time::Day;
use pledgedb_core::{
    Country, DayRange, Device, Domain, EventKind, Filters, Metrics, Query, ReadError, TimeRange,
};
use serde::Serialize;

use crate::auth::ApiError;
use crate::stats::query::Metric;

/// Rows per breakdown panel.
pub const TOP_ROWS: usize = 10;

/// The dimensions of the panels, with their names in JSON.
pub const PANELS: [(&str, Dimension); 6] = [
    ("page", Dimension::Page),
    ("entry_page", Dimension::EntryPage),
    ("referrer", Dimension::Referrer),
    ("country", Dimension::Country),
    ("device", Dimension::Device),
    ("browser", Dimension::Browser),
];

/// The range a request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Range {
    /// `today`, `7d`, `30d`, `month` or `custom`.
    pub key: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// `hour` for a single day, else `day`.
    pub bucket: &'static str,
    /// The days themselves.
    #[serde(skip)]
    pub days: DayRange,
}

/// The longest custom range the dashboard draws.
const MAX_DAYS: i32 = 3_660;

impl Range {
    /// Reads `range` (and `from`/`to` for `custom`) relative to `today`.
    pub fn parse(
        key: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: Day,
    ) -> Result<Range, ApiError> {
        let key = key.unwrap_or("30d");
        let days = match key {
            "today" | "day" => DayRange::new(today, today),
            "7d" => DayRange::last_n(today, 7),
            "30d" => DayRange::last_n(today, 30),
            "month" => {
                let (y, m, _) = today.to_ymd();
                DayRange::new(Day::from_ymd(y, m, 1), today)
            }
            "custom" => {
                let day = |s: Option<&str>, which: &str| {
                    s.and_then(Day::parse).ok_or_else(|| {
                        ApiError::bad_request(format!("`{which}` must be a date YYYY-MM-DD"))
                    })
                };
                let (first, last) = (day(from, "from")?, day(to, "to")?);
                if last < first {
                    return Err(ApiError::bad_request("the range ends before it starts"));
                }
                if last.0 - first.0 >= MAX_DAYS {
                    return Err(ApiError::bad_request(format!(
                        "a range covers at most {MAX_DAYS} days"
                    )));
                }
                DayRange::new(first, last)
            }
            _ => {
                return Err(ApiError::bad_request(
                    "`range` must be today, 7d, 30d, month or custom",
                ));
            }
        };
        Ok(Range {
            key: key.to_string(),
            from: days.first.to_string(),
            to: days.last.to_string(),
            bucket: if days.first == days.last {
                "hour"
            } else {
                "day"
            },
            days,
        })
    }

    /// The period of the same length just before.
    pub fn previous(&self) -> DayRange {
        let len = self.days.last.0 - self.days.first.0 + 1;
        DayRange::new(self.days.first.plus(-len), self.days.first.plus(-1))
    }
}

/// The dashboard filters of a request (one value per dimension; several
/// dimensions combine).
pub fn filters(get: impl Fn(&str) -> Option<String>) -> Result<Filters, ApiError> {
    let mut f = Filters::default();
    if let Some(c) = get("country") {
        let country = Country::from_code(&c);
        if country == Country::UNKNOWN && !c.eq_ignore_ascii_case("ZZ") {
            return Err(ApiError::bad_request("`country` must be a two-letter code"));
        }
        f.country = Some(country);
    }
    if let Some(d) = get("device") {
        f.device = Some(
            Device::ALL
                .into_iter()
                .find(|x| x.as_str() == d)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "`device` must be desktop, mobile, tablet, bot or unknown",
                    )
                })?,
        );
    }
    f.browser = get("browser");
    f.page = get("page");
    f.referrer = get("referrer");
    Ok(f)
}

/// Dashboard numbers of a period, keyed by the Stats API's metric names
/// and computed by its definitions ([`Metric::value`]), so the dashboard
/// and the Stats API never disagree: `views_per_visit` with two decimals,
/// `bounce_rate` a whole percentage, `visit_duration` whole seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Numbers(pub BTreeMap<&'static str, serde_json::Value>);

impl From<Metrics> for Numbers {
    fn from(m: Metrics) -> Self {
        Numbers(
            [
                Metric::Visitors,
                Metric::Visits,
                Metric::Pageviews,
                Metric::ViewsPerVisit,
                Metric::BounceRate,
                Metric::VisitDuration,
            ]
            .into_iter()
            .map(|x| (x.name(), x.value(&m)))
            .collect(),
        )
    }
}

/// One point of the chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Point {
    /// `YYYY-MM-DD` or `HH:00`.
    pub label: String,
    /// Distinct visitors.
    pub visitors: u64,
    /// Page views.
    pub pageviews: u64,
}

/// One row of a breakdown panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The value (a path, a host, a country code, ...).
    pub value: String,
    /// Distinct visitors.
    pub visitors: u64,
    /// Page views.
    pub pageviews: u64,
}

/// Everything the dashboard page shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    /// The site.
    pub site: String,
    /// The range.
    pub range: Range,
    /// The range's numbers.
    pub metrics: Numbers,
    /// The previous period's numbers.
    pub previous: Numbers,
    /// The chart.
    pub series: Vec<Point>,
    /// The top rows of each panel.
    pub breakdowns: BTreeMap<&'static str, Vec<Row>>,
    /// Whether this is a shared (folded) view.
    pub shared: bool,
    /// The folding threshold of a shared view.
    pub k: u32,
}

/// The overview of `range` under `filters`; `fold_below` folds rows seen by
/// fewer visitors into `(other)` (a shared view).
pub fn overview(
    domain: &Domain,
    range: Range,
    filters: Filters,
    fold_below: Option<u32>,
) -> Result<Overview, ApiError> {
    // One read of the range's days (and one of the previous period's)
    // answers every part of the page.
    let q = Query::days(range.days).filtered(filters.clone());
    let now = domain.rollups(&q).map_err(super::read_error)?;
    let metrics = now.metrics();
    if let Some(k) = fold_below
        && !filters.is_empty()
        && metrics.visitors < u64::from(k)
    {
        return Err(ApiError::forbidden(format!(
            "fewer than {k} visitors match these filters; a shared view does not show them"
        )));
    }
    let previous = domain
        .rollups(&Query::days(range.previous()).filtered(filters.clone()))
        .map_err(super::read_error)?
        .metrics();
    let series = if range.bucket == "hour" {
        hours(domain, range.days.first, &filters).map_err(super::read_error)?
    } else {
        now.timeseries()
            .into_iter()
            .map(|(d, m)| Point {
                label: d.to_string(),
                visitors: m.visitors,
                pageviews: m.pageviews,
            })
            .collect()
    };
    let mut breakdowns = BTreeMap::new();
    for (name, dim) in PANELS {
        let mut rows: Vec<Row> = now
            .breakdown(dim, TOP_ROWS)
            .into_iter()
            .map(|(value, m)| Row {
                value,
                visitors: m.visitors,
                pageviews: m.pageviews,
            })
            .collect();
        if let Some(k) = fold_below {
            rows = fold(rows, k);
        }
        breakdowns.insert(name, rows);
    }
    Ok(Overview {
        site: domain.name().to_string(),
        range,
        metrics: metrics.into(),
        previous: previous.into(),
        series,
        breakdowns,
        shared: fold_below.is_some(),
        k: fold_below.unwrap_or(0),
    })
}

/// Rows seen by fewer than `k` visitors become one `(other)` row at the end.
pub fn fold(rows: Vec<Row>, k: u32) -> Vec<Row> {
    let (keep, small): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|r| r.visitors >= u64::from(k) && r.value != "(other)");
    let mut out = keep;
    if !small.is_empty() {
        out.push(Row {
            value: "(other)".into(),
            visitors: small.iter().map(|r| r.visitors).sum(),
            pageviews: small.iter().map(|r| r.pageviews).sum(),
        });
    }
    out
}

/// Visitors and page views per hour of one day, from its raw events.
fn hours(domain: &Domain, day: Day, filters: &Filters) -> Result<Vec<Point>, ReadError> {
    let mut visitors: Vec<HashSet<u64>> = vec![HashSet::new(); 24];
    let mut pageviews = [0u64; 24];
    let start = day.start();
    domain.scan(TimeRange::new(start, day.end()), |e| {
        if !filters.accepts(e) {
            return;
        }
        let h = usize::try_from((e.ts.0 - start.0).div_euclid(3_600_000)).unwrap_or(0);
        let Some(slot) = visitors.get_mut(h) else {
            return;
        };
        if matches!(e.kind, EventKind::PageView { .. }) {
            pageviews[h] += 1;
            slot.insert(e.visitor.0);
        }
    })?;
    Ok((0..24)
        .map(|h| Point {
            label: format!("{h:02}:00"),
            visitors: visitors[h].len() as u64,
            pageviews: pageviews[h],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Day {
        Day::from_ymd(2026, 3, 17)
    }

    #[test]
    fn ranges_end_today_and_the_previous_period_has_the_same_length() {
        let r = Range::parse(Some("7d"), None, None, today()).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str(), r.bucket),
            ("2026-03-11", "2026-03-17", "day")
        );
        assert_eq!(
            r.previous(),
            DayRange::new(Day::from_ymd(2026, 3, 4), Day::from_ymd(2026, 3, 10))
        );
        let t = Range::parse(Some("today"), None, None, today()).unwrap();
        assert_eq!((t.from.as_str(), t.bucket), ("2026-03-17", "hour"));
        assert_eq!(
            t.previous(),
            DayRange::new(Day::from_ymd(2026, 3, 16), Day::from_ymd(2026, 3, 16))
        );
        let m = Range::parse(Some("month"), None, None, today()).unwrap();
        assert_eq!(m.from, "2026-03-01");
        let c = Range::parse(
            Some("custom"),
            Some("2026-01-01"),
            Some("2026-01-31"),
            today(),
        )
        .unwrap();
        assert_eq!(c.days.days().count(), 31);
    }

    #[test]
    fn bad_ranges_are_refused_by_name() {
        for (k, f, t, want) in [
            ("week", None, None, "`range`"),
            ("custom", Some("2026-01-02"), None, "`to`"),
            ("custom", Some("yesterday"), Some("2026-01-02"), "`from`"),
            (
                "custom",
                Some("2026-02-02"),
                Some("2026-01-02"),
                "ends before",
            ),
            ("custom", Some("1990-01-01"), Some("2026-01-02"), "at most"),
        ] {
            let e = Range::parse(Some(k), f, t, today()).unwrap_err().message;
            assert!(e.contains(want), "{k} {f:?} {t:?}: {e}");
        }
    }

    #[test]
    fn folding_keeps_rows_of_k_visitors_and_sums_the_rest() {
        let row = |v: &str, n| Row {
            value: v.into(),
            visitors: n,
            pageviews: n * 2,
        };
        let rows = vec![row("/a", 9), row("/b", 5), row("/c", 4), row("/d", 1)];
        let folded = fold(rows, 5);
        assert_eq!(folded, vec![row("/a", 9), row("/b", 5), row("(other)", 5)]);
        assert_eq!(fold(vec![row("/a", 9)], 5), vec![row("/a", 9)]);
    }

    #[test]
    fn filters_name_the_bad_one() {
        let get = |k: &'static str, v: &'static str| move |q: &str| (q == k).then(|| v.to_string());
        assert!(
            filters(get("country", "Germany"))
                .unwrap_err()
                .message
                .contains("`country`")
        );
        assert!(
            filters(get("device", "fridge"))
                .unwrap_err()
                .message
                .contains("`device`")
        );
        let f = filters(get("country", "de")).unwrap();
        assert_eq!(f.country, Some(Country::from_code("DE")));
    }
}
