//! SQL scans decode only the columns a statement references and hand the
//! Reader the `WHERE` clause's equalities: on every raw-event table, a
//! query of any one column gives that column of `SELECT *`, and an equality
//! or `IN` list on type, path, country, device, browser or referrer gives
//! exactly the rows of `SELECT *` a plain comparison keeps, for stored
//! values, absent ones, other spellings and `NULL`.

mod common;

use common::{Fixture, workload};
use pledgedb_sql::Value;

const SCAN_TABLES: [&str; 6] = [
    "events",
    "pageviews",
    "clicks",
    "scrolls",
    "custom_events",
    "form_submissions",
];

fn sorted(mut rows: Vec<Vec<Value>>) -> Vec<String> {
    let mut out: Vec<String> = rows.drain(..).map(|r| format!("{r:?}")).collect();
    out.sort();
    out
}

fn columns(table: &str) -> Vec<String> {
    pledgedb_sql::table(table)
        .expect("table")
        .columns
        .into_iter()
        .map(|c| c.name)
        .collect()
}

fn fixture() -> Fixture {
    workload(5, 3, 40, false)
}

#[test]
fn one_column_of_every_table_equals_that_column_of_select_star() {
    let f = fixture();
    for table in SCAN_TABLES {
        let cols = columns(table);
        let all = f.q(&format!("SELECT * FROM {table}")).rows;
        assert!(!all.is_empty(), "{table} is empty");
        for (i, c) in cols.iter().enumerate() {
            let want: Vec<Vec<Value>> = all.iter().map(|r| vec![r[i].clone()]).collect();
            let got = f.q(&format!("SELECT {c} FROM {table}")).rows;
            assert_eq!(sorted(got), sorted(want), "{table}.{c}");
        }
        // Two columns far apart, and a count that reads none.
        let (a, z) = (0, cols.len() - 1);
        let want: Vec<Vec<Value>> = all
            .iter()
            .map(|r| vec![r[a].clone(), r[z].clone()])
            .collect();
        let got = f
            .q(&format!("SELECT {}, {} FROM {table}", cols[a], cols[z]))
            .rows;
        assert_eq!(sorted(got), sorted(want), "{table}");
        assert_eq!(
            f.int(&format!("SELECT COUNT(*) FROM {table}")),
            all.len() as i64,
            "{table}"
        );
    }
}

#[test]
fn pushed_down_equalities_keep_exactly_the_rows_sql_keeps() {
    let f = fixture();
    let mut checked = 0;
    for table in SCAN_TABLES {
        let cols = columns(table);
        let all = f.q(&format!("SELECT * FROM {table}")).rows;
        for c in ["type", "path", "country", "device", "browser", "referrer"] {
            let Some(i) = cols.iter().position(|x| x == c) else {
                continue;
            };
            let mut stored: Vec<String> = all
                .iter()
                .filter_map(|r| match &r[i] {
                    Value::Text(s) if !s.contains('\'') => Some(s.clone()),
                    _ => None,
                })
                .collect();
            stored.sort();
            stored.dedup();
            let mut values: Vec<String> = stored.iter().take(3).cloned().collect();
            if let Some(v) = stored.first() {
                values.push(v.to_lowercase());
                values.push(v.to_uppercase());
                values.push(format!("{v} "));
            }
            values.push(String::new());
            values.push("nowhere".into());
            let keep = |set: &[&String]| -> Vec<Vec<Value>> {
                all.iter()
                    .filter(|r| matches!(&r[i], Value::Text(s) if set.contains(&s)))
                    .cloned()
                    .collect()
            };
            for v in &values {
                for sql in [
                    format!("SELECT * FROM {table} WHERE {c} = '{v}'"),
                    format!("SELECT * FROM {table} WHERE '{v}' = {c} AND ts >= '2000-01-01'"),
                ] {
                    assert_eq!(sorted(f.q(&sql).rows), sorted(keep(&[v])), "{sql}");
                    checked += 1;
                }
            }
            let set: Vec<&String> = values.iter().step_by(2).collect();
            let list: Vec<String> = set.iter().map(|v| format!("'{v}'")).collect();
            let sql = format!(
                "SELECT * FROM {table} WHERE {c} IN ({}, NULL) AND day >= '2000-01-01'",
                list.join(", ")
            );
            assert_eq!(sorted(f.q(&sql).rows), sorted(keep(&set)), "{sql}");
            // Not pushed down, still right: OR, NOT IN, a negated equality.
            let v = &values[0];
            for sql in [
                format!("SELECT * FROM {table} WHERE {c} = '{v}' OR {c} IS NULL"),
                format!("SELECT * FROM {table} WHERE {c} NOT IN ('{v}')"),
                format!("SELECT * FROM {table} WHERE NOT ({c} = '{v}')"),
            ] {
                let want: Vec<Vec<Value>> = all
                    .iter()
                    .filter(|r| {
                        let is = matches!(&r[i], Value::Text(s) if s == v);
                        let null = matches!(&r[i], Value::Null);
                        if sql.contains(" OR ") {
                            is || null
                        } else {
                            !is && !null
                        }
                    })
                    .cloned()
                    .collect();
                assert_eq!(sorted(f.q(&sql).rows), sorted(want), "{sql}");
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
