//! Arbitrary bytes into every decoder of stored data that the public API
//! reaches: the block codec (`BlockView::parse`, each column accessor,
//! `decode_block`), the postcard records kept in segment and aggregate files
//! (`DayRollup` and its `Hll` sketches, decoded and then merged and
//! estimated as the query layer does), the names and ids read back from
//! disk or typed by operators (`Day::parse` of segment file names, visitor
//! and session ids, dimensions), and MaxMind country databases.
//!
//! None may panic. A block that decodes must re-encode to bytes that decode
//! to the same events, and encoding is a fixpoint from then on.
//!
//! Opening a whole data directory whose files come from the input is left
//! out: redb documents that a file corrupted outside redb may make it panic
//! on open, so such findings would be redb's, and one open costs
//! milliseconds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pledgedb_core::codec::{BlockView, decode_block, encode_block};
use pledgedb_core::query::{DayRollup, Dimension, Hll};
use pledgedb_core::{Country, Day, SessionId, VisitorId, VisitorRef, geo::GeoDb};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn block(data: &[u8]) {
    let decoded = decode_block(data);
    let Ok(view) = BlockView::parse(data) else {
        assert!(decoded.is_err(), "decode_block accepted what parse refused");
        return;
    };
    let _ = format!("{view:?}");
    let n = view.len();
    assert_eq!(view.is_empty(), n == 0);
    if !view.is_empty() {
        assert!(view.min_ts() <= view.max_ts());
    }
    if let Ok(ts) = view.timestamps() {
        assert_eq!(ts.len(), n);
        assert!(
            ts.iter()
                .all(|t| (view.min_ts()..=view.max_ts()).contains(t))
        );
    }
    if let Ok(v) = view.visitors() {
        assert!(v.len() <= n);
    }
    if let Ok(s) = view.sessions() {
        assert!(s.len() <= n);
    }
    for r in [
        view.countries().map(|c| c.len()),
        view.devices().map(|d| d.len()),
    ] {
        if let Ok(len) = r {
            assert_eq!(len, n);
        }
    }
    if let Ok(t) = view.types() {
        assert_eq!(t.len(), n);
    }
    for col in [view.browsers(), view.paths(), view.referrers(), view.utms()] {
        if let Ok(c) = col {
            for i in 0..c.len() {
                let _ = c.get(i);
            }
            assert_eq!(c.iter().count(), c.len());
        }
    }
    let events = view.events();
    assert_eq!(
        events.is_ok(),
        decoded.is_ok(),
        "events() and decode_block disagree"
    );
    let Ok(events) = events else { return };
    assert_eq!(events.len(), n);
    // Round trip: what decodes re-encodes to a block with the same events,
    // and the encoding is then a fixpoint.
    let mut first = Vec::new();
    encode_block(&events, &mut first);
    let again = decode_block(&first).expect("a re-encoded block decodes");
    assert_eq!(again.len(), events.len());
    for (a, b) in again.iter().zip(&events) {
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "round trip changed an event"
        );
    }
    let mut second = Vec::new();
    encode_block(&again, &mut second);
    assert_eq!(first, second, "encoding is not a fixpoint");
}

fn records(data: &[u8]) {
    if let Ok(mut r) = postcard::from_bytes::<DayRollup>(data) {
        // What the query layer does with roll-ups read from a file.
        let copy = r.clone();
        let _ = r.totals.visitors.estimate();
        for values in r.by.values() {
            for agg in values.values() {
                let _ = agg.visitors.estimate();
            }
        }
        let mut total = DayRollup::default();
        total.merge(&copy);
        r.merge(&copy);
        let _ = total.totals.visitors.estimate();
        let _ = r.totals.visitors.estimate();
    }
    if let Ok(mut h) = postcard::from_bytes::<Hll>(data) {
        let copy = h.clone();
        let _ = h.estimate();
        let _ = h.is_empty();
        h.merge(&copy);
        h.insert(0x9e37_79b9_7f4a_7c15);
        let _ = h.estimate();
        let mut fresh = Hll::new();
        fresh.merge(&copy);
        let _ = fresh.estimate();
    }
}

fn names(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Some(day) = Day::parse(&s) {
        // A segment file name read back from its day is the same name.
        assert_eq!(Day::parse(&day.to_string()), Some(day));
    }
    if let Some(v) = VisitorId::parse_hex(&s) {
        assert_eq!(VisitorId::parse_hex(&v.to_string()), Some(v));
    }
    if let Some(v) = SessionId::parse_hex(&s) {
        assert_eq!(SessionId::parse_hex(&v.to_string()), Some(v));
    }
    if let Some(d) = Dimension::parse(&s) {
        assert_eq!(d.as_str(), s);
    }
    let _ = VisitorRef::parse(&s);
    let _ = Country::from_code(&s).as_str().len();
}

fn geo(data: &[u8]) {
    let Ok(db) = GeoDb::from_bytes(data.to_vec()) else {
        return;
    };
    let _ = db.database_type();
    let _ = format!("{db:?}");
    for ip in [
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V4(Ipv4Addr::BROADCAST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped()),
    ] {
        let _ = db.country(ip);
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the decoder, so the corpus of each stays apart;
    // the block codec also sees the whole input.
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    block(data);
    match sel % 4 {
        0 => block(rest),
        1 => records(rest),
        2 => names(rest),
        _ => geo(rest),
    }
});
