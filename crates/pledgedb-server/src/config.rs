//! What `pledgedb serve` is told: the listen address, the GeoIP database,
//! which proxies to believe, limits and intervals.
//!
//! Flags cover the listen address, the GeoIP database and the trusted
//! proxies; a small TOML file (`--config FILE`) covers everything else:
//!
//! ```toml
//! listen = "127.0.0.1:8000"
//! trusted_proxies = ["10.0.0.0/8"]
//! commit_interval_ms = 1000
//! request_timeout_ms = 10000
//! max_body_bytes = 65536
//! max_batch = 100
//! max_props = 32
//! max_prop_bytes = 512
//! rate_per_second = 50.0
//! rate_burst = 200
//! extra_origins = ["https://app.example.net"]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

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
    /// The longest a request may take before it is answered 408.
    /// Default: ten seconds.
    pub request_timeout: Duration,
    /// The largest request body. Default: 64 KiB.
    pub max_body_bytes: usize,
    /// Hits in one `POST /api/hits` batch. Default: 100.
    pub max_batch: usize,
    /// Properties on one custom event. Default: 32.
    pub max_props: usize,
    /// Bytes in one property name or text value. Default: 512.
    pub max_prop_bytes: usize,
    /// Collector requests a client may make per second, on average.
    /// Default: 50.
    pub rate_per_second: f64,
    /// Collector requests a client may make at once (the bucket's size).
    /// Default: 200.
    pub rate_burst: u32,
    /// Origins allowed by CORS besides the registered sites' own.
    pub extra_origins: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            geoip: None,
            trusted_proxies: Vec::new(),
            commit_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024,
            max_batch: 100,
            max_props: 32,
            max_prop_bytes: 512,
            rate_per_second: 50.0,
            rate_burst: 200,
            extra_origins: Vec::new(),
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file: {0}")]
    Read(std::io::Error),
    /// The file is not valid TOML of the expected shape.
    #[error("invalid config file: {0}")]
    Parse(String),
    /// A value is out of its range.
    #[error("invalid config value `{0}`: {1}")]
    Invalid(&'static str, &'static str),
}

/// The config file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// See [`ServerConfig::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`ServerConfig::geoip`].
    pub geoip: Option<PathBuf>,
    /// CIDR blocks (or single addresses) of trusted proxies.
    pub trusted_proxies: Option<Vec<String>>,
    /// Milliseconds.
    pub commit_interval_ms: Option<u64>,
    /// Milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// See [`ServerConfig::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// See [`ServerConfig::max_batch`].
    pub max_batch: Option<usize>,
    /// See [`ServerConfig::max_props`].
    pub max_props: Option<usize>,
    /// See [`ServerConfig::max_prop_bytes`].
    pub max_prop_bytes: Option<usize>,
    /// See [`ServerConfig::rate_per_second`].
    pub rate_per_second: Option<f64>,
    /// See [`ServerConfig::rate_burst`].
    pub rate_burst: Option<u32>,
    /// See [`ServerConfig::extra_origins`].
    pub extra_origins: Option<Vec<String>>,
}

/// Parses a list of trusted proxies: CIDR blocks or single addresses.
/// The error does not echo the entry (it is an address).
pub fn parse_proxies<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let mut out = Vec::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let net = match item.parse::<ipnet::IpNet>() {
            Ok(n) => n,
            Err(_) => match item.parse::<std::net::IpAddr>() {
                Ok(ip) => ipnet::IpNet::from(ip),
                Err(_) => {
                    return Err(ConfigError::Invalid(
                        "trusted_proxies",
                        "expected CIDR blocks or addresses",
                    ));
                }
            },
        };
        out.push(net);
    }
    Ok(out)
}

impl ServerConfig {
    /// Applies a config file's text over `self`.
    pub fn apply_toml(&mut self, text: &str) -> Result<(), ConfigError> {
        let f: FileConfig = toml::from_str(text).map_err(|e| {
            // toml's message quotes the offending line; keep only its
            // first line (the kind of error), which names the key.
            let msg = e.message().lines().next().unwrap_or("").to_owned();
            ConfigError::Parse(pledgedb_core::text::redact_ips(&msg).into_owned())
        })?;
        if let Some(v) = f.listen {
            self.listen = v;
        }
        if let Some(v) = f.geoip {
            self.geoip = Some(v);
        }
        if let Some(v) = f.trusted_proxies {
            self.trusted_proxies = parse_proxies(v.iter().map(String::as_str))?;
        }
        if let Some(v) = f.commit_interval_ms {
            if v == 0 || v > 60_000 {
                return Err(ConfigError::Invalid(
                    "commit_interval_ms",
                    "expected 1 to 60000",
                ));
            }
            self.commit_interval = Duration::from_millis(v);
        }
        if let Some(v) = f.request_timeout_ms {
            if v == 0 {
                return Err(ConfigError::Invalid("request_timeout_ms", "expected > 0"));
            }
            self.request_timeout = Duration::from_millis(v);
        }
        if let Some(v) = f.max_body_bytes {
            if !(1024..=16 * 1024 * 1024).contains(&v) {
                return Err(ConfigError::Invalid(
                    "max_body_bytes",
                    "expected 1024 to 16777216",
                ));
            }
            self.max_body_bytes = v;
        }
        if let Some(v) = f.max_batch {
            if !(1..=10_000).contains(&v) {
                return Err(ConfigError::Invalid("max_batch", "expected 1 to 10000"));
            }
            self.max_batch = v;
        }
        if let Some(v) = f.max_props {
            self.max_props = v.min(64);
        }
        if let Some(v) = f.max_prop_bytes {
            self.max_prop_bytes = v.clamp(1, 4096);
        }
        if let Some(v) = f.rate_per_second {
            if !(v.is_finite() && v > 0.0) {
                return Err(ConfigError::Invalid("rate_per_second", "expected > 0"));
            }
            self.rate_per_second = v;
        }
        if let Some(v) = f.rate_burst {
            if v == 0 {
                return Err(ConfigError::Invalid("rate_burst", "expected > 0"));
            }
            self.rate_burst = v;
        }
        if let Some(v) = f.extra_origins {
            self.extra_origins = v
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect();
        }
        Ok(())
    }

    /// Reads and applies a config file.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(ConfigError::Read)?;
        self.apply_toml(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_sets_every_key() {
        let mut c = ServerConfig::default();
        c.apply_toml(
            "listen = \"127.0.0.1:9000\"\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n\
             commit_interval_ms = 250\nmax_body_bytes = 4096\nmax_batch = 5\nrate_burst = 3\n\
             rate_per_second = 0.5\nextra_origins = [\"https://App.example.net/\"]\n",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.commit_interval, Duration::from_millis(250));
        assert_eq!(c.max_body_bytes, 4096);
        assert_eq!(c.max_batch, 5);
        assert_eq!(c.rate_burst, 3);
        assert_eq!(c.extra_origins, vec!["https://app.example.net".to_owned()]);
    }

    #[test]
    fn bad_config_values_are_typed_errors_that_echo_no_address() {
        for text in [
            "trusted_proxies = [\"203.0.113.77/99\"]",
            "commit_interval_ms = 0",
            "max_batch = 0",
            "rate_per_second = -1.0",
            "unknown_key = 1",
            "listen = \"203.0.113.77\"",
            "max_body_bytes = 1",
        ] {
            let mut c = ServerConfig::default();
            let e = c.apply_toml(text).unwrap_err().to_string();
            assert!(!e.contains("203.0.113.77"), "{text}: {e}");
        }
    }
}
