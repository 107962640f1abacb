//! Promise P4: an event kept without a visitor id holds nothing a person
//! typed. Every hit kind is sent with a marker in every free-text place, in
//! the three ways a hit ends up without an id (consent denied; consent
//! required and not given; no client id and no IP), and every byte of every
//! file is scanned for the markers that must be gone; the markers that may
//! stay are read back. A control domain with consent shows that the same
//! hits keep their typed data when they are linked to a visitor who can
//! export and erase it.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Consent, ConsentPolicy, Event, EventKind, FormField, Hit, HitKind, HitProp, Ingested, KeyKind,
    PropValue, SessionId, TimeRange, VisitorId,
};

/// Markers of the places an anonymous event keeps.
const STAYS: &[&str] = &[
    "pathmark",
    "utmsourcemark",
    "utmmediummark",
    "utmcampaignmark",
    "refhostmark",
    "clicktargetmark",
    "formviewmark",
    "focusformmark",
    "focusfieldmark",
    "keyformmark",
    "keyfieldmark",
    "blurformmark",
    "blurfieldmark",
    "submitformmark",
    "customnamemark",
    "numpropmark",
    "boolpropmark",
];

/// Markers of the places it must not keep.
const GONE: &[&str] = &[
    "utmtermmark",
    "utmcontentmark",
    "utmothermark",
    "querymark",
    "fragmentmark",
    "refpathmark",
    "refquerymark",
    "submitfieldmark",
    "submitvaluemark",
    "submitothermark",
    "textpropkeymark",
    "textpropvaluemark",
    "uamark",
    "clientidmark",
    "sessionidmark",
    "tokenmark",
];

/// Every hit kind, with `tag` in every marker.
fn hits(domain: &str, tag: &str) -> Vec<Hit> {
    let m = |s: &str| format!("{s}{tag}");
    let url = format!(
        "https://{domain}/{}/page?q={}&utm_source={}&utm_medium={}&utm_campaign={}&utm_term={}&utm_content={}&utm_extra={}#{}",
        m("pathmark"),
        m("querymark"),
        m("utmsourcemark"),
        m("utmmediummark"),
        m("utmcampaignmark"),
        m("utmtermmark"),
        m("utmcontentmark"),
        m("utmothermark"),
        m("fragmentmark"),
    );
    let kinds = vec![
        HitKind::PageView {
            referrer: Some(format!(
                "https://{}.example/{}?s={}",
                m("refhostmark"),
                m("refpathmark"),
                m("refquerymark")
            )),
        },
        HitKind::Click {
            x: 3,
            y: 4,
            target: m("clicktargetmark"),
        },
        HitKind::Scroll { depth: 70 },
        HitKind::FormView {
            form: m("formviewmark"),
        },
        HitKind::FieldFocus {
            form: m("focusformmark"),
            field: m("focusfieldmark"),
        },
        HitKind::Keystroke {
            form: m("keyformmark"),
            field: m("keyfieldmark"),
            key: KeyKind::Character,
        },
        HitKind::FieldBlur {
            form: m("blurformmark"),
            field: m("blurfieldmark"),
        },
        HitKind::FormSubmit {
            form: m("submitformmark"),
            fields: vec![
                FormField::new(m("submitfieldmark"), m("submitvaluemark")),
                FormField::new("email", m("submitothermark")),
            ],
        },
        HitKind::Custom {
            name: m("customnamemark"),
            props: vec![
                (m("textpropkeymark"), HitProp::Text(m("textpropvaluemark"))),
                (m("numpropmark"), HitProp::Int(7)),
                (m("boolpropmark"), HitProp::Bool(true)),
            ],
        },
    ];
    kinds
        .into_iter()
        .map(|k| {
            Hit::new(domain, url.clone(), k)
                .user_agent(format!(
                    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0 {}",
                    m("uamark")
                ))
                .client_id(m("clientidmark"))
                .session_id(m("sessionidmark"))
                .opt_out_token(m("tokenmark"))
                .at(start_time())
        })
        .collect()
}

/// The free text an event shows through the public API.
fn texts(e: &Event) -> Vec<String> {
    let mut v = vec![e.path.to_string(), e.browser.to_string()];
    match &e.kind {
        EventKind::PageView { referrer, utm } => {
            v.push(referrer.to_string());
            v.push(utm.to_string());
        }
        EventKind::Click { target, .. } => v.push(target.to_string()),
        EventKind::Scroll { .. } => {}
        EventKind::FormView { form } => v.push(form.to_string()),
        EventKind::FieldFocus { form, field }
        | EventKind::Keystroke { form, field, .. }
        | EventKind::FieldBlur { form, field } => {
            v.push(form.to_string());
            v.push(field.to_string());
        }
        EventKind::FormSubmit { form, fields } => {
            v.push(form.to_string());
            for f in fields {
                v.push(f.name.to_string());
                v.push(f.value.to_string());
            }
        }
        EventKind::Custom { name, props } => {
            v.push(name.to_string());
            for (k, p) in props {
                v.push(k.to_string());
                if let PropValue::Text(t) = p {
                    v.push(t.to_string());
                }
            }
        }
    }
    v
}

#[test]
fn events_without_a_visitor_id_keep_nothing_a_person_typed() {
    let env = Env::new();
    let db = env.open();
    // 1. The default policy, consent denied.
    let _ = db.create_domain("denied.example").unwrap();
    // 2. Consent required, the tracker did not say.
    let required = db.create_domain("required.example").unwrap();
    required
        .set_consent_policy(ConsentPolicy {
            require_consent: true,
            ..ConsentPolicy::default()
        })
        .unwrap();
    // 3. Consent given, but nothing to derive a visitor id from.
    let _ = db.create_domain("noid.example").unwrap();
    // Control: consent given, with a client id.
    let _ = db.create_domain("granted.example").unwrap();

    let anon: [(&str, &str); 3] = [
        ("denied.example", "aa"),
        ("required.example", "bb"),
        ("noid.example", "cc"),
    ];
    for (domain, tag) in anon {
        for mut h in hits(domain, tag) {
            match domain {
                "denied.example" => h = h.consent(Consent::Denied),
                "noid.example" => {
                    h.client_id = None;
                    h = h.consent(Consent::Granted);
                }
                _ => {}
            }
            assert_eq!(db.ingest(h).unwrap(), Ingested::QueuedAnonymous, "{domain}");
        }
    }
    for h in hits("granted.example", "zz") {
        assert_eq!(
            db.ingest(h.consent(Consent::Granted)).unwrap(),
            Ingested::Queued
        );
    }
    drop(required);
    db.close().unwrap();

    // Not one byte of a typed marker of an id-less event in any file.
    let mut gone = Vec::new();
    for (_, tag) in anon {
        gone.extend(GONE.iter().map(|g| format!("{g}{tag}")));
    }
    let found = common::find_any(&env.data, &gone);
    assert!(
        found.is_empty(),
        "typed data of id-less events stored: {found:?}"
    );

    let db = env.open();
    for (domain, tag) in anon {
        let events = db.domain(domain).unwrap().events(TimeRange::all()).unwrap();
        assert_eq!(events.len(), 9, "{domain}: one event per hit kind");
        let all: Vec<String> = events.iter().flat_map(texts).collect();
        for e in &events {
            assert_eq!(e.visitor, VisitorId::ANONYMOUS, "{domain}");
            assert_eq!(e.session, SessionId(0), "{domain}");
            match &e.kind {
                EventKind::FormSubmit { fields, .. } => {
                    assert!(fields.is_empty(), "{domain}: no submitted field at all");
                }
                EventKind::Custom { props, .. } => {
                    assert!(
                        props.iter().all(|(_, p)| !matches!(p, PropValue::Text(_))),
                        "{domain}: no text property"
                    );
                    assert_eq!(props.len(), 2, "{domain}: numbers and booleans stay");
                }
                EventKind::PageView { utm, .. } => assert_eq!(
                    utm.as_str(),
                    format!(
                        "utm_source=utmsourcemark{tag}&utm_medium=utmmediummark{tag}&utm_campaign=utmcampaignmark{tag}"
                    ),
                    "{domain}"
                ),
                _ => {}
            }
        }
        for s in STAYS {
            let marker = format!("{s}{tag}");
            assert!(
                all.iter().any(|t| t.contains(&marker)),
                "{domain}: {marker} should stay"
            );
        }
        for g in GONE {
            let marker = format!("{g}{tag}");
            assert!(
                all.iter().all(|t| !t.contains(&marker)),
                "{domain}: {marker} should be gone"
            );
        }
    }

    // The control keeps what its visitor typed: it can be exported and
    // erased.
    let events = db
        .domain("granted.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap();
    assert_eq!(events.len(), 9);
    assert!(events.iter().all(|e| e.visitor != VisitorId::ANONYMOUS));
    let all: Vec<String> = events.iter().flat_map(texts).collect();
    for m in [
        "submitvaluemarkzz",
        "submitfieldmarkzz",
        "textpropvaluemarkzz",
        "utmtermmarkzz",
        "utmcontentmarkzz",
    ] {
        assert!(all.iter().any(|t| t.contains(m)), "{m} kept with consent");
    }
}
