//! One representation of ids, times and missing values: what
//! `.export-visitor` prints is what SQL shows (16 hex digits, RFC 3339 UTC
//! with milliseconds, null).

mod common;

use common::{Env, describe, stdout};
use serde_json::Value;

fn is_hex16(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_rfc3339_ms(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z'
}

#[test]
fn the_export_uses_the_representation_sql_shows() {
    let env = Env::new();
    env.load();
    let o = env.one_shot(&[".export-visitor alice"]);
    assert!(o.status.success(), "{}", describe(&o));
    let export: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(is_hex16(&export["visitor"]), "{export}");
    assert!(is_rfc3339_ms(&export["exported_at"]), "{export}");
    let events = export["events"].as_array().unwrap();
    assert!(!events.is_empty());

    let visitor = export["visitor"].as_str().unwrap();
    let o = env.one_shot(&[
        ".mode json",
        &format!(
            "SELECT ts, visitor, session, path, referrer, utm FROM pageviews \
             WHERE visitor = '{visitor}' ORDER BY ts"
        ),
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    let views: Vec<&Value> = events.iter().filter(|e| e["type"] == "page_view").collect();
    assert_eq!(views.len(), rows.len(), "{export}\n{rows:?}");
    let mut saw_null = false;
    for (e, r) in views.iter().zip(rows) {
        assert!(is_hex16(&e["visitor"]) && is_hex16(&e["session"]), "{e}");
        assert!(is_rfc3339_ms(&e["ts"]), "{e}");
        for k in ["ts", "visitor", "session", "path", "referrer", "utm"] {
            assert_eq!(e[k], r[k], "{k}: export {e} vs SQL {r}");
        }
        saw_null |= e["utm"].is_null() || e["referrer"].is_null();
    }
    assert!(
        saw_null,
        "the dataset has a page view without utm or referrer"
    );
    // No id or time is a bare number anywhere in the export.
    let text = stdout(&env.one_shot(&[".export-visitor alice"]));
    for k in [
        "\"visitor\": 1",
        "\"visitor\": 2",
        "\"ts\": 1",
        "\"session\": 1",
    ] {
        assert!(!text.contains(k), "{text}");
    }
}
