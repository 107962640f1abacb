//! IP address to country, from a MaxMind DB (`.mmdb`) file.
//!
//! On ingest the IP address of a hit is looked up once here and then
//! dropped; only the [`Country`] is kept. Two record layouts are understood:
//!
//! * GeoIP2 / GeoLite2 Country and City: `{"country": {"iso_code": "DE"}, ...}`
//! * flat databases such as DB-IP lite or ip-location-db:
//!   `{"country_code": "DE", ...}`
//!
//! A lookup decodes only these two fields, borrowing from the database
//! buffer, so it allocates nothing.

use crate::event::Country;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// An error opening a GeoIP database. Messages name the file but never
/// contain an IP address.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeoError {
    /// The file could not be read (missing, unreadable, a directory, ...).
    #[error("cannot read GeoIP database {}: {source}", .path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The bytes are not a usable MaxMind DB database.
    #[error("invalid GeoIP database {}: {reason}", describe_path(.path.as_deref()))]
    Invalid {
        /// The file the bytes came from, `None` for a database given as bytes.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },
}

fn describe_path(path: Option<&Path>) -> String {
    match path {
        Some(path) => path.display().to_string(),
        None => "(in memory)".to_owned(),
    }
}

/// A GeoIP database, held in memory, that maps IP addresses to countries.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl GeoDb {
    /// Reads and opens the MaxMind DB file at `path`.
    ///
    /// # Errors
    ///
    /// [`GeoError::Io`] if the file cannot be read, [`GeoError::Invalid`]
    /// if it is not a MaxMind DB database. Both name `path`.
    pub fn open(path: &Path) -> Result<GeoDb, GeoError> {
        let bytes = std::fs::read(path).map_err(|source| GeoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(bytes, Some(path))
    }

    /// Opens a MaxMind DB database held in memory.
    ///
    /// # Errors
    ///
    /// [`GeoError::Invalid`] if the bytes are not a MaxMind DB database.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GeoDb, GeoError> {
        Self::parse(bytes, None)
    }

    fn parse(bytes: Vec<u8>, path: Option<&Path>) -> Result<GeoDb, GeoError> {
        // The reader's own errors concern the file's structure (metadata,
        // offsets), never an address.
        match maxminddb::Reader::from_source(bytes) {
            Ok(reader) => Ok(GeoDb { reader }),
            Err(e) => Err(GeoError::Invalid {
                path: path.map(Path::to_path_buf),
                reason: e.to_string(),
            }),
        }
    }

    /// The database type from its metadata, e.g. `"GeoLite2-Country"`.
    #[must_use]
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// The country of `ip`.
    ///
    /// [`Country::UNKNOWN`] if the address is in no network of the database,
    /// its record has neither `country.iso_code` nor `country_code` (or
    /// neither is a two-letter code), or the record cannot be decoded. An
    /// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is looked up as the IPv4
    /// address. Never panics and allocates nothing.
    #[must_use]
    pub fn country(&self, ip: IpAddr) -> Country {
        let Ok(found) = self.reader.lookup(ip.to_canonical()) else {
            // An IPv6 address in an IPv4-only database.
            return Country::UNKNOWN;
        };
        match found.decode::<CountryRecord>() {
            Ok(Some(record)) => record.country(),
            Ok(None) | Err(_) => Country::UNKNOWN,
        }
    }
}

impl fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meta = self.reader.metadata();
        f.debug_struct("GeoDb")
            .field("database_type", &meta.database_type)
            .field("ip_version", &meta.ip_version)
            .field("node_count", &meta.node_count)
            .finish_non_exhaustive()
    }
}

/// The two fields a lookup decodes; every other field of the record is
/// skipped without being decoded.
#[derive(Deserialize)]
struct CountryRecord {
    /// GeoIP2 layout: `country: {iso_code: "DE"}`.
    #[serde(default)]
    country: Code<true>,
    /// Flat layout: `country_code: "DE"`.
    #[serde(default)]
    country_code: Code<false>,
}

impl CountryRecord {
    fn country(&self) -> Country {
        if self.country.0 == Country::UNKNOWN {
            self.country_code.0
        } else {
            self.country.0
        }
    }
}

/// A country code read leniently: a value of an unexpected type gives
/// [`Country::UNKNOWN`] instead of failing the whole record. With `NESTED`
/// the code is the `iso_code` of a map, otherwise the value itself.
#[derive(Default)]
struct Code<const NESTED: bool>(Country);

impl<const NESTED: bool> Code<NESTED> {
    const UNKNOWN: Self = Code(Country::UNKNOWN);
}

impl<'de, const NESTED: bool> Deserialize<'de> for Code<NESTED> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CodeVisitor::<NESTED>)
    }
}

struct CodeVisitor<const NESTED: bool>;

impl<'de, const NESTED: bool> Visitor<'de> for CodeVisitor<NESTED> {
    type Value = Code<NESTED>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if NESTED {
            "a map with an iso_code"
        } else {
            "a country code"
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if NESTED {
            // A bare string (e.g. a country name): not this layout.
            Ok(Code::UNKNOWN)
        } else {
            Ok(Code(Country::from_code(v)))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut code = Country::UNKNOWN;
        while let Some(key) = map.next_key::<&'de str>()? {
            if NESTED && key == "iso_code" {
                code = map.next_value::<Code<false>>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Code(code))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Code::UNKNOWN)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Code::UNKNOWN)
    }
}

/// Building small country databases, for tests and demos.
#[cfg(any(test, feature = "geo-writer"))]
pub mod writer {
    use super::GeoError;
    use crate::event::Country;
    use ipnet::IpNet;
    use mmdb_writer::{Error as WriteError, Value, Writer};
    use std::time::SystemTime;

    /// The record layout of a built database.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum GeoLayout {
        /// GeoIP2 / GeoLite2: `{"country": {"iso_code": "DE"}}`.
        Nested,
        /// DB-IP lite / ip-location-db: `{"country_code": "DE"}`.
        Flat,
    }

    /// Builds a MaxMind DB country database (`ip_version` 6) mapping each
    /// network to a two-letter country code, in the given layout.
    ///
    /// IPv4 networks are stored under `::/96`, where readers look up IPv4
    /// addresses, and are also reachable as IPv4-mapped (`::ffff:0:0/96`),
    /// 6to4 and Teredo addresses. Where networks overlap, later entries win.
    /// The output is deterministic (the build time is the Unix epoch).
    ///
    /// # Errors
    ///
    /// [`GeoError::Invalid`] if a code is not two ASCII letters or a network
    /// lies inside the IPv4-mapped, 6to4 or Teredo ranges. The message gives
    /// the entry's index, never its network.
    pub fn build_country_db(
        entries: &[(IpNet, &str)],
        layout: GeoLayout,
    ) -> Result<Vec<u8>, GeoError> {
        let database_type = match layout {
            GeoLayout::Nested => "PledgeDB-Country",
            GeoLayout::Flat => "PledgeDB-Country-Flat",
        };
        let mut writer = Writer::builder(database_type)
            .description(&[("en", "PledgeDB country database")])
            .build_epoch(SystemTime::UNIX_EPOCH)
            .build();
        for (index, (network, code)) in entries.iter().enumerate() {
            let valid = code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic());
            if !valid {
                return Err(invalid(format!(
                    "entry {index}: country code is not two ASCII letters"
                )));
            }
            let code = Value::from(Country::from_code(code).as_str());
            let record = match layout {
                GeoLayout::Nested => Value::map([("country", Value::map([("iso_code", code)]))]),
                GeoLayout::Flat => Value::map([("country_code", code)]),
            };
            writer
                .insert_value(*network, record)
                .map_err(|e| invalid(format!("entry {index}: {}", describe(&e))))?;
        }
        writer.to_bytes().map_err(|e| invalid(describe(&e)))
    }

    fn invalid(reason: String) -> GeoError {
        GeoError::Invalid { path: None, reason }
    }

    /// Describes a writer error without the network some of them carry.
    fn describe(e: &WriteError) -> String {
        match e {
            WriteError::AliasedNetwork(_) => {
                "network lies in the IPv4-mapped, 6to4 or Teredo range, which alias IPv4".into()
            }
            WriteError::ReservedNetwork(_) => "network is reserved".into(),
            WriteError::Ipv6InIpv4Tree(_) => "IPv6 network in an IPv4 database".into(),
            WriteError::TreeTooLarge { .. } => "database too large".into(),
            _ => "cannot write the database".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::writer::{GeoLayout, build_country_db};
    use super::*;
    use ipnet::IpNet;
    use mmdb_writer::{IpVersion, Ipv4Aliasing, Value, Writer};
    use proptest::prelude::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn entries() -> Vec<(IpNet, &'static str)> {
        vec![
            (net("192.0.2.0/24"), "DE"),
            (net("198.51.100.0/24"), "us"),
            (net("203.0.113.0/25"), "JP"),
            (net("2001:db8::/32"), "FR"),
            // A more specific network inside the previous one, later wins.
            (net("2001:db8:ab::/48"), "NL"),
        ]
    }

    fn check_lookups(db: &GeoDb) {
        let cases = [
            ("192.0.2.1", "DE"),
            ("192.0.2.255", "DE"),
            ("::ffff:192.0.2.7", "DE"),
            ("198.51.100.42", "US"),
            ("203.0.113.1", "JP"),
            ("203.0.113.200", "ZZ"),
            ("10.1.2.3", "ZZ"),
            ("0.0.0.0", "ZZ"),
            ("255.255.255.255", "ZZ"),
            ("2001:db8::1", "FR"),
            ("2001:db8:ffff::1", "FR"),
            ("2001:db8:ab:cd::1", "NL"),
            ("2a00:1450::1", "ZZ"),
            ("::1", "ZZ"),
            ("::", "ZZ"),
        ];
        for (addr, want) in cases {
            assert_eq!(db.country(ip(addr)).as_str(), want, "lookup of {addr}");
        }
    }

    #[test]
    fn nested_layout_lookups() {
        let bytes = build_country_db(&entries(), GeoLayout::Nested).unwrap();
        let db = GeoDb::from_bytes(bytes).unwrap();
        assert_eq!(db.database_type(), "PledgeDB-Country");
        check_lookups(&db);
    }

    #[test]
    fn flat_layout_lookups() {
        let bytes = build_country_db(&entries(), GeoLayout::Flat).unwrap();
        let db = GeoDb::from_bytes(bytes).unwrap();
        assert_eq!(db.database_type(), "PledgeDB-Country-Flat");
        check_lookups(&db);
    }

    #[test]
    fn layouts_really_differ() {
        // Each layout is read through its own field: a nested record has no
        // country_code and a flat record no country map.
        let nested = build_country_db(&entries(), GeoLayout::Nested).unwrap();
        let flat = build_country_db(&entries(), GeoLayout::Flat).unwrap();
        let nested = maxminddb::Reader::from_source(nested).unwrap();
        let flat = maxminddb::Reader::from_source(flat).unwrap();
        let at = ip("192.0.2.1");
        let path = ["country", "iso_code"].map(maxminddb::PathElement::Key);
        let code: Option<String> = nested.lookup(at).unwrap().decode_path(&path).unwrap();
        assert_eq!(code.as_deref(), Some("DE"));
        let code: Option<String> = flat.lookup(at).unwrap().decode_path(&path).unwrap();
        assert_eq!(code, None);
        let path = [maxminddb::PathElement::Key("country_code")];
        let code: Option<String> = flat.lookup(at).unwrap().decode_path(&path).unwrap();
        assert_eq!(code.as_deref(), Some("DE"));
    }

    #[test]
    fn build_is_deterministic() {
        let a = build_country_db(&entries(), GeoLayout::Nested).unwrap();
        let b = build_country_db(&entries(), GeoLayout::Nested).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn open_reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("country.mmdb");
        std::fs::write(
            &path,
            build_country_db(&entries(), GeoLayout::Flat).unwrap(),
        )
        .unwrap();
        let db = GeoDb::open(&path).unwrap();
        check_lookups(&db);
    }

    #[test]
    fn empty_database_gives_unknown() {
        let db = GeoDb::from_bytes(build_country_db(&[], GeoLayout::Nested).unwrap()).unwrap();
        assert_eq!(db.country(ip("192.0.2.1")), Country::UNKNOWN);
        assert_eq!(db.country(ip("2001:db8::1")), Country::UNKNOWN);
    }

    /// Whether any word of `text` parses as an IP address.
    fn contains_ip(text: &str) -> bool {
        text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
            .map(|word| word.trim_matches(|c| c == '.' || c == ':'))
            .any(|word| word.parse::<IpAddr>().is_ok())
    }

    #[test]
    fn ip_detector_works() {
        assert!(contains_ip("at 192.0.2.1: bad"));
        assert!(contains_ip("(2001:db8::1)"));
        assert!(!contains_ip("invalid database at offset 12: bad"));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.mmdb");
        let err = GeoDb::open(&path).unwrap_err();
        assert!(
            matches!(&err, GeoError::Io { path: p, .. } if *p == path),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("missing.mmdb"), "{msg}");
        assert!(!contains_ip(&msg), "{msg}");
    }

    #[test]
    fn directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = GeoDb::open(dir.path()).unwrap_err();
        assert!(matches!(err, GeoError::Io { .. }), "{err:?}");
    }

    #[test]
    fn garbage_file_is_invalid_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.mmdb");
        std::fs::write(&path, b"192.0.2.1 is not a database, nor is 2001:db8::1").unwrap();
        let err = GeoDb::open(&path).unwrap_err();
        assert!(
            matches!(&err, GeoError::Invalid { path: Some(p), .. } if *p == path),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("garbage.mmdb"), "{msg}");
        assert!(!contains_ip(&msg), "{msg}");
    }

    #[test]
    fn malformed_bytes_are_invalid() {
        let good = build_country_db(&entries(), GeoLayout::Nested).unwrap();
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![0; 1000],
            good[..good.len() / 2].to_vec(),
            good[..good.len() - 10].to_vec(),
        ];
        for bytes in cases {
            let err = GeoDb::from_bytes(bytes).unwrap_err();
            assert!(
                matches!(err, GeoError::Invalid { path: None, .. }),
                "{err:?}"
            );
            let msg = err.to_string();
            assert!(msg.contains("in memory"), "{msg}");
            assert!(!contains_ip(&msg), "{msg}");
        }
    }

    #[test]
    fn debug_shows_metadata_not_bytes() {
        let db =
            GeoDb::from_bytes(build_country_db(&entries(), GeoLayout::Nested).unwrap()).unwrap();
        let dbg = format!("{db:?}");
        assert!(dbg.contains("PledgeDB-Country"), "{dbg}");
        assert!(dbg.contains("node_count"), "{dbg}");
        assert!(dbg.len() < 200, "{dbg}");
    }

    #[test]
    fn writer_rejects_bad_entries_without_naming_the_network() {
        for code in ["", "D", "DEU", "D1", "ü"] {
            let err = build_country_db(&[(net("192.0.2.0/24"), code)], GeoLayout::Flat);
            assert!(matches!(err, Err(GeoError::Invalid { .. })), "{code:?}");
        }
        let err = build_country_db(
            &[
                (net("192.0.2.0/24"), "DE"),
                (net("::ffff:192.0.2.0/120"), "DE"),
            ],
            GeoLayout::Nested,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("entry 1"), "{msg}");
        assert!(!contains_ip(&msg), "{msg}");
    }

    fn custom_db(records: &[(&str, Value)]) -> GeoDb {
        let mut writer = Writer::new("Custom");
        for (network, value) in records {
            writer.insert_value(net(network), value.clone()).unwrap();
        }
        GeoDb::from_bytes(writer.to_bytes().unwrap()).unwrap()
    }

    #[test]
    fn odd_records() {
        let iso = |code: Value| Value::map([("iso_code", code)]);
        let db = custom_db(&[
            // GeoLite2-City-like: many other fields around the country.
            (
                "192.0.2.0/28",
                Value::map([
                    (
                        "city",
                        Value::map([(
                            "names",
                            Value::map([
                                ("en", Value::from("Berlin")),
                                ("de", Value::from("Berlin")),
                            ]),
                        )]),
                    ),
                    ("continent", Value::map([("code", Value::from("EU"))])),
                    (
                        "country",
                        Value::map([
                            ("geoname_id", Value::from(2_921_044_u32)),
                            ("is_in_european_union", Value::from(true)),
                            ("iso_code", Value::from("DE")),
                            ("names", Value::map([("en", Value::from("Germany"))])),
                        ]),
                    ),
                    (
                        "location",
                        Value::map([("latitude", Value::from(52.5_f64))]),
                    ),
                    (
                        "subdivisions",
                        Value::array([Value::map([("iso_code", Value::from("BE"))])]),
                    ),
                ]),
            ),
            // Both layouts: the nested code wins.
            (
                "192.0.2.16/28",
                Value::map([
                    ("country", iso(Value::from("AT"))),
                    ("country_code", Value::from("CH")),
                ]),
            ),
            // IPinfo-like: `country` is a name, `country_code` the code.
            (
                "192.0.2.32/28",
                Value::map([
                    ("country", Value::from("Sweden")),
                    ("country_code", Value::from("SE")),
                ]),
            ),
            // Neither field: only a registered country.
            (
                "192.0.2.48/28",
                Value::map([("registered_country", iso(Value::from("NO")))]),
            ),
            // Not a two-letter code.
            (
                "192.0.2.64/28",
                Value::map([("country_code", Value::from("DEU"))]),
            ),
            // A nested code of the wrong type falls back to the flat one.
            (
                "192.0.2.80/28",
                Value::map([
                    ("country", iso(Value::from(276_u32))),
                    ("country_code", Value::from("dk")),
                ]),
            ),
            // Wrong types everywhere.
            (
                "192.0.2.96/28",
                Value::map([
                    ("country", Value::array([Value::from("DE")])),
                    (
                        "country_code",
                        Value::map([("iso_code", Value::from("DE"))]),
                    ),
                ]),
            ),
            // A record that is not a map at all.
            ("192.0.2.112/28", Value::from("DE")),
            // Empty map.
            ("192.0.2.128/28", Value::map::<&str, Value, _>([])),
            // An empty code.
            (
                "192.0.2.144/28",
                Value::map([("country", iso(Value::from("")))]),
            ),
        ]);
        let cases = [
            ("192.0.2.1", "DE"),
            ("192.0.2.17", "AT"),
            ("192.0.2.33", "SE"),
            ("192.0.2.49", "ZZ"),
            ("192.0.2.65", "ZZ"),
            ("192.0.2.81", "DK"),
            ("192.0.2.97", "ZZ"),
            ("192.0.2.113", "ZZ"),
            ("192.0.2.129", "ZZ"),
            ("192.0.2.145", "ZZ"),
        ];
        for (addr, want) in cases {
            assert_eq!(db.country(ip(addr)).as_str(), want, "lookup of {addr}");
        }
    }

    #[test]
    fn ipv4_only_database() {
        let mut writer = Writer::builder("V4").ip_version(IpVersion::V4).build();
        let record = Value::map([("country_code", Value::from("IT"))]);
        writer.insert_value(net("192.0.2.0/24"), record).unwrap();
        let db = GeoDb::from_bytes(writer.to_bytes().unwrap()).unwrap();
        assert_eq!(db.country(ip("192.0.2.9")).as_str(), "IT");
        // An IPv4-mapped address is looked up as IPv4.
        assert_eq!(db.country(ip("::ffff:192.0.2.9")).as_str(), "IT");
        // A real IPv6 address cannot be looked up in an IPv4 tree.
        assert_eq!(db.country(ip("2001:db8::1")), Country::UNKNOWN);
        assert_eq!(db.country(ip("10.0.0.1")), Country::UNKNOWN);
    }

    #[test]
    fn ipv6_database_without_ipv4_aliases() {
        // Some databases store IPv4 only under `::/96`, with no
        // `::ffff:0:0/96` alias. IPv4-mapped addresses must still work.
        let mut writer = Writer::builder("NoAlias")
            .ipv4_aliasing(Ipv4Aliasing::Disabled)
            .build();
        let record = Value::map([("country_code", Value::from("PL"))]);
        writer.insert_value(net("192.0.2.0/24"), record).unwrap();
        let db = GeoDb::from_bytes(writer.to_bytes().unwrap()).unwrap();
        assert_eq!(db.country(ip("192.0.2.9")).as_str(), "PL");
        assert_eq!(db.country(ip("::ffff:192.0.2.9")).as_str(), "PL");
        assert_eq!(db.country(ip("::192.0.2.9")).as_str(), "PL");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Corrupting a valid database anywhere never makes opening or a
        /// lookup panic.
        #[test]
        fn corrupt_database_never_panics(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            addrs in proptest::collection::vec(any::<IpAddr>(), 1..8),
        ) {
            let mut bytes = build_country_db(&entries(), GeoLayout::Nested).unwrap();
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            if let Ok(db) = GeoDb::from_bytes(bytes) {
                for addr in addrs {
                    let _ = db.country(addr);
                }
            }
        }

        #[test]
        fn lookups_match_the_entries(a in any::<u8>(), b in any::<u8>()) {
            let db = GeoDb::from_bytes(build_country_db(&entries(), GeoLayout::Flat).unwrap())
                .unwrap();
            let v4 = IpAddr::from([192, 0, 2, a]);
            prop_assert_eq!(db.country(v4), Country::from_code("DE"));
            let v4 = IpAddr::from([203, 0, 113, b]);
            let want = if b < 128 { "JP" } else { "ZZ" };
            prop_assert_eq!(db.country(v4), Country::from_code(want));
        }
    }
}
