//! The Stats API against the typed query API, over a generated dataset on
//! a real loopback server: every metric, dimension and filter operator;
//! unsupported parts named in a 400; an erased visitor gone from every
//! answer, before and after compaction.

mod api_common;
use api_common as common;

use std::collections::HashMap;

use common::{METRICS, SITES, Served, first_day, serve};
use pledgedb_core::query::{FilterExpr, FilterField};
use pledgedb_core::{
    Country, DayRange, Device, Dimension, EventKind, Filters, Metrics, Query, Source, TimeRange,
    VisitorId,
};
use pledgedb_server::auth::Scope;
use serde_json::{Value, json};

const DIMS: [(&str, Option<Dimension>); 6] = [
    ("event:page", Some(Dimension::Page)),
    ("visit:entry_page", Some(Dimension::EntryPage)),
    ("visit:source", Some(Dimension::Referrer)),
    ("visit:country", Some(Dimension::Country)),
    ("visit:device", Some(Dimension::Device)),
    ("visit:browser", Some(Dimension::Browser)),
];

/// Plausible's value of a metric, computed here from the typed answer.
fn expected(name: &str, m: &Metrics) -> Value {
    match name {
        "visitors" => json!(m.visitors),
        "visits" => json!(m.visits),
        "pageviews" => json!(m.pageviews),
        "events" => json!(m.events),
        "views_per_visit" if m.visits == 0 => json!(0.0),
        "views_per_visit" => {
            json!(((m.pageviews as f64 / m.visits as f64) * 100.0).round() / 100.0)
        }
        "bounce_rate" if m.visits == 0 => json!(0),
        "bounce_rate" => json!((m.bounces as f64 * 100.0 / m.visits as f64).round() as u64),
        "visit_duration" if m.visits == 0 => json!(0),
        "visit_duration" => {
            json!(((m.duration_ms / m.visits) as f64 / 1000.0).round() as u64)
        }
        _ => unreachable!(),
    }
}

fn rows_of(rows: Vec<(Option<String>, Metrics)>) -> Vec<Value> {
    rows.into_iter()
        .map(|(d, m)| {
            json!({
                "metrics": METRICS.iter().map(|n| expected(n, &m)).collect::<Vec<_>>(),
                "dimensions": d.into_iter().collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The typed API's answer to (dimension, filter), as Stats API rows.
fn typed(s: &Served, site: &str, q: &Query, dim: Option<&str>) -> Vec<Value> {
    let d = s.db.domain(site).unwrap();
    let rows = match dim {
        None => vec![(None, d.metrics(q).unwrap())],
        Some("time:day") => d
            .timeseries(q)
            .unwrap()
            .into_iter()
            .map(|(day, m)| (Some(day.to_string()), m))
            .collect(),
        Some(name) => {
            let dim = DIMS.iter().find(|(n, _)| *n == name).unwrap().1.unwrap();
            d.breakdown(q, dim, usize::MAX)
                .unwrap()
                .into_iter()
                .map(|(k, m)| (Some(k), m))
                .collect()
        }
    };
    rows_of(rows)
}

fn range() -> DayRange {
    DayRange::new(first_day(), first_day().plus(common::DAYS as i32 - 1))
}

fn dates() -> Value {
    json!([range().first.to_string(), range().last.to_string()])
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_string()).collect()
}

/// Values that occur in the data, for filters that match something.
struct Seen {
    pages: Vec<String>,
    countries: Vec<String>,
    device: String,
    browser: String,
    referrer: String,
}

fn seen(s: &Served, site: &str) -> Seen {
    let d = s.db.domain(site).unwrap();
    let q = Query::days(range());
    let top = |dim| {
        d.breakdown(&q, dim, 5)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
    };
    let referrers = top(Dimension::Referrer);
    Seen {
        pages: top(Dimension::Page),
        countries: top(Dimension::Country),
        device: top(Dimension::Device)[0].clone(),
        browser: top(Dimension::Browser)[0].clone(),
        referrer: referrers
            .iter()
            .find(|r| r.as_str() != "(direct)")
            .unwrap_or(&referrers[0])
            .clone(),
    }
}

/// (filters as sent, the expression the typed API is asked)
fn filter_table(v: &Seen) -> Vec<(Value, Option<FilterExpr>)> {
    use FilterField as F;
    let (p1, p2) = (v.pages[0].as_str(), v.pages[1].as_str());
    let (c1, c2) = (v.countries[0].as_str(), v.countries[1].as_str());
    let frag = &p2[..p2.len().min(3)];
    let bfrag = &v.browser[..v.browser.len().min(3)];
    vec![
        (json!([]), None),
        (
            json!([["is", "event:page", [p1]]]),
            Some(FilterExpr::Is(F::Page, s(&[p1]))),
        ),
        (
            json!([["is", "event:page", [p1, p2]]]),
            Some(FilterExpr::Is(F::Page, s(&[p1, p2]))),
        ),
        (
            json!([["is_not", "visit:country", [c1]]]),
            Some(FilterExpr::IsNot(F::Country, s(&[c1]))),
        ),
        (
            json!([["contains", "event:page", [frag]]]),
            Some(FilterExpr::Contains(F::Page, s(&[frag]))),
        ),
        (
            json!([["contains_not", "visit:browser", [bfrag]]]),
            Some(FilterExpr::Not(Box::new(FilterExpr::Contains(
                F::Browser,
                s(&[bfrag]),
            )))),
        ),
        (
            json!([
                ["is", "visit:country", [c1, c2]],
                ["is", "visit:device", [v.device]]
            ]),
            Some(FilterExpr::And(vec![
                FilterExpr::Is(F::Country, s(&[c1, c2])),
                FilterExpr::Is(F::Device, vec![v.device.clone()]),
            ])),
        ),
        (
            json!([[
                "or",
                [
                    ["is", "visit:country", [c2]],
                    ["is", "visit:source", [v.referrer]]
                ]
            ]]),
            Some(FilterExpr::Or(vec![
                FilterExpr::Is(F::Country, s(&[c2])),
                FilterExpr::Is(F::Referrer, vec![v.referrer.clone()]),
            ])),
        ),
        (
            json!([["not", ["is", "visit:source", ["(direct)"]]]]),
            Some(FilterExpr::Not(Box::new(FilterExpr::Is(
                F::Referrer,
                s(&["(direct)"]),
            )))),
        ),
        (
            json!([[
                "and",
                [
                    ["is_not", "visit:browser", [v.browser]],
                    ["not", ["contains", "event:page", [frag]]]
                ]
            ]]),
            Some(FilterExpr::And(vec![
                FilterExpr::IsNot(F::Browser, vec![v.browser.clone()]),
                FilterExpr::Not(Box::new(FilterExpr::Contains(F::Page, s(&[frag])))),
            ])),
        ),
    ]
}

fn loaded() -> (Served, String) {
    let s = serve();
    s.load();
    let key = s.add_key("stats", SITES[0], Scope::Stats);
    (s, key)
}

#[test]
fn every_metric_dimension_and_filter_operator_equals_the_typed_api() {
    let (s, key) = loaded();
    let site = SITES[0];
    let v = seen(&s, site);
    assert!(
        v.pages.len() >= 2 && v.countries.len() >= 2,
        "a varied dataset"
    );
    let dims: Vec<Option<&str>> = std::iter::once(None)
        .chain(std::iter::once(Some("time:day")))
        .chain(DIMS.iter().map(|(n, _)| Some(*n)))
        .collect();
    let mut nonempty = 0;
    for (filters, expr) in filter_table(&v) {
        let q = Query::days(range()).filtered(Filters {
            expr: expr.clone(),
            ..Filters::default()
        });
        // The engine's filtered answer is the roll-up function over exactly
        // the events the expression accepts, day by day.
        let dom = s.db.domain(site).unwrap();
        let mut by_day: std::collections::BTreeMap<pledgedb_core::Day, Vec<pledgedb_core::Event>> =
            Default::default();
        dom.scan(
            TimeRange::new(range().first.start(), range().last.end()),
            |e| {
                if expr.as_ref().is_none_or(|x| x.accepts(e)) {
                    by_day.entry(e.ts.day()).or_default().push(e.clone());
                }
            },
        )
        .unwrap();
        let mut total = pledgedb_core::query::Agg::default();
        for events in by_day.values() {
            total.merge(&pledgedb_core::query::rollup(events).totals);
        }
        assert_eq!(dom.metrics(&q).unwrap(), Metrics::from(&total), "{filters}");
        for dim in &dims {
            let body = json!({
                "site_id": site,
                "metrics": METRICS,
                "date_range": dates(),
                "dimensions": dim.iter().collect::<Vec<_>>(),
                "filters": filters,
            });
            let r = s.query(&key, &body);
            assert_eq!(r.status, 200, "{body}: {}", r.text);
            let want = typed(&s, site, &q, *dim);
            assert_eq!(r.json["results"], json!(want), "{body}");
            assert_eq!(r.json["meta"], json!({}));
            assert_eq!(r.json["query"]["filters"], filters);
            assert_eq!(r.json["query"]["date_range"], dates());
            let zero = json!([0, 0, 0, 0.0, 0, 0, 0]);
            if want.iter().any(|row| row["metrics"] != zero) {
                nonempty += 1;
            }
        }
    }
    assert_eq!(nonempty, 10 * dims.len(), "every filter matches something");
}

#[test]
fn single_value_filters_equal_the_typed_equality_filters() {
    let (s, key) = loaded();
    let site = SITES[0];
    let v = seen(&s, site);
    let cases: Vec<(Value, Filters)> = vec![
        (
            json!(["is", "visit:country", [v.countries[1]]]),
            Filters {
                country: Some(Country::from_code(&v.countries[1])),
                ..Filters::default()
            },
        ),
        (
            json!(["is", "event:page", [v.pages[0]]]),
            Filters {
                page: Some(v.pages[0].clone()),
                ..Filters::default()
            },
        ),
        (
            json!(["is", "visit:source", [v.referrer]]),
            Filters {
                referrer: Some(v.referrer.clone()),
                ..Filters::default()
            },
        ),
        (
            json!(["is", "visit:device", [v.device]]),
            Filters {
                device: Device::ALL.into_iter().find(|d| d.as_str() == v.device),
                ..Filters::default()
            },
        ),
        (
            json!(["is", "visit:browser", [v.browser]]),
            Filters {
                browser: Some(v.browser.clone()),
                ..Filters::default()
            },
        ),
    ];
    let d = s.db.domain(site).unwrap();
    for (f, typed_f) in cases {
        // An expression is answered from raw events, never a roll-up.
        let expr = pledgedb_server::stats::query::parse_filters(&json!([f.clone()]))
            .unwrap()
            .unwrap();
        let eq = Query::days(range()).filtered(Filters {
            expr: Some(expr),
            ..Filters::default()
        });
        assert!(
            d.explain(&eq)
                .unwrap()
                .iter()
                .all(|(_, src)| *src == Source::Raw)
        );
        let q = Query::days(range()).filtered(typed_f);
        assert_eq!(d.metrics(&eq).unwrap(), d.metrics(&q).unwrap(), "{f}");
        for dim in [None, Some("visit:entry_page"), Some("time:day")] {
            let body = json!({
                "site_id": site, "metrics": METRICS, "date_range": dates(),
                "dimensions": dim.iter().collect::<Vec<_>>(), "filters": [f],
            });
            let r = s.query(&key, &body);
            assert_eq!(r.json["results"], json!(typed(&s, site, &q, dim)), "{body}");
        }
    }
}

#[test]
fn date_ranges_order_and_pagination() {
    let (s, key) = loaded();
    let site = SITES[0];
    let d = s.db.domain(site).unwrap();
    let today = common::now(&s).day();
    for (dr, days) in [
        (json!("day"), DayRange::new(today, today)),
        (json!("7d"), DayRange::last_n(today, 7)),
        (json!("30d"), DayRange::last_n(today, 30)),
        (json!("month"), {
            let (y, m, _) = today.to_ymd();
            DayRange::new(pledgedb_core::Day::from_ymd(y, m, 1), today)
        }),
        (dates(), range()),
    ] {
        let body = json!({"site_id": site, "metrics": METRICS, "date_range": dr});
        let r = s.query(&key, &body);
        let want = rows_of(vec![(None, d.metrics(&Query::days(days)).unwrap())]);
        assert_eq!(r.json["results"], json!(want), "{dr}");
        assert_eq!(
            r.json["query"]["date_range"],
            json!([days.first.to_string(), days.last.to_string()])
        );
    }
    // order_by a metric ascending, then the dimension; a page of rows.
    let q = Query::days(range());
    let mut rows: Vec<(String, Metrics)> = d.breakdown(&q, Dimension::Page, usize::MAX).unwrap();
    rows.sort_by(|a, b| a.1.pageviews.cmp(&b.1.pageviews).then(b.0.cmp(&a.0)));
    let want: Vec<Value> = rows
        .iter()
        .skip(2)
        .take(3)
        .map(|(k, m)| json!({"metrics": [m.pageviews, m.visits], "dimensions": [k]}))
        .collect();
    let body = json!({
        "site_id": site, "metrics": ["pageviews", "visits"], "date_range": dates(),
        "dimensions": ["event:page"],
        "order_by": [["pageviews", "asc"], ["event:page", "desc"]],
        "pagination": {"limit": 3, "offset": 2},
    });
    let r = s.query(&key, &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["results"], json!(want));
    assert_eq!(
        r.json["query"]["pagination"],
        json!({"limit": 3, "offset": 2})
    );
    assert_eq!(
        r.json["query"]["order_by"],
        json!([["pageviews", "asc"], ["event:page", "desc"]])
    );
    // time:day lists every day of the range, in order.
    let body = json!({"site_id": site, "metrics": ["events"], "date_range": "7d", "dimensions": ["time:day"]});
    let r = s.query(&key, &body);
    let days: Vec<String> = DayRange::last_n(today, 7)
        .days()
        .map(|d| d.to_string())
        .collect();
    let got: Vec<String> = r.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["dimensions"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, days);
}

#[test]
fn unsupported_parts_get_a_400_naming_them_and_nothing_echoed() {
    let (s, key) = loaded();
    let site = SITES[0];
    let base = || json!({"site_id": site, "metrics": ["visitors"], "date_range": "7d"});
    let secret = "198.51.100.23";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "metrics",
            json!(["visitors", "conversion_rate"]),
            "conversion_rate",
        ),
        ("metrics", json!(["time_on_page"]), "time_on_page"),
        ("metrics", json!([secret]), "metrics[0]"),
        ("dimensions", json!(["event:goal"]), "event:goal"),
        ("dimensions", json!(["visit:city"]), "visit:city"),
        ("dimensions", json!(["time:hour"]), "time:hour"),
        ("dimensions", json!(["event:props:plan"]), "event:props:*"),
        ("dimensions", json!([secret]), "dimensions[0]"),
        (
            "dimensions",
            json!(["time:day", "visit:country"]),
            "more than one dimension",
        ),
        (
            "filters",
            json!([["matches", "event:page", ["^/a"]]]),
            "matches",
        ),
        (
            "filters",
            json!([["has_done", ["is", "event:goal", ["x"]]]]),
            "has_done",
        ),
        (
            "filters",
            json!([["is", "visit:utm_source", ["x"]]]),
            "visit:utm_source",
        ),
        (
            "filters",
            json!([["is", "visit:entry_page", ["/"]]]),
            "visit:entry_page",
        ),
        ("filters", json!([["is", secret, ["x"]]]), "filters[0][1]"),
        (
            "filters",
            json!([["is", "event:page", [secret], {"case_sensitive": false}]]),
            "modifiers",
        ),
        ("date_range", json!("12mo"), "12mo"),
        ("date_range", json!("all"), "all"),
        ("date_range", json!([secret, "2026-01-01"]), "date_range[0]"),
        ("include", json!({"imports": true}), "include"),
        ("order_by", json!([["bounce_rate", "desc"]]), "order_by[0]"),
        ("pagination", json!({"limit": 100000}), "limit"),
    ];
    for (k, v, named) in cases {
        let mut body = base();
        body[k] = v;
        let r = s.query(&key, &body);
        assert_eq!(r.status, 400, "{body}");
        let msg = r.json["error"].as_str().unwrap();
        assert!(msg.contains(named), "{body}: {msg}");
        assert!(!r.text.contains(secret), "{body}: {msg}");
    }
    for raw in ["{", "[1,2]", "{\"site_id\": 1}", ""] {
        let r = s.post_raw(
            "/api/v2/query",
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
            ],
            raw,
        );
        assert_eq!(r.status, 400, "{raw}");
    }
    // A registered site is needed; the check of access comes first.
    let admin = s.add_key("nope", "nope.example", Scope::Stats);
    let mut body = base();
    body["site_id"] = json!("nope.example");
    assert_eq!(s.query(&admin, &body).status, 404);
    assert_eq!(s.query(&key, &body).status, 403);
}

#[test]
fn an_erased_visitor_is_gone_from_every_answer_before_and_after_compaction() {
    let (s, key) = loaded();
    let site = SITES[0];
    let admin = s.add_key("admin", site, Scope::Admin);
    let d = s.db.domain(site).unwrap();
    // The visitor with the most page views.
    let mut pv: HashMap<VisitorId, u64> = HashMap::new();
    d.scan(TimeRange::all(), |e| {
        if e.visitor != VisitorId::ANONYMOUS && matches!(e.kind, EventKind::PageView { .. }) {
            *pv.entry(e.visitor).or_default() += 1;
        }
    })
    .unwrap();
    let (&victim, &their_pv) = pv.iter().max_by_key(|(v, n)| (**n, v.0)).unwrap();
    let total = |s: &Served| {
        let body = json!({"site_id": site, "metrics": METRICS, "date_range": dates()});
        s.query(&key, &body).json["results"][0]["metrics"].clone()
    };
    let before = total(&s);
    let auth = format!("Bearer {admin}");
    let h = [("authorization", auth.as_str())];
    let who = json!({"site_id": site, "visitor": victim.to_string()});
    let export = s.post_json("/api/v2/operator/export", &h, &who);
    assert_eq!(export.status, 200);
    assert!(!export.json["events"].as_array().unwrap().is_empty());
    let r = s.post_json("/api/v2/operator/erase", &h, &who);
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json["status"], "pending");
    assert!(r.json["request"].as_u64().is_some());
    assert!(r.json["purge_deadline"].is_number() || r.json["purge_deadline"].is_string());
    let check = |s: &Served| {
        let after = total(s);
        assert_eq!(after[2], json!(before[2].as_u64().unwrap() - their_pv));
        let q = Query::days(range());
        assert_eq!(
            after,
            json!(rows_of(vec![(None, d.metrics(&q).unwrap())]))[0]["metrics"]
        );
        // A breakdown too.
        let body = json!({"site_id": site, "metrics": METRICS, "date_range": dates(), "dimensions": ["event:page"]});
        assert_eq!(
            s.query(&key, &body).json["results"],
            json!(typed(s, site, &q, Some("event:page")))
        );
        let export = s.post_json("/api/v2/operator/export", &h, &who);
        assert_eq!(export.json["events"], json!([]));
    };
    check(&s);
    let report = s.db.compact_now().unwrap();
    assert_eq!(report.erasures_completed, 1);
    assert!(report.events_purged >= their_pv);
    check(&s);
    assert!(
        d.explain(&Query::days(range()))
            .unwrap()
            .iter()
            .all(|(_, src)| *src == Source::Rollup),
        "after the purge, roll-ups answer again"
    );
    // Erasing again finds nothing.
    let r = s.post_json("/api/v2/operator/erase", &h, &who);
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "not_found");
    // Bad visitor references are refused without being echoed.
    for bad in [json!(""), json!("0000000000000000"), json!(1)] {
        let r = s.post_json(
            "/api/v2/operator/erase",
            &h,
            &json!({"site_id": site, "visitor": bad}),
        );
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[test]
fn opt_out_and_privacy_report_endpoints() {
    let (s, _) = loaded();
    let admin = s.add_key("admin", SITES[1], Scope::Admin);
    let auth = format!("Bearer {admin}");
    let h = [("authorization", auth.as_str())];
    let before = s.get("/api/v2/operator/privacy-report", &h);
    assert_eq!(before.status, 200);
    let r = s.post_json(
        "/api/v2/operator/opt-out",
        &h,
        &json!({"token": "op-token-1"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json["opted_out"], true);
    assert!(s.db.is_opted_out("op-token-1"));
    let r = s.post_json(
        "/api/v2/operator/opt-in",
        &h,
        &json!({"token": "op-token-1"}),
    );
    assert_eq!(r.json["opted_out"], false);
    assert!(!s.db.is_opted_out("op-token-1"));
    assert_eq!(
        s.post_json("/api/v2/operator/opt-out", &h, &json!({"token": ""}))
            .status,
        400
    );
    let report = s.get("/api/v2/operator/privacy-report", &h);
    assert!(report.json.is_object());
    assert!(!report.text.contains("op-token-1"));
    // An admin key of one site sees that site only, not even the other's
    // name; an admin user sees every site.
    let names = |r: &Value| -> Vec<String> {
        r["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&report.json), [SITES[1]]);
    assert!(!report.text.contains(SITES[0]), "{}", report.text);
    s.add_user("root", "a long enough password", &[], true);
    let (cookie, _) = s.login("root", "a long enough password");
    let all = s.get(
        "/api/v2/operator/privacy-report",
        &[("cookie", cookie.as_str())],
    );
    let mut seen = names(&all.json);
    seen.sort();
    let mut want: Vec<String> = SITES.iter().map(|x| x.to_string()).collect();
    want.sort();
    assert_eq!(seen, want);
}
