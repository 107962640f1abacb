//! Every input limit of `Limits` (and the domain-name rules): a hit exactly
//! at the limit is accepted, one byte or one entry over is refused with a
//! `HitError` naming the field, and a refused hit writes nothing — not its
//! event, not its strings, not even the domain it names.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Config, Db, DomainNameError, FormField, Hit, HitError, HitField, HitKind, HitProblem, HitProp,
    IngestError, Ingested, KeyKind, Limits, TimeRange, time::MS_PER_DAY,
};

const DOMAIN: &str = "limits.example";

/// Markers in the rejected hits; no file may ever hold one.
fn rejected_marker(i: usize) -> String {
    format!("REJECTEDMARK{i:03}Z")
}

/// `s` padded with `c` to exactly `len` bytes.
fn padded(s: &str, c: char, len: usize) -> String {
    let mut out = s.to_string();
    while out.len() + c.len_utf8() <= len {
        out.push(c);
    }
    while out.len() < len {
        out.push('x');
    }
    assert_eq!(out.len(), len);
    out
}

fn base(url: impl Into<String>) -> Hit {
    Hit::page_view(DOMAIN, url).at(start_time())
}

fn with_kind(kind: HitKind) -> Hit {
    Hit::new(DOMAIN, "/k", kind).at(start_time())
}

/// One limit: a hit at the limit, the same hit one over, and the field the
/// refusal must name.
struct Case {
    what: &'static str,
    at: Hit,
    over: Hit,
    field: HitField,
}

fn cases(l: &Limits, marker: &dyn Fn(usize) -> String) -> Vec<Case> {
    let mut v = Vec::new();
    let mut n = 0;
    let mut m = || {
        n += 1;
        marker(n)
    };
    // Strings, in bytes: ASCII and, where it matters, multi-byte text that
    // fills the limit exactly.
    v.push(Case {
        what: "url",
        at: base(padded("/", 'a', l.max_url)),
        over: base(padded(&format!("/{}", m()), 'a', l.max_url + 1)),
        field: HitField::Url,
    });
    v.push(Case {
        what: "url, multi-byte",
        at: base(padded("/", 'é', l.max_url)),
        over: base(padded(&format!("/{}", m()), 'é', l.max_url + 1)),
        field: HitField::Url,
    });
    let referrer = |r: String| {
        Hit::new(DOMAIN, "/r", HitKind::PageView { referrer: Some(r) }).at(start_time())
    };
    v.push(Case {
        what: "referrer",
        at: referrer(padded("https://r.example/", 'b', l.max_url)),
        over: referrer(padded(
            &format!("https://r.example/{}", m()),
            'b',
            l.max_url + 1,
        )),
        field: HitField::Referrer,
    });
    v.push(Case {
        what: "user agent",
        at: base("/ua").user_agent(padded("Mozilla/5.0 ", 'c', l.max_user_agent)),
        over: base(format!("/{}", m())).user_agent(padded(
            "Mozilla/5.0 ",
            'c',
            l.max_user_agent + 1,
        )),
        field: HitField::UserAgent,
    });
    v.push(Case {
        what: "client id",
        at: base("/cid").client_id(padded("c", 'd', l.max_id)),
        over: base(format!("/{}", m())).client_id(padded("c", 'd', l.max_id + 1)),
        field: HitField::ClientId,
    });
    v.push(Case {
        what: "session id",
        at: base("/sid")
            .client_id("v")
            .session_id(padded("s", 'e', l.max_id)),
        over: base(format!("/{}", m()))
            .client_id("v")
            .session_id(padded("s", 'e', l.max_id + 1)),
        field: HitField::SessionId,
    });
    v.push(Case {
        what: "opt-out token",
        at: base("/tok").opt_out_token(padded("t", 'f', l.max_id)),
        over: base(format!("/{}", m())).opt_out_token(padded("t", 'f', l.max_id + 1)),
        field: HitField::OptOutToken,
    });
    let click = |t: String| {
        with_kind(HitKind::Click {
            x: 1,
            y: 2,
            target: t,
        })
    };
    v.push(Case {
        what: "click target",
        at: click(padded("#", 'g', l.max_name)),
        over: click(padded(&format!("#{}", m()), 'g', l.max_name + 1)),
        field: HitField::Target,
    });
    v.push(Case {
        what: "scroll depth",
        at: with_kind(HitKind::Scroll { depth: 100 }),
        over: Hit::new(DOMAIN, format!("/{}", m()), HitKind::Scroll { depth: 101 })
            .at(start_time()),
        field: HitField::Depth,
    });
    v.push(Case {
        what: "form name",
        at: with_kind(HitKind::FormView {
            form: padded("f", 'h', l.max_name),
        }),
        over: with_kind(HitKind::FormView {
            form: padded(&m(), 'h', l.max_name + 1),
        }),
        field: HitField::Form,
    });
    v.push(Case {
        what: "field name",
        at: with_kind(HitKind::Keystroke {
            form: "f".into(),
            field: padded("x", 'i', l.max_name),
            key: KeyKind::Character,
        }),
        over: with_kind(HitKind::FieldFocus {
            form: "f".into(),
            field: padded(&m(), 'i', l.max_name + 1),
        }),
        field: HitField::Field,
    });
    v.push(Case {
        what: "field name (blur)",
        at: with_kind(HitKind::FieldBlur {
            form: padded("f", 'i', l.max_name),
            field: "x".into(),
        }),
        over: with_kind(HitKind::FieldBlur {
            form: "f".into(),
            field: padded(&m(), 'i', l.max_name + 1),
        }),
        field: HitField::Field,
    });
    let submit = |fields: Vec<FormField>| {
        with_kind(HitKind::FormSubmit {
            form: "signup".into(),
            fields,
        })
    };
    let fields = |n: usize| {
        (0..n)
            .map(|i| FormField::new(format!("f{i}"), "v"))
            .collect::<Vec<_>>()
    };
    v.push(Case {
        what: "form fields",
        at: submit(fields(l.max_fields)),
        over: {
            let mut f = fields(l.max_fields + 1);
            f[0].value = m();
            submit(f)
        },
        field: HitField::Fields,
    });
    let last = l.max_fields - 1;
    v.push(Case {
        what: "submitted field name",
        at: {
            let mut f = fields(l.max_fields);
            f[last].name = padded("n", 'j', l.max_name);
            submit(f)
        },
        over: {
            let mut f = fields(l.max_fields);
            f[last].name = padded(&m(), 'j', l.max_name + 1);
            submit(f)
        },
        field: HitField::FieldName(last),
    });
    v.push(Case {
        what: "submitted field value",
        at: {
            let mut f = fields(l.max_fields);
            f[last].value = padded("v", 'k', l.max_value);
            submit(f)
        },
        over: {
            let mut f = fields(l.max_fields);
            f[last].value = padded(&m(), 'k', l.max_value + 1);
            submit(f)
        },
        field: HitField::FieldValue(last),
    });
    let custom =
        |name: String, props: Vec<(String, HitProp)>| with_kind(HitKind::Custom { name, props });
    let props = |n: usize| {
        (0..n)
            .map(|i| (format!("k{i}"), HitProp::Int(i as i64)))
            .collect::<Vec<_>>()
    };
    v.push(Case {
        what: "custom event name",
        at: custom(padded("e", 'l', l.max_name), vec![]),
        over: custom(padded(&m(), 'l', l.max_name + 1), vec![]),
        field: HitField::Name,
    });
    v.push(Case {
        what: "custom properties",
        at: custom("e".into(), props(l.max_props)),
        over: {
            let mut p = props(l.max_props + 1);
            p[0].1 = HitProp::Text(m());
            custom("e".into(), p)
        },
        field: HitField::Props,
    });
    let lastp = l.max_props - 1;
    v.push(Case {
        what: "property key",
        at: {
            let mut p = props(l.max_props);
            p[lastp].0 = padded("k", 'o', l.max_name);
            custom("e".into(), p)
        },
        over: {
            let mut p = props(l.max_props);
            p[lastp].0 = padded(&m(), 'o', l.max_name + 1);
            custom("e".into(), p)
        },
        field: HitField::PropKey(lastp),
    });
    v.push(Case {
        what: "property text",
        at: {
            let mut p = props(l.max_props);
            p[lastp].1 = HitProp::Text(padded("t", 'p', l.max_value));
            custom("e".into(), p)
        },
        over: {
            let mut p = props(l.max_props);
            p[lastp].1 = HitProp::Text(padded(&m(), 'p', l.max_value + 1));
            custom("e".into(), p)
        },
        field: HitField::PropValue(lastp),
    });
    v.push(Case {
        what: "property float",
        at: custom("e".into(), vec![("k".into(), HitProp::Float(f64::MAX))]),
        over: custom(
            m(),
            vec![
                ("k".into(), HitProp::Float(1.0)),
                ("k2".into(), HitProp::Float(f64::INFINITY)),
            ],
        ),
        field: HitField::PropValue(1),
    });
    // Time: `max_past_days` into the past and `max_future_hours` into the
    // future are accepted to the millisecond.
    let now = start_time();
    let past = now.plus_millis(-l.max_past_days * MS_PER_DAY);
    let future = now.plus_millis(l.max_future_hours * 3_600_000);
    v.push(Case {
        what: "timestamp, past",
        at: base("/past").at(past),
        over: base(format!("/{}", m())).at(past.plus_millis(-1)),
        field: HitField::Timestamp,
    });
    v.push(Case {
        what: "timestamp, future",
        at: base("/future").at(future),
        over: base(format!("/{}", m())).at(future.plus_millis(1)),
        field: HitField::Timestamp,
    });
    v
}

/// A config whose domains keep raw events longer than `max_past_days`, so
/// that a hit at the past limit is stored rather than dropped as expired.
fn config(env: &Env, limits: Limits) -> Config {
    let mut c = env.config();
    c.limits = limits;
    c.domain_defaults.retention.raw_event_days = 36_500;
    c.domain_defaults.retention.aggregate_days = 36_500;
    c
}

fn run_limits(limits: Limits) {
    let env = Env::new();
    let db = Db::open(&env.data, config(&env, limits)).unwrap();
    let all = cases(&limits, &rejected_marker);
    // A refused hit for a domain that does not exist yet creates nothing.
    for c in &all {
        let got = db.ingest(c.over.clone());
        match got {
            Err(IngestError::Hit(HitError { field, problem })) => {
                assert_eq!(field, c.field, "{}: field named", c.what);
                match field {
                    HitField::Timestamp => {
                        assert!(matches!(problem, HitProblem::OutOfRange(_)), "{}", c.what)
                    }
                    HitField::Depth | HitField::PropValue(_)
                        if !matches!(problem, HitProblem::TooLong { .. }) =>
                    {
                        assert!(matches!(problem, HitProblem::Invalid(_)), "{}", c.what)
                    }
                    HitField::Fields | HitField::Props => assert!(
                        matches!(problem, HitProblem::TooMany { len, max } if len == max + 1),
                        "{}: {problem:?}",
                        c.what
                    ),
                    _ => assert!(
                        matches!(problem, HitProblem::TooLong { len, max } if len == max + 1),
                        "{}: {problem:?}",
                        c.what
                    ),
                }
            }
            other => panic!("{}: one over the limit gave {other:?}", c.what),
        }
        // The same hits through the batch path.
        let batch = db.ingest_batch([c.over.clone()]);
        assert!(
            matches!(&batch[..], [Err(IngestError::Hit(HitError { field, .. }))] if *field == c.field),
            "{}: batch",
            c.what
        );
    }
    assert!(db.domains().is_empty(), "a refused hit created its domain");
    db.flush().unwrap();
    for c in &all {
        let got = db.ingest(c.at.clone());
        assert!(
            matches!(got, Ok(Ingested::Queued | Ingested::QueuedAnonymous)),
            "{}: at the limit gave {got:?}",
            c.what
        );
    }
    // Refused again, now that the domain exists: still nothing stored.
    for c in &all {
        assert!(db.ingest(c.over.clone()).is_err(), "{}", c.what);
    }
    db.flush().unwrap();
    let d = db.domain(DOMAIN).unwrap();
    assert_eq!(
        d.count(TimeRange::all()).unwrap(),
        all.len() as u64,
        "exactly the hits at the limit are stored"
    );
    drop(d);
    db.close().unwrap();
    let markers: Vec<String> = (1..=all.len()).map(rejected_marker).collect();
    let found = common::find_any(&env.data, &markers);
    assert!(
        found.is_empty(),
        "refused hits left bytes behind: {found:?}"
    );
}

#[test]
fn default_limits_accept_at_the_limit_and_refuse_one_over() {
    run_limits(Limits::default());
}

#[test]
fn configured_limits_are_the_ones_enforced() {
    run_limits(Limits {
        max_url: 100,
        max_user_agent: 40,
        max_id: 20,
        max_name: 30,
        max_value: 50,
        max_fields: 3,
        max_props: 2,
        max_past_days: 400,
        max_future_hours: 2,
    });
}

#[test]
fn domain_names_at_their_limits() {
    let env = Env::new();
    let db = env.open();
    let label63 = "a".repeat(63);
    // 253 bytes: four labels of 63 and one dot each, minus one byte.
    let name253 = format!("{l}.{l}.{l}.{}", "b".repeat(253 - 3 * 64), l = label63);
    assert_eq!(name253.len(), 253);
    let name254 = format!("{name253}c");
    let label64 = format!("{}.example", "a".repeat(64));
    let ok = [format!("{label63}.example"), name253];
    for name in &ok {
        let r = db.ingest(Hit::page_view(name.as_str(), "/").at(start_time()));
        assert!(matches!(r, Ok(Ingested::QueuedAnonymous)), "{name}: {r:?}");
    }
    for (name, want) in [
        (name254.clone(), DomainNameError::TooLong(254)),
        (label64.clone(), DomainNameError::InvalidLabel),
        ("Upper.example".to_string(), DomainNameError::InvalidChar(0)),
        ("203.0.113.9".to_string(), DomainNameError::IpLiteral),
    ] {
        match db.ingest(Hit::page_view(name.as_str(), "/").at(start_time())) {
            Err(IngestError::Hit(HitError {
                field: HitField::Domain,
                problem: HitProblem::DomainName(e),
            })) => assert_eq!(e, want, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut names = db.domains();
    names.sort();
    let mut want = ok.to_vec();
    want.sort();
    assert_eq!(names, want, "only the valid names became domains");
    db.close().unwrap();
    let dirs: Vec<String> = std::fs::read_dir(env.data.join("domains"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
}
