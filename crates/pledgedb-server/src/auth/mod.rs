//! Accounts: users with Argon2-hashed passwords, API keys stored only as
//! hashes, login sessions.

use std::path::Path;

use axum::Router;

use crate::state::AppState;

/// The account store of a data directory.
pub struct Accounts {}

impl Accounts {
    /// Opens (or creates) the account store of the data directory `dir`.
    pub fn open(_dir: &Path) -> std::io::Result<Accounts> {
        Ok(Accounts {})
    }
}

/// Login and logout routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
