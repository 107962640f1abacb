//! Read-only SQL over one PledgeDB domain.
//!
//! [`execute`] parses one `SELECT` (with the `sqlparser` crate) and runs it
//! over virtual tables of a [`Domain`]: raw events (`events`, `pageviews`,
//! `clicks`, `scrolls`, `custom_events`, `form_submissions`), visits
//! (`sessions`), form analytics (`forms`, `form_fields`) and the daily
//! roll-ups (`daily`). [`tables`] describes them.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let db = pledgedb_core::Db::open("data", pledgedb_core::Config::default())?;
//! let domain = db.domain("shop.example")?;
//! let top = pledgedb_sql::execute(
//!     &domain,
//!     "SELECT path, COUNT(*) AS views, COUNT(DISTINCT visitor) AS visitors
//!      FROM pageviews WHERE day BETWEEN '2026-03-01' AND '2026-03-07'
//!      GROUP BY path ORDER BY views DESC LIMIT 10",
//! )?;
//! for row in &top.rows {
//!     println!("{row:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! # Privacy
//!
//! No table has a column that could hold an IP address (asking for `ip`,
//! `ip_address`, `remote_addr` or `client_ip` says so), and no column holds
//! a value the visitor did not submit: keystrokes carry only their kind,
//! and field values appear only in `form_submissions`, only for fields that
//! were not sensitive. Error messages never contain stored data.
//!
//! # Time
//!
//! `day` is text `YYYY-MM-DD` (UTC); `ts` (and `start_ts`, `end_ts` of
//! `sessions`) is text in one fixed RFC 3339 form, UTC with milliseconds:
//! `2026-03-02T13:05:09.000Z`, so text order is time order. A text literal
//! compared with a day or timestamp column is normalised first:
//! `ts >= '2026-03-02'` means from midnight, and `'2026-03-02 14:00+01:00'`
//! is accepted. Comparisons (`=`, `<`, `<=`, `>`, `>=`, `BETWEEN`, `IN`) of
//! `day` or `ts` with literals, joined by `AND`/`OR`, choose the days read:
//! the scan opens only the segment files of those days. A raw-event scan
//! decodes only the columns the statement references, and `=` or `IN`
//! with text literals on `type`, `path`, `country`, `device`, `browser` or
//! `referrer`, joined by `AND` at the top of `WHERE`, also skip the blocks
//! that cannot hold a match (the filter still runs on every row).
//!
//! `daily`, `forms` and `form_fields` cover the days named by `WHERE day`;
//! without a bound, [`ExecuteOptions::today`] gives the 30 days ending
//! today, or, when it is `None` (the default), the range from the first to
//! the last day that has raw data.
//!
//! # SQL
//!
//! `SELECT [DISTINCT]` items (`*`, columns, expressions, `AS` aliases)
//! `FROM` one table (or none), `WHERE`, `GROUP BY` (expressions, aliases,
//! positions), `HAVING`, `ORDER BY` (expressions, aliases, positions,
//! `ASC`/`DESC`, `NULLS FIRST`/`LAST`; `NULL` sorts first ascending),
//! `LIMIT`/`OFFSET`, and `EXPLAIN SELECT`. Expressions: `= != <> < <= > >=`,
//! `AND OR NOT`, `IN (...)`, `BETWEEN`, `LIKE`/`ILIKE` (`ESCAPE`),
//! `IS [NOT] NULL`, `IS [NOT] TRUE/FALSE`, `+ - * / %` (integer division on
//! integers; division by zero is an error), `||`, `CASE`, `CAST(x AS
//! INT|FLOAT|TEXT|BOOL)`; aggregates `COUNT(*)`, `COUNT([DISTINCT] x)`,
//! `SUM`, `AVG`, `MIN`, `MAX`; functions `lower`, `upper`, `length`, `abs`,
//! `round`, `coalesce`, `ifnull`, `nullif`, `substr`. Joins, subqueries,
//! set operations, CTEs, window functions and every statement that writes
//! are refused with a [`SqlError`].
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod aggregate;
mod compile;
mod error;
mod exec;
mod expr;
mod plan;
mod pushdown;
mod range;
mod sources;
mod tables;
mod value;

pub use error::SqlError;
pub use plan::MAX_SQL_BYTES;
pub use value::{ColumnType, Value};

use pledgedb_core::{Day, Domain};
use serde::Serialize;

/// The largest `LIMIT` accepted by default.
pub const DEFAULT_MAX_LIMIT: u64 = 1_000_000;

/// The most rows (or groups, or distinct values) one query may hold in
/// memory by default.
pub const DEFAULT_MAX_ROWS: usize = 10_000_000;

/// A result column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    /// The name: the alias, the column's name, or the expression's text.
    pub name: String,
    /// The type of its values (any of which may also be `NULL`).
    pub ty: ColumnType,
}

/// The answer to a query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResultSet {
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
    /// What answered: e.g. `raw scan of pageviews, days 2026-03-01..2026-03-07
    /// (...)` or `daily roll-ups, days ...: 7 days from roll-ups`. `None`
    /// for a query without a table.
    pub source: Option<String>,
    /// Whether the answer came from the daily roll-ups (or long-lived
    /// aggregates) alone, without scanning raw events.
    pub from_rollups: bool,
}

/// Limits and context of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecuteOptions {
    /// Today, by the caller's clock: `daily`, `forms` and `form_fields`
    /// then default to the 30 days ending today. `None` (the default): they
    /// default to the days that have raw data.
    pub today: Option<Day>,
    /// The most rows, groups or distinct values held in memory; more is
    /// [`SqlError::TooManyRows`].
    pub max_rows: usize,
    /// The largest `LIMIT`; more is [`SqlError::LimitTooLarge`].
    pub max_limit: u64,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            today: None,
            max_rows: DEFAULT_MAX_ROWS,
            max_limit: DEFAULT_MAX_LIMIT,
        }
    }
}

/// One column of a virtual table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// What it holds.
    pub description: String,
}

/// A virtual table, for `.tables` and `.schema`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// The table's name.
    pub name: String,
    /// What one row is.
    pub description: String,
    /// Its columns.
    pub columns: Vec<ColumnInfo>,
}

fn info(t: &tables::TableDef) -> TableInfo {
    TableInfo {
        name: t.name.to_string(),
        description: t.doc.to_string(),
        columns: t
            .cols
            .iter()
            .map(|c| ColumnInfo {
                name: c.name.to_string(),
                ty: c.ty,
                description: c.doc.to_string(),
            })
            .collect(),
    }
}

/// Every virtual table.
#[must_use]
pub fn tables() -> Vec<TableInfo> {
    tables::TABLES.iter().map(info).collect()
}

/// One virtual table, by name (case-insensitive).
#[must_use]
pub fn table(name: &str) -> Option<TableInfo> {
    tables::find_table(name).map(info)
}

/// Runs one read-only SQL statement over `domain` with the default
/// options.
pub fn execute(domain: &Domain, sql: &str) -> Result<ResultSet, SqlError> {
    execute_with(domain, sql, &ExecuteOptions::default())
}

/// Runs one read-only SQL statement over `domain`.
pub fn execute_with(
    domain: &Domain,
    sql: &str,
    opts: &ExecuteOptions,
) -> Result<ResultSet, SqlError> {
    let plan = plan::plan(sql, opts)?;
    if plan.explain {
        return sources::explain(domain, &plan, opts);
    }
    let mut sink = exec::Sink::new(&plan, opts.max_rows);
    let answer = match plan.table {
        None => {
            sink.push(&[])?;
            None
        }
        Some(t) => Some(sources::feed(domain, t, &plan, opts, &mut sink)?),
    };
    let rows = sink.finish()?;
    Ok(ResultSet {
        columns: plan.columns.clone(),
        rows,
        from_rollups: answer.as_ref().is_some_and(|a| a.from_rollups),
        source: answer.map(|a| a.text),
    })
}
