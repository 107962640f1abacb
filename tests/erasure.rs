//! Promises P5 and P6: export and erasure. Erased visitors vanish from every
//! read the moment `erase_visitor` returns, and after `compact_now` not one
//! byte of their data is left in any file, while everyone else's data is
//! intact.

mod common;

use common::{Env, start_time};
use pledgedb::{
    EraseError, Erasure, FormField, Hit, HitKind, HitProp, Ingested, TimeRange, VisitorId,
    VisitorRef,
};

const VISITORS: usize = 60;
const DAYS: i64 = 5;

fn marker(v: usize, kind: &str) -> String {
    format!("MARK{kind}{v:04}X")
}

/// Ingests, for every visitor, events on every day whose strings carry that
/// visitor's unique markers (in paths, custom properties and submitted form
/// values).
fn populate(db: &pledgedb::Db) {
    let mut hits = Vec::new();
    for day in 0..DAYS {
        for v in 0..VISITORS {
            let t = start_time().plus_millis(day * 86_400_000 + (v as i64) * 60_000);
            let client = format!("client-{v}");
            hits.push(
                Hit::page_view(
                    "shop.example",
                    format!("https://shop.example/{}/d{day}", marker(v, "P")),
                )
                .client_id(&client)
                .at(t),
            );
            hits.push(
                Hit::new(
                    "shop.example",
                    "https://shop.example/x",
                    HitKind::Custom {
                        name: "purchase".into(),
                        props: vec![("note".into(), HitProp::Text(marker(v, "C")))],
                    },
                )
                .client_id(&client)
                .at(t.plus_millis(1000)),
            );
            hits.push(
                Hit::new(
                    "shop.example",
                    "https://shop.example/signup",
                    HitKind::FormSubmit {
                        form: "signup".into(),
                        fields: vec![FormField::new(
                            "email",
                            format!("{}@example.org", marker(v, "F")),
                        )],
                    },
                )
                .client_id(&client)
                .at(t.plus_millis(2000)),
            );
        }
    }
    for r in db.ingest_batch(hits) {
        assert_eq!(r.unwrap(), Ingested::Queued);
    }
    db.flush().unwrap();
}

fn erased(v: usize) -> bool {
    v % 7 == 3
}

#[test]
fn erased_visitors_are_invisible_at_once_and_gone_from_every_file_after_compaction() {
    let env = Env::new();
    // Move the clock to the last day so that every day is within retention.
    env.clock.advance_days(DAYS);
    let db = env.open();
    populate(&db);
    let d = db.domain("shop.example").unwrap();
    let total = d.count(TimeRange::all()).unwrap();
    assert_eq!(total, (VISITORS as u64) * 3 * DAYS as u64);

    let mut ids = Vec::new();
    for v in (0..VISITORS).filter(|v| erased(*v)) {
        let who = VisitorRef::ClientId(format!("client-{v}"));
        let exported = d.export_visitor(&who).unwrap();
        assert_eq!(
            exported.events.len(),
            3 * DAYS as usize,
            "export before erasure"
        );
        ids.push(exported.visitor);
        // Some more events of the visitor are still queued when the request
        // comes: they must not survive either.
        let _ = db
            .ingest(
                Hit::page_view("shop.example", format!("/{}/late", marker(v, "P")))
                    .client_id(format!("client-{v}"))
                    .at(start_time().plus_millis(DAYS * 86_400_000 - 1000)),
            )
            .unwrap();
        match d.erase_visitor(&who).unwrap() {
            Erasure::Pending(r) => {
                assert!(r.segments >= DAYS as usize);
                assert!(r.purge_deadline > r.requested_at);
            }
            Erasure::NotFound => panic!("visitor {v} not found"),
        }
    }
    let n_erased = ids.len() as u64;
    assert!(n_erased >= 8);

    // Right away: no read, count or export returns them.
    db.flush().unwrap();
    let events = d.events(TimeRange::all()).unwrap();
    assert!(events.iter().all(|e| !ids.contains(&e.visitor)));
    assert_eq!(events.len() as u64, total - n_erased * 3 * DAYS as u64);
    for v in (0..VISITORS).filter(|v| erased(*v)) {
        let ex = d
            .export_visitor(&VisitorRef::ClientId(format!("client-{v}")))
            .unwrap();
        assert!(ex.events.is_empty(), "visitor {v} still exported");
    }
    assert_eq!(d.pending_purges(), ids.len());

    let report = db.compact_now().unwrap();
    assert_eq!(report.erasures_completed, n_erased);
    assert!(report.segments_rewritten >= DAYS as u64);
    // The late events were flushed by the erasure request and purged too.
    assert_eq!(report.events_purged, n_erased * (3 * DAYS as u64 + 1));
    assert_eq!(d.pending_purges(), 0);
    let log = d.erasure_log().unwrap();
    assert_eq!(log.len(), ids.len());
    assert!(log.iter().all(|r| r.purged_at.is_some()));
    // Handles keep the files open; the last one gone, the directory can be
    // opened again.
    drop(d);
    db.close().unwrap();

    let files = common::all_files(&env.data);
    for v in 0..VISITORS {
        for kind in ["P", "C", "F"] {
            let m = marker(v, kind);
            let holders: Vec<_> = files
                .iter()
                .filter(|(_, b)| common::contains(b, m.as_bytes()))
                .map(|(p, _)| p.clone())
                .collect();
            if erased(v) {
                assert!(holders.is_empty(), "erased marker {m} still in {holders:?}");
            } else {
                assert!(!holders.is_empty(), "marker {m} of a kept visitor is gone");
            }
        }
    }
    for id in &ids {
        for bytes in [id.0.to_le_bytes(), id.0.to_be_bytes()] {
            let holders: Vec<_> = files
                .iter()
                .filter(|(_, b)| common::contains(b, &bytes))
                .map(|(p, _)| p.clone())
                .collect();
            assert!(holders.is_empty(), "visitor id {id} still in {holders:?}");
        }
        assert!(common::files_containing(&env.data, id.to_string().as_bytes()).is_empty());
    }

    // Every kept visitor is still fully readable after reopen.
    let db = env.open();
    let d = db.domain("shop.example").unwrap();
    for v in (0..VISITORS).filter(|v| !erased(*v)) {
        let ex = d
            .export_visitor(&VisitorRef::ClientId(format!("client-{v}")))
            .unwrap();
        assert_eq!(ex.events.len(), 3 * DAYS as usize, "visitor {v}");
    }
}

#[test]
fn erasing_a_session_removes_only_that_visit() {
    let env = Env::new();
    let db = env.open();
    let t = start_time();
    for (i, min) in [0i64, 5, 120, 125].iter().enumerate() {
        let _ = db
            .ingest(
                Hit::page_view("a.example", format!("/SESSIONMARK{i}"))
                    .client_id("v1")
                    .at(t.plus_millis(min * 60_000)),
            )
            .unwrap();
    }
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    let events = d.events(TimeRange::all()).unwrap();
    let first = events[0].session;
    assert_eq!(events[1].session, first);
    assert_ne!(events[2].session, first);
    assert!(matches!(
        d.erase_session(first).unwrap(),
        Erasure::Pending(_)
    ));
    assert_eq!(d.count(TimeRange::all()).unwrap(), 2);
    let report = db.compact_now().unwrap();
    assert_eq!(report.events_purged, 2);
    db.close().unwrap();
    assert!(common::files_containing(&env.data, b"SESSIONMARK0").is_empty());
    assert!(common::files_containing(&env.data, b"SESSIONMARK1").is_empty());
    assert!(!common::files_containing(&env.data, b"SESSIONMARK2").is_empty());
}

#[test]
fn bad_erasure_requests_are_typed_and_harmless() {
    let env = Env::new();
    let db = env.open();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/")
                .client_id("known")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    assert_eq!(
        d.erase_visitor(&VisitorRef::ClientId("unknown".into()))
            .unwrap(),
        Erasure::NotFound
    );
    assert_eq!(
        d.erase_visitor(&VisitorRef::Id(VisitorId(12345))).unwrap(),
        Erasure::NotFound
    );
    assert!(matches!(
        d.erase_visitor(&VisitorRef::ClientId(String::new())),
        Err(EraseError::InvalidId(_))
    ));
    assert!(matches!(
        d.erase_visitor(&VisitorRef::Id(VisitorId::ANONYMOUS)),
        Err(EraseError::InvalidId(_))
    ));
    assert!(matches!(
        d.erase_session(pledgedb::SessionId(0)),
        Err(EraseError::InvalidId(_))
    ));
    assert_eq!(
        d.erase_session(pledgedb::SessionId(99)).unwrap(),
        Erasure::NotFound
    );
    assert!(
        d.erasure_log().unwrap().is_empty(),
        "no-ops leave no log entry"
    );
    assert!(matches!(
        db.domain("missing.example"),
        Err(pledgedb::DomainError::NotFound(_))
    ));
    assert!(!db.erase_domain("missing.example").unwrap());
    assert!(db.erase_domain("../etc").is_err());
    assert_eq!(
        VisitorRef::parse("00000000000000ff"),
        VisitorRef::Id(VisitorId(255))
    );
    assert_eq!(
        VisitorRef::parse("cookie-value"),
        VisitorRef::ClientId("cookie-value".into())
    );
    assert_eq!(d.count(TimeRange::all()).unwrap(), 1);
}

#[test]
fn erasing_a_domain_removes_every_file_of_it() {
    let env = Env::new();
    let db = env.open();
    for dom in ["a.example", "b.example"] {
        let _ = db
            .ingest(
                Hit::page_view(dom, format!("/DOMMARK-{dom}"))
                    .client_id("v")
                    .at(start_time()),
            )
            .unwrap();
    }
    db.flush().unwrap();
    let a = db.domain("a.example").unwrap();
    assert!(db.erase_domain("a.example").unwrap());
    assert!(
        a.events(TimeRange::all()).is_err(),
        "an old handle of an erased domain fails"
    );
    assert_eq!(db.domains(), vec!["b.example".to_string()]);
    assert!(!env.data.join("domains/a.example").exists());
    drop(a);
    db.close().unwrap();
    assert!(common::files_containing(&env.data, b"DOMMARK-a.example").is_empty());
    assert!(!common::files_containing(&env.data, b"DOMMARK-b.example").is_empty());
    let db = env.open();
    assert_eq!(db.domains(), vec!["b.example".to_string()]);
    // The name can be used again, with a new secret.
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/again")
                .client_id("v")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    assert_eq!(
        db.domain("a.example")
            .unwrap()
            .count(TimeRange::all())
            .unwrap(),
        1
    );
}

#[test]
fn tombstones_expire_after_their_ttl_and_leave_no_tag_behind() {
    let env = Env::new();
    let db = env.open();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/")
                .client_id("gone")
                .at(start_time()),
        )
        .unwrap();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/")
                .client_id("stays")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    assert!(matches!(
        d.erase_visitor(&VisitorRef::ClientId("gone".into()))
            .unwrap(),
        Erasure::Pending(_)
    ));
    let r = db.compact_now().unwrap();
    assert_eq!((r.erasures_completed, r.tombstones_expired), (1, 0));
    // Within the tombstone TTL, a late hit of the erased visitor is dropped.
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/late")
                .client_id("gone")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    assert_eq!(d.count(TimeRange::all()).unwrap(), 1);
    env.clock.advance_millis(25 * 3_600_000);
    let r = db.compact_now().unwrap();
    assert_eq!(r.tombstones_expired, 1);
    assert_eq!(d.erasure_log().unwrap().len(), 1, "the anonymous log stays");
}

#[test]
fn the_background_compactor_purges_an_erasure_without_being_asked() {
    let env = Env::new();
    let mut config = env.config();
    config.background_compaction = true;
    let db = pledgedb::Db::open(&env.data, config).unwrap();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/BGMARK")
                .client_id("v")
                .at(start_time()),
        )
        .unwrap();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/kept")
                .client_id("w")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    assert!(matches!(
        d.erase_visitor(&VisitorRef::ClientId("v".into())).unwrap(),
        Erasure::Pending(_)
    ));
    // The request wakes the compactor thread; wait for it (bounded), without
    // calling compact_now.
    let waited = std::time::Instant::now();
    while d.pending_purges() > 0 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "purge did not run"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(d);
    db.close().unwrap();
    assert!(common::files_containing(&env.data, b"BGMARK").is_empty());
    assert!(!common::files_containing(&env.data, b"/kept").is_empty());
}
