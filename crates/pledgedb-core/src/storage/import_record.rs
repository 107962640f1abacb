//! The record of one imported input, kept in a domain's control file.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One imported input, as recorded in its domain's control file: how many
/// lines of it were consumed, and keyed fingerprints of its first lines and
/// of all consumed lines. The fingerprints are computed by the importer
/// over the decompressed lines and keyed with [`Domain::import_fingerprint`](crate::Domain::import_fingerprint)
/// (a SipHash under the domain's secret), so the record tells nothing about
/// the content to anyone without the secret, and nothing across domains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// Lines covered by [`head`](Self::head) (the first lines, at most the
    /// importer's head size).
    pub head_lines: u64,
    /// Keyed fingerprint of the first `head_lines` lines.
    pub head: u128,
    /// Lines consumed (read and handed to the engine), from the first.
    pub lines: u64,
    /// Keyed fingerprint of the first `lines` lines.
    pub whole: u128,
    /// Keyed fingerprint of the first `lines - 1` lines (a resume point if
    /// the last line read was cut short).
    pub before_last: u128,
    /// Whether the input ended there (false: the run stopped early).
    pub complete: bool,
    /// When the last run that updated this record ended.
    pub imported_at: Timestamp,
    /// Runs that added to this record.
    pub runs: u32,
}
