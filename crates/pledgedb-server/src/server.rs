//! Binding, routing, the security baseline and graceful shutdown.
//!
//! Every response carries the security headers of [`security_headers`];
//! every request body is limited to [`ServerConfig::max_body_bytes`] and
//! every request to [`ServerConfig::request_timeout`]. A background task
//! flushes the engine every [`ServerConfig::commit_interval`] (group
//! commit), so a hit answered 202 is durable within that interval; the
//! server flushes once more when it stops.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use pledgedb_core::Db;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::state::AppState;

/// The Content-Security-Policy of every response: nothing inline, nothing
/// from elsewhere, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Every route of the server, with the security baseline around it.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(crate::collect::routes())
        .merge(crate::pages::routes())
        .merge(crate::auth::routes())
        .merge(crate::stats::routes())
        .merge(crate::dashboard::routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Adds the security headers to every response (the handler's own
/// `Content-Security-Policy` or `Cache-Control`, if it set one, is kept).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // same-origin, not no-referrer: with no-referrer a browser sends
    // `Origin: null` on form posts, which the CSRF rule must refuse.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(h, header::CACHE_CONTROL, "no-store");
    res
}

/// Answers 408 to a request that takes longer than the configured timeout.
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request timed out\n").into_response(),
    }
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
        let state = AppState::new(db, config, accounts)?;
        Ok(Server { listener, state })
    }

    /// The address actually bound (the port when `listen` asked for 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests and the CLI read the engine through it).
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then flushes the engine. While it
    /// serves, a background task flushes every commit interval.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let db = self.state.db.clone();
        let interval = self.state.config.commit_interval;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let committer = tokio::spawn(group_commit(db.clone(), interval, stop_rx));
        let addr = self.listener.local_addr()?;
        crate::log!("listening on port {}", addr.port());
        let app = router(self.state);
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_tx.send(true);
        let _ = committer.await;
        let flushed = tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(std::io::Error::other)?;
        match &flushed {
            Ok(()) => crate::log!("stopped; every accepted hit is on disk"),
            Err(e) => crate::log!("stopped; the final flush failed: {e}"),
        }
        served?;
        flushed.map_err(std::io::Error::other)
    }
}

/// Flushes the engine every `interval` until told to stop.
async fn group_commit(
    db: Db,
    interval: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let db = db.clone();
                match tokio::task::spawn_blocking(move || db.flush()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => crate::log!("group commit failed: {e}"),
                    Err(_) => crate::log!("group commit task failed"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    crate::log!("shutting down: finishing requests and flushing");
}
