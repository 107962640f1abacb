//! Runs the real `pledgedb` binary: one-shot commands in every output mode,
//! scripts on standard input, imports, erasure, the audit and cron imports.

mod common;

use common::{Env, describe, stderr, stdout};

const TOP_PAGES: &str = "SELECT path, COUNT(*) AS views FROM pageviews \
                         GROUP BY path ORDER BY views DESC, path";

#[test]
fn import_summary_counts_every_line() {
    let env = Env::new();
    let o = env.load();
    assert_eq!(
        stdout(&o),
        "opt-out registered: hits carrying this token are dropped on every domain\n\
         Imported hits.ndjson (ndjson): 13 lines, 1,376 bytes\n\
         \x20 ingested   5  4 with a visitor id, 1 anonymous (no consent)\n\
         \x20 filtered   0  static assets 0, status 0, method 0, bots 0, feed readers 0, HTTP libraries 0\n\
         \x20 dropped    2  opt-out 1, do-not-track 1, GPC 0, no consent 0, expired 0, sensitive keystrokes 0\n\
         \x20 rejected   2  invalid hits, nothing written\n\
         \x20   line 12: hit rejected: field `domain` domain name contains a character other than lower-case a-z, 0-9, '-' and '.' at byte 0\n\
         \x20   line 13: hit rejected: field `timestamp` is outside the accepted window (in the future)\n\
         \x20 malformed  3  lines that could not be read\n\
         \x20   line 4: not valid JSON (column 2)\n\
         \x20   line 7: missing field `url`\n\
         \x20   line 11: invalid `key`: expected character, delete or other (the kind of key, never the key itself)\n\
         \x20 blank      1\n\
         \x20 new input: recorded, so importing it again is refused\n"
    );
    assert_eq!(
        stderr(&o),
        "",
        "no progress bar when stderr is not a terminal"
    );
    assert!(!stdout(&o).contains("203.0.113.7"));
}

#[test]
fn one_shot_queries_in_every_mode() {
    let env = Env::new();
    env.load();

    let o = env.one_shot(&[TOP_PAGES]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(
        stdout(&o),
        "╭──────────┬───────╮\n\
         │ path     │ views │\n\
         ├──────────┼───────┤\n\
         │ /pricing │     2 │\n\
         │ /        │     1 │\n\
         │ /about   │     1 │\n\
         ╰──────────┴───────╯\n"
    );

    let o = env.one_shot(&[".mode csv", TOP_PAGES]);
    assert_eq!(stdout(&o), "path,views\n/pricing,2\n/,1\n/about,1\n");

    let o = env.one_shot(&[".mode json", TOP_PAGES]);
    assert_eq!(
        stdout(&o),
        "[{\"path\":\"/pricing\",\"views\":2},\n \
         {\"path\":\"/\",\"views\":1},\n \
         {\"path\":\"/about\",\"views\":1}]\n"
    );
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(parsed[0]["views"], 2);

    let o = env.one_shot(&[".mode line", TOP_PAGES]);
    assert_eq!(
        stdout(&o),
        " path = /pricing\nviews = 2\n\n path = /\nviews = 1\n\n path = /about\nviews = 1\n"
    );
}

#[test]
fn numbers_are_for_people_in_tables_and_raw_elsewhere() {
    let env = Env::new();
    env.load();
    let q = "SELECT COUNT(*) * 1234 AS big, 0.425 AS bounce_rate, 83000 AS avg_visit_ms, \
             NULL AS nothing, 'a,\"b\"' AS t FROM clicks";
    let o = env.one_shot(&[q]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(
        stdout(&o),
        "╭───────┬─────────────┬──────────────┬─────────┬───────╮\n\
         │   big │ bounce_rate │ avg_visit_ms │ nothing │ t     │\n\
         ├───────┼─────────────┼──────────────┼─────────┼───────┤\n\
         │ 1,234 │       42.5% │       1m 23s │ NULL    │ a,\"b\" │\n\
         ╰───────┴─────────────┴──────────────┴─────────┴───────╯\n"
    );
    let o = env.one_shot(&[".mode csv", q]);
    assert_eq!(
        stdout(&o),
        "big,bounce_rate,avg_visit_ms,nothing,t\n1234,0.425,83000,,\"a,\"\"b\"\"\"\n"
    );
    let o = env.one_shot(&[".mode json", q]);
    assert_eq!(
        stdout(&o),
        "[{\"big\":1234,\"bounce_rate\":0.425,\"avg_visit_ms\":83000,\"nothing\":null,\"t\":\"a,\\\"b\\\"\"}]\n"
    );
}

#[test]
fn a_script_on_standard_input_runs_every_statement() {
    let env = Env::new();
    env.load();
    let script = ".mode csv\n\
                  SELECT path, COUNT(*) AS views\n\
                  \x20 FROM pageviews\n\
                  \x20GROUP BY path\n\
                  \x20ORDER BY views DESC, path;\n\
                  -- a comment\n\
                  SELECT COUNT(*) AS clicks FROM clicks; SELECT 'done' AS status\n";
    let o = env.run(&[&env.data_str()], Some(script));
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(
        stdout(&o),
        "path,views\n/pricing,2\n/,1\n/about,1\nclicks\n1\nstatus\ndone\n"
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn a_script_stops_at_the_first_error() {
    let env = Env::new();
    env.load();
    let script = ".mode csv\n\
                  SELECT COUNT(*) AS n FROM pageviews;\n\
                  SELECT nope FROM pageviews;\n\
                  SELECT 'after' AS never;\n";
    let o = env.run(&[&env.data_str()], Some(script));
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert_eq!(stdout(&o), "n\n4\n");
    let err = stderr(&o);
    assert!(err.starts_with("Error: no such column: nope"), "{err}");
    assert!(!stdout(&o).contains("never"));

    // The same with -c, and with a bad dot-command.
    let o = env.one_shot(&["SELECT 1 AS one", ".mode fancy", "SELECT 2 AS two"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("one") && !stdout(&o).contains("two"));
    assert!(
        stderr(&o).contains("Error: .mode: unknown mode"),
        "{}",
        describe(&o)
    );
    let o = env.one_shot(&[".nonsense"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "Error: unknown command .nonsense: try .help\n");
}

#[test]
fn asking_for_an_ip_column_says_none_is_stored() {
    let env = Env::new();
    env.load();
    let o = env.one_shot(&["SELECT ip FROM pageviews"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Error: no such column: ip — PledgeDB stores no IP addresses \
         (the IP is used once for the country, then dropped)\n"
    );
    // Errors never echo an address the user typed.
    for bad in [
        "SELECT 203.0.113.7.1 FROM pageviews",
        ".use 203.0.113.7",
        ".replay 203.0.113.7",
        ".import 203.0.113.7.log",
    ] {
        let o = env.one_shot(&[bad]);
        assert_eq!(o.status.code(), Some(1), "{bad}");
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.starts_with("Error: "), "{bad}: {all}");
        assert!(!all.contains("203.0.113.7"), "{bad}: {all}");
    }
}

#[test]
fn erase_then_export_shows_nothing() {
    let env = Env::new();
    env.load();
    let o = env.one_shot(&[".export-visitor alice"]);
    assert!(o.status.success(), "{}", describe(&o));
    let before: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(before["domain"], "shop.example");
    assert_eq!(before["events"].as_array().unwrap().len(), 2);

    let o = env.one_shot(&[".erase-visitor alice", ".export-visitor alice"]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    let (receipt, json) = out.split_once('\n').unwrap();
    assert!(
        receipt.starts_with("erasure request #1 recorded in shop.example"),
        "{receipt}"
    );
    let after: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(after["events"], serde_json::json!([]));
    assert!(!out.contains("alice"));

    // SQL no longer sees the visitor; once the purge has run (.compact),
    // nothing is left to erase.
    let o = env.one_shot(&[".mode csv", TOP_PAGES, ".compact", ".erase-visitor alice"]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("path,views\n/about,1\n/pricing,1\n"),
        "{out}"
    );
    assert!(
        out.ends_with("nothing is stored about that visitor in shop.example; nothing was erased\n"),
        "{out}"
    );
}

#[test]
fn the_audit_passes_a_clean_directory_and_fails_on_a_planted_ip() {
    let env = Env::new();
    env.load();
    let o = env.one_shot(&[".audit"]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    assert!(out.starts_with("clean: "), "{out}");
    assert!(
        out.trim_end().ends_with("bytes scanned, nothing IP-shaped"),
        "{out}"
    );

    std::fs::write(env.data().join("planted.txt"), "client 203.0.113.7\n").unwrap();
    let o = env.one_shot(&[".audit"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("FOUND IP-shaped text in 1 place(s)"),
        "{out}"
    );
    assert!(out.contains("  planted.txt at byte offset 0\n"), "{out}");
    assert!(
        stderr(&o).starts_with("Error: audit failed"),
        "{}",
        describe(&o)
    );
    assert!(!describe(&o).contains("203.0.113.7"));
}

#[test]
fn cron_import_exit_codes() {
    let env = Env::new();
    let data = env.data_str();
    env.write("hits.ndjson", &common::dataset(common::yesterday()));
    env.write("empty.ndjson", "");
    env.write("garbage.ndjson", "{nope\n{\"also\": \n");

    let o = env.run(&[&data, "import", "hits.ndjson"], None);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(stdout(&o).contains("  ingested   6"), "{}", describe(&o));

    for bad in ["empty.ndjson", "garbage.ndjson", "missing.ndjson"] {
        let o = env.run(&[&data, "import", bad, "--format", "ndjson"], None);
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", describe(&o));
        assert!(stderr(&o).starts_with("Error: "), "{bad}: {}", describe(&o));
    }
    let o = env.run(&[&data, "import", "garbage.ndjson"], None);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let o = env.run(&[&data, "import", "hits.ndjson", "--format", "bogus"], None);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}

#[test]
fn operator_commands() {
    let env = Env::new();
    env.load();
    let o = env.one_shot(&[
        ".mode csv",
        ".domains",
        ".retention raw=30 aggregates=400",
        ".consent required drop dnt=off",
        ".stats",
        ".timer on",
        "SELECT COUNT(*) AS n FROM pageviews",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    assert!(out.starts_with("domain,current\nshop.example,*\n"), "{out}");
    assert!(out.contains("raw,30 days,"), "{out}");
    assert!(out.contains("aggregates,400 days,"), "{out}");
    assert!(out.contains("consent,required,"), "{out}");
    assert!(out.contains("without consent,drop,"), "{out}");
    assert!(out.contains("dnt,off,"), "{out}");
    assert!(out.contains("shop.example,1,"), "{out}");
    assert!(out.contains("n\n4\nRun Time: "), "{out}");

    let o = env.one_shot(&[
        ".privacy",
        ".sessions 5",
        ".dashboard 3",
        ".tables",
        ".schema daily",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    for want in [
        "what every event records",
        "IP addresses (used once for the country",
        "│ shop.example │       30 │            400 │ required │",
        "opt-out tokens registered",
        "Top pages",
        "Top referrers",
        "google.com",
        "│ pageviews ",
        "CREATE TABLE daily (",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }

    let o = env.one_shot(&[".help"]);
    assert!(
        stdout(&o).contains(".import [OPTIONS] <FILE>..."),
        "{}",
        describe(&o)
    );
    let o = env.one_shot(&[".help import"]);
    assert!(stdout(&o).contains("Usage: .import"), "{}", describe(&o));
    let o = env.one_shot(&[".import"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Usage: .import"), "{}", describe(&o));
}
