//! Regressions (promises P6 and P9: say what is true).
//!
//! - The compactor wrote the whole pass's totals onto every request it
//!   completed: two requests purged in one pass both claimed every event
//!   and segment of the pass. The erasure log now counts per request.
//! - Drop counters were persisted only by `flush` and the privacy report;
//!   `close` and dropping the last handle lost the hits dropped since, so
//!   the report's "hits dropped" undercounted.

mod common;

use common::{Env, start_time};
use pledgedb::{DropReason, Erasure, ErasureKind, Hit, MS_PER_DAY, TimeRange, VisitorRef};

#[test]
fn the_erasure_log_counts_each_request_on_its_own() {
    let env = Env::new();
    let db = env.open();
    let t = start_time();
    let yesterday = t.plus_millis(-MS_PER_DAY);
    let mut hits = Vec::new();
    for (i, at) in [yesterday, yesterday, yesterday, t, t]
        .into_iter()
        .enumerate()
    {
        hits.push(
            Hit::page_view("a.example", format!("/a{i}"))
                .client_id("A")
                .at(at.plus_millis(i as i64)),
        );
    }
    hits.push(Hit::page_view("a.example", "/b").client_id("B").at(t));
    for i in 0..2 {
        hits.push(
            Hit::page_view("a.example", format!("/c{i}"))
                .client_id("C")
                .at(t.plus_millis(100 + i)),
        );
    }
    hits.push(Hit::page_view("a.example", "/d").client_id("D").at(t));
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    let session_of_c = d
        .events(TimeRange::all())
        .unwrap()
        .into_iter()
        .find(|e| e.path.as_str() == "/c0")
        .unwrap()
        .session;
    for who in ["A", "B"] {
        let r = d.erase_visitor(&VisitorRef::ClientId(who.into())).unwrap();
        assert!(matches!(r, Erasure::Pending(_)), "{who}");
    }
    assert!(matches!(
        d.erase_session(session_of_c).unwrap(),
        Erasure::Pending(_)
    ));
    env.clock.advance_millis(60_000);
    let report = db.compact_now().unwrap();
    assert_eq!(report.events_purged, 8);
    assert_eq!(report.erasures_completed, 3);

    let log = d.erasure_log().unwrap();
    assert_eq!(log.len(), 3);
    let counts: Vec<(ErasureKind, u64, u64)> = log
        .iter()
        .map(|r| (r.kind, r.events_removed, r.segments_rewritten))
        .collect();
    assert_eq!(
        counts,
        vec![
            (ErasureKind::Visitor, 5, 2),
            (ErasureKind::Visitor, 1, 1),
            (ErasureKind::Session, 2, 1),
        ]
    );
    for r in &log {
        assert_eq!(r.requested_at, t);
        assert_eq!(r.purged_at, Some(t.plus_millis(60_000)));
    }
    assert_eq!(d.count(TimeRange::all()).unwrap(), 1, "only D is left");
}

fn dropped_total(env: &Env) -> u64 {
    let db = env.open();
    let report = db.privacy_report().unwrap();
    report
        .hits_dropped
        .iter()
        .filter(|(r, _)| *r == DropReason::OptedOut)
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn drop_counters_survive_close_and_drop_without_a_flush() {
    let env = Env::new();
    let db = env.open();
    db.opt_out("tok").unwrap();
    for _ in 0..3 {
        let _ = db
            .ingest(Hit::page_view("a.example", "/").opt_out_token("tok"))
            .unwrap();
    }
    db.close().unwrap();
    assert_eq!(dropped_total(&env), 3, "counted across close");

    let db = env.open();
    for _ in 0..2 {
        let _ = db
            .ingest(Hit::page_view("a.example", "/").opt_out_token("tok"))
            .unwrap();
    }
    drop(db);
    assert_eq!(dropped_total(&env), 5, "counted across drop");
}
