//! The collector over HTTP: a real server on a loopback port, a real client.

mod common;

use common::*;
use pledgedb_core::domain::TimeRange;
use pledgedb_core::{
    Config, Db, Erasure, EventKind, Hit, HitKind, HitProp, ManualClock, Retention, VisitorRef,
};
use std::sync::Arc;

fn pageview(domain: &str, path: &str) -> String {
    format!(r#"{{"name":"pageview","url":"https://{domain}{path}","domain":"{domain}"}}"#)
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

#[test]
fn plausible_events_are_counted_exactly_as_the_typed_api_counts_them() {
    let s = TestServer::start(&["a.example"], |_| {});
    // the same hits through the typed API, into a reference engine
    let ref_dir = tempfile::tempdir().unwrap();
    let reference = Db::open(
        ref_dir.path(),
        Config::default().with_clock(Arc::new(ManualClock::new(start_time()))),
    )
    .unwrap();
    let paths = ["/", "/pricing", "/blog/one", "/", "/pricing", "/"];
    for (i, p) in paths.iter().enumerate() {
        let r = post(
            &s.url("/api/event"),
            &[("Content-Type", "text/plain"), ("User-Agent", UA)],
            &pageview("a.example", &format!("{p}?utm_source=news&x={i}")),
        );
        assert_eq!(r.status, 202, "{}", r.body);
        let _ = reference
            .ingest(
                Hit::page_view("a.example", format!("https://a.example{p}?utm_source=news"))
                    .ip("127.0.0.1".parse().unwrap())
                    .user_agent(UA),
            )
            .unwrap();
    }
    for plan in ["pro", "free", "pro"] {
        let r = post_json(
            &s.url("/api/event"),
            &format!(
                r#"{{"n":"Signup","u":"https://a.example/join","d":"a.example","p":{{"plan":"{plan}","seats":3}}}}"#
            ),
        );
        assert_eq!(r.status, 202, "{}", r.body);
        let _ = reference
            .ingest(Hit::new(
                "a.example",
                "https://a.example/join",
                HitKind::Custom {
                    name: "Signup".into(),
                    props: vec![
                        ("plan".into(), HitProp::Text(plan.into())),
                        ("seats".into(), HitProp::Int(3)),
                    ],
                },
            ))
            .unwrap();
    }
    reference.flush().unwrap();
    let events = s.events("a.example");
    let views = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PageView { .. }))
        .count();
    let signups: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Custom { name, props } if name.as_str() == "Signup" => Some(props.len()),
            _ => None,
        })
        .collect();
    assert_eq!(views, paths.len());
    assert_eq!(signups, vec![2, 2, 2]);
    assert_eq!(events.len(), paths.len() + 3);
    let served = s.db.domain("a.example").unwrap();
    let typed = reference.domain("a.example").unwrap();
    assert_eq!(
        served.count_by_path(TimeRange::all()).unwrap(),
        typed.count_by_path(TimeRange::all()).unwrap()
    );
    assert_eq!(
        served.count(TimeRange::all()).unwrap(),
        typed.count(TimeRange::all()).unwrap()
    );
    // the connection's address gave the country, and the user agent the browser
    assert!(events.iter().all(|e| e.country.as_str() == "US"));
}

#[test]
fn every_kind_of_batched_hit_is_stored() {
    let s = TestServer::start(&["a.example"], |_| {});
    let body = r#"{"hits":[
      {"type":"page_view","domain":"a.example","url":"https://a.example/f","referrer":"https://search.example/q"},
      {"type":"click","domain":"a.example","url":"https://a.example/f","x":10,"y":20,"target":"button#go"},
      {"type":"scroll","domain":"a.example","url":"https://a.example/f","depth":75},
      {"type":"form_view","domain":"a.example","url":"https://a.example/f","form":"signup"},
      {"type":"field_focus","domain":"a.example","url":"https://a.example/f","form":"signup","field":"email","input_type":"email"},
      {"type":"keystroke","domain":"a.example","url":"https://a.example/f","form":"signup","field":"email","key":"character","input_type":"email"},
      {"type":"keystroke","domain":"a.example","url":"https://a.example/f","form":"signup","field":"email","key":"delete"},
      {"type":"keystroke","domain":"a.example","url":"https://a.example/f","form":"signup","field":"pw","key":"character","input_type":"password"},
      {"type":"keystroke","domain":"a.example","url":"https://a.example/f","form":"signup","field":"x","key":"character","autocomplete":"cc-number"},
      {"type":"field_blur","domain":"a.example","url":"https://a.example/f","form":"signup","field":"email"},
      {"type":"form_submit","domain":"a.example","url":"https://a.example/f","form":"signup","fields":[{"name":"email","value":"kept@example.org","input_type":"email"},{"name":"pw","value":"hunter2-secret","input_type":"password"}]},
      {"type":"custom","domain":"a.example","url":"https://a.example/f","name":"signup","props":{"plan":"pro"}}
    ]}"#;
    let r = post(&s.url("/api/hits"), &[("Content-Type", "text/plain")], body);
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.body.contains("\"accepted\":10"), "{}", r.body);
    let events = s.events("a.example");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e.kind.event_type().as_str())
        .collect();
    for k in [
        "page_view",
        "click",
        "scroll",
        "form_view",
        "field_focus",
        "keystroke",
        "field_blur",
        "form_submit",
        "custom",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let keystrokes = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Keystroke { .. }))
        .count();
    assert_eq!(keystrokes, 2, "password and card keystrokes are dropped");
    let bytes = s.all_bytes();
    assert!(!contains(&bytes, b"hunter2-secret"));
    assert!(contains(&bytes, b"kept@example.org"));
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// (what, path, headers, body, status, reason)
type Case<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    String,
    u16,
    &'a str,
);

#[test]
fn every_bad_input_class_gets_its_status_and_writes_nothing() {
    let s = TestServer::start(&["a.example"], |c| {
        c.max_batch = 3;
        c.max_props = 4;
    });
    let marker = "Typed-Marker-7731";
    let big = format!(
        r#"{{"name":"pageview","url":"https://a.example/{}","domain":"a.example"}}"#,
        "x".repeat(70 * 1024)
    );
    let many_props: String = (0..5)
        .map(|i| format!(r#""p{i}":"{marker}""#))
        .collect::<Vec<_>>()
        .join(",");
    let json = [("Content-Type", "application/json")];
    let hit = |d: &str| format!(r#"{{"type":"page_view","domain":"{d}","url":"https://{d}/"}}"#);
    let cases: Vec<Case> = vec![
        (
            "unknown domain",
            "/api/event",
            json.to_vec(),
            pageview("unknown.example", "/"),
            400,
            "domain",
        ),
        (
            "unknown domain in a batch",
            "/api/hits",
            json.to_vec(),
            format!("[{}, {}]", hit("a.example"), hit("unknown.example")),
            400,
            "hits[1]: `domain`",
        ),
        (
            "a domain that is no name",
            "/api/event",
            json.to_vec(),
            pageview("203.0.113.9", "/"),
            400,
            "domain",
        ),
        (
            "one of several domains unknown",
            "/api/event",
            json.to_vec(),
            r#"{"n":"pageview","u":"https://a.example/","d":"a.example,unknown.example"}"#.into(),
            400,
            "domain",
        ),
        ("oversized body", "/api/event", json.to_vec(), big, 413, ""),
        (
            "malformed JSON",
            "/api/event",
            json.to_vec(),
            format!("{{\"name\":\"pageview\",{marker}"),
            400,
            "JSON",
        ),
        (
            "malformed batch",
            "/api/hits",
            json.to_vec(),
            format!("[{marker}"),
            400,
            "body",
        ),
        (
            "a batch that is not a list",
            "/api/hits",
            json.to_vec(),
            r#"{"name":"x"}"#.into(),
            400,
            "body",
        ),
        (
            "an empty batch",
            "/api/hits",
            json.to_vec(),
            "[]".into(),
            400,
            "empty",
        ),
        (
            "too many hits",
            "/api/hits",
            json.to_vec(),
            format!("[{0},{0},{0},{0}]", hit("a.example")),
            400,
            "limit is 3",
        ),
        (
            "too many props",
            "/api/event",
            json.to_vec(),
            format!(r#"{{"n":"e","u":"https://a.example/","d":"a.example","p":{{{many_props}}}}}"#),
            400,
            "props",
        ),
        (
            "too many props in a batch",
            "/api/hits",
            json.to_vec(),
            format!(
                r#"[{{"type":"custom","domain":"a.example","url":"/","name":"e","props":{{{many_props}}}}}]"#
            ),
            400,
            "props",
        ),
        (
            "a long property",
            "/api/event",
            json.to_vec(),
            format!(
                r#"{{"n":"e","u":"https://a.example/","d":"a.example","p":{{"a":"{}"}}}}"#,
                "v".repeat(600)
            ),
            400,
            "props",
        ),
        (
            "a url over the engine's limit",
            "/api/hits",
            json.to_vec(),
            format!(
                r#"[{{"type":"page_view","domain":"a.example","url":"https://a.example/{}"}}]"#,
                "u".repeat(9000)
            ),
            400,
            "url",
        ),
        (
            "a key that is a key",
            "/api/hits",
            json.to_vec(),
            format!(
                r#"[{},{{"type":"keystroke","domain":"a.example","url":"/","form":"f","field":"q","key":"{marker}"}}]"#,
                hit("a.example")
            ),
            400,
            "key",
        ),
        (
            "a missing field",
            "/api/event",
            json.to_vec(),
            r#"{"name":"pageview","domain":"a.example"}"#.into(),
            400,
            "url",
        ),
        (
            "wrong content type",
            "/api/event",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            pageview("a.example", "/"),
            415,
            "content-type",
        ),
        (
            "no content type",
            "/api/hits",
            vec![],
            format!("[{}]", hit("a.example")),
            415,
            "content-type",
        ),
        (
            "a replacement character, not JSON",
            "/api/event",
            vec![("Content-Type", "text/plain")],
            "\u{fffd}".into(),
            400,
            "JSON",
        ),
    ];
    for (what, path, headers, body, status, reason) in cases {
        let r = post(&s.url(path), &headers, &body);
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert!(r.body.contains(reason), "{what}: {}", r.body);
        assert!(
            !r.body.contains(marker),
            "{what} echoed a value: {}",
            r.body
        );
        assert!(
            !r.body.contains("203.0.113"),
            "{what} echoed an address: {}",
            r.body
        );
    }
    // bytes that are not UTF-8
    let r = post_bytes(
        &s.url("/api/hits"),
        &[("Content-Type", "text/plain")],
        b"[{\"type\":\"page_view\",\"domain\":\"a.example\",\"url\":\"/\xff\xfe\"}]",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("UTF-8"), "{}", r.body);
    assert_eq!(
        s.events("a.example").len(),
        0,
        "a refused request wrote something"
    );
    assert_eq!(s.db.domains(), vec!["a.example".to_owned()]);
    assert!(s.db.domain("unknown.example").is_err());
    assert!(!contains(&s.all_bytes(), b"unknown.example"));
    assert!(!contains(&s.all_bytes(), marker.as_bytes()));
}

#[test]
fn a_flood_over_the_rate_gets_429_and_writes_nothing_more() {
    let s = TestServer::start(&["a.example"], |c| {
        c.rate_burst = 5;
        c.rate_per_second = 1.0;
    });
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(post_json(&s.url("/api/event"), &pageview("a.example", "/")).status);
    }
    assert_eq!(statuses, [vec![202; 5], vec![429; 7]].concat());
    assert_eq!(s.events("a.example").len(), 5);
    // two seconds by the engine's clock refill two tokens: a batch of three
    // is refused whole, a batch of two accepted.
    s.clock.advance_millis(2000);
    let hit = r#"{"type":"page_view","domain":"a.example","url":"https://a.example/"}"#;
    let r = post_json(&s.url("/api/hits"), &format!("[{hit},{hit},{hit}]"));
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(s.events("a.example").len(), 5);
    s.clock.advance_millis(3000);
    let r = post_json(&s.url("/api/hits"), &format!("[{hit},{hit}]"));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(s.events("a.example").len(), 7);
}

#[test]
fn cors_allows_registered_origins_and_refuses_others() {
    let s = TestServer::start(&["a.example", "b.example"], |c| {
        c.extra_origins = vec!["http://localhost:3000".into()];
    });
    for o in [
        "https://a.example",
        "http://a.example",
        "https://www.a.example",
        "http://localhost:3000",
    ] {
        let r = options(
            &s.url("/api/hits"),
            &[
                ("Origin", o),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
        );
        assert_eq!(r.status, 204, "{o}");
        assert_eq!(r.header("access-control-allow-origin"), Some(o));
        let r = post(
            &s.url("/api/event"),
            &[("Origin", o), ("Content-Type", "text/plain")],
            &pageview("a.example", "/"),
        );
        assert_eq!(r.status, 202, "{o}: {}", r.body);
        assert_eq!(r.header("access-control-allow-origin"), Some(o));
    }
    for o in [
        "https://evil.example",
        "https://a.example.evil.example",
        "null",
    ] {
        let r = options(
            &s.url("/api/hits"),
            &[("Origin", o), ("Access-Control-Request-Method", "POST")],
        );
        assert_eq!(r.status, 403, "{o}");
        assert_eq!(r.header("access-control-allow-origin"), None);
        let r = post(
            &s.url("/api/event"),
            &[("Origin", o), ("Content-Type", "text/plain")],
            &pageview("a.example", "/"),
        );
        assert_eq!(r.status, 403, "{o}");
        assert_eq!(r.header("access-control-allow-origin"), None);
        // refused before the origin was judged: still no CORS for it
        for body in ["{", "[]"] {
            let r = post(
                &s.url("/api/hits"),
                &[("Origin", o), ("Content-Type", "text/plain")],
                body,
            );
            assert_eq!(r.status, 400, "{o}");
            assert_eq!(r.header("access-control-allow-origin"), None, "{o}");
        }
    }
    // a registered site's origin may not send hits for another site
    let r = post(
        &s.url("/api/event"),
        &[
            ("Origin", "https://b.example"),
            ("Content-Type", "text/plain"),
        ],
        &pageview("a.example", "/"),
    );
    assert_eq!(r.status, 403);
    assert_eq!(s.events("a.example").len(), 4);
    assert_eq!(s.events("b.example").len(), 0);
}

#[test]
fn the_opt_out_page_stops_collection_for_every_site() {
    let s = TestServer::start(&["a.example", "b.example"], |_| {});
    let page = get(&s.url("/opt-out"), &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-state=\"in\""));
    // the page covers every site, and lists none
    assert!(page.body.contains("every site this server collects for"));
    assert!(!page.body.contains("a.example") && !page.body.contains("b.example"));
    let own = format!("http://{}", s.addr);
    // cross-site and origin-less posts are refused
    for headers in [
        vec![("Origin", "https://evil.example")],
        vec![],
        vec![("Sec-Fetch-Site", "cross-site")],
    ] {
        let mut h = headers.clone();
        h.push(("Content-Type", "application/x-www-form-urlencoded"));
        let r = post(&s.url("/opt-out"), &h, "action=out");
        assert_eq!(r.status, 403, "{headers:?}");
        assert!(r.header("set-cookie").is_none());
    }
    let r = post(
        &s.url("/opt-out"),
        &[
            ("Origin", own.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "action=out",
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let set = r.header("set-cookie").unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let token = cookie.split_once('=').unwrap().1.to_owned();
    assert_eq!(token.len(), 32);
    assert!(s.db.is_opted_out(&token));
    let page = get(&s.url("/opt-out"), &[("Cookie", &cookie)]);
    assert!(page.body.contains("data-state=\"out\""), "{}", page.body);
    // no site records this browser, by either endpoint
    for d in ["a.example", "b.example"] {
        let r = post(
            &s.url("/api/event"),
            &[("Content-Type", "text/plain"), ("Cookie", &cookie)],
            &pageview(d, "/"),
        );
        assert_eq!(r.status, 202);
        let r = post(
            &s.url("/api/hits"),
            &[("Content-Type", "text/plain"), ("Cookie", &cookie)],
            &format!(
                r#"[{{"type":"click","domain":"{d}","url":"https://{d}/","x":1,"y":1,"opt_out_token":"other"}}]"#
            ),
        );
        assert_eq!(r.status, 202);
        assert!(r.body.contains("\"dropped\":1"), "{}", r.body);
        assert_eq!(s.events(d).len(), 0, "{d}");
    }
    // another browser is still counted
    assert_eq!(
        post_json(&s.url("/api/event"), &pageview("a.example", "/")).status,
        202
    );
    assert_eq!(s.events("a.example").len(), 1);
    // the transparency page counts the opt-out
    let privacy = get(&s.url("/privacy"), &[]);
    assert_eq!(privacy.status, 200);
    assert!(
        privacy.body.contains("opt-outs registered: 1"),
        "{}",
        privacy.body
    );
    assert!(!contains(&s.all_bytes(), token.as_bytes()));
    // opting back in resumes collection
    let r = post(
        &s.url("/opt-out"),
        &[
            ("Origin", own.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &cookie),
        ],
        "action=in",
    );
    assert_eq!(r.status, 303);
    assert!(!s.db.is_opted_out(&token));
    let r = post(
        &s.url("/api/event"),
        &[("Content-Type", "text/plain"), ("Cookie", &cookie)],
        &pageview("b.example", "/"),
    );
    assert_eq!(r.status, 202);
    assert_eq!(s.events("b.example").len(), 1);
}

/// A server for a.example, b.example and c.example whose data directory
/// has what only operators may see: an overdue erasure purge on a.example
/// and b.example, and quarantined files of b.example and of the global
/// file, with their causes.
fn server_with_operator_secrets() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clock = ManualClock::new(start_time());
    let config = pledgedb_server::ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        geoip: Some(geoip(dir.path())),
        ..pledgedb_server::ServerConfig::default()
    };
    let engine = || {
        let mut e = pledgedb_server::cli::engine_config(&config);
        e.clock = Arc::new(clock.clone());
        // no purge runs, so the erasures below pass their deadline unpurged
        e.background_compaction = false;
        e
    };
    let db = Db::open(&data, engine()).unwrap();
    for d in ["a.example", "b.example", "c.example"] {
        db.create_domain(d).unwrap();
    }
    db.close().unwrap();
    // files set aside by an earlier run, as the quarantine keeps them
    for (dir, file) in [
        ("quarantine/domains/b.example/segments", "2026-03-02.redb.0"),
        ("quarantine", "pledgedb.redb.0"),
    ] {
        let at = data.join(dir);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join(file), b"not a page store").unwrap();
        std::fs::write(
            at.join(format!("{file}.cause")),
            b"planted-cause: unreadable header\n",
        )
        .unwrap();
    }
    let db = Db::open(&data, engine()).unwrap();
    db.domain("a.example")
        .unwrap()
        .set_retention(Retention {
            raw_event_days: 33,
            ..Retention::default()
        })
        .unwrap();
    for d in ["a.example", "b.example"] {
        let _ = db
            .ingest(Hit::page_view(d, format!("https://{d}/")).client_id("gone-visitor"))
            .unwrap();
    }
    db.flush().unwrap();
    for d in ["a.example", "b.example"] {
        let r = db
            .domain(d)
            .unwrap()
            .erase_visitor(&VisitorRef::ClientId("gone-visitor".into()))
            .unwrap();
        assert!(matches!(r, Erasure::Pending(_)), "{d}: {r:?}");
    }
    clock.advance_millis(2 * 3_600_000);
    let health = db.health();
    assert_eq!(health.overdue_purges.len(), 2, "{health:?}");
    assert_eq!(health.quarantined.len(), 2, "{health:?}");
    let report = db.privacy_report().unwrap();
    assert_eq!(report.domains.len(), 3);
    TestServer::serve_open(db, config, clock, dir)
}

/// What only operators may see, in any spelling a page could give it.
const OPERATOR_ONLY: [&str; 7] = [
    "overdue",
    "quarantine",
    "planted-cause",
    "pledgedb.redb",
    "2026-03-02.redb",
    "pending",
    "deadline",
];

#[test]
fn the_public_pages_name_no_site_unless_asked_and_nothing_of_the_operators() {
    let s = server_with_operator_secrets();
    let sites = ["a.example", "b.example", "c.example"];
    for path in ["/privacy", "/privacy.json", "/opt-out"] {
        let r = get(&s.url(path), &[]);
        assert_eq!(r.status, 200, "{path}");
        for d in sites {
            assert!(!r.body.contains(d), "{path} names {d}: {}", r.body);
        }
        for secret in OPERATOR_ONLY {
            assert!(
                !r.body.contains(secret),
                "{path} shows {secret}: {}",
                r.body
            );
        }
    }
    // the page says how to see one site
    let page = get(&s.url("/privacy"), &[]);
    assert!(page.body.contains("?site=your.site"), "{}", page.body);
    assert!(page.body.contains("erasures completed: 0"), "{}", page.body);
    // the JSON has no list of sites, no purges and no files at all
    let json: serde_json::Value =
        serde_json::from_str(&get(&s.url("/privacy.json"), &[]).body).unwrap();
    assert!(json["site"].is_null(), "{json}");
    for key in ["domains", "overdue_purges", "quarantined_files"] {
        assert!(json.get(key).is_none(), "{key} in {json}");
    }
    assert!(json["recorded"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(json["hits_dropped"].is_array());

    // ?site=a.example: a.example's row and no other site
    let page = get(&s.url("/privacy?site=a.example"), &[]);
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<tr><td>a.example</td><td>33</td><td>730</td>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("/opt-out?site=a.example"),
        "{}",
        page.body
    );
    let json: serde_json::Value =
        serde_json::from_str(&get(&s.url("/privacy.json?site=a.example"), &[]).body).unwrap();
    assert_eq!(json["site"]["name"], "a.example", "{json}");
    assert_eq!(json["site"]["retention"]["raw_event_days"], 33);
    assert_eq!(json["site"]["erasure_requests"], 1);
    assert_eq!(json["site"]["consent"]["honour_dnt"], true);
    for key in ["domains", "overdue_purges", "quarantined_files"] {
        assert!(json.get(key).is_none(), "{key} in {json}");
    }
    let opt_out = get(&s.url("/opt-out?site=a.example"), &[]);
    assert!(
        opt_out.body.contains("<strong>a.example</strong>"),
        "{}",
        opt_out.body
    );
    assert!(opt_out.body.contains("action=\"/opt-out?site=a.example\""));
    for path in [
        "/privacy?site=a.example",
        "/privacy.json?site=a.example",
        "/opt-out?site=a.example",
        // the operators' own name for the parameter is not a way in
        "/privacy.json?site_id=b.example",
    ] {
        let r = get(&s.url(path), &[]);
        assert_eq!(r.status, 200, "{path}");
        for d in ["b.example", "c.example"] {
            assert!(!r.body.contains(d), "{path} names {d}: {}", r.body);
        }
        for secret in OPERATOR_ONLY {
            assert!(
                !r.body.contains(secret),
                "{path} shows {secret}: {}",
                r.body
            );
        }
    }
    // a site's name in another case is that site
    let upper = get(&s.url("/privacy.json?site=A.Example"), &[]);
    assert!(
        upper.body.contains("\"name\":\"a.example\""),
        "{}",
        upper.body
    );

    // unknown, malformed, repeated or hostile names show no row and are
    // never repeated
    for (query, raw) in [
        ("site=unknown.example", "unknown.example"),
        ("site=%3Cscript%3Ex%3C%2Fscript%3E", "<script>"),
        ("site=%3Cb%3Eq", "<b>"),
        ("site=a.example&site=b.example", "b.example"),
        ("site=", ""),
        ("site=%FF%FE", "\u{fffd}"),
        ("site=a.example%00", "a.example"),
    ] {
        for path in ["/privacy", "/privacy.json", "/opt-out"] {
            let r = get(&s.url(&format!("{path}?{query}")), &[]);
            assert_eq!(r.status, 200, "{path}?{query}");
            if !raw.is_empty() {
                assert!(!r.body.contains(raw), "{path}?{query}: {}", r.body);
            }
            for d in sites {
                assert!(!r.body.contains(d), "{path}?{query} names {d}");
            }
            assert!(!r.body.contains("<td>"), "{path}?{query}: {}", r.body);
            assert!(!r.body.contains("\"name\""), "{path}?{query}: {}", r.body);
        }
    }
}

#[test]
fn opting_out_from_a_sites_link_comes_back_to_that_site() {
    let s = TestServer::start(&["a.example", "b.example"], |_| {});
    let own = format!("http://{}", s.addr);
    let post_out = |query: &str| {
        post(
            &s.url(&format!("/opt-out{query}")),
            &[
                ("Origin", own.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "action=out",
        )
    };
    let r = post_out("?site=a.example");
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/opt-out?site=a.example"));
    let token = r
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .and_then(|c| c.split_once('='))
        .map(|(_, t)| t.to_owned())
        .unwrap();
    assert!(s.db.is_opted_out(&token), "the opt-out covers the server");
    // an unknown or hostile site goes back to the plain page
    for q in ["?site=unknown.example", "?site=%0d%0aSet-Cookie:x=1", ""] {
        let r = post_out(q);
        assert_eq!(r.status, 303, "{q}");
        assert_eq!(r.header("location"), Some("/opt-out"), "{q}");
    }
}

fn country_of_one_hit(s: &TestServer, xff: &str) -> String {
    let before = s.events("a.example").len();
    let r = post(
        &s.url("/api/event"),
        &[("Content-Type", "text/plain"), ("X-Forwarded-For", xff)],
        &pageview("a.example", "/"),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let events = s.events("a.example");
    assert_eq!(events.len(), before + 1);
    events.last().unwrap().country.as_str().to_owned()
}

#[test]
fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    // 127.0.0.0/8 is US, 203.0.113.0/24 DE, 198.51.100.0/24 FR
    let s = TestServer::start(&["a.example"], |_| {});
    assert_eq!(country_of_one_hit(&s, "203.0.113.9"), "US");
    drop(s);
    let s = TestServer::start(&["a.example"], |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    });
    assert_eq!(country_of_one_hit(&s, "203.0.113.9"), "DE");
    assert_eq!(country_of_one_hit(&s, "198.51.100.7, 203.0.113.9"), "DE");
    assert_eq!(country_of_one_hit(&s, "garbage"), "US");
    drop(s);
    let s = TestServer::start(&["a.example"], |c| {
        c.trusted_proxies = vec![
            "127.0.0.1/32".parse().unwrap(),
            "203.0.113.0/24".parse().unwrap(),
        ];
    });
    assert_eq!(country_of_one_hit(&s, "198.51.100.7, 203.0.113.9"), "FR");
    assert_eq!(
        country_of_one_hit(&s, "198.51.100.7, 203.0.113.9, 127.0.0.1"),
        "FR"
    );
}

#[test]
fn dnt_gpc_and_missing_consent_are_honoured() {
    let s = TestServer::start(&["a.example"], |_| {});
    for h in [("DNT", "1"), ("Sec-GPC", "1")] {
        let r = post(
            &s.url("/api/event"),
            &[("Content-Type", "text/plain"), h],
            &pageview("a.example", "/"),
        );
        assert_eq!(r.status, 202);
        let r = post(
            &s.url("/api/hits"),
            &[("Content-Type", "text/plain"), h],
            r#"[{"type":"page_view","domain":"a.example","url":"/"}]"#,
        );
        assert!(r.body.contains("\"dropped\":1"), "{}", r.body);
    }
    for body in [
        r#"[{"type":"page_view","domain":"a.example","url":"/","gpc":true}]"#,
        r#"[{"type":"page_view","domain":"a.example","url":"/","dnt":1}]"#,
    ] {
        let r = post_json(&s.url("/api/hits"), body);
        assert!(r.body.contains("\"dropped\":1"), "{}", r.body);
    }
    assert_eq!(s.events("a.example").len(), 0);
    // a client id without consent is not used: two "browsers" with one id
    // but no consent are cookieless, so their ids come from IP + UA
    let r = post_json(
        &s.url("/api/hits"),
        r#"[{"type":"page_view","domain":"a.example","url":"/","client_id":"cid-no-consent"},
            {"type":"page_view","domain":"a.example","url":"/","client_id":"cid-consent","consent":"granted"}]"#,
    );
    assert_eq!(r.status, 202);
    let events = s.events("a.example");
    let d = s.db.domain("a.example").unwrap();
    let with = d.visitor_id(&pledgedb_core::domain::VisitorRef::ClientId(
        "cid-consent".into(),
    ));
    let without = d.visitor_id(&pledgedb_core::domain::VisitorRef::ClientId(
        "cid-no-consent".into(),
    ));
    assert!(events.iter().any(|e| e.visitor == with));
    assert!(events.iter().all(|e| e.visitor != without));
}

#[test]
fn every_response_carries_the_security_headers() {
    let s = TestServer::start(&["a.example"], |_| {});
    let replies = vec![
        get(&s.url("/pledge.js"), &[]),
        get(&s.url("/pledge.full.js"), &[]),
        get(&s.url("/opt-out"), &[]),
        get(&s.url("/privacy"), &[]),
        get(&s.url("/privacy.json"), &[]),
        get(&s.url("/no-such-page"), &[]),
        post_json(&s.url("/api/event"), "{"),
        post_json(&s.url("/api/event"), &pageview("a.example", "/")),
        options(&s.url("/api/hits"), &[("Origin", "https://evil.example")]),
    ];
    for r in replies {
        let csp = r.header("content-security-policy").unwrap_or("");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.header("referrer-policy").is_some());
    }
    let js = get(&s.url("/pledge.js"), &[]);
    assert!(js.header("cache-control").unwrap().contains("max-age"));
    assert!(js.header("content-type").unwrap().contains("javascript"));
    let page = get(&s.url("/privacy"), &[]);
    assert!(!page.body.contains("<script") && !page.body.contains("style="));
}

#[test]
fn accepted_hits_become_durable_by_the_group_commit_alone() {
    let s = TestServer::start(&["a.example"], |c| {
        c.commit_interval = std::time::Duration::from_millis(20);
    });
    let r = post_json(&s.url("/api/event"), &pageview("a.example", "/"));
    assert_eq!(r.status, 202);
    // no flush by the test: the server's own background commit makes it
    // visible (and durable); wait for it, bounded.
    let d = s.db.domain("a.example").unwrap();
    let mut seen = 0;
    for _ in 0..500 {
        seen = d.count(TimeRange::all()).unwrap();
        if seen == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(seen, 1, "the group commit never made the hit visible");
}

#[test]
fn a_graceful_stop_flushes_what_was_accepted() {
    let mut s = TestServer::start(&["a.example"], |c| {
        c.commit_interval = std::time::Duration::from_secs(3600);
    });
    for _ in 0..3 {
        assert_eq!(
            post_json(&s.url("/api/event"), &pageview("a.example", "/")).status,
            202
        );
    }
    let d = s.db.domain("a.example").unwrap();
    // the stop waits for the final flush: after it, all three are there
    // (the engine's writers may have committed some already).
    s.stop();
    assert_eq!(d.count(TimeRange::all()).unwrap(), 3);
}

#[test]
fn the_logs_hold_no_client_address_and_no_client_id() {
    let log = pledgedb_server::log::capture();
    let s = TestServer::start(&["a.example"], |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.rate_burst = 30;
    });
    let id = "Raw-Client-Id-5521";
    let mut statuses = Vec::new();
    for i in 0..40 {
        let xff = format!("203.0.113.{}", 7 + i / 100);
        let bodies = [
            format!(
                r#"[{{"type":"page_view","domain":"a.example","url":"https://a.example/?ip=198.51.100.{i}","client_id":"{id}","consent":"granted"}}]"#
            ),
            format!(
                r#"[{{"type":"page_view","domain":"unknown.example","url":"/","client_id":"{id}"}}]"#
            ),
            format!(r#"[{{"type":"page_view","domain":"a.example","url":"/","ip":"{id}"}}]"#),
            format!("[{id}"),
        ];
        let r = post(
            &s.url("/api/hits"),
            &[
                ("Content-Type", "text/plain"),
                ("X-Forwarded-For", &xff),
                ("User-Agent", UA),
            ],
            &bodies[i % bodies.len()],
        );
        statuses.push(r.status);
    }
    assert!(statuses.contains(&202) && statuses.contains(&400) && statuses.contains(&429));
    drop(s);
    let text = log.text();
    assert!(text.contains("pledgedb-serve:"), "nothing was logged");
    assert!(
        !pledgedb_core::text::contains_ip(&text),
        "the log holds an address: {text}"
    );
    assert!(!text.contains(id), "the log holds a client id");
    assert!(!text.contains("203.0.113") && !text.contains("198.51.100"));
}
