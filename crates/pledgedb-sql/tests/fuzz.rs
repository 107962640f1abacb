//! `execute` never panics: on arbitrary text, on soups of SQL tokens, and
//! on queries assembled from real table and column names.

mod common;

use common::{hand_made, workload};
use pledgedb_core::Domain;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "LIKE",
    "ILIKE",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "AS",
    "DISTINCT",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "JOIN",
    "ON",
    "UNION",
    "WITH",
    "OVER",
    "PARTITION",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "CREATE",
    "DROP",
    "TABLE",
    "EXPLAIN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "INT",
    "FLOAT",
    "TEXT",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "lower",
    "round",
    "nullif",
    "coalesce",
    "substr",
    "ESCAPE",
    "ALL",
    "ANY",
];
const TABLES: &[&str] = &[
    "events",
    "pageviews",
    "clicks",
    "scrolls",
    "custom_events",
    "sessions",
    "forms",
    "form_fields",
    "form_submissions",
    "daily",
];
const COLUMNS: &[&str] = &[
    "ts",
    "day",
    "path",
    "visitor",
    "session",
    "country",
    "device",
    "x",
    "y",
    "value",
    "views",
    "pageviews",
    "bounced",
    "start_ts",
    "ip",
    "type",
];
const PUNCTUATION: &[&str] = &[
    "*", ",", "(", ")", "=", "!=", "<", "<=", ">", ">=", "+", "-", "/", "%", "||", ".", ";", "?",
    "$1", "::",
];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2.5",
    "1e308",
    "9223372036854775807",
    "'2026-03-02'",
    "'2026-03-03T10:00:00Z'",
    "'/'",
    "'%'",
    "''",
    "'x'",
    "\"end\"",
    "NULL",
];

fn all_tokens() -> Vec<&'static str> {
    [KEYWORDS, TABLES, COLUMNS, PUNCTUATION, LITERALS].concat()
}

/// Runs `cases` generated queries against `domain`; a panic fails the test.
fn check<S: Strategy<Value = String>>(domain: &Domain, cases: u32, strategy: S) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |sql| {
        let _ = pledgedb_sql::execute(domain, &sql);
        Ok(())
    });
    if let Err(e) = result {
        panic!("execute panicked: {e}");
    }
}

#[test]
fn arbitrary_text_never_panics() {
    let f = workload(3, 2, 15, true);
    check(&f.domain, 300, any::<String>());
    check(&f.domain, 300, "[ -~]{0,120}");
    check(&f.domain, 100, "SELECT [ -~]{0,60}");
}

#[test]
fn token_soups_never_panic() {
    let f = workload(4, 2, 15, true);
    let tokens = all_tokens();
    check(
        &f.domain,
        400,
        prop::collection::vec(prop::sample::select(tokens.clone()), 0..30)
            .prop_map(|t| t.join(" ")),
    );
    check(
        &f.domain,
        300,
        (
            prop::collection::vec(prop::sample::select(tokens), 0..20),
            prop::sample::select(TABLES),
            0..3usize,
        )
            .prop_map(|(t, table, shape)| {
                let soup = t.join(" ");
                match shape {
                    0 => format!("SELECT {soup} FROM {table}"),
                    1 => format!("SELECT * FROM {table} WHERE {soup}"),
                    _ => format!("SELECT COUNT(*) FROM {table} GROUP BY {soup}"),
                }
            }),
    );
}

#[test]
fn assembled_queries_never_panic() {
    let f = workload(5, 2, 15, true);
    const AGGS: &[&str] = &["COUNT", "SUM", "AVG", "MIN", "MAX", "lower", "round"];
    const OPS: &[&str] = &[
        "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "||",
    ];
    check(
        &f.domain,
        400,
        (
            prop::sample::select(TABLES),
            prop::collection::vec(prop::sample::select(COLUMNS), 1..4),
            prop::sample::select(AGGS),
            prop::sample::select(OPS),
            prop::sample::select(LITERALS),
            0u64..3_000_000,
            any::<bool>(),
            0..3usize,
        )
            .prop_map(|(table, cols, agg, op, lit, limit, desc, shape)| {
                let c0 = cols[0];
                let list = cols.join(", ");
                let dir = if desc { "DESC" } else { "ASC" };
                match shape {
                    0 => format!(
                        "SELECT {list}, {agg}({c0}) FROM {table} WHERE {c0} {op} {lit} \
                         GROUP BY {list} ORDER BY 1 {dir} LIMIT {limit}"
                    ),
                    1 => format!(
                        "SELECT {c0} {op} {lit} AS v FROM {table} ORDER BY v {dir} LIMIT {limit}"
                    ),
                    _ => format!("SELECT DISTINCT {list} FROM {table} WHERE day {op} {lit}"),
                }
            }),
    );
}

#[test]
fn empty_domain_answers_every_table() {
    let f = hand_made(Vec::new());
    for t in pledgedb_sql::tables() {
        let r = f.q(&format!("SELECT COUNT(*) FROM {}", t.name));
        assert_eq!(
            r.rows,
            vec![vec![pledgedb_sql::Value::Int(0)]],
            "{}",
            t.name
        );
        assert!(
            f.q(&format!("SELECT * FROM {}", t.name)).rows.is_empty(),
            "{}",
            t.name
        );
    }
}
