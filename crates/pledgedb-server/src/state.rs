//! The state every handler shares.

use std::sync::Arc;

use pledgedb_core::Db;

use crate::config::ServerConfig;

/// Shared by every request: the engine, the configuration and the
/// account store. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The engine over the data directory.
    pub db: Db,
    /// The server's configuration.
    pub config: Arc<ServerConfig>,
    /// Users, sessions and API keys.
    pub accounts: Arc<crate::auth::Accounts>,
    /// The dashboard's shared read-only links.
    pub shares: Arc<crate::dashboard::shares::Shares>,
}
