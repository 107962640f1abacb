//! The query layer: roll-up answers equal raw-scan answers, both equal an
//! independent model of the data, erased and expired data never appear, and
//! form analytics, submitted data, replay and heatmaps say exactly what the
//! events say and nothing a visitor typed without submitting.

mod common;

use common::{Env, start_time};
use pledgedb::query::forms::FormReport;
use pledgedb::query::hll::STANDARD_ERROR;
use pledgedb::query::replay::KEY_MASK;
use pledgedb::{
    Day, DayRange, Dimension, EventKind, Filters, FormField, Hit, HitKind, KeyKind, Query,
    Retention, SessionId, Source, TimeRange, VisitorId, VisitorRef,
};
use pledgedb_workload::{Workload, WorkloadConfig};
use std::collections::{BTreeMap, HashMap, HashSet};

const DAYS: u32 = 5;

/// Ingests a seeded workload of DAYS days ending the day before the clock,
/// then compacts (which seals the finished days).
fn loaded() -> (Env, pledgedb::Db, DayRange) {
    let env = Env::new();
    let first = start_time().day();
    let cfg = WorkloadConfig {
        seed: 11,
        domains: vec!["shop.example".into(), "blog.example".into()],
        start: first.start(),
        days: DAYS,
        visitors_per_day: 120,
        ..WorkloadConfig::default()
    };
    env.clock
        .set(first.plus(DAYS as i32).start().plus_millis(2 * 3_600_000));
    let db = env.open();
    let mut w = Workload::new(cfg);
    for t in w.opt_out_tokens().to_vec() {
        db.opt_out(&t).unwrap();
    }
    let hits: Vec<Hit> = w.by_ref().collect();
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    let report = db.compact_now().unwrap();
    assert_eq!(
        report.segments_sealed,
        2 * u64::from(DAYS),
        "every finished day is sealed"
    );
    (env, db, DayRange::new(first, first.plus(DAYS as i32 - 1)))
}

/// An independent model of the dashboard metrics, straight from events.
#[derive(Debug, Default, PartialEq)]
struct Model {
    pageviews: u64,
    visits: u64,
    bounces: u64,
    duration_ms: u64,
    visitors: u64,
}

fn model(events: &[pledgedb::Event]) -> Model {
    let mut m = Model::default();
    let mut visitors = HashSet::new();
    // (session, day) -> (first, last, pageviews)
    let mut visits: HashMap<(SessionId, Day), (i64, i64, u64)> = HashMap::new();
    for e in events {
        if e.visitor != VisitorId::ANONYMOUS {
            visitors.insert(e.visitor);
        }
        let pv = matches!(e.kind, EventKind::PageView { .. });
        if pv {
            m.pageviews += 1;
        }
        if e.session == SessionId(0) {
            if pv {
                m.visits += 1;
                m.bounces += 1;
            }
            continue;
        }
        let v = visits
            .entry((e.session, e.ts.day()))
            .or_insert((e.ts.0, e.ts.0, 0));
        v.0 = v.0.min(e.ts.0);
        v.1 = v.1.max(e.ts.0);
        v.2 += u64::from(pv);
    }
    for (first, last, pvs) in visits.into_values().filter(|v| v.2 > 0) {
        m.visits += 1;
        m.bounces += u64::from(pvs == 1);
        m.duration_ms += (last - first) as u64;
    }
    m.visitors = visitors.len() as u64;
    m
}

fn close_enough(estimate: u64, exact: u64) -> bool {
    let err = (estimate as f64 - exact as f64).abs();
    err <= (exact as f64 * 4.0 * STANDARD_ERROR).max(2.0)
}

#[test]
fn rollups_answer_finished_days_and_equal_raw_scans_and_the_model() {
    let (_env, db, days) = loaded();
    for name in ["shop.example", "blog.example"] {
        let d = db.domain(name).unwrap();
        let q = Query::days(days);
        let sources = d.explain(&q).unwrap();
        assert_eq!(sources.len(), DAYS as usize);
        assert!(
            sources.iter().all(|(_, s)| *s == Source::Rollup),
            "{sources:?}"
        );
        assert!(
            d.explain(&q.clone().raw())
                .unwrap()
                .iter()
                .all(|(_, s)| *s == Source::Raw)
        );

        // Roll-up and raw answers are identical, for every question.
        assert_eq!(d.metrics(&q).unwrap(), d.metrics(&q.clone().raw()).unwrap());
        assert_eq!(
            d.timeseries(&q).unwrap(),
            d.timeseries(&q.clone().raw()).unwrap()
        );
        for dim in Dimension::ALL {
            assert_eq!(
                d.breakdown(&q, dim, 1000).unwrap(),
                d.breakdown(&q.clone().raw(), dim, 1000).unwrap(),
                "{name} {dim:?}"
            );
        }

        // Both equal an independent model of the stored events.
        let events = d.events(TimeRange::all()).unwrap();
        let m = model(&events);
        let got = d.metrics(&q).unwrap();
        assert_eq!(
            (got.pageviews, got.visits, got.bounces, got.duration_ms),
            (m.pageviews, m.visits, m.bounces, m.duration_ms)
        );
        assert!(
            close_enough(got.visitors, m.visitors),
            "visitors {} vs {}",
            got.visitors,
            m.visitors
        );
        assert!(m.pageviews > 500 && m.visits > 200);

        // Per day and per country, against the model.
        for (day, metrics) in d.timeseries(&q).unwrap() {
            let day_events: Vec<_> = events
                .iter()
                .filter(|e| e.ts.day() == day)
                .cloned()
                .collect();
            let dm = model(&day_events);
            assert_eq!(metrics.pageviews, dm.pageviews, "{day}");
            assert_eq!(metrics.visits, dm.visits, "{day}");
            assert!(close_enough(metrics.visitors, dm.visitors));
        }
        let by_country = d.breakdown(&q, Dimension::Country, 100).unwrap();
        let mut pv_by_country: BTreeMap<String, u64> = BTreeMap::new();
        for e in events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::PageView { .. }))
        {
            *pv_by_country.entry(e.country.to_string()).or_default() += 1;
        }
        for (country, metrics) in &by_country {
            assert_eq!(
                Some(&metrics.pageviews),
                pv_by_country.get(country).or(Some(&0)),
                "{country}"
            );
        }
        let top_pages = d.breakdown(&q, Dimension::Page, 5).unwrap();
        assert_eq!(top_pages.len(), 5);
        assert!(
            top_pages
                .windows(2)
                .all(|w| w[0].1.visitors >= w[1].1.visitors)
        );

        // A filtered question is answered from raw events, and matches the
        // model of the filtered events.
        let (country, _) = &by_country[0];
        let f = Filters {
            country: Some(pledgedb::Country::from_code(country)),
            ..Filters::default()
        };
        let fq = q.clone().filtered(f.clone());
        assert!(
            d.explain(&fq)
                .unwrap()
                .iter()
                .all(|(_, s)| *s == Source::Raw)
        );
        let filtered: Vec<_> = events.iter().filter(|e| f.accepts(e)).cloned().collect();
        let fm = model(&filtered);
        assert_eq!(d.metrics(&fq).unwrap().pageviews, fm.pageviews);
        assert_eq!(d.metrics(&fq).unwrap().visits, fm.visits);
    }
}

#[test]
fn erased_visitors_fall_back_to_raw_until_purged_and_never_appear() {
    let (_env, db, days) = loaded();
    let d = db.domain("shop.example").unwrap();
    let q = Query::days(days);
    let events = d.events(TimeRange::all()).unwrap();
    // The busiest identified visitor.
    let mut counts: HashMap<VisitorId, u64> = HashMap::new();
    for e in events.iter().filter(|e| e.visitor != VisitorId::ANONYMOUS) {
        *counts.entry(e.visitor).or_default() += 1;
    }
    let (&victim, _) = counts.iter().max_by_key(|(v, n)| (**n, **v)).unwrap();
    let victim_days: HashSet<Day> = events
        .iter()
        .filter(|e| e.visitor == victim)
        .map(|e| e.ts.day())
        .collect();
    let before = d.metrics(&q).unwrap();
    assert!(matches!(
        d.erase_visitor(&VisitorRef::Id(victim)).unwrap(),
        pledgedb::Erasure::Pending(_)
    ));

    // Days holding the visitor are answered from raw events (which hide
    // them); the others still from roll-ups; both agree with the raw scan.
    for (day, source) in d.explain(&q).unwrap() {
        let want = if victim_days.contains(&day) {
            Source::Raw
        } else {
            Source::Rollup
        };
        assert_eq!(source, want, "{day}");
    }
    let remaining: Vec<_> = events
        .iter()
        .filter(|e| e.visitor != victim)
        .cloned()
        .collect();
    let after = d.metrics(&q).unwrap();
    assert_eq!(after, d.metrics(&q.clone().raw()).unwrap());
    assert_eq!(after.pageviews, model(&remaining).pageviews);
    assert!(after.pageviews < before.pageviews);

    // After the purge the days are sealed again and still agree.
    db.compact_now().unwrap();
    assert!(
        d.explain(&q)
            .unwrap()
            .iter()
            .all(|(_, s)| *s == Source::Rollup)
    );
    assert_eq!(d.metrics(&q).unwrap(), after);
    for dim in Dimension::ALL {
        assert_eq!(
            d.breakdown(&q, dim, 1000).unwrap(),
            d.breakdown(&q.clone().raw(), dim, 1000).unwrap()
        );
    }
}

#[test]
fn expired_days_keep_their_anonymous_aggregates_until_the_aggregate_ttl() {
    let (env, db, days) = loaded();
    let d = db.domain("blog.example").unwrap();
    let q = Query::days(days);
    let before = d.timeseries(&q).unwrap();
    d.set_retention(Retention {
        raw_event_days: 2,
        aggregate_days: 30,
        tombstone_hours: 1,
    })
    .unwrap();
    let report = db.compact_now().unwrap();
    assert!(report.segments_expired >= 3);
    let sources = d.explain(&q).unwrap();
    assert!(sources.iter().any(|(_, s)| *s == Source::Aggregate));
    // Raw events of expired days are gone; their aggregates answer.
    assert!(
        d.events(TimeRange::new(days.first.start(), days.first.end()))
            .unwrap()
            .is_empty()
    );
    let after = d.timeseries(&q).unwrap();
    for ((day, a), (_, b)) in after.iter().zip(&before) {
        if sources
            .iter()
            .any(|(d2, s)| d2 == day && *s == Source::Aggregate)
        {
            assert_eq!(a, b, "{day}: the aggregate keeps the day's numbers");
        }
    }
    env.clock.advance_days(40);
    let report = db.compact_now().unwrap();
    assert!(report.aggregates_expired >= 3);
    assert!(d.explain(&q).unwrap().is_empty());
}

#[test]
fn bad_queries_are_errors() {
    let (_env, db, days) = loaded();
    let d = db.domain("shop.example").unwrap();
    let backwards = Query::days(DayRange::new(days.last, days.first));
    assert!(matches!(
        d.metrics(&backwards),
        Err(pledgedb::ReadError::Invalid(_))
    ));
    let huge = Query::days(DayRange::new(Day(-1_000_000), Day(1_000_000)));
    assert!(matches!(
        d.metrics(&huge),
        Err(pledgedb::ReadError::Invalid(_))
    ));
    assert!(d.heatmap(days, "/", 0).is_err());
    assert!(d.replay(SessionId(0)).is_err());
}

fn form_hit(kind: HitKind, client: &str, t_ms: i64) -> Hit {
    Hit::new("forms.example", "https://forms.example/signup", kind)
        .client_id(client)
        .at(start_time().plus_millis(t_ms))
}

fn focus(f: &str) -> HitKind {
    HitKind::FieldFocus {
        form: "signup".into(),
        field: f.into(),
    }
}
fn blur(f: &str) -> HitKind {
    HitKind::FieldBlur {
        form: "signup".into(),
        field: f.into(),
    }
}
fn key(f: &str, key: KeyKind) -> HitKind {
    HitKind::Keystroke {
        form: "signup".into(),
        field: f.into(),
        key,
    }
}

#[test]
fn form_analytics_replay_and_heatmap_say_exactly_what_happened() {
    let env = Env::new();
    let db = env.open();
    let view = || HitKind::FormView {
        form: "signup".into(),
    };
    let mut hits = vec![
        // Visitor a: views, hesitates 2 s on email, types 3 keys with one
        // correction, refocuses email, and submits.
        form_hit(HitKind::PageView { referrer: None }, "a", 0),
        form_hit(view(), "a", 100),
        form_hit(focus("email"), "a", 1_000),
        form_hit(key("email", KeyKind::Character), "a", 3_000),
        form_hit(key("email", KeyKind::Delete), "a", 3_200),
        form_hit(key("email", KeyKind::Character), "a", 3_400),
        form_hit(blur("email"), "a", 5_000),
        form_hit(focus("email"), "a", 6_000),
        form_hit(blur("email"), "a", 7_000),
        form_hit(
            HitKind::FormSubmit {
                form: "signup".into(),
                fields: vec![
                    FormField::new("email", "submitted-a@example.org"),
                    FormField::new("password", "SECRET-A"),
                ],
            },
            "a",
            8_000,
        ),
        // Visitor b: views, types into name, gives up (drop-off at name).
        form_hit(view(), "b", 0),
        form_hit(focus("email"), "b", 500),
        form_hit(blur("email"), "b", 900),
        form_hit(focus("name"), "b", 1_000),
        form_hit(key("name", KeyKind::Character), "b", 1_500),
        form_hit(blur("name"), "b", 2_500),
        // Visitor c: only views.
        form_hit(view(), "c", 0),
    ];
    for (i, (x, y)) in [(5, 5), (7, 9), (15, 2), (250, 250)].iter().enumerate() {
        hits.push(form_hit(
            HitKind::Click {
                x: *x,
                y: *y,
                target: "button".into(),
            },
            "c",
            100 + i as i64,
        ));
    }
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    let d = db.domain("forms.example").unwrap();
    let days = DayRange::new(start_time().day(), start_time().day());
    let reports = d.form_analytics(days, None).unwrap();
    assert_eq!(reports.len(), 1);
    let r: &FormReport = &reports[0];
    assert_eq!(
        (r.views, r.starters, r.submissions, r.converted),
        (3, 2, 1, 1)
    );
    assert!((r.conversion - 0.5).abs() < 1e-9 && (r.abandonment - 0.5).abs() < 1e-9);
    let email = r.fields.iter().find(|f| f.field == "email").unwrap();
    assert_eq!(email.interactions, 3);
    assert_eq!(email.keystrokes, 3);
    assert_eq!(email.corrections, 1);
    assert_eq!(email.refocuses, 1);
    assert_eq!(email.time_spent_ms, 4_000 + 1_000 + 400);
    assert_eq!((email.hesitation_ms, email.hesitations), (2_000, 1));
    assert_eq!(email.drop_offs, 0);
    let name = r.fields.iter().find(|f| f.field == "name").unwrap();
    assert_eq!(
        (
            name.interactions,
            name.keystrokes,
            name.drop_offs,
            name.avg_hesitation_ms()
        ),
        (1, 1, 1, 500)
    );

    // Submitted data: only submitted, non-sensitive values.
    let subs = d.submissions(days, Some("signup")).unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].fields.len(), 1);
    assert_eq!(subs[0].fields[0].value.as_str(), "submitted-a@example.org");

    // Replay: keystrokes masked, values only at the submit.
    let sessions = d.sessions(days, 10).unwrap();
    let a_session = sessions.iter().find(|s| s.events == 10).unwrap().session;
    let steps = d.replay(a_session).unwrap();
    assert_eq!(steps.len(), 10);
    assert!(steps.windows(2).all(|w| w[0].ts <= w[1].ts));
    let keys: Vec<_> = steps
        .iter()
        .filter(|s| s.kind == pledgedb::EventType::Keystroke)
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|s| s.detail.ends_with(KEY_MASK)));
    let with_value: Vec<_> = steps
        .iter()
        .filter(|s| s.detail.contains("submitted-a"))
        .collect();
    assert_eq!(with_value.len(), 1);
    assert_eq!(with_value[0].kind, pledgedb::EventType::FormSubmit);
    assert!(steps.iter().all(|s| !s.detail.contains("SECRET-A")));

    // Heatmap: cells of 10 px.
    let cells = d.heatmap(days, "/signup", 10).unwrap();
    let as_tuples: Vec<(i64, i64, u64)> = cells.iter().map(|c| (c.x, c.y, c.clicks)).collect();
    assert_eq!(as_tuples, vec![(0, 0, 2), (10, 0, 1), (250, 250, 1)]);
}

#[test]
fn a_late_event_unseals_its_day_until_the_next_compaction() {
    let (_env, db, days) = loaded();
    let d = db.domain("shop.example").unwrap();
    let q = Query::days(days);
    // Read the roll-ups once, so they are cached.
    let before = d.metrics(&q).unwrap();
    assert!(
        d.explain(&q)
            .unwrap()
            .iter()
            .all(|(_, s)| *s == Source::Rollup)
    );
    let late = Hit::page_view("shop.example", "/late-arrival")
        .client_id("latecomer")
        .at(days.first.start().plus_millis(3_600_000));
    assert_eq!(db.ingest(late).unwrap(), pledgedb::Ingested::Queued);
    db.flush().unwrap();
    let sources = d.explain(&q).unwrap();
    assert_eq!(
        sources[0],
        (days.first, Source::Raw),
        "the late event removed the roll-up"
    );
    let after = d.metrics(&q).unwrap();
    assert_eq!(after.pageviews, before.pageviews + 1);
    assert_eq!(after, d.metrics(&q.clone().raw()).unwrap());
    assert_eq!(db.compact_now().unwrap().segments_sealed, 1);
    assert!(
        d.explain(&q)
            .unwrap()
            .iter()
            .all(|(_, s)| *s == Source::Rollup)
    );
    assert_eq!(d.metrics(&q).unwrap(), after);
}
