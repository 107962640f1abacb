//! Aggregate accumulators: `COUNT`, `SUM`, `AVG`, `MIN`, `MAX`, each
//! optionally `DISTINCT`. They are updated row by row as the scan streams,
//! so a grouped query holds one state per group, never the rows.

use crate::compile::{AggFunc, AggSpec};
use crate::error::{Result, SqlError};
use crate::expr::Ctx;
use crate::value::{ColumnType, Key, Value, cmp_values};
use std::cmp::Ordering;
use std::collections::HashSet;

#[derive(Debug)]
enum State {
    Count(i64),
    SumInt(Option<i64>),
    SumFloat(Option<f64>),
    Avg { ints: i128, floats: f64, n: i64 },
    Min(Option<Value>),
    Max(Option<Value>),
}

/// The running state of one aggregate in one group.
#[derive(Debug)]
pub(crate) struct Acc {
    state: State,
    /// Values already counted, for `DISTINCT`.
    seen: Option<HashSet<Key>>,
}

impl Acc {
    /// A fresh accumulator for `spec`.
    pub(crate) fn new(spec: &AggSpec) -> Acc {
        let state = match spec.func {
            AggFunc::CountStar | AggFunc::Count => State::Count(0),
            AggFunc::Sum if spec.arg_ty == ColumnType::Float => State::SumFloat(None),
            AggFunc::Sum => State::SumInt(None),
            AggFunc::Avg => State::Avg {
                ints: 0,
                floats: 0.0,
                n: 0,
            },
            AggFunc::Min => State::Min(None),
            AggFunc::Max => State::Max(None),
        };
        Acc {
            state,
            seen: spec.distinct.then(HashSet::new),
        }
    }

    /// Adds one input row. `held` counts values kept in memory (the
    /// `DISTINCT` sets).
    pub(crate) fn update(&mut self, spec: &AggSpec, cx: &Ctx<'_>, held: &mut usize) -> Result<()> {
        let v = match &spec.arg {
            None => {
                if let State::Count(n) = &mut self.state {
                    *n += 1;
                }
                return Ok(());
            }
            Some(e) => e.eval(cx)?,
        };
        if v.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen {
            if seen.contains(&Key(v.clone())) {
                return Ok(());
            }
            seen.insert(Key(v.clone()));
            *held += 1;
        }
        match &mut self.state {
            State::Count(n) => *n += 1,
            State::SumInt(s) => {
                if let Value::Int(i) = v {
                    *s = Some(s.unwrap_or(0).checked_add(i).ok_or(SqlError::Overflow)?);
                }
            }
            State::SumFloat(s) => {
                if let Some(f) = v.as_f64() {
                    *s = Some(s.unwrap_or(0.0) + f);
                }
            }
            State::Avg { ints, floats, n } => {
                match v {
                    Value::Int(i) => *ints += i128::from(i),
                    Value::Float(f) => *floats += f,
                    _ => return Ok(()),
                }
                *n += 1;
            }
            State::Min(m) => {
                if m.as_ref()
                    .is_none_or(|cur| cmp_values(&v, cur) == Ordering::Less)
                {
                    *m = Some(v);
                }
            }
            State::Max(m) => {
                if m.as_ref()
                    .is_none_or(|cur| cmp_values(&v, cur) == Ordering::Greater)
                {
                    *m = Some(v);
                }
            }
        }
        Ok(())
    }

    /// The aggregate's value.
    pub(crate) fn finish(&self) -> Value {
        match &self.state {
            State::Count(n) => Value::Int(*n),
            State::SumInt(s) => s.map_or(Value::Null, Value::Int),
            State::SumFloat(s) => s.map_or(Value::Null, Value::Float),
            State::Avg { ints, floats, n } => {
                if *n == 0 {
                    Value::Null
                } else {
                    Value::Float((*ints as f64 + floats) / *n as f64)
                }
            }
            State::Min(m) | State::Max(m) => m.clone().unwrap_or(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;

    fn spec(func: AggFunc, distinct: bool, ty: ColumnType) -> AggSpec {
        AggSpec {
            func,
            arg: Some(Expr::Col(0)),
            distinct,
            arg_ty: ty,
        }
    }

    fn run(s: &AggSpec, values: &[Value]) -> Value {
        let mut acc = Acc::new(s);
        let mut held = 0;
        for v in values {
            let row = [v.clone()];
            let r = acc.update(s, &Ctx::row(&row), &mut held);
            assert!(r.is_ok());
        }
        acc.finish()
    }

    #[test]
    fn aggregates_skip_nulls() {
        let vals = [Value::Int(3), Value::Null, Value::Int(1), Value::Int(3)];
        assert_eq!(
            run(&spec(AggFunc::Count, false, ColumnType::Int), &vals),
            Value::Int(3)
        );
        assert_eq!(
            run(&spec(AggFunc::Count, true, ColumnType::Int), &vals),
            Value::Int(2)
        );
        assert_eq!(
            run(&spec(AggFunc::Sum, false, ColumnType::Int), &vals),
            Value::Int(7)
        );
        assert_eq!(
            run(&spec(AggFunc::Sum, true, ColumnType::Int), &vals),
            Value::Int(4)
        );
        assert_eq!(
            run(&spec(AggFunc::Avg, false, ColumnType::Int), &vals),
            Value::Float(7.0 / 3.0)
        );
        assert_eq!(
            run(&spec(AggFunc::Min, false, ColumnType::Int), &vals),
            Value::Int(1)
        );
        assert_eq!(
            run(&spec(AggFunc::Max, false, ColumnType::Int), &vals),
            Value::Int(3)
        );
        assert_eq!(
            run(&spec(AggFunc::Sum, false, ColumnType::Int), &[]),
            Value::Null
        );
        assert_eq!(
            run(&spec(AggFunc::Count, false, ColumnType::Int), &[]),
            Value::Int(0)
        );
    }

    #[test]
    fn integer_sum_overflow_is_an_error() {
        let s = spec(AggFunc::Sum, false, ColumnType::Int);
        let mut acc = Acc::new(&s);
        let mut held = 0;
        let row = [Value::Int(i64::MAX)];
        assert!(acc.update(&s, &Ctx::row(&row), &mut held).is_ok());
        assert!(matches!(
            acc.update(&s, &Ctx::row(&row), &mut held),
            Err(SqlError::Overflow)
        ));
    }
}
