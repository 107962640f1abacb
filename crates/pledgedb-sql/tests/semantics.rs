//! Exact answers over a handful of hand-made hits: expressions, grouping,
//! ordering, NULLs, the derived tables, and what is never stored.

mod common;

use common::{DOMAIN, Fixture, at, hand_made, i, t};
use pledgedb_core::{FormField, Hit, HitKind, HitProp, KeyKind};
use pledgedb_sql::{ColumnType, Value};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const SECRET: &str = "hunter2-correct-horse";
const CARD: &str = "4111 1111 1111 1111";

fn hit(url: &str, kind: HitKind, ts: pledgedb_core::Timestamp, who: char) -> Hit {
    let (ip, ua) = match who {
        'a' => ("203.0.113.9", FIREFOX),
        'b' => ("198.51.100.7", IPHONE),
        _ => ("198.51.100.200", FIREFOX),
    };
    Hit::new(DOMAIN, format!("https://{DOMAIN}{url}"), kind)
        .at(ts)
        .ip(ip.parse().expect("ip"))
        .user_agent(ua)
        .client_id(format!("client-{who}"))
        .session_id(format!("visit-{who}"))
}

fn pv(url: &str, referrer: Option<&str>, ts: pledgedb_core::Timestamp, who: char) -> Hit {
    hit(
        url,
        HitKind::PageView {
            referrer: referrer.map(str::to_string),
        },
        ts,
        who,
    )
}

fn field(kind: fn(String, String) -> HitKind, f: &str, ts: pledgedb_core::Timestamp) -> Hit {
    hit("/pricing", kind("signup".into(), f.into()), ts, 'a')
}

fn key(f: &str, key: KeyKind, ts: pledgedb_core::Timestamp) -> Hit {
    hit(
        "/pricing",
        HitKind::Keystroke {
            form: "signup".into(),
            field: f.into(),
            key,
        },
        ts,
        'a',
    )
}

/// Visitor a: two pages, a click, a scroll, a custom event and a signup on
/// 2026-03-03; b: one page on 2026-03-04; c: two blog pages on 2026-03-04.
fn fixture() -> Fixture {
    let focus = |form, field| HitKind::FieldFocus { form, field };
    let blur = |form, field| HitKind::FieldBlur { form, field };
    hand_made(vec![
        pv(
            "/",
            Some("https://www.google.com/search?q=x"),
            at(3, 10, 0),
            'a',
        ),
        pv(
            "/pricing?utm_source=news&utm_medium=mail",
            None,
            at(3, 10, 5),
            'a',
        ),
        hit(
            "/pricing",
            HitKind::Click {
                x: 100,
                y: 200,
                target: "#buy".into(),
            },
            at(3, 10, 6),
            'a',
        ),
        hit("/pricing", HitKind::Scroll { depth: 80 }, at(3, 10, 7), 'a'),
        hit(
            "/pricing",
            HitKind::Custom {
                name: "plan_chosen".into(),
                props: vec![
                    ("plan".into(), HitProp::Text("pro".into())),
                    ("seats".into(), HitProp::Int(3)),
                ],
            },
            at(3, 10, 8),
            'a',
        ),
        hit(
            "/pricing",
            HitKind::FormView {
                form: "signup".into(),
            },
            at(3, 10, 9),
            'a',
        ),
        field(focus, "email", at(3, 10, 10)),
        key("email", KeyKind::Character, at(3, 10, 11)),
        key("email", KeyKind::Delete, at(3, 10, 12)),
        key("email", KeyKind::Character, at(3, 10, 13)),
        field(blur, "email", at(3, 10, 14)),
        field(focus, "password", at(3, 10, 15)),
        key("password", KeyKind::Character, at(3, 10, 16)),
        field(blur, "password", at(3, 10, 17)),
        hit(
            "/pricing",
            HitKind::FormSubmit {
                form: "signup".into(),
                fields: vec![
                    FormField::new("email", "a@example.com").input_type("email"),
                    FormField::new("password", SECRET).input_type("password"),
                    FormField::new("card", CARD),
                ],
            },
            at(3, 10, 18),
            'a',
        ),
        pv("/", None, at(4, 9, 0), 'b'),
        pv("/blog", None, at(4, 20, 0), 'c'),
        pv("/blog/post", None, at(4, 20, 30), 'c'),
    ])
}

fn row(f: &Fixture, sql: &str) -> Vec<Value> {
    let r = f.q(sql);
    assert_eq!(r.rows.len(), 1, "{sql}: {:?}", r.rows);
    r.rows.into_iter().next().unwrap_or_default()
}

#[test]
fn expressions_without_a_table() {
    let f = fixture();
    assert_eq!(
        row(
            &f,
            "SELECT 7 / 2, 7.0 / 2, 7 % 3, 1 + 2 * 3, (1 + 2) * 3, 'a' || 'b' || 1, -(-4)"
        ),
        vec![i(3), Value::Float(3.5), i(1), i(7), i(9), t("ab1"), i(4)]
    );
    assert_eq!(
        row(
            &f,
            "SELECT 1 IN (2, NULL), 1 IN (1, NULL), 1 NOT IN (2, 3), NULL = NULL, NULL IS NULL"
        ),
        vec![
            Value::Null,
            Value::Bool(true),
            Value::Bool(true),
            Value::Null,
            Value::Bool(true)
        ]
    );
    assert_eq!(
        row(
            &f,
            "SELECT 1 / NULLIF(0, 0), COALESCE(NULL, 2), ROUND(2.567, 2), UPPER('abc'), \
             LENGTH('héllo'), SUBSTR('abcdef', 2, 3), ABS(-3), ABS(-2.5), IFNULL(NULL, 'x')"
        ),
        vec![
            Value::Null,
            i(2),
            Value::Float(2.57),
            t("ABC"),
            i(5),
            t("bcd"),
            i(3),
            Value::Float(2.5),
            t("x")
        ]
    );
    assert_eq!(
        row(
            &f,
            "SELECT CASE WHEN 1 > 2 THEN 'a' ELSE 'b' END, CASE 2 WHEN 1 THEN 10 WHEN 2 THEN 2.5 END, \
             CAST('42' AS INT), CAST(3 AS FLOAT), CAST(1.9 AS INT), CAST(5 AS TEXT), 3 BETWEEN 1 AND 3, \
             'abc' LIKE 'a_c', 'ABC' ILIKE 'a%', TRUE AND NULL, FALSE AND NULL, TRUE OR NULL, NOT TRUE"
        ),
        vec![
            t("b"),
            Value::Float(2.5),
            i(42),
            Value::Float(3.0),
            i(1),
            t("5"),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Bool(false)
        ]
    );
    let r = f.q("SELECT 1 AS one, 'x' AS x, 2.5, NULL, TRUE");
    let cols: Vec<(&str, ColumnType)> = r.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    assert_eq!(
        cols,
        [
            ("one", ColumnType::Int),
            ("x", ColumnType::Text),
            ("2.5", ColumnType::Float),
            ("NULL", ColumnType::Null),
            ("true", ColumnType::Bool)
        ]
    );
    assert_eq!(r.source, None);
    assert!(f.q("SELECT 1 WHERE 1 = 0").rows.is_empty());
}

#[test]
fn raw_tables_hold_what_was_sent() {
    let f = fixture();
    let r =
        f.q("SELECT day, path, referrer, utm, country, device, browser FROM pageviews ORDER BY ts");
    assert_eq!(r.rows.len(), 5);
    assert_eq!(r.rows[0][0], t("2026-03-03"));
    assert_eq!(r.rows[0][2], t("google.com"));
    assert_eq!(r.rows[0][4], t("US"));
    assert_eq!(r.rows[0][5], t("desktop"));
    assert_eq!(r.rows[1][1], t("/pricing"));
    assert_eq!(r.rows[1][2], Value::Null, "direct traffic has no referrer");
    assert!(matches!(&r.rows[1][3], Value::Text(u) if u.contains("utm_source=news")));
    assert_eq!(r.rows[0][3], Value::Null);
    assert_eq!(r.rows[2][4], t("DE"));
    assert_eq!(r.rows[2][5], t("mobile"));
    assert_eq!(r.rows[3][4], t("FR"));
    assert_eq!(
        f.int("SELECT COUNT(*) FROM pageviews WHERE referrer IS NULL"),
        4
    );
    assert_eq!(
        row(
            &f,
            "SELECT x, y, x + y, x * 2, y / 3, y % 7, -x, target, path FROM clicks"
        ),
        vec![
            i(100),
            i(200),
            i(300),
            i(200),
            i(66),
            i(4),
            i(-100),
            t("#buy"),
            t("/pricing")
        ]
    );
    assert_eq!(row(&f, "SELECT depth FROM scrolls"), vec![i(80)]);
    let r = row(&f, "SELECT name, props FROM custom_events");
    assert_eq!(r[0], t("plan_chosen"));
    let Value::Text(props) = &r[1] else {
        panic!("props is text")
    };
    let json: serde_json::Value = serde_json::from_str(props).expect("props is JSON");
    assert_eq!(json["plan"], "pro");
    assert_eq!(json["seats"], 3);
    assert_eq!(
        f.q("SELECT type, COUNT(*) FROM events GROUP BY type ORDER BY type")
            .rows,
        vec![
            vec![t("click"), i(1)],
            vec![t("custom"), i(1)],
            vec![t("field_blur"), i(2)],
            vec![t("field_focus"), i(2)],
            vec![t("form_submit"), i(1)],
            vec![t("form_view"), i(1)],
            // The keystroke in the password field is not stored (P8).
            vec![t("keystroke"), i(3)],
            vec![t("page_view"), i(5)],
            vec![t("scroll"), i(1)],
        ]
    );
}

#[test]
fn grouping_ordering_and_nulls() {
    let f = fixture();
    assert_eq!(
        f.q("SELECT DISTINCT device FROM events ORDER BY device")
            .rows,
        vec![vec![t("desktop")], vec![t("mobile")]]
    );
    assert_eq!(
        f.q("SELECT DISTINCT country, device FROM pageviews ORDER BY 1 DESC")
            .rows,
        vec![
            vec![t("US"), t("desktop")],
            vec![t("FR"), t("desktop")],
            vec![t("DE"), t("mobile")]
        ]
    );
    let r = f.q(
        "SELECT lower(country) AS c, COUNT(*) AS n FROM pageviews GROUP BY c HAVING COUNT(*) > 1 ORDER BY n DESC, c",
    );
    assert_eq!(r.rows, vec![vec![t("fr"), i(2)], vec![t("us"), i(2)]]);
    assert_eq!(
        row(
            &f,
            "SELECT COUNT(*), SUM(x), AVG(x), MIN(x), MAX(target) FROM clicks WHERE x > 1000"
        ),
        vec![i(0), Value::Null, Value::Null, Value::Null, Value::Null]
    );
    assert!(
        f.q("SELECT path, COUNT(*) FROM clicks WHERE x > 1000 GROUP BY path")
            .rows
            .is_empty()
    );
    // NULL sorts first ascending, last descending, unless told.
    let refs =
        |sql: &str| -> Vec<Value> { f.q(sql).rows.into_iter().map(|r| r[0].clone()).collect() };
    let g = t("google.com");
    assert_eq!(
        refs("SELECT referrer FROM pageviews ORDER BY referrer")[0],
        Value::Null
    );
    assert_eq!(
        refs("SELECT referrer FROM pageviews ORDER BY referrer DESC")[0],
        g
    );
    assert_eq!(
        refs("SELECT referrer FROM pageviews ORDER BY referrer NULLS LAST")[0],
        g
    );
    assert_eq!(
        refs("SELECT referrer FROM pageviews ORDER BY referrer DESC NULLS FIRST")[0],
        Value::Null
    );
    // LIMIT and OFFSET, with and without ORDER BY.
    assert!(f.q("SELECT * FROM events LIMIT 0").rows.is_empty());
    assert_eq!(f.q("SELECT * FROM events LIMIT 3").rows.len(), 3);
    assert_eq!(
        f.q("SELECT * FROM events LIMIT 100 OFFSET 15").rows.len(),
        2
    );
    assert!(
        f.q("SELECT * FROM events ORDER BY ts LIMIT 5 OFFSET 100")
            .rows
            .is_empty()
    );
    assert_eq!(
        f.q("SELECT path FROM pageviews ORDER BY ts DESC LIMIT 2 OFFSET 1")
            .rows,
        vec![vec![t("/blog")], vec![t("/")]]
    );
    // Qualified names and aliases.
    assert_eq!(
        f.int("SELECT COUNT(p.path) FROM pageviews AS p WHERE pageviews.path = '/'"),
        2
    );
    // Text and timestamp comparisons.
    assert_eq!(
        f.int("SELECT COUNT(*) FROM events WHERE ts >= '2026-03-03 10:10'"),
        11
    );
    assert_eq!(
        f.int("SELECT COUNT(*) FROM events WHERE ts < '2026-03-04T09:00:00.000Z'"),
        14
    );
    assert_eq!(
        f.int("SELECT COUNT(*) FROM events WHERE ts = '2026-03-04 09:00'"),
        1
    );
    assert_eq!(
        f.int("SELECT COUNT(*) FROM events WHERE day = '2026-3-4'"),
        3
    );
    assert_eq!(
        f.int("SELECT COUNT(*) FROM pageviews WHERE path LIKE '/blog%' AND path NOT LIKE '%post'"),
        1
    );
    assert_eq!(
        f.int("SELECT COUNT(*) FROM pageviews WHERE path ILIKE '/BLOG%'"),
        2
    );
    // SELECT * has the table's columns, in order.
    let r = f.q("SELECT * FROM clicks");
    let info = pledgedb_sql::table("CLICKS").expect("clicks");
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    let want: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, want);
}

#[test]
fn sessions_and_forms() {
    let f = fixture();
    let r = f.q(
        "SELECT day, pageviews, events, entry_page, exit_page, referrer, country, device, bounced, duration_ms \
         FROM sessions ORDER BY start_ts",
    );
    assert_eq!(
        r.rows,
        vec![
            vec![
                t("2026-03-03"),
                i(2),
                i(14), // the password keystroke is not stored (P8)
                t("/"),
                t("/pricing"),
                t("google.com"),
                t("US"),
                t("desktop"),
                Value::Bool(false),
                i(18 * 60_000)
            ],
            vec![
                t("2026-03-04"),
                i(1),
                i(1),
                t("/"),
                t("/"),
                Value::Null,
                t("DE"),
                t("mobile"),
                Value::Bool(true),
                i(0)
            ],
            vec![
                t("2026-03-04"),
                i(2),
                i(2),
                t("/blog"),
                t("/blog/post"),
                Value::Null,
                t("FR"),
                t("desktop"),
                Value::Bool(false),
                i(30 * 60_000)
            ],
        ]
    );
    assert_eq!(
        f.q("SELECT field, interactions, keystrokes, corrections, time_spent_ms FROM form_fields ORDER BY field")
            .rows,
        vec![
            vec![t("email"), i(1), i(3), i(1), i(4 * 60_000)],
            // Focus and time are counted; its keystroke was not stored.
            vec![t("password"), i(1), i(0), i(0), i(2 * 60_000)],
        ]
    );
    assert_eq!(
        row(
            &f,
            "SELECT form, views, starters, submissions, converted, conversion FROM forms"
        ),
        vec![t("signup"), i(1), i(1), i(1), i(1), Value::Float(1.0)]
    );
    assert!(
        f.q("SELECT * FROM form_fields WHERE day = '2026-03-04'")
            .rows
            .is_empty()
    );
    // Only the non-sensitive field's value is there.
    let r = f.q("SELECT form, field, value FROM form_submissions");
    assert_eq!(
        r.rows,
        vec![vec![t("signup"), t("email"), t("a@example.com")]]
    );
}

#[test]
fn no_table_shows_an_ip_or_a_secret() {
    let f = fixture();
    for table in pledgedb_sql::tables() {
        let r = f.q(&format!("SELECT * FROM {}", table.name));
        let json = serde_json::to_string(&r).expect("json");
        for bad in [
            "203.0.113",
            "198.51.100",
            SECRET,
            CARD,
            "4111",
            "Mozilla",
            "client-a",
            "visit-a",
        ] {
            assert!(!json.contains(bad), "{} shows {bad}", table.name);
        }
        for c in &table.columns {
            assert!(!c.name.contains("ip"), "{}.{}", table.name, c.name);
        }
    }
}

#[test]
fn explain_and_daily() {
    let f = fixture();
    let r = f.q("SELECT day, pageviews, visits, bounces, source FROM daily");
    assert_eq!(
        r.rows,
        vec![
            vec![t("2026-03-03"), i(2), i(1), i(0), t("raw")],
            vec![t("2026-03-04"), i(3), i(2), i(1), t("raw")],
        ]
    );
    assert!(!r.from_rollups, "unsealed days are scanned");
    f.db.compact_now().expect("compact");
    let r = f.q("SELECT day, pageviews, source FROM daily WHERE day = '2026-03-04'");
    assert_eq!(r.rows, vec![vec![t("2026-03-04"), i(3), t("rollup")]]);
    assert!(r.from_rollups, "{:?}", r.source);
    let e = f.q("EXPLAIN SELECT * FROM daily WHERE day BETWEEN '2026-03-03' AND '2026-03-04'");
    assert!(e.from_rollups);
    let steps: Vec<&Value> = e.rows.iter().map(|r| &r[0]).collect();
    assert!(steps.contains(&&t("reads")), "{:?}", e.rows);
    // A day without data is zero, with no source.
    assert_eq!(
        f.q("SELECT pageviews, bounce_rate, source FROM daily WHERE day = '2026-03-05'")
            .rows,
        vec![vec![i(0), Value::Float(0.0), Value::Null]]
    );
}
