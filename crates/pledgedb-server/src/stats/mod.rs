//! The Stats API (`POST /api/v2/query`, Plausible's v2 shape) and the
//! operator endpoints, answered by the engine's typed query API.

use axum::Router;

use crate::state::AppState;

/// The Stats API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
