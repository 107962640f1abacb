//! The state every handler shares.

use std::sync::Arc;

use pledgedb_core::Db;

use crate::config::ServerConfig;

/// Shared by every request: the engine, the configuration, the account
/// store and the collector's rate limiter. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The engine over the data directory.
    pub db: Db,
    /// The server's configuration.
    pub config: Arc<ServerConfig>,
    /// Users, sessions and API keys.
    pub accounts: Arc<crate::auth::Accounts>,
    /// Per-client token buckets of the public routes, keyed by a keyed hash
    /// of the client's address (never the address).
    pub rate: Arc<crate::rate::RateLimiter>,
    /// The extra origins of each site (`site add --origin`).
    pub origins: Arc<crate::sites::SiteOrigins>,
    /// The engine's input limits, checked for a whole batch before any of
    /// it is ingested.
    pub db_limits: pledgedb_core::Limits,
    /// The dashboard's shared read-only links.
    pub shares: Arc<crate::dashboard::shares::Shares>,
}

impl AppState {
    /// The state over an open engine.
    pub fn new(
        db: Db,
        config: ServerConfig,
        accounts: Arc<crate::auth::Accounts>,
    ) -> std::io::Result<AppState> {
        let rate = Arc::new(crate::rate::RateLimiter::new(
            config.rate_per_second,
            config.rate_burst,
        ));
        let origins = Arc::new(crate::sites::SiteOrigins::load(db.path()));
        let shares = Arc::new(crate::dashboard::shares::Shares::open(db.path())?);
        Ok(AppState {
            db_limits: pledgedb_core::Limits::default(),
            origins,
            db,
            config: Arc::new(config),
            accounts,
            rate,
            shares,
        })
    }
}
