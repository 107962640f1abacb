//! Promise P7: limited retention. Tests move an injected clock: segments past
//! the raw-event TTL disappear from disk, the rest stay, and reads never show
//! expired events, even before the compactor has run.

mod common;

use common::{Env, start_time};
use pledgedb::{Hit, Retention, TimeRange};

#[test]
fn expired_segments_are_deleted_whole_and_never_read() {
    let env = Env::new();
    let db = env.open();
    let d = db.create_domain("a.example").unwrap();
    d.set_retention(Retention {
        raw_event_days: 10,
        aggregate_days: 30,
        tombstone_hours: 1,
    })
    .unwrap();
    // One event every six hours over 20 days ending now.
    let now = start_time();
    let mut hits = Vec::new();
    for i in 0..80 {
        let t = now.plus_millis(-(i * 6 * 3_600_000));
        hits.push(
            Hit::page_view("a.example", format!("/RETMARK{i:03}"))
                .client_id("v")
                .at(t),
        );
    }
    let results = db.ingest_batch(hits);
    let kept = results
        .iter()
        .filter(|r| matches!(r, Ok(pledgedb::Ingested::Queued)))
        .count();
    // Timestamps older than 10 days are dropped at ingest.
    assert_eq!(kept, 41, "events within 10 days: 0..=40 six-hour steps");
    db.flush().unwrap();
    assert_eq!(d.count(TimeRange::all()).unwrap(), 41);
    let days_before = d.segment_days();
    assert_eq!(days_before.len(), 11);

    // Five days later, without compaction: older events are invisible.
    env.clock.advance_days(5);
    let visible = d.events(TimeRange::all()).unwrap();
    let cutoff = env.clock_now().plus_millis(-10 * 86_400_000);
    assert!(visible.iter().all(|e| e.ts >= cutoff));
    assert_eq!(
        visible.len(),
        41 - 20,
        "20 six-hour steps fell out of the window"
    );
    assert_eq!(
        d.segment_days().len(),
        11,
        "files stay until the compactor runs"
    );

    let report = db.compact_now().unwrap();
    let days_after = d.segment_days();
    assert_eq!(
        report.segments_expired as usize,
        days_before.len() - days_after.len()
    );
    assert!(
        days_after.iter().all(|day| day.end() > cutoff),
        "no expired segment remains"
    );
    assert!(
        days_after.first().is_some_and(|day| day.start() <= cutoff),
        "the segment straddling the cutoff stays"
    );
    for day in &days_before {
        let file = env
            .data
            .join(format!("domains/a.example/segments/{day}.redb"));
        assert_eq!(
            file.exists(),
            days_after.contains(day),
            "{}",
            file.display()
        );
    }
    assert_eq!(d.events(TimeRange::all()).unwrap().len(), visible.len());
    db.close().unwrap();
    // The expired markers are gone from the raw-event files; the kept ones
    // are there. (The anonymous daily aggregates of expired days, kept for
    // the aggregate TTL in aggregates.redb, still count page paths.)
    let segments = env.data.join("domains/a.example/segments");
    for i in 0..=40 {
        let m = format!("RETMARK{i:03}");
        let t = start_time().plus_millis(-(i * 6 * 3_600_000));
        let on_disk = !common::files_containing(&segments, m.as_bytes()).is_empty();
        let segment_kept = days_after.contains(&t.day());
        assert_eq!(on_disk, segment_kept, "{m}");
    }
}

#[test]
fn retention_settings_persist_and_are_validated() {
    let env = Env::new();
    {
        let db = env.open();
        let d = db.create_domain("a.example").unwrap();
        assert_eq!(d.settings().retention, Retention::default());
        assert_eq!(d.settings().retention.raw_event_days, 90);
        d.set_retention(Retention {
            raw_event_days: 30,
            aggregate_days: 365,
            tombstone_hours: 2,
        })
        .unwrap();
        let bad = Retention {
            raw_event_days: 0,
            ..Retention::default()
        };
        assert!(matches!(
            d.set_retention(bad),
            Err(pledgedb::DomainError::InvalidSetting(_))
        ));
    }
    let db = env.open();
    let r = db.domain("a.example").unwrap().settings().retention;
    assert_eq!(
        r,
        Retention {
            raw_event_days: 30,
            aggregate_days: 365,
            tombstone_hours: 2
        }
    );
}

#[test]
fn cookieless_salts_older_than_48_hours_are_deleted() {
    let env = Env::new();
    let db = env.open();
    let ip: std::net::IpAddr = "198.51.100.4".parse().unwrap();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/")
                .ip(ip)
                .user_agent("ua")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    env.clock.advance_days(1);
    assert_eq!(
        db.compact_now().unwrap().salts_deleted,
        0,
        "yesterday's salt is kept"
    );
    env.clock.advance_days(1);
    assert_eq!(db.compact_now().unwrap().salts_deleted, 1);
    // Same IP and UA the day after: a different visitor id.
    let _ = db
        .ingest(Hit::page_view("a.example", "/").ip(ip).user_agent("ua"))
        .unwrap();
    db.flush().unwrap();
    let events = db
        .domain("a.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_ne!(events[0].visitor, events[1].visitor);
}
