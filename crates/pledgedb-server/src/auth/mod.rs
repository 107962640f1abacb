//! Accounts: users with Argon2-hashed passwords, API keys stored only as
//! hashes, login sessions; the [`Auth`] extractor every authenticated route
//! takes; login, logout and the CSRF rule.
//!
//! - A request authenticates with `Authorization: Bearer pdb_...` (an API
//!   key: one site, scope `stats` or `admin`) or with the `pledge_session`
//!   cookie (a user: their sites, or every site for an admin). No
//!   credentials, an unknown key, an expired or logged-out session: 401.
//!   Another site, or a stats key on an operator route: 403.
//! - CSRF: a request authenticated by the cookie with any method other than
//!   GET, HEAD or OPTIONS must carry the session's CSRF token in the
//!   `X-CSRF-Token` header (or, for the HTML logout form, a `csrf` form
//!   field), must not say `Sec-Fetch-Site: cross-site`/`same-site`, and its
//!   `Origin` (or else `Referer`), when sent, must be this server's own.
//!   Bearer keys are not sent by browsers on their own, so they need none.

pub mod cli;
mod client;
mod login;
mod store;

pub use client::client_ip;
pub use login::LoginLimiter;
pub use store::{
    AccountError, Accounts, ApiKey, KEY_PREFIX, SESSION_TTL_MS, Scope, SessionRecord, User,
};

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "pledge_session";

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An error answer: a status and a fixed message as `{"error": "..."}`.
/// Messages are written by the server; they never hold a value the client
/// sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "authentication required")
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 500, with a message that names no internal detail.
    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<AccountError> for ApiError {
    fn from(_: AccountError) -> ApiError {
        ApiError::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// A logged-in user.
    User(String),
    /// An API key, by its name.
    Key(String),
}

/// Which sites a caller may read and operate on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// An admin user: every site, operator endpoints included.
    All,
    /// A user: these sites, for the Stats API only.
    Sites(Vec<String>),
    /// A key: one site, with a scope.
    Site(String, Scope),
}

/// An authenticated caller (the [`FromRequestParts`] extractor of every
/// authenticated route).
#[derive(Clone, Debug)]
pub struct Auth {
    /// Who.
    pub who: Who,
    /// What they may see and do.
    pub access: Access,
    /// The session's CSRF token, when authenticated by the cookie.
    pub csrf: Option<String>,
}

impl Auth {
    /// Ok when the caller may read `site`'s statistics; 403 otherwise.
    pub fn can_read(&self, site: &str) -> Result<(), ApiError> {
        let ok = match &self.access {
            Access::All => true,
            Access::Sites(s) => s.iter().any(|x| x == site),
            Access::Site(s, _) => s == site,
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::forbidden("no access to this site"))
        }
    }

    /// Ok when the caller may use the operator endpoints on `site`: an
    /// admin user, or an admin key of that site.
    pub fn can_operate(&self, site: &str) -> Result<(), ApiError> {
        self.can_read(site)?;
        match &self.access {
            Access::All | Access::Site(_, Scope::Admin) => Ok(()),
            _ => Err(ApiError::forbidden("the admin scope is required")),
        }
    }

    /// Ok for an admin user or any admin key (for what concerns no single
    /// site: the opt-out registry, the privacy report).
    pub fn can_operate_anywhere(&self) -> Result<(), ApiError> {
        match &self.access {
            Access::All | Access::Site(_, Scope::Admin) => Ok(()),
            _ => Err(ApiError::forbidden("the admin scope is required")),
        }
    }
}

/// The value of one cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The engine's clock, in milliseconds.
pub fn now_ms(state: &AppState) -> i64 {
    state.db.clock().now().millis()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request came over TLS: a trusted proxy said so
/// ([`crate::client::is_tls`]).
pub fn is_tls(state: &AppState, headers: &HeaderMap, peer: Option<std::net::IpAddr>) -> bool {
    peer.is_some_and(|p| crate::client::is_tls(p, headers, &state.config.trusted_proxies))
}

/// The origin (`scheme://host[:port]`) this request was addressed to.
fn own_origin(headers: &HeaderMap, tls: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    Some(format!("{}://{}", if tls { "https" } else { "http" }, host))
}

/// The origin part of a URL (`scheme://host[:port]`).
fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let end = rest.find(['/', '?', '#']).map_or(url.len(), |j| i + 3 + j);
            &url[..end]
        }
        None => url,
    }
}

/// The cross-site half of the CSRF rule: `Sec-Fetch-Site` must not name
/// another site, and `Origin` (or else `Referer`), when present, must be
/// this server's own origin.
pub fn same_origin(headers: &HeaderMap, tls: bool) -> Result<(), ApiError> {
    let refuse = || ApiError::forbidden("cross-site request refused");
    if let Some(site) = headers.get("sec-fetch-site") {
        let s = site.to_str().unwrap_or("");
        if !(s.eq_ignore_ascii_case("same-origin") || s.eq_ignore_ascii_case("none")) {
            return Err(refuse());
        }
    }
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    if let Some(v) = claimed {
        let v = v.to_str().map_err(|_| refuse())?;
        let own = own_origin(headers, tls).ok_or_else(refuse)?;
        if !origin_of(v).eq_ignore_ascii_case(&own) {
            return Err(refuse());
        }
    }
    Ok(())
}

/// The full CSRF rule for a cookie-authenticated, state-changing request:
/// [`same_origin`] and the session's token in the header or `form_token`.
pub fn check_csrf(
    headers: &HeaderMap,
    tls: bool,
    session_csrf: &str,
    form_token: Option<&str>,
) -> Result<(), ApiError> {
    same_origin(headers, tls)?;
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(form_token);
    match sent {
        Some(t) if store::same(t, session_csrf) => Ok(()),
        _ => Err(ApiError::forbidden("missing or wrong CSRF token")),
    }
}

/// Resolves the caller of a request, without the CSRF rule.
pub(crate) fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Auth, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| ApiError::unauthorized())?;
        let key = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?
            .trim();
        let k = state
            .accounts
            .find_key(key)?
            .ok_or_else(ApiError::unauthorized)?;
        return Ok(Auth {
            who: Who::Key(k.name),
            access: Access::Site(k.site, k.scope),
            csrf: None,
        });
    }
    let token = cookie(headers, SESSION_COOKIE).ok_or_else(ApiError::unauthorized)?;
    let (s, u) = state
        .accounts
        .session(token, now_ms(state))?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Auth {
        who: Who::User(u.name),
        access: if u.admin {
            Access::All
        } else {
            Access::Sites(u.sites)
        },
        csrf: Some(s.csrf),
    })
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let auth = authenticate(state, &parts.headers)?;
        if let Some(csrf) = &auth.csrf
            && !is_safe(&parts.method)
        {
            let peer = client::peer(parts);
            check_csrf(
                &parts.headers,
                is_tls(state, &parts.headers, peer),
                csrf,
                None,
            )?;
        }
        Ok(auth)
    }
}

/// Login, logout and the session's own description.
pub fn routes() -> Router<AppState> {
    login::routes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_origin_rule_refuses_every_foreign_spelling() {
        let host = ("host", "127.0.0.1:8000");
        type Case<'a> = (&'a [(&'static str, &'a str)], bool, bool);
        let table: &[Case] = &[
            (&[host], false, true),
            (&[host, ("origin", "http://127.0.0.1:8000")], false, true),
            (&[host, ("origin", "HTTP://127.0.0.1:8000")], false, true),
            (&[host, ("origin", "https://127.0.0.1:8000")], true, true),
            (&[host, ("origin", "https://127.0.0.1:8000")], false, false),
            (&[host, ("origin", "http://evil.example")], false, false),
            (
                &[host, ("origin", "http://127.0.0.1:8000.evil.example")],
                false,
                false,
            ),
            (&[host, ("origin", "http://127.0.0.1:8001")], false, false),
            (&[host, ("origin", "null")], false, false),
            (
                &[host, ("referer", "http://127.0.0.1:8000/login")],
                false,
                true,
            ),
            (&[host, ("referer", "http://evil.example/x")], false, false),
            (&[host, ("sec-fetch-site", "cross-site")], false, false),
            (&[host, ("sec-fetch-site", "same-site")], false, false),
            (&[host, ("sec-fetch-site", "same-origin")], false, true),
            (&[("origin", "http://127.0.0.1:8000")], false, false),
        ];
        for (h, tls, ok) in table {
            assert_eq!(
                same_origin(&headers(h), *tls).is_ok(),
                *ok,
                "{h:?} tls={tls}"
            );
        }
    }

    #[test]
    fn the_csrf_token_is_required_and_compared_whole() {
        let h = headers(&[("host", "a:1")]);
        assert!(check_csrf(&h, false, "abc", None).is_err());
        assert!(check_csrf(&h, false, "abc", Some("ab")).is_err());
        assert!(check_csrf(&h, false, "abc", Some("abcd")).is_err());
        assert!(check_csrf(&h, false, "abc", Some("abc")).is_ok());
        let h = headers(&[("host", "a:1"), ("x-csrf-token", "abc")]);
        assert!(check_csrf(&h, false, "abc", None).is_ok());
        assert!(
            check_csrf(&h, false, "abd", Some("abd")).is_err(),
            "the header wins"
        );
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "a=1; pledge_session=tok; b=2")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        let h = headers(&[("cookie", "xpledge_session=tok")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }
}
