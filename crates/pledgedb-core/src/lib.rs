//! PledgeDB's storage engine: an embedded analytics database that keeps its
//! privacy promises by construction.
//!
//! - No IP address is ever stored: the stored [`Event`] has no field that can
//!   hold one, and every stored string passes [`Text::new`], which redacts IP
//!   literals.
//! - Every domain is its own partition with its own secret, reached only
//!   through its [`Domain`] handle.
//! - Opt-out, Do-Not-Track, GPC and consent are checked before anything is
//!   written.
//! - Raw events live in one file per domain per day; erasure rewrites the
//!   affected files, retention deletes them whole.
//!
//! ```no_run
//! use pledgedb_core::{Config, Db, Hit, TimeRange};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Db::open("analytics-data", Config::default())?;
//! let hit = Hit::page_view("shop.example", "https://shop.example/pricing?utm_source=news")
//!     .ip("203.0.113.9".parse()?)
//!     .client_id("first-party-cookie-value");
//! let _ = db.ingest(hit)?;
//! db.flush()?;
//! let by_page = db.domain("shop.example")?.count_by_path(TimeRange::all())?;
//! # Ok(()) }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod audit;
pub mod codec;
mod compactor;
mod config;
mod db;
pub mod domain;
mod engine;
pub mod error;
pub mod event;
pub mod geo;
pub mod hash;
mod health;
pub mod history;
pub mod hit;
mod identity;
mod ingest;
pub mod limits;
pub mod query;
mod report;
mod repr;
pub mod rollup;
pub mod sensitive;
pub mod settings;
mod storage;
pub mod text;
pub mod time;
pub mod ua;
mod usage;
mod writer;

pub use audit::{AuditFinding, AuditReport, audit_dir, audit_dir_in};
pub use compactor::{CompactionReport, SEAL_GRACE_MS};
pub use config::Config;
pub use config::WriterConfig;
pub use db::Db;
pub use domain::{
    Domain, EraseError, Erasure, ErasureReceipt, TimeRange, VisitorExport, VisitorRef,
};
pub use error::{
    DomainError, DomainNameError, Error, HitError, HitField, HitProblem, IngestError, OpenError,
    ReadError, StorageError,
};
pub use event::{
    Country, Device, Event, EventKind, EventType, KeyKind, PropValue, SessionId, SubmittedField,
    VisitorId,
};
pub use health::{Health, JobFailure, OverduePurge};
pub use history::{History, HistoryIngested, ImportRecord};
pub use hit::{Consent, FormField, Hit, HitKind, HitProp};
pub use ingest::{DropReason, Ingested};
pub use limits::Limits;
pub use query::dashboard::{DASHBOARD_TOP, Dashboard};
pub use query::{DayRange, Dimension, Filters, Metrics, Query, Rollups, Source};
pub use report::{DomainPrivacy, NEVER_RECORDED, PrivacyReport, RECORDED, RecordedField};
pub use report::{PublicPrivacyReport, PublicSitePrivacy};
pub use settings::{ConsentPolicy, DomainSettings, Retention, WithoutConsent};
pub use storage::control::{ErasureKind, ErasureRecord};
pub use storage::fs::{DirEntry, FileKind, Fs, Metadata, OsFs};
pub use storage::quarantine::QuarantinedFile;
pub use storage::{BackendFactory, FORMAT_VERSION};
pub use text::Text;
pub use time::{Clock, Day, MS_PER_DAY, ManualClock, SystemClock, Timestamp};
