//! Nobody reaches a dashboard page or data route without signing in, and a
//! shared link opens only its own folded overview.

mod api_common;

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

fn server() -> api_common::Served {
    let s = api_common::serve();
    s.load();
    s
}

#[test]
fn every_data_route_refuses_without_credentials() {
    let s = server();
    for r in GET_ROUTES {
        assert_eq!(s.get(r, &[]).status, 401, "GET {r}");
    }
    for r in POST_ROUTES {
        let st = s
            .post_json(r, &[], &serde_json::json!({"visitor": "0000000000000001"}))
            .status;
        assert!(st == 401 || st == 403, "POST {r}: {st}");
    }
}

#[test]
fn every_page_sends_a_stranger_to_the_login() {
    let s = server();
    for p in PAGES {
        let r = s.get(p, &[]);
        assert!((300..400).contains(&r.status), "GET {p}: {}", r.status);
        let to = r.header("location").unwrap();
        assert_eq!(to, format!("/login?next={p}"), "GET {p}");
        assert!(!r.text.contains("app.js"), "{p} served the page");
    }
}

#[test]
fn a_made_up_share_link_opens_nothing() {
    let s = server();
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
            let st = s.get(&path, &[]).status;
            assert!(st == 404 || st == 400, "{path}: {st}");
        }
    }
}
