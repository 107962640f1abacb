//! The domain handle: the only door to one domain's data. Every read,
//! setting, export and erasure goes through a [`Domain`], and no method of it
//! can reach another domain (promise P2).
//!
//! `impl Domain` is split by concern, one file each:
//! - `mod.rs` (this file): the handle, its identity, and the types of the
//!   requests it answers ([`TimeRange`], [`VisitorRef`], erasure receipts,
//!   [`VisitorExport`]);
//! - `reads.rs`: the [`Reader`](reader::Reader) of a range (the Reader
//!   itself is `storage/reader/`, re-exported here as [`reader`]), raw
//!   scans, event counts, segment days;
//! - `erasure.rs`: access and erasure (P5, P6): export of one visitor,
//!   erasure of a visitor or a session, the erasure log;
//! - `settings.rs`: retention and consent settings;
//! - `shared.rs`: the state a domain's handles, writer and compactor share
//!   (files, secret, tombstones), and what scans ask of it;
//! - `segments.rs`: the lazy set of day segments and the LRU of open ones.
//!
//! Dashboard questions (`metrics`, `timeseries`, `breakdown`), form
//! analytics, sessions, replay and heatmaps are `impl Domain` blocks in
//! `query/` (`mod.rs`, `forms.rs`, `replay.rs`); visits are defined once in
//! `query/visit.rs`.

mod erasure;
mod link;
mod reads;
mod settings;
pub(crate) use crate::storage::segments;
pub(crate) mod shared;

/// The Reader: a snapshot of a domain's raw events over a time range and
/// its projected scans (defined in storage, where segments and blocks are).
pub mod reader {
    pub use crate::storage::reader::{AnyOf, Batch, Columns, Predicate, Reader, ScanStats};
}

use crate::error::StorageError;
use crate::event::{Event, VisitorId};
use crate::settings::{ConsentPolicy, Retention};
use crate::time::Timestamp;
pub(crate) use link::EngineLink;
use serde::Serialize;
use shared::DomainShared;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A half-open time range `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// First millisecond included.
    pub from: Timestamp,
    /// First millisecond excluded.
    pub to: Timestamp,
}

impl TimeRange {
    /// `[from, to)`.
    #[must_use]
    pub fn new(from: Timestamp, to: Timestamp) -> Self {
        TimeRange { from, to }
    }

    /// All of time.
    #[must_use]
    pub fn all() -> Self {
        TimeRange {
            from: Timestamp(i64::MIN),
            to: Timestamp(i64::MAX),
        }
    }

    /// Whether `t` is inside.
    #[must_use]
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}

/// Names a visitor for export or erasure. Its `Debug` never prints a client
/// id: a log line must not become a copy of one.
#[derive(Clone, PartialEq, Eq)]
pub enum VisitorRef {
    /// The first-party client id (cookie value) the tracker sent.
    ClientId(String),
    /// The stored visitor id.
    Id(VisitorId),
}

impl std::fmt::Debug for VisitorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VisitorRef::ClientId(c) => write!(f, "ClientId(<{} bytes>)", c.len()),
            VisitorRef::Id(v) => f.debug_tuple("Id").field(v).finish(),
        }
    }
}

impl VisitorRef {
    /// Reads what an operator typed: a 16-digit hex visitor id, or else a
    /// client id.
    #[must_use]
    pub fn parse(s: &str) -> VisitorRef {
        match VisitorId::parse_hex(s) {
            Some(v) => VisitorRef::Id(v),
            None => VisitorRef::ClientId(s.to_string()),
        }
    }
}

pub use crate::error::EraseError;

/// The receipt of an erasure request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErasureReceipt {
    /// The request's number in the domain's erasure log.
    pub request: u64,
    /// When the tombstone was written. From this moment no read returns the
    /// erased data.
    pub requested_at: Timestamp,
    /// The latest moment the bytes will be physically gone, given the
    /// configured erasure deadline.
    pub purge_deadline: Timestamp,
    /// Segments that held the erased data when the request was made.
    pub segments: usize,
}

/// What an erasure request did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Erasure {
    /// A tombstone was written; the purge follows.
    Pending(ErasureReceipt),
    /// Nothing is stored about that visitor; nothing was written.
    NotFound,
}

/// Everything stored about one visitor of one domain (promise P5).
#[derive(Clone, Debug, Serialize)]
pub struct VisitorExport {
    /// The domain.
    pub domain: String,
    /// The visitor's id in this domain.
    pub visitor: VisitorId,
    /// When the export was made.
    pub exported_at: Timestamp,
    /// The retention that applies to these events.
    pub retention: Retention,
    /// The consent policy that applies.
    pub consent: ConsentPolicy,
    /// Every stored event of the visitor, oldest first.
    pub events: Vec<Event>,
}

/// A cheap, cloneable handle on one domain.
#[derive(Clone)]
pub struct Domain {
    db: Arc<dyn EngineLink>,
    pub(crate) shared: Arc<DomainShared>,
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain")
            .field("name", &self.shared.name)
            .finish()
    }
}

impl Domain {
    pub(crate) fn new(db: Arc<dyn EngineLink>, shared: Arc<DomainShared>) -> Self {
        Domain { db, shared }
    }

    pub(crate) fn clock(&self) -> &Arc<dyn crate::time::Clock> {
        &self.db.config().clock
    }

    /// The domain's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    pub(crate) fn check_live(&self) -> Result<(), StorageError> {
        if self.shared.removed.load(Ordering::Acquire) {
            Err(StorageError::DomainRemoved)
        } else {
            Ok(())
        }
    }
}
