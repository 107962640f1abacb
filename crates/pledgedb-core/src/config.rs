//! How a data directory is opened: [`Config`] and the writer pool's
//! [`WriterConfig`]. Below the writer, the compactor and the engine, which
//! all read it.

use crate::limits::Limits;
use crate::settings::DomainSettings;
use crate::time::{Clock, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;

/// How to open a data directory.
#[derive(Clone, Debug)]
pub struct Config {
    /// A MaxMind-format country database (GeoIP2/GeoLite2 Country or City,
    /// DB-IP lite, ip-location-db). Without one every country is `ZZ`.
    pub geoip: Option<PathBuf>,
    /// The clock. Tests pass a [`ManualClock`](crate::ManualClock).
    pub clock: Arc<dyn Clock>,
    /// Settings given to domains when they are created.
    pub domain_defaults: DomainSettings,
    /// Input limits.
    pub limits: Limits,
    /// Writer pool tuning.
    pub writer: WriterConfig,
    /// Create a domain the first time a hit names it. Default: true.
    pub create_domains_on_ingest: bool,
    /// Run the background compactor thread. Default: true.
    pub background_compaction: bool,
    /// The longest an erasure may wait for its physical purge. Default: one
    /// hour. The background compactor runs at least this often.
    pub erasure_deadline_ms: i64,
    /// The page-store backend of every file; `None` (the default) for
    /// redb's file backend. Tests pass backends that inject I/O errors.
    pub backend: Option<Arc<dyn crate::storage::BackendFactory>>,
    /// The file system every file operation of the engine goes through:
    /// the operating system's ([`OsFs`](crate::OsFs)) by default. A testing
    /// hook: tests put in a simulated disk that can lose power. With
    /// `backend` set, page stores come from `backend` instead.
    pub fs: Arc<dyn crate::Fs>,
    /// Day segments open at once, across every domain: opening a data
    /// directory opens none, a segment opens on first use, and the least
    /// recently used close beyond this many. Default: 128 (each keeps a
    /// 256 KiB page cache while open).
    pub max_open_segments: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            geoip: None,
            clock: Arc::new(SystemClock),
            domain_defaults: DomainSettings::default(),
            limits: Limits::default(),
            writer: WriterConfig::default(),
            create_domains_on_ingest: true,
            background_compaction: true,
            erasure_deadline_ms: 3_600_000,
            backend: None,
            fs: Arc::new(crate::OsFs),
            max_open_segments: 128,
        }
    }
}

impl Config {
    /// The default configuration with a GeoIP database.
    #[must_use]
    pub fn with_geoip(mut self, path: impl Into<PathBuf>) -> Self {
        self.geoip = Some(path.into());
        self
    }

    /// The default configuration with another clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// Tuning of the writer pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    /// Writer threads. Default: 2.
    pub threads: usize,
    /// Capacity of each writer's channel, in messages. Default: 65,536.
    pub queue: usize,
    /// Most events buffered before a writer commits, even if more wait.
    /// Default: 65,536.
    pub max_batch: usize,
    /// Events per block. Default: 4,096.
    pub block_events: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            threads: 2,
            queue: 65_536,
            max_batch: 65_536,
            block_events: 4096,
        }
    }
}
