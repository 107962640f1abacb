//! Regression (found by the `block_decode` fuzz target): roll-up records
//! that decode fine make the query layer's arithmetic panic.
//!
//! Roll-ups are read back from segment and aggregate files with
//! `postcard::from_bytes::<DayRollup>` and then merged day by day
//! (`Domain::metrics`, `breakdown`) and estimated (`Hll::estimate`).
//! Decoding accepts any counter and any sketch, but:
//!
//! - `Agg::merge` adds the counters with `+=`, which panics on overflow in
//!   builds with overflow checks (debug, tests, fuzzing) and wraps silently
//!   in release: a record with a counter near `u64::MAX` (a corrupt or
//!   hostile file) makes `metrics` panic or report garbage;
//! - `Hll::estimate` computes `REGISTERS - entries.len()` for a sparse
//!   sketch, which underflows when a record holds more than 4,096 sparse
//!   entries (or entries for registers past 4,095).
//!
//! Inputs: `fuzz/regressions/block_decode/rollup-merge-overflow` and
//! `fuzz/regressions/block_decode/hll-sparse-over-4096-entries` (the first
//! byte picks the decoder; the rest is the postcard record). The values
//! below are what those records decode to, built through the public types.
//!
//! These tests fail until the engine is fixed (e.g. saturating counters and
//! a sketch validated on decode, or an estimate that clamps).

use pledgedb::query::{Agg, DayRollup, Hll};
use std::panic::{AssertUnwindSafe, catch_unwind};

#[test]
fn merging_roll_ups_with_huge_counters_does_not_panic() {
    let day = DayRollup {
        totals: Agg {
            pageviews: u64::MAX - 1,
            visits: u64::MAX,
            bounces: u64::MAX,
            duration_ms: u64::MAX,
            events: u64::MAX,
            visitors: Hll::new(),
        },
        ..DayRollup::default()
    };
    let copy = day.clone();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut total = DayRollup::default();
        total.merge(&day);
        total.merge(&copy);
        total.totals.pageviews
    }));
    assert!(r.is_ok(), "merging two decoded roll-ups panicked");
}

#[test]
fn estimating_an_oversized_sparse_sketch_does_not_panic() {
    let sketch = Hll::Sparse((0..5000u32).map(|i| (i << 8) | 1).collect());
    let r = catch_unwind(AssertUnwindSafe(|| sketch.estimate()));
    assert!(r.is_ok(), "estimating a decoded sketch panicked");
    let odd = Hll::Sparse(vec![(70_000 << 8) | 3; 4097]);
    let r = catch_unwind(AssertUnwindSafe(|| odd.estimate()));
    assert!(r.is_ok(), "estimating a decoded sketch panicked");
}
