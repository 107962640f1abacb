//! Exit codes and messages of imports that store nothing, of history
//! imports and of repeats, through the real binary (its clock is the
//! system's: the logs are written relative to today).

mod common;

use common::{Env, describe, stderr, stdout};
use pledgedb_core::{Clock, MS_PER_DAY, SystemClock, Timestamp};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

/// Page views of six people on each of `days` days, starting `back` days
/// ago at 10:00 UTC, plus one feed reader and one curl request a day.
fn log(back: i64, days: i64) -> String {
    let today = SystemClock.now().day().start();
    let mut out = String::new();
    for d in 0..days {
        let base = today.plus_millis((d - back) * MS_PER_DAY + 10 * 3_600_000);
        for v in 0..8 {
            let t = Timestamp(base.0 + v * 60_000);
            let (y, m, dd) = t.day().to_ymd();
            let secs = (t.0 - t.day().start().0) / 1000;
            let ua = match v {
                6 => "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 3 subscribers)",
                7 => "curl/8.5.0",
                _ => FIREFOX,
            };
            out.push_str(&format!(
                "203.0.113.{} - - [{dd:02}/{}/{y}:{:02}:{:02}:{:02} +0000] \"GET /p{v} HTTP/1.1\" 200 10 \"-\" \"{ua}\"\n",
                v + 1,
                MONTHS[(m - 1) as usize],
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            ));
        }
    }
    out
}

/// The count of a row of an import summary.
fn row(out: &str, label: &str) -> Option<u64> {
    out.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some(label))
            .then(|| words.next()?.replace(',', "").parse().ok())
            .flatten()
    })
}

#[test]
fn an_import_that_stores_nothing_fails_and_says_how_to_proceed() {
    let env = Env::new();
    let data = env.data_str();
    // Eleven years back: older than the 3,650-day window.
    env.write("2015.log", &log(11 * 365, 2));
    let o = env.run(
        &[&data, "import", "2015.log", "--domain", "d.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(stderr(&o).contains("--max-past-days"), "{}", describe(&o));
    assert_eq!(row(&stdout(&o), "rejected"), Some(12), "{}", describe(&o));

    // Within a wider window, but past the aggregate retention (730 days).
    let since = SystemClock.now().day().plus(-(11 * 365) - 1).to_string();
    let o = env.run(
        &[
            &data,
            "import",
            "2015.log",
            "--domain",
            "d.example",
            "--since",
            &since,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(stderr(&o).contains("aggregates=DAYS"), "{}", describe(&o));

    // A recent log creates the domain; with long aggregates the old log is
    // kept as anonymous day roll-ups.
    env.write("recent.log", &log(2, 1));
    let o = env.run(
        &[&data, "import", "recent.log", "--domain", "d.example"],
        None,
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert!(
        stdout(&o).contains("feed readers 1, HTTP libraries 1"),
        "{}",
        describe(&o)
    );
    let o = env.one_shot(&[".use d.example", ".retention aggregates=36500"]);
    assert!(o.status.success(), "{}", describe(&o));
    let o = env.run(
        &[
            &data,
            "import",
            "2015.log",
            "--domain",
            "d.example",
            "--since",
            &since,
        ],
        None,
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(row(&stdout(&o), "history"), Some(12), "{}", describe(&o));

    // The same file again: refused, exit 1, and --again is the way out.
    let o = env.run(
        &[
            &data,
            "import",
            "2015.log",
            "--domain",
            "d.example",
            "--since",
            &since,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        stdout(&o).contains("refused as a repeat"),
        "{}",
        describe(&o)
    );
    assert!(stderr(&o).contains("--again"), "{}", describe(&o));
    let o = env.one_shot(&[".import recent.log --domain d.example"]);
    assert_ne!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(stderr(&o).contains("--again"), "{}", describe(&o));
    let o = env.one_shot(&[".import recent.log --domain d.example --again"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(stdout(&o).contains("imported again"), "{}", describe(&o));

    // Keeping feed readers and HTTP libraries.
    env.write("other.log", &log(3, 1));
    let o = env.run(
        &[
            &data,
            "import",
            "other.log",
            "--domain",
            "d.example",
            "--keep-feed-readers",
            "--keep-http-libraries",
        ],
        None,
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(row(&stdout(&o), "ingested"), Some(8), "{}", describe(&o));
}

#[test]
fn a_five_month_old_log_goes_to_the_aggregates_and_exits_zero() {
    let env = Env::new();
    let data = env.data_str();
    env.write("old.log", &log(150, 3));
    let o = env.run(&[&data, "import", "old.log", "--domain", "d.example"], None);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(row(&stdout(&o), "history"), Some(18), "{}", describe(&o));
    assert_eq!(row(&stdout(&o), "ingested"), Some(0), "{}", describe(&o));
    let o = env.run(
        &[
            &data,
            "import",
            "old.log",
            "--domain",
            "d.example",
            "--max-past-days",
            "0",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let o = env.run(
        &[
            &data,
            "import",
            "old.log",
            "--domain",
            "d.example",
            "--since",
            "someday",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}

#[test]
fn a_truncated_gzip_fails_and_then_resumes() {
    use std::io::Write;
    let env = Env::new();
    let data = env.data_str();
    let text = log(40, 30);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(env.path().join("cut.log.gz"), &gz[..gz.len() * 2 / 3]).unwrap();
    std::fs::write(env.path().join("full.log.gz"), &gz).unwrap();
    let o = env.run(
        &[&data, "import", "cut.log.gz", "--domain", "d.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let first = row(&stdout(&o), "ingested").unwrap();
    assert!(first > 0 && first < 180, "{}", describe(&o));
    let o = env.run(
        &[&data, "import", "full.log.gz", "--domain", "d.example"],
        None,
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert!(
        stdout(&o).contains("resumed: the first"),
        "{}",
        describe(&o)
    );
    assert_eq!(
        row(&stdout(&o), "ingested").unwrap() + first,
        180,
        "{}",
        describe(&o)
    );
    let o = env.run(
        &[&data, "import", "full.log.gz", "--domain", "d.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        stdout(&o).contains("refused as a repeat"),
        "{}",
        describe(&o)
    );
}
