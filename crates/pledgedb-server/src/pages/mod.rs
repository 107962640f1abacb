//! The public opt-out and transparency pages. Plain HTML without any
//! script or inline style (the CSP forbids both).
//!
//! - `GET /opt-out` shows whether this browser is opted out; its one
//!   button posts to `POST /opt-out`, which draws a random token, records
//!   its keyed hash in the engine's global registry (`Db::opt_out`) and sets
//!   it as an `HttpOnly` cookie on the server's origin. Every collector
//!   request carries the cookie (the tracker sends with credentials), and
//!   the collector puts a registered token into the hit, so the engine's
//!   gate drops it on every site. The opt-in button removes the token from
//!   the registry and the cookie. The form is public, so it is protected
//!   from cross-site posts by its `Origin` (or `Sec-Fetch-Site`) header.
//!   The page lists no site: it says it covers every site of the server,
//!   and with `?site=D` (D a registered site) it names that one.
//! - `GET /privacy` (and `/privacy.json`) is the public view of the
//!   transparency report, `PrivacyReport::public`: what is recorded, the
//!   server-wide counters, and with `?site=D` that one site's settings.
//!   It names no other site, and has no overdue purges and no quarantined
//!   files (those are the operators', `GET /api/v2/operator/privacy-report`).
//!
//! A `site` that is not a registered site (unknown, malformed, repeated)
//! names no site, and no page repeats it.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::collect::{OPT_OUT_COOKIE, cookie};
use crate::state::AppState;

/// The public pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opt-out", get(opt_out_page).post(opt_out_post))
        .route("/privacy", get(privacy_page))
        .route("/privacy.json", get(privacy_json))
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head><body>\n{body}\n</body></html>\n",
        esc(title)
    ))
}

/// `?site=D` on a public page.
#[derive(Deserialize)]
struct SiteQuery {
    site: Option<String>,
}

/// The registered site that `?site=` names, if any: the engine's own
/// spelling of the name, never the raw parameter.
fn named_site(state: &AppState, q: Result<Query<SiteQuery>, QueryRejection>) -> Option<String> {
    let want = q.ok()?.0.site?.trim().to_ascii_lowercase();
    state.db.domains().into_iter().find(|d| *d == want)
}

/// `?site=D` for a link to another public page, or nothing.
fn site_suffix(site: Option<&str>) -> String {
    site.map_or_else(String::new, |d| format!("?site={}", esc(d)))
}

/// Whether this browser carries a registered opt-out token.
fn opted_out(state: &AppState, headers: &HeaderMap) -> bool {
    cookie(headers, OPT_OUT_COOKIE).is_some_and(|t| state.db.is_opted_out(&t))
}

async fn opt_out_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<SiteQuery>, QueryRejection>,
) -> Response {
    let site = named_site(&state, q);
    let here = site_suffix(site.as_deref());
    let (status, action, button) = if opted_out(&state, &headers) {
        (
            "<p id=\"state\" data-state=\"out\"><strong>This browser is opted out.</strong> \
             No site this server collects for records anything from it.</p>",
            "in",
            "<button id=\"opt-in\" type=\"submit\">Opt back in</button>",
        )
    } else {
        (
            "<p id=\"state\" data-state=\"in\">This browser is <strong>not</strong> opted out.</p>",
            "out",
            "<button id=\"opt-out\" type=\"submit\">Opt out of every site</button>",
        )
    };
    let named = site.as_deref().map_or_else(String::new, |d| {
        format!(
            "<p id=\"site\">That includes <strong>{}</strong>.</p>\n",
            esc(d)
        )
    });
    page(
        "Opt out of analytics",
        &format!(
            "<h1>Opt out of analytics</h1>\n{status}\n\
             <form method=\"post\" action=\"/opt-out{here}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">{button}</form>\n\
             <p>One click opts this browser out of every site this server collects for. \
             The choice is kept as a random token in a cookie of this server; \
             only a keyed hash of the token is stored. Clearing this server's cookies undoes it.</p>\n\
             {named}<p><a href=\"/privacy{here}\">What is recorded</a></p>"
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
struct OptOutForm {
    action: String,
}

/// Whether a state-changing request comes from a page of this server: its
/// `Origin` names the `Host` it was sent to, or, when the browser sends no
/// usable `Origin` (none, or `null`, as Chromium does under
/// `Referrer-Policy: no-referrer`), it says `Sec-Fetch-Site: same-origin`
/// (a header no page can set). Requests with neither are refused.
#[must_use]
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.trim().eq_ignore_ascii_case("null"))
    {
        Some(o) => {
            let Some(host) = host else { return false };
            let o = o.to_ascii_lowercase();
            let host = host.to_ascii_lowercase();
            o == format!("http://{host}") || o == format!("https://{host}")
        }
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "same-origin"),
    }
}

fn random_token() -> Option<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

async fn opt_out_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    q: Result<Query<SiteQuery>, QueryRejection>,
    form: Result<axum::Form<OptOutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let ip = crate::client::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    if !state.rate.allow(ip, 1, state.db.clock().as_ref()) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            page(
                "Too many requests",
                "<p>Too many requests; try again later.</p>",
            ),
        )
            .into_response();
    }
    if !same_origin(&headers) {
        crate::log!("/opt-out: 403 cross-origin post refused");
        return (
            StatusCode::FORBIDDEN,
            page(
                "Refused",
                "<p>This form can only be sent from its own page.</p>",
            ),
        )
            .into_response();
    }
    let Ok(axum::Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            page("Bad request", "<p>`action`: expected out or in.</p>"),
        )
            .into_response();
    };
    let tls = crate::client::is_tls(peer.ip(), &headers, &state.config.trusted_proxies);
    let attrs = if tls {
        "Path=/; HttpOnly; Secure; SameSite=None"
    } else {
        "Path=/; HttpOnly; SameSite=Lax"
    };
    let set_cookie = match form.action.as_str() {
        "out" => {
            let token = match cookie(&headers, OPT_OUT_COOKIE) {
                Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t,
                _ => match random_token() {
                    Some(t) => t,
                    None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                },
            };
            let db = state.db.clone();
            let t = token.clone();
            match tokio::task::spawn_blocking(move || db.opt_out(&t)).await {
                Ok(Ok(())) => {}
                _ => {
                    crate::log!("/opt-out: the opt-out could not be stored");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
            crate::log!("/opt-out: a browser opted out");
            format!("{OPT_OUT_COOKIE}={token}; Max-Age=157680000; {attrs}")
        }
        "in" => {
            if let Some(t) = cookie(&headers, OPT_OUT_COOKIE) {
                let db = state.db.clone();
                match tokio::task::spawn_blocking(move || db.opt_in(&t)).await {
                    Ok(Ok(())) => {}
                    _ => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
            crate::log!("/opt-out: a browser opted back in");
            format!("{OPT_OUT_COOKIE}=; Max-Age=0; {attrs}")
        }
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                page("Bad request", "<p>`action`: expected out or in.</p>"),
            )
                .into_response();
        }
    };
    // Back to the page it came from; a site in the address is a
    // registered name (a-z, 0-9, '-', '.'), never the raw parameter.
    let back = match named_site(&state, q) {
        Some(d) => format!("/opt-out?site={d}"),
        None => "/opt-out".to_string(),
    };
    let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The public view of the transparency report, for the site `?site=`
/// names if any.
async fn public_report(
    state: &AppState,
    q: Result<Query<SiteQuery>, QueryRejection>,
) -> Option<pledgedb_core::PublicPrivacyReport> {
    let site = named_site(state, q);
    let db = state.db.clone();
    match tokio::task::spawn_blocking(move || db.privacy_report()).await {
        Ok(Ok(r)) => Some(r.public(site.as_deref())),
        _ => None,
    }
}

async fn privacy_json(
    State(state): State<AppState>,
    q: Result<Query<SiteQuery>, QueryRejection>,
) -> Response {
    match public_report(&state, q).await {
        Some(r) => axum::Json(r).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn privacy_page(
    State(state): State<AppState>,
    q: Result<Query<SiteQuery>, QueryRejection>,
) -> Response {
    let Some(r) = public_report(&state, q).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let here = site_suffix(r.site.as_ref().map(|d| d.name.as_str()));
    let mut b = String::from("<h1>What this analytics server records</h1>\n");
    b.push_str(&format!(
        "<p>PledgeDB {}. <a href=\"/opt-out{here}\">Opt out of every site</a> · \
         <a href=\"/privacy.json{here}\">this report as JSON</a></p>\n<h2>Recorded</h2><dl>",
        esc(r.engine_version)
    ));
    for f in &r.recorded {
        b.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            esc(f.field),
            esc(f.description)
        ));
    }
    b.push_str("</dl>\n<h2>Never recorded</h2><ul>");
    for n in &r.never_recorded {
        b.push_str(&format!("<li>{}</li>", esc(n)));
    }
    b.push_str("</ul>\n");
    match &r.site {
        Some(d) => {
            let without = match d.consent.without_consent {
                pledgedb_core::WithoutConsent::Drop => "dropped",
                pledgedb_core::WithoutConsent::Anonymous => "kept anonymous, nothing typed",
            };
            b.push_str(&format!(
                "<h2>Retention and consent of {0}</h2><table id=\"site\"><tr><th>site</th>\
                 <th>raw events kept (days)</th><th>aggregates kept (days)</th><th>consent required</th>\
                 <th>without consent</th><th>Do-Not-Track honoured</th><th>GPC honoured</th>\
                 <th>erasure requests</th></tr>\
                 <tr><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td><td>{7}</td></tr></table>\n",
                esc(&d.name),
                d.retention.raw_event_days,
                d.retention.aggregate_days,
                yes(d.consent.require_consent),
                without,
                yes(d.consent.honour_dnt),
                yes(d.consent.honour_gpc),
                d.erasure_requests
            ));
        }
        None => b.push_str(
            "<h2>Retention and consent</h2><p id=\"no-site\">This page lists no site. \
             To see one site's retention and consent settings, add <code>?site=</code> and the \
             site's name to this page's address (<code>/privacy?site=your.site</code>); \
             a site can link its visitors there.</p>\n",
        ),
    }
    b.push_str(&format!(
        "<h2>Requests served by this server</h2><ul><li id=\"opt-outs\">opt-outs registered: {}</li>\
         <li id=\"erasures\">erasures completed: {}</li>",
        r.opt_outs_registered, r.erasures_completed
    ));
    for (reason, n) in &r.hits_dropped {
        b.push_str(&format!(
            "<li>hits dropped ({}): {n}</li>",
            esc(reason.as_str())
        ));
    }
    b.push_str("</ul>");
    page("Privacy: what is recorded", &b).into_response()
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_posts_pass() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        let host = ("host", "stats.example:8000");
        for (ok, pairs) in [
            (true, vec![host, ("origin", "http://stats.example:8000")]),
            (true, vec![host, ("origin", "https://stats.example:8000")]),
            (true, vec![host, ("sec-fetch-site", "same-origin")]),
            (
                true,
                vec![host, ("origin", "null"), ("sec-fetch-site", "same-origin")],
            ),
            (false, vec![host, ("origin", "null")]),
            (
                false,
                vec![host, ("origin", "null"), ("sec-fetch-site", "cross-site")],
            ),
            (
                false,
                vec![host, ("origin", "null"), ("sec-fetch-site", "same-site")],
            ),
            (false, vec![host, ("origin", "http://stats.example:8001")]),
            (
                false,
                vec![
                    host,
                    ("origin", "https://evil.example"),
                    ("sec-fetch-site", "same-origin"),
                ],
            ),
            (false, vec![host]),
            (false, vec![("origin", "http://stats.example:8000")]),
        ] {
            assert_eq!(same_origin(&h(&pairs)), ok, "{pairs:?}");
        }
    }
}
