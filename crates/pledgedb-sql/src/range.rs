//! Day and timestamp literals, and the time range a `WHERE` clause allows,
//! so a scan opens only the segment files of those days.

use crate::error::{Result, SqlError};
use crate::expr::{CmpOp, Expr};
use crate::tables::{Sem, TableDef};
use crate::value::Value;
use pledgedb_core::{Day, DayRange, MS_PER_DAY, TimeRange, Timestamp};

/// A day literal (`YYYY-MM-DD`, surrounding blanks ignored).
pub(crate) fn parse_day(s: &str) -> Option<Day> {
    Day::parse(s.trim())
}

fn two_digits(s: &str, max: i64) -> Option<i64> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    (v <= max).then_some(v)
}

/// A timestamp literal: `YYYY-MM-DD`, optionally followed by `T` or a space
/// and `HH:MM[:SS[.fraction]]`, optionally followed by `Z` or `±HH:MM`.
/// Times without an offset are UTC.
pub(crate) fn parse_ts(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let day = Day::parse(s.get(..10)?)?;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(day.start());
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .filter(|r| !r.is_empty())?;
    let (clock, offset_ms) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if rest.len() > 6
        && rest.is_char_boundary(rest.len() - 6)
        && matches!(rest.as_bytes().get(rest.len() - 6), Some(b'+' | b'-'))
    {
        let (c, off) = rest.split_at(rest.len() - 6);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (hh, mm) = off.get(1..)?.split_once(':')?;
        let ms = (two_digits(hh, 23)? * 60 + two_digits(mm, 59)?) * 60_000;
        (c, sign * ms)
    } else {
        (rest, 0)
    };
    let mut parts = clock.split(':');
    let hh = two_digits(parts.next()?, 23)?;
    let mm = two_digits(parts.next()?, 59)?;
    let (ss, frac_ms) = match parts.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            let ss = two_digits(whole, 59)?;
            let ms = match frac {
                None => 0,
                Some(f) => {
                    if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let mut digits: String = f.chars().take(3).collect();
                    while digits.len() < 3 {
                        digits.push('0');
                    }
                    digits.parse::<i64>().ok()?
                }
            };
            (ss, ms)
        }
    };
    if parts.next().is_some() {
        return None;
    }
    let ms = ((hh * 60 + mm) * 60 + ss) * 1000 + frac_ms;
    Some(Timestamp(day.start().millis() + ms - offset_ms))
}

/// The stored form of a literal compared with a day or timestamp column.
pub(crate) fn normalize(sem: Sem, s: &str) -> Result<String> {
    match sem {
        Sem::Plain => Ok(s.to_string()),
        Sem::Day => parse_day(s).map(|d| d.to_string()).ok_or_else(|| {
            SqlError::Type(
                "a day column is compared with text that is not a day (YYYY-MM-DD)".into(),
            )
        }),
        Sem::Ts => parse_ts(s).map(|t| t.to_string()).ok_or_else(|| {
            SqlError::Type(
                "a timestamp column is compared with text that is not a timestamp \
                 (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.mmm]][Z|±HH:MM])"
                    .into(),
            )
        }),
    }
}

/// A half-open range of milliseconds `[from, to)`; `None` is unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Bounds {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Bounds {
    /// No constraint.
    pub(crate) const ALL: Bounds = Bounds {
        from: None,
        to: None,
    };

    /// Nothing at all.
    const NONE: Bounds = Bounds {
        from: Some(0),
        to: Some(0),
    };

    /// Whether no moment is inside.
    pub(crate) fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(f), Some(t)) if f >= t)
    }

    /// Both conditions.
    pub(crate) fn and(self, o: Bounds) -> Bounds {
        let max = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, None) => x,
            (None, y) => y,
        };
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, None) => x,
            (None, y) => y,
        };
        Bounds {
            from: max(self.from, o.from),
            to: min(self.to, o.to),
        }
    }

    /// Either condition (the smallest range holding both).
    pub(crate) fn or(self, o: Bounds) -> Bounds {
        if self.is_empty() {
            return o;
        }
        if o.is_empty() {
            return self;
        }
        Bounds {
            from: self.from.zip(o.from).map(|(a, b)| a.min(b)),
            to: self.to.zip(o.to).map(|(a, b)| a.max(b)),
        }
    }

    /// The range widened by `days` whole days on each side.
    pub(crate) fn widen(self, days: i64) -> Bounds {
        Bounds {
            from: self.from.map(|f| f.saturating_sub(days * MS_PER_DAY)),
            to: self.to.map(|t| t.saturating_add(days * MS_PER_DAY)),
        }
    }

    /// The engine's time range.
    pub(crate) fn time_range(&self) -> TimeRange {
        TimeRange::new(
            Timestamp(self.from.unwrap_or(i64::MIN)),
            Timestamp(self.to.unwrap_or(i64::MAX)),
        )
    }

    /// The first and last day touched, when bounded on that side.
    pub(crate) fn days(&self) -> (Option<Day>, Option<Day>) {
        (
            self.from.map(|f| Timestamp(f).day()),
            self.to.map(|t| Timestamp(t.saturating_sub(1)).day()),
        )
    }
}

/// A human-readable label of a day range.
pub(crate) fn label(days: &DayRange) -> String {
    if days.first == days.last {
        days.first.to_string()
    } else {
        format!("{}..{}", days.first, days.last)
    }
}

/// The milliseconds at which a range column equals the literal `s`.
fn equal_span(sem: Sem, s: &str) -> Option<(i64, i64)> {
    match sem {
        Sem::Day => parse_day(s).map(|d| (d.start().millis(), d.end().millis())),
        Sem::Ts => parse_ts(s).map(|t| (t.millis(), t.millis().saturating_add(1))),
        Sem::Plain => None,
    }
}

fn cmp_bounds(t: &TableDef, col: usize, op: CmpOp, s: &str) -> Bounds {
    let Some(c) = t.cols.get(col).filter(|c| c.range) else {
        return Bounds::ALL;
    };
    let Some((lo, hi)) = equal_span(c.sem, s) else {
        return Bounds::ALL;
    };
    match op {
        CmpOp::Eq => Bounds {
            from: Some(lo),
            to: Some(hi),
        },
        CmpOp::Lt => Bounds {
            from: None,
            to: Some(lo),
        },
        CmpOp::Le => Bounds {
            from: None,
            to: Some(hi),
        },
        CmpOp::Gt => Bounds {
            from: Some(hi),
            to: None,
        },
        CmpOp::Ge => Bounds {
            from: Some(lo),
            to: None,
        },
        CmpOp::Ne => Bounds::ALL,
    }
}

/// Whether an expression is a range predicate this module understands
/// (a comparison, `BETWEEN` or `IN` of a range column with literals).
pub(crate) fn is_range_predicate(e: &Expr, t: &TableDef) -> bool {
    let is_range_col =
        |e: &Expr| matches!(e, Expr::Col(i) if t.cols.get(*i).is_some_and(|c| c.range));
    let is_text = |e: &Expr| matches!(e, Expr::Lit(Value::Text(_)));
    match e {
        Expr::Cmp(op, a, b) => {
            *op != CmpOp::Ne && ((is_range_col(a) && is_text(b)) || (is_text(a) && is_range_col(b)))
        }
        Expr::Between(a, lo, hi, false) => is_range_col(a) && is_text(lo) && is_text(hi),
        _ => false,
    }
}

/// The moments a row must fall in for `e` to hold: a sound over-estimate
/// (every row passing `e` is inside; rows inside may still fail `e`).
pub(crate) fn extract(e: &Expr, t: &TableDef) -> Bounds {
    match e {
        Expr::And(a, b) => extract(a, t).and(extract(b, t)),
        Expr::Or(a, b) => extract(a, t).or(extract(b, t)),
        Expr::Cmp(op, a, b) => match (&**a, &**b) {
            (Expr::Col(i), Expr::Lit(Value::Text(s))) => cmp_bounds(t, *i, *op, s),
            (Expr::Lit(Value::Text(s)), Expr::Col(i)) => cmp_bounds(t, *i, op.flip(), s),
            _ => Bounds::ALL,
        },
        Expr::Between(a, lo, hi, false) => match (&**a, &**lo, &**hi) {
            (Expr::Col(i), Expr::Lit(Value::Text(l)), Expr::Lit(Value::Text(h))) => {
                cmp_bounds(t, *i, CmpOp::Ge, l).and(cmp_bounds(t, *i, CmpOp::Le, h))
            }
            _ => Bounds::ALL,
        },
        Expr::In(a, list, false) => match &**a {
            Expr::Col(i) if t.cols.get(*i).is_some_and(|c| c.range) => {
                let mut b = Bounds::NONE;
                for x in list {
                    match x {
                        Expr::Lit(Value::Text(s)) => b = b.or(cmp_bounds(t, *i, CmpOp::Eq, s)),
                        Expr::Lit(Value::Null) => {}
                        _ => return Bounds::ALL,
                    }
                }
                b
            }
            _ => Bounds::ALL,
        },
        _ => Bounds::ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_in_several_forms() {
        let t = Timestamp::from_ymd_hms(2026, 3, 2, 13, 5, 9);
        assert_eq!(parse_ts("2026-03-02T13:05:09Z"), Some(t));
        assert_eq!(parse_ts("2026-03-02 13:05:09"), Some(t));
        assert_eq!(parse_ts("2026-03-02T13:05:09.000Z"), Some(t));
        assert_eq!(parse_ts("2026-03-02T13:05:09.5"), Some(t.plus_millis(500)));
        assert_eq!(parse_ts("2026-03-02T14:05:09+01:00"), Some(t));
        assert_eq!(parse_ts("2026-03-02T13:05"), Some(t.plus_millis(-9000)));
        assert_eq!(
            parse_ts("2026-03-02"),
            Some(Timestamp::from_ymd_hms(2026, 3, 2, 0, 0, 0))
        );
        for bad in [
            "2026-03-0",
            "2026-03-02T",
            "2026-03-02T25:00",
            "2026-02-30",
            "x",
            "2026-03-02T1:2",
        ] {
            assert_eq!(parse_ts(bad), None, "{bad}");
        }
    }

    #[test]
    fn bounds_combine() {
        let a = Bounds {
            from: Some(10),
            to: Some(20),
        };
        let b = Bounds {
            from: Some(15),
            to: Some(30),
        };
        assert_eq!(
            a.and(b),
            Bounds {
                from: Some(15),
                to: Some(20)
            }
        );
        assert_eq!(
            a.or(b),
            Bounds {
                from: Some(10),
                to: Some(30)
            }
        );
        assert_eq!(a.or(Bounds::ALL), Bounds::ALL);
        assert!(
            a.and(Bounds {
                from: Some(20),
                to: None
            })
            .is_empty()
        );
        assert_eq!(Bounds::NONE.or(a), a);
    }
}
