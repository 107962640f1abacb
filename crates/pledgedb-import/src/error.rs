//! Errors. None of them holds an IP address or any part of an input line:
//! a line error names the line's problem (and, for JSON, the field), never
//! its content, since a log line is full of IP addresses and user agents.

use crate::summary::ImportSummary;
use pledgedb_core::{IngestError, StorageError};

/// Why one input line could not be turned into hits. The line is skipped
/// and counted as malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is longer than [`ImportOptions::max_line_bytes`](crate::ImportOptions::max_line_bytes).
    #[error("line is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The line is not valid JSON.
    #[error("not valid JSON (column {column})")]
    Json {
        /// Where the parser gave up (1-based byte column).
        column: usize,
    },
    /// The JSON object ends before it is complete.
    #[error("incomplete JSON object")]
    JsonEof,
    /// The line is JSON, but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A required field is absent (or `null`).
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field appears twice.
    #[error("duplicate field `{0}`")]
    Duplicate(&'static str),
    /// A field has the wrong type or an unacceptable value.
    #[error("invalid `{field}`: expected {expected}")]
    Invalid {
        /// The field's name.
        field: &'static str,
        /// What it should hold.
        expected: &'static str,
    },
    /// The `type` of an NDJSON hit is not one of the known kinds.
    #[error(
        "unknown `type`: expected page_view, click, scroll, form_view, field_focus, keystroke, field_blur, form_submit or custom"
    )]
    UnknownType,
    /// An access-log line does not have the expected shape.
    #[error("not a {format} log line: {problem}")]
    AccessLog {
        /// `combined` or `common`.
        format: &'static str,
        /// What is wrong, e.g. "invalid timestamp".
        problem: &'static str,
    },
    /// An access-log line has no virtual-host field and no default domain is
    /// configured. The import stops at such a line (see
    /// [`ImportError::DomainRequired`]).
    #[error("no virtual-host field and no default domain")]
    NoDomain,
}

/// Why an import stopped or could not start.
///
/// Every variant raised after reading began carries the [`ImportSummary`]
/// of what was done up to that point: the hits it counts as ingested were
/// handed to the engine, and the importer tried to flush them (see
/// [`ImportSummary::flushed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The options are unusable (e.g. the default domain is not a valid
    /// domain name). Nothing was read.
    #[error("invalid import options: {0}")]
    Options(String),
    /// The input file could not be opened. Nothing was read.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No line in the first part of the input looks like any known format.
    /// Nothing was ingested.
    #[error(
        "cannot tell the input's format from its first {lines} non-empty lines; pass the format explicitly"
    )]
    UnknownFormat {
        /// The lines examined.
        lines: u64,
        /// What was read.
        summary: Box<ImportSummary>,
    },
    /// Reading (or decompressing) the input failed part-way.
    #[error("read error at line {line}: {source} (stopped after {})", .summary.brief())]
    Io {
        /// The line being read when the error occurred.
        line: u64,
        /// The underlying error.
        source: std::io::Error,
        /// What was done before the error.
        summary: Box<ImportSummary>,
    },
    /// An access-log line has no virtual-host field and no default domain
    /// was given: set [`ImportOptions::default_domain`](crate::ImportOptions::default_domain).
    #[error(
        "line {line} has no virtual-host field and no default domain is set (stopped after {})",
        .summary.brief()
    )]
    DomainRequired {
        /// The line.
        line: u64,
        /// What was done before that line.
        summary: Box<ImportSummary>,
    },
    /// The engine failed for a reason other than an invalid hit (it is
    /// closed, or its storage failed).
    #[error("the engine failed at line {line}: {source} (stopped after {})", .summary.brief())]
    Ingest {
        /// The line whose hit failed.
        line: u64,
        /// The engine's error.
        source: IngestError,
        /// What was done, including the failed batch.
        summary: Box<ImportSummary>,
    },
    /// The input's first lines are those of an input recorded as imported,
    /// but it differs from that input at this line. Nothing was stored:
    /// [`import_file`](crate::import_file) reads the file again as a new
    /// input; a stream cannot be read again, so import it with
    /// [`ImportOptions::again`](crate::ImportOptions::again).
    #[error(
        "the input starts like one imported before but differs from it at line {line}; nothing was stored (import it with --again)"
    )]
    Diverged {
        /// The first line known to differ.
        line: u64,
        /// What was read.
        summary: Box<ImportSummary>,
    },
    /// The domain's import records could not be read or written.
    #[error("the import records failed: {source} (after {})", .summary.brief())]
    Records {
        /// The engine's error.
        source: pledgedb_core::DomainError,
        /// What was done.
        summary: Box<ImportSummary>,
    },
    /// Every hit was handed to the engine but the final flush failed: the
    /// hits may not be durable.
    #[error("flushing the imported hits failed: {source} (after {})", .summary.brief())]
    Flush {
        /// The engine's error.
        source: StorageError,
        /// What was done.
        summary: Box<ImportSummary>,
    },
}

impl ImportError {
    /// The summary of what was done before the import stopped, if reading
    /// had begun.
    #[must_use]
    pub fn summary(&self) -> Option<&ImportSummary> {
        match self {
            ImportError::Options(_) | ImportError::Open { .. } => None,
            ImportError::UnknownFormat { summary, .. }
            | ImportError::Io { summary, .. }
            | ImportError::DomainRequired { summary, .. }
            | ImportError::Ingest { summary, .. }
            | ImportError::Diverged { summary, .. }
            | ImportError::Records { summary, .. }
            | ImportError::Flush { summary, .. } => Some(summary),
        }
    }
}
