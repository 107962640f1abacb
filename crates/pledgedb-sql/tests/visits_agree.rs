//! One definition of a visit: the daily roll-ups (sealed and computed from
//! raw events), `Domain::sessions` and SQL's `sessions` table agree on
//! every visit's entry page, duration and bounce, on generated traffic of
//! several seeds.

mod common;

use common::{Fixture, workload};
use pledgedb_core::query::replay::SessionSummary;
use pledgedb_core::{Day, DayRange, Dimension, EventKind, Query, SessionId, Source, TimeRange};
use pledgedb_sql::Value;
use std::collections::BTreeMap;

/// Per session: entry page, duration, bounced, country, device.
type Seen = BTreeMap<String, (String, i64, bool, String, String)>;

fn from_sessions(v: &[SessionSummary]) -> Seen {
    v.iter()
        .map(|s| {
            (
                s.session.to_string(),
                (
                    s.entry_page.to_string(),
                    i64::try_from(s.duration_ms).unwrap(),
                    s.bounced,
                    s.country.as_str().to_string(),
                    s.device.as_str().to_string(),
                ),
            )
        })
        .collect()
}

fn from_sql(f: &Fixture, day: Day) -> Seen {
    let r = f.q(&format!(
        "SELECT session, entry_page, duration_ms, bounced, country, device \
         FROM sessions WHERE day = '{day}'"
    ));
    r.rows
        .iter()
        .map(|row| match row.as_slice() {
            [
                Value::Text(s),
                Value::Text(p),
                Value::Int(d),
                Value::Bool(b),
                Value::Text(c),
                Value::Text(dev),
            ] => (s.clone(), (p.clone(), *d, *b, c.clone(), dev.clone())),
            other => panic!("unexpected row {other:?}"),
        })
        .collect()
}

fn check(seed: u64) {
    let f = workload(seed, 4, 50, true);
    let d = &f.domain;
    let days = f.days();
    assert!(days.len() >= 4);
    let mut compared = 0usize;
    for &day in &days {
        let one = DayRange::new(day, day);
        // The visits of the day's events, as sessions() sees them.
        let sessions = d.sessions(one, usize::MAX).unwrap();
        let with_pv: Vec<&SessionSummary> = sessions.iter().filter(|s| s.pageviews > 0).collect();
        // Anonymous page views are visits of their own in roll-ups.
        let anonymous: Vec<String> = d
            .events(TimeRange::new(day.start(), day.end()))
            .unwrap()
            .into_iter()
            .filter(|e| e.session == SessionId(0) && matches!(e.kind, EventKind::PageView { .. }))
            .map(|e| e.path.to_string())
            .collect();
        let visits = with_pv.len() as u64 + anonymous.len() as u64;
        let bounces = with_pv.iter().filter(|s| s.bounced).count() as u64 + anonymous.len() as u64;
        let duration: u64 = with_pv.iter().map(|s| s.duration_ms).sum();
        let mut entries: BTreeMap<String, u64> = BTreeMap::new();
        for p in with_pv
            .iter()
            .map(|s| s.entry_page.to_string())
            .chain(anonymous.iter().cloned())
        {
            *entries.entry(p).or_default() += 1;
        }
        for q in [Query::days(one), Query::days(one).raw()] {
            let sources = d.explain(&q).unwrap();
            let m = d.metrics(&q).unwrap();
            assert_eq!(m.visits, visits, "seed {seed} {day} {sources:?}");
            assert_eq!(m.bounces, bounces, "seed {seed} {day} {sources:?}");
            assert_eq!(m.duration_ms, duration, "seed {seed} {day} {sources:?}");
            let by_entry: BTreeMap<String, u64> = d
                .breakdown(&q, Dimension::EntryPage, usize::MAX)
                .unwrap()
                .into_iter()
                .map(|(k, m)| (k, m.visits))
                .collect();
            assert_eq!(by_entry, entries, "seed {seed} {day} {sources:?}");
        }
        assert!(
            d.explain(&Query::days(one))
                .unwrap()
                .iter()
                .all(|(_, s)| *s == Source::Rollup),
            "the days are sealed: the first query answers from roll-ups"
        );

        // SQL's sessions of the day (visits that started that day, read
        // whole) equal sessions() over the days around it.
        let around = DayRange::new(day.plus(-1), day.plus(1));
        let whole: Seen = from_sessions(
            &d.sessions(around, usize::MAX)
                .unwrap()
                .into_iter()
                .filter(|s| s.start.day() == day)
                .collect::<Vec<_>>(),
        );
        assert_eq!(from_sql(&f, day), whole, "seed {seed} {day}");
        // A visit inside one day is the same visit to all three.
        let inside: Seen = from_sessions(
            &sessions
                .iter()
                .filter(|s| s.end.day() == day && s.start.day() == day)
                .cloned()
                .collect::<Vec<_>>(),
        );
        for (id, v) in &inside {
            assert_eq!(whole.get(id), Some(v), "seed {seed} {day} {id}");
            compared += 1;
        }
    }
    assert!(compared > 100, "too few visits compared: {compared}");
}

#[test]
fn rollups_sessions_and_sql_agree_on_every_visit() {
    for seed in [3, 17, 40] {
        check(seed);
    }
}

/// A visit whose first event is not a page view, on another connection
/// than its first page view: the entry is the page view, with its country,
/// to roll-ups, sessions() and SQL alike.
#[test]
fn a_visit_lands_on_its_first_page_view_everywhere() {
    use pledgedb_core::{Hit, HitKind, Timestamp};
    let hit = |url: &str, kind: HitKind, m: u32, ip: &str| {
        Hit::new(
            common::DOMAIN,
            format!("https://{}{url}", common::DOMAIN),
            kind,
        )
        .at(common::at(3, 10, m))
        .ip(ip.parse().expect("ip"))
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0")
        .client_id("client-x")
        .session_id("visit-x")
    };
    let pv = |url: &str, m: u32, ip: &str| {
        hit(
            url,
            HitKind::PageView {
                referrer: Some("https://news.example/".into()),
            },
            m,
            ip,
        )
    };
    let f = common::hand_made(vec![
        hit("/scrolled", HitKind::Scroll { depth: 40 }, 0, "203.0.113.9"),
        pv("/landed", 2, "198.51.100.7"),
        pv("/next", 5, "203.0.113.9"),
        hit("/next", HitKind::Scroll { depth: 90 }, 9, "203.0.113.9"),
    ]);
    let d = &f.domain;
    let day = Timestamp::from_ymd_hms(2026, 3, 3, 0, 0, 0).day();
    let events = d.events(TimeRange::all()).unwrap();
    let landed = events
        .iter()
        .find(|e| e.path.as_str() == "/landed")
        .expect("the page view is stored");
    let scrolled = events
        .iter()
        .find(|e| e.path.as_str() == "/scrolled")
        .expect("the scroll is stored");
    assert_ne!(
        landed.country, scrolled.country,
        "the two connections differ"
    );

    let one = DayRange::new(day, day);
    let s = d.sessions(one, 10).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].entry_page.as_str(), "/landed");
    assert_eq!(s[0].country, landed.country);
    assert_eq!(s[0].duration_ms, 9 * 60_000);
    assert!(!s[0].bounced);
    assert_eq!(s[0].exit_page.as_str(), "/next");

    let sql = from_sql(&f, day);
    assert_eq!(sql, from_sessions(&s));

    for q in [Query::days(one), Query::days(one).raw()] {
        let m = d.metrics(&q).unwrap();
        assert_eq!((m.visits, m.bounces, m.duration_ms), (1, 0, 9 * 60_000));
        let entry = d.breakdown(&q, Dimension::EntryPage, 10).unwrap();
        assert_eq!(entry.len(), 1);
        assert_eq!(entry[0].0, "/landed");
        let country = d.breakdown(&q, Dimension::Country, 10).unwrap();
        let visits_of = |c: &str| {
            country
                .iter()
                .find(|(k, _)| k == c)
                .map_or(0, |(_, m)| m.visits)
        };
        assert_eq!(visits_of(landed.country.as_str()), 1);
        assert_eq!(visits_of(scrolled.country.as_str()), 0);
    }
}
