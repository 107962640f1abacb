//! NDJSON hits and Plausible payloads imported into a fresh database.

mod common;

use common::{assert_audit_clean, assert_no_ip, countries, gzip, open_db};
use pledgedb_core::{
    ConsentPolicy, EventKind, EventType, KeyKind, PropValue, TimeRange, Timestamp, WithoutConsent,
};
use pledgedb_import::{Format, ImportOptions, ImportSummary, import};
use std::collections::BTreeMap;

fn now() -> Timestamp {
    Timestamp::from_ymd_hms(2026, 3, 5, 12, 0, 0)
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// One NDJSON line for `a.example` with the given extra fields.
fn hit(fields: &str) -> String {
    format!(
        r#"{{"domain":"a.example","url":"https://a.example/p?utm_source=n","ts":"2026-03-05T10:00:00Z","ip":"192.0.2.10","user_agent":"{UA}","client_id":"c1",{fields}}}"#
    )
}

fn types(db: &pledgedb_core::Db, domain: &str) -> BTreeMap<EventType, u64> {
    let mut m = BTreeMap::new();
    for e in db.domain(domain).unwrap().events(TimeRange::all()).unwrap() {
        *m.entry(e.kind.event_type()).or_default() += 1;
    }
    m
}

fn check_private(s: &ImportSummary) {
    assert_no_ip(&s.to_string());
    assert_no_ip(&serde_json::to_string(s).unwrap());
}

#[test]
fn ndjson_good_and_bad_lines() {
    let lines = [
        /* 1 */ hit(r#""type":"page_view","referrer":"https://www.google.com/""#),
        /* 2 */ hit(r#""type":"click","x":10,"y":20,"target":"button.buy""#),
        /* 3 */ String::new(),
        /* 4 */ r#"{"domain":"a.example","type":"page_view","ip":"192.0.2.1"}"#.to_string(),
        /* 5 */ hit(r#""type":"scroll","depth":80"#),
        /* 6 */ hit(r#""type":"keystroke","form":"signup","field":"email","key":"a""#),
        /* 7 */ hit(r#""type":"keystroke","form":"signup","field":"email","key":"delete""#),
        /* 8 */ hit(r#""type":"form_view","form":"signup""#),
        /* 9 */ hit(r#""type":"field_focus","form":"signup","field":"email""#),
        /* 10 */ hit(r#""type":"field_blur","form":"signup","field":"email""#),
        /* 11 */
        hit(
            r#""type":"form_submit","form":"signup","fields":[{"name":"email","value":"x@example.com","input_type":"email"},{"name":"password","value":"hunter2","input_type":"password"}]"#,
        ),
        /* 12 */ hit(r#""type":"custom","name":"Signup","props":{"plan":"pro","seats":3}"#),
        /* 13 */ r#"{"domain":"a.example","ip":"192.0.2.1""#.to_string(),
        /* 14 */ hit(r#""type":"page_view","opt_out_token":"tok-out""#),
        /* 15 */ hit(r#""type":"page_view","dnt":true"#),
        /* 16 */ hit(r#""type":"page_view","gpc":1"#),
        /* 17 */
        r#"{"domain":"strict.example","type":"page_view","url":"/","ts":"2026-03-05T10:00:00Z","consent":"unknown","client_id":"c2"}"#.to_string(),
        /* 18 */
        r#"{"domain":"strict.example","type":"page_view","url":"/","ts":"2026-03-05T10:00:00Z","consent":"granted","client_id":"c2","ip":"2001:db8:2::9"}"#.to_string(),
        /* 19 */ hit(r#""type":"page_view","consent":"denied""#),
        /* 20 */
        r#"{"domain":"a.example","type":"page_view","url":"/old","ts":"2025-10-01T00:00:00Z"}"#.to_string(),
        /* 21 */ hit(r#""type":"scroll","depth":150"#),
        /* 22 */ r#"{"domain":"Bad_Domain","type":"page_view","url":"/"}"#.to_string(),
        /* 23 */ hit(r#""type":"keystroke","form":"f","field":"e","key":"Enter""#),
        /* 24 */ r#"{"domain":"a.example","type":"page_view","url":"/","ts":"yesterday"}"#.to_string(),
        /* 25 */ r#"{"domain":"a.example","type":"page_view","url":"/","ip":"192.0.2.300"}"#.to_string(),
        /* 26 */ "hello 192.0.2.1".to_string(),
        /* 27 */ r#"{"domain":"a.example","type":"pageview","url":"/"}"#.to_string(),
        /* 28 */
        r#"{"domain":"a.example","type":"page_view","url":"/anon","ts":1772704800000}"#.to_string(),
    ];
    let text = lines.join("\n");
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now());
    db.opt_out("tok-out").unwrap();
    db.create_domain("strict.example")
        .unwrap()
        .set_consent_policy(ConsentPolicy {
            require_consent: true,
            without_consent: WithoutConsent::Drop,
            ..ConsentPolicy::default()
        })
        .unwrap();
    let s = import(&db, text.as_bytes(), &ImportOptions::default(), |_| {}).unwrap();
    assert_eq!(s.format, Some(Format::Ndjson));
    assert_eq!(s.lines, 28);
    assert_eq!(s.blank, 1);
    assert_eq!(s.malformed.lines(), vec![4, 6, 13, 23, 24, 25, 26, 27]);
    let reasons: Vec<&str> = s
        .malformed
        .first
        .iter()
        .map(|i| i.reason.as_str())
        .collect();
    assert_eq!(reasons[0], "missing field `url`");
    assert!(reasons[1].starts_with("invalid `key`: expected character, delete or other"));
    assert_eq!(reasons[2], "incomplete JSON object");
    assert!(reasons[3].starts_with("invalid `key`"));
    assert!(reasons[4].starts_with("invalid `ts`"));
    assert!(reasons[5].starts_with("invalid `ip`"));
    assert_eq!(reasons[6], "not valid JSON (column 1)");
    assert!(reasons[7].starts_with("unknown `type`"));
    assert_eq!(s.rejected.lines(), vec![21, 22]);
    assert!(s.rejected.first[0].reason.contains("`depth`"));
    assert!(s.rejected.first[1].reason.contains("`domain`"));
    assert_eq!(s.hits, 28 - 1 - 8);
    assert_eq!(s.dropped_opt_out, 1);
    assert_eq!(s.dropped_dnt, 1);
    assert_eq!(s.dropped_gpc, 1);
    assert_eq!(s.dropped_no_consent, 1);
    // The hit past the raw retention is counted in the aggregate file now,
    // rather than dropped as expired.
    assert_eq!(s.dropped_expired, 0);
    assert_eq!(s.aggregated + s.aggregated_anonymous, 1);
    // Lines 1, 2, 5, 7-12 and 18 with a visitor; 19 (denied) and 28 (no
    // IP, no client id) anonymous.
    assert_eq!(s.ingested, 10);
    assert_eq!(s.ingested_anonymous, 2);
    assert!(s.flushed);
    check_private(&s);

    let got = types(&db, "a.example");
    let want: BTreeMap<EventType, u64> = [
        (EventType::PageView, 3),
        (EventType::Click, 1),
        (EventType::Scroll, 1),
        (EventType::Keystroke, 1),
        (EventType::FormView, 1),
        (EventType::FieldFocus, 1),
        (EventType::FieldBlur, 1),
        (EventType::FormSubmit, 1),
        (EventType::Custom, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    let events = db
        .domain("a.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    for e in &events {
        match &e.kind {
            EventKind::Keystroke { key, .. } => assert_eq!(*key, KeyKind::Delete),
            EventKind::Custom { name, props } => {
                assert_eq!(name.as_str(), "Signup");
                assert_eq!(props.len(), 2);
                assert_eq!(props[1].1, PropValue::Int(3));
            }
            _ => {}
        }
    }
    assert!(events.iter().any(|e| e.ts == Timestamp(1_772_704_800_000)));
    assert_eq!(
        countries(&db, "a.example"),
        [("DE".to_string(), 10), ("ZZ".to_string(), 1)]
            .into_iter()
            .collect()
    );
    assert_eq!(
        countries(&db, "strict.example"),
        [("GB".to_string(), 1)].into_iter().collect()
    );
    assert_audit_clean(&db);

    // The same lines, gzip-compressed: detected and counted the same (into
    // a second database, since a second import would count again).
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = open_db(dir2.path(), now());
    db2.opt_out("tok-out").unwrap();
    db2.create_domain("strict.example")
        .unwrap()
        .set_consent_policy(ConsentPolicy {
            require_consent: true,
            without_consent: WithoutConsent::Drop,
            ..ConsentPolicy::default()
        })
        .unwrap();
    let s2 = import(
        &db2,
        &gzip(text.as_bytes())[..],
        &ImportOptions::default(),
        |_| {},
    )
    .unwrap();
    assert!(s2.gzip);
    assert_eq!(
        ImportSummary {
            gzip: false,
            bytes: 0,
            ..s2
        },
        ImportSummary {
            bytes: 0,
            ..s.clone()
        }
    );

    // Importing again is refused now: the domain's import records know the
    // input, nothing is stored twice...
    let refused = import(&db, text.as_bytes(), &ImportOptions::default(), |_| {}).unwrap();
    assert!(matches!(
        refused.repeat,
        pledgedb_import::Repeat::Refused { .. }
    ));
    assert_eq!(refused.stored(), 0);
    assert!(refused.nothing_stored().unwrap().contains("--again"));
    let count = |db: &pledgedb_core::Db| {
        db.domain("a.example")
            .unwrap()
            .count(TimeRange::all())
            .unwrap()
    };
    assert_eq!(count(&db), events.len() as u64);
    // ...unless asked to: then everything is counted twice.
    let opts = ImportOptions {
        again: true,
        ..ImportOptions::default()
    };
    let again = import(&db, text.as_bytes(), &opts, |_| {}).unwrap();
    assert_eq!(again.repeat, pledgedb_import::Repeat::Again);
    assert_eq!(again.ingested, s.ingested);
    assert_eq!(count(&db), 2 * events.len() as u64);
}

#[test]
fn plausible_payloads() {
    let lines = [
        /* 1 */
        format!(
            r#"{{"name":"pageview","url":"https://x.example/p?utm_source=a","domain":"x.example","referrer":"https://www.google.com/","ip":"203.0.113.5","user_agent":"{UA}","timestamp":"2026-03-05T09:00:00Z"}}"#
        ),
        /* 2 */
        format!(
            r#"{{"name":"Signup","url":"https://x.example/join","domain":"x.example","props":{{"plan":"pro","trial":true}},"ip":"198.51.100.5","user_agent":"{UA}","timestamp":"2026-03-05T09:01:00Z"}}"#
        ),
        /* 3 */
        format!(
            r#"{{"n":"pageview","u":"https://x.example/","d":"x.example","headers":{{"User-Agent":"{UA}","X-Forwarded-For":"2001:db8:1::5, 10.0.0.1","DNT":"1"}},"ts":1772701200000}}"#
        ),
        /* 4 */
        format!(
            r#"{{"n":"pageview","u":"https://x.example/","d":"x.example","headers":{{"User-Agent":"{UA}","Sec-GPC":"1"}},"remote_ip":"192.0.2.4"}}"#
        ),
        /* 5 */
        format!(
            r#"{{"name":"pageview","url":"https://x.example/","domain":"x.example","ip":"192.0.2.5","user_agent":"{GOOGLEBOT}"}}"#
        ),
        /* 6 */
        format!(
            r#"{{"name":"pageview","url":"https://x.example/both","domain":"x.example,y.example","x_forwarded_for":"2001:db8:1::7","user_agent":"{UA}","timestamp":"2026-03-05T09:02:00Z"}}"#
        ),
        /* 7 */ r#"{"name":"pageview","domain":"x.example","ip":"192.0.2.6"}"#.to_string(),
        /* 8 */
        r#"{"name":"Download","url":"/f","domain":"x.example","m":"{\"file\":\"a.zip\"}","timestamp":"2026-03-05T09:03:00Z"}"#.to_string(),
    ];
    let text = lines.join("\n") + "\n";
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now());
    let s = import(&db, text.as_bytes(), &ImportOptions::default(), |_| {}).unwrap();
    assert_eq!(s.format, Some(Format::Plausible));
    assert_eq!(s.lines, 8);
    assert_eq!(s.filtered_bots, 1);
    assert_eq!(s.malformed.lines(), vec![7]);
    assert_eq!(s.malformed.first[0].reason, "missing field `url`");
    assert_eq!(s.hit_lines, 6);
    assert_eq!(s.hits, 7);
    assert_eq!(s.dropped_dnt, 1);
    assert_eq!(s.dropped_gpc, 1);
    // 1, 2 and 6 (twice) with a cookieless visitor id; 8 has no IP.
    assert_eq!(s.ingested, 4);
    assert_eq!(s.ingested_anonymous, 1);
    assert_eq!(s.rejected.total, 0);
    check_private(&s);

    let x = db
        .domain("x.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    assert_eq!(x.len(), 4);
    let mut customs: Vec<(String, Vec<(String, PropValue)>)> = x
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Custom { name, props } => Some((
                name.as_str().to_string(),
                props
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    customs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(customs.len(), 2);
    assert_eq!(customs[0].0, "Download");
    assert_eq!(customs[1].0, "Signup");
    assert_eq!(
        customs[1].1[1],
        ("trial".to_string(), PropValue::Bool(true))
    );
    let views: Vec<_> = x
        .iter()
        .filter(|e| e.kind.event_type() == EventType::PageView)
        .collect();
    assert_eq!(views.len(), 2);
    assert!(views.iter().any(|e| matches!(
        &e.kind,
        EventKind::PageView { referrer, utm } if referrer.as_str() == "google.com" && utm.as_str() == "utm_source=a"
    )));
    assert_eq!(
        countries(&db, "x.example"),
        [
            ("FR".to_string(), 1),
            ("JP".to_string(), 1),
            ("US".to_string(), 1),
            ("ZZ".to_string(), 1)
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(
        countries(&db, "y.example"),
        [("JP".to_string(), 1)].into_iter().collect()
    );
    assert_audit_clean(&db);
}

#[test]
fn explicit_format_overrides_detection() {
    // Plausible-shaped lines read as NDJSON lack `type`.
    let line = r#"{"name":"pageview","url":"/","domain":"x.example"}"#;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now());
    let opts = ImportOptions::default().with_format(Format::Ndjson);
    let s = import(&db, line.as_bytes(), &opts, |_| {}).unwrap();
    assert_eq!(s.format, Some(Format::Ndjson));
    assert_eq!(s.malformed.first[0].reason, "missing field `type`");
    // A default domain fills in a missing one.
    let opts = ImportOptions::default().with_default_domain("d.example");
    let s = import(&db, &br#"{"name":"pageview","url":"/"}"#[..], &opts, |_| {}).unwrap();
    assert_eq!(
        (s.format, s.ingested_anonymous),
        (Some(Format::Plausible), 1)
    );
    assert_eq!(db.domains(), vec!["d.example".to_string()]);
}
