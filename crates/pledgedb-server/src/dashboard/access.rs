//! Who is asking: the signed-in user behind a dashboard request, and what
//! they may see.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::DashError;
use crate::state::AppState;

/// A signed-in user of the dashboard.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The user's name.
    pub name: String,
    /// Whether the user administers every site.
    pub admin: bool,
    /// The sites the user may see (every site for an admin).
    pub sites: Vec<String>,
    /// The session's CSRF token, put into the page for its POSTs.
    pub csrf: String,
}

impl Viewer {
    /// Whether the user may see `site`'s dashboard.
    pub fn may_see(&self, site: &str) -> bool {
        self.admin || self.sites.iter().any(|s| s == site)
    }

    /// Whether the user may run privacy operations and read submitted
    /// values of `site`.
    pub fn operates(&self, site: &str) -> bool {
        self.admin && self.may_see(site)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = DashError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let _ = (parts, state);
        Err(DashError::Unauthenticated)
    }
}
