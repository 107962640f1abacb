//! Accounts, keys, sessions, CSRF and the login rate limit, against the
//! real server on a loopback port.

mod api_common;
use api_common as common;

use common::{SITES, Served, serve, serve_with};
use pledgedb_server::auth::{SESSION_TTL_MS, Scope};
use serde_json::{Value, json};

const PASSWORD: &str = "tr0ub4dor&3-horse";

/// Every authenticated route, with a body that is valid for `site`.
fn routes(site: &str) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("GET", "/api/session", Value::Null),
        (
            "POST",
            "/api/v2/query",
            json!({"site_id": site, "metrics": ["visitors"], "date_range": "7d"}),
        ),
        (
            "POST",
            "/api/v2/operator/export",
            json!({"site_id": site, "visitor": "0123456789abcdef"}),
        ),
        (
            "POST",
            "/api/v2/operator/erase",
            json!({"site_id": site, "visitor": "0123456789abcdef"}),
        ),
        ("POST", "/api/v2/operator/opt-out", json!({"token": "t-1"})),
        ("POST", "/api/v2/operator/opt-in", json!({"token": "t-1"})),
        (
            "POST",
            "/api/v2/operator/opt-out",
            json!({"token": "t-1", "site_id": site}),
        ),
        ("GET", "/api/v2/operator/privacy-report", Value::Null),
        (
            "GET",
            "/api/v2/operator/privacy-report?site_id=SITE",
            json!({"site_id": site}),
        ),
        ("POST", "/logout", json!({})),
    ]
}

fn call(s: &Served, method: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> u16 {
    let site = body.get("site_id").and_then(Value::as_str).unwrap_or("");
    let path = &path.replace("SITE", site);
    if method == "GET" {
        s.get(path, headers).status
    } else {
        s.post_json(path, headers, body).status
    }
}

fn is_operator(path: &str) -> bool {
    path.starts_with("/api/v2/operator/")
}

#[test]
fn every_authenticated_route_refuses_without_valid_credentials() {
    let s = serve();
    let site = SITES[0];
    let stats_key = s.add_key("stats", site, Scope::Stats);
    let other_admin = s.add_key("other", SITES[1], Scope::Admin);
    let own_admin = s.add_key("own", site, Scope::Admin);
    // A key that looks right but was never made, and a revoked one.
    let wrong = format!("pdb_{}", "0".repeat(64));
    let revoked = s.add_key("gone", site, Scope::Admin);
    s.accounts().revoke_key("gone").unwrap();
    for (method, path, body) in routes(site) {
        for (what, headers) in [
            ("no credentials", vec![]),
            (
                "wrong key",
                vec![("authorization".to_string(), format!("Bearer {wrong}"))],
            ),
            (
                "revoked key",
                vec![("authorization".to_string(), format!("Bearer {revoked}"))],
            ),
            (
                "not a bearer",
                vec![("authorization".to_string(), format!("Basic {own_admin}"))],
            ),
            (
                "junk cookie",
                vec![("cookie".to_string(), "pledge_session=00ff".to_string())],
            ),
        ] {
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            assert_eq!(
                call(&s, method, path, &h, &body),
                401,
                "{what}: {method} {path}"
            );
        }
        if path == "/logout" {
            continue;
        }
        // Another site's key (admin scope even): 403 for what names a site.
        let h = [("authorization", format!("Bearer {other_admin}"))];
        let h: Vec<(&str, &str)> = h.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let names_site = body.get("site_id").is_some();
        let got = call(&s, method, path, &h, &body);
        if names_site {
            assert_eq!(got, 403, "another site's key: {method} {path}");
        }
        // A stats key on an operator route: 403.
        let h = [("authorization", format!("Bearer {stats_key}"))];
        let h: Vec<(&str, &str)> = h.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let got = call(&s, method, path, &h, &body);
        if is_operator(path) {
            assert_eq!(got, 403, "stats key: {method} {path}");
        } else {
            assert_eq!(got, 200, "stats key: {method} {path}");
        }
        // The site's own admin key passes.
        let h = [("authorization", format!("Bearer {own_admin}"))];
        let h: Vec<(&str, &str)> = h.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let got = call(&s, method, path, &h, &body);
        assert!(
            (200..300).contains(&got),
            "admin key: {method} {path}: {got}"
        );
    }
}

#[test]
fn a_session_works_until_logout_or_expiry_and_then_never_again() {
    let s = serve();
    let site = SITES[0];
    s.add_user("ana", PASSWORD, &[site], false);
    s.add_user("root", PASSWORD, &[], true);
    let (cookie, csrf) = s.login("ana", PASSWORD);
    let origin = s.origin();
    let with = |extra: &[(&'static str, &str)]| {
        let mut h: Vec<(&str, String)> = vec![("cookie", cookie.clone())];
        for (k, v) in extra {
            h.push((k, (*v).to_string()));
        }
        h
    };
    let h = with(&[("x-csrf-token", &csrf), ("origin", &origin)]);
    let h: Vec<(&str, &str)> = h.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let q = json!({"site_id": site, "metrics": ["visitors"], "date_range": "7d"});
    assert_eq!(s.post_json("/api/v2/query", &h, &q).status, 200);
    let who = s.get("/api/session", &h);
    assert_eq!(who.json["user"], "ana");
    assert_eq!(who.json["sites"], json!([site]));
    // A user sees their sites only, and is no operator.
    let other = json!({"site_id": SITES[1], "metrics": ["visitors"], "date_range": "7d"});
    assert_eq!(s.post_json("/api/v2/query", &h, &other).status, 403);
    for (method, path, body) in routes(site) {
        if is_operator(path) {
            assert_eq!(call(&s, method, path, &h, &body), 403, "{path}");
        }
    }
    // Logout deletes the record: the same cookie is refused everywhere.
    assert_eq!(s.post_json("/logout", &h, &json!({})).status, 200);
    for (method, path, body) in routes(site) {
        assert_eq!(
            call(&s, method, path, &h, &body),
            401,
            "after logout: {path}"
        );
    }
    // An admin's session is an operator; it expires on the engine's clock.
    let (cookie, csrf) = s.login("root", PASSWORD);
    let h = [
        ("cookie", cookie.as_str()),
        ("x-csrf-token", csrf.as_str()),
        ("origin", origin.as_str()),
    ];
    assert_eq!(s.get("/api/v2/operator/privacy-report", &h).status, 200);
    assert_eq!(s.post_json("/api/v2/query", &h, &other).status, 200);
    common::advance(&s, SESSION_TTL_MS - 1);
    assert_eq!(s.get("/api/session", &h).status, 200);
    common::advance(&s, 1);
    assert_eq!(s.get("/api/session", &h).status, 401, "expired");
    // A removed user's session ends with them.
    let (cookie, _) = s.login("ana", PASSWORD);
    s.accounts().remove_user("ana").unwrap();
    assert_eq!(
        s.get("/api/session", &[("cookie", cookie.as_str())]).status,
        401
    );
}

#[test]
fn the_session_cookie_is_http_only_strict_and_secure_behind_a_tls_proxy() {
    let s = serve();
    s.add_user("ana", PASSWORD, &[SITES[0]], false);
    let r = s.post_json(
        "/login",
        &[],
        &json!({"username": "ana", "password": PASSWORD}),
    );
    let c = &r.set_cookie[0];
    for part in ["pledge_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(c.contains(part), "{c}");
    }
    assert!(!c.contains("Secure"), "plain HTTP: {c}");
    // X-Forwarded-Proto from an untrusted peer is not believed.
    let r = s.post_json(
        "/login",
        &[("x-forwarded-proto", "https")],
        &json!({"username": "ana", "password": PASSWORD}),
    );
    assert!(!r.set_cookie[0].contains("Secure"));
    drop(s);
    let s = serve_with(vec!["127.0.0.1/32".parse().unwrap()]);
    s.add_user("ana", PASSWORD, &[SITES[0]], false);
    let r = s.post_json(
        "/login",
        &[("x-forwarded-proto", "https")],
        &json!({"username": "ana", "password": PASSWORD}),
    );
    assert_eq!(r.status, 200);
    assert!(r.set_cookie[0].contains("; Secure"), "{}", r.set_cookie[0]);
    // The page itself: a form, no inline script.
    let page = s.get("/login", &[]);
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("<form method=\"post\" action=\"/login\"")
    );
    assert!(!page.text.contains("<script"));
    assert!(!page.text.contains("style="));
}

#[test]
fn csrf_is_required_on_every_state_changing_request_of_a_session() {
    let s = serve();
    let site = SITES[0];
    s.add_user("root", PASSWORD, &[], true);
    let (cookie, csrf) = s.login("root", PASSWORD);
    let origin = s.origin();
    let posts: Vec<_> = routes(site)
        .into_iter()
        .filter(|(m, _, _)| *m == "POST")
        .collect();
    for (_, path, body) in &posts {
        for (what, h) in [
            (
                "no token",
                vec![("cookie", cookie.as_str()), ("origin", origin.as_str())],
            ),
            (
                "wrong token",
                vec![
                    ("cookie", cookie.as_str()),
                    ("x-csrf-token", "00"),
                    ("origin", origin.as_str()),
                ],
            ),
            (
                "foreign origin",
                vec![
                    ("cookie", cookie.as_str()),
                    ("x-csrf-token", csrf.as_str()),
                    ("origin", "http://evil.example"),
                ],
            ),
            (
                "foreign referer",
                vec![
                    ("cookie", cookie.as_str()),
                    ("x-csrf-token", csrf.as_str()),
                    ("referer", "http://evil.example/a"),
                ],
            ),
            (
                "cross-site fetch",
                vec![
                    ("cookie", cookie.as_str()),
                    ("x-csrf-token", csrf.as_str()),
                    ("sec-fetch-site", "cross-site"),
                ],
            ),
        ] {
            assert_eq!(s.post_json(path, &h, body).status, 403, "{what}: {path}");
        }
    }
    // A logout form without its csrf field is refused; with it, it works.
    let form = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", origin.as_str()),
    ];
    assert_eq!(s.post_raw("/logout", &form, "csrf=00").status, 403);
    assert_eq!(s.get("/api/session", &form).status, 200, "still logged in");
    // With the token (and without an Origin, as some clients send), every
    // route passes.
    for (_, path, body) in &posts {
        if *path == "/logout" {
            continue;
        }
        let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
        let got = s.post_json(path, &h, body).status;
        assert!((200..300).contains(&got), "{path}: {got}");
    }
    let r = s.post_raw("/logout", &form, &format!("csrf={csrf}"));
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    assert_eq!(s.get("/api/session", &form).status, 401);
    // A login from a foreign origin is refused too (login CSRF).
    let r = s.post_json(
        "/login",
        &[("origin", "http://evil.example")],
        &json!({"username": "root", "password": PASSWORD}),
    );
    assert_eq!(r.status, 403);
    assert!(r.set_cookie.is_empty());
}

#[test]
fn logins_are_rate_limited_per_name_and_per_client() {
    let log = pledgedb_server::log::capture();
    let s = serve();
    s.add_user("ana", PASSWORD, &[SITES[0]], false);
    let login = |name: &str, pw: &str| {
        s.post_json("/login", &[], &json!({"username": name, "password": pw}))
    };
    for i in 0..5 {
        let r = login("ana", &format!("wrong-{i}-password"));
        assert_eq!(r.status, 401);
        assert!(!r.text.contains("wrong-"), "no password echoed");
    }
    // The right password is refused now too, until the window passes.
    let r = login("ana", PASSWORD);
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert!(r.set_cookie.is_empty());
    common::advance(&s, 15 * 60_000);
    assert_eq!(login("ana", PASSWORD).status, 200);
    // Per client: many names from one address.
    for i in 0..20 {
        assert_eq!(login(&format!("nobody{i}"), "wrong password").status, 401);
    }
    assert_eq!(login("ana", PASSWORD).status, 429, "this client is limited");
    // A form login gets the page back with the reason, never the password.
    let r = s.post_raw(
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        "username=ana&password=secret-typed-here",
    );
    assert_eq!(r.status, 429);
    assert!(r.text.contains("<form"));
    assert!(!r.text.contains("secret-typed-here"));
    // Bodies of the wrong kind.
    // The log says a login was refused, never for whom or from where.
    let text = log.text();
    assert!(text.contains("login refused"), "{text}");
    for never in ["ana", "nobody", "127.0.0.1", "secret-typed-here", PASSWORD] {
        assert!(!text.contains(never), "{never} in the log: {text}");
    }
    let r = s.post_raw("/login", &[("content-type", "text/plain")], "x");
    assert_eq!(r.status, 415);
    let r = s.post_raw(
        "/login",
        &[("content-type", "application/json")],
        "{\"username\":",
    );
    assert_eq!(r.status, 400);
}

#[test]
fn a_form_login_sets_the_cookie_and_goes_to_a_local_page_only() {
    let s = serve();
    s.add_user("ana", PASSWORD, &[SITES[0]], false);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let body = |next: &str| {
        format!(
            "username=ana&password={}&next={next}",
            "tr0ub4dor%263-horse"
        )
    };
    let r = s.post_raw("/login", &form, &body("%2Fapp"));
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some("/app"));
    assert!(r.set_cookie[0].starts_with("pledge_session="));
    let r = s.post_raw("/login", &form, &body("%2F%2Fevil.example"));
    assert_eq!(r.header("location"), Some("/app"));
    let r = s.post_raw("/login", &form, "username=ana&password=nope-nope-nope");
    assert_eq!(r.status, 401);
    assert!(r.set_cookie.is_empty());
}

#[test]
fn passwords_keys_and_session_tokens_never_reach_the_store_in_clear() {
    let s = serve();
    s.add_user("ana", PASSWORD, &[SITES[0]], false);
    let key = s.add_key("k", SITES[0], Scope::Admin);
    let (cookie, csrf) = s.login("ana", PASSWORD);
    let token = cookie.trim_start_matches("pledge_session=").to_string();
    // Every file of the data directory, not only the store.
    let mut files = vec![s.data_dir()];
    let mut bytes = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                files.push(e.unwrap().path());
            }
        } else {
            bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    let hay = String::from_utf8_lossy(&bytes);
    assert!(
        hay.contains("$argon2id$"),
        "the store is where it should be"
    );
    for secret in [
        PASSWORD,
        key.as_str(),
        &key[4..],
        &key[4..36],
        token.as_str(),
        &token[..32],
    ] {
        assert!(!hay.contains(secret), "a secret in clear");
    }
    assert!(!csrf.is_empty());
    // The audit finds nothing IP-shaped, though a login from an address
    // happened and failed logins were counted.
    let _ = s.post_json(
        "/login",
        &[("x-forwarded-for", "203.0.113.9")],
        &json!({"username": "ana", "password": "not the password"}),
    );
    let audit = pledgedb_core::audit_dir(&s.data_dir()).unwrap();
    assert!(audit.findings.is_empty(), "{:?}", audit.findings);
    // The key still works (it is checked by its hash).
    let q = json!({"site_id": SITES[0], "metrics": ["visitors"], "date_range": "day"});
    assert_eq!(s.query(&key, &q).status, 200);
}

#[test]
fn the_client_limit_counts_the_address_a_trusted_proxy_forwarded() {
    let s = serve_with(vec!["127.0.0.1/32".parse().unwrap()]);
    s.add_user("ana", PASSWORD, &[SITES[0]], false);
    let login = |xff: &str, name: &str, pw: &str| {
        s.post_json(
            "/login",
            &[("x-forwarded-for", xff)],
            &json!({"username": name, "password": pw}),
        )
        .status
    };
    for i in 0..20 {
        assert_eq!(
            login("203.0.113.1", &format!("u{i}"), "wrong password"),
            401
        );
    }
    assert_eq!(login("203.0.113.1", "ana", PASSWORD), 429);
    // Another client behind the same proxy is not held back.
    assert_eq!(login("203.0.113.2", "ana", PASSWORD), 200);
    // One /64 is one client.
    for i in 0..20 {
        let ip = format!("2001:db8:5:6::{:x}", i + 1);
        assert_eq!(login(&ip, &format!("v{i}"), "wrong password"), 401);
    }
    assert_eq!(login("2001:db8:5:6:abcd::1", "ana", PASSWORD), 429);
    assert_eq!(login("2001:db8:5:7::1", "ana", PASSWORD), 200);
}
