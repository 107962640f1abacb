//! What the two JSON formats share: reading one object per line with serde
//! while keeping serde_json's messages (which quote the offending value,
//! possibly an IP address) out of every error, and the value types both
//! accept.

use crate::error::LineError;
use crate::time::parse_rfc3339;
use pledgedb_core::{HitProp, Timestamp};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// A visitor of one line's top-level object. It records the first field
/// that failed in `problem`, so the caller can report the field by name
/// instead of quoting serde_json.
pub(crate) trait LineVisitor: Default {
    /// Reads the value of `key` (or skips an unknown key).
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        problem: &mut Option<LineError>,
    ) -> Result<(), A::Error>;
}

/// Reads one JSON object from `line` into `V`.
pub(crate) fn read_object<V: LineVisitor>(line: &str) -> Result<V, LineError> {
    let mut problem = None;
    let mut de = serde_json::Deserializer::from_str(line);
    let result = Seed::<V> {
        problem: &mut problem,
        _v: std::marker::PhantomData,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    result.map_err(|e| match e.classify() {
        serde_json::error::Category::Syntax => LineError::Json { column: e.column() },
        serde_json::error::Category::Eof => LineError::JsonEof,
        serde_json::error::Category::Data | serde_json::error::Category::Io => {
            problem.unwrap_or(LineError::NotAnObject)
        }
    })
}

struct Seed<'p, V> {
    problem: &'p mut Option<LineError>,
    _v: std::marker::PhantomData<V>,
}

impl<'de, V: LineVisitor> DeserializeSeed<'de> for Seed<'_, V> {
    type Value = V;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<V, D::Error> {
        d.deserialize_map(ObjectVisitor {
            problem: self.problem,
            _v: std::marker::PhantomData,
        })
    }
}

struct ObjectVisitor<'p, V> {
    problem: &'p mut Option<LineError>,
    _v: std::marker::PhantomData<V>,
}

impl<'de, V: LineVisitor> Visitor<'de> for ObjectVisitor<'_, V> {
    type Value = V;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V, A::Error> {
        let mut v = V::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            v.field(key.as_str(), &mut map, self.problem)?;
        }
        Ok(v)
    }
}

/// An object key, borrowed when it has no escapes.
pub(crate) enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Reads a field's value into `slot`. `null` leaves the slot empty. A value
/// of the wrong type records [`LineError::Invalid`]; a second occurrence
/// records [`LineError::Duplicate`].
pub(crate) fn take<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    field: &'static str,
    expected: &'static str,
    problem: &mut Option<LineError>,
) -> Result<(), A::Error> {
    match map.next_value::<Option<T>>() {
        Ok(None) => Ok(()),
        Ok(Some(v)) => {
            if slot.is_some() {
                *problem = Some(LineError::Duplicate(field));
                return Err(de::Error::custom("duplicate field"));
            }
            *slot = Some(v);
            Ok(())
        }
        Err(e) => {
            *problem = Some(LineError::Invalid { field, expected });
            Err(e)
        }
    }
}

/// Skips the value of an unknown key.
pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

/// A timestamp: an RFC 3339 string or integer milliseconds since the epoch.
pub(crate) struct Ts(pub(crate) Timestamp);

/// What a [`Ts`] must be, for error messages.
pub(crate) const TS_EXPECTED: &str = "an RFC 3339 string or epoch milliseconds";

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TsVisitor;
        impl Visitor<'_> for TsVisitor {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(TS_EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ts, E> {
                Ok(Ts(Timestamp(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ts, E> {
                i64::try_from(v)
                    .map(|v| Ts(Timestamp(v)))
                    .map_err(|_| E::custom("out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ts, E> {
                // Integral milliseconds written with an exponent or `.0`.
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(Ts(Timestamp(v as i64)))
                } else {
                    Err(E::custom("not integral milliseconds"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
                parse_rfc3339(v)
                    .map(Ts)
                    .ok_or_else(|| E::custom("not an RFC 3339 timestamp"))
            }
        }
        d.deserialize_any(TsVisitor)
    }
}

/// A flag: `true`/`false`, or `1`/`0`.
pub(crate) struct Flag(pub(crate) bool);

/// What a [`Flag`] must be, for error messages.
pub(crate) const FLAG_EXPECTED: &str = "true, false, 1 or 0";

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(FLAG_EXPECTED)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                match v {
                    0 => Ok(Flag(false)),
                    1 => Ok(Flag(true)),
                    _ => Err(E::custom("not 0 or 1")),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("not 0 or 1"))
                    .and_then(|v| self.visit_u64(v))
            }
        }
        d.deserialize_any(FlagVisitor)
    }
}

/// Custom properties: an object whose values are strings, numbers or
/// booleans, in their order. `null` values are left out. A string holding
/// such an object as JSON (as Plausible's tracker sends `m`/`p`) is read
/// too.
#[derive(Default)]
pub(crate) struct Props(pub(crate) Vec<(String, HitProp)>);

/// What [`Props`] must be, for error messages.
pub(crate) const PROPS_EXPECTED: &str = "an object of strings, numbers and booleans";

impl<'de> Deserialize<'de> for Props {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PropsVisitor)
    }
}

struct PropsVisitor;

impl<'de> Visitor<'de> for PropsVisitor {
    type Value = Props;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PROPS_EXPECTED)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Props, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Option<HitProp>>()? {
            if let Some(v) = v {
                out.push((k, v));
            }
        }
        Ok(Props(out))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Props, E> {
        let mut de = serde_json::Deserializer::from_str(v);
        let props = de
            .deserialize_map(PropsVisitor)
            .and_then(|p| de.end().map(|()| p))
            .map_err(|_| E::custom("not a JSON object of properties"))?;
        Ok(props)
    }
}
