//! Importing old logs (years and months back), repeats, resumes and
//! automated clients. Every log is written here, relative to the
//! `ManualClock`'s "now"; the counts are exact.

mod common;

use common::{gzip, open_db};
use pledgedb_core::{
    DayRange, Device, Dimension, MS_PER_DAY, Query, Retention, TimeRange, Timestamp,
};
use pledgedb_import::{ImportError, ImportOptions, ImportSummary, Repeat, import};

const DOMAIN: &str = "old.example";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const FEEDS: &[&str] = &[
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers)",
    "Mozilla/5.0 (compatible; Inoreader/1.0; +http://www.inoreader.com/feed-fetcher)",
    "NewsBlur Feed Fetcher - 12 subscribers - http://www.newsblur.com/",
    "Tiny Tiny RSS/22.08 (https://tt-rss.org/)",
    "FreshRSS/1.23.1 (Linux; https://freshrss.org)",
    "Miniflux/2.0.50 (https://miniflux.app)",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
    "Feedbin feed-id:1234 - 5 subscribers",
    "Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher)",
    "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)",
    "Overcast/1.0 Podcast Sync (3 subscribers; +http://overcast.fm/)",
    "AntennaPod/3.2.0",
];
const LIBRARIES: &[&str] = &[
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "Python-urllib/3.11",
    "Go-http-client/1.1",
    "Java/17.0.2",
    "okhttp/4.12.0",
    "axios/1.6.2",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "libwww-perl/6.72",
    "Apache-HttpClient/4.5.13 (Java/11.0.16)",
    "GuzzleHttp/7",
    "HTTPie/3.2.2",
    "Python/3.11 aiohttp/3.9.1",
    "python-httpx/0.27.0",
    "reqwest/0.12.4",
];

fn now() -> Timestamp {
    Timestamp::from_ymd_hms(2026, 6, 1, 12, 0, 0)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn clf_time(t: Timestamp) -> String {
    let (y, m, d) = t.day().to_ymd();
    let secs = (t.0 - t.day().start().0) / 1000;
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn line(t: Timestamp, ip: &str, path: &str, ua: &str) -> String {
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"https://www.example.org/\" \"{ua}\"\n",
        clf_time(t)
    )
}

/// A log of `days` days from `first`, all between 10:00 and 11:00: each day
/// `visitors` people (one IP each) view `/` and then `/page-{v}`, ten
/// seconds apart. Returns the text and the page views per day.
fn people(first: Timestamp, days: i64, visitors: u32) -> (String, u64) {
    let mut text = String::new();
    for d in 0..days {
        let base = first
            .day()
            .start()
            .plus_millis(d * MS_PER_DAY + 10 * 3_600_000);
        for v in 0..visitors {
            let ip = format!("203.0.113.{}", v % 250 + 1);
            let ua = if v % 2 == 0 { FIREFOX } else { CHROME };
            let t = base.plus_millis(i64::from(v) * 1000);
            text.push_str(&line(t, &ip, "/", ua));
            text.push_str(&line(t.plus_millis(10_000), &ip, &format!("/page-{v}"), ua));
        }
    }
    (text, 2 * u64::from(visitors))
}

fn opts() -> ImportOptions {
    ImportOptions::default().with_default_domain(DOMAIN)
}

fn days_of(first: Timestamp, days: i64) -> Query {
    Query::days(DayRange::new(
        first.day(),
        first.day().plus(days as i32 - 1),
    ))
}

fn long_aggregates(db: &pledgedb_core::Db) {
    let d = db.create_domain(DOMAIN).unwrap();
    d.set_retention(Retention {
        aggregate_days: 36_500,
        ..Retention::default()
    })
    .unwrap();
}

#[test]
fn a_log_from_years_back_is_refused_until_the_window_and_retention_allow_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = open_db(tmp.path(), now());
    let first = Timestamp::from_ymd_hms(2015, 3, 1, 0, 0, 0);
    let (text, per_day) = people(first, 3, 8);
    let hits = 3 * per_day;

    // Older than the engine's 3,650-day window: rejected, nothing stored,
    // and the summary says how to proceed.
    let s = import(&db, text.as_bytes(), &opts(), |_| {}).unwrap();
    assert_eq!(s.stored(), 0);
    assert_eq!(s.rejected_too_old, hits);
    assert!(
        s.nothing_stored().unwrap().contains("--max-past-days"),
        "{s}"
    );
    assert!(db.domains().is_empty());

    // A wider window, but the aggregates of a default domain live 730 days.
    let wide = ImportOptions {
        since: Some(first.day()),
        ..opts()
    };
    let s = import(&db, text.as_bytes(), &wide, |_| {}).unwrap();
    assert_eq!(s.stored(), 0);
    assert_eq!(s.dropped_expired, hits);
    assert!(
        s.nothing_stored().unwrap().contains("aggregate_days"),
        "{s}"
    );

    // With aggregates kept long enough, every hit lands in its day's
    // roll-up of the aggregate file: no raw event.
    long_aggregates(&db);
    let s = import(&db, text.as_bytes(), &wide, |_| {}).unwrap();
    assert_eq!(s.aggregated, hits, "{s}");
    assert_eq!(s.repeat, Repeat::New);
    assert!(s.nothing_stored().is_none());
    let d = db.domain(DOMAIN).unwrap();
    assert_eq!(d.count(TimeRange::all()).unwrap(), 0);
    let q = days_of(first, 3);
    let m = d.metrics(&q).unwrap();
    assert_eq!((m.pageviews, m.visits, m.bounces), (hits, 3 * 8, 0));
    for (day, m) in d.timeseries(&q).unwrap() {
        assert_eq!((m.pageviews, m.visitors), (per_day, 8), "{day}");
    }
    let pages = d.breakdown(&q, Dimension::Page, 100).unwrap();
    let mut names: Vec<(&str, u64)> = pages
        .iter()
        .map(|(p, m)| (p.as_str(), m.pageviews))
        .collect();
    names.sort_unstable();
    // "/" was seen by 8 people a day; each /page-N by one: folded.
    assert_eq!(names, vec![("(other)", 3 * 8), ("/", 3 * 8)]);
    // The same with --max-past-days is now a repeat.
    let by_days = ImportOptions {
        max_past_days: Some(5000),
        ..opts()
    };
    let s = import(&db, text.as_bytes(), &by_days, |_| {}).unwrap();
    assert_eq!(s.repeat, Repeat::Refused { lines: hits });
    assert_eq!(d.metrics(&q).unwrap().pageviews, hits);
}

#[test]
fn a_log_from_months_back_goes_to_the_aggregates() {
    for (days_back, days) in [(150, 2), (91, 1), (700, 3)] {
        let tmp = tempfile::tempdir().unwrap();
        let db = open_db(tmp.path(), now());
        let first = now().plus_millis(-days_back * MS_PER_DAY).day().start();
        let (text, per_day) = people(first, days, 6);
        let s = import(&db, text.as_bytes(), &opts(), |_| {}).unwrap();
        let hits = per_day * days as u64;
        assert_eq!(s.aggregated, hits, "{days_back}: {s}");
        assert_eq!(s.dropped_expired, 0);
        let d = db.domain(DOMAIN).unwrap();
        assert_eq!(d.count(TimeRange::all()).unwrap(), 0);
        let q = days_of(first, days);
        let m = d.metrics(&q).unwrap();
        assert_eq!((m.pageviews, m.visits), (hits, 6 * days as u64));
        let devices = d.breakdown(&q, Dimension::Device, 10).unwrap();
        assert_eq!(devices[0].0, "desktop");
        assert_eq!(devices[0].1.pageviews, hits);
        db.close().unwrap();
    }
}

#[test]
fn a_log_across_the_retention_edge_splits_into_raw_events_and_aggregates() {
    let tmp = tempfile::tempdir().unwrap();
    let db = open_db(tmp.path(), now());
    // 95 to 86 days back: the first six days are past the 90-day
    // retention (every line is at 10:00-11:00, "now" at 12:00, so even the
    // lines of the day 90 days back are).
    let first = now().plus_millis(-95 * MS_PER_DAY).day().start();
    let (text, per_day) = people(first, 10, 5);
    let s = import(&db, text.as_bytes(), &opts(), |_| {}).unwrap();
    assert_eq!(s.aggregated, 6 * per_day, "{s}");
    assert_eq!(s.ingested, 4 * per_day, "{s}");
    db.flush().unwrap();
    let d = db.domain(DOMAIN).unwrap();
    assert_eq!(d.count(TimeRange::all()).unwrap(), 4 * per_day);
    let series = d.timeseries(&days_of(first, 10)).unwrap();
    assert!(
        series.iter().all(|(_, m)| m.pageviews == per_day),
        "{series:?}"
    );
    let sources = d.explain(&days_of(first, 10)).unwrap();
    assert_eq!(
        sources
            .iter()
            .filter(|(_, s)| *s == pledgedb_core::Source::Aggregate)
            .count(),
        6
    );
}

#[test]
fn a_repeat_is_refused_and_again_counts_twice() {
    for recent in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let db = open_db(tmp.path(), now());
        let back = if recent { 3 } else { 120 };
        let first = now().plus_millis(-back * MS_PER_DAY).day().start();
        let (text, per_day) = people(first, 2, 7);
        let hits = 2 * per_day;
        let q = days_of(first, 2);
        let s = import(&db, text.as_bytes(), &opts(), |_| {}).unwrap();
        assert_eq!(s.stored(), hits);
        assert_eq!(s.repeat, Repeat::New);
        let d = db.domain(DOMAIN).unwrap();
        let before = d.metrics(&q).unwrap();
        assert_eq!(before.pageviews, hits);
        // The same content, gzip-compressed this time: still a repeat.
        for input in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
            let s = import(&db, &input[..], &opts(), |_| {}).unwrap();
            assert_eq!(s.repeat, Repeat::Refused { lines: hits });
            assert_eq!(s.already_imported, hits);
            assert_eq!(s.stored(), 0);
            assert!(s.nothing_stored().unwrap().contains("--again"));
            assert!(s.to_string().contains("refused as a repeat"));
            assert_eq!(d.metrics(&q).unwrap(), before, "nothing doubled");
        }
        let again = ImportOptions {
            again: true,
            ..opts()
        };
        let s = import(&db, text.as_bytes(), &again, |_| {}).unwrap();
        assert_eq!(s.repeat, Repeat::Again);
        assert_eq!(s.stored(), hits);
        assert_eq!(d.metrics(&q).unwrap().pageviews, 2 * hits);
        // A different file is new.
        let (other, _) = people(first.plus_millis(-10 * MS_PER_DAY), 1, 3);
        let s = import(&db, other.as_bytes(), &opts(), |_| {}).unwrap();
        assert_eq!(s.repeat, Repeat::New);
    }
}

/// Imports `cut` (which ends in an error or early), then `full`; the total
/// is exactly what importing `full` once stores.
fn resume(full: &[u8], cut: &[u8], first: Timestamp, days: i64, hits: u64) -> ImportSummary {
    let tmp = tempfile::tempdir().unwrap();
    let db = open_db(tmp.path(), now());
    let done = match import(&db, cut, &opts(), |_| {}) {
        Ok(s) => s,
        Err(e @ ImportError::Io { .. }) => e.summary().unwrap().clone(),
        Err(e) => panic!("{e}"),
    };
    assert!(done.stored() < hits);
    let s = import(&db, full, &opts(), |_| {}).unwrap();
    let d = db.domain(DOMAIN).unwrap();
    assert_eq!(done.stored() + s.stored(), hits, "{done}\n{s}");
    let m = d.metrics(&days_of(first, days)).unwrap();
    assert_eq!(m.pageviews, hits, "no duplicates, nothing missing");
    // Now the whole file was imported: a third run is a repeat.
    let third = import(&db, full, &opts(), |_| {}).unwrap();
    assert!(matches!(third.repeat, Repeat::Refused { .. }), "{third}");
    assert_eq!(d.metrics(&days_of(first, days)).unwrap().pageviews, hits);
    s
}

#[test]
fn a_truncated_gzip_resumes_where_it_stopped() {
    for back in [5, 140] {
        let first = now().plus_millis(-back * MS_PER_DAY).day().start();
        let (text, per_day) = people(first, 3, 400);
        let hits = 3 * per_day;
        let gz = gzip(text.as_bytes());
        for keep in [0.2, 0.5, 0.97] {
            let cut = &gz[..(gz.len() as f64 * keep) as usize];
            let s = resume(&gz, cut, first, 3, hits);
            let Repeat::Resumed { lines } = s.repeat else {
                panic!("{s}");
            };
            assert_eq!(s.already_imported, lines);
            assert!(lines > 0 && lines < hits);
        }
    }
}

#[test]
fn a_plain_file_cut_anywhere_resumes_without_duplicates() {
    let first = now().plus_millis(-4 * MS_PER_DAY).day().start();
    let (text, per_day) = people(first, 1, 40);
    // Cut after whole lines, inside a line's user agent, and just before a
    // line break.
    let bytes = text.as_bytes();
    let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    for cut in [
        ends[0] + 1,
        ends[10] + 1,
        ends[30] - 20,
        ends[50],
        ends[70] - 1,
    ] {
        let s = resume(bytes, &bytes[..cut], first, 1, per_day);
        assert!(matches!(s.repeat, Repeat::Resumed { .. }), "{cut}: {s}");
    }
}

#[test]
fn feed_readers_and_http_libraries_are_not_people() {
    let first = now().plus_millis(-2 * MS_PER_DAY).day().start();
    let (mut text, per_day) = people(first, 1, 10);
    let t = first.plus_millis(15 * 3_600_000);
    for (i, ua) in FEEDS.iter().chain(LIBRARIES).enumerate() {
        let ip = format!("198.51.100.{}", i + 1);
        text.push_str(&line(t.plus_millis(i as i64 * 1000), &ip, "/blog/", ua));
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = open_db(tmp.path(), now());
    let s = import(&db, text.as_bytes(), &opts(), |_| {}).unwrap();
    assert_eq!(s.filtered_feed_readers, FEEDS.len() as u64);
    assert_eq!(s.filtered_http_libraries, LIBRARIES.len() as u64);
    assert_eq!(s.filtered_bots, 0);
    assert_eq!(s.stored(), per_day);
    db.flush().unwrap();
    let d = db.domain(DOMAIN).unwrap();
    let q = days_of(first, 1);
    assert_eq!(d.metrics(&q).unwrap().pageviews, per_day);

    // Kept on request, as bots: dashboards can still tell them apart.
    for (feeds, libs) in [(true, false), (false, true), (true, true)] {
        let tmp = tempfile::tempdir().unwrap();
        let db = open_db(tmp.path(), now());
        let o = ImportOptions {
            keep_feed_readers: feeds,
            keep_http_libraries: libs,
            ..opts()
        };
        let s = import(&db, text.as_bytes(), &o, |_| {}).unwrap();
        let kept = if feeds { FEEDS.len() } else { 0 } + if libs { LIBRARIES.len() } else { 0 };
        assert_eq!(s.stored(), per_day + kept as u64);
        db.flush().unwrap();
        let d = db.domain(DOMAIN).unwrap();
        let bots = d
            .breakdown(&q, Dimension::Device, 10)
            .unwrap()
            .into_iter()
            .find(|(k, _)| k == Device::Bot.as_str())
            .map_or(0, |(_, m)| m.pageviews);
        assert_eq!(bots, kept as u64);
    }
}
