//! The client's address, for the login rate limiter only: the connection's
//! peer, or the last `X-Forwarded-For` hop a trusted proxy added. It is
//! hashed with a key held in memory before it is used as a map key, and it
//! is never stored or logged.

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

/// The client's address: walking `X-Forwarded-For` from the right, the
/// first hop that is not a trusted proxy, as long as every hop to its
/// right (starting with the peer) is trusted.
#[must_use]
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[ipnet::IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut current = peer?;
    if !is_trusted(&current) {
        return Some(current);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .ok()?;
    for hop in hops.into_iter().rev() {
        current = hop;
        if !is_trusted(&current) {
            break;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trusted_hops_are_believed() {
        let proxy: ipnet::IpNet = "10.0.0.0/8".parse().unwrap();
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert("x-forwarded-for", v.parse().unwrap());
            m
        };
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let t = std::slice::from_ref(&proxy);
        assert_eq!(
            client_ip(ip("192.0.2.1"), &h("198.51.100.7"), t),
            ip("192.0.2.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h("198.51.100.7"), t),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h("203.0.113.9, 198.51.100.7, 10.0.0.2"), t),
            ip("198.51.100.7")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), &h("junk"), t), None);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), t),
            ip("10.0.0.1")
        );
        assert_eq!(client_ip(None, &HeaderMap::new(), t), None);
    }
}
