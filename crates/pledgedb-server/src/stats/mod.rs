//! The Stats API (`POST /api/v2/query`, Plausible's v2 shape) and the
//! operator endpoints, answered by the engine's typed query API.
//!
//! Every route takes the [`Auth`] extractor: no credentials, a wrong key or
//! a logged-out session get 401; a site the caller may not see, or an
//! operator route without the admin scope, 403.

pub mod operator;
pub mod query;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use pledgedb_core::{Domain, DomainError};
use serde_json::Value;

use crate::auth::{ApiError, Auth};
use crate::state::AppState;

/// The body as JSON; a fixed message when it is not (the parser's own
/// message could quote the body).
pub(crate) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|_| ApiError::bad_request("the body is not valid JSON"))
}

/// The body's `site_id`, the site a request is about.
pub(crate) fn site_id(body: &Value) -> Result<&str, ApiError> {
    body.get("site_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("site_id (the site's domain) is required"))
}

/// The open domain of a site the caller may see: 404 when it is not
/// registered.
pub(crate) fn domain_of(state: &AppState, site: &str) -> Result<Domain, ApiError> {
    state.db.domain(site).map_err(|e| match e {
        DomainError::NotFound(_) | DomainError::InvalidName(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "no such site")
        }
        _ => ApiError::internal(),
    })
}

/// Runs engine work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err(ApiError::internal()))
}

async fn post_query(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(&body)?;
    // The site is checked first, so a caller learns nothing about a site it
    // may not see (not even whether its query was well-formed).
    auth.can_read(site_id(&body)?)?;
    let today = state.db.clock().now().day();
    let q = query::parse(&body, today)?;
    let domain = domain_of(&state, &q.site_id)?;
    blocking(move || query::answer(&domain, &q)).await.map(Json)
}

/// The Stats API's and operator routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/query", post(post_query))
        .route("/api/v2/operator/export", post(operator::export))
        .route("/api/v2/operator/erase", post(operator::erase))
        .route("/api/v2/operator/opt-out", post(operator::opt_out))
        .route("/api/v2/operator/opt-in", post(operator::opt_in))
        .route(
            "/api/v2/operator/privacy-report",
            get(operator::privacy_report),
        )
}
