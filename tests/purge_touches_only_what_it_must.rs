//! A purge rewrites only the segments that hold what it erases: a visitor
//! seen on 2 of 30 days costs exactly 2 rewrites, a session exactly the
//! days it spans; every other segment file keeps every byte.

mod common;

use common::{Env, start_time};
use pledgedb::{Erasure, Hit, MS_PER_DAY, TimeRange, VisitorRef};
use std::collections::BTreeMap;

/// Each segment file's bytes, hashed: a file the purge did not touch keeps
/// every byte (inode numbers are no proof: a file system reuses them).
fn inodes(env: &Env) -> BTreeMap<String, u64> {
    use std::hash::{Hash, Hasher};
    let dir = env.data.join("domains/shop.example/segments");
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(e.path()).unwrap().hash(&mut h);
            (e.file_name().to_string_lossy().into_owned(), h.finish())
        })
        .collect()
}

#[test]
fn a_purge_rewrites_exactly_the_segments_that_hold_the_erased_data() {
    let env = Env::new();
    let db = env.open();
    let t = start_time();
    let mut hits = Vec::new();
    for day in 1..=30i64 {
        let at = t.plus_millis(-day * MS_PER_DAY);
        hits.push(Hit::page_view("shop.example", "/").client_id("B").at(at));
        if day == 5 || day == 17 {
            hits.push(Hit::page_view("shop.example", "/a").client_id("A").at(at));
        }
        if day == 9 {
            hits.push(
                Hit::page_view("shop.example", "/s")
                    .client_id("C")
                    .at(at.plus_millis(1000)),
            );
        }
    }
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    // Seal every finished day first, so only the purge rewrites below.
    db.compact_now().unwrap();
    let before = inodes(&env);
    assert_eq!(before.len(), 30);

    let d = db.domain("shop.example").unwrap();
    let r = d.erase_visitor(&VisitorRef::ClientId("A".into())).unwrap();
    assert!(
        matches!(r, Erasure::Pending(ref p) if p.segments == 2),
        "{r:?}"
    );
    let report = db.compact_now().unwrap();
    assert_eq!(report.segments_rewritten, 2, "{report:?}");
    let after = inodes(&env);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed.len(), 2, "{changed:?}");

    let session = d
        .events(TimeRange::all())
        .unwrap()
        .into_iter()
        .find(|e| e.path.as_str() == "/s")
        .unwrap()
        .session;
    let before = inodes(&env);
    assert!(matches!(
        d.erase_session(session).unwrap(),
        Erasure::Pending(_)
    ));
    let report = db.compact_now().unwrap();
    assert_eq!(report.segments_rewritten, 1, "{report:?}");
    let after = inodes(&env);
    let changed = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .count();
    assert_eq!(changed, 1);
    assert_eq!(d.count(TimeRange::all()).unwrap(), 30);
}
