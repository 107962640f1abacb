//! `GET /login` (a plain HTML form, no script), `POST /login` (form or
//! JSON), `POST /logout`, `GET /api/session`, and the login rate limiter.

use std::collections::HashMap;
use std::hash::Hasher;
use std::net::IpAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use parking_lot::Mutex;
use serde::Deserialize;

use super::{
    ApiError, Auth, SESSION_COOKIE, SESSION_TTL_MS, authenticate, check_csrf, client, cookie,
    is_tls, now_ms, same_origin,
};
use crate::state::AppState;

/// Failed logins allowed per user name within [`WINDOW_MS`].
pub const MAX_FAILURES_PER_NAME: u32 = 5;
/// Failed logins allowed per client within [`WINDOW_MS`].
pub const MAX_FAILURES_PER_CLIENT: u32 = 20;
/// The rate limiter's window.
pub const WINDOW_MS: i64 = 15 * 60_000;
/// Most entries the limiter holds; past it, expired entries are dropped,
/// and if none is, new names and clients are refused until the window
/// passes (a flood of names cannot grow memory without bound).
const MAX_ENTRIES: usize = 100_000;

/// Password verifications that may run at once.
pub const ARGON2_AT_ONCE: usize = 4;

static ARGON2: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(ARGON2_AT_ONCE);

#[derive(Clone, Copy)]
struct Window {
    start_ms: i64,
    failures: u32,
}

/// Counts failed logins per user name and per client in memory, keyed by
/// a SipHash with a random key made at start: neither names nor
/// addresses are held in clear, and nothing is written to disk.
pub struct LoginLimiter {
    key: [u8; 16],
    map: Mutex<HashMap<u64, Window>>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter").finish_non_exhaustive()
    }
}

impl LoginLimiter {
    /// A limiter with a fresh random key.
    pub fn new() -> std::io::Result<LoginLimiter> {
        Ok(LoginLimiter {
            key: super::store::random_bytes::<16>()?,
            map: Mutex::new(HashMap::new()),
        })
    }

    fn slot(&self, kind: u8, bytes: &[u8]) -> u64 {
        let mut h = siphasher::sip::SipHasher13::new_with_key(&self.key);
        h.write_u8(kind);
        h.write(bytes);
        h.finish()
    }

    fn slots(&self, name: &str, client: Option<IpAddr>) -> (u64, Option<u64>) {
        // An IPv6 client is counted by its /64: one host usually holds a
        // whole /64 and could otherwise take a fresh address per attempt.
        let c = client.map(|ip| match ip {
            IpAddr::V4(a) => self.slot(2, &a.octets()),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.slot(2, &v4.octets()),
                None => self.slot(3, &a.octets()[..8]),
            },
        });
        (self.slot(1, name.as_bytes()), c)
    }

    /// Whether a login for `name` from `client` is refused now.
    pub fn blocked(&self, name: &str, client: Option<IpAddr>, now_ms: i64) -> bool {
        let (n, c) = self.slots(name, client);
        let map = self.map.lock();
        let over = |slot: u64, max: u32| {
            map.get(&slot)
                .is_some_and(|w| now_ms - w.start_ms < WINDOW_MS && w.failures >= max)
        };
        let full = map.len() >= MAX_ENTRIES && !map.contains_key(&n);
        full || over(n, MAX_FAILURES_PER_NAME)
            || c.is_some_and(|c| over(c, MAX_FAILURES_PER_CLIENT))
    }

    /// Records a failed login.
    pub fn failed(&self, name: &str, client: Option<IpAddr>, now_ms: i64) {
        let (n, c) = self.slots(name, client);
        let mut map = self.map.lock();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, w| now_ms - w.start_ms < WINDOW_MS);
        }
        for slot in std::iter::once(n).chain(c) {
            if map.len() >= MAX_ENTRIES && !map.contains_key(&slot) {
                continue;
            }
            let w = map.entry(slot).or_insert(Window {
                start_ms: now_ms,
                failures: 0,
            });
            if now_ms - w.start_ms >= WINDOW_MS || now_ms < w.start_ms {
                *w = Window {
                    start_ms: now_ms,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// Forgets a name's failures after a successful login.
    pub fn succeeded(&self, name: &str) {
        let (n, _) = self.slots(name, None);
        self.map.lock().remove(&n);
    }
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Decodes `application/x-www-form-urlencoded` fields.
pub(crate) fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split(|b| *b == b'&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let mut it = kv.splitn(2, |b| *b == b'=');
            let k = decode(it.next().unwrap_or_default());
            let v = decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_form(headers: &HeaderMap) -> bool {
    content_type(headers) == "application/x-www-form-urlencoded"
}

fn is_json(headers: &HeaderMap) -> bool {
    content_type(headers) == "application/json"
}

fn session_cookie(token: &str, tls: bool) -> Option<HeaderValue> {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_TTL_MS / 1000
    ))
    .ok()
}

fn cleared_cookie(tls: bool) -> HeaderValue {
    let v = if tls {
        "pledge_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"
    } else {
        "pledge_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    };
    HeaderValue::from_static(v)
}

/// A local path to go to after a form login: `/...` but not `//...` or
/// `/\...` (which browsers read as another host).
fn local_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() < 512
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => DEFAULT_NEXT,
    }
}

/// Where a form login goes when it names no page: the dashboard.
const DEFAULT_NEXT: &str = "/app";

const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in: PledgeDB</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>PledgeDB</h1>
{message}
<form method="post" action="/login">
<p><label>User name <input name="username" autocomplete="username" required maxlength="64"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
{next}<p><button type="submit">Log in</button></p>
</form>
</main>
</body>
</html>
"#;

fn login_page(message: &str, next: Option<&str>) -> Html<String> {
    let m = if message.is_empty() {
        String::new()
    } else {
        format!("<p role=\"alert\">{message}</p>")
    };
    // Where the form goes after signing in: only a local path, escaped.
    let next = match next.map(|n| local_next(Some(n))) {
        Some(n) if n != DEFAULT_NEXT => format!(
            "<input type=\"hidden\" name=\"next\" value=\"{}\">\n",
            html_escape::encode_safe(n)
        ),
        _ => String::new(),
    };
    Html(LOGIN_PAGE.replace("{message}", &m).replace("{next}", &next))
}

async fn get_login(
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    login_page("", q.get("next").map(String::as_str))
}

async fn post_login(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let form = is_form(&parts.headers);
    let peer = client::peer(&parts);
    let tls = is_tls(&state, &parts.headers, peer);
    let fail = |e: ApiError| -> Response {
        if form {
            (e.status, login_page(&e.message, None)).into_response()
        } else {
            e.into_response()
        }
    };
    if let Err(e) = same_origin(&parts.headers, tls) {
        return fail(e);
    }
    let login: LoginForm = if form {
        let mut f = LoginForm {
            username: String::new(),
            password: String::new(),
            next: None,
        };
        for (k, v) in form_fields(&body) {
            match k.as_str() {
                "username" => f.username = v,
                "password" => f.password = v,
                "next" => f.next = Some(v),
                _ => {}
            }
        }
        f
    } else if is_json(&parts.headers) {
        match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(_) => {
                return fail(ApiError::bad_request(
                    "a login is {\"username\": ..., \"password\": ...}",
                ));
            }
        }
    } else {
        return fail(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send a form or JSON",
        ));
    };
    let now = now_ms(&state);
    let ip = client::client_ip(peer, &parts.headers, &state.config.trusted_proxies);
    let limiter = state.accounts.limiter();
    if limiter.blocked(&login.username, ip, now) {
        // Neither the name nor the address: only that it happened.
        crate::log!("login refused: too many failed attempts");
        let mut r = fail(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins; try again later",
        ));
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(WINDOW_MS as u64 / 1000),
        );
        return r;
    }
    let accounts = state.accounts.clone();
    let (name, password) = (login.username.clone(), login.password);
    // Each Argon2 verification takes ~19 MiB and a core for a while: at
    // most ARGON2_AT_ONCE run at a time, the others wait their turn.
    let Ok(_permit) = ARGON2.acquire().await else {
        return fail(ApiError::internal());
    };
    let checked =
        tokio::task::spawn_blocking(move || accounts.check_password(&name, &password)).await;
    let user = match checked {
        Ok(Ok(Some(u))) => u,
        Ok(Ok(None)) => {
            limiter.failed(&login.username, ip, now);
            return fail(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ));
        }
        _ => return fail(ApiError::internal()),
    };
    limiter.succeeded(&user.name);
    let Ok((token, csrf)) = state.accounts.open_session(&user.name, now) else {
        return fail(ApiError::internal());
    };
    let Some(cookie) = session_cookie(&token, tls) else {
        return fail(ApiError::internal());
    };
    let mut r = if form {
        let to = local_next(login.next.as_deref());
        let mut r = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r
    } else {
        axum::Json(serde_json::json!({
            "user": user.name,
            "admin": user.admin,
            "sites": user.sites,
            "csrf": csrf,
        }))
        .into_response()
    };
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn post_logout(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let peer = client::peer(&parts);
    let tls = is_tls(&state, &parts.headers, peer);
    let form = is_form(&parts.headers);
    let auth = match authenticate(&state, &parts.headers) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let Some(csrf) = &auth.csrf else {
        return ApiError::bad_request("logout ends a session; an API key has none").into_response();
    };
    let form_token = if form {
        form_fields(&body)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
    } else {
        None
    };
    if let Err(e) = check_csrf(&parts.headers, tls, csrf, form_token.as_deref()) {
        return e.into_response();
    }
    let token = cookie(&parts.headers, SESSION_COOKIE).unwrap_or_default();
    if state.accounts.close_session(token).is_err() {
        return ApiError::internal().into_response();
    }
    let mut r = if form {
        let mut r = StatusCode::SEE_OTHER.into_response();
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/login"));
        r
    } else {
        axum::Json(serde_json::json!({ "logged_out": true })).into_response()
    };
    r.headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie(tls));
    r
}

/// `GET /api/session`: who is asking, what they may see, and (for a
/// session) the CSRF token pages send back.
async fn get_session(auth: Auth) -> Response {
    let body = match (&auth.who, &auth.access) {
        (super::Who::User(u), access) => serde_json::json!({
            "user": u,
            "admin": matches!(access, super::Access::All),
            "sites": match access {
                super::Access::Sites(s) => s.clone(),
                _ => Vec::new(),
            },
            "csrf": auth.csrf,
        }),
        (super::Who::Key(k), super::Access::Site(site, scope)) => serde_json::json!({
            "key": k,
            "site": site,
            "scope": scope.as_str(),
        }),
        (super::Who::Key(k), _) => serde_json::json!({ "key": k }),
    };
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The routes of this module.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(get_login).post(post_login))
        .route("/logout", post(post_logout))
        .route("/api/session", get(get_session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_name_and_per_client_within_the_window() {
        let l = LoginLimiter::new().unwrap();
        let a: Option<IpAddr> = "192.0.2.1".parse().ok();
        let b: Option<IpAddr> = "192.0.2.2".parse().ok();
        for _ in 0..MAX_FAILURES_PER_NAME {
            assert!(!l.blocked("ana", a, 0));
            l.failed("ana", a, 0);
        }
        assert!(l.blocked("ana", a, 0));
        assert!(l.blocked("ana", b, 1), "per name, whatever the client");
        assert!(!l.blocked("bob", a, 1), "another name from the same client");
        assert!(!l.blocked("ana", a, WINDOW_MS), "the window passed");
        // Per client: many names from one address.
        let l = LoginLimiter::new().unwrap();
        for i in 0..MAX_FAILURES_PER_CLIENT {
            l.failed(&format!("u{i}"), a, 0);
        }
        assert!(l.blocked("fresh", a, 0));
        assert!(!l.blocked("fresh", b, 0));
        l.succeeded("u1");
        assert!(l.blocked("fresh", a, 0), "a success clears the name only");
        // IPv6: every address of one /64 is one client; mapped IPv4 is IPv4.
        let l = LoginLimiter::new().unwrap();
        for i in 0..MAX_FAILURES_PER_CLIENT {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            l.failed(&format!("u{i}"), Some(ip), 0);
        }
        let same64: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let other64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.blocked("fresh", Some(same64), 0));
        assert!(!l.blocked("fresh", Some(other64), 0));
        let l = LoginLimiter::new().unwrap();
        for i in 0..MAX_FAILURES_PER_CLIENT {
            l.failed(&format!("u{i}"), a, 0);
        }
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(l.blocked("fresh", Some(mapped), 0));
    }

    #[test]
    fn form_fields_are_decoded() {
        let f = form_fields(b"username=a+b&password=p%26w%3D%&next=%2Fx&x=%zz&=&csrf");
        assert_eq!(
            f,
            vec![
                ("username".into(), "a b".into()),
                ("password".into(), "p&w=%".into()),
                ("next".into(), "/x".into()),
                ("x".into(), "%zz".into()),
                (String::new(), String::new()),
                ("csrf".into(), String::new()),
            ]
        );
    }

    #[test]
    fn the_login_page_carries_only_a_local_next_escaped() {
        let page = |n: Option<&str>| login_page("", n).0;
        assert!(page(Some("/app/shop.example")).contains(
            "<input type=\"hidden\" name=\"next\" value=\"&#x2F;app&#x2F;shop.example\">"
        ));
        for n in [
            None,
            Some("//evil.example"),
            Some("https://evil.example"),
            Some("/app"),
        ] {
            assert!(!page(n).contains("name=\"next\""), "{n:?}");
        }
        let hostile = page(Some("/x\"><script>alert(1)</script>"));
        assert!(
            hostile.contains("value=\"&#x2F;x&quot;&gt;&lt;script&gt;"),
            "{hostile}"
        );
        assert!(!hostile.contains("<script>"), "{hostile}");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        for (n, want) in [
            (Some("/app"), "/app"),
            (Some("//evil.example"), "/app"),
            (Some("/\\evil.example"), "/app"),
            (Some("https://evil.example"), "/app"),
            (Some("/a b"), "/app"),
            (None, "/app"),
        ] {
            assert_eq!(local_next(n), want);
        }
    }
}
