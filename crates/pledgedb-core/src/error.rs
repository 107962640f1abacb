//! Errors, one enum per failure domain, wrapped by the umbrella [`Error`].
//! Every public error type of this crate converts into [`Error`] (the test
//! `every_public_error_converts_into_error` lists them) and every error
//! enum is `#[non_exhaustive]`.
//!
//! No error message contains an IP address or a value a visitor typed: a hit
//! error names the field and what was wrong with it, never its content, and
//! every path or name a caller supplied is shown through
//! [`redact_ips`](crate::text::redact_ips).

use std::path::{Path, PathBuf};

pub use crate::codec::CodecError;
pub use crate::geo::GeoError;

/// A path as shown in a message: its IP-shaped parts redacted.
fn shown(path: &Path) -> String {
    crate::text::redact_ips(&path.display().to_string()).into_owned()
}

/// A failure of the storage layer: the page store, the file system, or a file
/// whose contents are not what PledgeDB wrote.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The page store (redb) reported an error.
    #[error("page store error: {0}")]
    Redb(#[from] redb::Error),
    /// A file-system operation failed.
    #[error("I/O error on {}: {source}", shown(.path))]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A stored block could not be decoded.
    #[error("corrupt block in {}: {source}", shown(.path))]
    Codec {
        /// The segment file.
        path: PathBuf,
        /// What the decoder found.
        source: CodecError,
    },
    /// A stored record is not what PledgeDB writes.
    #[error("corrupt record in {}: {what}", shown(.path))]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// A record could not be encoded before it was written to a file;
    /// nothing was written.
    #[error("cannot encode {what} for {}: {reason}", shown(.path))]
    Encode {
        /// The file the record was meant for.
        path: PathBuf,
        /// Which record.
        what: &'static str,
        /// What the encoder reported.
        reason: String,
    },
    /// The operating system's random source failed, so a secret, key or
    /// salt could not be made; nothing was written.
    #[error("the system random source failed while making {what} for {}: {reason}", shown(.path))]
    Randomness {
        /// The file the secret was meant for.
        path: PathBuf,
        /// Which secret (domain secret, opt-out key, cookieless salt).
        what: &'static str,
        /// What the random source reported.
        reason: String,
    },
    /// The domain was removed (erased whole) while this handle was held.
    #[error("the domain was removed while this handle was held")]
    DomainRemoved,
    /// A group commit failed; the events stay buffered and the commit is
    /// retried with the next one.
    #[error("a group commit failed: {0}")]
    CommitFailed(String),
    /// A writer thread is gone (the database is closing or a writer panicked).
    #[error("the writer for this domain is not running")]
    WriterGone,
    /// A file could not be read as what it should be (the page store
    /// failed on it); it is set aside in the quarantine, never read as data.
    #[error("damaged file {path}: {what}")]
    Damaged {
        /// The file concerned.
        path: PathBuf,
        /// What failed.
        what: String,
    },
}

macro_rules! redb_into_storage {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Redb(e.into())
            }
        }
    )*};
}
redb_into_storage!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::CompactionError
);

impl StorageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the error says that a file's contents are damaged (as
    /// opposed to a transient failure of the file system or the disk): such
    /// a file is set aside in the quarantine, never retried as data.
    pub(crate) fn is_damage(&self) -> bool {
        match self {
            StorageError::Damaged { .. }
            | StorageError::Codec { .. }
            | StorageError::Corrupt { .. } => true,
            StorageError::Redb(e) => {
                matches!(
                    e,
                    redb::Error::Corrupted(_)
                        | redb::Error::UpgradeRequired(_)
                        | redb::Error::TableTypeMismatch { .. }
                ) || matches!(e, redb::Error::Io(io) if is_not_a_file(io))
            }
            StorageError::Io { source, .. } => is_not_a_file(source),
            _ => false,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        StorageError::Corrupt {
            path: path.into(),
            what: what.into(),
        }
    }

    pub(crate) fn encode(
        path: impl Into<PathBuf>,
        what: &'static str,
        reason: impl std::fmt::Display,
    ) -> Self {
        StorageError::Encode {
            path: path.into(),
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn randomness(
        path: impl Into<PathBuf>,
        what: &'static str,
        reason: impl std::fmt::Display,
    ) -> Self {
        StorageError::Randomness {
            path: path.into(),
            what,
            reason: reason.to_string(),
        }
    }
}

/// A directory (or another non-file) where a file should be, or a file
/// whose bytes are not what it should hold (the page store reports a wrong
/// magic number as invalid data).
fn is_not_a_file(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::IsADirectory
            | std::io::ErrorKind::NotADirectory
            | std::io::ErrorKind::InvalidData
    )
}

/// Why a data directory could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The GeoIP database could not be opened.
    #[error("cannot open the GeoIP database: {0}")]
    Geo(#[from] GeoError),
    /// The data directory or one of its files could not be read or created.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The data directory was written by an incompatible engine version.
    #[error("data directory format {found} is not supported (this build reads format {supported})")]
    UnsupportedFormat {
        /// The version found on disk.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Why a domain name was refused. The name itself is not repeated, since it
/// could be anything a caller passed, including an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainNameError {
    /// The name is empty.
    #[error("domain name is empty")]
    Empty,
    /// The name is longer than 253 bytes.
    #[error("domain name is {0} bytes long; the limit is 253")]
    TooLong(usize),
    /// The name contains a byte outside `a-z`, `0-9`, `-` and `.`.
    #[error(
        "domain name contains a character other than lower-case a-z, 0-9, '-' and '.' at byte {0}"
    )]
    InvalidChar(usize),
    /// A label (the part between dots) is empty, over 63 bytes, or starts or
    /// ends with `-`.
    #[error(
        "domain name has an invalid label (empty, longer than 63 bytes, or starting or ending with '-')"
    )]
    InvalidLabel,
    /// The name is an IP address literal: a domain is a host name.
    #[error("domain name is an IP address literal; use the site's host name")]
    IpLiteral,
}

/// Which part of a hit an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HitField {
    /// `domain`
    Domain,
    /// `timestamp`
    Timestamp,
    /// `url`
    Url,
    /// `referrer`
    Referrer,
    /// `user_agent`
    UserAgent,
    /// `client_id`
    ClientId,
    /// `session_id`
    SessionId,
    /// `opt_out_token`
    OptOutToken,
    /// `target` of a click
    Target,
    /// `depth` of a scroll
    Depth,
    /// `form`
    Form,
    /// `field`
    Field,
    /// `fields` of a form submit (the collection)
    Fields,
    /// the name of submitted field number N
    FieldName(usize),
    /// the value of submitted field number N
    FieldValue(usize),
    /// `name` of a custom event
    Name,
    /// `props` of a custom event (the collection)
    Props,
    /// the key of property number N
    PropKey(usize),
    /// the value of property number N
    PropValue(usize),
}

impl std::fmt::Display for HitField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HitField::Domain => f.write_str("domain"),
            HitField::Timestamp => f.write_str("timestamp"),
            HitField::Url => f.write_str("url"),
            HitField::Referrer => f.write_str("referrer"),
            HitField::UserAgent => f.write_str("user_agent"),
            HitField::ClientId => f.write_str("client_id"),
            HitField::SessionId => f.write_str("session_id"),
            HitField::OptOutToken => f.write_str("opt_out_token"),
            HitField::Target => f.write_str("target"),
            HitField::Depth => f.write_str("depth"),
            HitField::Form => f.write_str("form"),
            HitField::Field => f.write_str("field"),
            HitField::Fields => f.write_str("fields"),
            HitField::FieldName(i) => write!(f, "fields[{i}].name"),
            HitField::FieldValue(i) => write!(f, "fields[{i}].value"),
            HitField::Name => f.write_str("name"),
            HitField::Props => f.write_str("props"),
            HitField::PropKey(i) => write!(f, "props[{i}].key"),
            HitField::PropValue(i) => write!(f, "props[{i}].value"),
        }
    }
}

/// What was wrong with a hit field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HitProblem {
    /// A string is longer than its limit.
    #[error("is {len} bytes; the limit is {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A collection has more entries than its limit.
    #[error("has {len} entries; the limit is {max}")]
    TooMany {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The timestamp is outside the accepted window.
    #[error("is outside the accepted window ({0})")]
    OutOfRange(&'static str),
    /// A value is out of its range.
    #[error("is out of range ({0})")]
    Invalid(&'static str),
    /// The domain name is invalid.
    #[error("{0}")]
    DomainName(DomainNameError),
    /// The domain does not exist and the database does not create domains on
    /// ingest.
    #[error("names a domain that does not exist")]
    UnknownDomain,
}

/// A hit was refused; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hit rejected: field `{field}` {problem}")]
pub struct HitError {
    /// The field at fault.
    pub field: HitField,
    /// What was wrong.
    pub problem: HitProblem,
}

impl HitError {
    pub(crate) fn new(field: HitField, problem: HitProblem) -> Self {
        HitError { field, problem }
    }
}

/// Why an erasure could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EraseError {
    /// The id is not well-formed (empty, or the anonymous id 0).
    #[error("invalid id: {0}")]
    InvalidId(&'static str),
    /// The domain was erased.
    #[error("the domain no longer exists")]
    DomainGone,
    /// The storage layer failed; no tombstone was written.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why [`Db::ingest`](crate::Db::ingest) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The hit was invalid; nothing was written.
    #[error(transparent)]
    Hit(#[from] HitError),
    /// The storage layer failed while creating the domain or a salt.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The database is closed.
    #[error("the database is closed")]
    Closed,
}

/// Why a domain operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The name is not a valid domain name.
    #[error(transparent)]
    InvalidName(#[from] DomainNameError),
    /// No such domain in this data directory. The name is shown with its
    /// IP-shaped parts redacted.
    #[error("no such domain: {}", crate::text::redact_ips(.0))]
    NotFound(String),
    /// A setting is invalid.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The query was invalid.
    #[error("invalid query: {0}")]
    Invalid(String),
}

impl From<redb::StorageError> for ReadError {
    fn from(e: redb::StorageError) -> Self {
        ReadError::Storage(e.into())
    }
}

/// The umbrella error: every PledgeDB error converts into it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening a data directory.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Ingesting a hit.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A domain operation.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The storage layer.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An erasure request.
    #[error(transparent)]
    Erase(#[from] EraseError),
    /// Decoding a block handed to the codec directly.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl From<GeoError> for Error {
    fn from(e: GeoError) -> Self {
        Error::Open(OpenError::Geo(e))
    }
}

impl From<HitError> for Error {
    fn from(e: HitError) -> Self {
        Error::Ingest(IngestError::Hit(e))
    }
}

impl From<DomainNameError> for Error {
    fn from(e: DomainNameError) -> Self {
        Error::Domain(DomainError::InvalidName(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile-time list of every public error type of the crate: each one
    /// converts into [`Error`]. A new public error type belongs here.
    #[test]
    fn every_public_error_converts_into_error() {
        fn converts<E: std::error::Error + Into<Error>>() {}
        converts::<StorageError>();
        converts::<OpenError>();
        converts::<DomainNameError>();
        converts::<HitError>();
        converts::<IngestError>();
        converts::<DomainError>();
        converts::<ReadError>();
        converts::<EraseError>();
        converts::<CodecError>();
        converts::<GeoError>();
        converts::<Error>();
        // And the conversion keeps what failed.
        let e: Error = EraseError::DomainGone.into();
        assert!(matches!(e, Error::Erase(EraseError::DomainGone)));
        let e: Error = DomainNameError::Empty.into();
        assert!(matches!(
            e,
            Error::Domain(DomainError::InvalidName(DomainNameError::Empty))
        ));
    }

    #[test]
    fn messages_redact_names_and_paths_a_caller_supplied() {
        let cases: Vec<(Error, &str)> = vec![
            (DomainError::NotFound("1.2.3.4a".into()).into(), "1.2.3.4"),
            (DomainError::NotFound("[::1]".into()).into(), "::1"),
            (
                StorageError::io("/srv/10.0.0.7/data", std::io::Error::other("x")).into(),
                "10.0.0.7",
            ),
            (
                StorageError::corrupt("/srv/2001:db8::7/x", "bad").into(),
                "2001:db8::7",
            ),
            (
                StorageError::encode("/srv/192.168.1.9/c", "settings", "x").into(),
                "192.168.1.9",
            ),
            (
                StorageError::randomness("/srv/172.16.0.1/g", "salt", "x").into(),
                "172.16.0.1",
            ),
        ];
        for (e, ip) in cases {
            let msg = e.to_string();
            assert!(!msg.contains(ip), "{msg}");
            assert!(msg.contains("[ip]"), "{msg}");
        }
    }

    #[test]
    fn a_handle_on_a_removed_domain_says_so() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = crate::Db::open(dir.path(), crate::Config::default())?;
        let hit = crate::Hit::page_view("shop.example", "https://shop.example/");
        let _ = db.ingest(hit)?;
        db.flush()?;
        let d = db.domain("shop.example")?;
        assert!(db.erase_domain("shop.example")?);
        let e = d
            .set_retention(crate::Retention::default())
            .err()
            .ok_or("set_retention on a removed domain succeeded")?;
        assert!(
            matches!(e, DomainError::Storage(StorageError::DomainRemoved)),
            "{e:?}"
        );
        let e = d
            .count(crate::TimeRange::all())
            .err()
            .ok_or("count on a removed domain succeeded")?;
        assert!(
            matches!(e, ReadError::Storage(StorageError::DomainRemoved)),
            "{e:?}"
        );
        db.close()?;
        Ok(())
    }

    #[test]
    fn an_unknown_domain_named_like_an_ip_is_not_echoed() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let db = crate::Db::open(dir.path(), crate::Config::default())?;
        for name in ["1.2.3.4a", "10.0.0.1.example", "a.192.168.0.1.b"] {
            let e = db.domain(name).err().ok_or("an unknown domain was found")?;
            let msg = e.to_string();
            // Refused as a name that spells an address, or not found:
            // either way the message does not repeat the address.
            assert!(
                msg.starts_with("no such domain") || msg.contains("IP address literal"),
                "{msg}"
            );
            assert!(!crate::text::contains_ip(&msg), "{msg}");
        }
        db.close()?;
        Ok(())
    }

    #[test]
    fn each_failure_is_labelled_by_what_failed() {
        let msg =
            StorageError::randomness("/d/global.redb", "the opt-out key", "no entropy").to_string();
        assert!(msg.contains("random source"), "{msg}");
        assert!(!msg.contains("corrupt"), "{msg}");
        let msg = StorageError::encode("/d/control.redb", "settings", "x").to_string();
        assert!(msg.contains("control.redb"), "{msg}");
        assert!(!msg.contains("corrupt"), "{msg}");
        let msg = StorageError::DomainRemoved.to_string();
        assert!(msg.contains("removed"), "{msg}");
        assert!(!msg.contains("corrupt"), "{msg}");
    }
}
