//! The serde representation of ids and times, one for people and one for
//! files.
//!
//! In a human-readable format (JSON: the shell's export and JSON output,
//! the transparency report) a [`VisitorId`] or [`SessionId`] is the 16 hex
//! digits SQL shows (`null` for the anonymous id 0, as SQL shows `NULL`), a
//! [`Timestamp`] is RFC 3339 UTC with milliseconds, as SQL shows it, and
//! the referrer and utm of a page view are `null` when empty, as in SQL.
//! Decimal 64-bit ids would be rounded by JSON readers that use doubles.
//!
//! In a compact format (postcard: the records on disk) nothing changes:
//! each is the bare integer it always was, so stored files read as before.
//! Deserialising accepts both forms in human-readable formats.

use crate::event::{SessionId, VisitorId};
use crate::text::Text;
use crate::time::{Day, Timestamp};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The first and last moment whose RFC 3339 form has a four-digit year.
const FIRST_RFC3339: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const LAST_RFC3339: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/// Parses the form [`Timestamp`]'s `Display` prints:
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (the fraction may be left out).
#[must_use]
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let day = Day::parse(s.get(..10)?)?;
    let rest = s.get(10..)?.strip_prefix('T')?.strip_suffix('Z')?;
    let (clock, ms) = match rest.split_once('.') {
        Some((c, f)) if f.len() == 3 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (c, f.parse::<i64>().ok()?)
        }
        Some(_) => return None,
        None => (rest, 0),
    };
    let b = clock.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>, max: i64| -> Option<i64> {
        let t = clock.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse::<i64>().ok().filter(|v| *v <= max)
    };
    let (h, m, sec) = (num(0..2, 23)?, num(3..5, 59)?, num(6..8, 59)?);
    Some(
        day.start()
            .plus_millis(((h * 60 + m) * 60 + sec) * 1000 + ms),
    )
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() && (FIRST_RFC3339..=LAST_RFC3339).contains(&self.0) {
            s.collect_str(self)
        } else {
            s.serialize_newtype_struct("Timestamp", &self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 UTC time or epoch milliseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                parse_timestamp(v).ok_or_else(|| E::custom("not an RFC 3339 UTC time"))
            }
            fn visit_newtype_struct<D2: Deserializer<'de>>(
                self,
                d: D2,
            ) -> Result<Timestamp, D2::Error> {
                i64::deserialize(d).map(Timestamp)
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(V)
        } else {
            d.deserialize_newtype_struct("Timestamp", V)
        }
    }
}

/// Serde for a 64-bit id: 16 hex digits (or `null` for 0) for people, the
/// bare integer for files.
macro_rules! hex_id {
    ($t:ident) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if !s.is_human_readable() {
                    s.serialize_newtype_struct(stringify!($t), &self.0)
                } else if self.0 == 0 {
                    s.serialize_none()
                } else {
                    s.collect_str(self)
                }
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("16 hex digits, null, or an integer")
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                        Ok($t(v))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        u64::try_from(v)
                            .map($t)
                            .map_err(|_| E::custom("a negative id"))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        $t::parse_hex(v).ok_or_else(|| E::custom("an id is 16 hex digits"))
                    }
                    fn visit_none<E: de::Error>(self) -> Result<$t, E> {
                        Ok($t(0))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
                        Ok($t(0))
                    }
                    fn visit_newtype_struct<D2: Deserializer<'de>>(
                        self,
                        d: D2,
                    ) -> Result<$t, D2::Error> {
                        u64::deserialize(d).map($t)
                    }
                }
                if d.is_human_readable() {
                    d.deserialize_any(V)
                } else {
                    d.deserialize_newtype_struct(stringify!($t), V)
                }
            }
        }
    };
}

hex_id!(VisitorId);
hex_id!(SessionId);

/// `serde(with)` for text that SQL shows as `NULL` when empty (a page
/// view's referrer and utm): `null` for people, the text itself for files.
pub(crate) mod empty_as_null {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Text, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() && t.as_str().is_empty() {
            s.serialize_none()
        } else {
            t.serialize(s)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        if d.is_human_readable() {
            Ok(Option::<Text>::deserialize(d)?.unwrap_or_default())
        } else {
            Text::deserialize(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn json_shows_what_sql_shows() {
        let v = VisitorId(0x00ab_cdef_0123_4567);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"00abcdef01234567\"");
        assert_eq!(
            serde_json::to_string(&SessionId(u64::MAX)).unwrap(),
            "\"ffffffffffffffff\""
        );
        assert_eq!(serde_json::to_string(&VisitorId(0)).unwrap(), "null");
        let t = Timestamp::from_ymd_hms(2026, 3, 2, 13, 5, 9).plus_millis(7);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-03-02T13:05:09.007Z\""
        );
    }

    #[test]
    fn postcard_keeps_the_stored_integer_encoding() {
        // The bytes a derived newtype wrote before: a varint of the integer.
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            let old = postcard::to_allocvec(&n).unwrap();
            assert_eq!(postcard::to_allocvec(&VisitorId(n)).unwrap(), old);
            assert_eq!(postcard::to_allocvec(&SessionId(n)).unwrap(), old);
            let back: VisitorId = postcard::from_bytes(&old).unwrap();
            assert_eq!(back, VisitorId(n));
        }
        for n in [0i64, -1, 1_700_000_000_000, i64::MIN, i64::MAX] {
            let old = postcard::to_allocvec(&n).unwrap();
            assert_eq!(postcard::to_allocvec(&Timestamp(n)).unwrap(), old);
            let back: Timestamp = postcard::from_bytes(&old).unwrap();
            assert_eq!(back, Timestamp(n));
        }
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct R {
            #[serde(with = "empty_as_null")]
            referrer: Text,
        }
        let r = R {
            referrer: Text::new(""),
        };
        assert_eq!(
            postcard::to_allocvec(&r).unwrap(),
            postcard::to_allocvec(&r.referrer).unwrap()
        );
        let p = postcard::to_allocvec(&r).unwrap();
        assert_eq!(postcard::from_bytes::<R>(&p).unwrap(), r);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"referrer":null}"#);
        assert_eq!(
            serde_json::from_str::<R>(r#"{"referrer":null}"#).unwrap(),
            r
        );
    }

    #[test]
    fn json_reads_both_forms() {
        let v: VisitorId = serde_json::from_str("\"00abcdef01234567\"").unwrap();
        assert_eq!(v, VisitorId(0x00ab_cdef_0123_4567));
        let v: VisitorId = serde_json::from_str("48358647").unwrap();
        assert_eq!(v, VisitorId(48_358_647));
        let v: SessionId = serde_json::from_str("null").unwrap();
        assert_eq!(v, SessionId(0));
        let t: Timestamp = serde_json::from_str("1700000000123").unwrap();
        assert_eq!(t, Timestamp(1_700_000_000_123));
        for bad in ["\"0abc\"", "\"zzzzzzzzzzzzzzzz\"", "-3", "true"] {
            assert!(serde_json::from_str::<VisitorId>(bad).is_err(), "{bad}");
        }
        for bad in [
            "\"2026-03-02\"",
            "\"2026-03-02T25:00:00.000Z\"",
            "\"2026-03-02T10:00:00.0000Z\"",
            "\"2026-03-02T10:00:00.000+01:00\"",
            "\"2026-02-30T10:00:00.000Z\"",
            "\"\"",
        ] {
            assert!(serde_json::from_str::<Timestamp>(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn ids_round_trip_in_json_and_postcard(n in any::<u64>()) {
            let j = serde_json::to_string(&VisitorId(n)).unwrap();
            prop_assert_eq!(serde_json::from_str::<VisitorId>(&j).unwrap(), VisitorId(n));
            if n != 0 {
                prop_assert_eq!(j.len(), 18);
            }
            let p = postcard::to_allocvec(&SessionId(n)).unwrap();
            prop_assert_eq!(&p, &postcard::to_allocvec(&n).unwrap());
            prop_assert_eq!(postcard::from_bytes::<SessionId>(&p).unwrap(), SessionId(n));
        }

        #[test]
        fn times_round_trip_in_json_and_postcard(n in any::<i64>()) {
            let j = serde_json::to_string(&Timestamp(n)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Timestamp>(&j).unwrap(), Timestamp(n));
            if (FIRST_RFC3339..=LAST_RFC3339).contains(&n) {
                prop_assert_eq!(j, format!("\"{}\"", Timestamp(n)));
            }
            let p = postcard::to_allocvec(&Timestamp(n)).unwrap();
            prop_assert_eq!(&p, &postcard::to_allocvec(&n).unwrap());
            prop_assert_eq!(postcard::from_bytes::<Timestamp>(&p).unwrap(), Timestamp(n));
        }
    }
}
