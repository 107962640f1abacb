//! Arbitrary SQL text against a small fixed database through
//! `pledgedb_sql::execute`: page views, clicks, scrolls, form events and
//! custom events of a few visitors over three days, one day sealed into a
//! roll-up, one visitor erased (and purged), one still pending.
//!
//! Properties: nothing panics; every row has one value per column; an
//! error message never holds stored data (a marker in every stored path
//! and value appears in an error only if the query itself holds it) nor
//! IP-shaped text the query did not hold.
#![no_main]

#[path = "common/scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use pledgedb_core::text::contains_ip;
use pledgedb_core::{
    Config, Db, Domain, FormField, Hit, HitKind, HitProp, KeyKind, ManualClock, Timestamp,
    VisitorRef,
};
use std::sync::{Arc, OnceLock};

const MARKER: &str = "STOREDMARK";

struct Fixture {
    _dir: tempfile::TempDir,
    _db: Db,
    domain: Domain,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = scratch::scratch_dir();
        let start = Timestamp::from_ymd_hms(2026, 11, 2, 12, 0, 0);
        let clock = ManualClock::new(start);
        let mut cfg = Config::default().with_clock(Arc::new(clock.clone()));
        cfg.background_compaction = false;
        let db = Db::open(dir.path().join("data"), cfg).expect("open");
        let d = "shop.example";
        let mut hits = Vec::new();
        for day in 0..3i64 {
            for v in 0..6i64 {
                let t = start.plus_millis((day - 2) * 86_400_000 + v * 600_000);
                let client = format!("c{v}");
                let url = format!("https://{d}/{MARKER}/p{v}?utm_source=news{day}");
                let kinds = vec![
                    HitKind::PageView {
                        referrer: Some("https://www.search.example/q".into()),
                    },
                    HitKind::Click {
                        x: 10 * v as i32,
                        y: -3,
                        target: format!("#{MARKER}btn"),
                    },
                    HitKind::Scroll { depth: 75 },
                    HitKind::FormView { form: "signup".into() },
                    HitKind::FieldFocus {
                        form: "signup".into(),
                        field: "email".into(),
                    },
                    HitKind::Keystroke {
                        form: "signup".into(),
                        field: "email".into(),
                        key: KeyKind::Character,
                    },
                    HitKind::FieldBlur {
                        form: "signup".into(),
                        field: "email".into(),
                    },
                    HitKind::FormSubmit {
                        form: "signup".into(),
                        fields: vec![FormField::new("email", format!("{MARKER}{v}@mail.example"))],
                    },
                    HitKind::Custom {
                        name: "purchase".into(),
                        props: vec![
                            ("sku".into(), HitProp::Text(format!("{MARKER}-{v}"))),
                            ("qty".into(), HitProp::Int(v)),
                            ("price".into(), HitProp::Float(9.5)),
                            ("gift".into(), HitProp::Bool(v % 2 == 0)),
                        ],
                    },
                ];
                for (i, kind) in kinds.into_iter().enumerate() {
                    let mut h = Hit::new(d, url.clone(), kind)
                        .at(t.plus_millis(i as i64 * 1000))
                        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
                    if v < 5 {
                        h = h.client_id(client.clone());
                    }
                    hits.push(h);
                }
            }
        }
        for r in db.ingest_batch(hits) {
            let _ = r.expect("ingest");
        }
        db.flush().expect("flush");
        let domain = db.domain(d).expect("domain");
        domain
            .erase_visitor(&VisitorRef::ClientId("c1".into()))
            .expect("erase");
        // Two days later: the first day is sealed, the erasure purged.
        clock.advance_days(2);
        db.compact_now().expect("compact");
        domain
            .erase_visitor(&VisitorRef::ClientId("c2".into()))
            .expect("erase");
        Fixture {
            _dir: dir,
            _db: db,
            domain,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let f = fixture();
    match pledgedb_sql::execute(&f.domain, sql) {
        Ok(rs) => {
            for row in &rs.rows {
                assert_eq!(row.len(), rs.columns.len(), "row width");
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                !msg.contains(MARKER) || sql.contains(MARKER),
                "error message holds stored data: {msg}"
            );
            assert!(
                !contains_ip(&msg) || contains_ip(sql),
                "error message holds IP text: {msg}"
            );
        }
    }
});
