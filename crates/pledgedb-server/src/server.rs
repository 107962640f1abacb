//! Binding, routing and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use pledgedb_core::Db;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::state::AppState;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::collect::routes())
        .merge(crate::pages::routes())
        .merge(crate::auth::routes())
        .merge(crate::stats::routes())
        .merge(crate::dashboard::routes())
        .with_state(state)
}

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Binds `config.listen` over an open engine.
    pub async fn bind(db: Db, config: ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(config.listen).await?;
        let accounts = Arc::new(crate::auth::Accounts::open(db.path())?);
        let shares = Arc::new(crate::dashboard::shares::Shares::open(db.path())?);
        let state = AppState {
            db,
            config: Arc::new(config),
            accounts,
            shares,
        };
        Ok(Server { listener, state })
    }

    /// The address actually bound (the port when `listen` asked for 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then flushes the engine.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let db = self.state.db.clone();
        let app = router(self.state);
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        db.flush().map_err(std::io::Error::other)
    }
}
