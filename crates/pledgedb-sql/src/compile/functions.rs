//! Compiling function calls: aggregates (`COUNT`, `SUM`, `AVG`, `MIN`,
//! `MAX`, optionally `DISTINCT`) and scalar functions.

use super::{
    AggFunc, AggSpec, Arg, Compiler, FUNCTIONS, Mode, Typed, coerce, comparable, need_int,
    need_text, normalize_pair, numeric, type_err, typed, unify, unsupported,
};
use crate::error::{Result, SqlError};
use crate::expr::{Expr, Func};
use crate::tables::Sem;
use crate::value::ColumnType;
use sqlparser::ast::{
    self, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart,
};

impl Compiler<'_> {
    pub(super) fn function(&mut self, f: &ast::Function, d: usize) -> Result<Typed> {
        let name = match f.name.0.as_slice() {
            [ObjectNamePart::Identifier(id)] => id.value.to_ascii_lowercase(),
            _ => {
                return Err(SqlError::UnknownFunction {
                    name: "(qualified name)".into(),
                    available: FUNCTIONS.into(),
                });
            }
        };
        if f.over.is_some() {
            return unsupported("window functions (OVER ...)");
        }
        if f.filter.is_some() {
            return unsupported("FILTER (WHERE ...) on aggregates");
        }
        if !f.within_group.is_empty() || f.null_treatment.is_some() {
            return unsupported("WITHIN GROUP / IGNORE NULLS");
        }
        if !matches!(f.parameters, FunctionArguments::None) {
            return unsupported("parametric functions");
        }
        let (distinct, list) = match &f.args {
            FunctionArguments::None => (false, &[][..]),
            FunctionArguments::Subquery(_) => return unsupported("subqueries"),
            FunctionArguments::List(l) => {
                if !l.clauses.is_empty() {
                    return unsupported("clauses inside function arguments");
                }
                (
                    matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
                    l.args.as_slice(),
                )
            }
        };
        let mut args = Vec::with_capacity(list.len());
        for a in list {
            args.push(match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Arg::E(e),
                FunctionArg::Unnamed(_) => Arg::Star,
                _ => return unsupported("named function arguments"),
            });
        }
        let agg = match name.as_str() {
            "count" => Some(AggFunc::Count),
            "sum" => Some(AggFunc::Sum),
            "avg" => Some(AggFunc::Avg),
            "min" => Some(AggFunc::Min),
            "max" => Some(AggFunc::Max),
            _ => None,
        };
        if let Some(func) = agg {
            return self.aggregate(&name, func, distinct, &args, d);
        }
        if distinct {
            return Err(SqlError::Invalid(format!(
                "DISTINCT is only allowed in aggregate functions, not in {name}()"
            )));
        }
        self.scalar(&name, &args, d)
    }

    fn aggregate(
        &mut self,
        name: &str,
        func: AggFunc,
        distinct: bool,
        args: &[Arg<'_>],
        d: usize,
    ) -> Result<Typed> {
        if let Mode::Row(clause) = self.mode {
            if self.probing {
                self.agg_seen = true;
            }
            return Err(SqlError::Invalid(format!(
                "aggregate function {name}() is not allowed in {clause}"
            )));
        }
        let (func, arg) = match (func, args) {
            (AggFunc::Count, [Arg::Star]) if !distinct => (AggFunc::CountStar, None),
            (_, [Arg::E(e)]) => (func, Some(*e)),
            _ => {
                return Err(SqlError::Invalid(format!(
                    "{name}() takes one argument (or * for COUNT)"
                )));
            }
        };
        let arg = match arg {
            Some(e) => {
                let saved = (self.mode, self.probing);
                self.mode = Mode::Row("an aggregate's argument");
                self.probing = false;
                let r = self.expr(e, d);
                (self.mode, self.probing) = saved;
                Some(r?)
            }
            None => None,
        };
        let arg_ty = arg.as_ref().map_or(ColumnType::Int, |t| t.ty);
        let ty = match func {
            AggFunc::Count | AggFunc::CountStar => ColumnType::Int,
            AggFunc::Sum | AggFunc::Avg => {
                if numeric(arg_ty, arg_ty).is_none() {
                    return type_err(format!("{name}() needs numbers, not {arg_ty}"));
                }
                match (func, arg_ty) {
                    (AggFunc::Sum, ColumnType::Float) | (AggFunc::Avg, _) => ColumnType::Float,
                    _ => ColumnType::Int,
                }
            }
            AggFunc::Min | AggFunc::Max => arg_ty,
        };
        let sem = match func {
            AggFunc::Min | AggFunc::Max => arg.as_ref().map_or(Sem::Plain, |t| t.sem),
            _ => Sem::Plain,
        };
        let spec = AggSpec {
            func,
            arg: arg.map(|t| t.e),
            distinct,
            arg_ty,
        };
        let i = match self.aggs.iter().position(|s| *s == spec) {
            Some(i) => i,
            None => {
                self.aggs.push(spec);
                self.aggs.len() - 1
            }
        };
        Ok(Typed {
            e: Expr::Agg(i),
            ty,
            sem,
        })
    }

    pub(super) fn scalar(&mut self, name: &str, args: &[Arg<'_>], d: usize) -> Result<Typed> {
        let func = match name {
            "lower" => Func::Lower,
            "upper" => Func::Upper,
            "length" | "char_length" => Func::Length,
            "abs" => Func::Abs,
            "round" => Func::Round,
            "coalesce" | "ifnull" => Func::Coalesce,
            "nullif" => Func::Nullif,
            "substr" | "substring" => Func::Substr,
            _ => {
                return Err(SqlError::UnknownFunction {
                    name: name.to_string(),
                    available: FUNCTIONS.into(),
                });
            }
        };
        let mut ts = Vec::with_capacity(args.len());
        for a in args {
            match a {
                Arg::E(e) => ts.push(self.expr(e, d)?),
                Arg::Star => {
                    return Err(SqlError::Invalid(format!("{name}() does not take *")));
                }
            }
        }
        let arity = |ok: bool, want: &str| -> Result<()> {
            if ok {
                Ok(())
            } else {
                Err(SqlError::Invalid(format!("{name}() takes {want}")))
            }
        };
        let n = ts.len();
        let ty = match func {
            Func::Lower | Func::Upper | Func::Length => {
                arity(n == 1, "one argument")?;
                for t in &ts {
                    need_text(t, name)?;
                }
                if func == Func::Length {
                    ColumnType::Int
                } else {
                    ColumnType::Text
                }
            }
            Func::Abs | Func::Round => {
                arity(
                    n == 1 || (func == Func::Round && n == 2),
                    "a number (and, for round, a number of digits)",
                )?;
                let first = ts.first().map_or(ColumnType::Null, |t| t.ty);
                if numeric(first, first).is_none() {
                    return type_err(format!("{name}() needs a number, not {first}"));
                }
                if let Some(digits) = ts.get(1) {
                    need_int(digits, "round()'s number of digits")?;
                }
                first
            }
            Func::Coalesce => {
                arity(
                    n >= 1 && (name != "ifnull" || n == 2),
                    "at least one argument",
                )?;
                let types: Vec<ColumnType> = ts.iter().map(|t| t.ty).collect();
                let Some(ty) = unify(&types) else {
                    return type_err(format!("{name}() arguments have different types"));
                };
                let args = ts.into_iter().map(|t| coerce(t, ty)).collect();
                return Ok(typed(Expr::Func(func, args), ty));
            }
            Func::Nullif => {
                arity(n == 2, "two arguments")?;
                if let [a, b] = ts.as_mut_slice() {
                    normalize_pair(a, b)?;
                    if !comparable(a.ty, b.ty) {
                        return type_err(format!("nullif() compares {} with {}", a.ty, b.ty));
                    }
                }
                ts.first().map_or(ColumnType::Null, |t| t.ty)
            }
            Func::Substr => {
                arity(n == 2 || n == 3, "text, a start and an optional length")?;
                if let Some(t) = ts.first() {
                    need_text(t, name)?;
                }
                for t in ts.iter().skip(1) {
                    need_int(t, name)?;
                }
                ColumnType::Text
            }
        };
        Ok(typed(
            Expr::Func(func, ts.into_iter().map(|t| t.e).collect()),
            ty,
        ))
    }
}
