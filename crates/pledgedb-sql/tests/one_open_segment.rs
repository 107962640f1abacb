//! A data directory opened with room for one open segment
//! (`Config::max_open_segments = 1`) answers every question exactly as it
//! does with the default cache: dashboard queries (filtered and not, from
//! roll-ups and raw), form analytics and submissions, sessions, replay,
//! heatmaps, export and SQL. Segments open and close under every reader.

mod common;

use common::{DOMAIN, config, workload};
use pledgedb_core::{
    Country, DayRange, Db, Dimension, EventKind, Filters, Query, TimeRange, VisitorRef,
};

/// Every answer the engine gives about the domain, as text.
fn answers(db: &Db, days: DayRange, cap: usize) -> Vec<String> {
    let d = db.domain(DOMAIN).unwrap();
    let mut out = Vec::new();
    let events = d.events(TimeRange::all()).unwrap();
    let country: Country = events.iter().map(|e| e.country).max().unwrap();
    let filters = [
        Filters::default(),
        Filters {
            country: Some(country),
            ..Filters::default()
        },
        Filters {
            page: Some("/".into()),
            ..Filters::default()
        },
    ];
    for f in &filters {
        for q in [
            Query::days(days).filtered(f.clone()),
            Query::days(days).filtered(f.clone()).raw(),
        ] {
            out.push(format!("{:?}", d.metrics(&q).unwrap()));
            out.push(format!("{:?}", d.timeseries(&q).unwrap()));
            for dim in Dimension::ALL {
                out.push(format!("{:?}", d.breakdown(&q, dim, 10).unwrap()));
            }
        }
    }
    out.push(format!(
        "{:?}",
        d.count_by_country(TimeRange::all()).unwrap()
    ));
    out.push(format!("{:?}", d.count_by_path(TimeRange::all()).unwrap()));
    out.push(format!("{:?}", d.form_analytics(days, None).unwrap()));
    out.push(format!("{:?}", d.submissions(days, None).unwrap()));
    let sessions = d.sessions(days, usize::MAX).unwrap();
    assert!(sessions.len() > 50);
    out.push(format!("{sessions:?}"));
    for s in sessions.iter().step_by(sessions.len() / 7) {
        out.push(format!("{:?}", d.replay(s.session).unwrap()));
        out.push(format!(
            "{:?}",
            d.export_visitor(&VisitorRef::Id(s.visitor)).unwrap().events
        ));
    }
    let clicked = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Click { .. }))
        .map(|e| e.path.to_string())
        .unwrap();
    out.push(format!("{:?}", d.heatmap(days, &clicked, 50).unwrap()));
    for sql in [
        "SELECT COUNT(*), COUNT(DISTINCT visitor) FROM events".to_string(),
        format!(
            "SELECT path, COUNT(*) FROM pageviews WHERE country = '{}' \
             GROUP BY path ORDER BY 2 DESC, 1",
            country.as_str()
        ),
        "SELECT * FROM sessions ORDER BY session".into(),
        "SELECT * FROM clicks ORDER BY ts, x, y LIMIT 20".into(),
        "SELECT * FROM form_submissions ORDER BY ts, field".into(),
        "SELECT * FROM forms".into(),
        "SELECT * FROM form_fields ORDER BY form, field".into(),
        "SELECT * FROM daily".into(),
        "SELECT type, COUNT(*) FROM events WHERE type IN ('click', 'scroll') GROUP BY type".into(),
    ] {
        let r = pledgedb_sql::execute(&d, &sql).unwrap();
        out.push(format!("{sql}: {:?}", r.rows));
    }
    assert!(db.open_segments() <= cap, "{} open", db.open_segments());
    out
}

#[test]
fn one_open_segment_answers_everything_the_default_cache_does() {
    let f = workload(23, 5, 40, true);
    let days = DayRange::new(f.days()[0], *f.days().last().unwrap());
    let big = answers(
        &f.db,
        days,
        pledgedb_core::Config::default().max_open_segments,
    );
    let common::Fixture {
        tmp,
        db,
        domain,
        clock,
        ..
    } = f;
    drop(domain);
    db.close().unwrap();
    let mut c = config(&tmp, &clock);
    c.max_open_segments = 1;
    let db = Db::open(tmp.path().join("data"), c).unwrap();
    assert_eq!(db.open_segments(), 0);
    let one = answers(&db, days, 1);
    assert_eq!(one.len(), big.len());
    for (a, b) in one.iter().zip(&big) {
        assert_eq!(a, b);
    }
}
