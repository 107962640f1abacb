//! Regression: the query API computed with tracker-supplied numbers in
//! 32 bits. A click at `x = i32::MIN` with `cell_px = 3` overflowed in the
//! heatmap (a panic in debug builds, a wrong cell in release); a day range
//! from `Day(i32::MIN)` to `Day(i32::MAX)` overflowed the range check, and
//! `DayRange::last_n(day, u32::MAX)` wrapped. Every cell must now hold
//! exactly its clicks, and impossible ranges are typed errors.

mod common;

use common::{Env, start_time};
use pledgedb::{Day, DayRange, Dimension, Hit, HitKind, Query};

#[test]
fn heatmap_cells_hold_every_click_at_any_coordinate() {
    let env = Env::new();
    let db = env.open();
    let coords = [
        i32::MIN,
        i32::MIN + 1,
        -1_000_000_007,
        -3,
        -1,
        0,
        1,
        2,
        1_000_000_007,
        i32::MAX - 1,
        i32::MAX,
    ];
    let mut n = 0;
    for &x in &coords {
        for &y in &coords {
            let _ = db
                .ingest(
                    Hit::new(
                        "a.example",
                        "/p",
                        HitKind::Click {
                            x,
                            y,
                            target: "#b".into(),
                        },
                    )
                    .client_id("c")
                    .at(start_time()),
                )
                .unwrap();
            n += 1;
        }
    }
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    let days = DayRange::last_n(start_time().day(), 1);
    for cell in [1u32, 2, 3, 7, 64, 9_999, 10_000] {
        let cells = d.heatmap(days, "/p", cell).unwrap();
        let total: u64 = cells.iter().map(|c| c.clicks).sum();
        assert_eq!(total, n, "cell {cell}");
        for &x in &coords {
            for &y in &coords {
                let hit = cells.iter().find(|c| {
                    let (x, y) = (i64::from(x), i64::from(y));
                    c.x <= x && x < c.x + i64::from(cell) && c.y <= y && y < c.y + i64::from(cell)
                });
                assert!(hit.is_some(), "click ({x}, {y}) in no cell of {cell} px");
            }
        }
    }
    assert!(d.heatmap(days, "/p", 0).is_err());
    assert!(d.heatmap(days, "/p", u32::MAX).is_err());
}

#[test]
fn extreme_day_ranges_are_typed_errors_not_panics() {
    let env = Env::new();
    let db = env.open();
    let _ = db
        .ingest(
            Hit::page_view("a.example", "/")
                .client_id("c")
                .at(start_time()),
        )
        .unwrap();
    db.flush().unwrap();
    let d = db.domain("a.example").unwrap();
    for days in [
        DayRange::new(Day(i32::MIN), Day(i32::MAX)),
        DayRange::new(Day(i32::MAX), Day(i32::MIN)),
        DayRange::last_n(start_time().day(), u32::MAX),
    ] {
        let q = Query::days(days);
        assert!(d.metrics(&q).is_err(), "{days:?}");
        assert!(d.timeseries(&q).is_err(), "{days:?}");
        assert!(d.breakdown(&q, Dimension::Page, 10).is_err(), "{days:?}");
    }
    let week = DayRange::last_n(start_time().day(), 7);
    assert_eq!(week.days().count(), 7);
    assert_eq!(d.metrics(&Query::days(week)).unwrap().pageviews, 1);
    let one = DayRange::last_n(Day(i32::MIN), 1);
    assert_eq!(one.first, one.last);
}
