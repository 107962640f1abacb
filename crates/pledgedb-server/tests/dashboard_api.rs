//! The dashboard's data routes for signed-in users: each user sees only
//! their sites, only admins operate, the numbers equal the Stats API's, and
//! a shared link folds small rows, shows nothing else and can be revoked.

mod api_common;

use api_common::{CARD_METRICS, DAYS, Served, first_day};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

fn server() -> Served {
    let s = api_common::serve();
    s.load();
    s.add_user("owner", PASSWORD, &[], true);
    s.add_user("viewer", PASSWORD, &["shop.example"], false);
    s
}

/// A signed-in caller: the session cookie and its CSRF token.
struct Caller(Vec<(String, String)>);

fn login(s: &Served, user: &str) -> (Caller, String) {
    let (cookie, csrf) = s.login(user, PASSWORD);
    (Caller(vec![("cookie".into(), cookie)]), csrf)
}

fn caller() -> Caller {
    Caller(Vec::new())
}

fn get(s: &Served, c: &Caller, path: &str) -> (u16, Value) {
    let h: Vec<(&str, &str)> = c.0.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = s.get(path, &h);
    (
        r.status,
        if r.json.is_null() {
            Value::String(r.text)
        } else {
            r.json
        },
    )
}

fn post(s: &Served, c: &Caller, path: &str, csrf: Option<&str>, body: Value) -> (u16, Value) {
    let origin = s.origin();
    let mut h: Vec<(&str, &str)> = c.0.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    h.push(("origin", &origin));
    if let Some(t) = csrf {
        h.push(("x-csrf-token", t));
    }
    let r = s.post_json(path, &h, &body);
    (r.status, r.json)
}

#[test]
fn a_user_sees_only_their_sites_and_only_admins_operate() {
    let s = server();
    let (a, csrf) = login(&s, "viewer");
    let (st, sites) = get(&s, &a, "/app/api/sites");
    assert_eq!(st, 200);
    let names: Vec<&str> = sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop.example"]);
    assert_eq!(
        get(&s, &a, "/app/api/site/shop.example/overview?range=7d").0,
        200
    );
    for path in [
        "/app/api/site/blog.example/overview",
        "/app/api/site/blog.example/sessions",
        "/app/api/site/blog.example/heatmap",
        "/app/api/site/shop.example/submissions",
        "/app/api/site/shop.example/shares",
        "/app/api/site/shop.example/audit",
    ] {
        assert_eq!(get(&s, &a, path).0, 403, "{path}");
    }
    assert_eq!(
        post(
            &s,
            &a,
            "/app/api/site/shop.example/shares",
            Some(&csrf),
            json!({})
        )
        .0,
        403
    );
    // An unknown site is as closed as a foreign one.
    assert_eq!(get(&s, &a, "/app/api/site/nope.example/overview").0, 403);
}

#[test]
fn the_dashboard_numbers_are_the_stats_api_numbers() {
    let s = server();
    let (a, csrf) = login(&s, "owner");
    // Filters on the top value of each filterable panel, and none.
    let (_, all) = get(&s, &a, "/app/api/site/shop.example/overview?range=7d");
    let mut cases = vec![String::new()];
    for dim in ["country", "device", "page", "browser"] {
        let top = all["breakdowns"][dim][0]["value"].as_str().unwrap();
        cases.push(format!("&{dim}={top}"));
    }
    for filter in &cases {
        let (st, d) = get(
            &s,
            &a,
            &format!("/app/api/site/shop.example/overview?range=7d{filter}"),
        );
        assert_eq!(st, 200, "{filter}: {d}");
        let mut filters = Vec::new();
        if let Some((k, v)) = filter.trim_start_matches('&').split_once('=') {
            let dim = match k {
                "country" => "visit:country",
                "device" => "visit:device",
                "browser" => "visit:browser",
                _ => "event:page",
            };
            filters.push(json!(["is", dim, [v]]));
        }
        let metrics = CARD_METRICS;
        let (st, q) = post(
            &s,
            &a,
            "/api/v2/query",
            Some(&csrf),
            json!({
                "site_id": "shop.example", "metrics": metrics, "date_range": "7d", "filters": filters,
            }),
        );
        assert_eq!(st, 200, "{q}");
        for (i, m) in metrics.iter().enumerate() {
            assert_eq!(
                d["metrics"][m], q["results"][0]["metrics"][i],
                "{m} with `{filter}`"
            );
        }
        // Top pages: the same rows with the same visitors.
        let (_, pages) = post(
            &s,
            &a,
            "/api/v2/query",
            Some(&csrf),
            json!({
                "site_id": "shop.example", "metrics": ["visitors"], "date_range": "7d",
                "dimensions": ["event:page"], "filters": filters, "pagination": {"limit": 10},
            }),
        );
        let api_rows: Vec<(String, u64)> = pages["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["dimensions"][0].as_str().unwrap().to_string(),
                    r["metrics"][0].as_u64().unwrap(),
                )
            })
            .collect();
        let dash_rows: Vec<(String, u64)> = d["breakdowns"]["page"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["value"].as_str().unwrap().to_string(),
                    r["visitors"].as_u64().unwrap(),
                )
            })
            .collect();
        assert!(!dash_rows.is_empty(), "{filter}");
        assert_eq!(dash_rows, api_rows, "top pages with `{filter}`");
    }
    // The daily series has one point a day of the range.
    let (_, d) = get(&s, &a, "/app/api/site/shop.example/overview?range=7d");
    assert_eq!(d["series"].as_array().unwrap().len(), 7);
    assert!(d["metrics"]["visitors"].as_u64().unwrap() > 0);
    // A single day: 24 hour buckets whose page views add up to the day's.
    let last = first_day().plus(DAYS as i32 - 1).to_string();
    let (_, t) = get(
        &s,
        &a,
        &format!("/app/api/site/shop.example/overview?range=custom&from={last}&to={last}"),
    );
    assert_eq!(t["range"]["bucket"], "hour");
    let hours = t["series"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    let sum: u64 = hours.iter().map(|p| p["pageviews"].as_u64().unwrap()).sum();
    assert!(sum > 0);
    assert_eq!(sum, t["metrics"]["pageviews"].as_u64().unwrap());
}

#[test]
fn a_shared_link_folds_small_rows_shows_nothing_else_and_can_be_revoked() {
    let s = server();
    let (a, csrf) = login(&s, "owner");
    // Without the CSRF token no link is made.
    assert_eq!(
        post(&s, &a, "/app/api/site/shop.example/shares", None, json!({})).0,
        403
    );
    let (st, made) = post(
        &s,
        &a,
        "/app/api/site/shop.example/shares",
        Some(&csrf),
        json!({}),
    );
    assert_eq!(st, 200, "{made}");
    let path = made["path"].as_str().unwrap().to_string();
    let id = made["id"].as_str().unwrap().to_string();
    // The store holds no token.
    let stored = std::fs::read_to_string(s.data_dir().join("shares.json")).unwrap();
    assert!(!stored.contains(path.trim_start_matches("/share/")));

    let stranger = caller();
    let (st, page) = get(&s, &stranger, &path);
    assert_eq!(st, 200);
    assert!(page.as_str().unwrap().contains("content=\"share\""));
    let (st, d) = get(&s, &stranger, &format!("{path}/api/overview?range=7d"));
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["shared"], true);
    let k = d["k"].as_u64().unwrap();
    assert_eq!(k, 5);
    let mut folded_rows = 0;
    for (dim, rows) in d["breakdowns"].as_object().unwrap() {
        for r in rows.as_array().unwrap() {
            if r["value"] == "(other)" {
                folded_rows += 1;
            } else {
                assert!(r["visitors"].as_u64().unwrap() >= k, "{dim}: {r}");
            }
        }
    }
    // The owner's own view has rows below k that the link folded.
    let (_, full) = get(&s, &a, "/app/api/site/shop.example/overview?range=7d");
    let small = full["breakdowns"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|rows| rows.as_array().unwrap().iter())
        .filter(|r| r["visitors"].as_u64().unwrap() < k)
        .count();
    assert!(
        small > 0 && folded_rows > 0,
        "the dataset must have small rows to fold"
    );
    // A filter that matches fewer than k visitors is refused.
    let (_, pages) = get(&s, &a, "/app/api/site/shop.example/overview?range=7d");
    let rare = pages["breakdowns"]["page"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["visitors"].as_u64().unwrap() < k)
        .map(|r| r["value"].as_str().unwrap().to_string());
    if let Some(p) = rare {
        let (st, _) = get(
            &s,
            &stranger,
            &format!("{path}/api/overview?range=7d&page={p}"),
        );
        assert_eq!(st, 403, "a filter on {p}");
    }
    // Nothing else answers through the link.
    for other in [
        "sessions",
        "replay/0000000000000001",
        "forms",
        "submissions",
        "heatmap",
        "shares",
    ] {
        let st = get(&s, &stranger, &format!("{path}/api/{other}")).0;
        assert!(st == 404 || st == 405, "{other}: {st}");
    }
    // The stranger's cookie-less agent cannot reach the owner's routes.
    assert_eq!(
        get(&s, &stranger, "/app/api/site/shop.example/overview").0,
        401
    );
    // Revoked: gone at once.
    let (st, _) = post(
        &s,
        &a,
        &format!("/app/api/site/shop.example/shares/{id}/revoke"),
        Some(&csrf),
        json!({}),
    );
    assert_eq!(st, 200);
    assert_eq!(get(&s, &stranger, &format!("{path}/api/overview")).0, 404);
    assert_eq!(get(&s, &stranger, &path).0, 404);
}

#[test]
fn submitted_values_in_a_replay_are_for_operators_only() {
    let s = server();
    let (owner, _) = login(&s, "owner");
    let (viewer, _) = login(&s, "viewer");
    // A visit of the generated traffic that submitted a form.
    let (_, list) = get(&s, &owner, "/app/api/site/shop.example/sessions?range=7d");
    let mut checked = 0;
    for sess in list["sessions"].as_array().unwrap() {
        let sid = sess["session"].as_str().unwrap();
        let path = format!("/app/api/site/shop.example/replay/{sid}");
        let (_, full) = get(&s, &owner, &path);
        let submits = |r: &Value| -> Vec<Value> {
            r["steps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["action"]["type"] == "form_submit")
                .cloned()
                .collect()
        };
        let owner_submits = submits(&full);
        let with_values: Vec<&Value> = owner_submits
            .iter()
            .filter(|x| {
                x["action"]["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["value"].is_string())
            })
            .collect();
        if with_values.is_empty() {
            continue;
        }
        let (st, seen) = get(&s, &viewer, &path);
        assert_eq!(st, 200);
        let viewer_submits = submits(&seen);
        assert_eq!(viewer_submits.len(), owner_submits.len());
        for (v, o) in viewer_submits.iter().zip(&owner_submits) {
            let names = |x: &Value| -> Vec<Value> {
                x["action"]["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["name"].clone())
                    .collect()
            };
            assert_eq!(names(v), names(o));
            assert!(
                v["action"]["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|f| f["value"].is_null())
            );
            for f in o["action"]["fields"].as_array().unwrap() {
                let value = f["value"].as_str().unwrap();
                if value.len() > 2 {
                    assert!(
                        !seen.to_string().contains(value),
                        "{value} reached a viewer"
                    );
                }
            }
        }
        checked += 1;
        if checked == 3 {
            break;
        }
    }
    assert!(checked > 0, "the dataset has submitted forms");
}

#[test]
fn replays_and_heatmaps_answer_from_the_engine() {
    let s = server();
    let (a, _) = login(&s, "owner");
    let (st, list) = get(&s, &a, "/app/api/site/shop.example/sessions?range=7d");
    assert_eq!(st, 200);
    let sessions = list["sessions"].as_array().unwrap();
    assert!(!sessions.is_empty());
    let sid = sessions[0]["session"].as_str().unwrap();
    let (st, r) = get(&s, &a, &format!("/app/api/site/shop.example/replay/{sid}"));
    assert_eq!(st, 200);
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps[0]["offset_ms"], 0);
    assert!(steps.iter().all(|x| x["action"]["type"].is_string()));
    assert_eq!(get(&s, &a, "/app/api/site/shop.example/replay/zz").0, 400);
    assert_eq!(
        get(&s, &a, "/app/api/site/shop.example/replay/00000000000000ff").0,
        404
    );
    let (st, h) = get(&s, &a, "/app/api/site/shop.example/heatmap?range=7d");
    assert_eq!(st, 200);
    let clicks: u64 = h["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clicks"].as_u64().unwrap())
        .sum();
    let targets: u64 = h["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clicks"].as_u64().unwrap())
        .sum();
    assert!(clicks > 0, "{h}");
    assert!(targets <= clicks && targets > 0);
    let (st, f) = get(&s, &a, "/app/api/site/shop.example/forms?range=7d");
    assert_eq!(st, 200);
    assert!(!f["forms"].as_array().unwrap().is_empty());
    let (st, audit) = get(&s, &a, "/app/api/site/shop.example/audit");
    assert_eq!(st, 200);
    assert_eq!(audit["clean"], true, "{audit}");
}
