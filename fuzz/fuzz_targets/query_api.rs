//! The typed query API with arbitrary inputs: clicks, scrolls, form events
//! and page views with any coordinates, depths and timestamps inside the
//! accepted window, then every query (metrics, time series, breakdowns
//! with filters, heatmaps with any cell size, sessions, replays, form
//! analytics, submissions) over any day range.
//!
//! Properties: nothing panics; a heatmap's cells hold exactly the clicks of
//! its page; a time series has one row per day of an accepted range; a
//! breakdown never has more rows than asked for.
#![no_main]

#[path = "common/scratch.rs"]
mod scratch;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pledgedb_core::{
    Config, Country, Day, DayRange, Db, Device, Dimension, Filters, Hit, HitKind, KeyKind,
    ManualClock, Query, SessionId, Timestamp,
};
use std::sync::Arc;

#[derive(Arbitrary, Debug)]
enum Input {
    Click { x: i32, y: i32, page: u8 },
    Scroll { depth: u8 },
    View { page: u8, ms: u32 },
    Key { delete: bool },
}

#[derive(Arbitrary, Debug)]
struct Case {
    inputs: Vec<Input>,
    first: i32,
    len: i32,
    cell: u32,
    limit: u16,
    dim: u8,
    filter: u8,
    session: u64,
}

const PAGES: [&str; 3] = ["/", "/a", "/b"];

fuzz_target!(|case: Case| {
    let dir = scratch::scratch_dir();
    let start = Timestamp::from_ymd_hms(2026, 11, 2, 12, 0, 0);
    let mut cfg = Config::default().with_clock(Arc::new(ManualClock::new(start)));
    cfg.background_compaction = false;
    let db = Db::open(dir.path().join("data"), cfg).expect("open");
    let d = "q.example";
    let mut clicks = [0u64; 3];
    let mut hits = Vec::new();
    for (i, input) in case.inputs.iter().take(64).enumerate() {
        let at = start.plus_millis(-(i as i64) * 7_919);
        let (page, kind) = match *input {
            Input::Click { x, y, page } => {
                let p = usize::from(page) % PAGES.len();
                clicks[p] += 1;
                (p, HitKind::Click { x, y, target: "#t".into() })
            }
            Input::Scroll { depth } => (0, HitKind::Scroll { depth: depth % 101 }),
            Input::View { page, ms } => {
                let _ = ms;
                (usize::from(page) % PAGES.len(), HitKind::PageView { referrer: None })
            }
            Input::Key { delete } => (
                0,
                HitKind::Keystroke {
                    form: "f".into(),
                    field: "x".into(),
                    key: if delete { KeyKind::Delete } else { KeyKind::Character },
                },
            ),
        };
        hits.push(Hit::new(d, PAGES[page], kind).client_id(format!("c{}", i % 3)).at(at));
    }
    for r in db.ingest_batch(hits) {
        let _ = r.expect("valid hit");
    }
    db.flush().expect("flush");
    let Ok(domain) = db.domain(d) else { return };
    let first = Day(case.first);
    let last = first.plus(case.len);
    let days = DayRange::new(first, last);
    let mut filters = Filters::default();
    match case.filter % 4 {
        1 => filters.country = Some(Country::UNKNOWN),
        2 => filters.device = Some(Device::Unknown),
        3 => filters.page = Some("/a".into()),
        _ => {}
    }
    let q = Query::days(days).filtered(filters);
    let _ = domain.metrics(&q);
    if let Ok(series) = domain.timeseries(&q) {
        assert_eq!(series.len() as i64, i64::from(last.0) - i64::from(first.0) + 1);
    }
    let dim = Dimension::ALL[usize::from(case.dim) % Dimension::ALL.len()];
    if let Ok(rows) = domain.breakdown(&q, dim, usize::from(case.limit)) {
        assert!(rows.len() <= usize::from(case.limit));
    }
    let today = DayRange::last_n(start.day(), 2);
    for (p, page) in PAGES.iter().enumerate() {
        if let Ok(cells) = domain.heatmap(today, page, case.cell) {
            assert_eq!(cells.iter().map(|c| c.clicks).sum::<u64>(), clicks[p]);
        }
        let _ = domain.heatmap(days, page, case.cell);
    }
    let _ = domain.sessions(days, usize::from(case.limit));
    let _ = domain.replay(SessionId(case.session));
    let _ = domain.form_analytics(days, None);
    let _ = domain.submissions(days, Some("f"));
});
