//! Bad SQL: each mistake gets its own error, with a useful message that
//! never repeats stored data, and nothing panics.

mod common;

use common::{Fixture, workload};
use pledgedb_sql::{ExecuteOptions, SqlError};

fn fixture() -> Fixture {
    workload(5, 3, 40, false)
}

#[test]
fn syntax_errors_carry_the_parser_message() {
    let f = fixture();
    for sql in [
        "SELEC * FROM events",
        "SELECT * FROM",
        "SELECT (1",
        "SELECT 'open",
    ] {
        match f.err(sql) {
            SqlError::Syntax(m) => assert!(!m.is_empty(), "{sql}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    let e = f.err("SELECT * FORM events");
    assert!(e.to_string().starts_with("syntax error: "), "{e}");
    assert!(matches!(f.err(""), SqlError::Empty));
    assert!(matches!(
        f.err("  ;  "),
        SqlError::Empty | SqlError::Syntax(_)
    ));
    assert!(matches!(
        f.err("SELECT 1; SELECT 2"),
        SqlError::MultipleStatements(2)
    ));
}

#[test]
fn unknown_table_and_column() {
    let f = fixture();
    match f.err("SELECT * FROM visits") {
        SqlError::UnknownTable { name, available } => {
            assert_eq!(name, "visits");
            assert!(available.contains("sessions") && available.contains("pageviews"));
        }
        other => panic!("{other:?}"),
    }
    match f.err("SELECT nope FROM pageviews") {
        SqlError::UnknownColumn {
            name,
            table,
            available,
        } => {
            assert_eq!((name.as_str(), table.as_str()), ("nope", "pageviews"));
            assert!(available.contains("referrer") && available.contains("utm"));
        }
        other => panic!("{other:?}"),
    }
    let e = f.err("SELECT path FROM pageviews WHERE target = 'x'");
    assert!(
        e.to_string()
            .starts_with("no such column: target in pageviews (columns: ts, day,"),
        "{e}"
    );
    assert!(matches!(
        f.err("SELECT path"),
        SqlError::UnknownColumn { .. }
    ));
    assert!(matches!(
        f.err("SELECT x.path FROM pageviews"),
        SqlError::Invalid(_)
    ));
}

#[test]
fn ip_columns_explain_why_they_do_not_exist() {
    let f = fixture();
    let e = f.err("SELECT ip FROM pageviews");
    assert_eq!(
        e.to_string(),
        "no such column: ip — PledgeDB stores no IP addresses (the IP is used once for the country, then dropped)"
    );
    for sql in [
        "SELECT ip_address FROM events",
        "SELECT COUNT(*) FROM clicks WHERE remote_addr = '1.2.3.4'",
        "SELECT path FROM sessions GROUP BY CLIENT_IP",
        "SELECT path FROM pageviews ORDER BY ip",
        "SELECT p.ip FROM pageviews p",
    ] {
        assert!(matches!(f.err(sql), SqlError::NoIpAddress { .. }), "{sql}");
    }
}

#[test]
fn unsupported_constructs() {
    let f = fixture();
    let cases = [
        (
            "SELECT * FROM pageviews JOIN clicks ON pageviews.session = clicks.session",
            "JOIN",
        ),
        ("SELECT * FROM pageviews, clicks", "JOIN"),
        (
            "SELECT * FROM pageviews LEFT JOIN clicks USING (session)",
            "JOIN",
        ),
        ("SELECT * FROM (SELECT * FROM events)", "subqueries"),
        (
            "SELECT path FROM events WHERE path IN (SELECT path FROM clicks)",
            "subqueries",
        ),
        (
            "SELECT path FROM events WHERE EXISTS (SELECT 1)",
            "subqueries",
        ),
        ("SELECT (SELECT 1)", "subqueries"),
        (
            "SELECT path FROM events UNION SELECT path FROM clicks",
            "UNION",
        ),
        (
            "SELECT path FROM events INTERSECT SELECT path FROM clicks",
            "INTERSECT",
        ),
        (
            "WITH p AS (SELECT * FROM pageviews) SELECT * FROM p",
            "WITH",
        ),
        ("SELECT COUNT(*) OVER () FROM events", "window"),
        (
            "SELECT path, ROW_NUMBER() OVER (ORDER BY ts) FROM events",
            "window",
        ),
        ("SELECT DISTINCT ON (path) path FROM events", "DISTINCT ON"),
        (
            "SELECT path, COUNT(*) FROM events GROUP BY ROLLUP (path)",
            "not supported",
        ),
        ("SHOW TABLES", "only SELECT"),
    ];
    for (sql, needle) in cases {
        let e = f.err(sql);
        assert!(
            matches!(e, SqlError::Unsupported(_)) && e.to_string().contains(needle),
            "{sql}: {e:?}"
        );
    }
}

#[test]
fn writes_are_refused() {
    let f = fixture();
    for sql in [
        "INSERT INTO events VALUES (1)",
        "UPDATE pageviews SET path = '/'",
        "DELETE FROM events",
        "CREATE TABLE t (a INT)",
        "DROP TABLE events",
        "ALTER TABLE events ADD COLUMN ip TEXT",
        "TRUNCATE events",
        "CREATE INDEX i ON events (path)",
        "SELECT * INTO backup FROM events",
        "EXPLAIN DELETE FROM events",
    ] {
        let e = f.err(sql);
        assert!(matches!(e, SqlError::ReadOnly(_)), "{sql}: {e:?}");
        assert!(
            e.to_string().starts_with("PledgeDB's SQL is read-only"),
            "{e}"
        );
    }
    let before = f.int("SELECT COUNT(*) FROM events");
    let _ = f.err("DELETE FROM events");
    assert_eq!(f.int("SELECT COUNT(*) FROM events"), before);
}

#[test]
fn limits_and_caps() {
    let f = fixture();
    assert!(matches!(
        f.err("SELECT * FROM events LIMIT 1000001"),
        SqlError::LimitTooLarge { max: 1_000_000 }
    ));
    assert!(
        f.err("SELECT * FROM events LIMIT 99999999999999999999999")
            .to_string()
            .contains("LIMIT")
    );
    assert!(matches!(
        f.err("SELECT * FROM events LIMIT -1"),
        SqlError::Invalid(_) | SqlError::Syntax(_)
    ));
    assert!(matches!(
        f.err("SELECT * FROM events LIMIT 'a'"),
        SqlError::Invalid(_)
    ));
    let total = f.int("SELECT COUNT(*) FROM events");
    let small = ExecuteOptions {
        max_rows: 50,
        ..ExecuteOptions::default()
    };
    assert!(total > 50);
    assert!(matches!(
        f.q_with("SELECT * FROM events", &small),
        Err(SqlError::TooManyRows { max: 50 })
    ));
    assert!(matches!(
        f.q_with("SELECT ts FROM events ORDER BY ts", &small),
        Err(SqlError::TooManyRows { .. })
    ));
    assert!(matches!(
        f.q_with("SELECT COUNT(*) FROM sessions", &small),
        Err(SqlError::TooManyRows { .. })
    ));
    assert!(matches!(
        f.q_with(
            "SELECT session, COUNT(*) FROM events GROUP BY session",
            &small
        ),
        Err(SqlError::TooManyRows { .. })
    ));
    // Aggregates stream: few groups fit however many rows are read.
    let r = f
        .q_with(
            "SELECT device, COUNT(*) FROM events GROUP BY device",
            &small,
        )
        .expect("grouped");
    assert!(!r.rows.is_empty());
    let sum: i64 = r
        .rows
        .iter()
        .map(|row| match row[1] {
            pledgedb_sql::Value::Int(n) => n,
            _ => 0,
        })
        .sum();
    assert_eq!(sum, total);
    // An unordered LIMIT stops early; an ordered one keeps only the top rows.
    assert!(f.q_with("SELECT * FROM events LIMIT 10", &small).is_ok());
    let cap = ExecuteOptions {
        max_rows: 1100,
        ..ExecuteOptions::default()
    };
    assert!(total > 1100, "{total}");
    assert!(
        f.q_with("SELECT ts FROM events ORDER BY ts LIMIT 10", &cap)
            .is_ok()
    );
    // Long or deeply nested text is refused, not a stack overflow.
    let long = format!("SELECT '{}'", "x".repeat(pledgedb_sql::MAX_SQL_BYTES));
    assert!(matches!(f.err(&long), SqlError::TooLong { .. }));
    let deep = format!("SELECT {}1", "1 + ".repeat(5000));
    assert!(matches!(f.err(&deep), SqlError::TooDeep { .. }));
    let nested = format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200));
    assert!(matches!(f.err(&nested), SqlError::TooDeep { .. }));
}

#[test]
fn division_by_zero_and_overflow() {
    let f = fixture();
    for sql in [
        "SELECT 1 / 0",
        "SELECT 1.5 / 0",
        "SELECT 5 % 0",
        "SELECT x / (y - y) FROM clicks",
        "SELECT COUNT(*) / 0 FROM events",
        "SELECT path FROM events ORDER BY 1 / 0",
    ] {
        let e = f.err(sql);
        assert!(matches!(e, SqlError::DivisionByZero), "{sql}: {e:?}");
        assert!(e.to_string().starts_with("division by zero"));
    }
    assert!(matches!(
        f.err("SELECT 9223372036854775807 + 1"),
        SqlError::Overflow
    ));
    assert!(matches!(
        f.err("SELECT SUM(9223372036854775807) FROM events"),
        SqlError::Overflow
    ));
}

#[test]
fn type_and_function_errors() {
    let f = fixture();
    for sql in [
        "SELECT path + 1 FROM events",
        "SELECT * FROM events WHERE day = 5",
        "SELECT * FROM events WHERE day = 'yesterday'",
        "SELECT * FROM events WHERE ts > '2026-13-01'",
        "SELECT * FROM events WHERE path",
        "SELECT SUM(path) FROM events",
        "SELECT * FROM clicks WHERE x LIKE '1%'",
        "SELECT NOT path FROM events",
        "SELECT CASE WHEN 1 = 1 THEN 'a' ELSE 2 END",
        "SELECT * FROM clicks WHERE x IN ('a', 'b')",
        "SELECT lower(x) FROM clicks",
    ] {
        let e = f.err(sql);
        assert!(matches!(e, SqlError::Type(_)), "{sql}: {e:?}");
    }
    match f.err("SELECT md5(path) FROM events") {
        SqlError::UnknownFunction { name, available } => {
            assert_eq!(name, "md5");
            assert!(available.contains("count"));
        }
        other => panic!("{other:?}"),
    }
    for sql in [
        "SELECT path FROM events WHERE COUNT(*) > 1",
        "SELECT path, COUNT(*) FROM events",
        "SELECT path FROM events GROUP BY device",
        "SELECT COUNT(SUM(x)) FROM clicks",
        "SELECT COUNT(1, 2) FROM clicks",
        "SELECT path FROM events ORDER BY 3",
        "SELECT path FROM events GROUP BY 2",
        "SELECT DISTINCT path FROM events ORDER BY ts",
        "SELECT day FROM forms",
        "SELECT * FROM form_fields WHERE day = '2026-03-02' OR form = 'x'",
        "SELECT * FROM forms WHERE day IN ('2026-03-02')",
        "SELECT lower(DISTINCT path) FROM events",
        "SELECT CAST('x' AS INT)",
    ] {
        let e = f.err(sql);
        assert!(
            matches!(e, SqlError::Invalid(_) | SqlError::Type(_)),
            "{sql}: {e:?}"
        );
    }
}

#[test]
fn errors_never_echo_stored_data() {
    let f = fixture();
    let paths: Vec<String> = f
        .q("SELECT DISTINCT path FROM events")
        .rows
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(pledgedb_sql::Value::Text(s)) => Some(s),
            _ => None,
        })
        .filter(|p| p.len() > 3)
        .collect();
    assert!(!paths.is_empty());
    for sql in [
        "SELECT CAST(path AS INT) FROM events",
        "SELECT CAST(path AS FLOAT) FROM events",
        "SELECT CAST(path AS BOOL) FROM events",
        "SELECT LENGTH(path) / 0 FROM events",
    ] {
        let msg = f.err(sql).to_string();
        for p in &paths {
            assert!(!msg.contains(p.as_str()), "{sql}: {msg}");
        }
    }
}

#[test]
fn expressions_below_the_depth_limit_work() {
    let f = fixture();
    let sum = format!("SELECT {}1", "1 + ".repeat(90));
    assert_eq!(f.int(&sum), 91);
    let ors: Vec<String> = (0..45).map(|i| format!("path = '/p{i}'")).collect();
    let n = f.int(&format!(
        "SELECT COUNT(*) FROM events WHERE {} OR path = '/'",
        ors.join(" OR ")
    ));
    assert_eq!(n, f.int("SELECT COUNT(*) FROM events WHERE path = '/'"));
    let grouped = format!(
        "SELECT device, COUNT(*){} FROM events GROUP BY device",
        " + 1".repeat(80)
    );
    assert!(!f.q(&grouped).rows.is_empty());
    let nested = format!("SELECT {}1{}", "(".repeat(40), ")".repeat(40));
    assert_eq!(f.int(&nested), 1);
}
