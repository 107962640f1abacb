//! Reports from the query API: the dashboard, form analytics, visits and
//! replays. Used by the dot-commands and by the demo.

use crate::output::{self, Fmt, Grid, Mode, Section, Style, col, int, text};
use crate::shell::{ShellError, fail};
use pledgedb_core::query::replay::{KEY_MASK, ReplayStep};
use pledgedb_core::{DayRange, Db, Domain, Metrics, Query, SessionId};
use pledgedb_sql::Value;
use std::io::Write;

/// The `n` days ending today, by the engine's clock.
pub fn last_days(db: &Db, n: u32) -> DayRange {
    DayRange::last_n(db.clock().now().day(), n)
}

/// From the first to the last day that has a segment, if any.
pub fn data_days(domain: &Domain) -> Option<DayRange> {
    let days = domain.segment_days();
    Some(DayRange::new(*days.first()?, *days.last()?))
}

fn read(domain: &Domain) -> impl Fn(pledgedb_core::ReadError) -> ShellError + '_ {
    move |e| fail(format!("cannot read {}: {e}", domain.name()))
}

/// `n / total`, 0 when `total` is 0.
fn ratio(n: u64, total: u64) -> Value {
    if total == 0 {
        Value::Float(0.0)
    } else {
        Value::Float(n as f64 / total as f64)
    }
}

/// One breakdown as a grid: the value, visitors, page views, visits, the
/// share of all visits (when the values split the visits: not for pages,
/// which one visit may view several of) and the bounce rate.
fn breakdown(rows: &[(String, Metrics)], label: &str, total_visits: Option<u64>) -> Grid {
    let mut cols = vec![
        col(label, Fmt::Plain),
        col("visitors", Fmt::Plain),
        col("pageviews", Fmt::Plain),
        col("visits", Fmt::Plain),
    ];
    if total_visits.is_some() {
        cols.push(col("share", Fmt::Percent));
    }
    cols.push(col("bounce_rate", Fmt::Percent));
    let mut g = Grid::new(cols);
    for (value, m) in rows {
        let mut row = vec![
            text(value),
            int(m.visitors),
            int(m.pageviews),
            int(m.visits),
        ];
        if let Some(total) = total_visits {
            row.push(ratio(m.visits, total));
        }
        row.push(ratio(m.bounces, m.visits));
        g.push(row);
    }
    g
}

fn metrics_row(m: &Metrics) -> Vec<Value> {
    vec![
        int(m.visitors),
        int(m.pageviews),
        int(m.visits),
        ratio(m.bounces, m.visits),
        int(m.avg_visit_ms()),
        int(m.events),
    ]
}

fn metrics_cols() -> Vec<output::Col> {
    vec![
        col("visitors", Fmt::Plain),
        col("pageviews", Fmt::Plain),
        col("visits", Fmt::Plain),
        col("bounce_rate", Fmt::Percent),
        col("avg_visit_ms", Fmt::Duration),
        col("events", Fmt::Plain),
    ]
}

fn bar(n: u64, max: u64) -> String {
    if max == 0 || n == 0 {
        return String::new();
    }
    let w = ((n as f64 / max as f64) * 30.0).round().max(1.0) as usize;
    "█".repeat(w)
}

/// Prints the dashboard of `days` as the engine computes it
/// ([`Domain::dashboard`]): totals, top pages, countries, referrers,
/// devices and the daily series.
pub fn dashboard(
    domain: &Domain,
    days: DayRange,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let dash = domain.dashboard(days).map_err(read(domain))?;
    let (rollups, raw, aggregates) = (
        dash.days_from_rollups,
        dash.days_from_raw,
        dash.days_from_aggregates,
    );
    let mut answered = format!("{rollups} days from roll-ups, {raw} from raw events");
    if aggregates > 0 {
        answered.push_str(&format!(", {aggregates} from long-lived aggregates"));
    }
    let mut summary = Grid::new(metrics_cols());
    summary.push(metrics_row(&dash.totals));

    let mut daily_cols = vec![col("day", Fmt::Plain)];
    daily_cols.extend(metrics_cols());
    let with_bar = style.mode == Mode::Table;
    if with_bar {
        daily_cols.push(col("page views", Fmt::Plain));
    }
    let max = dash
        .daily
        .iter()
        .map(|(_, m)| m.pageviews)
        .max()
        .unwrap_or(0);
    let mut daily = Grid::new(daily_cols);
    for (day, m) in &dash.daily {
        let mut row = vec![text(day.to_string())];
        row.extend(metrics_row(m));
        if with_bar {
            row.push(text(bar(m.pageviews, max)));
        }
        daily.push(row);
    }

    let v = dash.totals.visits;
    let sections = vec![
        Section::new(
            &format!(
                "{}: {} to {} ({answered})",
                domain.name(),
                days.first,
                days.last
            ),
            "totals",
            summary,
        ),
        Section::new("Top pages", "pages", breakdown(&dash.pages, "page", None)),
        Section::new(
            "Top countries",
            "countries",
            breakdown(&dash.countries, "country", Some(v)),
        ),
        Section::new(
            "Top referrers",
            "referrers",
            breakdown(&dash.referrers, "referrer", Some(v)),
        ),
        Section::new(
            "Devices",
            "devices",
            breakdown(&dash.devices, "device", Some(v)),
        ),
        Section::new("Daily", "daily", daily),
    ];
    output::render_sections(out, &sections, style)?;
    Ok(())
}

/// Prints form analytics over the days that have data: one row per form,
/// then one per field.
pub fn forms(
    domain: &Domain,
    form: Option<&str>,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let Some(days) = data_days(domain) else {
        writeln!(out, "{} has no raw events", domain.name())?;
        return Ok(());
    };
    let reports = domain.form_analytics(days, form).map_err(read(domain))?;
    if reports.is_empty() {
        let what = form.map_or_else(
            || "no form events".to_string(),
            |f| format!("no form {f:?}"),
        );
        return Err(fail(format!(
            "{} has {what} from {} to {}",
            domain.name(),
            days.first,
            days.last
        )));
    }
    let mut g = Grid::new(vec![
        col("form", Fmt::Plain),
        col("views", Fmt::Plain),
        col("starters", Fmt::Plain),
        col("submissions", Fmt::Plain),
        col("converted", Fmt::Plain),
        col("conversion", Fmt::Percent),
        col("abandonment", Fmt::Percent),
    ]);
    let mut f = Grid::new(vec![
        col("form", Fmt::Plain),
        col("field", Fmt::Plain),
        col("interactions", Fmt::Plain),
        col("time_spent_ms", Fmt::Duration),
        col("avg_hesitation_ms", Fmt::Duration),
        col("keystrokes", Fmt::Plain),
        col("corrections", Fmt::Plain),
        col("refocuses", Fmt::Plain),
        col("drop_offs", Fmt::Plain),
    ]);
    for r in &reports {
        g.push(vec![
            text(&r.form),
            int(r.views),
            int(r.starters),
            int(r.submissions),
            int(r.converted),
            Value::Float(r.conversion),
            Value::Float(r.abandonment),
        ]);
        for fr in &r.fields {
            f.push(vec![
                text(&r.form),
                text(&fr.field),
                int(fr.interactions),
                int(fr.time_spent_ms),
                int(fr.avg_hesitation_ms()),
                int(fr.keystrokes),
                int(fr.corrections),
                int(fr.refocuses),
                int(fr.drop_offs),
            ]);
        }
    }
    output::render_sections(
        out,
        &[
            Section::new(
                &format!(
                    "Forms of {}, {} to {} (computed from the kind of each keystroke, never its content)",
                    domain.name(),
                    days.first,
                    days.last
                ),
                "forms",
                g,
            ),
            Section::new("Fields", "fields", f),
        ],
        style,
    )?;
    Ok(())
}

/// Prints the `n` most recent visits.
pub fn sessions(
    domain: &Domain,
    n: usize,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let Some(days) = data_days(domain) else {
        writeln!(out, "{} has no raw events", domain.name())?;
        return Ok(());
    };
    let list = domain.sessions(days, n).map_err(read(domain))?;
    let mut g = Grid::new(vec![
        col("session", Fmt::Plain),
        col("visitor", Fmt::Plain),
        col("start", Fmt::Plain),
        col("duration_ms", Fmt::Duration),
        col("pageviews", Fmt::Plain),
        col("events", Fmt::Plain),
        col("entry_page", Fmt::Plain),
        col("exit_page", Fmt::Plain),
        col("country", Fmt::Plain),
        col("device", Fmt::Plain),
    ]);
    for s in list {
        g.push(vec![
            text(s.session.to_string()),
            text(s.visitor.to_string()),
            text(s.start.to_string()),
            int(s.end.0 - s.start.0),
            int(s.pageviews),
            int(s.events),
            text(s.entry_page.as_str()),
            text(s.exit_page.as_str()),
            text(s.country.as_str()),
            text(s.device.as_str()),
        ]);
    }
    output::render(out, &g, style)?;
    Ok(())
}

/// Steps with runs of keystrokes in one field shown as one step.
fn collapse(steps: &[ReplayStep]) -> Vec<(i64, String, String, String)> {
    let mut rows: Vec<(i64, String, String, String)> = Vec::new();
    let mut run = 0usize;
    for s in steps {
        let kind = s.kind.as_str();
        if kind == "keystroke"
            && let Some(last) = rows.last_mut()
            && last.1.starts_with("keystroke")
            && last.3.split(' ').next() == s.detail.split(' ').next()
            && last.2 == s.path.as_str()
        {
            run += 1;
            last.1 = format!("keystroke x{run}");
            last.3.push(KEY_MASK);
            continue;
        }
        run = 1;
        rows.push((
            s.offset_ms,
            kind.to_string(),
            s.path.as_str().to_string(),
            s.detail.clone(),
        ));
    }
    rows
}

/// Prints one visit, step by step, keystrokes masked.
pub fn replay(
    domain: &Domain,
    session: SessionId,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let steps = domain.replay(session).map_err(read(domain))?;
    if steps.is_empty() {
        return Err(fail(format!(
            "{} has no visit with that id (it may have expired or been erased; see .sessions)",
            domain.name()
        )));
    }
    let rows: Vec<(i64, String, String, String)> = if style.mode == Mode::Table {
        collapse(&steps)
    } else {
        steps
            .iter()
            .map(|s| {
                (
                    s.offset_ms,
                    s.kind.as_str().to_string(),
                    s.path.as_str().to_string(),
                    s.detail.clone(),
                )
            })
            .collect()
    };
    let mut g = Grid::new(vec![
        col("offset_ms", Fmt::Duration),
        col("event", Fmt::Plain),
        col("path", Fmt::Plain),
        col("detail", Fmt::Plain),
    ]);
    for (offset, kind, path, detail) in rows {
        g.push(vec![int(offset), text(kind), text(path), text(detail)]);
    }
    let span = steps.last().map_or(0, |s| s.offset_ms);
    output::render_sections(
        out,
        &[Section::new(
            &format!(
                "Visit {session} of {}: {} events over {}, from {} \
                 (each keystroke is {KEY_MASK}: which key was never recorded)",
                domain.name(),
                steps.len(),
                output::duration_ms(span),
                steps.first().map(|s| s.ts.to_string()).unwrap_or_default()
            ),
            "replay",
            g,
        )],
        style,
    )?;
    Ok(())
}

/// A visit with keystrokes and a form submit, as short as possible: the
/// demo's replay ([`Domain::visit_to_replay`]).
pub fn replay_candidate(domain: &Domain, days: DayRange) -> Result<Option<SessionId>, ShellError> {
    domain.visit_to_replay(days).map_err(read(domain))
}

/// One row per site: its totals over `days`.
pub fn sites(
    db: &Db,
    names: &[String],
    days: DayRange,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), ShellError> {
    let mut cols = vec![col("site", Fmt::Plain)];
    cols.extend(metrics_cols());
    let mut g = Grid::new(cols);
    for name in names {
        let d = db
            .domain(name)
            .map_err(|e| fail(format!("cannot read {name}: {e}")))?;
        let m = d.metrics(&Query::days(days)).map_err(read(&d))?;
        let mut row = vec![text(name)];
        row.extend(metrics_row(&m));
        g.push(row);
    }
    output::render_sections(
        out,
        &[Section::new(
            &format!("Sites, {} to {}", days.first, days.last),
            "sites",
            g,
        )],
        style,
    )?;
    Ok(())
}
