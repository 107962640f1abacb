//! The web dashboard: one HTML page, a style sheet and a script shipped
//! inside the binary (no CDN, no external font, no build step), and the JSON
//! routes they read. Everything under `/app` needs a signed-in user who may
//! see the site; `/share/{token}` shows one site's dashboard read-only with
//! small rows folded, and nothing else.
//!
//! - `mod.rs`: routes, the page, errors.
//! - `overview.rs`: the dashboard's numbers (typed query API).
//! - `api.rs`: forms, visits and replays, heatmaps, privacy operations,
//!   shared links.
//! - `shares.rs`: the store of shared links.
//!
//! Who is asking is the server's [`Auth`](crate::auth::Auth): a signed-in
//! user (or an API key) who may read a site sees its dashboard; operating
//! (submitted values, shared links, the audit) needs the admin right on it.
//! Exports and erasures go through the operator endpoints of the Stats API.

mod api;
pub mod overview;
pub mod shares;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pledgedb_core::ReadError;

use crate::auth::ApiError;

use crate::state::AppState;

const PAGE: &str = include_str!("assets/app.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(api::app_page))
        .route("/app/{*rest}", get(api::app_page))
        .route(
            "/app/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/app/assets/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/app/api/sites", get(api::sites))
        .route("/app/api/site/{site}/overview", get(api::overview))
        .route("/app/api/site/{site}/forms", get(api::forms))
        .route("/app/api/site/{site}/submissions", get(api::submissions))
        .route("/app/api/site/{site}/sessions", get(api::sessions))
        .route("/app/api/site/{site}/replay/{session}", get(api::replay))
        .route("/app/api/site/{site}/heatmap", get(api::heatmap))
        .route("/app/api/site/{site}/audit", get(api::audit))
        .route(
            "/app/api/site/{site}/shares",
            get(api::shares).post(api::share_create),
        )
        .route(
            "/app/api/site/{site}/shares/{id}/revoke",
            post(api::share_revoke),
        )
        .route("/share/{token}", get(api::share_page))
        .route("/share/{token}/api/overview", get(api::share_overview))
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// The page shell with its CSRF token and mode filled in.
fn page(csrf: &str, mode: &str) -> Response {
    let html = PAGE
        .replace("{{csrf}}", &escape_attr(csrf))
        .replace("{{mode}}", mode);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

fn escape_attr(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
        .collect()
}

/// An engine read error as an answer: the engine's own message for a
/// question it refused (its messages name no value of the request), a
/// fixed one for anything else.
pub(crate) fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::Invalid(m) => ApiError::bad_request(m),
        _ => ApiError::internal(),
    }
}
