//! What to import and what to skip.

use crate::Format;
use crate::error::ImportError;
use pledgedb_core::Day;
use pledgedb_core::history::MAX_HISTORY_DAYS;
use pledgedb_core::limits::validate_domain_name;
use std::ops::RangeInclusive;

/// File-name extensions (lower case, without the dot) of the requests
/// [`ImportOptions::default`] treats as static assets rather than pages:
/// style sheets, scripts, source maps, images, fonts, media, web manifests,
/// and the `txt`/`xml`/`json` files (robots.txt, sitemaps, feeds, API
/// responses) that crawlers and scripts rather than people ask for. PDFs and
/// archives are not in the list: a person asks for those on purpose.
pub const DEFAULT_ASSET_EXTENSIONS: &[&str] = &[
    "css",
    "js",
    "mjs",
    "map",
    "json",
    "webmanifest",
    "xml",
    "txt",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "bmp",
    "tif",
    "tiff",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "mp4",
    "webm",
    "ogg",
    "mp3",
    "wav",
    "m4a",
];

/// How to import. [`ImportOptions::default`] detects the format, keeps only
/// `GET`/`HEAD` requests answered with a 2xx status that are not for static
/// assets and not made by crawlers, and sends hits to the engine 4,096 at a
/// time.
///
/// The access-log filters (`keep_status`, `keep_methods`,
/// `asset_extensions`) apply to the `combined` and `common` formats only.
/// The bot filter applies to access logs and Plausible payloads (Plausible
/// itself drops crawler traffic), not to PledgeDB's own NDJSON, where the
/// engine records crawlers as device `bot`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The input's format; `None` detects it (see [`detect`](crate::detect)).
    /// Gzip compression is always detected, whatever this says.
    pub format: Option<Format>,
    /// The domain of access-log lines without a virtual-host field, and of
    /// NDJSON and Plausible lines without a `domain`. Access logs without a
    /// virtual-host field cannot be imported without it.
    pub default_domain: Option<String>,
    /// Hits per call to [`Db::ingest_batch`](pledgedb_core::Db::ingest_batch).
    /// Default 4,096.
    pub batch_size: usize,
    /// Longest line read, in bytes; a longer line is skipped as malformed
    /// without being held in memory. Default 64 KiB.
    pub max_line_bytes: usize,
    /// Status codes of requests that are page views. Default: `200..=299`.
    /// A `304 Not Modified` is left out because most come from reloads and
    /// back-navigation of a page already counted, and from revalidating
    /// feeds; add `304..=304` to count them.
    pub keep_status: Vec<RangeInclusive<u16>>,
    /// HTTP methods of requests that are page views, compared without regard
    /// to case. Default: `GET` and `HEAD`.
    pub keep_methods: Vec<String>,
    /// Extensions (without the dot, any case) of paths that are static
    /// assets. Default: [`DEFAULT_ASSET_EXTENSIONS`].
    pub asset_extensions: Vec<String>,
    /// Skip requests whose user agent the engine classifies as a bot
    /// ([`pledgedb_core::ua::classify`] gives `Device::Bot`): crawlers, feed
    /// readers and HTTP libraries ([`pledgedb_core::ua::bot_class`]), each
    /// counted under its own filter. Default: true.
    pub filter_bots: bool,
    /// With `filter_bots`, still import requests of feed readers and podcast
    /// apps ([`BotClass::FeedReader`](pledgedb_core::ua::BotClass)); the
    /// engine records them as device `bot`. Default: false.
    pub keep_feed_readers: bool,
    /// With `filter_bots`, still import requests of HTTP libraries and
    /// command-line tools ([`BotClass::HttpLibrary`](pledgedb_core::ua::BotClass));
    /// the engine records them as device `bot`. Default: false.
    pub keep_http_libraries: bool,
    /// How many malformed and how many rejected lines the summary lists (it
    /// counts them all). Default 20.
    pub max_reported: usize,
    /// Accept hits up to this many days old in this run (1 to 36,500),
    /// instead of the engine's [`Limits::max_past_days`](pledgedb_core::Limits)
    /// (3,650). Hits older than the domain's raw-event retention go to the
    /// day roll-ups of its aggregate file; hits older than its aggregate
    /// retention are dropped as expired. Default: `None`.
    pub max_past_days: Option<i64>,
    /// Accept hits from this day on in this run (the same as the matching
    /// `max_past_days`; with both, the wider window wins). Default: `None`.
    pub since: Option<Day>,
    /// Import an input even if its domain's records say it was imported
    /// before (its hits are then stored again), and do not skip the lines an
    /// interrupted run already imported. Default: false.
    pub again: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: None,
            default_domain: None,
            batch_size: 4096,
            max_line_bytes: 64 * 1024,
            keep_status: vec![200..=299],
            keep_methods: vec!["GET".to_string(), "HEAD".to_string()],
            asset_extensions: DEFAULT_ASSET_EXTENSIONS
                .iter()
                .map(|e| (*e).to_string())
                .collect(),
            filter_bots: true,
            keep_feed_readers: false,
            keep_http_libraries: false,
            max_reported: 20,
            max_past_days: None,
            since: None,
            again: false,
        }
    }
}

impl ImportOptions {
    /// These options with an explicit format.
    #[must_use]
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// These options with a default domain.
    #[must_use]
    pub fn with_default_domain(mut self, domain: impl Into<String>) -> Self {
        self.default_domain = Some(domain.into());
        self
    }

    /// Checks the options: a valid default domain name, a batch size and a
    /// line limit of at least 1.
    pub fn validate(&self) -> Result<(), ImportError> {
        if let Some(d) = &self.default_domain {
            validate_domain_name(d)
                .map_err(|e| ImportError::Options(format!("default domain: {e}")))?;
        }
        if self.batch_size == 0 {
            return Err(ImportError::Options("batch_size must be at least 1".into()));
        }
        if self.max_line_bytes == 0 {
            return Err(ImportError::Options(
                "max_line_bytes must be at least 1".into(),
            ));
        }
        if let Some(d) = self.max_past_days
            && !(1..=MAX_HISTORY_DAYS).contains(&d)
        {
            return Err(ImportError::Options(format!(
                "max_past_days must be between 1 and {MAX_HISTORY_DAYS}"
            )));
        }
        Ok(())
    }

    /// The past window of this run at `today`, in days (`None`: the
    /// engine's default).
    ///
    /// # Errors
    ///
    /// [`ImportError::Options`] if `since` is after `today` or more than
    /// 36,500 days before it.
    pub fn window_days(&self, today: Day) -> Result<Option<i64>, ImportError> {
        let since = match self.since {
            None => None,
            Some(d) => {
                let days = i64::from(today.0) - i64::from(d.0) + 1;
                if days < 1 {
                    return Err(ImportError::Options("since is in the future".into()));
                }
                if days > MAX_HISTORY_DAYS {
                    return Err(ImportError::Options(format!(
                        "since is more than {MAX_HISTORY_DAYS} days ago"
                    )));
                }
                Some(days)
            }
        };
        Ok(match (self.max_past_days, since) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        })
    }
}
