//! Promise P9: the transparency report and the IP audit.

mod common;

use common::{Env, start_time};
use pledgedb::{Consent, ConsentPolicy, DropReason, Hit, VisitorRef, WithoutConsent, audit_dir};

#[test]
fn report_counts_opt_outs_drops_and_erasures_across_reopen() {
    let env = Env::new();
    {
        let db = env.open();
        db.opt_out("t1").unwrap();
        db.opt_out("t2").unwrap();
        db.opt_out("t2").unwrap();
        let d = db.create_domain("a.example").unwrap();
        d.set_consent_policy(ConsentPolicy {
            require_consent: true,
            without_consent: WithoutConsent::Drop,
            ..ConsentPolicy::default()
        })
        .unwrap();
        let base = || Hit::page_view("a.example", "/").at(start_time());
        let _ = db.ingest(base().opt_out_token("t1")).unwrap();
        let _ = db.ingest(base().dnt(true)).unwrap();
        let _ = db
            .ingest(base().gpc(true).consent(Consent::Granted))
            .unwrap();
        let _ = db.ingest(base().client_id("x")).unwrap();
        let _ = db.ingest(base().client_id("x")).unwrap();
        let _ = db
            .ingest(base().client_id("kept").consent(Consent::Granted))
            .unwrap();
        db.flush().unwrap();
        assert!(matches!(
            d.erase_visitor(&VisitorRef::ClientId("kept".into()))
                .unwrap(),
            pledgedb::Erasure::Pending(_)
        ));
        let r = db.privacy_report().unwrap();
        assert_eq!(r.domains[0].pending_purges, 1);
        db.compact_now().unwrap();
    }
    let db = env.open();
    let r = db.privacy_report().unwrap();
    assert_eq!(r.opt_outs_registered, 2);
    assert_eq!(r.erasures_completed, 1);
    let dropped = |reason| {
        r.hits_dropped
            .iter()
            .find(|(x, _)| *x == reason)
            .map(|(_, n)| *n)
    };
    assert_eq!(dropped(DropReason::OptedOut), Some(1));
    assert_eq!(dropped(DropReason::DoNotTrack), Some(1));
    assert_eq!(dropped(DropReason::GlobalPrivacyControl), Some(1));
    assert_eq!(dropped(DropReason::NoConsent), Some(2));
    assert_eq!(r.domains.len(), 1);
    assert_eq!(r.domains[0].name, "a.example");
    assert!(r.domains[0].consent.require_consent);
    assert_eq!(r.domains[0].erasure_requests, 1);
    assert_eq!(r.domains[0].pending_purges, 0);
    assert!(r.never_recorded.iter().any(|s| s.contains("IP addresses")));
    assert!(r.recorded.iter().any(|f| f.field == "country"));
}

#[test]
fn audit_passes_on_a_real_directory_and_fails_on_a_planted_ip() {
    let env = Env::new();
    let db = env.open();
    for i in 0..500u32 {
        let ip = std::net::IpAddr::from([203, 0, 113, (i % 250) as u8]);
        let _ = db
            .ingest(
                Hit::page_view("a.example", format!("/p/{ip}?from={ip}"))
                    .ip(ip)
                    .user_agent(format!("UA {ip}"))
                    .at(start_time()),
            )
            .unwrap();
    }
    db.close().unwrap();
    let clean = audit_dir(&env.data).unwrap();
    assert!(clean.files >= 3);
    assert!(clean.is_clean(), "{:?}", clean.findings);
    std::fs::write(
        env.data.join("domains/a.example/planted.log"),
        b"\x00\x01client 2001:db8::42 was here\x00",
    )
    .unwrap();
    let dirty = audit_dir(&env.data).unwrap();
    assert_eq!(dirty.findings.len(), 1);
    assert!(dirty.findings[0].path.ends_with("planted.log"));
    assert_eq!(dirty.findings[0].offset, 2);
}

#[test]
fn audit_finds_short_dashed_and_partial_addresses_the_old_rules_missed() {
    let env = Env::new();
    let db = env.open();
    let _ = db
        .ingest(Hit::page_view("a.example", "/plain").at(start_time()))
        .unwrap();
    db.close().unwrap();
    assert!(audit_dir(&env.data).unwrap().is_clean());
    let segment = common::all_files(&env.data)
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.parent().is_some_and(|d| d.ends_with("segments")))
        .expect("a segment file");
    let original = std::fs::read(&segment).unwrap();
    for form in [
        "fe80::1",
        "73-22-11-5",
        "2001:db8:85a3:1:2:8a2e:3",
        "２０３．０．１１３．９",
    ] {
        for (path, bytes) in [
            (
                env.data.join("domains/a.example/notes.txt"),
                format!("\u{1}{form}\u{1}").into_bytes(),
            ),
            (
                segment.clone(),
                [&original[..], b"\x00", form.as_bytes(), b"\x00"].concat(),
            ),
        ] {
            std::fs::write(&path, bytes).unwrap();
            let r = audit_dir(&env.data).unwrap();
            assert_eq!(r.findings.len(), 1, "{form} in {path:?}");
            assert_eq!(r.findings[0].path, path);
            if path == segment {
                std::fs::write(&segment, &original).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
}
