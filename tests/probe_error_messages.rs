//! Hostile probes: no error of the engine's public API echoes an IP address
//! or a value a visitor typed, whatever field the bad input is in.

mod common;

use common::Env;
use pledgedb::{FormField, Hit, HitKind, HitProp, VisitorRef};

const IP: &str = "203.0.113.77";
const TYPED: &str = "QZTYPEDSECRET";

fn bad_hits() -> Vec<(&'static str, Hit)> {
    let long = |s: &str, n: usize| format!("{s}{}", "x".repeat(n));
    let pv = || HitKind::PageView { referrer: None };
    vec![
        (
            "domain with an IP",
            Hit::page_view(format!("{IP} bad"), "/"),
        ),
        ("domain is an IP", Hit::page_view(IP, "/")),
        (
            "domain with typed text",
            Hit::page_view(format!("{TYPED}!!.example"), "/"),
        ),
        (
            "long domain",
            Hit::page_view(long(&format!("{IP}{TYPED}"), 400), "/"),
        ),
        (
            "long url",
            Hit::page_view("a.example", long(&format!("/{IP}/{TYPED}"), 9000)),
        ),
        (
            "long client id",
            Hit::page_view("a.example", "/").client_id(long(&format!("{IP}{TYPED}"), 300)),
        ),
        (
            "long session id",
            Hit::page_view("a.example", "/").session_id(long(&format!("{IP}{TYPED}"), 300)),
        ),
        (
            "long opt-out token",
            Hit::page_view("a.example", "/").opt_out_token(long(&format!("{IP}{TYPED}"), 300)),
        ),
        (
            "long user agent",
            Hit::page_view("a.example", "/").user_agent(long(&format!("{IP}{TYPED}"), 2000)),
        ),
        (
            "long field value",
            Hit::new(
                "a.example",
                "/",
                HitKind::FormSubmit {
                    form: "f".into(),
                    fields: vec![FormField::new("q", long(&format!("{IP}{TYPED}"), 5000))],
                },
            ),
        ),
        (
            "long field name",
            Hit::new(
                "a.example",
                "/",
                HitKind::FormSubmit {
                    form: "f".into(),
                    fields: vec![FormField::new(long(&format!("{IP}{TYPED}"), 600), "v")],
                },
            ),
        ),
        (
            "long prop",
            Hit::new(
                "a.example",
                "/",
                HitKind::Custom {
                    name: "c".into(),
                    props: vec![(
                        "k".into(),
                        HitProp::Text(long(&format!("{IP}{TYPED}"), 5000)),
                    )],
                },
            ),
        ),
        (
            "long referrer",
            Hit::new(
                "a.example",
                "/",
                HitKind::PageView {
                    referrer: Some(long(&format!("https://{IP}/{TYPED}"), 9000)),
                },
            ),
        ),
        (
            "future",
            Hit::new("a.example", format!("/{IP}"), pv())
                .at(pledgedb::Timestamp::from_ymd_hms(2030, 1, 1, 0, 0, 0)),
        ),
        (
            "control characters in the domain",
            Hit::page_view(format!("a\u{0}{IP}.example"), "/"),
        ),
    ]
}

#[test]
fn probe_ingest_errors_never_echo_an_ip_or_typed_value() {
    let env = Env::new();
    let db = env.open();
    let mut leaks = Vec::new();
    for (what, h) in bad_hits() {
        for r in [
            db.ingest(h.clone()).map(|_| ()),
            db.ingest_batch([h]).remove(0).map(|_| ()),
        ] {
            if let Err(e) = r {
                let text = format!("{e} {e:?}");
                if text.contains(IP) || text.contains(TYPED) || text.contains("203.0.113") {
                    leaks.push(format!("{what}: {text}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[test]
fn probe_domain_and_visitor_errors_never_echo_an_ip_or_typed_value() {
    let env = Env::new();
    let db = env.open();
    let mut leaks = Vec::new();
    for name in [
        IP.to_string(),
        format!("{IP}.example"),
        format!("{TYPED} x"),
        format!("shop.{IP}"),
        format!("[{IP}]"),
        "2001:db8::1".to_string(),
    ] {
        for text in [
            db.domain(&name).err().map(|e| format!("{e}")),
            db.create_domain(&name).err().map(|e| format!("{e}")),
        ]
        .into_iter()
        .flatten()
        {
            if text.contains(IP) || text.contains(TYPED) || text.contains("2001:db8") {
                leaks.push(format!("{name}: {text}"));
            }
        }
    }
    let d = db.create_domain("ok.example").unwrap();
    for who in [
        VisitorRef::ClientId(IP.into()),
        VisitorRef::ClientId(TYPED.into()),
        VisitorRef::parse(IP),
    ] {
        for text in [
            d.erase_visitor(&who).err().map(|e| format!("{e} {e:?}")),
            d.export_visitor(&who).err().map(|e| format!("{e} {e:?}")),
        ]
        .into_iter()
        .flatten()
        {
            if text.contains(IP) || text.contains(TYPED) {
                leaks.push(format!("{who:?}: {text}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[test]
fn probe_domain_error_debug_never_echoes_an_ip() {
    let env = Env::new();
    let db = env.open();
    for name in [format!("{IP}.example"), format!("shop.{IP}")] {
        let Err(e) = db.domain(&name) else {
            panic!("the domain exists");
        };
        let dbg = format!("{e:?}");
        assert!(!dbg.contains(IP), "{name}: Debug prints the IP");
    }
}

#[test]
fn probe_visitor_ref_debug_never_echoes_a_client_id() {
    for who in [
        VisitorRef::ClientId(IP.into()),
        VisitorRef::ClientId(TYPED.into()),
        VisitorRef::parse(IP),
    ] {
        let dbg = format!("{who:?}");
        assert!(
            !dbg.contains(IP) && !dbg.contains(TYPED),
            "Debug prints the client id"
        );
    }
}
