//! Access logs generated here, with a record of what each line is, imported
//! into a fresh database: every counter must match exactly.

mod common;

use common::{Rng, assert_audit_clean, assert_no_ip, countries, gzip, open_db};
use pledgedb_core::{MS_PER_DAY, TimeRange, Timestamp};
use pledgedb_import::{Format, ImportError, ImportOptions, ImportSummary, Progress, import};
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};

const DEFAULT_DOMAIN: &str = "site.example";
const VHOSTS: &[(&str, &str)] = &[
    ("shop.example:443", "shop.example"),
    ("Blog.Example:80", "blog.example"),
    ("docs.example", "docs.example"),
];

const HUMANS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
];

const BOTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
];

const PAGES: &[&str] = &[
    "/",
    "/pricing",
    "/blog/post-1",
    "/blog/post-2?ref=home",
    "/docs/start?utm_source=news&utm_medium=email",
    "/search?q=203.0.113.77",
    "/p?utm_content=198.51.100.9",
    "/dir.v2/",
    "/report.pdf",
];

const ASSETS: &[&str] = &[
    "/static/app.js",
    "/static/app.css?v=3",
    "/img/logo.PNG",
    "/fonts/inter.woff2",
    "/favicon.ico",
    "/robots.txt",
    "/static/app.js.map",
];

const REFERRERS: &[&str] = &[
    "-",
    "https://www.google.com/search?q=x",
    "http://198.51.100.7/links",
    "https://news.example/",
];

/// Offsets (minutes east of UTC) the log's times are written in.
const OFFSETS: &[i64] = &[0, -420, 330, 60];

/// What one line is, and so what the import must make of it.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Blank,
    Stored {
        domain: String,
        country: &'static str,
        anonymous: bool,
        ts: Timestamp,
    },
    Asset,
    Status,
    Method,
    Bot,
    Expired,
    Malformed,
    Rejected,
}

struct Log {
    text: String,
    kinds: Vec<Kind>,
    last: Timestamp,
}

fn start() -> Timestamp {
    Timestamp::from_ymd_hms(2026, 3, 2, 0, 0, 0)
}

/// An access-log time: `DD/Mon/YYYY:HH:MM:SS ±HHMM` for `ts` written in a
/// zone `offset` minutes east of UTC.
fn clf(ts: Timestamp, offset: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let local = ts.plus_millis(offset * 60_000);
    let (y, m, d) = local.day().to_ymd();
    let secs = local.0.rem_euclid(MS_PER_DAY) / 1000;
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[m as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        offset.abs() / 60,
        offset.abs() % 60
    )
}

/// A client: `%h` and the country its events must get.
fn client(rng: &mut Rng) -> (String, &'static str) {
    let n = rng.below(250) + 1;
    match rng.below(5) {
        0 => (format!("192.0.2.{n}"), "DE"),
        1 => (format!("198.51.100.{n}"), "FR"),
        2 => (format!("203.0.113.{n}"), "US"),
        3 => (format!("2001:db8:1::{n:x}"), "JP"),
        _ => (format!("2001:db8:2:{n:x}::1"), "GB"),
    }
}

/// Generates `n` lines of a combined log, with a virtual-host field first
/// when `vhost` is set.
fn generate(n: u64, vhost: bool, seed: u64) -> Log {
    let mut rng = Rng(seed);
    let mut text = String::new();
    let mut kinds = Vec::new();
    let mut last = start();
    for i in 1..=n {
        let ts = start().plus_millis(i as i64 * 60_000);
        last = last.max(ts);
        let offset = *rng.pick(OFFSETS);
        let (vhost_field, domain) = if vhost {
            let (f, d) = *rng.pick(VHOSTS);
            (format!("{f} "), d.to_string())
        } else {
            (String::new(), DEFAULT_DOMAIN.to_string())
        };
        let (ip, country) = client(&mut rng);
        let referrer = *rng.pick(REFERRERS);
        let human = *rng.pick(HUMANS);
        let page = *rng.pick(PAGES);
        let line = |host: &str,
                    when: Timestamp,
                    method: &str,
                    target: &str,
                    status: u16,
                    ua: &str| {
            format!(
                r#"{vhost_field}{host} - - [{}] "{method} {target} HTTP/1.1" {status} 512 "{referrer}" "{ua}""#,
                clf(when, offset)
            )
        };
        let (kind, text_line) = if i % 250 == 0 {
            (
                Kind::Blank,
                if i % 500 == 0 {
                    "   ".into()
                } else {
                    String::new()
                },
            )
        } else if i % 200 == 7 {
            let broken = match (i / 200) % 7 {
                0 => format!("{ip} - - [02/Mar/2026:10:00"),
                1 => "this is not a log line".to_string(),
                2 => line(&ip, ts, "GET", page, 200, human).replace("/Mar/", "/Mrz/"),
                3 => line(&ip, ts, "GET", page, 200, human).replace(" 200 ", " 2x0 "),
                4 => format!(r#"{ip} - - [{}] "GET / HTTP/1.1 200 1"#, clf(ts, offset)),
                5 => format!(r#"{{"type":"page_view","ip":"{ip}"}}"#),
                _ => format!(
                    r#"{vhost_field}{ip} - - [{}] "GET HTTP/1.1" 200 1 "-" "{human}""#,
                    clf(ts, offset)
                ),
            };
            (Kind::Malformed, broken)
        } else if i == 1001 {
            let long = format!("/{}", "a".repeat(9000));
            (Kind::Rejected, line(&ip, ts, "GET", &long, 200, human))
        } else if i == 1502 {
            let old = Timestamp::from_ymd_hms(2010, 1, 1, 0, 0, 0);
            (Kind::Rejected, line(&ip, old, "GET", page, 200, human))
        } else if i == 2003 {
            let huge = format!("/{}", "b".repeat(70_000));
            (Kind::Malformed, line(&ip, ts, "GET", &huge, 200, human))
        } else if i % 300 == 11 {
            let old = ts.plus_millis(-120 * MS_PER_DAY);
            (Kind::Expired, line(&ip, old, "GET", page, 200, human))
        } else {
            match rng.below(100) {
                0..=59 => {
                    let method = if rng.below(10) == 0 { "HEAD" } else { "GET" };
                    let status = *rng.pick(&[200, 200, 200, 204, 206]);
                    let kind = Kind::Stored {
                        domain: domain.clone(),
                        country,
                        anonymous: false,
                        ts,
                    };
                    (kind, line(&ip, ts, method, page, status, human))
                }
                60..=71 => {
                    // A crawler asking for an asset counts as an asset.
                    let ua = if rng.below(4) == 0 {
                        *rng.pick(BOTS)
                    } else {
                        human
                    };
                    let asset = *rng.pick(ASSETS);
                    (Kind::Asset, line(&ip, ts, "GET", asset, 200, ua))
                }
                72..=81 => {
                    let status = *rng.pick(&[404, 500, 301, 302, 304, 403]);
                    let method = *rng.pick(&["GET", "POST"]);
                    (Kind::Status, line(&ip, ts, method, page, status, human))
                }
                82..=87 => {
                    let method = *rng.pick(&["POST", "PUT", "OPTIONS", "DELETE"]);
                    (Kind::Method, line(&ip, ts, method, page, 200, human))
                }
                88..=95 => {
                    let bot = *rng.pick(BOTS);
                    (Kind::Bot, line(&ip, ts, "GET", page, 200, bot))
                }
                _ => {
                    let host = format!("host-{}.isp.example", rng.below(50));
                    let kind = Kind::Stored {
                        domain: domain.clone(),
                        country: "ZZ",
                        anonymous: true,
                        ts,
                    };
                    (kind, line(&host, ts, "GET", page, 200, human))
                }
            }
        };
        text.push_str(&text_line);
        text.push('\n');
        kinds.push(kind);
    }
    Log { text, kinds, last }
}

/// What importing lines with these kinds must give.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    lines: u64,
    blank: u64,
    hit_lines: u64,
    ingested: u64,
    ingested_anonymous: u64,
    assets: u64,
    status: u64,
    method: u64,
    bots: u64,
    expired: u64,
    malformed: Vec<u64>,
    rejected: Vec<u64>,
    per_domain: BTreeMap<String, u64>,
    countries: BTreeMap<String, BTreeMap<String, u64>>,
    stored_ts: BTreeMap<String, Vec<i64>>,
}

fn expected(kinds: &[Kind]) -> Expected {
    let mut e = Expected::default();
    for (i, k) in kinds.iter().enumerate() {
        let no = i as u64 + 1;
        e.lines += 1;
        match k {
            Kind::Blank => e.blank += 1,
            Kind::Stored {
                domain,
                country,
                anonymous,
                ts,
            } => {
                e.hit_lines += 1;
                if *anonymous {
                    e.ingested_anonymous += 1;
                } else {
                    e.ingested += 1;
                }
                *e.per_domain.entry(domain.clone()).or_default() += 1;
                *e.countries
                    .entry(domain.clone())
                    .or_default()
                    .entry(country.to_string())
                    .or_default() += 1;
                e.stored_ts.entry(domain.clone()).or_default().push(ts.0);
            }
            Kind::Asset => e.assets += 1,
            Kind::Status => e.status += 1,
            Kind::Method => e.method += 1,
            Kind::Bot => e.bots += 1,
            Kind::Expired => {
                e.hit_lines += 1;
                e.expired += 1;
            }
            Kind::Malformed => e.malformed.push(no),
            Kind::Rejected => {
                e.hit_lines += 1;
                e.rejected.push(no);
            }
        }
    }
    e
}

fn check_summary(s: &ImportSummary, e: &Expected) {
    assert_eq!(s.format, Some(Format::Combined));
    assert_eq!(s.lines, e.lines, "lines");
    assert_eq!(s.blank, e.blank, "blank");
    assert_eq!(s.hit_lines, e.hit_lines, "hit lines");
    assert_eq!(s.hits, e.hit_lines, "hits");
    assert_eq!(s.ingested, e.ingested, "ingested");
    assert_eq!(s.ingested_anonymous, e.ingested_anonymous, "anonymous");
    assert_eq!(s.filtered_assets, e.assets, "assets");
    assert_eq!(s.filtered_status, e.status, "status");
    assert_eq!(s.filtered_method, e.method, "method");
    assert_eq!(s.filtered_bots, e.bots, "bots");
    // Hits past the raw retention go to the aggregate file now, rather
    // than being dropped as expired.
    assert_eq!(
        s.aggregated + s.aggregated_anonymous,
        e.expired,
        "past raw retention"
    );
    assert_eq!(s.dropped_expired, 0, "expired");
    assert_eq!(
        s.dropped_opt_out + s.dropped_dnt + s.dropped_gpc + s.dropped_no_consent + s.dropped_other,
        0
    );
    assert_eq!(s.malformed.total, e.malformed.len() as u64, "malformed");
    let kept = e.malformed.len().min(20);
    assert_eq!(
        s.malformed.lines(),
        e.malformed[..kept].to_vec(),
        "malformed lines"
    );
    assert_eq!(s.rejected.total, e.rejected.len() as u64, "rejected");
    assert_eq!(s.rejected.lines(), e.rejected, "rejected lines");
    // Every line is accounted for exactly once.
    assert_eq!(
        s.blank + s.malformed.total + s.filtered() + s.hit_lines,
        s.lines
    );
    assert_eq!(s.stored() + s.dropped() + s.rejected.total, s.hits);
}

fn check_db(db: &pledgedb_core::Db, e: &Expected) {
    let mut domains: Vec<String> = e.per_domain.keys().cloned().collect();
    domains.sort();
    assert_eq!(db.domains(), domains);
    for (domain, n) in &e.per_domain {
        let d = db.domain(domain).unwrap();
        assert_eq!(d.count(TimeRange::all()).unwrap(), *n, "{domain}");
        assert_eq!(&countries(db, domain), &e.countries[domain], "{domain}");
        let mut got: Vec<i64> = d
            .events(TimeRange::all())
            .unwrap()
            .iter()
            .map(|ev| ev.ts.0)
            .collect();
        got.sort_unstable();
        let mut want = e.stored_ts[domain].clone();
        want.sort_unstable();
        assert_eq!(got, want, "timestamps of {domain}");
    }
    assert_audit_clean(db);
}

fn now_after(log: &Log) -> Timestamp {
    log.last.plus_millis(60_000)
}

fn run(
    log: &Log,
    input: &[u8],
    opts: &ImportOptions,
) -> (
    tempfile::TempDir,
    pledgedb_core::Db,
    ImportSummary,
    Vec<Progress>,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now_after(log));
    let mut calls = Vec::new();
    let summary = import(&db, input, opts, |p| calls.push(p)).unwrap();
    (dir, db, summary, calls)
}

#[test]
fn combined_log_counts_match_the_generator() {
    let log = generate(3000, false, 7);
    let e = expected(&log.kinds);
    // The generator made some of everything.
    for n in [
        e.blank,
        e.ingested,
        e.ingested_anonymous,
        e.assets,
        e.status,
        e.method,
        e.bots,
        e.expired,
    ] {
        assert!(n > 0, "{e:?}");
    }
    let opts = ImportOptions::default().with_default_domain(DEFAULT_DOMAIN);
    let (_dir, db, s, calls) = run(&log, log.text.as_bytes(), &opts);
    check_summary(&s, &e);
    assert!(!s.gzip);
    assert!(s.flushed);
    assert_eq!(s.bytes, log.text.len() as u64);
    assert_eq!(
        s.rejected.first[0].reason.split(':').next(),
        Some("hit rejected")
    );
    assert!(s.rejected.first[0].reason.contains("`url`"));
    assert!(s.rejected.first[1].reason.contains("`timestamp`"));
    assert_eq!(
        s.malformed
            .first
            .iter()
            .find(|m| m.line == 2003)
            .map(|m| m.reason.as_str()),
        Some("line is longer than 65536 bytes")
    );
    check_db(&db, &e);

    // Progress: every 4,096 lines is never reached here, so one final call.
    assert_eq!(
        calls,
        vec![Progress {
            lines: 3000,
            bytes: log.text.len() as u64
        }]
    );

    // Nothing printable about the import names an IP.
    assert_no_ip(&s.to_string());
    assert_no_ip(&format!("{s:?}"));
    assert_no_ip(&serde_json::to_string(&s).unwrap());
    // Imports are recorded now: the summary says what a repeat would do.
    assert!(s.to_string().contains("importing it again is refused"));
}

#[test]
fn vhost_field_gives_the_domain() {
    let log = generate(2000, true, 11);
    let e = expected(&log.kinds);
    assert_eq!(e.per_domain.len(), 3);
    // No default domain needed: every line has a virtual host.
    let (_dir, db, s, _) = run(&log, log.text.as_bytes(), &ImportOptions::default());
    check_summary(&s, &e);
    check_db(&db, &e);
}

#[test]
fn gzip_and_concatenated_gzip_give_the_same_counts() {
    let log = generate(2500, false, 23);
    let e = expected(&log.kinds);
    let opts = ImportOptions::default().with_default_domain(DEFAULT_DOMAIN);
    let (_d0, _db0, plain, _) = run(&log, log.text.as_bytes(), &opts);

    let one = gzip(log.text.as_bytes());
    let (_d1, db1, s1, calls) = run(&log, &one, &opts);
    check_summary(&s1, &e);
    check_db(&db1, &e);
    assert!(s1.gzip);
    assert_eq!(s1.bytes, one.len() as u64);
    assert_eq!(calls.last().map(|p| p.bytes), Some(one.len() as u64));

    // Two members, cut in the middle of a line.
    let cut = log.text.len() / 2 + 17;
    let mut two = gzip(&log.text.as_bytes()[..cut]);
    two.extend_from_slice(&gzip(&log.text.as_bytes()[cut..]));
    let (_d2, db2, s2, _) = run(&log, &two, &opts);
    check_summary(&s2, &e);
    check_db(&db2, &e);
    assert_eq!(s2.bytes, two.len() as u64);

    let same = |s: &ImportSummary| ImportSummary {
        gzip: false,
        bytes: 0,
        ..s.clone()
    };
    assert_eq!(same(&s1), same(&plain));
    assert_eq!(same(&s2), same(&plain));
}

#[test]
fn progress_is_reported_every_4096_lines() {
    let log = generate(9000, false, 5);
    let opts = ImportOptions::default().with_default_domain(DEFAULT_DOMAIN);
    let (_dir, _db, s, calls) = run(&log, log.text.as_bytes(), &opts);
    let lines: Vec<u64> = calls.iter().map(|p| p.lines).collect();
    assert_eq!(lines, vec![4096, 8192, 9000]);
    assert!(calls.windows(2).all(|w| w[0].bytes < w[1].bytes));
    assert_eq!(calls.last().map(|p| p.bytes), Some(s.bytes));
}

/// Gives `limit` bytes of its input, then fails.
struct FailAfter<'a> {
    data: &'a [u8],
    limit: usize,
}

impl Read for FailAfter<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.limit == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = out.len().min(self.limit).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.limit -= n;
        Ok(n)
    }
}

#[test]
fn read_error_mid_file_returns_what_was_done() {
    let log = generate(1200, false, 3);
    let cut = log.text.len() / 2;
    let complete = log.text[..cut].matches('\n').count();
    let e = expected(&log.kinds[..complete]);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now_after(&log));
    let reader = BufReader::with_capacity(
        1000,
        FailAfter {
            data: log.text.as_bytes(),
            limit: cut,
        },
    );
    let opts = ImportOptions::default().with_default_domain(DEFAULT_DOMAIN);
    let err = import(&db, reader, &opts, |_| {}).unwrap_err();
    let ImportError::Io { line, summary, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*line, complete as u64 + 1);
    check_summary(summary, &e);
    assert!(summary.flushed);
    // What the summary counts as stored is on disk.
    check_db(&db, &e);
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "read error at line {}: disk on fire",
            complete + 1
        )),
        "{msg}"
    );
    assert!(msg.contains("hits stored and flushed"), "{msg}");
    assert_no_ip(&msg);
}

#[test]
fn truncated_gzip_is_an_io_error_with_a_summary() {
    let log = generate(1000, false, 9);
    let gz = gzip(log.text.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now_after(&log));
    let opts = ImportOptions::default().with_default_domain(DEFAULT_DOMAIN);
    let err = import(&db, &gz[..gz.len() - 10], &opts, |_| {}).unwrap_err();
    let summary = err.summary().unwrap();
    assert!(matches!(err, ImportError::Io { .. }), "{err}");
    assert!(summary.gzip && summary.flushed);
    assert!(summary.lines > 900, "{}", summary.lines);
}

#[test]
fn common_format_and_explicit_format() {
    let log = generate(600, false, 13);
    // Cut every line after its size field: the Common Log Format.
    let common: String = log
        .text
        .lines()
        .map(|l| match l.find(" 512 \"") {
            Some(i) if !l.contains("2x0") => format!("{}\n", &l[..i + 4]),
            _ => format!("{l}\n"),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now_after(&log));
    let opts = ImportOptions::default().with_default_domain(DEFAULT_DOMAIN);
    let s = import(&db, common.as_bytes(), &opts, |_| {}).unwrap();
    assert_eq!(s.format, Some(Format::Common));
    // Without user agents, crawlers cannot be told apart.
    assert_eq!(s.filtered_bots, 0);
    let e = expected(&log.kinds);
    assert_eq!(s.filtered_status, e.status);
    assert_eq!(s.filtered_method, e.method);
    assert_eq!(s.filtered_assets, e.assets);
    assert_eq!(
        s.ingested + s.ingested_anonymous,
        e.ingested + e.ingested_anonymous + e.bots
    );

    // A combined log read as common: every non-blank line is malformed.
    let opts = opts.with_format(Format::Common);
    let s = import(&db, log.text.as_bytes(), &opts, |_| {}).unwrap();
    assert_eq!(s.malformed.total + s.blank, s.lines);
    assert_eq!(s.hits, 0);
}

#[test]
fn a_log_without_vhosts_needs_a_default_domain() {
    let log = generate(50, false, 1);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), now_after(&log));
    let err = import(&db, log.text.as_bytes(), &ImportOptions::default(), |_| {}).unwrap_err();
    let first_page = log
        .kinds
        .iter()
        .position(|k| matches!(k, Kind::Stored { .. } | Kind::Expired | Kind::Rejected))
        .unwrap() as u64
        + 1;
    match &err {
        ImportError::DomainRequired { line, summary } => {
            assert_eq!(*line, first_page);
            assert_eq!(summary.hits, 0);
        }
        other => panic!("{other}"),
    }
    let bad = ImportOptions::default().with_default_domain("Not A Domain");
    assert!(matches!(
        import(&db, log.text.as_bytes(), &bad, |_| {}),
        Err(ImportError::Options(_))
    ));
}

#[test]
fn unknown_format_and_empty_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path(), start());
    let junk: String = (0..40).map(|i| format!("junk line {i}\n")).collect();
    let err = import(&db, junk.as_bytes(), &ImportOptions::default(), |_| {}).unwrap_err();
    assert!(
        matches!(err, ImportError::UnknownFormat { lines: 16, .. }),
        "{err}"
    );
    let err = import(&db, &b"a\nb\n"[..], &ImportOptions::default(), |_| {}).unwrap_err();
    assert!(
        matches!(err, ImportError::UnknownFormat { lines: 2, .. }),
        "{err}"
    );
    let s = import(&db, &b"\n\n  \n"[..], &ImportOptions::default(), |_| {}).unwrap();
    assert_eq!((s.lines, s.blank, s.format, s.flushed), (3, 3, None, true));
    let s = import(&db, &b""[..], &ImportOptions::default(), |_| {}).unwrap();
    assert_eq!(s.lines, 0);
}

#[test]
fn import_file_reads_from_disk() {
    let log = generate(300, true, 17);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log.1");
    std::fs::write(&path, gzip(log.text.as_bytes())).unwrap();
    let db = open_db(dir.path(), now_after(&log));
    let s = pledgedb_import::import_file(&db, &path, &ImportOptions::default(), |_| {}).unwrap();
    check_summary(&s, &expected(&log.kinds));
    let missing = pledgedb_import::import_file(
        &db,
        dir.path().join("nope"),
        &ImportOptions::default(),
        |_| {},
    );
    assert!(matches!(missing, Err(ImportError::Open { .. })));
}
