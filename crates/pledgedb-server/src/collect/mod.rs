//! The public collector: `POST /api/event` (Plausible's Events API shape)
//! and `POST /api/hits` (PledgeDB's batched format), and the tracker script.

use axum::Router;

use crate::state::AppState;

/// The collector's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
