//! The Reader's projected scans against full scans: for random column
//! subsets and predicates, a projected scan hands on exactly the events a
//! plain filter over whole events keeps, in the same order, with every
//! requested column equal; block skipping never skips a block that holds a
//! match (a skipped match would be a missing event here), and a selective
//! predicate does skip blocks. Erased visitors stay hidden in every shape.

mod common;

use common::{Env, start_time};
use pledgedb::domain::reader::{AnyOf, Batch, Columns, Predicate};
use pledgedb::{
    Config, Country, Db, Device, Event, EventKind, EventType, Filters, Hit, HitKind, KeyKind,
    SessionId, Text, TimeRange, VisitorId, VisitorRef,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::ops::ControlFlow;

const PAGES: [&str; 5] = ["/", "/pricing", "/blog/a", "/signup", "/rare"];
const REFERRERS: [Option<&str>; 3] = [
    None,
    Some("https://www.search.example/q"),
    Some("https://news.example/"),
];
const UAS: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
];
const IPS: [&str; 3] = ["203.0.113.5", "198.51.100.7", "192.0.2.9"];

fn load(env: &Env) -> Db {
    let mut c: Config = env.config();
    c.writer.block_events = 7;
    let db = Db::open(&env.data, c).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let t = start_time();
    let mut hits = Vec::new();
    for i in 0..900i64 {
        let page = if i % 97 == 0 {
            "/rare"
        } else {
            PAGES[rng.random_range(0..4)]
        };
        let kind = match rng.random_range(0..6) {
            0 | 1 => HitKind::PageView {
                referrer: REFERRERS[rng.random_range(0..3)].map(str::to_string),
            },
            2 => HitKind::Click {
                x: rng.random_range(-5..2000),
                y: rng.random_range(0..5000),
                target: format!("#b{}", rng.random_range(0..4)),
            },
            3 => HitKind::Scroll {
                depth: rng.random_range(0..=100),
            },
            4 => HitKind::Keystroke {
                form: "signup".into(),
                field: "email".into(),
                key: KeyKind::Character,
            },
            _ => HitKind::Custom {
                name: "buy".into(),
                props: vec![("qty".into(), pledgedb::HitProp::Int(i))],
            },
        };
        hits.push(
            Hit::new(
                "r.example",
                format!("https://r.example{page}?utm_source=s{}", i % 3),
                kind,
            )
            .client_id(format!("c{}", rng.random_range(0..40)))
            .ip(IPS[rng.random_range(0..3)].parse().unwrap())
            .user_agent(UAS[rng.random_range(0..3)])
            .at(t.plus_millis(-(i % 3) * 86_400_000 + i * 1000)),
        );
    }
    for r in db.ingest_batch(hits) {
        let _ = r.unwrap();
    }
    db.flush().unwrap();
    db
}

fn random_columns(rng: &mut StdRng) -> Columns {
    let all = [
        Columns::VISITOR,
        Columns::SESSION,
        Columns::COUNTRY,
        Columns::DEVICE,
        Columns::BROWSER,
        Columns::PATH,
        Columns::REFERRER,
        Columns::DETAIL,
    ];
    all.iter()
        .filter(|_| rng.random_bool(0.4))
        .fold(Columns::NONE, |acc, c| acc | *c)
}

fn random_predicate(rng: &mut StdRng, full: &[Event]) -> Predicate {
    let mut f = Filters::default();
    if rng.random_bool(0.3) {
        f.country = Some(
            [
                Country::from_code("DE"),
                Country::from_code("FR"),
                Country::from_code("US"),
                Country::from_code("JP"),
            ][rng.random_range(0..4)],
        );
    }
    if rng.random_bool(0.2) {
        f.device = Some([Device::Desktop, Device::Mobile, Device::Tablet][rng.random_range(0..3)]);
    }
    if rng.random_bool(0.2) {
        f.browser = Some(["Firefox", "Chrome", "Safari", "Opera"][rng.random_range(0..4)].into());
    }
    if rng.random_bool(0.4) {
        f.page = Some(PAGES[rng.random_range(0..PAGES.len())].into());
    }
    if rng.random_bool(0.2) {
        f.referrer =
            Some(["(direct)", "search.example", "news.example"][rng.random_range(0..3)].into());
    }
    let types = rng.random_bool(0.3).then(|| {
        EventType::ALL
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.3))
            .collect::<Vec<_>>()
    });
    let visitor = rng
        .random_bool(0.2)
        .then(|| full[rng.random_range(0..full.len())].visitor);
    let session = rng
        .random_bool(0.15)
        .then(|| full[rng.random_range(0..full.len())].session);
    // Value sets (SQL's IN lists), each drawn from stored values and
    // values that occur nowhere.
    let mut any_of = Vec::new();
    for _ in 0..rng.random_range(0..3) {
        let n = rng.random_range(0..4);
        let picked: Vec<&Event> = (0..n)
            .map(|_| &full[rng.random_range(0..full.len())])
            .collect();
        let pick = |_| picked.clone();
        let set = match rng.random_range(0..5) {
            0 => AnyOf::Path(
                pick(n)
                    .iter()
                    .map(|e| e.path.to_string())
                    .chain(["/nowhere".to_string()])
                    .collect(),
            ),
            1 => AnyOf::Country(pick(n).iter().map(|e| e.country).collect()),
            2 => AnyOf::Device(pick(n).iter().map(|e| e.device).collect()),
            3 => AnyOf::Browser(pick(n).iter().map(|e| e.browser.to_string()).collect()),
            _ => AnyOf::Referrer(
                pick(n)
                    .iter()
                    .filter_map(|e| referrer(e).map(str::to_string))
                    .chain(["absent.example".to_string()])
                    .collect(),
            ),
        };
        any_of.push(set);
    }
    Predicate {
        types,
        visitor,
        session,
        filters: f,
        any_of,
    }
}

/// A plain reading of one value set.
fn in_set(a: &AnyOf, e: &Event) -> bool {
    match a {
        AnyOf::Path(v) => v.iter().any(|p| p == e.path.as_str()),
        AnyOf::Country(v) => v.contains(&e.country),
        AnyOf::Device(v) => v.contains(&e.device),
        AnyOf::Browser(v) => v.iter().any(|b| b == e.browser.as_str()),
        AnyOf::Referrer(v) => referrer(e).is_some_and(|r| v.iter().any(|x| x == r)),
    }
}

fn accepts(p: &Predicate, e: &Event) -> bool {
    p.types
        .as_ref()
        .is_none_or(|t| t.contains(&e.kind.event_type()))
        && p.visitor.is_none_or(|v| v == e.visitor)
        && p.session.is_none_or(|v| v == e.session)
        && p.filters.accepts(e)
        && p.any_of.iter().all(|a| in_set(a, e))
}

fn referrer(e: &Event) -> Option<&str> {
    match &e.kind {
        EventKind::PageView { referrer, .. } => Some(referrer.as_str()),
        _ => None,
    }
}

fn check(db: &Db, cases: usize, seed: u64) -> (u64, u64) {
    let d = db.domain("r.example").unwrap();
    let full = d.events(TimeRange::all()).unwrap();
    assert!(full.len() > 500);
    let reader = d.reader(TimeRange::all()).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut skipped, mut read) = (0, 0);
    for case in 0..cases {
        let cols = random_columns(&mut rng);
        let pred = random_predicate(&mut rng, &full);
        let want: Vec<&Event> = full.iter().filter(|e| accepts(&pred, e)).collect();
        let mut got = Vec::new();
        let stats = reader
            .scan(cols, &pred, |e| {
                got.push(e.clone());
                ControlFlow::Continue(())
            })
            .unwrap();
        skipped += stats.blocks_skipped;
        read += stats.blocks_read;
        let what = format!("case {case}: {cols:?} {pred:?}");
        assert_eq!(got.len(), want.len(), "{what}");
        assert_eq!(stats.events, want.len() as u64, "{what}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.ts, w.ts, "{what}");
            assert_eq!(g.kind.event_type(), w.kind.event_type(), "{what}");
            if cols.contains(Columns::VISITOR) {
                assert_eq!(g.visitor, w.visitor, "{what}");
            }
            if cols.contains(Columns::SESSION) {
                assert_eq!(g.session, w.session, "{what}");
            }
            if cols.contains(Columns::COUNTRY) {
                assert_eq!(g.country, w.country, "{what}");
            }
            if cols.contains(Columns::DEVICE) {
                assert_eq!(g.device, w.device, "{what}");
            }
            if cols.contains(Columns::BROWSER) {
                assert_eq!(g.browser, w.browser, "{what}");
            }
            if cols.contains(Columns::PATH) {
                assert_eq!(g.path, w.path, "{what}");
            }
            if cols.contains(Columns::REFERRER) {
                assert_eq!(referrer(g), referrer(w), "{what}");
            }
            if cols.contains(Columns::DETAIL) {
                assert_eq!(*g, **w, "{what}");
            }
        }
        // Early stop: the first k of the same answer.
        let k = rng.random_range(0..=want.len().min(20));
        let mut first = Vec::new();
        reader
            .scan(cols, &pred, |e| {
                if first.len() == k {
                    return ControlFlow::Break(());
                }
                first.push(e.ts);
                ControlFlow::Continue(())
            })
            .unwrap();
        let want_first: Vec<_> = want.iter().take(k).map(|e| e.ts).collect();
        assert_eq!(first, want_first, "{what}: limit {k}");
    }
    (skipped, read)
}

#[test]
fn projected_scans_equal_full_scans_and_skipping_never_loses_a_match() {
    let env = Env::new();
    let db = load(&env);
    let (skipped, read) = check(&db, 300, 11);
    assert!(skipped > 0 && read > 0, "skipped {skipped}, read {read}");
    // A predicate on a page in one block of 97: most blocks are skipped.
    let d = db.domain("r.example").unwrap();
    let reader = d.reader(TimeRange::all()).unwrap();
    let pred = Predicate {
        filters: Filters {
            page: Some("/rare".into()),
            ..Filters::default()
        },
        ..Predicate::default()
    };
    let stats = reader
        .scan(Columns::PATH, &pred, |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(stats.events, 10);
    assert!(stats.blocks_skipped > stats.blocks_read * 5, "{stats:?}");
}

#[test]
fn erased_visitors_stay_hidden_in_every_projection() {
    let env = Env::new();
    let db = load(&env);
    let d = db.domain("r.example").unwrap();
    for c in ["c1", "c2", "c3"] {
        d.erase_visitor(&VisitorRef::ClientId(c.into())).unwrap();
    }
    // Pending purge: hidden by the tombstones; then purged.
    check(&db, 100, 12);
    db.compact_now().unwrap();
    check(&db, 100, 13);
    let gone: Vec<_> = ["c1", "c2", "c3"]
        .iter()
        .map(|c| d.visitor_id(&VisitorRef::ClientId((*c).into())))
        .collect();
    let reader = d.reader(TimeRange::all()).unwrap();
    reader
        .scan(Columns::VISITOR, &Predicate::all(), |e| {
            assert!(!gone.contains(&e.visitor));
            ControlFlow::Continue(())
        })
        .unwrap();
}

/// The event a scan of `cols` hands on for `e`, as the Reader documents it:
/// what was not asked for is empty (the type and time always hold).
fn project(e: &Event, cols: Columns) -> Event {
    if cols.contains(Columns::DETAIL) {
        return e.clone();
    }
    let keep = |c: Columns, t: &Text| {
        if cols.contains(c) {
            t.clone()
        } else {
            Text::empty()
        }
    };
    let e0 = Text::empty;
    let kind = match &e.kind {
        EventKind::PageView { referrer, .. } => EventKind::PageView {
            referrer: keep(Columns::REFERRER, referrer),
            utm: e0(),
        },
        EventKind::Click { x, y, target } if cols.contains(Columns::CLICK) => EventKind::Click {
            x: *x,
            y: *y,
            target: target.clone(),
        },
        EventKind::Click { .. } => EventKind::Click {
            x: 0,
            y: 0,
            target: e0(),
        },
        EventKind::Scroll { .. } => EventKind::Scroll { depth: 0 },
        EventKind::FormView { form } if cols.contains(Columns::FORM) => {
            EventKind::FormView { form: form.clone() }
        }
        EventKind::FieldFocus { form, field } if cols.contains(Columns::FORM) => {
            EventKind::FieldFocus {
                form: form.clone(),
                field: field.clone(),
            }
        }
        EventKind::Keystroke { form, field, key } if cols.contains(Columns::FORM) => {
            EventKind::Keystroke {
                form: form.clone(),
                field: field.clone(),
                key: *key,
            }
        }
        EventKind::FieldBlur { form, field } if cols.contains(Columns::FORM) => {
            EventKind::FieldBlur {
                form: form.clone(),
                field: field.clone(),
            }
        }
        EventKind::FormSubmit { form, .. } if cols.contains(Columns::FORM) => {
            EventKind::FormSubmit {
                form: form.clone(),
                fields: Vec::new(),
            }
        }
        EventKind::FormView { .. } => EventKind::FormView { form: e0() },
        EventKind::FieldFocus { .. } => EventKind::FieldFocus {
            form: e0(),
            field: e0(),
        },
        EventKind::Keystroke { .. } => EventKind::Keystroke {
            form: e0(),
            field: e0(),
            key: KeyKind::Character,
        },
        EventKind::FieldBlur { .. } => EventKind::FieldBlur {
            form: e0(),
            field: e0(),
        },
        EventKind::FormSubmit { .. } => EventKind::FormSubmit {
            form: e0(),
            fields: Vec::new(),
        },
        EventKind::Custom { .. } => EventKind::Custom {
            name: e0(),
            props: Vec::new(),
        },
    };
    Event {
        ts: e.ts,
        visitor: if cols.contains(Columns::VISITOR) {
            e.visitor
        } else {
            VisitorId(0)
        },
        session: if cols.contains(Columns::SESSION) {
            e.session
        } else {
            SessionId(0)
        },
        country: if cols.contains(Columns::COUNTRY) {
            e.country
        } else {
            Country::default()
        },
        device: if cols.contains(Columns::DEVICE) {
            e.device
        } else {
            Device::default()
        },
        browser: keep(Columns::BROWSER, &e.browser),
        path: keep(Columns::PATH, &e.path),
        kind,
    }
}

/// Every projection (and predicate) a query of the engine scans with gives
/// exactly the events of a full scan filtered plainly, with the columns it
/// did not ask for empty: roll-ups under each dashboard filter, counts,
/// sessions, replay, heatmap, form analytics, submissions and export.
#[test]
fn every_projection_the_query_api_uses_equals_the_full_scan() {
    use pledgedb::query::forms::{FORM_COLUMNS, FORM_TYPES, SUBMISSION_COLUMNS};
    use pledgedb::query::replay::{HEATMAP_COLUMNS, REPLAY_COLUMNS, SESSION_COLUMNS};
    let env = Env::new();
    let db = load(&env);
    let d = db.domain("r.example").unwrap();
    let full = d.events(TimeRange::all()).unwrap();
    let some = |i: usize| &full[(i * 131) % full.len()];
    let with = |f: Filters| Predicate {
        filters: f,
        ..Predicate::default()
    };
    let mut cases: Vec<(&str, Columns, Predicate)> = vec![
        ("rollup", Columns::ROLLUP, Predicate::all()),
        ("count", Columns::NONE, Predicate::all()),
        ("count_by_country", Columns::COUNTRY, Predicate::all()),
        ("count_by_path", Columns::PATH, Predicate::all()),
        ("sessions", SESSION_COLUMNS, Predicate::all()),
        (
            "forms",
            FORM_COLUMNS,
            Predicate {
                types: Some(FORM_TYPES.to_vec()),
                ..Predicate::default()
            },
        ),
        (
            "submissions",
            SUBMISSION_COLUMNS,
            Predicate {
                types: Some(vec![EventType::FormSubmit]),
                ..Predicate::default()
            },
        ),
    ];
    for i in 0..4 {
        let e = some(i);
        for f in [
            Filters {
                country: Some(e.country),
                ..Filters::default()
            },
            Filters {
                device: Some(e.device),
                ..Filters::default()
            },
            Filters {
                browser: Some(e.browser.to_string()),
                ..Filters::default()
            },
            Filters {
                page: Some(e.path.to_string()),
                ..Filters::default()
            },
            Filters {
                referrer: Some(
                    referrer(e)
                        .filter(|r| !r.is_empty())
                        .unwrap_or("(direct)")
                        .to_string(),
                ),
                ..Filters::default()
            },
        ] {
            cases.push(("rollup, filtered", Columns::ROLLUP, with(f)));
        }
        cases.push((
            "replay",
            REPLAY_COLUMNS,
            Predicate {
                session: Some(e.session),
                ..Predicate::default()
            },
        ));
        cases.push((
            "heatmap",
            HEATMAP_COLUMNS,
            Predicate {
                types: Some(vec![EventType::Click]),
                any_of: vec![AnyOf::Path(vec![e.path.to_string()])],
                ..Predicate::default()
            },
        ));
        cases.push((
            "export",
            Columns::ALL,
            Predicate {
                visitor: Some(e.visitor),
                ..Predicate::default()
            },
        ));
    }
    let reader = d.reader(TimeRange::all()).unwrap();
    for (name, cols, pred) in cases {
        let want: Vec<Event> = full
            .iter()
            .filter(|e| accepts(&pred, e))
            .map(|e| project(e, cols))
            .collect();
        // (This data has no form submit: that case checks that none
        // appears.)
        assert!(
            !want.is_empty() || name == "submissions",
            "{name}: {pred:?} matches nothing"
        );
        let mut got = Vec::new();
        reader
            .scan(cols, &pred, |e| {
                got.push(e.clone());
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(got, want, "{name}: {cols:?} {pred:?}");
        // The batch scans hand on the same rows, sequentially and spread
        // over the cores, and a batch's column accessors read what the
        // events hold.
        let rows = |b: &Batch| -> Vec<Event> {
            b.rows()
                .iter()
                .map(|&r| {
                    let e = b.event(r).into_owned();
                    assert_eq!(b.event_type(r), e.kind.event_type());
                    if cols.contains(Columns::VISITOR) {
                        assert_eq!(b.visitor(r), e.visitor);
                    }
                    if cols.contains(Columns::SESSION) {
                        assert_eq!(b.session(r), e.session);
                    }
                    if cols.contains(Columns::COUNTRY) {
                        assert_eq!(b.country(r), e.country);
                    }
                    if cols.contains(Columns::DEVICE) {
                        assert_eq!(b.device(r), e.device);
                    }
                    if cols.contains(Columns::PATH) {
                        assert_eq!(b.path(r), e.path.as_str());
                        assert_eq!(b.path_dict()[b.path_id(r) as usize], e.path);
                    }
                    if cols.contains(Columns::BROWSER) {
                        assert_eq!(b.browser(r), e.browser.as_str());
                    }
                    if cols.contains(Columns::REFERRER) {
                        assert_eq!(b.referrer(r), referrer(&e));
                    }
                    if cols.contains(Columns::CLICK) {
                        let want = match &e.kind {
                            EventKind::Click { x, y, target } => Some((*x, *y, target)),
                            _ => None,
                        };
                        assert_eq!(b.click(r), want);
                    }
                    e
                })
                .collect()
        };
        let mut batched = Vec::new();
        let stats = reader
            .scan_batches(cols | Columns::TIME | Columns::TYPE, &pred, |b| {
                batched.extend(rows(b));
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(batched, want, "{name}: batches");
        assert_eq!(stats.events, want.len() as u64, "{name}: stats");
        let (days, stats) = reader
            .fold(
                cols | Columns::TIME | Columns::TYPE,
                &pred,
                Vec::new,
                |acc, b| {
                    acc.extend(rows(b));
                },
            )
            .unwrap();
        assert_eq!(days.len(), reader.segments(), "{name}: one part a day");
        assert_eq!(days.concat(), want, "{name}: fold");
        assert_eq!(stats.events, want.len() as u64, "{name}: fold stats");
    }
}

/// A Reader asks the tombstones when it scans, not when it was made: an
/// erasure between the two hides the visitor, in every projection.
#[test]
fn a_reader_made_before_an_erasure_hides_it() {
    let env = Env::new();
    let db = load(&env);
    let d = db.domain("r.example").unwrap();
    let gone = d.visitor_id(&VisitorRef::ClientId("c1".into()));
    let reader = d.reader(TimeRange::all()).unwrap();
    let mut before = 0;
    reader
        .scan(Columns::NONE, &Predicate::all(), |_| {
            before += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    d.erase_visitor(&VisitorRef::ClientId("c1".into())).unwrap();
    for cols in [Columns::NONE, Columns::PATH, Columns::VISITOR, Columns::ALL] {
        let mut after = 0;
        reader
            .scan(cols, &Predicate::all(), |e| {
                assert_ne!(e.visitor, gone);
                after += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        assert!(after < before, "{cols:?}: {after} of {before}");
        let pred = Predicate {
            visitor: Some(gone),
            ..Predicate::default()
        };
        let stats = reader
            .scan(cols, &pred, |_| ControlFlow::Continue(()))
            .unwrap();
        assert_eq!(stats.events, 0);
    }
}

/// A Reader made before its domain was erased whole shows nothing more,
/// though it still holds the open (now unlinked) files: every scan fails
/// with "domain removed", in every projection and predicate.
#[test]
fn a_reader_of_an_erased_domain_reads_nothing() {
    let env = Env::new();
    let db = load(&env);
    let d = db.domain("r.example").unwrap();
    let readers = [
        d.reader(TimeRange::all()).unwrap(),
        d.reader(TimeRange::new(
            start_time(),
            start_time().plus_millis(60_000),
        ))
        .unwrap(),
    ];
    assert!(readers[0].segments() > 0);
    assert!(db.erase_domain("r.example").unwrap());
    for reader in &readers {
        for cols in [Columns::NONE, Columns::VISITOR, Columns::ALL] {
            for pred in [
                Predicate::all(),
                Predicate {
                    types: Some(vec![EventType::PageView]),
                    ..Predicate::default()
                },
            ] {
                let mut seen = 0;
                let r = reader.scan(cols, &pred, |_| {
                    seen += 1;
                    ControlFlow::Continue(())
                });
                assert!(
                    matches!(
                        r,
                        Err(pledgedb::ReadError::Storage(
                            pledgedb::StorageError::DomainRemoved
                        ))
                    ),
                    "{r:?}"
                );
                assert_eq!(seen, 0);
            }
        }
    }
}

/// A session predicate (a replay) skips the blocks that do not hold the
/// session, and loses none of its events.
#[test]
fn a_session_predicate_skips_blocks_without_the_session() {
    let env = Env::new();
    let db = load(&env);
    let d = db.domain("r.example").unwrap();
    let full = d.events(TimeRange::all()).unwrap();
    let session = full[full.len() / 2].session;
    let want: Vec<Event> = full
        .iter()
        .filter(|e| e.session == session)
        .cloned()
        .collect();
    let pred = Predicate {
        session: Some(session),
        ..Predicate::default()
    };
    let mut got = Vec::new();
    let stats = d
        .reader(TimeRange::all())
        .unwrap()
        .scan(Columns::ALL, &pred, |e| {
            got.push(e.clone());
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(got, want);
    assert!(stats.blocks_skipped > stats.blocks_read, "{stats:?}");
}
