//! Nobody reaches a dashboard page or data route without signing in, and a
//! shared link opens only its own folded overview.

mod dash_support;

use pledgedb_core::Hit;
use pledgedb_core::time::Timestamp;

const GET_ROUTES: &[&str] = &[
    "/app/api/sites",
    "/app/api/site/shop.example/overview",
    "/app/api/site/shop.example/forms",
    "/app/api/site/shop.example/submissions",
    "/app/api/site/shop.example/sessions",
    "/app/api/site/shop.example/replay/0000000000000001",
    "/app/api/site/shop.example/heatmap",
    "/app/api/site/shop.example/audit",
    "/app/api/site/shop.example/shares",
];

const POST_ROUTES: &[&str] = &[
    "/app/api/site/shop.example/shares",
    "/app/api/site/shop.example/shares/0011223344556677/revoke",
];

const PAGES: &[&str] = &[
    "/app",
    "/app/shop.example",
    "/app/shop.example/forms",
    "/app/shop.example/replays",
    "/app/shop.example/heatmap",
    "/app/shop.example/privacy",
    "/app/shop.example/shares",
];

fn server() -> dash_support::Running {
    let now = Timestamp::from_ymd_hms(2026, 3, 10, 12, 0, 0);
    dash_support::start(now, |db| {
        db.create_domain("shop.example").unwrap();
        let hit = Hit::page_view("shop.example", "https://shop.example/")
            .at(Timestamp::from_ymd_hms(2026, 3, 10, 9, 0, 0))
            .client_id("c1");
        let _ = db.ingest(hit).unwrap();
    })
}

#[test]
fn every_data_route_refuses_without_credentials() {
    let s = server();
    let a = dash_support::agent();
    for r in GET_ROUTES {
        let resp = a.get(&s.url(r)).call().unwrap();
        assert_eq!(resp.status(), 401, "GET {r}");
    }
    for r in POST_ROUTES {
        let resp = a
            .post(&s.url(r))
            .header("content-type", "application/json")
            .send("{\"visitor\":\"0000000000000001\"}")
            .unwrap();
        assert!(
            resp.status() == 401 || resp.status() == 403,
            "POST {r}: {}",
            resp.status()
        );
    }
}

#[test]
fn every_page_sends_a_stranger_to_the_login() {
    let s = server();
    let a = dash_support::agent();
    for p in PAGES {
        let resp = a.get(&s.url(p)).call().unwrap();
        assert!(resp.status().is_redirection(), "GET {p}: {}", resp.status());
        let to = resp.headers().get("location").unwrap().to_str().unwrap();
        assert!(to.starts_with("/login"), "GET {p} goes to {to}");
        let mut resp = resp;
        let body = resp.body_mut().read_to_string().unwrap();
        assert!(!body.contains("shop.example/"), "{p} leaked a page");
    }
}

#[test]
fn a_made_up_share_link_opens_nothing() {
    let s = server();
    let a = dash_support::agent();
    for token in [
        "",
        "x",
        &"0".repeat(48),
        &"f".repeat(48),
        "../app/api/sites",
    ] {
        for path in [
            format!("/share/{token}"),
            format!("/share/{token}/api/overview"),
        ] {
            let resp = a.get(&s.url(&path)).call().unwrap();
            assert!(
                resp.status() == 404 || resp.status() == 400,
                "{path}: {}",
                resp.status()
            );
        }
    }
}
