//! Compiled expressions and their evaluation.
//!
//! Expressions are type-checked when compiled, so evaluation only meets
//! the types it expects (or `NULL`). Arithmetic on integers is checked: an
//! overflow is an error, and a division or modulo by zero is
//! [`SqlError::DivisionByZero`] (use `NULLIF(divisor, 0)` for `NULL`).

use crate::error::{Result, SqlError};
use crate::value::{ColumnType, Value, cmp_values, sql_cmp};
use std::cmp::Ordering;

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub(crate) fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

/// Scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Lower,
    Upper,
    Length,
    Abs,
    Round,
    Coalesce,
    Nullif,
    Substr,
}

/// A compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A column of the input row.
    Col(usize),
    /// A constant.
    Lit(Value),
    /// A `GROUP BY` key of the current group.
    Group(usize),
    /// An aggregate of the current group.
    Agg(usize),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    /// `IS [NOT] NULL` (the flag is `NOT`).
    IsNull(Box<Expr>, bool),
    /// `IS [NOT] TRUE|FALSE`: the value tested for, then `NOT`.
    IsBool(Box<Expr>, bool, bool),
    /// `[NOT] IN (list)`.
    In(Box<Expr>, Vec<Expr>, bool),
    /// `[NOT] BETWEEN low AND high`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        negated: bool,
        case_insensitive: bool,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast(Box<Expr>, ColumnType),
    Func(Func, Vec<Expr>),
}

/// What an expression is evaluated against: a table row, or a group's keys
/// and aggregates.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub row: &'a [Value],
    pub groups: &'a [Value],
    pub aggs: &'a [Value],
}

impl<'a> Ctx<'a> {
    /// The context of one input row.
    pub(crate) fn row(row: &'a [Value]) -> Self {
        Ctx {
            row,
            groups: &[],
            aggs: &[],
        }
    }
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Expr {
    pub(crate) fn bx(self) -> Box<Expr> {
        boxed(self)
    }

    /// Calls `f` with every sub-expression, this one included.
    pub(crate) fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Col(_) | Expr::Lit(_) | Expr::Group(_) | Expr::Agg(_) => {}
            Expr::Neg(a) | Expr::Not(a) | Expr::IsNull(a, _) | Expr::IsBool(a, _, _) => a.walk(f),
            Expr::Cast(a, _) => a.walk(f),
            Expr::Arith(_, a, b)
            | Expr::Cmp(_, a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Concat(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::In(a, list, _) => {
                a.walk(f);
                for x in list {
                    x.walk(f);
                }
            }
            Expr::Between(a, b, c, _) => {
                a.walk(f);
                b.walk(f);
                c.walk(f);
            }
            Expr::Like { expr, pattern, .. } => {
                expr.walk(f);
                pattern.walk(f);
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.walk(f);
                }
                for (w, t) in whens {
                    w.walk(f);
                    t.walk(f);
                }
                if let Some(o) = otherwise {
                    o.walk(f);
                }
            }
            Expr::Func(_, args) => {
                for a in args {
                    a.walk(f);
                }
            }
        }
    }

    /// Whether the expression reads a column of the input row.
    pub(crate) fn has_columns(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Col(_)));
        found
    }

    /// Marks the input columns the expression reads.
    pub(crate) fn mark_columns(&self, needed: &mut [bool]) {
        self.walk(&mut |e| {
            if let Expr::Col(i) = e
                && let Some(n) = needed.get_mut(*i)
            {
                *n = true;
            }
        });
    }

    /// Evaluates the expression.
    pub(crate) fn eval(&self, cx: &Ctx<'_>) -> Result<Value> {
        Ok(match self {
            Expr::Col(i) => cx.row.get(*i).cloned().unwrap_or(Value::Null),
            Expr::Lit(v) => v.clone(),
            Expr::Group(i) => cx.groups.get(*i).cloned().unwrap_or(Value::Null),
            Expr::Agg(i) => cx.aggs.get(*i).cloned().unwrap_or(Value::Null),
            Expr::Neg(a) => match a.eval(cx)? {
                Value::Int(i) => Value::Int(i.checked_neg().ok_or(SqlError::Overflow)?),
                Value::Float(f) => Value::Float(-f),
                _ => Value::Null,
            },
            Expr::Not(a) => match a.eval(cx)? {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            },
            Expr::Arith(op, a, b) => arith(*op, &a.eval(cx)?, &b.eval(cx)?)?,
            Expr::Cmp(op, a, b) => match sql_cmp(&a.eval(cx)?, &b.eval(cx)?) {
                Some(o) => Value::Bool(op.holds(o)),
                None => Value::Null,
            },
            Expr::And(a, b) => {
                let l = a.eval(cx)?;
                if l == Value::Bool(false) {
                    return Ok(l);
                }
                match (l, b.eval(cx)?) {
                    (_, Value::Bool(false)) => Value::Bool(false),
                    (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            Expr::Or(a, b) => {
                let l = a.eval(cx)?;
                if l == Value::Bool(true) {
                    return Ok(l);
                }
                match (l, b.eval(cx)?) {
                    (_, Value::Bool(true)) => Value::Bool(true),
                    (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            Expr::Concat(a, b) => match (a.eval(cx)?, b.eval(cx)?) {
                (Value::Null, _) | (_, Value::Null) => Value::Null,
                (x, y) => Value::Text(format!("{x}{y}")),
            },
            Expr::IsNull(a, negated) => Value::Bool(a.eval(cx)?.is_null() != *negated),
            Expr::IsBool(a, want, negated) => {
                Value::Bool((a.eval(cx)? == Value::Bool(*want)) != *negated)
            }
            Expr::In(a, list, negated) => {
                let v = a.eval(cx)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                let mut saw_null = false;
                let mut found = false;
                for x in list {
                    match sql_cmp(&v, &x.eval(cx)?) {
                        Some(Ordering::Equal) => {
                            found = true;
                            break;
                        }
                        None => saw_null = true,
                        Some(_) => {}
                    }
                }
                if found {
                    Value::Bool(!negated)
                } else if saw_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                }
            }
            Expr::Between(a, lo, hi, negated) => {
                let v = a.eval(cx)?;
                let ge = sql_cmp(&v, &lo.eval(cx)?).map(|o| o != Ordering::Less);
                let le = sql_cmp(&v, &hi.eval(cx)?).map(|o| o != Ordering::Greater);
                let inside = match (ge, le) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                match inside {
                    Some(b) => Value::Bool(b != *negated),
                    None => Value::Null,
                }
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
            } => match (expr.eval(cx)?, pattern.eval(cx)?) {
                (Value::Text(s), Value::Text(p)) => {
                    Value::Bool(like(&s, &p, *escape, *case_insensitive) != *negated)
                }
                _ => Value::Null,
            },
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                let subject = match operand {
                    Some(o) => Some(o.eval(cx)?),
                    None => None,
                };
                for (w, then) in whens {
                    let hit = match &subject {
                        Some(s) => sql_cmp(s, &w.eval(cx)?) == Some(Ordering::Equal),
                        None => w.eval(cx)? == Value::Bool(true),
                    };
                    if hit {
                        return then.eval(cx);
                    }
                }
                match otherwise {
                    Some(o) => o.eval(cx)?,
                    None => Value::Null,
                }
            }
            Expr::Cast(a, ty) => cast(a.eval(cx)?, *ty)?,
            Expr::Func(f, args) => func(*f, args, cx)?,
        })
    }
}

fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            if matches!(op, ArithOp::Div | ArithOp::Mod) && y == 0 {
                return Err(SqlError::DivisionByZero);
            }
            let r = match op {
                ArithOp::Add => x.checked_add(y),
                ArithOp::Sub => x.checked_sub(y),
                ArithOp::Mul => x.checked_mul(y),
                ArithOp::Div => x.checked_div(y),
                ArithOp::Mod => x.checked_rem(y),
            };
            Value::Int(r.ok_or(SqlError::Overflow)?)
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => {
                if matches!(op, ArithOp::Div | ArithOp::Mod) && y == 0.0 {
                    return Err(SqlError::DivisionByZero);
                }
                Value::Float(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                    ArithOp::Mod => x % y,
                })
            }
            _ => Value::Null,
        },
    })
}

/// Converts a value to a type (`CAST`). Text that is not a number gives a
/// type error that does not repeat the text.
pub(crate) fn cast(v: Value, ty: ColumnType) -> Result<Value> {
    Ok(match (v, ty) {
        (Value::Null, _) | (_, ColumnType::Null) => Value::Null,
        (Value::Int(i), ColumnType::Int) => Value::Int(i),
        (Value::Float(f), ColumnType::Int) => Value::Int(float_to_int(f)?),
        (Value::Bool(b), ColumnType::Int) => Value::Int(i64::from(b)),
        (Value::Text(s), ColumnType::Int) => {
            let t = s.trim();
            match t.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Int(float_to_int(t.parse::<f64>().map_err(|_| {
                    SqlError::Type("CAST to INT: a text value is not a number".into())
                })?)?),
            }
        }
        (Value::Int(i), ColumnType::Float) => Value::Float(i as f64),
        (Value::Float(f), ColumnType::Float) => Value::Float(f),
        (Value::Bool(b), ColumnType::Float) => Value::Float(if b { 1.0 } else { 0.0 }),
        (Value::Text(s), ColumnType::Float) => {
            Value::Float(s.trim().parse::<f64>().map_err(|_| {
                SqlError::Type("CAST to FLOAT: a text value is not a number".into())
            })?)
        }
        (Value::Text(s), ColumnType::Text) => Value::Text(s),
        (v, ColumnType::Text) => Value::Text(v.to_string()),
        (Value::Bool(b), ColumnType::Bool) => Value::Bool(b),
        (Value::Int(i), ColumnType::Bool) => Value::Bool(i != 0),
        (Value::Float(f), ColumnType::Bool) => Value::Bool(f != 0.0),
        (Value::Text(s), ColumnType::Bool) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" => Value::Bool(true),
            "false" | "f" | "0" | "no" => Value::Bool(false),
            _ => {
                return Err(SqlError::Type(
                    "CAST to BOOL: a text value is not a boolean".into(),
                ));
            }
        },
    })
}

fn float_to_int(f: f64) -> Result<i64> {
    let t = f.trunc();
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
        Ok(t as i64)
    } else {
        Err(SqlError::Overflow)
    }
}

fn func(f: Func, args: &[Expr], cx: &Ctx<'_>) -> Result<Value> {
    let mut vals = Vec::with_capacity(args.len());
    if f == Func::Coalesce {
        for a in args {
            let v = a.eval(cx)?;
            if !v.is_null() {
                return Ok(v);
            }
        }
        return Ok(Value::Null);
    }
    for a in args {
        vals.push(a.eval(cx)?);
    }
    let arg = |i: usize| vals.get(i).cloned().unwrap_or(Value::Null);
    Ok(match (f, arg(0)) {
        (Func::Nullif, a) => match sql_cmp(&a, &arg(1)) {
            Some(Ordering::Equal) => Value::Null,
            _ => a,
        },
        (_, Value::Null) => Value::Null,
        (Func::Lower, Value::Text(s)) => Value::Text(s.to_lowercase()),
        (Func::Upper, Value::Text(s)) => Value::Text(s.to_uppercase()),
        (Func::Length, Value::Text(s)) => {
            Value::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX))
        }
        (Func::Abs, Value::Int(i)) => Value::Int(i.checked_abs().ok_or(SqlError::Overflow)?),
        (Func::Abs, Value::Float(x)) => Value::Float(x.abs()),
        (Func::Round, v) => {
            let digits = match arg(1) {
                Value::Int(d) => d.clamp(-18, 18) as i32,
                Value::Null if vals.len() > 1 => return Ok(Value::Null),
                _ => 0,
            };
            round(v, digits)?
        }
        (Func::Substr, Value::Text(s)) => {
            let start = match arg(1) {
                Value::Int(i) => i,
                _ => return Ok(Value::Null),
            };
            let end = match (vals.len() > 2, arg(2)) {
                (false, _) => i64::MAX,
                (true, Value::Int(n)) if n < 0 => {
                    return Err(SqlError::Invalid("negative substring length".into()));
                }
                (true, Value::Int(n)) => start.saturating_add(n),
                (true, _) => return Ok(Value::Null),
            };
            Value::Text(
                s.chars()
                    .zip(1i64..)
                    .filter(|(_, p)| *p >= start && *p < end)
                    .map(|(c, _)| c)
                    .collect(),
            )
        }
        _ => Value::Null,
    })
}

fn round(v: Value, digits: i32) -> Result<Value> {
    Ok(match v {
        Value::Int(i) if digits >= 0 => Value::Int(i),
        Value::Int(i) => {
            let p = 10f64.powi(-digits);
            Value::Int(float_to_int((i as f64 / p).round() * p)?)
        }
        Value::Float(x) => {
            let p = 10f64.powi(digits);
            let r = (x * p).round() / p;
            Value::Float(if r.is_finite() { r } else { x })
        }
        other => other,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pat {
    Lit(char),
    One,
    Many,
}

/// SQL `LIKE`: `%` matches any run of characters, `_` exactly one; the
/// escape character makes the next one literal.
pub(crate) fn like(text: &str, pattern: &str, escape: Option<char>, ci: bool) -> bool {
    let fold = |c: char| {
        if ci {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        }
    };
    let mut pat = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            pat.push(Pat::Lit(fold(chars.next().unwrap_or(c))));
        } else if c == '%' {
            if pat.last() != Some(&Pat::Many) {
                pat.push(Pat::Many);
            }
        } else if c == '_' {
            pat.push(Pat::One);
        } else {
            pat.push(Pat::Lit(fold(c)));
        }
    }
    let text: Vec<char> = text.chars().map(fold).collect();
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pat.get(p), text.get(t)) {
            (Some(Pat::One), _) => {
                t += 1;
                p += 1;
            }
            (Some(Pat::Lit(a)), Some(b)) if a == b => {
                t += 1;
                p += 1;
            }
            (Some(Pat::Many), _) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while pat.get(p) == Some(&Pat::Many) {
        p += 1;
    }
    p == pat.len()
}

/// Orders two sort keys, honouring direction and where `NULL`s go.
pub(crate) fn cmp_sort(a: &Value, b: &Value, desc: bool, nulls_first: bool) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (false, true) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (false, false) => {
            let o = cmp_values(a, b);
            if desc { o.reverse() } else { o }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("/blog/post", "/blog/%", None, false));
        assert!(like("abc", "a_c", None, false));
        assert!(!like("abc", "a_", None, false));
        assert!(like("ABC", "a%", None, true));
        assert!(!like("ABC", "a%", None, false));
        assert!(like("50%", "50!%", Some('!'), false));
        assert!(!like("500", "50!%", Some('!'), false));
        assert!(like("", "%", None, false));
        assert!(like("aaab", "%a%b", None, false));
        assert!(!like("aaac", "%a%b", None, false));
    }

    #[test]
    fn arithmetic_is_checked() {
        assert!(matches!(
            arith(ArithOp::Div, &Value::Int(1), &Value::Int(0)),
            Err(SqlError::DivisionByZero)
        ));
        assert!(matches!(
            arith(ArithOp::Div, &Value::Float(1.0), &Value::Int(0)),
            Err(SqlError::DivisionByZero)
        ));
        assert!(matches!(
            arith(ArithOp::Add, &Value::Int(i64::MAX), &Value::Int(1)),
            Err(SqlError::Overflow)
        ));
        assert!(matches!(
            arith(ArithOp::Div, &Value::Int(i64::MIN), &Value::Int(-1)),
            Err(SqlError::Overflow)
        ));
        assert_eq!(
            arith(ArithOp::Div, &Value::Int(7), &Value::Int(2)).ok(),
            Some(Value::Int(3))
        );
        assert_eq!(
            arith(ArithOp::Add, &Value::Null, &Value::Int(2)).ok(),
            Some(Value::Null)
        );
    }

    #[test]
    fn casts() {
        assert_eq!(
            cast(Value::Text(" 42 ".into()), ColumnType::Int).ok(),
            Some(Value::Int(42))
        );
        assert_eq!(
            cast(Value::Float(2.9), ColumnType::Int).ok(),
            Some(Value::Int(2))
        );
        assert!(cast(Value::Text("x".into()), ColumnType::Int).is_err());
        assert!(cast(Value::Float(1e300), ColumnType::Int).is_err());
        assert_eq!(
            cast(Value::Int(3), ColumnType::Text).ok(),
            Some(Value::Text("3".into()))
        );
    }
}
