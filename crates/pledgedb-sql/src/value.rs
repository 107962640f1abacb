//! Values, column types, ordering and grouping keys.

use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// One value of a result cell (or of an expression while a query runs).
///
/// Serialises without a tag: `null`, a number, a string or a boolean.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// SQL `NULL`: no value.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit floating point number.
    Float(f64),
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// Whether this is `NULL`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a float, for numbers.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The type rank used to order values of different types (only `NULL`
    /// meets another type after type checking).
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Text(_) => 3,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The type of a result column or table column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// 64-bit integers.
    Int,
    /// 64-bit floating point numbers.
    Float,
    /// Text. Days (`YYYY-MM-DD`) and timestamps (RFC 3339, UTC,
    /// milliseconds: `2026-03-02T13:05:09.000Z`) are text too.
    Text,
    /// Booleans.
    Bool,
    /// Only `NULL`: the type of an expression such as `SELECT NULL`.
    Null,
}

impl ColumnType {
    /// The SQL name: `INT`, `FLOAT`, `TEXT`, `BOOL` or `NULL`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Int => "INT",
            ColumnType::Float => "FLOAT",
            ColumnType::Text => "TEXT",
            ColumnType::Bool => "BOOL",
            ColumnType::Null => "NULL",
        }
    }

    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Int | ColumnType::Float | ColumnType::Null)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Orders two values for `ORDER BY`, `MIN` and `MAX`: `NULL` first, then
/// booleans (false before true), numbers (integers and floats compared as
/// numbers), then text in byte order.
pub(crate) fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Float(_), Value::Int(_) | Value::Float(_)) | (Value::Int(_), Value::Float(_)) => {
            match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => Ordering::Equal,
            }
        }
        _ => a.rank().cmp(&b.rank()),
    }
}

/// SQL comparison: `None` when either side is `NULL`.
pub(crate) fn sql_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        None
    } else {
        Some(cmp_values(a, b))
    }
}

/// A value usable as a hash key: floats compare by their bits (with `-0.0`
/// and every NaN made one value), so grouping is total and deterministic.
#[derive(Clone, Debug)]
pub(crate) struct Key(pub Value);

impl Key {
    fn float_bits(f: f64) -> u64 {
        if f.is_nan() {
            f64::NAN.to_bits()
        } else if f == 0.0 {
            0
        } else {
            f.to_bits()
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Value::Float(a), Value::Float(b)) => Key::float_bits(*a) == Key::float_bits(*b),
            (a, b) => a == b,
        }
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Value::Null => 0u8.hash(state),
            Value::Int(i) => {
                1u8.hash(state);
                i.hash(state);
            }
            Value::Float(f) => {
                2u8.hash(state);
                Key::float_bits(*f).hash(state);
            }
            Value::Text(s) => {
                3u8.hash(state);
                s.hash(state);
            }
            Value::Bool(b) => {
                4u8.hash(state);
                b.hash(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_puts_null_first_and_mixes_numbers() {
        assert_eq!(cmp_values(&Value::Null, &Value::Int(0)), Ordering::Less);
        assert_eq!(
            cmp_values(&Value::Int(2), &Value::Float(1.5)),
            Ordering::Greater
        );
        assert_eq!(
            cmp_values(&Value::Text("a".into()), &Value::Text("b".into())),
            Ordering::Less
        );
        assert_eq!(sql_cmp(&Value::Null, &Value::Null), None);
    }

    #[test]
    fn keys_fold_negative_zero_and_nan() {
        assert_eq!(Key(Value::Float(0.0)), Key(Value::Float(-0.0)));
        assert_eq!(Key(Value::Float(f64::NAN)), Key(Value::Float(-f64::NAN)));
        assert_ne!(Key(Value::Int(1)), Key(Value::Float(1.0)));
    }

    #[test]
    fn values_serialise_untagged() {
        let v = vec![
            Value::Null,
            Value::Int(3),
            Value::Float(0.5),
            Value::Text("x".into()),
            Value::Bool(true),
        ];
        assert_eq!(
            serde_json::to_string(&v).unwrap_or_default(),
            r#"[null,3,0.5,"x",true]"#
        );
    }
}
