//! SQL answers checked against an independent computation over
//! `Domain::events(TimeRange::all())`, on deterministic workload traffic.

mod common;

use common::{Fixture, i, t, visitor_value, workload};
use pledgedb_core::{
    Day, DayRange, Event, EventKind, EventType, HitKind, Query, SessionId, Timestamp, VisitorId,
};
use pledgedb_sql::{ExecuteOptions, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

fn fixture() -> Fixture {
    workload(11, 4, 60, false)
}

fn of_type(events: &[Event], ty: EventType) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.kind.event_type() == ty)
        .collect()
}

#[test]
fn count_star_of_every_table() {
    let f = fixture();
    let ev = f.events();
    assert!(ev.len() > 1000, "too little data: {}", ev.len());
    assert_eq!(f.int("SELECT COUNT(*) FROM events"), ev.len() as i64);
    for (table, ty) in [
        ("pageviews", EventType::PageView),
        ("clicks", EventType::Click),
        ("scrolls", EventType::Scroll),
        ("custom_events", EventType::Custom),
    ] {
        let n = of_type(&ev, ty).len() as i64;
        assert!(n > 0, "{table} is empty");
        assert_eq!(
            f.int(&format!("SELECT COUNT(*) FROM {table}")),
            n,
            "{table}"
        );
    }
    let submitted: usize = ev
        .iter()
        .map(|e| match &e.kind {
            EventKind::FormSubmit { fields, .. } => fields.len(),
            _ => 0,
        })
        .sum();
    assert!(submitted > 0);
    assert_eq!(
        f.int("SELECT COUNT(*) FROM form_submissions"),
        submitted as i64
    );
    let sessions: HashSet<SessionId> = ev
        .iter()
        .map(|e| e.session)
        .filter(|s| *s != SessionId(0))
        .collect();
    assert_eq!(
        f.int("SELECT COUNT(*) FROM sessions"),
        sessions.len() as i64
    );
    // COUNT(*) without a WHERE reads everything; the answer says so.
    let r = f.q("SELECT COUNT(*) FROM pageviews");
    assert!(r.source.as_deref().is_some_and(|s| s.contains("all days")));
    assert!(!r.from_rollups);
}

#[test]
fn group_by_country_with_distinct_visitors() {
    let f = fixture();
    let ev = f.events();
    let mut want: BTreeMap<String, (i64, HashSet<VisitorId>)> = BTreeMap::new();
    for e in of_type(&ev, EventType::PageView) {
        let slot = want.entry(e.country.as_str().to_string()).or_default();
        slot.0 += 1;
        if e.visitor != VisitorId::ANONYMOUS {
            slot.1.insert(e.visitor);
        }
    }
    assert!(want.len() > 3, "the GeoIP database should give countries");
    let want: Vec<Vec<Value>> = want
        .into_iter()
        .map(|(c, (n, v))| vec![t(&c), i(n), i(v.len())])
        .collect();
    let r = f.q(
        "SELECT country, COUNT(*) AS n, COUNT(DISTINCT visitor) AS v \
         FROM pageviews GROUP BY country ORDER BY country",
    );
    assert_eq!(r.rows, want);
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["country", "n", "v"]);
}

#[test]
fn group_by_path_order_by_limit() {
    let f = fixture();
    let ev = f.events();
    let mut counts: HashMap<String, i64> = HashMap::new();
    for e in &ev {
        *counts.entry(e.path.to_string()).or_default() += 1;
    }
    let mut want: Vec<(String, i64)> = counts.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<Vec<Value>> = want
        .iter()
        .take(5)
        .map(|(p, n)| vec![t(p), i(*n)])
        .collect();
    for sql in [
        "SELECT path, COUNT(*) AS n FROM events GROUP BY path ORDER BY n DESC, path LIMIT 5",
        "SELECT path, COUNT(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT 5",
        "SELECT path, COUNT(*) FROM events GROUP BY path ORDER BY COUNT(*) DESC, path LIMIT 5",
    ] {
        assert_eq!(f.q(sql).rows, top, "{sql}");
    }
    // OFFSET skips the first rows of the same order.
    let r = f.q("SELECT path, COUNT(*) AS n FROM events GROUP BY path ORDER BY n DESC, path LIMIT 2 OFFSET 3");
    assert_eq!(r.rows, top[3..5].to_vec());
    // Ordered raw rows with a LIMIT keep the best rows (top-k).
    let mut ts: Vec<String> = ev.iter().map(|e| e.ts.to_string()).collect();
    ts.sort();
    let last: Vec<Vec<Value>> = ts.iter().rev().take(7).map(|s| vec![t(s)]).collect();
    assert_eq!(
        f.q("SELECT ts FROM events ORDER BY ts DESC LIMIT 7").rows,
        last
    );
}

/// A predicate in SQL and the same predicate over events.
type Case = (String, Box<dyn Fn(&Event) -> bool>);

#[test]
fn where_on_days_equals_the_oracle() {
    let f = fixture();
    let ev = f.events();
    let days = f.days();
    assert!(days.len() >= 4, "{days:?}");
    let (d0, d1, d2) = (days[0], days[1], days[2]);
    let noon = d1.start().plus_millis(12 * 3_600_000);
    let cases: Vec<Case> = vec![
        (format!("day = '{d1}'"), Box::new(move |e| e.ts.day() == d1)),
        (
            format!("day BETWEEN '{d1}' AND '{d2}'"),
            Box::new(move |e| (d1..=d2).contains(&e.ts.day())),
        ),
        (
            format!("day >= '{d2}'"),
            Box::new(move |e| e.ts.day() >= d2),
        ),
        (format!("day > '{d2}'"), Box::new(move |e| e.ts.day() > d2)),
        (format!("day < '{d1}'"), Box::new(move |e| e.ts.day() < d1)),
        (
            format!("day <= '{d1}'"),
            Box::new(move |e| e.ts.day() <= d1),
        ),
        (
            format!("'{d2}' <= day"),
            Box::new(move |e| e.ts.day() >= d2),
        ),
        (
            format!("day IN ('{d0}', '{d2}')"),
            Box::new(move |e| e.ts.day() == d0 || e.ts.day() == d2),
        ),
        (
            format!("ts >= '{d1}T12:00:00Z' AND ts < '{d2}'"),
            Box::new(move |e| e.ts >= noon && e.ts < d2.start()),
        ),
        (
            format!("ts BETWEEN '{d1}' AND '{d1} 23:59:59.999'"),
            Box::new(move |e| e.ts.day() == d1),
        ),
        (
            format!("ts > '{d1}T13:00:00+01:00'"),
            Box::new(move |e| e.ts > noon),
        ),
        (
            format!("day = '{d1}' OR path = '/'"),
            Box::new(move |e| e.ts.day() == d1 || e.path.as_str() == "/"),
        ),
        (
            format!("NOT (day = '{d1}') AND day <= '{d2}'"),
            Box::new(move |e| e.ts.day() != d1 && e.ts.day() <= d2),
        ),
        (
            format!("day != '{d0}' AND device = 'mobile'"),
            Box::new(move |e| e.ts.day() != d0 && e.device.as_str() == "mobile"),
        ),
        (
            format!("day = '{d2}' AND day = '{d1}'"),
            Box::new(|_| false),
        ),
    ];
    for (pred, oracle) in &cases {
        let hits: Vec<&Event> = ev.iter().filter(|e| oracle(e)).collect();
        let visitors: HashSet<VisitorId> = hits
            .iter()
            .map(|e| e.visitor)
            .filter(|v| *v != VisitorId::ANONYMOUS)
            .collect();
        let min = hits.iter().map(|e| e.ts).min().map(|t| t.to_string());
        let max = hits.iter().map(|e| e.ts).max().map(|t| t.to_string());
        let text = |s: Option<String>| s.map_or(Value::Null, Value::Text);
        let want = vec![vec![i(hits.len()), i(visitors.len()), text(min), text(max)]];
        let sql = format!(
            "SELECT COUNT(*), COUNT(DISTINCT visitor), MIN(ts), MAX(ts) FROM events WHERE {pred}"
        );
        assert_eq!(f.q(&sql).rows, want, "{sql}");
    }
    // Per-day grouping agrees too.
    let mut per_day: BTreeMap<Day, i64> = BTreeMap::new();
    for e in &ev {
        *per_day.entry(e.ts.day()).or_default() += 1;
    }
    let want: Vec<Vec<Value>> = per_day
        .iter()
        .map(|(d, n)| vec![t(&d.to_string()), i(*n)])
        .collect();
    assert_eq!(
        f.q("SELECT day, COUNT(*) FROM events GROUP BY day ORDER BY day")
            .rows,
        want
    );
}

#[test]
fn day_predicates_bound_the_scan() {
    let f = fixture();
    let days = f.days();
    let (d1, d2) = (days[1], days[2]);
    let r = f.q(&format!(
        "SELECT COUNT(*) FROM pageviews WHERE day = '{d1}'"
    ));
    assert!(
        r.source
            .as_deref()
            .is_some_and(|s| s.contains(&format!("days {d1} "))),
        "{:?}",
        r.source
    );
    let r = f.q(&format!(
        "SELECT COUNT(*) FROM events WHERE day BETWEEN '{d1}' AND '{d2}' AND path LIKE '/%'"
    ));
    assert!(
        r.source
            .as_deref()
            .is_some_and(|s| s.contains(&format!("days {d1}..{d2}"))),
        "{:?}",
        r.source
    );
    let r = f.q(&format!(
        "SELECT COUNT(*) FROM events WHERE day = '{d1}' AND day = '{d2}'"
    ));
    assert_eq!(r.rows, vec![vec![i(0)]]);
    assert!(
        r.source
            .as_deref()
            .is_some_and(|s| s.contains("nothing read"))
    );
    let e = f.q(&format!(
        "EXPLAIN SELECT path FROM pageviews WHERE day >= '{d2}'"
    ));
    assert!(
        e.rows
            .iter()
            .any(|row| row == &vec![t("days"), t(&format!("days from {d2}"))]),
        "{:?}",
        e.rows
    );
}

/// Visits computed from the events, as the `sessions` table defines them.
#[derive(Debug)]
struct Visit {
    visitor: VisitorId,
    start: Timestamp,
    end: Timestamp,
    pageviews: i64,
    events: i64,
    first_path: String,
    first_pv: Option<(Timestamp, String)>,
    exit: String,
}

fn visits(ev: &[Event]) -> BTreeMap<SessionId, Visit> {
    let mut m: BTreeMap<SessionId, Visit> = BTreeMap::new();
    for e in ev.iter().filter(|e| e.session != SessionId(0)) {
        let v = m.entry(e.session).or_insert_with(|| Visit {
            visitor: e.visitor,
            start: e.ts,
            end: e.ts,
            pageviews: 0,
            events: 0,
            first_path: e.path.to_string(),
            first_pv: None,
            exit: e.path.to_string(),
        });
        v.events += 1;
        if matches!(e.kind, EventKind::PageView { .. }) {
            v.pageviews += 1;
            if v.first_pv.as_ref().is_none_or(|(ts, _)| e.ts < *ts) {
                v.first_pv = Some((e.ts, e.path.to_string()));
            }
        }
        if e.ts < v.start {
            v.start = e.ts;
            v.first_path = e.path.to_string();
        }
        if e.ts >= v.end {
            v.end = e.ts;
            v.exit = e.path.to_string();
        }
    }
    m
}

#[test]
fn sessions_equal_the_oracle() {
    let f = fixture();
    let ev = f.events();
    let want: Vec<Vec<Value>> = visits(&ev)
        .into_iter()
        .map(|(s, v)| {
            let entry = v.first_pv.map_or(v.first_path, |(_, p)| p);
            vec![
                t(&s.to_string()),
                visitor_value(v.visitor),
                t(&v.start.to_string()),
                t(&v.end.to_string()),
                i(v.end.millis() - v.start.millis()),
                i(v.pageviews),
                i(v.events),
                t(&entry),
                t(&v.exit),
                Value::Bool(v.pageviews == 1),
            ]
        })
        .collect();
    assert!(!want.is_empty());
    let r = f.q(
        "SELECT session, visitor, start_ts, end_ts, duration_ms, pageviews, events, \
         entry_page, exit_page, bounced FROM sessions ORDER BY session",
    );
    assert_eq!(r.rows, want);

    // A day filter picks the visits that started that day, whole.
    let days = f.days();
    for d in &days {
        let n = visits(&ev).values().filter(|v| v.start.day() == *d).count();
        let pv: i64 = visits(&ev)
            .values()
            .filter(|v| v.start.day() == *d)
            .map(|v| v.pageviews)
            .sum();
        let r = f.q(&format!(
            "SELECT COUNT(*), SUM(pageviews) FROM sessions WHERE day = '{d}'"
        ));
        let sum = if n == 0 { Value::Null } else { i(pv) };
        assert_eq!(r.rows, vec![vec![i(n), sum]], "{d}");
    }
    let bounced = visits(&ev).values().filter(|v| v.pageviews == 1).count();
    assert_eq!(
        f.int("SELECT COUNT(*) FROM sessions WHERE bounced"),
        bounced as i64
    );
}

#[test]
fn forms_and_fields_equal_form_analytics() {
    let f = fixture();
    let days = f.days();
    let (first, last) = (days[0], days[days.len() - 1]);
    for (range, pred) in [
        (DayRange::new(first, last), String::new()),
        (
            DayRange::new(days[1], days[1]),
            format!("WHERE day = '{}'", days[1]),
        ),
        (
            DayRange::new(days[1], days[2]),
            format!("WHERE day BETWEEN '{}' AND '{}'", days[1], days[2]),
        ),
    ] {
        let reports = f.domain.form_analytics(range, None).expect("forms");
        assert!(!reports.is_empty());
        let want: Vec<Vec<Value>> = reports
            .iter()
            .flat_map(|r| {
                r.fields.iter().map(|fr| {
                    vec![
                        t(&r.form),
                        t(&fr.field),
                        i(fr.interactions),
                        i(fr.time_spent_ms),
                        i(fr.avg_hesitation_ms()),
                        i(fr.keystrokes),
                        i(fr.corrections),
                        i(fr.refocuses),
                        i(fr.drop_offs),
                    ]
                })
            })
            .collect();
        let r = f.q(&format!(
            "SELECT * FROM form_fields {pred} ORDER BY form, field"
        ));
        assert_eq!(r.rows, want, "{pred}");
        let want: Vec<Vec<Value>> = reports
            .iter()
            .map(|r| {
                vec![
                    t(&r.form),
                    i(r.views),
                    i(r.starters),
                    i(r.submissions),
                    i(r.converted),
                    Value::Float(r.conversion),
                ]
            })
            .collect();
        let r = f.q(&format!(
            "SELECT form, views, starters, submissions, converted, conversion FROM forms {pred} ORDER BY form"
        ));
        assert_eq!(r.rows, want, "{pred}");
    }
}

#[test]
fn daily_equals_timeseries_from_rollups() {
    let f = workload(12, 4, 40, true);
    let days = f.days();
    let range = DayRange::new(days[0], days[days.len() - 1]);
    let series = f
        .domain
        .timeseries(&Query::days(range))
        .expect("timeseries");
    let want: Vec<Vec<Value>> = series
        .iter()
        .map(|(d, m)| {
            vec![
                t(&d.to_string()),
                i(m.visitors),
                i(m.pageviews),
                i(m.visits),
                i(m.bounces),
                Value::Float(m.bounce_rate()),
                i(m.duration_ms),
                i(m.avg_visit_ms()),
                i(m.events),
            ]
        })
        .collect();
    let sql = format!(
        "SELECT day, visitors, pageviews, visits, bounces, bounce_rate, duration_ms, avg_visit_ms, events \
         FROM daily WHERE day BETWEEN '{}' AND '{}'",
        range.first, range.last
    );
    let r = f.q(&sql);
    assert_eq!(r.rows, want);
    // The finished days were sealed, so the roll-ups answered.
    let explain = f.domain.explain(&Query::days(range)).expect("explain");
    let all_rollups = explain
        .iter()
        .all(|(_, s)| *s == pledgedb_core::Source::Rollup);
    assert_eq!(r.from_rollups, all_rollups, "{:?}", r.source);
    assert!(r.source.as_deref().is_some_and(|s| s.contains("roll-ups")));
    // Without WHERE: the days that have data.
    let r = f.q("SELECT day, visitors, pageviews, visits, bounces, bounce_rate, duration_ms, avg_visit_ms, events FROM daily");
    let segs = f.domain.segment_days();
    assert_eq!(r.rows.len(), segs.len());
    assert_eq!(
        r.rows.first().and_then(|r| r.first()),
        Some(&t(&segs[0].to_string()))
    );
    // With today: the 30 days ending today, zero for days without data.
    let today = pledgedb_core::Clock::now(&f.clock).day();
    let opts = ExecuteOptions {
        today: Some(today),
        ..ExecuteOptions::default()
    };
    let r = f
        .q_with("SELECT day, pageviews, source FROM daily", &opts)
        .expect("daily");
    assert_eq!(r.rows.len(), 30);
    assert_eq!(r.rows[29][0], t(&today.to_string()));
    assert_eq!(r.rows[0][2], Value::Null);
    // Aggregates over daily agree with metrics over the range.
    let m = f.domain.metrics(&Query::days(range)).expect("metrics");
    assert_eq!(
        f.q(&format!(
            "SELECT SUM(pageviews), SUM(visits), SUM(events) FROM daily WHERE day >= '{}' AND day <= '{}'",
            range.first, range.last
        ))
        .rows,
        vec![vec![i(m.pageviews), i(m.visits), i(m.events)]]
    );
}

#[test]
fn form_submissions_hold_no_sensitive_value() {
    let f = fixture();
    // What the trackers sent as sensitive: never to be seen.
    let mut sensitive: HashSet<String> = HashSet::new();
    let mut keystroke_hits = 0;
    for h in &f.hits {
        match &h.kind {
            HitKind::FormSubmit { fields, .. } => {
                for fld in fields {
                    let secret = fld.sensitive
                        || fld.input_type.as_deref() == Some("password")
                        || fld
                            .autocomplete
                            .as_deref()
                            .is_some_and(|a| a.starts_with("cc-") || a.ends_with("password"));
                    if secret && !fld.value.is_empty() {
                        sensitive.insert(fld.value.clone());
                    }
                }
            }
            HitKind::Keystroke { .. } => keystroke_hits += 1,
            _ => {}
        }
    }
    assert!(!sensitive.is_empty(), "the workload should send secrets");
    assert!(keystroke_hits > 0);
    let r = f.q("SELECT ts, day, session, form, field, value FROM form_submissions");
    assert!(!r.rows.is_empty());
    for row in &r.rows {
        let field = &row[4];
        let value = &row[5];
        for bad in ["password", "card_number", "card_cvc"] {
            assert_ne!(field, &t(bad));
        }
        if let Value::Text(v) = value {
            assert!(!sensitive.contains(v), "a sensitive value is visible");
        }
    }
    // Every row comes from a submit event: keystrokes never appear.
    let ev = f.events();
    let submits: HashSet<(String, String)> = ev
        .iter()
        .filter(|e| matches!(e.kind, EventKind::FormSubmit { .. }))
        .map(|e| (e.ts.to_string(), e.session.to_string()))
        .collect();
    for row in &r.rows {
        let (Value::Text(ts), Value::Text(s)) = (&row[0], &row[2]) else {
            panic!("ts and session are text: {row:?}");
        };
        assert!(submits.contains(&(ts.clone(), s.clone())));
    }
    assert!(f.int("SELECT COUNT(*) FROM events WHERE type = 'keystroke'") > 0);
    // No table, read whole, shows a sensitive value.
    for table in pledgedb_sql::tables() {
        let sql = if table
            .columns
            .iter()
            .any(|c| c.name == "day" && c.description.starts_with("WHERE only"))
        {
            format!("SELECT * FROM {}", table.name)
        } else {
            format!("SELECT * FROM {} LIMIT 100000", table.name)
        };
        // Cell by cell: no cell is a secret, and none contains a long one
        // (short ones, like a 3-digit CVC, occur inside timestamps).
        for row in f.q(&sql).rows {
            for cell in row {
                if let Value::Text(c) = cell {
                    for s in &sensitive {
                        assert!(
                            c != *s && (s.len() < 7 || !c.contains(s.as_str())),
                            "{} shows a sensitive value",
                            table.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn timestamps_are_rfc3339_text() {
    let f = fixture();
    let r = f.q("SELECT ts, day FROM events ORDER BY ts LIMIT 1");
    let ev = f.events();
    let first = ev.iter().map(|e| e.ts).min().expect("events");
    assert_eq!(
        r.rows,
        vec![vec![t(&first.to_string()), t(&first.day().to_string())]]
    );
    let Value::Text(ts) = &r.rows[0][0] else {
        panic!("text")
    };
    assert_eq!(ts.len(), 24);
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T');
}
