//! A domain's control file: its secret, its settings, pending tombstones and
//! the anonymous erasure log.

use super::Opener;
use super::lazy::LazyDb;
use crate::error::StorageError;
use crate::identity::{DomainSecret, EraseTag};
use crate::settings::DomainSettings;
use crate::time::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const TOMBSTONES: TableDefinition<u128, &[u8]> = TableDefinition::new("tombstones");
pub(crate) const ERASURE_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("erasure_log");
/// Records of imported files (`super::import_record::ImportRecord`), by number.
pub(crate) const IMPORTS: TableDefinition<u64, &[u8]> = TableDefinition::new("imports");

/// File name of the control file inside a domain's directory.
pub(crate) const CONTROL_FILE: &str = "control.redb";

/// What an erasure request was about. The log says which kind, never whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErasureKind {
    /// Every event of one visitor.
    Visitor,
    /// Every event of one session.
    Session,
}

/// A durable tombstone: from the moment it is written no read returns the
/// events it covers; the compactor then purges them from every file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tombstone {
    pub(crate) request: u64,
    pub(crate) kind: ErasureKind,
    pub(crate) requested_at: Timestamp,
    /// Set once every segment holding the erased events was rewritten.
    pub(crate) purged_at: Option<Timestamp>,
}

/// One anonymous entry of the erasure log: proof that an erasure happened
/// and when, without anything that identifies whom it concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// The request's number within its domain.
    pub request: u64,
    /// Visitor or session.
    pub kind: ErasureKind,
    /// When the erasure was requested (and the tombstone written).
    pub requested_at: Timestamp,
    /// When the last byte was purged; `None` while pending.
    pub purged_at: Option<Timestamp>,
    /// Events physically removed.
    pub events_removed: u64,
    /// Segment files rewritten.
    pub segments_rewritten: u64,
}

/// A domain's control file. Opening the data directory reads it once and
/// keeps what it read (secret, settings, tombstones) in memory; the file
/// itself opens on the first write (a setting, an erasure, an import).
pub(crate) struct ControlFile {
    opener: Opener,
    pub(crate) path: PathBuf,
    db: LazyDb,
}

/// What opening a control file read.
pub(crate) struct OpenedControl {
    pub(crate) file: ControlFile,
    pub(crate) secret: DomainSecret,
    pub(crate) settings: DomainSettings,
    pub(crate) tombstones: Vec<(EraseTag, Tombstone)>,
}

fn encode<T: Serialize>(path: &Path, what: &'static str, v: &T) -> Result<Vec<u8>, StorageError> {
    postcard::to_allocvec(v).map_err(|e| StorageError::encode(path, what, e))
}

fn decode<T: for<'a> Deserialize<'a>>(
    path: &Path,
    what: &str,
    b: &[u8],
) -> Result<T, StorageError> {
    postcard::from_bytes(b).map_err(|e| StorageError::corrupt(path, format!("{what}: {e}")))
}

/// The settings as control files stored them before
/// `min_aggregate_visitors` existed. postcard is not self-describing, so a
/// field added at the end is an unexpected end of input there, not a missing
/// field that `#[serde(default)]` could fill.
#[derive(Deserialize)]
struct SettingsV1 {
    retention: crate::settings::Retention,
    consent: crate::settings::ConsentPolicy,
    sensitive_fields: Vec<String>,
}

/// Decodes stored settings, in the current layout or the one before it.
fn decode_settings(path: &Path, b: &[u8]) -> Result<DomainSettings, StorageError> {
    if let Ok(s) = postcard::from_bytes::<DomainSettings>(b) {
        return Ok(s);
    }
    let v1: SettingsV1 = decode(path, "settings", b)?;
    Ok(DomainSettings {
        retention: v1.retention,
        consent: v1.consent,
        sensitive_fields: v1.sensitive_fields,
        ..DomainSettings::default()
    })
}

/// Every stored tombstone.
fn read_tombstones(
    rx: &redb::ReadTransaction,
    path: &Path,
) -> Result<Vec<(EraseTag, Tombstone)>, StorageError> {
    let t = rx.open_table(TOMBSTONES)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        out.push((k.value(), decode(path, "tombstone", v.value())?));
    }
    Ok(out)
}

impl ControlFile {
    /// Opens the control file, creating it with a fresh secret and the given
    /// settings if it does not exist yet.
    pub(crate) fn open(
        opener: &Opener,
        dir: &Path,
        defaults: &DomainSettings,
    ) -> Result<OpenedControl, StorageError> {
        let path = dir.join(CONTROL_FILE);
        // A complete file is read through a read-only handle, then closed:
        // no commit, no sync, no write at all, and nothing held, so opening
        // a directory of many domains costs neither a write nor the memory
        // of an open file per domain.
        let complete = super::lazy::read_once(opener, &path, |db| {
            let Some((secret, settings)) = Self::read_complete(db, &path)? else {
                return Ok(None);
            };
            Ok(Some((
                secret,
                settings,
                read_tombstones(&db.begin_read()?, &path)?,
            )))
        });
        if let Some(Some((secret, settings, tombstones))) = complete {
            return Ok(OpenedControl {
                file: ControlFile {
                    opener: opener.clone(),
                    db: LazyDb::closed(opener, &path),
                    path,
                },
                secret,
                settings,
                tombstones,
            });
        }
        // A domain's control file gets its secret in the commit that follows
        // its creation, before the domain enters the catalog (a crash in
        // between leaves an orphan directory that the next open removes).
        // So a control file that was already there and has no secret lost
        // it: it is damaged, and a new secret would silently orphan every
        // stored visitor id.
        let existed = opener.fs.exists(&path);
        let db = opener.open(&path)?;
        // A complete file that could not be read read-only (it needed the
        // repair this writable open made): read now, the file stays open.
        if existed && let Some((secret, settings)) = Self::read_complete(&db, &path)? {
            let tombstones = read_tombstones(&db.begin_read()?, &path)?;
            return Ok(OpenedControl {
                file: ControlFile {
                    opener: opener.clone(),
                    db: LazyDb::open(opener, &path, db),
                    path,
                },
                secret,
                settings,
                tombstones,
            });
        }
        let tx = db.begin_write()?;
        let (secret, settings);
        {
            let mut meta = tx.open_table(META)?;
            let existing = meta.get("secret")?.map(|v| v.value().to_vec());
            secret = match existing {
                Some(b) => DomainSecret::from_bytes(
                    b.try_into()
                        .map_err(|_| StorageError::corrupt(&path, "secret is not 32 bytes"))?,
                ),
                None if existed => {
                    return Err(StorageError::Damaged {
                        path: path.clone(),
                        what: "the control file has lost the domain secret".into(),
                    });
                }
                None => {
                    let s = DomainSecret::generate()
                        .map_err(|e| StorageError::randomness(&path, "the domain secret", e))?;
                    meta.insert("secret", s.to_bytes().as_slice())?;
                    s
                }
            };
            let existing = meta.get("settings")?.map(|v| v.value().to_vec());
            settings = match existing {
                Some(b) => decode_settings(&path, &b)?,
                None => {
                    meta.insert("settings", encode(&path, "settings", defaults)?.as_slice())?;
                    defaults.clone()
                }
            };
            tx.open_table(TOMBSTONES)?;
            tx.open_table(ERASURE_LOG)?;
            tx.open_table(IMPORTS)?;
        }
        tx.commit()?;
        let tombstones = read_tombstones(&db.begin_read()?, &path)?;
        Ok(OpenedControl {
            file: ControlFile {
                opener: opener.clone(),
                db: LazyDb::open(opener, &path, db),
                path,
            },
            secret,
            settings,
            tombstones,
        })
    }

    /// The secret and settings of a file that has every table, or `None`
    /// when something is missing (the write path then adds it, or reports
    /// a lost secret).
    fn read_complete(
        db: &impl ReadableDatabase,
        path: &Path,
    ) -> Result<Option<(DomainSecret, DomainSettings)>, StorageError> {
        let rx = db.begin_read()?;
        let meta = match rx.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (Some(secret), Some(settings)) = (meta.get("secret")?, meta.get("settings")?) else {
            return Ok(None);
        };
        for table in [
            rx.open_table(TOMBSTONES).map(|_| ()),
            rx.open_table(ERASURE_LOG).map(|_| ()),
            rx.open_table(IMPORTS).map(|_| ()),
        ] {
            match table {
                Ok(()) => {}
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        let secret = DomainSecret::from_bytes(
            secret
                .value()
                .to_vec()
                .try_into()
                .map_err(|_| StorageError::corrupt(path, "secret is not 32 bytes"))?,
        );
        let settings = decode_settings(path, settings.value())?;
        Ok(Some((secret, settings)))
    }

    pub(crate) fn set_settings(&self, s: &DomainSettings) -> Result<(), StorageError> {
        self.db.with(|db| {
            let tx = db.begin_write()?;
            tx.open_table(META)?
                .insert("settings", encode(&self.path, "settings", s)?.as_slice())?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The tombstones as stored (read without keeping the file open).
    pub(crate) fn tombstones(&self) -> Result<Vec<(EraseTag, Tombstone)>, StorageError> {
        self.db.read(|rx| read_tombstones(rx, &self.path))
    }

    /// Writes a tombstone and its erasure-log entry in one durable commit.
    pub(crate) fn add_tombstone(
        &self,
        tag: EraseTag,
        kind: ErasureKind,
        now: Timestamp,
    ) -> Result<Tombstone, StorageError> {
        self.db.with(|db| {
            let tx = db.begin_write()?;
            let stone;
            {
                let mut log = tx.open_table(ERASURE_LOG)?;
                let request = log.last()?.map_or(1, |(k, _)| k.value() + 1);
                stone = Tombstone {
                    request,
                    kind,
                    requested_at: now,
                    purged_at: None,
                };
                let record = ErasureRecord {
                    request,
                    kind,
                    requested_at: now,
                    purged_at: None,
                    events_removed: 0,
                    segments_rewritten: 0,
                };
                log.insert(
                    request,
                    encode(&self.path, "an erasure record", &record)?.as_slice(),
                )?;
                tx.open_table(TOMBSTONES)?
                    .insert(tag, encode(&self.path, "a tombstone", &stone)?.as_slice())?;
            }
            tx.commit()?;
            Ok(stone)
        })
    }

    /// Marks tombstones purged and completes their log entries.
    pub(crate) fn mark_purged(
        &self,
        done: &[(EraseTag, u64, u64)],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.db.with_transient(|db| {
            let tx = db.begin_write()?;
            {
                let mut stones = tx.open_table(TOMBSTONES)?;
                let mut log = tx.open_table(ERASURE_LOG)?;
                for &(tag, events, segments) in done {
                    let stone = stones.get(tag)?.map(|v| v.value().to_vec());
                    let Some(stone) = stone else { continue };
                    let mut stone: Tombstone = decode(&self.path, "tombstone", &stone)?;
                    if stone.purged_at.is_some() {
                        continue;
                    }
                    stone.purged_at = Some(now);
                    stones.insert(tag, encode(&self.path, "a tombstone", &stone)?.as_slice())?;
                    let rec = log.get(stone.request)?.map(|v| v.value().to_vec());
                    if let Some(rec) = rec {
                        let mut rec: ErasureRecord = decode(&self.path, "erasure record", &rec)?;
                        rec.purged_at = Some(now);
                        rec.events_removed = events;
                        rec.segments_rewritten = segments;
                        log.insert(
                            stone.request,
                            encode(&self.path, "an erasure record", &rec)?.as_slice(),
                        )?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Removes tombstones.
    pub(crate) fn remove_tombstones(&self, tags: &[EraseTag]) -> Result<(), StorageError> {
        self.db.with_transient(|db| {
            let tx = db.begin_write()?;
            {
                let mut stones = tx.open_table(TOMBSTONES)?;
                for t in tags {
                    stones.remove(*t)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Replaces the file by a fresh copy, so removed tombstones leave no
    /// freed page behind.
    pub(crate) fn rewrite(&self) -> Result<(), StorageError> {
        self.db.with_transient(|db| {
            let fresh = super::rewrite_fresh(&self.opener, &self.path, db, |rx, tx| {
                super::copy_table(rx, tx, META)?;
                super::copy_table(rx, tx, TOMBSTONES)?;
                super::copy_table(rx, tx, ERASURE_LOG)?;
                super::copy_table(rx, tx, IMPORTS)
            })?;
            *db = fresh;
            Ok(())
        })
    }

    /// Every import record, with its number (read without keeping the file
    /// open).
    pub(crate) fn imports(
        &self,
    ) -> Result<Vec<(u64, super::import_record::ImportRecord)>, StorageError> {
        self.db.read(|rx| {
            let t = rx.open_table(IMPORTS)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.push((k.value(), decode(&self.path, "import record", v.value())?));
            }
            Ok(out)
        })
    }

    /// Stores an import record under `id`, or under a new number; returns
    /// the number.
    pub(crate) fn put_import(
        &self,
        slot: Option<u64>,
        rec: &super::import_record::ImportRecord,
    ) -> Result<u64, StorageError> {
        self.db.with(|db| {
            let tx = db.begin_write()?;
            let id;
            {
                let mut t = tx.open_table(IMPORTS)?;
                id = match slot {
                    Some(i) => i,
                    None => t.last()?.map_or(1, |(k, _)| k.value() + 1),
                };
                t.insert(id, encode(&self.path, "an import record", rec)?.as_slice())?;
            }
            tx.commit()?;
            Ok(id)
        })
    }

    /// The erasure log (read without keeping the file open: the
    /// transparency report reads every domain's).
    pub(crate) fn erasure_log(&self) -> Result<Vec<ErasureRecord>, StorageError> {
        self.db.read(|rx| {
            let t = rx.open_table(ERASURE_LOG)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                let (_, v) = row?;
                out.push(decode(&self.path, "erasure record", v.value())?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct OldSettings {
        retention: crate::settings::Retention,
        consent: crate::settings::ConsentPolicy,
        sensitive_fields: Vec<String>,
    }

    #[test]
    fn a_complete_file_is_read_at_open_and_opened_on_first_write() {
        let tmp = tempfile::tempdir().unwrap();
        let opener = Opener::new(None, tmp.path(), 8);
        let defaults = DomainSettings::default();
        let first = ControlFile::open(&opener, tmp.path(), &defaults).unwrap();
        first
            .file
            .add_tombstone(7, ErasureKind::Visitor, Timestamp(1_000))
            .unwrap();
        let secret = first.secret.to_bytes();
        drop(first);
        let again = ControlFile::open(&opener, tmp.path(), &defaults).unwrap();
        assert!(!again.file.db.is_open(), "opening kept the file open");
        assert_eq!(again.secret.to_bytes(), secret);
        assert_eq!(again.settings, defaults);
        assert_eq!(again.tombstones.len(), 1);
        assert_eq!(again.tombstones[0].0, 7);
        // A background read closes it again after; a write keeps it open.
        assert_eq!(again.file.tombstones().unwrap().len(), 1);
        assert!(!again.file.db.is_open());
        let changed = DomainSettings {
            min_aggregate_visitors: 9,
            ..defaults.clone()
        };
        again.file.set_settings(&changed).unwrap();
        assert!(again.file.db.is_open());
        drop(again);
        let third = ControlFile::open(&opener, tmp.path(), &defaults).unwrap();
        assert_eq!(third.settings, changed);
    }

    #[test]
    fn settings_written_before_min_aggregate_visitors_still_load() {
        let old = OldSettings {
            retention: crate::settings::Retention {
                raw_event_days: 30,
                aggregate_days: 400,
                tombstone_hours: 2,
            },
            consent: crate::settings::ConsentPolicy::default(),
            sensitive_fields: vec!["maiden".into()],
        };
        let bytes = postcard::to_allocvec(&old).unwrap();
        let s = decode_settings(Path::new("x"), &bytes).unwrap();
        assert_eq!(s.retention, old.retention);
        assert_eq!(s.sensitive_fields, old.sensitive_fields);
        assert_eq!(
            s.min_aggregate_visitors,
            crate::settings::DEFAULT_MIN_AGGREGATE_VISITORS
        );
        let new = DomainSettings {
            min_aggregate_visitors: 9,
            ..s
        };
        let bytes = postcard::to_allocvec(&new).unwrap();
        assert_eq!(decode_settings(Path::new("x"), &bytes).unwrap(), new);
        assert!(decode_settings(Path::new("x"), &[0xff, 0xff]).is_err());
    }
}

#[cfg(test)]
mod encode_tests {
    use super::*;

    struct Unencodable;

    impl Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("refused"))
        }
    }

    #[test]
    fn an_encode_error_names_its_file_and_record() {
        let path = Path::new("/data/domains/shop.example/control.redb");
        match encode(path, "settings", &Unencodable) {
            Err(StorageError::Encode { path: p, what, .. }) => {
                assert_eq!(p, path);
                assert_eq!(what, "settings");
            }
            other => panic!("expected an encode error, got {other:?}"),
        }
    }
}
