//! From sqlparser's expressions to typed [`Expr`]s: name resolution, type
//! checking, literal normalisation and aggregate extraction.
//!
//! Nothing here formats an unchecked expression (formatting recurses), and
//! every step checks the nesting depth, so no input can overflow the stack.

use crate::error::{Result, SqlError};
use crate::expr::{ArithOp, CmpOp, Expr};
use crate::range::{normalize, parse_day, parse_ts};
use crate::tables::{Sem, TableDef, is_ip_name};
use crate::value::{ColumnType, Value};

mod functions;
use sqlparser::ast::{
    self, BinaryOperator as B, CastKind, Expr as A, Ident, InTarget, UnaryOperator as U,
    Value as AV,
};

/// Deepest expression nesting accepted.
pub(crate) const MAX_DEPTH: usize = 96;

/// The scalar functions, for error messages.
const FUNCTIONS: &str = "count, sum, avg, min, max, lower, upper, length, abs, round, \
                         coalesce, ifnull, nullif, substr, substring";

/// A compiled expression with its static type.
#[derive(Clone, Debug)]
pub(crate) struct Typed {
    pub e: Expr,
    pub ty: ColumnType,
    pub sem: Sem,
}

fn typed(e: Expr, ty: ColumnType) -> Typed {
    Typed {
        e,
        ty,
        sem: Sem::Plain,
    }
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggFunc {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// One aggregate of a grouped query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AggSpec {
    pub func: AggFunc,
    /// The argument, evaluated per input row (`None` for `COUNT(*)`).
    pub arg: Option<Expr>,
    pub distinct: bool,
    pub arg_ty: ColumnType,
}

/// The table a query reads, and the name it may be qualified with.
pub(crate) struct Scope {
    pub table: Option<&'static TableDef>,
    pub alias: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Per input row; the clause name is for error messages.
    Row(&'static str),
    /// Per group: columns must be grouped or inside aggregates.
    Agg,
}

/// Compiles the expressions of one query.
pub(crate) struct Compiler<'s> {
    scope: &'s Scope,
    mode: Mode,
    /// `GROUP BY` keys (row expressions).
    pub groups: Vec<Expr>,
    /// Aggregates met so far.
    pub aggs: Vec<AggSpec>,
    allow_pseudo: bool,
    probing: bool,
    agg_seen: bool,
    /// The groups are the select list of a `SELECT DISTINCT`.
    pub distinct_groups: bool,
}

fn unsupported<T>(what: &str) -> Result<T> {
    Err(SqlError::Unsupported(what.to_string()))
}

fn type_err<T>(msg: String) -> Result<T> {
    Err(SqlError::Type(msg))
}

/// The type of arithmetic on two numeric types, `None` if either is not.
fn numeric(a: ColumnType, b: ColumnType) -> Option<ColumnType> {
    use ColumnType::{Float, Int, Null};
    if !a.is_numeric() || !b.is_numeric() {
        return None;
    }
    Some(if a == Float || b == Float {
        Float
    } else if a == Int || b == Int {
        Int
    } else {
        Null
    })
}

fn comparable(a: ColumnType, b: ColumnType) -> bool {
    a == ColumnType::Null || b == ColumnType::Null || numeric(a, b).is_some() || a == b
}

/// The common type of alternatives (`CASE`, `COALESCE`).
fn unify(types: &[ColumnType]) -> Option<ColumnType> {
    let mut out = ColumnType::Null;
    for &t in types {
        out = match (out, t) {
            (ColumnType::Null, t) | (t, ColumnType::Null) => t,
            (a, b) if a == b => a,
            (a, b) => numeric(a, b)?,
        };
    }
    Some(out)
}

/// Makes an alternative of type `ty` (integers become floats where needed).
fn coerce(t: Typed, ty: ColumnType) -> Expr {
    if ty == ColumnType::Float && t.ty == ColumnType::Int {
        Expr::Cast(t.e.bx(), ColumnType::Float)
    } else {
        t.e
    }
}

fn need_bool(t: &Typed, what: &str) -> Result<()> {
    match t.ty {
        ColumnType::Bool | ColumnType::Null => Ok(()),
        other => type_err(format!("{what} needs a boolean, not {other}")),
    }
}

fn need_text(t: &Typed, what: &str) -> Result<()> {
    match t.ty {
        ColumnType::Text | ColumnType::Null => Ok(()),
        other => type_err(format!("{what} needs text, not {other}")),
    }
}

fn need_int(t: &Typed, what: &str) -> Result<()> {
    match t.ty {
        ColumnType::Int | ColumnType::Null => Ok(()),
        other => type_err(format!("{what} needs an integer, not {other}")),
    }
}

/// Normalises a text literal compared with a day or timestamp column.
fn normalize_pair(a: &Typed, b: &mut Typed) -> Result<()> {
    if a.sem != Sem::Plain
        && let Expr::Lit(Value::Text(s)) = &b.e
    {
        b.e = Expr::Lit(Value::Text(normalize(a.sem, s)?));
    }
    Ok(())
}

fn literal(v: &AV) -> Result<Typed> {
    Ok(match v {
        AV::Number(s, _) => match s.parse::<i64>() {
            Ok(i) => typed(Expr::Lit(Value::Int(i)), ColumnType::Int),
            Err(_) => match s.parse::<f64>() {
                Ok(f) => typed(Expr::Lit(Value::Float(f)), ColumnType::Float),
                Err(_) => return Err(SqlError::Invalid("a number literal is malformed".into())),
            },
        },
        AV::SingleQuotedString(s)
        | AV::DoubleQuotedString(s)
        | AV::EscapedStringLiteral(s)
        | AV::NationalStringLiteral(s) => {
            typed(Expr::Lit(Value::Text(s.clone())), ColumnType::Text)
        }
        AV::Boolean(b) => typed(Expr::Lit(Value::Bool(*b)), ColumnType::Bool),
        AV::Null => typed(Expr::Lit(Value::Null), ColumnType::Null),
        AV::Placeholder(_) => return unsupported("query parameters"),
        _ => return unsupported("this kind of literal"),
    })
}

/// The type a `CAST` names.
fn cast_type(dt: &ast::DataType) -> Result<ColumnType> {
    let name = dt.to_string().to_ascii_uppercase();
    let base = name.split('(').next().unwrap_or("").trim();
    Ok(match base {
        "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "INT2" | "INT4" | "INT8"
        | "INT64" | "SIGNED" => ColumnType::Int,
        "FLOAT" | "REAL" | "DOUBLE" | "DOUBLE PRECISION" | "FLOAT4" | "FLOAT8" | "FLOAT64"
        | "NUMERIC" | "DECIMAL" => ColumnType::Float,
        "TEXT" | "VARCHAR" | "CHAR" | "STRING" | "CHARACTER VARYING" | "CHARACTER" => {
            ColumnType::Text
        }
        "BOOL" | "BOOLEAN" => ColumnType::Bool,
        _ => return unsupported("CAST to this type (use INT, FLOAT, TEXT or BOOL)"),
    })
}

enum Arg<'a> {
    Star,
    E(&'a A),
}

impl<'s> Compiler<'s> {
    /// A compiler for a query over `scope`.
    pub(crate) fn new(scope: &'s Scope) -> Self {
        Compiler {
            scope,
            mode: Mode::Row("SELECT"),
            groups: Vec::new(),
            aggs: Vec::new(),
            allow_pseudo: false,
            probing: false,
            agg_seen: false,
            distinct_groups: false,
        }
    }

    /// Compiles a per-row expression of `clause`. Pseudo columns are
    /// accepted only where the caller says (the `WHERE` clause).
    pub(crate) fn row(&mut self, a: &A, clause: &'static str, allow_pseudo: bool) -> Result<Typed> {
        self.mode = Mode::Row(clause);
        self.allow_pseudo = allow_pseudo;
        let r = self.expr(a, 0);
        self.allow_pseudo = false;
        r
    }

    /// Compiles a per-group expression (select list, `HAVING`, `ORDER BY`
    /// of a grouped query).
    pub(crate) fn group(&mut self, a: &A) -> Result<Typed> {
        self.mode = Mode::Agg;
        self.allow_pseudo = false;
        self.expr(a, 0)
    }

    /// Whether an expression contains an aggregate function.
    pub(crate) fn has_aggregate(&mut self, a: &A) -> bool {
        self.mode = Mode::Row("SELECT");
        self.probing = true;
        self.agg_seen = false;
        let _ = self.expr(a, 0);
        self.probing = false;
        std::mem::take(&mut self.agg_seen)
    }

    /// A table column as a select item (from `*`).
    pub(crate) fn column_item(&mut self, i: usize, grouped: bool) -> Result<Typed> {
        let Some(c) = self.scope.table.and_then(|t| t.cols.get(i)) else {
            return Err(SqlError::Invalid("no such column".into()));
        };
        let t = Typed {
            e: Expr::Col(i),
            ty: c.ty,
            sem: c.sem,
        };
        if !grouped {
            return Ok(t);
        }
        match self.groups.iter().position(|g| *g == t.e) {
            Some(j) => Ok(Typed {
                e: Expr::Group(j),
                ..t
            }),
            None => Err(self.not_grouped(c.name)),
        }
    }

    fn not_grouped(&self, name: &str) -> SqlError {
        if self.distinct_groups {
            SqlError::Invalid(format!(
                "with SELECT DISTINCT, ORDER BY may only use the selected columns ({name} is not one)"
            ))
        } else {
            SqlError::Invalid(format!(
                "column {name} must appear in GROUP BY or be used in an aggregate function"
            ))
        }
    }

    fn expr(&mut self, a: &A, depth: usize) -> Result<Typed> {
        if depth > MAX_DEPTH {
            return Err(SqlError::TooDeep { max: MAX_DEPTH });
        }
        if self.mode == Mode::Agg {
            // A sub-expression without aggregates is either a group key, a
            // constant, or made of smaller parts that must be.
            let saved = (self.mode, self.probing, self.agg_seen);
            self.mode = Mode::Row("GROUP BY");
            self.probing = true;
            self.agg_seen = false;
            let r = self.node(a, depth);
            let seen = self.agg_seen;
            (self.mode, self.probing, self.agg_seen) = saved;
            match r {
                Ok(t) => {
                    if let Some(i) = self.groups.iter().position(|g| *g == t.e) {
                        return Ok(Typed {
                            e: Expr::Group(i),
                            ..t
                        });
                    }
                    if !t.e.has_columns() {
                        return Ok(t);
                    }
                }
                Err(_) if seen => {}
                Err(e) => return Err(e),
            }
        }
        self.node(a, depth)
    }

    fn column(&mut self, name: &Ident, qualifier: Option<&Ident>) -> Result<Typed> {
        if is_ip_name(&name.value) {
            return Err(SqlError::NoIpAddress {
                name: name.value.clone(),
            });
        }
        let Some(t) = self.scope.table else {
            return Err(SqlError::UnknownColumn {
                name: name.value.clone(),
                table: "(no FROM clause)".into(),
                available: "none".into(),
            });
        };
        if let Some(q) = qualifier {
            let ok = q.value.eq_ignore_ascii_case(t.name)
                || self
                    .scope
                    .alias
                    .as_deref()
                    .is_some_and(|a| q.value.eq_ignore_ascii_case(a));
            if !ok {
                return Err(SqlError::Invalid(format!(
                    "{} does not name the table of this query ({})",
                    q.value, t.name
                )));
            }
        }
        let Some((i, c)) = t.find(&name.value).and_then(|i| Some((i, t.cols.get(i)?))) else {
            return Err(SqlError::UnknownColumn {
                name: name.value.clone(),
                table: t.name.into(),
                available: t.column_list(),
            });
        };
        if c.pseudo && !self.allow_pseudo {
            return Err(SqlError::Invalid(format!(
                "{}.day is not a column of the rows: it can only restrict the days analysed, \
                 in WHERE (e.g. WHERE day BETWEEN '2026-03-01' AND '2026-03-07')",
                t.name
            )));
        }
        match self.mode {
            Mode::Agg => Err(self.not_grouped(c.name)),
            Mode::Row(_) => Ok(Typed {
                e: Expr::Col(i),
                ty: c.ty,
                sem: c.sem,
            }),
        }
    }

    fn node(&mut self, a: &A, depth: usize) -> Result<Typed> {
        let d = depth + 1;
        match a {
            A::Identifier(id) => self.column(id, None),
            A::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, c] => self.column(c, Some(q)),
                _ => unsupported("names with more than two parts"),
            },
            A::Value(v) => literal(&v.value),
            A::TypedString(ts) => {
                let kind = ts.data_type.to_string().to_ascii_uppercase();
                let text = match &ts.value.value {
                    AV::SingleQuotedString(s) => s.as_str(),
                    _ => return unsupported("this typed literal"),
                };
                let v = if kind == "DATE" {
                    parse_day(text).map(|d| d.to_string())
                } else if kind.starts_with("TIMESTAMP") {
                    parse_ts(text).map(|t| t.to_string())
                } else {
                    return unsupported("typed literals other than DATE and TIMESTAMP");
                };
                match v {
                    Some(s) => Ok(typed(Expr::Lit(Value::Text(s)), ColumnType::Text)),
                    None => type_err(format!("malformed {kind} literal")),
                }
            }
            A::Nested(e) => self.expr(e, d),
            A::UnaryOp { op, expr } => {
                let t = self.expr(expr, d)?;
                match op {
                    U::Not => {
                        need_bool(&t, "NOT")?;
                        Ok(typed(Expr::Not(t.e.bx()), ColumnType::Bool))
                    }
                    U::Minus | U::Plus => {
                        if numeric(t.ty, t.ty).is_none() {
                            return type_err(format!("unary {op} needs a number, not {}", t.ty));
                        }
                        if *op == U::Plus {
                            return Ok(t);
                        }
                        let e = match t.e {
                            Expr::Lit(Value::Int(i)) => match i.checked_neg() {
                                Some(n) => Expr::Lit(Value::Int(n)),
                                None => return Err(SqlError::Overflow),
                            },
                            Expr::Lit(Value::Float(f)) => Expr::Lit(Value::Float(-f)),
                            e => Expr::Neg(e.bx()),
                        };
                        Ok(typed(e, t.ty))
                    }
                    _ => unsupported("this unary operator"),
                }
            }
            A::BinaryOp { left, op, right } => self.binary(left, op, right, d),
            A::IsNull(e) | A::IsNotNull(e) => {
                let t = self.expr(e, d)?;
                let neg = matches!(a, A::IsNotNull(_));
                Ok(typed(Expr::IsNull(t.e.bx(), neg), ColumnType::Bool))
            }
            A::IsTrue(e) | A::IsNotTrue(e) | A::IsFalse(e) | A::IsNotFalse(e) => {
                let t = self.expr(e, d)?;
                need_bool(&t, "IS TRUE/FALSE")?;
                let want = matches!(a, A::IsTrue(_) | A::IsNotTrue(_));
                let neg = matches!(a, A::IsNotTrue(_) | A::IsNotFalse(_));
                Ok(typed(Expr::IsBool(t.e.bx(), want, neg), ColumnType::Bool))
            }
            A::In {
                expr,
                target,
                negated,
                ..
            } => {
                let list = match target {
                    InTarget::List(list) => list,
                    InTarget::Subquery(_) => return unsupported("subqueries"),
                    _ => return unsupported("this form of IN"),
                };
                let t = self.expr(expr, d)?;
                let mut items = Vec::with_capacity(list.len());
                for x in list {
                    let mut xt = self.expr(x, d)?;
                    normalize_pair(&t, &mut xt)?;
                    if !comparable(t.ty, xt.ty) {
                        return type_err(format!("IN compares {} with {}", t.ty, xt.ty));
                    }
                    items.push(xt.e);
                }
                Ok(typed(Expr::In(t.e.bx(), items, *negated), ColumnType::Bool))
            }
            A::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let t = self.expr(expr, d)?;
                let mut lo = self.expr(low, d)?;
                let mut hi = self.expr(high, d)?;
                normalize_pair(&t, &mut lo)?;
                normalize_pair(&t, &mut hi)?;
                if !comparable(t.ty, lo.ty) || !comparable(t.ty, hi.ty) {
                    return type_err(format!(
                        "BETWEEN compares {} with {} and {}",
                        t.ty, lo.ty, hi.ty
                    ));
                }
                Ok(typed(
                    Expr::Between(t.e.bx(), lo.e.bx(), hi.e.bx(), *negated),
                    ColumnType::Bool,
                ))
            }
            A::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | A::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return unsupported("LIKE ANY");
                }
                let t = self.expr(expr, d)?;
                let p = self.expr(pattern, d)?;
                need_text(&t, "LIKE")?;
                need_text(&p, "a LIKE pattern")?;
                let escape = match escape_char.as_deref() {
                    None => None,
                    Some(A::Value(v)) => match &v.value {
                        AV::SingleQuotedString(s) if s.chars().count() == 1 => s.chars().next(),
                        _ => {
                            return Err(SqlError::Invalid(
                                "ESCAPE takes a single character".into(),
                            ));
                        }
                    },
                    Some(_) => {
                        return Err(SqlError::Invalid("ESCAPE takes a single character".into()));
                    }
                };
                Ok(typed(
                    Expr::Like {
                        expr: t.e.bx(),
                        pattern: p.e.bx(),
                        escape,
                        negated: *negated,
                        case_insensitive: matches!(a, A::ILike { .. }),
                    },
                    ColumnType::Bool,
                ))
            }
            A::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if !matches!(kind, CastKind::Cast | CastKind::DoubleColon) || format.is_some() {
                    return unsupported("this form of CAST");
                }
                let ty = cast_type(data_type)?;
                let t = self.expr(expr, d)?;
                Ok(typed(Expr::Cast(t.e.bx(), ty), ty))
            }
            A::Function(f) => self.function(f, d),
            A::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref(), d),
            A::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![Arg::E(expr)];
                match substring_from.as_deref() {
                    Some(from) => args.push(Arg::E(from)),
                    None => args.push(Arg::Star),
                }
                if let Some(n) = substring_for.as_deref() {
                    args.push(Arg::E(n));
                }
                if matches!(args.get(1), Some(Arg::Star)) {
                    return unsupported("SUBSTRING without FROM");
                }
                self.scalar("substring", &args, d)
            }
            A::Subquery(_) | A::Exists { .. } => unsupported("subqueries"),
            A::Wildcard(_) | A::QualifiedWildcard(..) => Err(SqlError::Invalid(
                "* is only allowed as a select item or in COUNT(*)".into(),
            )),
            A::Interval(_) => unsupported("INTERVAL"),
            A::Tuple(_) => unsupported("row values (tuples)"),
            _ => unsupported("this kind of expression"),
        }
    }

    fn binary(&mut self, left: &A, op: &B, right: &A, d: usize) -> Result<Typed> {
        let mut l = self.expr(left, d)?;
        let mut r = self.expr(right, d)?;
        let cmp = match op {
            B::Eq => Some(CmpOp::Eq),
            B::NotEq => Some(CmpOp::Ne),
            B::Lt => Some(CmpOp::Lt),
            B::LtEq => Some(CmpOp::Le),
            B::Gt => Some(CmpOp::Gt),
            B::GtEq => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(c) = cmp {
            normalize_pair(&l, &mut r)?;
            normalize_pair(&r, &mut l)?;
            if !comparable(l.ty, r.ty) {
                return type_err(format!("cannot compare {} with {}", l.ty, r.ty));
            }
            return Ok(typed(Expr::Cmp(c, l.e.bx(), r.e.bx()), ColumnType::Bool));
        }
        let arith = match op {
            B::Plus => Some(ArithOp::Add),
            B::Minus => Some(ArithOp::Sub),
            B::Multiply => Some(ArithOp::Mul),
            B::Divide => Some(ArithOp::Div),
            B::Modulo => Some(ArithOp::Mod),
            _ => None,
        };
        if let Some(o) = arith {
            let Some(ty) = numeric(l.ty, r.ty) else {
                let hint =
                    if *op == B::Plus && (l.ty == ColumnType::Text || r.ty == ColumnType::Text) {
                        " (use || to join text)"
                    } else {
                        ""
                    };
                return type_err(format!(
                    "{op} needs numbers, not {} and {}{hint}",
                    l.ty, r.ty
                ));
            };
            return Ok(typed(Expr::Arith(o, l.e.bx(), r.e.bx()), ty));
        }
        match op {
            B::And | B::Or => {
                need_bool(&l, &format!("{op}"))?;
                need_bool(&r, &format!("{op}"))?;
                let e = if *op == B::And {
                    Expr::And(l.e.bx(), r.e.bx())
                } else {
                    Expr::Or(l.e.bx(), r.e.bx())
                };
                Ok(typed(e, ColumnType::Bool))
            }
            B::StringConcat => Ok(typed(Expr::Concat(l.e.bx(), r.e.bx()), ColumnType::Text)),
            _ => unsupported(&format!("the operator {op}")),
        }
    }

    fn case(
        &mut self,
        operand: Option<&A>,
        conditions: &[ast::CaseWhen],
        otherwise: Option<&A>,
        d: usize,
    ) -> Result<Typed> {
        let subject = operand.map(|o| self.expr(o, d)).transpose()?;
        let mut whens = Vec::with_capacity(conditions.len());
        let mut results = Vec::with_capacity(conditions.len() + 1);
        for cw in conditions {
            let mut w = self.expr(&cw.condition, d)?;
            match &subject {
                Some(s) => {
                    normalize_pair(s, &mut w)?;
                    if !comparable(s.ty, w.ty) {
                        return type_err(format!("CASE compares {} with {}", s.ty, w.ty));
                    }
                }
                None => need_bool(&w, "CASE WHEN")?,
            }
            whens.push(w.e);
            results.push(self.expr(&cw.result, d)?);
        }
        let other = otherwise.map(|o| self.expr(o, d)).transpose()?;
        let mut types: Vec<ColumnType> = results.iter().map(|t| t.ty).collect();
        types.extend(other.iter().map(|t| t.ty));
        let Some(ty) = unify(&types) else {
            return type_err("CASE alternatives have different types".into());
        };
        let whens = whens
            .into_iter()
            .zip(results)
            .map(|(w, t)| (w, coerce(t, ty)))
            .collect();
        Ok(typed(
            Expr::Case {
                operand: subject.map(|s| s.e.bx()),
                whens,
                otherwise: other.map(|o| coerce(o, ty).bx()),
            },
            ty,
        ))
    }
}
