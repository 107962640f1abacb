//! From SQL text to a checked plan: one `SELECT` over one virtual table.
//!
//! Every construct the engine does not run is refused here, before any
//! data is read: writes ("PledgeDB's SQL is read-only"), joins,
//! subqueries, set operations, common table expressions, window
//! functions.

use crate::Column;
use crate::ExecuteOptions;
use crate::compile::{AggSpec, Compiler, Scope, Typed};
use crate::error::{Result, SqlError};
use crate::expr::Expr;
use crate::range::{Bounds, extract, is_range_predicate};
use crate::tables::{Kind, TableDef, find_table, table_list};
use crate::value::ColumnType;
use sqlparser::ast::{
    self, Distinct, Expr as A, GroupByExpr, LimitClause, OrderByKind, SelectItem, SetExpr,
    Statement, TableFactor, Value as AV,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

/// The longest SQL text accepted, in bytes.
pub const MAX_SQL_BYTES: usize = 32 * 1024;

/// Statement keywords that change data or schema.
const WRITES: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER",
    "TRUNCATE", "RENAME", "GRANT", "REVOKE", "COPY", "LOAD", "VACUUM", "ATTACH", "DETACH",
    "COMMENT", "UNLOAD", "PUT", "REMOVE",
];

/// Grouping of a grouped query.
#[derive(Debug)]
pub(crate) struct AggPlan {
    pub groups: Vec<Expr>,
    pub aggs: Vec<AggSpec>,
    pub having: Option<Expr>,
}

/// What one `ORDER BY` item sorts by.
#[derive(Debug)]
pub(crate) enum OrderKey {
    /// A result column.
    Output(usize),
    /// An expression (per row, or per group in a grouped query).
    Expr(Expr),
}

/// One `ORDER BY` item.
#[derive(Debug)]
pub(crate) struct OrderItem {
    pub key: OrderKey,
    pub desc: bool,
    pub nulls_first: bool,
}

/// A checked query.
#[derive(Debug)]
pub(crate) struct Plan {
    pub table: Option<&'static TableDef>,
    /// Per-row condition (`WHERE`, without the day predicates an aggregated
    /// table consumed).
    pub filter: Option<Expr>,
    /// The moments (or days) the `WHERE` clause allows.
    pub bounds: Bounds,
    /// The table columns the query reads.
    pub needed: Vec<bool>,
    pub agg: Option<AggPlan>,
    pub proj: Vec<Expr>,
    pub order: Vec<OrderItem>,
    pub limit: Option<usize>,
    pub offset: usize,
    pub columns: Vec<Column>,
    /// `EXPLAIN SELECT ...`: describe, do not run.
    pub explain: bool,
}

fn unsupported<T>(what: &str) -> Result<T> {
    Err(SqlError::Unsupported(what.to_string()))
}

fn syntax(e: ParserError) -> SqlError {
    match e {
        ParserError::RecursionLimitExceeded => SqlError::TooDeep { max: 50 },
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => SqlError::Syntax(m),
    }
}

/// The first keyword of the text, upper-cased.
fn first_keyword(sql: &str) -> String {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().unwrap_or_default();
    tokens
        .into_iter()
        .find_map(|t| match t {
            Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Parses and checks one statement.
pub(crate) fn plan(sql: &str, opts: &ExecuteOptions) -> Result<Plan> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(SqlError::TooLong { max: MAX_SQL_BYTES });
    }
    let statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(syntax)?;
    let stmt = match statements.as_slice() {
        [] => return Err(SqlError::Empty),
        [one] => one,
        many => return Err(SqlError::MultipleStatements(many.len())),
    };
    match stmt {
        Statement::Query(q) => plan_query(q, false, opts),
        Statement::Explain {
            statement, analyze, ..
        } => match &**statement {
            Statement::Query(q) if !analyze => plan_query(q, true, opts),
            Statement::Query(_) => unsupported("EXPLAIN ANALYZE (use EXPLAIN)"),
            _ => not_a_query(sql.trim_start().get(7..).unwrap_or("")),
        },
        Statement::Insert(_) => Err(SqlError::ReadOnly("INSERT".into())),
        Statement::Update(_) => Err(SqlError::ReadOnly("UPDATE".into())),
        Statement::Delete(_) => Err(SqlError::ReadOnly("DELETE".into())),
        _ => not_a_query(sql),
    }
}

fn not_a_query<T>(sql: &str) -> Result<T> {
    let kw = first_keyword(sql);
    if WRITES.contains(&kw.as_str()) {
        Err(SqlError::ReadOnly(kw))
    } else {
        Err(SqlError::Unsupported(format!(
            "{} statements: only SELECT (and EXPLAIN SELECT) run here",
            if kw.is_empty() { "these" } else { &kw }
        )))
    }
}

/// A select item before compilation.
enum Item<'a> {
    Expr(&'a A, Option<String>),
    Col(usize),
}

fn check_query_shape(q: &ast::Query) -> Result<&ast::Select> {
    if q.with.is_some() {
        return unsupported("common table expressions (WITH)");
    }
    let s = match &*q.body {
        SetExpr::Select(s) => s,
        SetExpr::SetOperation { op, .. } => {
            return unsupported(&format!("{op} (one SELECT per query)"));
        }
        SetExpr::Query(_) => return unsupported("subqueries"),
        SetExpr::Values(_) => return unsupported("VALUES"),
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            return Err(SqlError::ReadOnly(
                "INSERT, UPDATE, DELETE and MERGE".into(),
            ));
        }
        SetExpr::Table(_) => return unsupported("TABLE (use SELECT * FROM)"),
    };
    if q.fetch.is_some() {
        return unsupported("FETCH (use LIMIT)");
    }
    if !q.locks.is_empty() {
        return unsupported("locking clauses (FOR UPDATE/SHARE)");
    }
    if q.for_clause.is_some()
        || q.settings.is_some()
        || q.format_clause.is_some()
        || !q.pipe_operators.is_empty()
    {
        return unsupported("FOR, SETTINGS, FORMAT and pipe clauses");
    }
    if s.into.is_some() {
        return Err(SqlError::ReadOnly("SELECT INTO".into()));
    }
    if s.top.is_some() {
        return unsupported("TOP (use LIMIT)");
    }
    if matches!(s.distinct, Some(Distinct::On(_))) {
        return unsupported("DISTINCT ON");
    }
    if s.select_modifiers.is_some() || !s.optimizer_hints.is_empty() || s.exclude.is_some() {
        return unsupported("select modifiers and hints");
    }
    if !s.lateral_views.is_empty() {
        return unsupported("LATERAL VIEW");
    }
    if s.prewhere.is_some() {
        return unsupported("PREWHERE (use WHERE)");
    }
    if !s.connect_by.is_empty() {
        return unsupported("CONNECT BY");
    }
    if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty() {
        return unsupported("CLUSTER/DISTRIBUTE/SORT BY (use ORDER BY)");
    }
    if !s.named_window.is_empty() || s.qualify.is_some() {
        return unsupported("window functions (WINDOW, QUALIFY)");
    }
    if s.value_table_mode.is_some() {
        return unsupported("SELECT AS VALUE/STRUCT");
    }
    Ok(s)
}

fn resolve_table(s: &ast::Select) -> Result<Scope> {
    let twj = match s.from.as_slice() {
        [] => {
            return Ok(Scope {
                table: None,
                alias: None,
            });
        }
        [one] => one,
        _ => return unsupported("JOIN (a query reads one table)"),
    };
    if !twj.joins.is_empty() {
        return unsupported("JOIN (a query reads one table)");
    }
    match &twj.relation {
        TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            partitions,
            sample,
            ..
        } => {
            if args.is_some() {
                return unsupported("table functions");
            }
            if !with_hints.is_empty()
                || version.is_some()
                || !partitions.is_empty()
                || sample.is_some()
            {
                return unsupported("table hints, versions, partitions and samples");
            }
            let written = match name.0.as_slice() {
                [ast::ObjectNamePart::Identifier(id)] => id.value.clone(),
                _ => "(qualified name)".to_string(),
            };
            let Some(table) = find_table(&written) else {
                return Err(SqlError::UnknownTable {
                    name: written,
                    available: table_list(),
                });
            };
            if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
                return unsupported("column aliases on a table");
            }
            Ok(Scope {
                table: Some(table),
                alias: alias.as_ref().map(|a| a.name.value.clone()),
            })
        }
        TableFactor::Derived { .. } => unsupported("subqueries"),
        _ => unsupported("this kind of FROM item (a query reads one table)"),
    }
}

fn expand_items<'a>(s: &'a ast::Select, scope: &Scope) -> Result<Vec<Item<'a>>> {
    let mut items = Vec::new();
    let all_columns = |items: &mut Vec<Item<'a>>| -> Result<()> {
        let Some(t) = scope.table else {
            return Err(SqlError::Invalid("SELECT * needs a FROM table".into()));
        };
        items.extend(
            t.cols
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.pseudo)
                .map(|(i, _)| Item::Col(i)),
        );
        Ok(())
    };
    for it in &s.projection {
        match it {
            SelectItem::UnnamedExpr(e) => items.push(Item::Expr(e, None)),
            SelectItem::ExprWithAlias { expr, alias } => {
                items.push(Item::Expr(expr, Some(alias.value.clone())));
            }
            SelectItem::ExprWithAliases { .. } => {
                return unsupported("several aliases for one item");
            }
            SelectItem::Wildcard(o) => {
                if o.opt_ilike.is_some()
                    || o.opt_exclude.is_some()
                    || o.opt_except.is_some()
                    || o.opt_replace.is_some()
                    || o.opt_rename.is_some()
                    || o.opt_alias.is_some()
                {
                    return unsupported("options of *");
                }
                all_columns(&mut items)?;
            }
            SelectItem::QualifiedWildcard(kind, _) => {
                let ok = match kind {
                    ast::SelectItemQualifiedWildcardKind::ObjectName(n) => match n.0.as_slice() {
                        [ast::ObjectNamePart::Identifier(id)] => {
                            scope
                                .table
                                .is_some_and(|t| id.value.eq_ignore_ascii_case(t.name))
                                || scope
                                    .alias
                                    .as_deref()
                                    .is_some_and(|a| id.value.eq_ignore_ascii_case(a))
                        }
                        _ => false,
                    },
                    ast::SelectItemQualifiedWildcardKind::Expr(_) => false,
                };
                if !ok {
                    return Err(SqlError::Invalid(
                        "the qualifier of .* does not name the table of this query".into(),
                    ));
                }
                all_columns(&mut items)?;
            }
        }
    }
    Ok(items)
}

/// Whether the expression is a number literal made of digits only (one too
/// large for 64 bits).
fn all_digits(e: &A) -> bool {
    matches!(e, A::Value(v) if matches!(&v.value, AV::Number(s, _) if s.bytes().all(|b| b.is_ascii_digit())))
}

/// A non-negative integer literal (`LIMIT`, `OFFSET`, positions).
fn int_literal(e: &A) -> Option<u64> {
    match e {
        A::Value(v) => match &v.value {
            AV::Number(s, _) => s.parse::<u64>().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn limits(q: &ast::Query, opts: &ExecuteOptions) -> Result<(Option<usize>, usize)> {
    let (limit, offset) = match &q.limit_clause {
        None => (None, None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return unsupported("LIMIT BY");
            }
            (limit.as_ref(), offset.as_ref().map(|o| &o.value))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
    };
    let limit = match limit {
        None => None,
        Some(e) => {
            let too_large = SqlError::LimitTooLarge {
                max: opts.max_limit,
            };
            let n = match int_literal(e) {
                Some(n) => n,
                None if all_digits(e) => return Err(too_large),
                None => {
                    return Err(SqlError::Invalid(
                        "LIMIT must be a non-negative integer".into(),
                    ));
                }
            };
            if n > opts.max_limit {
                return Err(SqlError::LimitTooLarge {
                    max: opts.max_limit,
                });
            }
            Some(usize::try_from(n).map_err(|_| SqlError::LimitTooLarge {
                max: opts.max_limit,
            })?)
        }
    };
    let offset = match offset {
        None => 0,
        Some(e) => {
            let n = int_literal(e)
                .ok_or_else(|| SqlError::Invalid("OFFSET must be a non-negative integer".into()))?;
            usize::try_from(n).map_err(|_| SqlError::TooManyRows { max: opts.max_rows })?
        }
    };
    Ok((limit, offset))
}

/// Splits `a AND b AND c` into its parts.
fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) => {
            conjuncts(*a, out);
            conjuncts(*b, out);
        }
        other => out.push(other),
    }
}

/// For the aggregated tables (`forms`, `form_fields`): takes the day
/// predicates out of the filter as bounds.
fn consume_pseudo_days(t: &TableDef, filter: Option<Expr>) -> Result<(Option<Expr>, Bounds)> {
    let Some(f) = filter else {
        return Ok((None, Bounds::ALL));
    };
    let mut parts = Vec::new();
    conjuncts(f, &mut parts);
    let mut bounds = Bounds::ALL;
    let mut rest: Option<Expr> = None;
    for p in parts {
        if is_range_predicate(&p, t) {
            bounds = bounds.and(extract(&p, t));
            continue;
        }
        let mut uses_day = false;
        p.walk(&mut |e| {
            if let Expr::Col(i) = e {
                uses_day |= t.cols.get(*i).is_some_and(|c| c.pseudo);
            }
        });
        if uses_day {
            return Err(SqlError::Invalid(format!(
                "{}.day can only restrict the days analysed: use day = '…', \
                 day BETWEEN '…' AND '…', or day <, <=, >, >= '…', joined by AND",
                t.name
            )));
        }
        rest = Some(match rest {
            None => p,
            Some(r) => Expr::And(r.bx(), p.bx()),
        });
    }
    Ok((rest, bounds))
}

fn output_name(e: &A, alias: Option<&String>, t: &Typed, table: Option<&TableDef>) -> String {
    if let Some(a) = alias {
        return a.clone();
    }
    if let (Expr::Col(i) | Expr::Group(i), Some(tab)) = (&t.e, table)
        && matches!(e, A::Identifier(_) | A::CompoundIdentifier(_))
        && matches!(t.e, Expr::Col(_))
        && let Some(c) = tab.cols.get(*i)
    {
        return c.name.to_string();
    }
    match e {
        A::Identifier(id) => id.value.clone(),
        A::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn plan_query(q: &ast::Query, explain: bool, opts: &ExecuteOptions) -> Result<Plan> {
    let s = check_query_shape(q)?;
    let scope = resolve_table(s)?;
    let table = scope.table;
    let (limit, offset) = limits(q, opts)?;
    let items = expand_items(s, &scope)?;
    let mut c = Compiler::new(&scope);

    let filter = match &s.selection {
        Some(w) => {
            let t = c.row(w, "WHERE", true)?;
            if !matches!(t.ty, ColumnType::Bool | ColumnType::Null) {
                return Err(SqlError::Type(format!(
                    "WHERE needs a boolean, not {}",
                    t.ty
                )));
            }
            Some(t.e)
        }
        None => None,
    };

    let group_asts: &[A] = match &s.group_by {
        GroupByExpr::All(_) => return unsupported("GROUP BY ALL"),
        GroupByExpr::Expressions(exprs, modifiers) => {
            if !modifiers.is_empty() {
                return unsupported("GROUP BY modifiers (ROLLUP, CUBE, TOTALS)");
            }
            exprs
        }
    };
    let order_items: &[ast::OrderByExpr] = match q.order_by.as_ref().map(|o| &o.kind) {
        None => &[],
        Some(OrderByKind::All(_)) => return unsupported("ORDER BY ALL"),
        Some(OrderByKind::Expressions(v)) => v,
    };
    if q.order_by.as_ref().is_some_and(|o| o.interpolate.is_some()) {
        return unsupported("INTERPOLATE");
    }
    let distinct = matches!(s.distinct, Some(Distinct::Distinct));
    let mut grouped = !group_asts.is_empty() || s.having.is_some();
    for it in &items {
        if let Item::Expr(e, _) = it {
            grouped |= c.has_aggregate(e);
        }
    }
    for o in order_items {
        grouped |= c.has_aggregate(&o.expr);
    }
    if distinct && grouped {
        return unsupported("SELECT DISTINCT with aggregates or GROUP BY (use GROUP BY alone)");
    }

    // Group keys: expressions, select-list positions or aliases.
    if grouped {
        for g in group_asts {
            let ast = resolve_group_item(g, &items, table)?;
            let t = c.row(ast, "GROUP BY", false)?;
            c.groups.push(t.e);
        }
    } else if distinct {
        for it in &items {
            let e = match it {
                Item::Expr(e, _) => c.row(e, "SELECT", false)?.e,
                Item::Col(i) => c.column_item(*i, false)?.e,
            };
            c.groups.push(e);
        }
        c.distinct_groups = true;
        grouped = true;
    }

    // The select list.
    let mut proj = Vec::with_capacity(items.len());
    let mut columns = Vec::with_capacity(items.len());
    let mut aliases: Vec<Option<String>> = Vec::with_capacity(items.len());
    for it in &items {
        let (t, name, alias) = match it {
            Item::Expr(e, alias) => {
                let t = if grouped {
                    c.group(e)?
                } else {
                    c.row(e, "SELECT", false)?
                };
                let name = output_name(e, alias.as_ref(), &t, table);
                (t, name, alias.clone())
            }
            Item::Col(i) => {
                let t = c.column_item(*i, grouped)?;
                let name = table
                    .and_then(|tab| tab.cols.get(*i))
                    .map_or_else(String::new, |col| col.name.to_string());
                (t, name, None)
            }
        };
        columns.push(Column { name, ty: t.ty });
        proj.push(t.e);
        aliases.push(alias);
    }

    let having = match &s.having {
        Some(h) => {
            let t = c.group(h)?;
            if !matches!(t.ty, ColumnType::Bool | ColumnType::Null) {
                return Err(SqlError::Type(format!(
                    "HAVING needs a boolean, not {}",
                    t.ty
                )));
            }
            Some(t.e)
        }
        None => None,
    };

    // ORDER BY: positions, aliases, then expressions.
    let mut order = Vec::with_capacity(order_items.len());
    for o in order_items {
        if o.with_fill.is_some() {
            return unsupported("WITH FILL");
        }
        let desc = match &o.options.sort {
            None | Some(ast::OrderBySort::Asc) => false,
            Some(ast::OrderBySort::Desc) => true,
            Some(ast::OrderBySort::Using(_)) => return unsupported("ORDER BY ... USING"),
        };
        let nulls_first = o.options.nulls_first.unwrap_or(!desc);
        let key = if let Some(n) = int_literal(&o.expr) {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n == 0 || n > proj.len() {
                return Err(SqlError::Invalid(format!(
                    "ORDER BY position {n} is not in the select list (1 to {})",
                    proj.len()
                )));
            }
            OrderKey::Output(n - 1)
        } else if let Some(i) = alias_position(&o.expr, &aliases) {
            OrderKey::Output(i)
        } else {
            let t = if grouped {
                c.group(&o.expr)?
            } else {
                c.row(&o.expr, "ORDER BY", false)?
            };
            match proj.iter().position(|p| *p == t.e) {
                Some(i) => OrderKey::Output(i),
                None => OrderKey::Expr(t.e),
            }
        };
        order.push(OrderItem {
            key,
            desc,
            nulls_first,
        });
    }

    // Which columns are read, and which days.
    let ncols = table.map_or(0, |t| t.cols.len());
    let mut needed = vec![false; ncols];
    let (filter, bounds) = match table {
        Some(t) if matches!(t.kind, Kind::Forms | Kind::FormFields) => {
            consume_pseudo_days(t, filter)?
        }
        Some(t) => {
            let b = filter.as_ref().map_or(Bounds::ALL, |f| extract(f, t));
            (filter, b)
        }
        None => (filter, Bounds::ALL),
    };
    let mut mark = |e: &Expr| e.mark_columns(&mut needed);
    filter.iter().for_each(&mut mark);
    proj.iter().for_each(&mut mark);
    c.groups.iter().for_each(&mut mark);
    c.aggs
        .iter()
        .filter_map(|a| a.arg.as_ref())
        .for_each(&mut mark);
    for o in &order {
        if let OrderKey::Expr(e) = &o.key {
            mark(e);
        }
    }
    let agg = grouped.then(|| AggPlan {
        groups: std::mem::take(&mut c.groups),
        aggs: std::mem::take(&mut c.aggs),
        having,
    });
    Ok(Plan {
        table,
        filter,
        bounds,
        needed,
        agg,
        proj,
        order,
        limit,
        offset,
        columns,
        explain,
    })
}

fn alias_position(e: &A, aliases: &[Option<String>]) -> Option<usize> {
    let A::Identifier(id) = e else { return None };
    aliases.iter().position(|a| {
        a.as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(&id.value))
    })
}

/// A `GROUP BY` item: a select-list position, an alias that is not a table
/// column, or an expression.
fn resolve_group_item<'a>(g: &'a A, items: &[Item<'a>], table: Option<&TableDef>) -> Result<&'a A> {
    let pick = |i: usize| -> Result<&'a A> {
        match items.get(i) {
            Some(Item::Expr(e, _)) => Ok(*e),
            _ => Err(SqlError::Invalid(
                "GROUP BY position refers to * (name the columns)".into(),
            )),
        }
    };
    if let Some(n) = int_literal(g) {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n == 0 || n > items.len() {
            return Err(SqlError::Invalid(format!(
                "GROUP BY position {n} is not in the select list (1 to {})",
                items.len()
            )));
        }
        return pick(n - 1);
    }
    if let A::Identifier(id) = g
        && table.is_none_or(|t| t.find(&id.value).is_none())
        && let Some(i) = items.iter().position(
            |it| matches!(it, Item::Expr(_, Some(a)) if a.eq_ignore_ascii_case(&id.value)),
        )
    {
        return pick(i);
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(sql: &str) -> Result<Plan> {
        plan(sql, &ExecuteOptions::default())
    }

    #[test]
    fn day_predicates_become_bounds() {
        let plan = p("SELECT COUNT(*) FROM pageviews WHERE day = '2026-03-02' AND path = '/'")
            .unwrap_or_else(|e| panic!("{e}"));
        let d = pledgedb_core::Day::from_ymd(2026, 3, 2);
        assert_eq!(plan.bounds.from, Some(d.start().millis()));
        assert_eq!(plan.bounds.to, Some(d.end().millis()));
        let plan = p("SELECT ts FROM events WHERE day = '2026-03-02' OR path = '/'")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.bounds, Bounds::ALL);
        assert!(plan.needed[0] && plan.needed[1] && !plan.needed[2]);
    }

    #[test]
    fn pseudo_day_is_consumed() {
        let plan = p(
            "SELECT form FROM forms WHERE day BETWEEN '2026-03-01' AND '2026-03-03' AND views > 0",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.bounds.from.is_some() && plan.bounds.to.is_some());
        assert!(plan.filter.is_some());
        assert!(p("SELECT form FROM forms WHERE day = '2026-03-01' OR views > 0").is_err());
        assert!(p("SELECT day FROM forms").is_err());
    }
}
