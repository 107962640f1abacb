//! What `pledgedb serve` is told: the listen address, the GeoIP database,
//! which proxies to believe, limits and intervals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The server's configuration (command-line flags and the config file).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen. Default: `127.0.0.1:8000` (loopback only).
    pub listen: SocketAddr,
    /// A MaxMind-format country database for the engine.
    pub geoip: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` hop is believed. Default: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The longest an accepted (202) hit waits before it is durable.
    /// Default: one second.
    pub commit_interval: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            geoip: None,
            trusted_proxies: Vec::new(),
            commit_interval: Duration::from_secs(1),
        }
    }
}
