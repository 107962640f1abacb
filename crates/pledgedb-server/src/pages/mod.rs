//! The public opt-out and transparency pages.

use axum::Router;

use crate::state::AppState;

/// The public pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
