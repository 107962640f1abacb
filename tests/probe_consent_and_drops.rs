//! Hostile probes of promises P4 (an event kept without a visitor id holds
//! nothing a person typed) and P3 (a dropped hit writes nothing, not even
//! a directory or catalog entry for a domain never seen), through
//! `Db::ingest` and `Db::ingest_batch`.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Consent, ConsentPolicy, DropReason, FormField, Hit, HitKind, HitProp, Ingested, KeyKind,
    Timestamp, WithoutConsent,
};
use std::net::{IpAddr, Ipv4Addr};

fn at(i: usize) -> Timestamp {
    Timestamp(start_time().0 + i as i64)
}

/// Every kind of hit, each free-text place holding `m` (letters only).
fn kinds(m: &str) -> Vec<HitKind> {
    let long = format!("{m}{}", "y".repeat(3000));
    vec![
        HitKind::FormSubmit {
            form: "contact".into(),
            fields: vec![
                FormField::new("message", format!("hello {m}")),
                FormField::new("email", format!("{m}@mail.example")),
                FormField::new("q", format!("ünïcødé {m} 日本")),
                FormField::new("json", format!("{{\"a\":[\"{m}\"]}}")),
                FormField::new("long", long.clone()),
            ],
        },
        HitKind::Custom {
            name: "search".into(),
            props: vec![
                ("query".into(), HitProp::Text(format!("{m} shoes"))),
                (
                    "nested".into(),
                    HitProp::Text(format!("{{\"x\":{{\"y\":\"{m}\"}}}}")),
                ),
                ("long".into(), HitProp::Text(long.clone())),
                ("uni".into(), HitProp::Text(format!("«{m}»"))),
                ("count".into(), HitProp::Int(3)),
                ("flag".into(), HitProp::Bool(true)),
                ("ratio".into(), HitProp::Float(0.5)),
            ],
        },
        HitKind::PageView { referrer: None },
        HitKind::Keystroke {
            form: "contact".into(),
            field: "message".into(),
            key: KeyKind::Character,
        },
        HitKind::Scroll { depth: 40 },
    ]
}

fn url(m: &str) -> String {
    format!(
        "https://anon.example/landing?utm_source=news&utm_term={m}t&UTM_CONTENT={m}c&utm_Term={m}u\
         &utm_content%3D={m}v&utm_medium=mail&q={m}q"
    )
}

fn typed_markers(m: &str) -> Vec<String> {
    vec![m.to_string()]
}

/// Hits that end up without a visitor id, by the ways there are.
fn anonymous_hits(m: &str) -> Vec<(String, Hit)> {
    let mut out = Vec::new();
    for (i, k) in kinds(m).into_iter().enumerate() {
        let base = Hit::new("anon.example", url(m), k)
            .user_agent("Mozilla/5.0 Firefox/120.0")
            .session_id("s")
            .at(at(i));
        out.push((
            format!("denied with client id, kind {i}"),
            base.clone().client_id("c1").consent(Consent::Denied),
        ));
        out.push((
            format!("denied with ip, kind {i}"),
            base.clone()
                .ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)))
                .consent(Consent::Denied),
        ));
        out.push((
            format!("granted, no client id, no ip, kind {i}"),
            base.clone().consent(Consent::Granted),
        ));
        out.push((
            format!("unknown, no client id, no ip, kind {i}"),
            base.clone(),
        ));
        out.push((
            format!("granted, empty client id, kind {i}"),
            base.clone().client_id("").consent(Consent::Granted),
        ));
        out.push((
            format!("granted, blank client id, kind {i}"),
            base.clone().client_id(" \t").consent(Consent::Granted),
        ));
    }
    out
}

#[test]
fn probe_events_without_a_visitor_id_hold_nothing_typed() {
    let env = Env::new();
    let db = env.open();
    db.create_domain("anon.example").unwrap();
    let mut leaks = Vec::new();
    for (n, (what, h)) in anonymous_hits("QZANONMARK").into_iter().enumerate() {
        // One marker per hit, so a leak names its case.
        let m = format!("QZANON{n:04}X");
        let mut h = h;
        let (_, fresh) = anonymous_hits(&m).swap_remove(n);
        h.kind = fresh.kind;
        h.url = fresh.url;
        match db.ingest(h) {
            Ok(Ingested::QueuedAnonymous) | Ok(Ingested::Dropped(_)) | Err(_) => {}
            Ok(other) => leaks.push(format!("{what}: kept as {other:?}")),
        }
        leaks.extend(
            typed_markers(&m)
                .into_iter()
                .map(|t| format!("{what}\0{t}")),
        );
    }
    db.close().unwrap();
    let wanted: Vec<String> = leaks
        .iter()
        .filter_map(|l| l.split_once('\0').map(|(_, t)| t.to_string()))
        .collect();
    let mut found: Vec<String> = common::find_any(&env.data, &wanted)
        .into_iter()
        .map(|(_, t)| {
            leaks
                .iter()
                .find(|l| l.ends_with(&format!("\0{t}")))
                .map(|l| l.split_once('\0').unwrap().0.to_string())
                .unwrap()
        })
        .collect();
    found.sort();
    found.dedup();
    let kept_as: Vec<&String> = leaks.iter().filter(|l| !l.contains('\0')).collect();
    assert!(kept_as.is_empty(), "identified: {kept_as:?}");
    assert!(found.is_empty(), "typed data kept: {found:?}");
}

#[test]
fn probe_require_consent_keeps_nothing_typed_from_unknown_consent() {
    let env = Env::new();
    let db = env.open();
    let d = db.create_domain("anon.example").unwrap();
    d.set_consent_policy(ConsentPolicy {
        require_consent: true,
        ..ConsentPolicy::default()
    })
    .unwrap();
    let m = "QZREQMARK";
    for (i, k) in kinds(m).into_iter().enumerate() {
        let h = Hit::new("anon.example", url(m), k)
            .client_id("c1")
            .ip(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)))
            .at(at(i));
        let r = db.ingest(h).unwrap();
        assert_eq!(r, Ingested::QueuedAnonymous);
    }
    drop(d);
    db.close().unwrap();
    let found = common::files_containing(&env.data, m.as_bytes());
    assert!(found.is_empty(), "typed data kept in {found:?}");
}

/// Every way a hit is dropped at the gate, for a domain never seen.
fn dropped_hits(env: &Env, db: &pledgedb::Db, domain: &str) -> Vec<(DropReason, Hit)> {
    db.opt_out("QZTOKEN-1").unwrap();
    let base = |k: HitKind| {
        Hit::new(domain, format!("https://{domain}/p"), k)
            .client_id("c")
            .at(env.clock_now())
    };
    let pv = || HitKind::PageView { referrer: None };
    let old = Timestamp(env.clock_now().0 - 100 * 86_400_000);
    vec![
        (DropReason::OptedOut, base(pv()).opt_out_token("QZTOKEN-1")),
        (DropReason::DoNotTrack, base(pv()).dnt(true)),
        (DropReason::GlobalPrivacyControl, base(pv()).gpc(true)),
        (
            DropReason::GlobalPrivacyControl,
            base(pv()).gpc(true).consent(Consent::Granted),
        ),
        (DropReason::Expired, base(pv()).at(old)),
        (
            DropReason::SensitiveKeystroke,
            base(HitKind::Keystroke {
                form: "login".into(),
                field: "password".into(),
                key: KeyKind::Character,
            }),
        ),
        (
            DropReason::SensitiveKeystroke,
            base(HitKind::Keystroke {
                form: "x".into(),
                field: "user%5Bpwd%5D".into(),
                key: KeyKind::Delete,
            }),
        ),
    ]
}

fn assert_no_trace(env: &Env, db: &pledgedb::Db, domain: &str) {
    assert!(
        !db.domains().iter().any(|d| d == domain),
        "{domain} is listed"
    );
    let found = common::files_containing(&env.data, domain.as_bytes());
    assert!(found.is_empty(), "{domain} is named in {found:?}");
    for (p, _) in common::all_files(&env.data) {
        assert!(
            !p.to_string_lossy().contains(domain),
            "{domain} has a path {p:?}"
        );
    }
}

#[test]
fn probe_dropped_hits_leave_no_trace_through_ingest() {
    let env = Env::new();
    let db = env.open();
    for (i, (why, h)) in dropped_hits(&env, &db, "never-a.example")
        .into_iter()
        .enumerate()
    {
        let h = Hit {
            domain: format!("never-{i}.example"),
            ..h
        };
        assert_eq!(db.ingest(h).unwrap(), Ingested::Dropped(why), "{why:?}");
    }
    db.flush().unwrap();
    for i in 0..7 {
        assert_no_trace(&env, &db, &format!("never-{i}.example"));
    }
    db.close().unwrap();
    let db = env.open();
    for i in 0..7 {
        assert_no_trace(&env, &db, &format!("never-{i}.example"));
    }
}

#[test]
fn probe_dropped_hits_leave_no_trace_through_ingest_batch() {
    let env = Env::new();
    let db = env.open();
    let hits = dropped_hits(&env, &db, "never-batch.example");
    let want: Vec<_> = hits
        .iter()
        .map(|(w, _)| Ok(Ingested::Dropped(*w)))
        .collect();
    let got: Vec<_> = db
        .ingest_batch(hits.into_iter().map(|(_, h)| h))
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect();
    assert_eq!(got, want);
    db.close().unwrap();
    let db = env.open();
    assert_no_trace(&env, &db, "never-batch.example");
}

#[test]
fn probe_a_drop_policy_writes_no_segment() {
    let env = Env::new();
    let db = env.open();
    let d = db.create_domain("strict.example").unwrap();
    d.set_consent_policy(ConsentPolicy {
        require_consent: true,
        without_consent: WithoutConsent::Drop,
        ..ConsentPolicy::default()
    })
    .unwrap();
    let before: Vec<_> = common::all_files(&env.data)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for c in [Consent::Unknown, Consent::Denied] {
        let h = Hit::new(
            "strict.example",
            "https://strict.example/QZSTRICTPATH",
            HitKind::PageView { referrer: None },
        )
        .client_id("c")
        .consent(c)
        .at(env.clock_now());
        assert_eq!(
            db.ingest(h).unwrap(),
            Ingested::Dropped(DropReason::NoConsent)
        );
    }
    drop(d);
    db.close().unwrap();
    assert!(common::files_containing(&env.data, b"QZSTRICTPATH").is_empty());
    let after: Vec<_> = common::all_files(&env.data)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !before.contains(p))
        .filter(|p| p.to_string_lossy().contains("strict"))
        .collect();
    assert!(after.is_empty(), "new files: {after:?}");
}
