//! Imports files into a PledgeDB database: Apache/Nginx access logs,
//! PledgeDB's own NDJSON hits, and Plausible Events API payloads, plain or
//! gzip-compressed.
//!
//! ```no_run
//! use pledgedb_core::{Config, Db};
//! use pledgedb_import::{ImportOptions, import_file};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Db::open("analytics-data", Config::default())?;
//! let opts = ImportOptions::default().with_default_domain("shop.example");
//! let summary = import_file(&db, "access.log.gz", &opts, |p| {
//!     eprint!("\r{} lines, {} bytes", p.lines, p.bytes);
//! })?;
//! println!("{summary}");
//! # Ok(()) }
//! ```
//!
//! # Formats
//!
//! - [`ndjson`]: one PledgeDB hit per line (field table in the module).
//! - [`plausible`]: one Plausible Events API payload per line, with the
//!   client's address and user agent as a collector logged them (field table
//!   in the module).
//! - [`access_log`]: the Combined and Common Log Formats, optionally with a
//!   virtual-host field first, which then gives each line's domain.
//!
//! Any of them may be gzip-compressed, including several gzip members
//! concatenated (rotated logs joined with `cat`); compression is recognised
//! by the magic bytes, never by the file name. The format is detected from
//! the first lines ([`detect`]) unless [`ImportOptions::format`] names it.
//!
//! # What is skipped
//!
//! From access logs, by default ([`ImportOptions::default`]): responses
//! other than 2xx (redirects, `304 Not Modified`, errors), methods other than
//! `GET` and `HEAD`, requests for static assets by extension
//! ([`DEFAULT_ASSET_EXTENSIONS`]), and bots (user agents the engine's
//! [`classify`](pledgedb_core::ua::classify) calls [`Device::Bot`](pledgedb_core::Device::Bot)):
//! crawlers, feed readers and HTTP libraries, each under its own filter
//! ([`ImportOptions::keep_feed_readers`] and
//! [`ImportOptions::keep_http_libraries`] keep the last two). Bots are also
//! skipped from Plausible payloads. Every skipped line is
//! counted in the [`ImportSummary`] under the first filter that matched.
//!
//! # Privacy
//!
//! Lines are handed to the engine as [`Hit`](pledgedb_core::Hit)s, so its
//! privacy gate applies as to any tracker hit: IPs and user agents are used
//! for the country, device and cookieless visitor hash and then dropped;
//! opt-out, Do-Not-Track, GPC and consent are honoured. No error or summary
//! of this crate contains an IP address or any part of an input line: a
//! problem line is reported by its number and the name of its problem.
//!
//! # Old logs
//!
//! Hits go to the engine through [`Db::history`](pledgedb_core::Db::history):
//! those inside the domain's raw-event retention become raw events as with
//! [`Db::ingest_batch`](pledgedb_core::Db::ingest_batch); those of older
//! days are counted in the day roll-ups of the domain's aggregate file
//! (anonymous, rare rows folded into `(other)`), so old logs can be imported
//! and then deleted. [`ImportOptions::max_past_days`] and
//! [`ImportOptions::since`] widen the accepted past window for one run.
//!
//! # Importing twice
//!
//! Each domain keeps records of the inputs imported into it ([`fingerprint`]):
//! an input imported before is refused ([`Repeat::Refused`]), one whose
//! import stopped part-way resumes after the lines already consumed
//! ([`Repeat::Resumed`]), and [`ImportOptions::again`] imports it anyway.
//! When a run stores nothing, [`ImportSummary::nothing_stored`] says why.
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod access_log;
mod detect;
mod error;
pub mod fingerprint;
mod import;
mod input;
mod json;
pub mod ndjson;
mod options;
mod parser;
pub mod plausible;
mod summary;
pub mod time;

pub use detect::{DETECT_LINES, Format, UnknownFormatName, detect, is_gzip};
pub use error::{ImportError, LineError};
pub use import::{PROGRESS_EVERY_LINES, import, import_file};
pub use options::{DEFAULT_ASSET_EXTENSIONS, ImportOptions};
pub use parser::{Filter, LineOutcome, LineParser};
pub use summary::{Brief, ImportSummary, Issues, LineIssue, Progress, Repeat};
