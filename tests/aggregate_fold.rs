//! Promises P6/P7: the long-lived aggregate file keeps no breakdown row that
//! points at one person. When a day's roll-up moves there (the day's raw
//! events pass their TTL), every row seen by fewer than `k` visitors
//! (`DomainSettings::min_aggregate_visitors`, default 5) is folded into one
//! `(other)` row per dimension; totals are unchanged. An erasure requested
//! after the expiry cannot reach the aggregate, so the fold is what keeps an
//! erased visitor's unique page out of it.

mod common;

use common::{Env, start_time};
use pledgedb::{
    DayRange, Dimension, DomainSettings, Hit, HitKind, Metrics, Query, VisitorRef, time::MS_PER_DAY,
};

const DOMAIN: &str = "fold.example";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const OPERA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0";

/// Pages and how many distinct visitors view each (every visitor views one
/// of these as its entry page, with its own referrer).
const PAGES: &[(&str, usize)] = &[
    ("/account/jane-doe", 1),
    ("/rarepage-two", 2),
    ("/rarepage-three", 3),
    ("/rarepage-four", 4),
    ("/commonpage-five", 5),
    ("/commonpage-nine", 9),
];

fn rare_names(k: usize) -> Vec<String> {
    let mut v: Vec<String> = PAGES
        .iter()
        .filter(|(_, n)| *n < k)
        .map(|(p, _)| p.to_string())
        .collect();
    v.extend(
        PAGES
            .iter()
            .filter(|(_, n)| *n < k)
            .map(|(p, _)| format!("ref{}.example", &p[1..].replace('/', "-"))),
    );
    v
}

/// Loads the day 89 days before "now": the visitors of each page arrive on
/// it from a referrer named after it and then view `/home`. Jane ("jane",
/// the only visitor of `/account/jane-doe`) uses Opera, which nobody else
/// does. Returns the day.
fn load(db: &pledgedb::Db, k: u32) -> pledgedb::time::Day {
    let d = db.create_domain(DOMAIN).unwrap();
    d.set_settings(DomainSettings {
        min_aggregate_visitors: k,
        ..DomainSettings::default()
    })
    .unwrap();
    let t0 = start_time().plus_millis(-89 * MS_PER_DAY);
    let mut n = 0i64;
    for (page, visitors) in PAGES {
        for v in 0..*visitors {
            let client = if *page == "/account/jane-doe" {
                "jane".to_string()
            } else {
                format!("{page}-{v}")
            };
            let ua = if client == "jane" {
                OPERA
            } else if v % 2 == 0 {
                CHROME
            } else {
                FIREFOX
            };
            let at = t0.plus_millis(n * 1000);
            n += 1;
            let referrer = format!("https://ref{}.example/", page[1..].replace('/', "-"));
            let hit = Hit::new(
                DOMAIN,
                format!("https://{DOMAIN}{page}"),
                HitKind::PageView {
                    referrer: Some(referrer),
                },
            )
            .client_id(client.clone())
            .user_agent(ua)
            .at(at);
            let _ = db.ingest(hit).unwrap();
            let _ = db
                .ingest(
                    Hit::page_view(DOMAIN, format!("https://{DOMAIN}/home"))
                        .client_id(client)
                        .user_agent(ua)
                        .at(at.plus_millis(500)),
                )
                .unwrap();
        }
    }
    db.flush().unwrap();
    t0.day()
}

fn same_counts(a: &Metrics, b: &Metrics) {
    assert_eq!(a.pageviews, b.pageviews);
    assert_eq!(a.visits, b.visits);
    assert_eq!(a.bounces, b.bounces);
    assert_eq!(a.duration_ms, b.duration_ms);
    assert_eq!(a.events, b.events);
    assert_eq!(a.visitors, b.visitors);
}

fn run(k: u32) {
    let env = Env::new();
    let db = env.open();
    let day = load(&db, k);
    let d = db.domain(DOMAIN).unwrap();
    let q = Query::days(DayRange::new(day, day));
    let before = d.metrics(&q).unwrap();
    let dims_before: Vec<Vec<(String, Metrics)>> = Dimension::ALL
        .iter()
        .map(|dim| d.breakdown(&q, *dim, 1000).unwrap())
        .collect();
    // The day passes its raw-event TTL: its roll-up moves to the aggregates.
    env.clock.advance_days(2);
    let r = db.compact_now().unwrap();
    assert_eq!(r.segments_expired, 1);
    // Jane asks to be erased only now, when no raw event of her is left.
    let _ = d
        .erase_visitor(&VisitorRef::ClientId("jane".into()))
        .unwrap();
    let _ = db.compact_now().unwrap();
    assert_eq!(
        d.explain(&q).unwrap(),
        vec![(day, pledgedb::Source::Aggregate)]
    );
    let after = d.metrics(&q).unwrap();
    same_counts(&before, &after);
    for (i, dim) in Dimension::ALL.iter().enumerate() {
        let rows = d.breakdown(&q, *dim, 1000).unwrap();
        // Every dimension's rows still add up to what they did.
        let sum = |rows: &[(String, Metrics)]| -> (u64, u64, u64) {
            rows.iter().fold((0, 0, 0), |s, (_, m)| {
                (s.0 + m.pageviews, s.1 + m.visits, s.2 + m.events)
            })
        };
        assert_eq!(sum(&rows), sum(&dims_before[i]), "{dim:?}");
        for (name, m) in &rows {
            if name == pledgedb::query::OTHER {
                continue;
            }
            assert!(
                m.visitors >= u64::from(k),
                "{dim:?} row {name} kept with {} visitors",
                m.visitors
            );
            // A kept row is exactly what it was.
            let was = dims_before[i].iter().find(|(n, _)| n == name).unwrap();
            same_counts(&was.1, m);
        }
        let folded: Vec<&(String, Metrics)> = dims_before[i]
            .iter()
            .filter(|(_, m)| m.visitors < u64::from(k))
            .collect();
        let other = rows.iter().find(|(n, _)| n == pledgedb::query::OTHER);
        if folded.is_empty() || k <= 1 {
            assert!(other.is_none(), "{dim:?}");
        } else {
            let other = other.unwrap();
            let pv: u64 = folded.iter().map(|(_, m)| m.pageviews).sum();
            assert_eq!(other.1.pageviews, pv, "{dim:?}");
        }
    }
    let pages: Vec<String> = d
        .breakdown(&q, Dimension::Page, 1000)
        .unwrap()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for (page, n) in PAGES {
        assert_eq!(
            pages.contains(&page.to_string()),
            *n >= k as usize,
            "{page} seen by {n}, k = {k}: {pages:?}"
        );
    }
    drop(d);
    db.close().unwrap();
    // Not one stored byte of the aggregate file (of any file) names a rare
    // value.
    let agg = env
        .data
        .join("domains")
        .join(DOMAIN)
        .join("aggregates.redb");
    let bytes = std::fs::read(&agg).unwrap();
    for name in rare_names(k as usize) {
        assert!(
            !common::contains(&bytes, name.as_bytes()),
            "{name} is in the aggregate file (k = {k})"
        );
        assert!(
            common::files_containing(&env.data, name.as_bytes()).is_empty(),
            "{name} is in a file (k = {k})"
        );
    }
    if k > 1 {
        assert!(!common::contains(&bytes, b"Opera"), "Jane's browser");
    }
    for (page, n) in PAGES {
        if *n >= k as usize {
            assert!(common::contains(&bytes, page.as_bytes()), "{page}");
        }
    }
}

#[test]
fn rare_rows_fold_into_other_when_a_day_moves_to_the_aggregates() {
    run(5);
}

#[test]
fn the_fold_follows_the_domain_k() {
    for k in [1, 2, 3, 4, 6, 10] {
        run(k);
    }
}

#[test]
fn k_is_validated() {
    let env = Env::new();
    let db = env.open();
    let d = db.create_domain(DOMAIN).unwrap();
    assert_eq!(d.settings().min_aggregate_visitors, 5);
    for bad in [0, 1001, u32::MAX] {
        assert!(
            d.set_settings(DomainSettings {
                min_aggregate_visitors: bad,
                ..DomainSettings::default()
            })
            .is_err()
        );
    }
    assert_eq!(d.settings().min_aggregate_visitors, 5);
}

#[test]
fn aggregates_past_their_ttl_leave_no_byte_in_the_file() {
    let env = Env::new();
    let db = env.open();
    // k = 1 keeps the page rows, so their names are in the aggregate file.
    let day = load(&db, 1);
    // The next day has other pages (and stays when the first one goes).
    let next = day.plus(1);
    for v in 0..3 {
        let _ = db
            .ingest(
                Hit::page_view(DOMAIN, format!("https://{DOMAIN}/staying-page-{v}"))
                    .client_id(format!("later-{v}"))
                    .at(next.start().plus_millis(3_600_000 + v)),
            )
            .unwrap();
    }
    db.flush().unwrap();
    env.clock.advance_days(3);
    assert_eq!(db.compact_now().unwrap().segments_expired, 2);
    let agg = env
        .data
        .join("domains")
        .join(DOMAIN)
        .join("aggregates.redb");
    let marker = b"/account/jane-doe";
    assert!(common::contains(&std::fs::read(&agg).unwrap(), marker));
    // Once the first day is past the 730-day aggregate TTL its roll-up is
    // deleted and the file written fresh: not even a freed page keeps it.
    env.clock
        .set(next.start().plus_millis(730 * MS_PER_DAY + 3_600_000));
    let r = db.compact_now().unwrap();
    assert_eq!(r.aggregates_expired, 1);
    let d = db.domain(DOMAIN).unwrap();
    assert!(
        d.day_rollups(&Query::days(DayRange::new(day, day)))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        d.metrics(&Query::days(DayRange::new(next, next)))
            .unwrap()
            .pageviews,
        3
    );
    drop(d);
    db.close().unwrap();
    assert!(common::files_containing(&env.data, marker).is_empty());
    assert!(!common::files_containing(&env.data, b"/staying-page-1").is_empty());
}
