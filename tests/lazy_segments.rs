//! Lazy segments: opening a data directory opens no segment file; a
//! segment opens on first use and at most `Config::max_open_segments` stay
//! open. With a cache of one open segment every question, erasure,
//! compaction and reopen gives the same answers as with a large cache.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Config, DayRange, Db, Dimension, Erasure, Filters, Hit, MS_PER_DAY, Query, TimeRange,
    VisitorRef,
};

const DOMAINS: [&str; 3] = ["a.example", "b.example", "c.example"];

fn config(env: &Env, open: usize) -> Config {
    let mut c = env.config();
    c.max_open_segments = open;
    c
}

/// Eight days of traffic on three domains, erasures, compaction; returns
/// every answer the dashboard API gives.
fn run(open: usize) -> Vec<String> {
    let env = Env::new();
    let db = Db::open(&env.data, config(&env, open)).unwrap();
    let t = start_time();
    let mut hits = Vec::new();
    for day in 0..8i64 {
        for (i, d) in DOMAINS.iter().enumerate() {
            for v in 0..5i64 {
                hits.push(
                    Hit::page_view(*d, format!("/p{}/{}", (v + day) % 3, i))
                        .client_id(format!("c{v}"))
                        .ip(format!("203.0.113.{}", v + 1).parse().unwrap())
                        .at(t.plus_millis(-day * MS_PER_DAY + v * 60_000)),
                );
            }
        }
    }
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    assert!(db.open_segments() <= open, "{} open", db.open_segments());
    for d in DOMAINS {
        let dom = db.domain(d).unwrap();
        let r = dom
            .erase_visitor(&VisitorRef::ClientId("c1".into()))
            .unwrap();
        assert!(matches!(r, Erasure::Pending(_)));
    }
    env.clock.advance_millis(2 * 3_600_000);
    db.compact_now().unwrap();
    assert!(db.open_segments() <= open);
    db.close().unwrap();

    let db = Db::open(&env.data, config(&env, open)).unwrap();
    assert_eq!(
        db.open_segments(),
        0,
        "opening a directory opens no segment"
    );
    let mut answers = Vec::new();
    let days = DayRange::last_n(env.clock_now().day(), 10);
    for d in DOMAINS {
        let dom = db.domain(d).unwrap();
        assert_eq!(dom.segment_days().len(), 8);
        let q = Query::days(days);
        answers.push(format!("{:?}", dom.metrics(&q).unwrap()));
        answers.push(format!("{:?}", dom.timeseries(&q).unwrap()));
        answers.push(format!(
            "{:?}",
            dom.breakdown(&q, Dimension::Page, 10).unwrap()
        ));
        let filtered = q.clone().filtered(Filters {
            page: Some(format!(
                "/p1/{}",
                DOMAINS.iter().position(|x| *x == d).unwrap()
            )),
            ..Filters::default()
        });
        answers.push(format!("{:?}", dom.metrics(&filtered).unwrap()));
        let count = dom.count(TimeRange::all()).unwrap();
        assert_eq!(count, 32, "c1's 8 events erased, 32 left");
        answers.push(format!("{count}"));
        let export = dom
            .export_visitor(&VisitorRef::ClientId("c2".into()))
            .unwrap();
        answers.push(format!("{}", export.events.len()));
        assert!(db.open_segments() <= open);
    }
    db.close().unwrap();
    answers
}

#[test]
fn one_open_segment_answers_everything_a_large_cache_does() {
    assert_eq!(run(1), run(128));
}
