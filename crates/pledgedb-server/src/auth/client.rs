//! The connection's peer, for the login rate limiter and the TLS test.
//! The client's address itself comes from [`crate::client`] (the one place
//! that reads trusted `X-Forwarded-For` hops); it is hashed with a key held
//! in memory before it is used, and never stored or logged.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The connection's peer address, when the server was started with
/// connect info (as [`crate::Server::run`] does).
pub(crate) fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address ([`crate::client::client_ip`]), when the peer is
/// known.
#[must_use]
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[ipnet::IpNet],
) -> Option<IpAddr> {
    peer.map(|p| crate::client::client_ip(p, headers, trusted))
}
