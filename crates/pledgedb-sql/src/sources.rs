//! Feeding a table's rows to the sink: raw scans of the days the `WHERE`
//! clause allows, visits grouped from a scan, form analytics, and the
//! daily roll-ups. Also `EXPLAIN`.
//!
//! Raw scans go through the engine's Reader: they decode only the columns
//! the statement references and hand it the `WHERE` clause's equalities
//! (`pushdown.rs`); an unordered `LIMIT` stops the scan. Visits are the
//! engine's own (`pledgedb_core::query::visit`), so this table agrees with
//! roll-ups and `Domain::sessions`.

use crate::error::Result;
use crate::exec::Sink;
use crate::plan::Plan;
use crate::range::{Bounds, label};
use crate::tables::{Kind, TableDef, event_rows, session_value, text_or_null, visitor_value};
use crate::value::{ColumnType, Value};
use crate::{Column, ExecuteOptions, ResultSet};
use pledgedb_core::domain::reader::Predicate;
use pledgedb_core::query::visit::{Visit, Visits};
use pledgedb_core::{Day, DayRange, Domain, Metrics, Query, Source};
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// What answered a query.
pub(crate) struct Answer {
    pub text: String,
    pub from_rollups: bool,
}

fn answer(text: String) -> Answer {
    Answer {
        text,
        from_rollups: false,
    }
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The days a bounded scan reads, for messages.
fn bounds_label(b: &Bounds) -> String {
    match b.days() {
        (Some(a), Some(z)) => format!("days {}", label(&DayRange::new(a, z))),
        (Some(a), None) => format!("days from {a}"),
        (None, Some(z)) => format!("days until {z}"),
        (None, None) => "all days".to_string(),
    }
}

/// The days an aggregated table covers: those the `WHERE` clause names;
/// missing ends come from `today` (the 30 days ending today) or, without
/// it, from the first and last day that has raw data. `None`: no day.
pub(crate) fn day_range(domain: &Domain, b: &Bounds, opts: &ExecuteOptions) -> Option<DayRange> {
    if b.is_empty() {
        return None;
    }
    let data = || {
        let days = domain.segment_days();
        Some((*days.first()?, *days.last()?))
    };
    let (first, last) = match (b.days(), opts.today) {
        ((Some(a), Some(z)), _) => (a, z),
        ((Some(a), None), Some(t)) => (a, t),
        ((None, Some(z)), Some(_)) => (z.plus(-29), z),
        ((None, None), Some(t)) => (t.plus(-29), t),
        ((Some(a), None), None) => (a, data()?.1),
        ((None, Some(z)), None) => (data()?.0, z),
        ((None, None), None) => data()?,
    };
    (first <= last).then(|| DayRange::new(first, last))
}

/// Feeds the rows of `t` to the sink.
pub(crate) fn feed(
    domain: &Domain,
    t: &TableDef,
    plan: &Plan,
    opts: &ExecuteOptions,
    sink: &mut Sink<'_>,
) -> Result<Answer> {
    match t.kind {
        Kind::Scan => scan(domain, t, plan, sink),
        Kind::Sessions => sessions(domain, plan, sink),
        Kind::Forms | Kind::FormFields => forms(domain, t, plan, opts, sink),
        Kind::Daily => daily(domain, plan, opts, sink),
    }
}

fn scan(domain: &Domain, t: &TableDef, plan: &Plan, sink: &mut Sink<'_>) -> Result<Answer> {
    if plan.bounds.is_empty() {
        return Ok(answer(
            "nothing read: the WHERE clause allows no day".into(),
        ));
    }
    // Only the columns the statement references are decoded, and blocks
    // the WHERE clause's equalities rule out are skipped.
    let columns = crate::pushdown::columns(t, &plan.needed);
    let pred = crate::pushdown::predicate(t, plan.filter.as_ref());
    let mut buf = Vec::with_capacity(t.cols.len());
    domain
        .reader(plan.bounds.time_range())?
        .scan(columns, &pred, |e| {
            if let Err(err) = event_rows(t, e, &plan.needed, &mut buf, &mut |row| sink.push(row)) {
                sink.fail(err);
            }
            if sink.stopped() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
    Ok(answer(format!(
        "raw scan of {}, {} (only the segment files of those days are opened)",
        t.name,
        bounds_label(&plan.bounds)
    )))
}

/// The `sessions` row of one visit (query/visit.rs defines a visit, for
/// roll-ups, `Domain::sessions` and this table alike).
fn visit_row(v: &Visit) -> Vec<Value> {
    let l = v.landing();
    let referrer = if v.entry.is_some() {
        text_or_null(l.referrer.as_str())
    } else {
        Value::Null
    };
    vec![
        session_value(v.session),
        visitor_value(v.visitor),
        Value::Text(v.start.day().to_string()),
        Value::Text(v.start.to_string()),
        Value::Text(v.end.to_string()),
        int(v.duration_ms()),
        int(v.pageviews),
        int(v.events),
        Value::Text(l.path.to_string()),
        Value::Text(v.exit_page.to_string()),
        referrer,
        Value::Text(l.country.as_str().to_string()),
        Value::Text(l.device.as_str().to_string()),
        Value::Text(l.browser.to_string()),
        Value::Bool(v.bounced()),
    ]
}

fn sessions(domain: &Domain, plan: &Plan, sink: &mut Sink<'_>) -> Result<Answer> {
    if plan.bounds.is_empty() {
        return Ok(answer(
            "nothing read: the WHERE clause allows no day".into(),
        ));
    }
    // One extra day either side, so visits crossing midnight are whole.
    let read = plan.bounds.widen(1);
    let mut visits = Visits::new();
    domain.reader(read.time_range())?.scan(
        pledgedb_core::query::replay::SESSION_COLUMNS,
        &Predicate::all(),
        |e| {
            if visits.add(e)
                && let Err(err) = sink.hold(1)
            {
                sink.fail(err);
            }
            if sink.stopped() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )?;
    let mut all: Vec<Visit> = visits.into_visits().collect();
    all.sort_by(|a, b| a.start.cmp(&b.start).then(a.session.cmp(&b.session)));
    for v in &all {
        if sink.stopped() {
            break;
        }
        sink.push(&visit_row(v))?;
    }
    Ok(answer(format!(
        "raw scan grouped into visits, {} (read with one extra day either side)",
        bounds_label(&plan.bounds)
    )))
}

fn forms(
    domain: &Domain,
    t: &TableDef,
    plan: &Plan,
    opts: &ExecuteOptions,
    sink: &mut Sink<'_>,
) -> Result<Answer> {
    let Some(days) = day_range(domain, &plan.bounds, opts) else {
        return Ok(answer("nothing read: no day in the range".into()));
    };
    let reports = domain.form_analytics(days, None)?;
    for r in &reports {
        if t.kind == Kind::Forms {
            sink.push(&[
                Value::Text(r.form.clone()),
                int(r.views),
                int(r.starters),
                int(r.submissions),
                int(r.converted),
                Value::Float(r.conversion),
                Value::Float(r.abandonment),
                Value::Null,
            ])?;
            continue;
        }
        for f in &r.fields {
            sink.push(&[
                Value::Text(r.form.clone()),
                Value::Text(f.field.clone()),
                int(f.interactions),
                int(f.time_spent_ms),
                int(f.avg_hesitation_ms()),
                int(f.keystrokes),
                int(f.corrections),
                int(f.refocuses),
                int(f.drop_offs),
                Value::Null,
            ])?;
        }
    }
    Ok(answer(format!(
        "form analytics over raw events, days {}",
        label(&days)
    )))
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Rollup => "rollup",
        Source::Raw => "raw",
        Source::Aggregate => "aggregate",
    }
}

/// Summarises which source answered the days of a daily query.
fn sources_text(days: &DayRange, sources: &[Source]) -> Answer {
    let count = |want: Source| sources.iter().filter(|s| **s == want).count();
    let (rollup, aggregate, raw) = (
        count(Source::Rollup),
        count(Source::Aggregate),
        count(Source::Raw),
    );
    let mut parts = Vec::new();
    for (n, what) in [
        (rollup, "from roll-ups"),
        (aggregate, "from long-lived aggregates"),
        (raw, "by raw scan"),
    ] {
        if n > 0 {
            parts.push(format!("{n} day{} {what}", if n == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() {
        parts.push("no day has data".into());
    }
    Answer {
        text: format!("daily roll-ups, days {}: {}", label(days), parts.join(", ")),
        from_rollups: raw == 0,
    }
}

fn daily(
    domain: &Domain,
    plan: &Plan,
    opts: &ExecuteOptions,
    sink: &mut Sink<'_>,
) -> Result<Answer> {
    let Some(days) = day_range(domain, &plan.bounds, opts) else {
        return Ok(Answer {
            text: "nothing read: no day in the range".into(),
            from_rollups: true,
        });
    };
    let by_day: BTreeMap<Day, (Metrics, Source)> = domain
        .day_rollups(&Query::days(days))?
        .into_iter()
        .map(|(d, r, s)| (d, (Metrics::from(&r.totals), s)))
        .collect();
    for d in days.days() {
        let (m, source) = match by_day.get(&d) {
            Some((m, s)) => (*m, Value::Text(source_name(*s).into())),
            None => (Metrics::default(), Value::Null),
        };
        sink.push(&[
            Value::Text(d.to_string()),
            int(m.visitors),
            int(m.pageviews),
            int(m.visits),
            int(m.bounces),
            Value::Float(m.bounce_rate()),
            int(m.duration_ms),
            int(m.avg_visit_ms()),
            int(m.events),
            source,
        ])?;
    }
    let sources: Vec<Source> = by_day.values().map(|(_, s)| *s).collect();
    Ok(sources_text(&days, &sources))
}

/// `EXPLAIN SELECT ...`: how the query would be answered, without running
/// it (for `daily`, which source answers each day).
pub(crate) fn explain(domain: &Domain, plan: &Plan, opts: &ExecuteOptions) -> Result<ResultSet> {
    let mut rows: Vec<(&str, String)> = Vec::new();
    let mut from_rollups = false;
    match plan.table {
        None => rows.push(("table", "(none): one row, no data read".into())),
        Some(t) => {
            rows.push(("table", t.name.to_string()));
            match t.kind {
                Kind::Scan => {
                    rows.push(("days", bounds_label(&plan.bounds)));
                    rows.push((
                        "reads",
                        "raw events; only the segment files of those days are opened".into(),
                    ));
                }
                Kind::Sessions => {
                    rows.push(("days", bounds_label(&plan.bounds)));
                    rows.push((
                        "reads",
                        "raw events of those days and one day either side, grouped into visits"
                            .into(),
                    ));
                }
                Kind::Forms | Kind::FormFields | Kind::Daily => {
                    match day_range(domain, &plan.bounds, opts) {
                        None => rows.push(("days", "none".into())),
                        Some(days) => {
                            rows.push(("days", label(&days)));
                            if t.kind == Kind::Daily {
                                let sources: Vec<Source> = domain
                                    .explain(&Query::days(days))?
                                    .into_iter()
                                    .map(|(_, s)| s)
                                    .collect();
                                let a = sources_text(&days, &sources);
                                from_rollups = a.from_rollups;
                                rows.push(("reads", a.text));
                            } else {
                                rows.push(("reads", "form analytics over raw events".into()));
                            }
                        }
                    }
                }
            }
        }
    }
    rows.push((
        "filter",
        if plan.filter.is_some() {
            "evaluated per row".into()
        } else {
            "none".into()
        },
    ));
    if let Some(a) = &plan.agg {
        rows.push((
            "grouping",
            format!(
                "{} key(s), {} aggregate(s), updated as rows stream in",
                a.groups.len(),
                a.aggs.len()
            ),
        ));
    }
    if !plan.order.is_empty() {
        rows.push(("order", format!("{} key(s)", plan.order.len())));
    }
    if let Some(l) = plan.limit {
        rows.push(("limit", format!("{l} (offset {})", plan.offset)));
    }
    Ok(ResultSet {
        columns: vec![
            Column {
                name: "step".into(),
                ty: ColumnType::Text,
            },
            Column {
                name: "detail".into(),
                ty: ColumnType::Text,
            },
        ],
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![Value::Text(k.into()), Value::Text(v)])
            .collect(),
        source: Some("explain".into()),
        from_rollups,
    })
}
