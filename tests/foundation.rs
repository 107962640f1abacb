//! End-to-end tests of the engine foundation: partitions (P2), the privacy
//! gate (P3, P4), form data (P8), durability, and bad input.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Config, Consent, ConsentPolicy, Db, DomainError, DomainNameError, DropReason, FormField, Hit,
    HitField, HitKind, HitProblem, IngestError, Ingested, KeyKind, OpenError, TimeRange,
    VisitorRef, WithoutConsent,
};

fn pv(domain: &str, path: &str) -> Hit {
    Hit::page_view(domain, format!("https://{domain}{path}")).at(start_time())
}

#[test]
fn same_client_id_gets_unrelated_visitor_ids_on_two_domains() {
    let env = Env::new();
    let db = env.open();
    for d in ["a.example", "b.example"] {
        let _ = db.ingest(pv(d, "/").client_id("same-browser")).unwrap();
    }
    db.flush().unwrap();
    let a = db
        .domain("a.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    let b = db
        .domain("b.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_ne!(a[0].visitor, b[0].visitor);
    assert_ne!(a[0].session, b[0].session);
    // The handle of one domain finds nothing of the other.
    let da = db.domain("a.example").unwrap();
    let exported = da.export_visitor(&VisitorRef::Id(b[0].visitor)).unwrap();
    assert!(exported.events.is_empty());
    assert_eq!(
        db.domains(),
        vec!["a.example".to_string(), "b.example".to_string()]
    );
}

#[test]
fn no_read_returns_another_domains_events() {
    let env = Env::new();
    let db = env.open();
    for i in 0..200 {
        let d = if i % 2 == 0 { "a.example" } else { "b.example" };
        let _ = db
            .ingest(pv(d, &format!("/{d}/{i}")).client_id(format!("c{i}")))
            .unwrap();
    }
    db.flush().unwrap();
    for d in ["a.example", "b.example"] {
        let events = db.domain(d).unwrap().events(TimeRange::all()).unwrap();
        assert_eq!(events.len(), 100);
        assert!(
            events
                .iter()
                .all(|e| e.path.as_str().starts_with(&format!("/{d}/")))
        );
    }
}

#[test]
fn opted_out_dnt_gpc_and_consent_denied_hits_leave_no_event() {
    let env = Env::new();
    let db = env.open();
    db.opt_out("token-1").unwrap();
    let strict = db.create_domain("strict.example").unwrap();
    strict
        .set_consent_policy(ConsentPolicy {
            require_consent: true,
            without_consent: WithoutConsent::Drop,
            honour_dnt: true,
            honour_gpc: true,
        })
        .unwrap();
    let lax = db.create_domain("lax.example").unwrap();
    lax.set_consent_policy(ConsentPolicy {
        honour_dnt: false,
        honour_gpc: false,
        ..ConsentPolicy::default()
    })
    .unwrap();

    let cases = [
        (
            pv("strict.example", "/o")
                .opt_out_token("token-1")
                .consent(Consent::Granted),
            Ingested::Dropped(DropReason::OptedOut),
        ),
        (
            pv("lax.example", "/o").opt_out_token("token-1"),
            Ingested::Dropped(DropReason::OptedOut),
        ),
        (
            pv("strict.example", "/d")
                .dnt(true)
                .consent(Consent::Granted),
            Ingested::Dropped(DropReason::DoNotTrack),
        ),
        (
            pv("strict.example", "/g")
                .gpc(true)
                .consent(Consent::Granted),
            Ingested::Dropped(DropReason::GlobalPrivacyControl),
        ),
        (
            pv("strict.example", "/u").client_id("c"),
            Ingested::Dropped(DropReason::NoConsent),
        ),
        (
            pv("strict.example", "/n")
                .client_id("c")
                .consent(Consent::Denied),
            Ingested::Dropped(DropReason::NoConsent),
        ),
        (
            pv("strict.example", "/ok")
                .client_id("c")
                .consent(Consent::Granted),
            Ingested::Queued,
        ),
        (
            pv("lax.example", "/dnt-ignored")
                .dnt(true)
                .gpc(true)
                .client_id("c"),
            Ingested::Queued,
        ),
        (
            pv("lax.example", "/denied")
                .client_id("c")
                .consent(Consent::Denied),
            Ingested::QueuedAnonymous,
        ),
        (
            pv("lax.example", "/other-token")
                .client_id("c")
                .opt_out_token("token-2"),
            Ingested::Queued,
        ),
    ];
    for (i, (hit, want)) in cases.into_iter().enumerate() {
        assert_eq!(db.ingest(hit).unwrap(), want, "case {i}");
    }
    db.flush().unwrap();
    let strict_paths: Vec<String> = strict
        .events(TimeRange::all())
        .unwrap()
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(strict_paths, vec!["/ok"]);
    let lax_events = lax.events(TimeRange::all()).unwrap();
    let mut lax_paths: Vec<&str> = lax_events.iter().map(|e| e.path.as_str()).collect();
    lax_paths.sort_unstable();
    assert_eq!(lax_paths, vec!["/denied", "/dnt-ignored", "/other-token"]);
    let denied = lax_events
        .iter()
        .find(|e| e.path.as_str() == "/denied")
        .unwrap();
    assert_eq!(
        denied.visitor,
        pledgedb::VisitorId::ANONYMOUS,
        "denied consent keeps no id"
    );
    assert_eq!(denied.session, pledgedb::SessionId(0));
    // The opt-out registry holds a keyed hash, not the token.
    assert!(common::files_containing(&env.data, b"token-1").is_empty());
    assert!(db.is_opted_out("token-1"));
    db.opt_in("token-1").unwrap();
    assert_eq!(
        db.ingest(
            pv("lax.example", "/back")
                .client_id("c")
                .opt_out_token("token-1")
        )
        .unwrap(),
        Ingested::Queued
    );
}

#[test]
fn sensitive_fields_and_keystroke_content_never_reach_a_file() {
    let env = Env::new();
    let db = env.open();
    let submit = HitKind::FormSubmit {
        form: "checkout".into(),
        fields: vec![
            FormField::new("email", "visible-email-value@example.org"),
            FormField::new("password", "HUNTER2-PASSWORD-VALUE"),
            FormField::new("pw", "TYPE-PASSWORD-VALUE").input_type("password"),
            FormField::new("cardNumber", "4111111111111111"),
            FormField::new("cvv", "CVV-VALUE-987"),
            FormField::new("iban", "DE89370400440532013000"),
            FormField {
                autocomplete: Some("cc-exp".into()),
                ..FormField::new("expiry", "EXPIRY-VALUE-1229")
            },
            FormField {
                sensitive: true,
                ..FormField::new("note", "FLAGGED-SENSITIVE-VALUE")
            },
            FormField::new("comment", "visible-comment-value"),
        ],
    };
    let _ = db
        .ingest(
            Hit::new("shop.example", "https://shop.example/checkout", submit)
                .client_id("v")
                .at(start_time()),
        )
        .unwrap();
    for key in [KeyKind::Character, KeyKind::Delete, KeyKind::Character] {
        let k = HitKind::Keystroke {
            form: "checkout".into(),
            field: "address".into(),
            key,
        };
        let _ = db
            .ingest(
                Hit::new("shop.example", "https://shop.example/checkout", k)
                    .client_id("v")
                    .at(start_time()),
            )
            .unwrap();
    }
    db.close().unwrap();
    for secret in [
        "HUNTER2-PASSWORD-VALUE",
        "TYPE-PASSWORD-VALUE",
        "4111111111111111",
        "CVV-VALUE-987",
        "DE89370400440532013000",
        "EXPIRY-VALUE-1229",
        "FLAGGED-SENSITIVE-VALUE",
    ] {
        assert!(
            common::files_containing(&env.data, secret.as_bytes()).is_empty(),
            "{secret} was stored"
        );
    }
    let db = env.open();
    let events = db
        .domain("shop.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    let submit = events.iter().find_map(|e| match &e.kind {
        pledgedb::EventKind::FormSubmit { fields, .. } => Some(fields.clone()),
        _ => None,
    });
    let names: Vec<String> = submit
        .unwrap()
        .iter()
        .map(|f| format!("{}={}", f.name, f.value))
        .collect();
    assert_eq!(
        names,
        vec![
            "email=visible-email-value@example.org",
            "comment=visible-comment-value"
        ]
    );
    let keys: Vec<KeyKind> = events
        .iter()
        .filter_map(|e| match &e.kind {
            pledgedb::EventKind::Keystroke { key, .. } => Some(*key),
            _ => None,
        })
        .collect();
    assert_eq!(
        keys,
        vec![KeyKind::Character, KeyKind::Delete, KeyKind::Character]
    );
}

#[test]
fn flushed_events_survive_reopen_and_a_drop_without_flush_reopens_cleanly() {
    let env = Env::new();
    {
        let db = env.open();
        for i in 0..10_000 {
            let _ = db
                .ingest(
                    pv("a.example", &format!("/p{}", i % 50))
                        .client_id(format!("c{}", i % 700))
                        .at(start_time().plus_millis(-i * 10_000)),
                )
                .unwrap();
        }
        db.flush().unwrap();
        // Dropped without close.
    }
    let db = env.open();
    let d = db.domain("a.example").unwrap();
    assert_eq!(d.count(TimeRange::all()).unwrap(), 10_000);
    assert_eq!(d.count_by_path(TimeRange::all()).unwrap().len(), 50);
    assert!(
        d.segment_days().len() >= 2,
        "10,000 events 10 s apart span two days"
    );
    // More events after reopen continue the same segments.
    for i in 0..100 {
        let _ = db
            .ingest(pv("a.example", "/after").client_id(format!("c{i}")))
            .unwrap();
    }
    drop(d);
    drop(db);
    let db = env.open();
    assert_eq!(
        db.domain("a.example")
            .unwrap()
            .count(TimeRange::all())
            .unwrap(),
        10_100,
        "drop flushes"
    );
}

#[test]
fn bad_domains_are_typed_errors_and_write_nothing() {
    let env = Env::new();
    let db = env.open();
    let long = "a".repeat(300);
    let cases: Vec<(&str, DomainNameError)> = vec![
        ("../x", DomainNameError::InvalidChar(2)),
        ("", DomainNameError::Empty),
        (&long, DomainNameError::TooLong(300)),
        ("Shop.example", DomainNameError::InvalidChar(0)),
        ("a\0b", DomainNameError::InvalidChar(1)),
        ("a/b", DomainNameError::InvalidChar(1)),
        ("a..b", DomainNameError::InvalidLabel),
        ("10.0.0.1", DomainNameError::IpLiteral),
    ];
    for (name, want) in cases {
        let err = db.ingest(Hit::page_view(name, "/")).unwrap_err();
        match err {
            IngestError::Hit(e) => {
                assert_eq!(e.field, HitField::Domain);
                assert_eq!(e.problem, HitProblem::DomainName(want.clone()), "{name:?}");
                assert!(!e.to_string().contains("10.0.0.1"));
            }
            other => panic!("{name:?}: {other:?}"),
        }
        assert!(matches!(db.domain(name), Err(DomainError::InvalidName(_))));
    }
    assert!(db.domains().is_empty());
    let domains_dir = env.data.join("domains");
    assert_eq!(
        std::fs::read_dir(domains_dir).unwrap().count(),
        0,
        "no partition was created"
    );
    assert!(matches!(
        db.domain("nope.example"),
        Err(DomainError::NotFound(_))
    ));
}

#[test]
fn oversized_strings_and_bad_timestamps_are_rejected_whole() {
    let env = Env::new();
    let db = env.open();
    let _ = db.create_domain("a.example").unwrap();
    let now = start_time();
    let cases = vec![
        (
            Hit::page_view("a.example", "x".repeat(10_000)),
            HitField::Url,
        ),
        (
            pv("a.example", "/").user_agent("u".repeat(2000)),
            HitField::UserAgent,
        ),
        (
            pv("a.example", "/").client_id("c".repeat(300)),
            HitField::ClientId,
        ),
        (
            pv("a.example", "/").at(pledgedb::Timestamp(0)),
            HitField::Timestamp,
        ),
        (
            pv("a.example", "/").at(now.plus_millis(3 * 86_400_000)),
            HitField::Timestamp,
        ),
        (
            pv("a.example", "/").at(pledgedb::Timestamp(i64::MIN)),
            HitField::Timestamp,
        ),
        (
            pv("a.example", "/").at(pledgedb::Timestamp(i64::MAX)),
            HitField::Timestamp,
        ),
        (
            Hit::new(
                "a.example",
                "/",
                HitKind::FormSubmit {
                    form: "f".into(),
                    fields: vec![FormField::new("a", "v".repeat(5000))],
                },
            ),
            HitField::FieldValue(0),
        ),
    ];
    for (hit, field) in cases {
        match db.ingest(hit) {
            Err(IngestError::Hit(e)) => assert_eq!(e.field, field),
            other => panic!("{field:?}: {other:?}"),
        }
    }
    db.flush().unwrap();
    assert_eq!(
        db.domain("a.example")
            .unwrap()
            .count(TimeRange::all())
            .unwrap(),
        0
    );
    // An event older than the raw-event retention is dropped, not stored.
    let old = pv("a.example", "/").at(now.plus_millis(-100 * 86_400_000));
    assert_eq!(
        db.ingest(old).unwrap(),
        Ingested::Dropped(DropReason::Expired)
    );
}

#[test]
fn missing_or_malformed_geoip_file_is_a_clear_error_at_open() {
    let env = Env::new();
    let missing = env.tmp.path().join("nope.mmdb");
    let err = Db::open(&env.data, Config::default().with_geoip(&missing)).unwrap_err();
    assert!(matches!(err, OpenError::Geo(_)), "{err:?}");
    assert!(err.to_string().contains("nope.mmdb"), "{err}");
    let garbage = env.tmp.path().join("garbage.mmdb");
    std::fs::write(&garbage, b"this is not a maxmind database at all").unwrap();
    let err = Db::open(&env.data, Config::default().with_geoip(&garbage)).unwrap_err();
    assert!(matches!(err, OpenError::Geo(_)), "{err:?}");
}

#[test]
fn cookieless_visitors_rotate_daily_and_sessions_split_after_30_minutes() {
    let env = Env::new();
    let db = env.open();
    let ip: std::net::IpAddr = "203.0.113.77".parse().unwrap();
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36";
    let t0 = start_time();
    for (i, offset_min) in [0i64, 10, 25, 70, 24 * 60].iter().enumerate() {
        let hit = Hit::page_view("a.example", format!("/s{i}"))
            .ip(ip)
            .user_agent(ua)
            .at(t0.plus_millis(offset_min * 60_000));
        assert_eq!(db.ingest(hit).unwrap(), Ingested::Queued);
    }
    db.flush().unwrap();
    let mut events = db
        .domain("a.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    events.sort_by_key(|e| e.ts);
    assert_eq!(events[0].visitor, events[3].visitor, "same day, same salt");
    assert_ne!(
        events[0].visitor, events[4].visitor,
        "a new day, a new salt"
    );
    assert_eq!(events[0].session, events[2].session);
    assert_ne!(
        events[2].session, events[3].session,
        "45 minutes apart: a new visit"
    );
    assert_eq!(events[0].country.as_str(), "DE");
}

#[test]
fn a_relative_data_directory_opens() {
    let env = Env::new();
    // A bare relative name: the directory is created in the current one.
    let name = format!("pledgedb-relative-{}", std::process::id());
    let cwd = std::env::current_dir().unwrap();
    let full = cwd.join(&name);
    let result = std::panic::catch_unwind(|| {
        let db = Db::open(&name, env.config()).unwrap();
        let _ = db.ingest(pv("a.example", "/rel").client_id("c")).unwrap();
        db.close().unwrap();
        let db = Db::open(&name, env.config()).unwrap();
        assert_eq!(
            db.domain("a.example")
                .unwrap()
                .count(TimeRange::all())
                .unwrap(),
            1
        );
    });
    let _ = std::fs::remove_dir_all(&full);
    assert!(result.is_ok());
}
