//! Regression (promise P3): a hit the privacy gate drops, for a domain the
//! data directory has never seen, created the domain's directory, its
//! control file (with a fresh secret) and its catalog entry before the gate
//! ran. A dropped hit must write nothing at all: the gate runs before
//! anything is created.
//!
//! Every way a hit can be dropped (opt-out token, Do-Not-Track, Global
//! Privacy Control, no consent under a dropping policy, a timestamp past the
//! raw-event retention) is tried for a fresh domain, through `ingest` and
//! `ingest_batch`, and the set of files and the domain catalog must stay as
//! they were, also after a reopen.

mod common;

use common::{Env, all_files, start_time};
use pledgedb::{
    Config, Consent, ConsentPolicy, Db, DropReason, Hit, Ingested, MS_PER_DAY, Timestamp,
    WithoutConsent,
};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

fn file_set(env: &Env) -> BTreeSet<PathBuf> {
    all_files(&env.data).into_iter().map(|(p, _)| p).collect()
}

/// A configuration whose new domains drop hits without consent.
fn strict_config(env: &Env) -> Config {
    let mut c = env.config();
    c.domain_defaults.consent = ConsentPolicy {
        require_consent: true,
        without_consent: WithoutConsent::Drop,
        honour_dnt: true,
        honour_gpc: true,
    };
    c
}

/// Hits that are all dropped, each for a domain of its own, and why.
fn dropped_hits() -> Vec<(Hit, DropReason)> {
    let long_ago = Timestamp(start_time().0 - 400 * MS_PER_DAY);
    vec![
        (
            Hit::page_view("optout.example", "/").opt_out_token("tok"),
            DropReason::OptedOut,
        ),
        (
            Hit::page_view("dnt.example", "/")
                .dnt(true)
                .consent(Consent::Granted),
            DropReason::DoNotTrack,
        ),
        (
            Hit::page_view("gpc.example", "/")
                .gpc(true)
                .consent(Consent::Granted),
            DropReason::GlobalPrivacyControl,
        ),
        (
            Hit::page_view("noconsent.example", "/").client_id("c1"),
            DropReason::NoConsent,
        ),
        (
            Hit::page_view("denied.example", "/")
                .client_id("c1")
                .consent(Consent::Denied),
            DropReason::NoConsent,
        ),
        (
            Hit::page_view("expired.example", "/")
                .consent(Consent::Granted)
                .at(long_ago),
            DropReason::Expired,
        ),
    ]
}

#[test]
fn a_dropped_hit_for_a_new_domain_writes_nothing() {
    let env = Env::new();
    let db = Db::open(&env.data, strict_config(&env)).unwrap();
    db.opt_out("tok").unwrap();
    db.flush().unwrap();
    let before = file_set(&env);

    for (hit, why) in dropped_hits() {
        let domain = hit.domain.clone();
        assert_eq!(db.ingest(hit).unwrap(), Ingested::Dropped(why), "{domain}");
        assert!(db.domain(&domain).is_err(), "{domain} was created");
    }
    let batch = db.ingest_batch(dropped_hits().into_iter().map(|(h, _)| h));
    for (r, (_, why)) in batch.iter().zip(dropped_hits()) {
        assert_eq!(*r.as_ref().unwrap(), Ingested::Dropped(why));
    }
    db.flush().unwrap();
    assert!(db.domains().is_empty(), "{:?}", db.domains());
    assert_eq!(file_set(&env), before, "a dropped hit created files");
    db.close().unwrap();

    let db = Db::open(&env.data, strict_config(&env)).unwrap();
    assert!(
        db.domains().is_empty(),
        "the catalog holds {:?}",
        db.domains()
    );
    let report = db.privacy_report().unwrap();
    let total: u64 = report.hits_dropped.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 12, "every dropped hit is counted");
}

#[test]
fn an_admitted_hit_still_creates_its_domain() {
    let env = Env::new();
    let mut config = strict_config(&env);
    config.clock = Arc::new(env.clock.clone());
    let db = Db::open(&env.data, config).unwrap();
    let hit = Hit::page_view("ok.example", "/")
        .client_id("c1")
        .consent(Consent::Granted);
    assert_eq!(db.ingest(hit).unwrap(), Ingested::Queued);
    db.flush().unwrap();
    assert_eq!(db.domains(), vec!["ok.example".to_string()]);
    assert!(env.data.join("domains").join("ok.example").is_dir());
}
