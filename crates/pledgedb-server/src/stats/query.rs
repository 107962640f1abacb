//! Plausible's Stats API v2 query, read from JSON and answered by the
//! engine's typed query API.
//!
//! Every part of a query is checked before anything is read: an unknown
//! or unsupported metric, dimension, filter operator, date range, ordering
//! or field gets a 400 that names it. Names are echoed only when they are
//! Plausible's own vocabulary (`event:goal`, `conversion_rate`); anything
//! else is named by its position (`metrics[2]`), so no error ever repeats a
//! value the client typed.

use pledgedb_core::query::{FilterExpr, FilterField};
use pledgedb_core::{Day, DayRange, Dimension, Domain, Filters, Metrics, Query};
use serde_json::{Value, json};

use crate::auth::ApiError;

/// Most rows one answer holds.
pub const MAX_LIMIT: u64 = 10_000;
/// Most nodes in a filter tree.
pub const MAX_FILTER_NODES: usize = 200;
/// Deepest nesting of filters.
pub const MAX_FILTER_DEPTH: usize = 16;
/// Longest filter value.
pub const MAX_VALUE_LEN: usize = 2_000;

/// A supported metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Distinct visitors (HyperLogLog estimate).
    Visitors,
    /// Visits.
    Visits,
    /// Page views.
    Pageviews,
    /// Page views per visit, two decimals.
    ViewsPerVisit,
    /// One-page visits per visit, a whole percentage.
    BounceRate,
    /// Mean visit duration, whole seconds.
    VisitDuration,
    /// All events.
    Events,
}

impl Metric {
    const ALL: [(&'static str, Metric); 7] = [
        ("visitors", Metric::Visitors),
        ("visits", Metric::Visits),
        ("pageviews", Metric::Pageviews),
        ("views_per_visit", Metric::ViewsPerVisit),
        ("bounce_rate", Metric::BounceRate),
        ("visit_duration", Metric::VisitDuration),
        ("events", Metric::Events),
    ];

    fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.iter().find(|(n, _)| *n == s).map(|(_, m)| *m)
    }

    /// The metric's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        Metric::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("", |(n, _)| n)
    }

    /// The metric's value in a typed answer.
    #[must_use]
    pub fn value(self, m: &Metrics) -> Value {
        match self {
            Metric::Visitors => json!(m.visitors),
            Metric::Visits => json!(m.visits),
            Metric::Pageviews => json!(m.pageviews),
            Metric::Events => json!(m.events),
            Metric::ViewsPerVisit => {
                if m.visits == 0 {
                    json!(0.0)
                } else {
                    let v = m.pageviews as f64 / m.visits as f64;
                    json!((v * 100.0).round() / 100.0)
                }
            }
            Metric::BounceRate => json!((m.bounce_rate() * 100.0).round() as u64),
            Metric::VisitDuration => json!((m.avg_visit_ms() as f64 / 1000.0).round() as u64),
        }
    }
}

/// Plausible metrics this server does not answer (named in the 400).
const KNOWN_METRICS: &[&str] = &[
    "conversion_rate",
    "group_conversion_rate",
    "percentage",
    "time_on_page",
    "scroll_depth",
    "exit_rate",
    "average_revenue",
    "total_revenue",
];

/// A supported dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// `time:day`: one row per day of the range.
    Day,
    /// A breakdown dimension of the typed API.
    By(Dimension),
}

const DIMENSIONS: [(&str, Dimension); 6] = [
    ("event:page", Dimension::Page),
    ("visit:entry_page", Dimension::EntryPage),
    ("visit:source", Dimension::Referrer),
    ("visit:country", Dimension::Country),
    ("visit:device", Dimension::Device),
    ("visit:browser", Dimension::Browser),
];

/// Plausible dimensions this server does not answer (named in the 400).
const KNOWN_DIMENSIONS: &[&str] = &[
    "event:goal",
    "event:hostname",
    "event:name",
    "visit:exit_page",
    "visit:exit_page_hostname",
    "visit:entry_page_hostname",
    "visit:referrer",
    "visit:channel",
    "visit:utm_medium",
    "visit:utm_source",
    "visit:utm_campaign",
    "visit:utm_content",
    "visit:utm_term",
    "visit:screen",
    "visit:device_type",
    "visit:os",
    "visit:os_version",
    "visit:browser_version",
    "visit:region",
    "visit:city",
    "visit:country_name",
    "visit:region_name",
    "visit:city_name",
    "time",
    "time:hour",
    "time:week",
    "time:month",
    "time:minute",
];

fn dim_name(d: Dim) -> &'static str {
    match d {
        Dim::Day => "time:day",
        Dim::By(x) => DIMENSIONS
            .iter()
            .find(|(_, y)| *y == x)
            .map_or("", |(n, _)| n),
    }
}

fn unsupported_name(s: &str, known: &[&str], what: &str, at: &str) -> ApiError {
    if known.contains(&s) {
        ApiError::bad_request(format!("{what} {s:?} is not supported"))
    } else if s.starts_with("event:props:") {
        ApiError::bad_request(format!("{what} event:props:* is not supported ({at})"))
    } else {
        ApiError::bad_request(format!("{at} is not a supported {what}"))
    }
}

fn parse_dimension(s: &str, at: &str) -> Result<Dim, ApiError> {
    if s == "time:day" {
        return Ok(Dim::Day);
    }
    DIMENSIONS
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, d)| Dim::By(*d))
        .ok_or_else(|| unsupported_name(s, KNOWN_DIMENSIONS, "dimension", at))
}

fn filter_field(s: &str, at: &str) -> Result<FilterField, ApiError> {
    match s {
        "event:page" => Ok(FilterField::Page),
        "visit:source" => Ok(FilterField::Referrer),
        "visit:country" => Ok(FilterField::Country),
        "visit:device" => Ok(FilterField::Device),
        "visit:browser" => Ok(FilterField::Browser),
        "visit:entry_page" => Err(ApiError::bad_request(
            "filters on \"visit:entry_page\" are not supported (filters look at each event)",
        )),
        "time:day" => Err(ApiError::bad_request(
            "filters on \"time:day\" are not supported: use date_range",
        )),
        other => Err(unsupported_name(
            other,
            KNOWN_DIMENSIONS,
            "filter dimension",
            at,
        )),
    }
}

const KNOWN_OPERATORS: &[&str] = &[
    "matches",
    "matches_not",
    "matches_wildcard",
    "matches_wildcard_not",
    "has_done",
    "has_not_done",
];

fn parse_filter(
    v: &Value,
    at: &str,
    nodes: &mut usize,
    depth: usize,
) -> Result<FilterExpr, ApiError> {
    *nodes += 1;
    if *nodes > MAX_FILTER_NODES {
        return Err(ApiError::bad_request(format!(
            "filters hold at most {MAX_FILTER_NODES} conditions"
        )));
    }
    if depth > MAX_FILTER_DEPTH {
        return Err(ApiError::bad_request(format!(
            "filters nest at most {MAX_FILTER_DEPTH} deep"
        )));
    }
    let shape = || {
        ApiError::bad_request(format!(
            "{at} is not a filter ([operator, dimension, [values]])"
        ))
    };
    let a = v.as_array().ok_or_else(shape)?;
    let op = a.first().and_then(Value::as_str).ok_or_else(shape)?;
    match op {
        "and" | "or" => {
            if a.len() != 2 {
                return Err(shape());
            }
            let list = a[1].as_array().ok_or_else(shape)?;
            let parts = list
                .iter()
                .enumerate()
                .map(|(i, x)| parse_filter(x, &format!("{at}[1][{i}]"), nodes, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if op == "and" {
                FilterExpr::And(parts)
            } else {
                FilterExpr::Or(parts)
            })
        }
        "not" => {
            if a.len() != 2 {
                return Err(shape());
            }
            Ok(FilterExpr::Not(Box::new(parse_filter(
                &a[1],
                &format!("{at}[1]"),
                nodes,
                depth + 1,
            )?)))
        }
        "is" | "is_not" | "contains" | "contains_not" => {
            if a.len() == 4 {
                return Err(ApiError::bad_request(format!(
                    "filter modifiers ({at}[3]) are not supported"
                )));
            }
            if a.len() != 3 {
                return Err(shape());
            }
            let dim = a[1].as_str().ok_or_else(shape)?;
            let field = filter_field(dim, &format!("{at}[1]"))?;
            let values = a[2].as_array().ok_or_else(shape)?;
            if values.len() > MAX_FILTER_NODES {
                return Err(ApiError::bad_request(format!(
                    "a filter holds at most {MAX_FILTER_NODES} values"
                )));
            }
            let values = values
                .iter()
                .enumerate()
                .map(|(i, x)| match x.as_str() {
                    Some(s) if s.len() <= MAX_VALUE_LEN => Ok(s.to_string()),
                    Some(_) => Err(ApiError::bad_request(format!(
                        "{at}[2][{i}] is longer than {MAX_VALUE_LEN} bytes"
                    ))),
                    None => Err(ApiError::bad_request(format!(
                        "{at}[2][{i}] is not a string"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(match op {
                "is" => FilterExpr::Is(field, values),
                "is_not" => FilterExpr::IsNot(field, values),
                "contains" => FilterExpr::Contains(field, values),
                _ => FilterExpr::Not(Box::new(FilterExpr::Contains(field, values))),
            })
        }
        other if KNOWN_OPERATORS.contains(&other) => Err(ApiError::bad_request(format!(
            "filter operator {other:?} is not supported"
        ))),
        _ => Err(ApiError::bad_request(format!(
            "{at}[0] is not a supported filter operator"
        ))),
    }
}

/// Parses the value of `filters` (a list, implicitly combined with and).
pub fn parse_filters(v: &Value) -> Result<Option<FilterExpr>, ApiError> {
    let list = v
        .as_array()
        .ok_or_else(|| ApiError::bad_request("filters is a list of filters"))?;
    if list.is_empty() {
        return Ok(None);
    }
    let mut nodes = 0;
    let parts = list
        .iter()
        .enumerate()
        .map(|(i, x)| parse_filter(x, &format!("filters[{i}]"), &mut nodes, 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(if parts.len() == 1 {
        parts
            .into_iter()
            .next()
            .unwrap_or(FilterExpr::And(Vec::new()))
    } else {
        FilterExpr::And(parts)
    }))
}

/// Parses `date_range` relative to `today`.
pub fn parse_date_range(v: &Value, today: Day) -> Result<DayRange, ApiError> {
    match v {
        Value::String(s) => match s.as_str() {
            "day" => Ok(DayRange::new(today, today)),
            "7d" => Ok(DayRange::last_n(today, 7)),
            "30d" => Ok(DayRange::last_n(today, 30)),
            "month" => {
                let (y, m, _) = today.to_ymd();
                Ok(DayRange::new(Day::from_ymd(y, m, 1), today))
            }
            "all" | "year" | "28d" | "91d" | "6mo" | "12mo" | "realtime" | "30m" => Err(
                ApiError::bad_request(format!("date_range {s:?} is not supported")),
            ),
            _ => Err(ApiError::bad_request(
                "date_range is \"day\", \"7d\", \"30d\", \"month\" or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]",
            )),
        },
        Value::Array(a) if a.len() == 2 => {
            let day = |i: usize| {
                a[i].as_str().and_then(Day::parse).ok_or_else(|| {
                    ApiError::bad_request(format!("date_range[{i}] is not a date (YYYY-MM-DD)"))
                })
            };
            let (from, to) = (day(0)?, day(1)?);
            if to < from {
                return Err(ApiError::bad_request("date_range ends before it starts"));
            }
            Ok(DayRange::new(from, to))
        }
        _ => Err(ApiError::bad_request(
            "date_range is \"day\", \"7d\", \"30d\", \"month\" or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]",
        )),
    }
}

/// What `order_by` sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKey {
    /// The i-th requested metric.
    Metric(usize),
    /// The dimension.
    Dimension,
}

/// A parsed, checked query.
#[derive(Clone, Debug)]
pub struct StatsQuery {
    /// The site.
    pub site_id: String,
    /// The metrics, in the order asked.
    pub metrics: Vec<Metric>,
    /// The days.
    pub days: DayRange,
    /// At most one dimension.
    pub dimension: Option<Dim>,
    /// The filter expression, if any.
    pub filter: Option<FilterExpr>,
    /// Sort keys, descending when true.
    pub order_by: Vec<(OrderKey, bool)>,
    /// Rows asked for.
    pub limit: u64,
    /// Rows skipped.
    pub offset: u64,
    /// The filters as sent (for the echo in `query`).
    filters_json: Value,
}

const TOP_LEVEL: &[&str] = &[
    "site_id",
    "metrics",
    "date_range",
    "dimensions",
    "filters",
    "order_by",
    "pagination",
];

const KNOWN_TOP_LEVEL: &[&str] = &["include", "relative_date", "date"];

fn list_of_str<'a>(v: &'a Value, what: &str) -> Result<Vec<&'a str>, ApiError> {
    let a = v
        .as_array()
        .ok_or_else(|| ApiError::bad_request(format!("{what} is a list of names")))?;
    if a.len() > 64 {
        return Err(ApiError::bad_request(format!(
            "{what} lists at most 64 names"
        )));
    }
    a.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str()
                .ok_or_else(|| ApiError::bad_request(format!("{what}[{i}] is not a name")))
        })
        .collect()
}

/// Reads and checks a query body.
pub fn parse(body: &Value, today: Day) -> Result<StatsQuery, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body is a JSON object"))?;
    for k in obj.keys() {
        if !TOP_LEVEL.contains(&k.as_str()) {
            return Err(if KNOWN_TOP_LEVEL.contains(&k.as_str()) {
                ApiError::bad_request(format!("{k:?} is not supported"))
            } else {
                ApiError::bad_request("the body has a field the Stats API does not know")
            });
        }
    }
    let site_id = obj
        .get("site_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 253)
        .ok_or_else(|| ApiError::bad_request("site_id (the site's domain) is required"))?
        .to_string();
    let names = list_of_str(
        obj.get("metrics")
            .ok_or_else(|| ApiError::bad_request("metrics is required"))?,
        "metrics",
    )?;
    if names.is_empty() {
        return Err(ApiError::bad_request("metrics names at least one metric"));
    }
    let mut metrics = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let m = Metric::parse(n).ok_or_else(|| {
            unsupported_name(n, KNOWN_METRICS, "metric", &format!("metrics[{i}]"))
        })?;
        if metrics.contains(&m) {
            return Err(ApiError::bad_request(format!(
                "metrics[{i}] is listed twice"
            )));
        }
        metrics.push(m);
    }
    let days = parse_date_range(
        obj.get("date_range")
            .ok_or_else(|| ApiError::bad_request("date_range is required"))?,
        today,
    )?;
    let dims = match obj.get("dimensions") {
        None => Vec::new(),
        Some(v) => list_of_str(v, "dimensions")?
            .iter()
            .enumerate()
            .map(|(i, d)| parse_dimension(d, &format!("dimensions[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
    };
    if dims.len() > 1 {
        return Err(ApiError::bad_request(
            "more than one dimension is not supported",
        ));
    }
    let dimension = dims.first().copied();
    let filters_json = obj.get("filters").cloned().unwrap_or(json!([]));
    let filter = parse_filters(&filters_json)?;
    let mut order_by = Vec::new();
    if let Some(v) = obj.get("order_by") {
        let a = v.as_array().ok_or_else(|| {
            ApiError::bad_request("order_by is a list of [name, \"asc\"|\"desc\"]")
        })?;
        if a.len() > 8 {
            return Err(ApiError::bad_request("order_by has at most 8 entries"));
        }
        for (i, e) in a.iter().enumerate() {
            let bad =
                || ApiError::bad_request(format!("order_by[{i}] is not [name, \"asc\"|\"desc\"]"));
            let pair = e.as_array().filter(|p| p.len() == 2).ok_or_else(bad)?;
            let name = pair[0].as_str().ok_or_else(bad)?;
            let desc = match pair[1].as_str() {
                Some("asc") => false,
                Some("desc") => true,
                _ => return Err(bad()),
            };
            let key = if let Some(j) = metrics.iter().position(|m| m.name() == name) {
                OrderKey::Metric(j)
            } else if dimension.is_some_and(|d| dim_name(d) == name) {
                OrderKey::Dimension
            } else {
                return Err(ApiError::bad_request(format!(
                    "order_by[{i}] names neither a metric nor a dimension of the query"
                )));
            };
            order_by.push((key, desc));
        }
    }
    let (mut limit, mut offset) = (MAX_LIMIT, 0);
    if let Some(p) = obj.get("pagination") {
        let p = p
            .as_object()
            .ok_or_else(|| ApiError::bad_request("pagination is {\"limit\": n, \"offset\": n}"))?;
        for (k, v) in p {
            let n = v.as_u64().ok_or_else(|| {
                ApiError::bad_request("pagination limit and offset are whole numbers")
            })?;
            match k.as_str() {
                "limit" if (1..=MAX_LIMIT).contains(&n) => limit = n,
                "limit" => {
                    return Err(ApiError::bad_request(format!(
                        "pagination limit is 1 to {MAX_LIMIT}"
                    )));
                }
                "offset" => offset = n,
                _ => {
                    return Err(ApiError::bad_request(
                        "pagination has only limit and offset",
                    ));
                }
            }
        }
    }
    Ok(StatsQuery {
        site_id,
        metrics,
        days,
        dimension,
        filter,
        order_by,
        limit,
        offset,
        filters_json,
    })
}

impl StatsQuery {
    /// The typed query this asks.
    #[must_use]
    pub fn typed(&self) -> Query {
        Query::days(self.days).filtered(Filters {
            expr: self.filter.clone(),
            ..Filters::default()
        })
    }
}

/// One row of an answer: the dimension's value (if any) and the typed
/// metrics.
type Row = (Option<String>, Metrics);

fn cmp_rows(q: &StatsQuery, a: &Row, b: &Row) -> std::cmp::Ordering {
    for (key, desc) in &q.order_by {
        let o = match key {
            OrderKey::Dimension => a.0.cmp(&b.0),
            OrderKey::Metric(i) => {
                let m = q.metrics[*i];
                let (x, y) = (m.value(&a.1), m.value(&b.1));
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.total_cmp(&y)
            }
        };
        let o = if *desc { o.reverse() } else { o };
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// Answers a checked query from the typed API, in Plausible's response
/// shape.
pub fn answer(domain: &Domain, q: &StatsQuery) -> Result<Value, ApiError> {
    let typed = q.typed();
    let read = |e: pledgedb_core::ReadError| match e {
        pledgedb_core::ReadError::Invalid(m) => ApiError::bad_request(m),
        _ => ApiError::internal(),
    };
    let mut rows: Vec<Row> = match q.dimension {
        None => vec![(None, domain.metrics(&typed).map_err(read)?)],
        Some(Dim::Day) => domain
            .timeseries(&typed)
            .map_err(read)?
            .into_iter()
            .map(|(d, m)| (Some(d.to_string()), m))
            .collect(),
        Some(Dim::By(d)) => domain
            .breakdown(&typed, d, usize::MAX)
            .map_err(read)?
            .into_iter()
            .map(|(k, m)| (Some(k), m))
            .collect(),
    };
    if !q.order_by.is_empty() {
        rows.sort_by(|a, b| cmp_rows(q, a, b));
    }
    let skip = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(q.limit).unwrap_or(usize::MAX);
    let results: Vec<Value> = rows
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(d, m)| {
            json!({
                "metrics": q.metrics.iter().map(|x| x.value(&m)).collect::<Vec<_>>(),
                "dimensions": d.into_iter().collect::<Vec<_>>(),
            })
        })
        .collect();
    let order_by: Vec<Value> = q
        .order_by
        .iter()
        .map(|(k, desc)| {
            let name = match k {
                OrderKey::Metric(i) => q.metrics[*i].name(),
                OrderKey::Dimension => q.dimension.map_or("", dim_name),
            };
            json!([name, if *desc { "desc" } else { "asc" }])
        })
        .collect();
    Ok(json!({
        "results": results,
        "meta": {},
        "query": {
            "site_id": q.site_id,
            "metrics": q.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
            "date_range": [q.days.first.to_string(), q.days.last.to_string()],
            "dimensions": q.dimension.map(dim_name).into_iter().collect::<Vec<_>>(),
            "filters": q.filters_json,
            "order_by": order_by,
            "pagination": {"limit": q.limit, "offset": q.offset},
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Day {
        Day::from_ymd(2026, 3, 15)
    }

    fn err(v: Value) -> String {
        parse(&v, today()).unwrap_err().message
    }

    fn base() -> Value {
        json!({"site_id": "a.example", "metrics": ["visitors"], "date_range": "7d"})
    }

    fn with(k: &str, v: Value) -> Value {
        let mut b = base();
        b[k] = v;
        b
    }

    #[test]
    fn date_ranges_are_relative_to_the_clock() {
        let t = today();
        for (v, want) in [
            (json!("day"), DayRange::new(t, t)),
            (json!("7d"), DayRange::new(t.plus(-6), t)),
            (json!("30d"), DayRange::new(t.plus(-29), t)),
            (json!("month"), DayRange::new(Day::from_ymd(2026, 3, 1), t)),
            (
                json!(["2026-01-02", "2026-01-05"]),
                DayRange::new(Day::from_ymd(2026, 1, 2), Day::from_ymd(2026, 1, 5)),
            ),
        ] {
            assert_eq!(parse_date_range(&v, t).unwrap(), want, "{v}");
        }
    }

    #[test]
    fn unsupported_parts_are_named_and_typed_values_never_echoed() {
        let secret = "203.0.113.77";
        let table: Vec<(Value, &str)> = vec![
            (
                with("metrics", json!(["conversion_rate"])),
                "\"conversion_rate\"",
            ),
            (with("metrics", json!(["visitors", secret])), "metrics[1]"),
            (with("metrics", json!([])), "at least one"),
            (with("metrics", json!(["visits", "visits"])), "twice"),
            (with("dimensions", json!(["event:goal"])), "\"event:goal\""),
            (with("dimensions", json!([secret])), "dimensions[0]"),
            (
                with("dimensions", json!(["event:props:plan"])),
                "event:props:*",
            ),
            (
                with("dimensions", json!(["visit:country", "visit:device"])),
                "more than one",
            ),
            (with("date_range", json!("12mo")), "\"12mo\""),
            (with("date_range", json!(secret)), "date_range is"),
            (
                with("date_range", json!([secret, "2026-01-01"])),
                "date_range[0]",
            ),
            (
                with("date_range", json!(["2026-01-02", "2026-01-01"])),
                "ends before",
            ),
            (
                with("filters", json!([["matches", "event:page", ["/a"]]])),
                "\"matches\"",
            ),
            (
                with("filters", json!([[secret, "event:page", ["/a"]]])),
                "filters[0][0]",
            ),
            (
                with("filters", json!([["is", "event:goal", ["x"]]])),
                "\"event:goal\"",
            ),
            (
                with("filters", json!([["is", secret, ["x"]]])),
                "filters[0][1]",
            ),
            (
                with("filters", json!([["is", "visit:entry_page", ["x"]]])),
                "visit:entry_page",
            ),
            (
                with("filters", json!([["is", "event:page", [1]]])),
                "filters[0][2][0]",
            ),
            (
                with(
                    "filters",
                    json!([["is", "event:page", ["/"], {"case_sensitive": false}]]),
                ),
                "modifiers",
            ),
            (
                with("filters", json!([["and", [["or", [["is", "x", []]]]]]])),
                "filters[0][1][0][1][0][1]",
            ),
            (with("filters", json!({"a": 1})), "list of filters"),
            (
                with("order_by", json!([["bounce_rate", "desc"]])),
                "order_by[0]",
            ),
            (with("order_by", json!([["visitors", "up"]])), "order_by[0]"),
            (with("pagination", json!({"limit": 0})), "limit"),
            (with("pagination", json!({"page": 1})), "only limit"),
            (with("include", json!({"imports": true})), "\"include\""),
            (with(secret, json!(1)), "does not know"),
            (
                json!({"metrics": ["visitors"], "date_range": "day"}),
                "site_id",
            ),
            (json!([1]), "JSON object"),
        ];
        for (body, want) in table {
            let m = err(body.clone());
            assert!(m.contains(want), "{body}: {m}");
            assert!(!m.contains(secret), "{body}: {m}");
        }
    }

    #[test]
    fn deep_or_wide_filters_are_refused_not_overflowed() {
        let mut f = json!(["is", "event:page", ["/"]]);
        for _ in 0..100 {
            f = json!(["not", f]);
        }
        assert!(err(with("filters", json!([f]))).contains("nest"));
        let wide: Vec<Value> = (0..300)
            .map(|_| json!(["is", "event:page", ["/"]]))
            .collect();
        assert!(err(with("filters", json!([["or", wide]]))).contains("at most"));
    }

    #[test]
    fn filters_become_one_expression() {
        let q = parse(
            &with(
                "filters",
                json!([
                    ["is", "visit:country", ["DE", "FR"]],
                    ["not", ["contains", "event:page", ["/blog"]]],
                    ["contains_not", "visit:browser", ["Fire"]],
                    [
                        "or",
                        [
                            ["is_not", "visit:device", ["bot"]],
                            ["is", "visit:source", ["(direct)"]]
                        ]
                    ]
                ]),
            ),
            today(),
        )
        .unwrap();
        use FilterField as F;
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
        assert_eq!(
            q.filter,
            Some(FilterExpr::And(vec![
                FilterExpr::Is(F::Country, s(&["DE", "FR"])),
                FilterExpr::Not(Box::new(FilterExpr::Contains(F::Page, s(&["/blog"])))),
                FilterExpr::Not(Box::new(FilterExpr::Contains(F::Browser, s(&["Fire"])))),
                FilterExpr::Or(vec![
                    FilterExpr::IsNot(F::Device, s(&["bot"])),
                    FilterExpr::Is(F::Referrer, s(&["(direct)"])),
                ]),
            ]))
        );
    }

    #[test]
    fn metric_values_follow_plausible() {
        let m = Metrics {
            visitors: 7,
            pageviews: 10,
            visits: 3,
            bounces: 1,
            duration_ms: 100_400,
            events: 20,
        };
        let v: Vec<Value> = Metric::ALL.iter().map(|(_, x)| x.value(&m)).collect();
        assert_eq!(
            v,
            vec![
                json!(7),
                json!(3),
                json!(10),
                json!(3.33),
                json!(33),
                json!(33),
                json!(20)
            ]
        );
        let zero = Metrics::default();
        assert_eq!(Metric::ViewsPerVisit.value(&zero), json!(0.0));
        assert_eq!(Metric::BounceRate.value(&zero), json!(0));
    }
}
