//! Hostile probes of promises P5 and P6: a visitor who comes back after an
//! erasure (by client id, by visitor id, cookieless, after a session
//! erasure; same day, another day, after compaction, after a reopen; with
//! blocks of two events so days hold sealed blocks) is exportable and
//! erasable again, and after compaction no byte of an erased event is in
//! any file.

mod common;

use common::{Env, find_any, start_time};
use pledgedb::{Config, Db, Erasure, Hit, MS_PER_DAY, Retention, Timestamp, VisitorRef};
use std::net::{IpAddr, Ipv4Addr};

const D: &str = "return.example";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";

fn config(env: &Env, tombstone_hours: u32) -> Config {
    let mut c = env.config();
    c.writer.block_events = 2;
    c.domain_defaults.retention = Retention {
        tombstone_hours,
        ..Retention::default()
    };
    c
}

/// Tombstones that go with the purge: a hit during a tombstone's life is
/// dropped by design, so a return is only seen after it.
fn open(env: &Env) -> Db {
    Db::open(&env.data, config(env, 0)).unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Client,
    Cookieless,
}

fn hit(who: Who, marker: &str, ts: Timestamp) -> Hit {
    let h = Hit::page_view(D, format!("https://return.example/{marker}"))
        .session_id("sess-1")
        .at(ts);
    match who {
        Who::Client => h.client_id("returner"),
        Who::Cookieless => h
            .ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 50)))
            .user_agent(UA),
    }
}

fn filler(db: &Db, n: usize, ts: Timestamp) {
    for i in 0..n {
        let _ = db
            .ingest(
                Hit::page_view(D, format!("https://return.example/filler{i}"))
                    .client_id(format!("other-{i}"))
                    .at(ts),
            )
            .unwrap();
    }
}

fn erase_all(db: &Db, who: &VisitorRef) -> Erasure {
    db.domain(D).unwrap().erase_visitor(who).unwrap()
}

fn exported_paths(db: &Db, who: &VisitorRef) -> Vec<String> {
    let mut v: Vec<String> = db
        .domain(D)
        .unwrap()
        .export_visitor(who)
        .unwrap()
        .events
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    v.sort();
    v
}

/// One round: visit (marker), erase, come back (second marker), export
/// must show exactly the return, erase again, compact: no marker left.
fn round(who: Who, by_id: bool, return_after: &str) -> Result<(), String> {
    let env = Env::new();
    let mut db = if return_after == "expiry" {
        Db::open(&env.data, config(&env, 24)).unwrap()
    } else {
        open(&env)
    };
    let t0 = start_time();
    for i in 0..3 {
        let _ = db
            .ingest(hit(who, &format!("QZFIRST{i}"), Timestamp(t0.0 + i)))
            .unwrap();
    }
    filler(&db, 3, t0);
    db.flush().unwrap();
    let first = db
        .domain(D)
        .unwrap()
        .export_visitor(&VisitorRef::ClientId("returner".into()));
    let id = match who {
        Who::Client => db
            .domain(D)
            .unwrap()
            .visitor_id(&VisitorRef::ClientId("returner".into())),
        Who::Cookieless => {
            let evs = db
                .domain(D)
                .unwrap()
                .events(pledgedb::TimeRange::all())
                .unwrap();
            evs.iter()
                .find(|e| e.path.as_str().contains("QZFIRST"))
                .map(|e| e.visitor)
                .ok_or("no cookieless event")?
        }
    };
    let _ = first;
    let r = if by_id || matches!(who, Who::Cookieless) {
        VisitorRef::Id(id)
    } else {
        VisitorRef::ClientId("returner".into())
    };
    if !matches!(erase_all(&db, &r), Erasure::Pending(_)) {
        return Err("first erasure not accepted".into());
    }
    let mut t1 = Timestamp(t0.0 + 10);
    match return_after {
        "compaction" => {
            db.compact_now().unwrap();
        }
        "reopen" => {
            db.compact_now().unwrap();
            db.close().unwrap();
            db = open(&env);
        }
        "reopen-then-compaction" => {
            db.close().unwrap();
            db = open(&env);
            db.compact_now().unwrap();
        }
        "next-day" => {
            env.clock.advance_millis(MS_PER_DAY);
            t1 = Timestamp(t0.0 + MS_PER_DAY);
            db.compact_now().unwrap();
        }
        "expiry" => {
            // The purge, then the tombstone's 24 hours after it.
            env.clock.advance_millis(2 * MS_PER_DAY);
            db.compact_now().unwrap();
            env.clock.advance_millis(25 * 3_600_000);
            db.compact_now().unwrap();
            t1 = Timestamp(t0.0 + 2 * MS_PER_DAY + 25 * 3_600_000);
        }
        _ => unreachable!(),
    }
    // The cookieless id survives only within a run and a day.
    let cookieless_same = matches!(who, Who::Cookieless) && return_after == "compaction";
    for i in 0..3 {
        let _ = db
            .ingest(hit(who, &format!("QZBACK{i}"), Timestamp(t1.0 + i)))
            .unwrap();
    }
    filler(&db, 3, t1);
    db.flush().unwrap();
    let back_ref = match who {
        Who::Client if !by_id => VisitorRef::ClientId("returner".into()),
        Who::Client => VisitorRef::Id(id),
        Who::Cookieless => {
            let evs = db
                .domain(D)
                .unwrap()
                .events(pledgedb::TimeRange::all())
                .unwrap();
            let v = evs
                .iter()
                .find(|e| e.path.as_str().contains("QZBACK"))
                .map(|e| e.visitor)
                .ok_or("no returning event")?;
            if cookieless_same && v != id {
                return Err("cookieless id changed within a run and a day".into());
            }
            VisitorRef::Id(v)
        }
    };
    let got = exported_paths(&db, &back_ref);
    let want: Vec<String> = (0..3).map(|i| format!("/QZBACK{i}")).collect();
    if got != want {
        return Err(format!("export after return: {got:?}"));
    }
    if !matches!(erase_all(&db, &back_ref), Erasure::Pending(_)) {
        return Err("second erasure not accepted".into());
    }
    if !exported_paths(&db, &back_ref).is_empty() {
        return Err("export after the second erasure is not empty".into());
    }
    env.clock.advance_millis(3 * MS_PER_DAY);
    db.compact_now().unwrap();
    db.compact_now().unwrap();
    if db.domain(D).unwrap().pending_purges() != 0 {
        return Err("purges pending after compaction".into());
    }
    db.close().unwrap();
    let markers: Vec<String> = (0..3)
        .flat_map(|i| [format!("QZFIRST{i}"), format!("QZBACK{i}")])
        .collect();
    let found = find_any(&env.data, &markers);
    if !found.is_empty() {
        return Err(format!("erased bytes left: {found:?}"));
    }
    Ok(())
}

fn check(cases: &[(Who, bool, &str)]) {
    let mut broken = Vec::new();
    for &(who, by_id, after) in cases {
        if let Err(e) = round(who, by_id, after) {
            broken.push(format!("{who:?}/by_id={by_id}/{after}: {e}"));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn probe_a_returning_client_is_exportable_and_erasable_again() {
    let mut cases = Vec::new();
    for by_id in [false, true] {
        for after in [
            "compaction",
            "reopen",
            "reopen-then-compaction",
            "next-day",
            "expiry",
        ] {
            cases.push((Who::Client, by_id, after));
        }
    }
    check(&cases);
}

#[test]
fn probe_a_returning_cookieless_visitor_is_exportable_and_erasable_again() {
    check(&[
        (Who::Cookieless, true, "compaction"),
        (Who::Cookieless, true, "reopen"),
        (Who::Cookieless, true, "reopen-then-compaction"),
        (Who::Cookieless, true, "next-day"),
        (Who::Cookieless, true, "expiry"),
    ]);
}

#[test]
fn probe_a_session_erasure_then_return() {
    let env = Env::new();
    let db = open(&env);
    let t0 = start_time();
    for i in 0..3 {
        let _ = db
            .ingest(hit(Who::Client, &format!("QZSESS{i}"), Timestamp(t0.0 + i)))
            .unwrap();
    }
    filler(&db, 3, t0);
    db.flush().unwrap();
    let who = VisitorRef::ClientId("returner".into());
    let session = db.domain(D).unwrap().export_visitor(&who).unwrap().events[0].session;
    let r = db.domain(D).unwrap().erase_session(session).unwrap();
    assert!(matches!(r, Erasure::Pending(_)), "{r:?}");
    assert!(exported_paths(&db, &who).is_empty());
    db.compact_now().unwrap();
    // The same tracker session id comes back.
    for i in 0..3 {
        let _ = db
            .ingest(hit(
                Who::Client,
                &format!("QZSBACK{i}"),
                Timestamp(t0.0 + 10 + i),
            ))
            .unwrap();
    }
    db.flush().unwrap();
    let want: Vec<String> = (0..3).map(|i| format!("/QZSBACK{i}")).collect();
    assert_eq!(exported_paths(&db, &who), want);
    let r = db.domain(D).unwrap().erase_visitor(&who).unwrap();
    assert!(matches!(r, Erasure::Pending(_)), "{r:?}");
    env.clock.advance_millis(3 * MS_PER_DAY);
    db.compact_now().unwrap();
    db.close().unwrap();
    let markers: Vec<String> = (0..3)
        .flat_map(|i| [format!("QZSESS{i}"), format!("QZSBACK{i}")])
        .collect();
    let found = find_any(&env.data, &markers);
    assert!(found.is_empty(), "erased bytes left: {found:?}");
}
