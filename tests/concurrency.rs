//! Concurrency: four threads ingest into eight domains (single hits and
//! batches) while other threads count, compute metrics and breakdowns,
//! scan, export, erase and compact. The final counts are exact — what each
//! thread was told it ingested, minus the erased visitors' hits — before
//! and after a reopen, and no read ever returns another domain's data:
//! every path starts with its domain's own prefix, and every read checks.

mod common;

use common::{Env, start_time};
use pledgedb::{
    DayRange, Dimension, Erasure, Hit, HitKind, HitProp, Ingested, Query, TimeRange, VisitorRef,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

const DOMAINS: usize = 8;
const INGESTERS: usize = 4;
/// Visitors per ingest thread and domain; the last one of each is erased.
const VISITORS: usize = 3;
const HITS_PER_VISITOR: usize = 25;

fn domain(d: usize) -> String {
    format!("d{d}.example")
}

fn prefix(d: usize) -> String {
    format!("/dom{d}-")
}

fn client(t: usize, d: usize, v: usize) -> String {
    format!("t{t}d{d}v{v}")
}

fn erased(v: usize) -> bool {
    v == VISITORS - 1
}

/// Asserts that a path belongs to domain `d`.
fn own(d: usize, path: &str, what: &str) {
    assert!(
        path.starts_with(&prefix(d)),
        "{what} of {} returned {path:?}",
        domain(d)
    );
}

#[test]
fn concurrent_ingest_queries_erasure_and_compaction_stay_exact_and_apart() {
    let env = Env::new();
    let db = env.open();
    for d in 0..DOMAINS {
        db.create_domain(&domain(d)).unwrap();
    }
    let done = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let compactions = AtomicU64::new(0);
    // (thread, domain, visitor) whose hits are all ingested, for the eraser.
    let (finished_tx, finished_rx) = mpsc::channel::<(usize, usize, usize)>();
    // Per domain: hits each thread was told were queued, per visitor.
    let mut ingested: BTreeMap<(usize, usize, usize), u64> = BTreeMap::new();
    let mut erasures = 0;
    thread::scope(|s| {
        let mut ingesters = Vec::new();
        for t in 0..INGESTERS {
            let db = db.clone();
            let finished = finished_tx.clone();
            ingesters.push(s.spawn(move || {
                let mut mine: BTreeMap<(usize, usize, usize), u64> = BTreeMap::new();
                for v in 0..VISITORS {
                    for n in 0..HITS_PER_VISITOR {
                        let hits: Vec<Hit> = (0..DOMAINS)
                            .map(|d| {
                                let url = format!("https://{}{}p{}", domain(d), prefix(d), n % 7);
                                let ts = start_time().plus_millis(
                                    -((n % 2) as i64) * 86_400_000 + (t * 1000 + n) as i64,
                                );
                                let kind = if n % 5 == 4 {
                                    HitKind::Custom {
                                        name: "buy".into(),
                                        props: vec![("d".into(), HitProp::Int(d as i64))],
                                    }
                                } else {
                                    HitKind::PageView { referrer: None }
                                };
                                Hit::new(domain(d), url, kind)
                                    .client_id(client(t, d, v))
                                    .at(ts)
                            })
                            .collect();
                        // Alternate single hits and batches.
                        let results: Vec<_> = if n % 2 == 0 {
                            hits.into_iter().map(|h| db.ingest(h)).collect()
                        } else {
                            db.ingest_batch(hits)
                        };
                        for (d, r) in results.into_iter().enumerate() {
                            match r {
                                Ok(Ingested::Queued) => *mine.entry((t, d, v)).or_default() += 1,
                                other => panic!("ingest {t}/{d}/{v}: {other:?}"),
                            }
                        }
                    }
                    for d in 0..DOMAINS {
                        finished.send((t, d, v)).unwrap();
                    }
                }
                mine
            }));
        }
        drop(finished_tx);
        // The eraser: erases each erasable visitor once all its hits are in.
        let eraser = {
            let db = db.clone();
            s.spawn(move || {
                let mut n = 0;
                for (t, d, v) in finished_rx {
                    if !erased(v) {
                        continue;
                    }
                    let dom = db.domain(&domain(d)).unwrap();
                    match dom
                        .erase_visitor(&VisitorRef::ClientId(client(t, d, v)))
                        .unwrap()
                    {
                        Erasure::Pending(_) => n += 1,
                        Erasure::NotFound => panic!("{t}/{d}/{v}: its flushed hits not found"),
                    }
                }
                n
            })
        };
        // Readers: every read checks that it sees only its domain.
        for r in 0..2 {
            let db = db.clone();
            let (done, reads) = (&done, &reads);
            s.spawn(move || {
                let days = DayRange::new(start_time().day().plus(-1), start_time().day());
                let mut i = r;
                while !done.load(Ordering::Acquire) {
                    let d = i % DOMAINS;
                    i += 1;
                    let dom = db.domain(&domain(d)).unwrap();
                    let n = dom.count(TimeRange::all()).unwrap();
                    let m = dom.metrics(&Query::days(days)).unwrap();
                    assert!(m.events <= (INGESTERS * VISITORS * HITS_PER_VISITOR) as u64);
                    for (page, _) in dom
                        .breakdown(&Query::days(days), Dimension::Page, 50)
                        .unwrap()
                    {
                        own(d, &page, "breakdown");
                    }
                    for (page, _) in dom.count_by_path(TimeRange::all()).unwrap() {
                        own(d, page.as_str(), "count_by_path");
                    }
                    assert!(n <= (INGESTERS * VISITORS * HITS_PER_VISITOR) as u64);
                    let ids: std::collections::HashSet<pledgedb::VisitorId> = (0..INGESTERS)
                        .flat_map(|t| (0..VISITORS).map(move |v| (t, v)))
                        .map(|(t, v)| dom.visitor_id(&VisitorRef::ClientId(client(t, d, v))))
                        .collect();
                    dom.scan(TimeRange::all(), |e| {
                        own(d, e.path.as_str(), "scan");
                        assert!(
                            ids.contains(&e.visitor),
                            "scan of {} saw a stranger",
                            domain(d)
                        );
                    })
                    .unwrap();
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // Exporter: a kept visitor's export holds only its own events.
        {
            let db = db.clone();
            let done = &done;
            s.spawn(move || {
                let mut i = 0;
                while !done.load(Ordering::Acquire) {
                    let (t, d) = (i % INGESTERS, (i / INGESTERS) % DOMAINS);
                    i += 1;
                    let dom = db.domain(&domain(d)).unwrap();
                    let who = VisitorRef::ClientId(client(t, d, 0));
                    let id = dom.visitor_id(&who);
                    let ex = dom.export_visitor(&who).unwrap();
                    assert_eq!(ex.domain, domain(d));
                    for e in &ex.events {
                        assert_eq!(e.visitor, id, "export holds another visitor");
                        own(d, e.path.as_str(), "export");
                    }
                }
            });
        }
        // Compactor: passes run while everything else does.
        {
            let db = db.clone();
            let (done, compactions) = (&done, &compactions);
            s.spawn(move || {
                while !done.load(Ordering::Acquire) {
                    db.compact_now().unwrap();
                    compactions.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for h in ingesters {
            for (k, n) in h.join().unwrap() {
                *ingested.entry(k).or_default() += n;
            }
        }
        erasures = eraser.join().unwrap();
        done.store(true, Ordering::Release);
    });
    assert_eq!(erasures, INGESTERS * DOMAINS);
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert!(compactions.load(Ordering::Relaxed) > 0);

    let expected = |d: usize| -> u64 {
        ingested
            .iter()
            .filter(|((_, dd, v), _)| *dd == d && !erased(*v))
            .map(|(_, n)| *n)
            .sum()
    };
    let check = |db: &pledgedb::Db, when: &str| {
        for d in 0..DOMAINS {
            let dom = db.domain(&domain(d)).unwrap();
            assert_eq!(
                dom.count(TimeRange::all()).unwrap(),
                expected(d),
                "{when}: {} count",
                domain(d)
            );
            let mut per_visitor: BTreeMap<pledgedb::VisitorId, u64> = BTreeMap::new();
            for e in dom.events(TimeRange::all()).unwrap() {
                own(d, e.path.as_str(), "events");
                *per_visitor.entry(e.visitor).or_default() += 1;
            }
            for ((t, dd, v), n) in &ingested {
                if *dd != d {
                    continue;
                }
                let id = dom.visitor_id(&VisitorRef::ClientId(client(*t, d, *v)));
                let want = if erased(*v) { 0 } else { *n };
                assert_eq!(
                    per_visitor.get(&id).copied().unwrap_or(0),
                    want,
                    "{when}: {} visitor {t}/{v}",
                    domain(d)
                );
            }
        }
    };
    db.flush().unwrap();
    check(&db, "after the run");
    db.compact_now().unwrap();
    for d in 0..DOMAINS {
        assert_eq!(db.domain(&domain(d)).unwrap().pending_purges(), 0);
    }
    check(&db, "after compaction");
    db.close().unwrap();
    let db = env.open();
    check(&db, "after reopen");
    db.close().unwrap();
}
