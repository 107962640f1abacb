//! The tracker's size budget and what its source may never do.

use std::io::Write;

use pledgedb_server::collect::tracker::{CORE_JS, FULL_JS};

fn gzipped(s: &str) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(s.as_bytes()).unwrap();
    e.finish().unwrap().len()
}

#[test]
fn the_tracker_fits_its_size_budget() {
    let core = gzipped(CORE_JS);
    let full = gzipped(FULL_JS);
    assert!(
        core <= 1536,
        "pledge.js is {core} bytes gzipped; the budget is 1.5 KB"
    );
    assert!(
        full <= 4096,
        "pledge.full.js is {full} bytes gzipped; the budget is 4 KB"
    );
    assert!(FULL_JS.starts_with(CORE_JS));
}

#[test]
fn the_tracker_sets_no_cookie_and_reads_no_key_or_value_but_at_submit() {
    for js in [CORE_JS, FULL_JS] {
        assert!(!js.contains("document.cookie"), "the tracker is cookieless");
        assert!(js.contains("globalPrivacyControl") && js.contains("doNotTrack"));
        assert!(js.contains("sendBeacon") && js.contains("keepalive"));
    }
    // the key itself is read once, to classify it
    assert_eq!(FULL_JS.matches("e.key").count(), 1);
    // a field's value is read in one place: the submit handler
    assert_eq!(FULL_JS.matches(".value").count(), 1);
}
