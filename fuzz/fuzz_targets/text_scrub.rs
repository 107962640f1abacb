//! Arbitrary text through everything that turns untrusted strings into
//! stored ones (promise P1): the IP scrubber, `Text::new`, URL reduction,
//! referrer hosts, user-agent classes, and the audit's byte scanner.
//!
//! Properties: nothing panics; scrubbed text holds no address
//! (`contains_ip` is false) and scrubbing it again changes nothing;
//! `Text::new` is the scrubber; the audit never flags scrubbed text, and
//! flags only runs the scrubber would change.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pledgedb_core::Text;
use pledgedb_core::audit::scan_bytes;
use pledgedb_core::text::{contains_ip, redact_ips, reduce_url, referrer_host};
use pledgedb_core::ua::classify;

fuzz_target!(|data: &[u8]| {
    let _ = scan_bytes(data);
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let once = redact_ips(s);
    assert_eq!(
        contains_ip(s),
        once != s,
        "contains_ip disagrees with redact_ips"
    );
    assert!(!contains_ip(&once), "scrubbed text still holds an address");
    assert_eq!(redact_ips(&once), once, "scrubbing is not idempotent");
    assert_eq!(Text::new(s).as_str(), once, "Text::new is not the scrubber");
    // The audit is stricter than the scrubber (it ignores short IPv6 forms
    // that binary data spells by chance): whatever it flags, the scrubber
    // redacts, and nothing in scrubbed text is flagged.
    let printable = s.bytes().all(|b| (0x20..0x7f).contains(&b));
    if printable && !scan_bytes(data).is_empty() {
        assert!(contains_ip(s), "the audit flags what the scrubber keeps");
    }
    assert!(
        scan_bytes(once.as_bytes()).is_empty(),
        "the audit flags scrubbed text"
    );
    let url = reduce_url(s);
    assert!(url.path.starts_with('/') || !url.path.is_empty());
    let _ = Text::new(&url.path);
    let _ = Text::new(&url.utm);
    let host = referrer_host(s);
    assert!(host.len() <= s.len().max(253));
    let _ = classify(s);
});
