//! Hostile probe of promise P1 (cookieless ids): the daily salt lives in
//! memory only, so one browser's cookieless id differs from day to day and
//! across a restart, and a copy of the data directory holds nothing that
//! links two of them (no salt to recompute them with).

mod common;

use common::{Env, start_time};
use pledgedb::{Hit, MS_PER_DAY, TimeRange, Timestamp, VisitorId};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn visit(db: &pledgedb::Db, ts: Timestamp, path: &str) {
    let h = Hit::page_view("c.example", format!("https://c.example{path}"))
        .ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 42)))
        .user_agent(UA)
        .at(ts);
    let _ = db.ingest(h).unwrap();
}

fn id_of(db: &pledgedb::Db, path: &str) -> VisitorId {
    db.domain("c.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap()
        .into_iter()
        .find(|e| e.path.as_str() == path)
        .map(|e| e.visitor)
        .unwrap()
}

#[test]
fn probe_cookieless_ids_change_every_day_and_with_every_restart() {
    let env = Env::new();
    let mut db = env.open();
    let mut ids = HashSet::new();
    let mut seen = 0;
    for day in 0..5i64 {
        let ts = Timestamp(start_time().0 + day * MS_PER_DAY);
        if day > 0 {
            env.clock.advance_millis(MS_PER_DAY);
        }
        visit(&db, ts, &format!("/d{day}a"));
        visit(&db, Timestamp(ts.0 + 1000), &format!("/d{day}b"));
        db.flush().unwrap();
        let a = id_of(&db, &format!("/d{day}a"));
        assert_eq!(a, id_of(&db, &format!("/d{day}b")), "stable within a day");
        ids.insert(a);
        seen += 1;
        // A restart on the same day starts a new salt.
        db.close().unwrap();
        db = env.open();
        visit(&db, Timestamp(ts.0 + 2000), &format!("/d{day}c"));
        db.flush().unwrap();
        ids.insert(id_of(&db, &format!("/d{day}c")));
        seen += 1;
        if day % 2 == 1 {
            db.compact_now().unwrap();
        }
    }
    assert_eq!(ids.len(), seen, "a cookieless id was reused");
    db.close().unwrap();
    // Nothing in the directory is a 16-byte salt beside the ids: the files
    // hold no secret other than the per-domain key, checked by
    // regress_cookieless_id_reversible_from_files; here, a reopen gives yet
    // another id, so no stored state recomputes an old one.
    let db = env.open();
    visit(
        &db,
        Timestamp(start_time().0 + 4 * MS_PER_DAY + 3000),
        "/last",
    );
    db.flush().unwrap();
    assert!(!ids.contains(&id_of(&db, "/last")));
}
