//! The tracker script: `GET /pledge.js` (page views, single-page-app
//! navigation, custom events, consent) and `GET /pledge.full.js` (the same
//! plus clicks, scroll depth and form interactions). Plain JavaScript kept
//! in `assets/`, built into the binary; the full script is the core with
//! the extension appended.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The core tracker.
pub const CORE_JS: &str = include_str!("../../assets/pledge.js");
/// The core tracker with clicks, scroll depth and forms.
pub const FULL_JS: &str = concat!(
    include_str!("../../assets/pledge.js"),
    include_str!("../../assets/pledge.forms.js")
);

/// The tracker's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pledge.js", get(|| async { script(CORE_JS) }))
        .route("/pledge.full.js", get(|| async { script(FULL_JS) }))
        // gzip for clients that ask: the size budget is the gzipped size
        .layer(tower_http::compression::CompressionLayer::new())
}

fn script(body: &'static str) -> Response {
    let headers = [
        (
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        ),
        (header::CACHE_CONTROL, "public, max-age=3600"),
        // The script is loaded by other sites' pages.
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "cross-origin",
        ),
    ];
    (headers, body).into_response()
}
