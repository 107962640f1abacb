//! PledgeDB side by side with SQLite and raw redb on one realistic,
//! seeded analytics workload.
//!
//! ```text
//! cargo bench --bench compare                         # full run (~3M events)
//! PLEDGEDB_BENCH_QUICK=1 cargo bench --bench compare  # quick run (~50k events)
//! cargo bench --bench compare -- --quick              # the same
//! PLEDGEDB_BENCH_ONLY=domains cargo bench --bench compare  # the many-domains row alone
//! ```
//!
//! Every engine runs behind one trait ([`engine::Engine`]); every
//! (engine, scenario) pair runs in its own child process (this binary,
//! re-executed with `--child`), so peak resident memory is each engine's
//! own. The parent prints one markdown table (also written to
//! `target/bench-compare.md`) with the machine, the date and the load
//! average. No number is judged: a slow machine never fails the run. The
//! run fails if the engines disagree on an answer. See `docs/benchmarks.md`.

mod derive;
mod domains;
mod engine;
mod pledge;
mod redb_raw;
mod scenario;
mod sqlite;

use engine::Result;
use scenario::{
    BulkResult, CallersResult, MainResult, MemResult, PvResult, RetentionResult, Sizes,
};
use serde::de::DeserializeOwned;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const ENGINES: [&str; 3] = ["pledgedb", "sqlite", "redb"];

/// The end of a row's label when only PledgeDB and SQLite answer it.
const TWO: &str = "(PledgeDB and SQLite)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--child") {
        return match scenario::child(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("compare child failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let env_quick = std::env::var("PLEDGEDB_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    // `cargo bench -- --test` (criterion's smoke mode) also gets the quick run.
    let quick = env_quick || args.iter().any(|a| a == "--quick" || a == "--test");
    match parent(quick) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("compare failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn target_dir() -> PathBuf {
    if let Some(t) = option_env!("CARGO_TARGET_TMPDIR")
        && let Some(p) = Path::new(t).parent()
    {
        return p.to_path_buf();
    }
    PathBuf::from("target")
}

struct Runner {
    root: PathBuf,
    geo: PathBuf,
    sizes: Sizes,
    log: Vec<String>,
    /// Keep every data directory (`PLEDGEDB_BENCH_KEEP=1`), for inspection.
    keep: bool,
}

impl Runner {
    fn run<T: DeserializeOwned>(&mut self, engine: &str, scenario: &str) -> Result<T> {
        let dir = self.root.join(format!("{engine}-{scenario}"));
        let out = self.root.join(format!("{engine}-{scenario}.json"));
        let t = Instant::now();
        eprint!("[compare] {engine:>8} {scenario:<9} ...");
        let status = Command::new(std::env::current_exe()?)
            .arg("--child")
            .args(["--engine", engine, "--scenario", scenario])
            .arg("--dir")
            .arg(&dir)
            .arg("--geo")
            .arg(&self.geo)
            .arg("--out")
            .arg(&out)
            .args(["--sizes", &serde_json::to_string(&self.sizes)?])
            .status()?;
        let secs = t.elapsed().as_secs_f64();
        eprintln!(" {secs:.1} s");
        self.log.push(format!("{engine} {scenario}: {secs:.1} s"));
        if !self.keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        if !status.success() {
            return Err(format!("{engine} {scenario} failed ({status})").into());
        }
        let json = std::fs::read_to_string(&out)?;
        let _ = std::fs::remove_file(&out);
        Ok(serde_json::from_str(&json)?)
    }
}

/// The machine and the moment.
struct Machine {
    cpus: usize,
    cpu_model: String,
    mem: String,
    kernel: String,
    date: String,
    load_start: String,
    load_end: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn loadavg() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Machine {
    fn now() -> Machine {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let ts = pledgedb::Timestamp(ms);
        let in_day = ms.rem_euclid(pledgedb::MS_PER_DAY) / 1000;
        let mem_kib: u64 = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: read("/proc/cpuinfo")
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
                .unwrap_or_else(|| "unknown".into()),
            mem: format!("{:.1} GiB", mem_kib as f64 / (1024.0 * 1024.0)),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            date: format!(
                "{} {:02}:{:02} UTC",
                ts.day(),
                in_day / 3600,
                in_day % 3600 / 60
            ),
            load_start: loadavg(),
            load_end: String::new(),
        }
    }
}

#[derive(Default)]
struct All {
    main: Vec<MainResult>,
    callers: Vec<CallersResult>,
    bulk: Vec<BulkResult>,
    pv: Vec<PvResult>,
    retention: Vec<RetentionResult>,
    mem: Option<(MemResult, MemResult)>,
    /// PledgeDB and SQLite.
    domains: Vec<domains::DomainsResult>,
}

fn parent(quick: bool) -> Result<bool> {
    let started = Instant::now();
    let mut machine = Machine::now();
    let sizes = Sizes::new(quick);
    let keep = std::env::var("PLEDGEDB_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0");
    let base = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let root = base.join(format!("bench-compare-{}", std::process::id()));
    std::fs::create_dir_all(&root)?;
    let geo = root.join("country.mmdb");
    let entries: Vec<(ipnet::IpNet, &str)> = pledgedb_workload::COUNTRY_NETWORKS
        .iter()
        .filter_map(|(n, c)| n.parse().ok().map(|n| (n, *c)))
        .collect();
    let bytes = pledgedb::geo::writer::build_country_db(
        &entries,
        pledgedb::geo::writer::GeoLayout::Nested,
    )?;
    std::fs::write(&geo, bytes)?;
    let mut r = Runner {
        root: root.clone(),
        geo,
        sizes,
        log: Vec::new(),
        keep,
    };
    eprintln!(
        "[compare] {} run; children write under {}",
        if quick { "quick" } else { "full" },
        root.display()
    );
    let mut all = All::default();
    if std::env::var("PLEDGEDB_BENCH_ONLY").is_ok_and(|v| v == "domains") {
        let res = (|| -> Result<()> {
            for e in ["pledgedb", "sqlite"] {
                all.domains.push(r.run(e, "domains")?);
            }
            Ok(())
        })();
        if !keep {
            let _ = std::fs::remove_dir_all(&root);
        }
        res?;
        let (report, ok) = domains::render_only(&sizes, &all.domains);
        println!("{report}");
        return Ok(ok);
    }
    let res = (|| -> Result<()> {
        for e in ENGINES {
            all.main.push(r.run(e, "main")?);
        }
        for e in ENGINES {
            all.callers.push(r.run(e, "callers")?);
        }
        for e in ENGINES {
            all.bulk.push(r.run(e, "bulk")?);
        }
        for e in ENGINES {
            all.pv.push(r.run(e, "pv")?);
        }
        for e in ENGINES {
            all.retention.push(r.run(e, "retention")?);
        }
        for e in ["pledgedb", "sqlite"] {
            all.domains.push(r.run(e, "domains")?);
        }
        if sizes.mem_hits > 0 {
            let mem = r.run("pledgedb", "mem")?;
            let generator = r.run("pledgedb", "gen")?;
            all.mem = Some((mem, generator));
        }
        Ok(())
    })();
    if !keep {
        let _ = std::fs::remove_dir_all(&root);
    }
    res?;
    machine.load_end = loadavg();
    let checks = check(&all);
    let report = render(
        &machine,
        &sizes,
        &all,
        &checks,
        &r.log,
        started.elapsed().as_secs_f64(),
    );
    println!("{report}");
    let out = target_dir().join("bench-compare.md");
    match std::fs::write(&out, &report) {
        Ok(()) => eprintln!("[compare] written to {}", out.display()),
        Err(e) => eprintln!("[compare] could not write {}: {e}", out.display()),
    }
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    for c in &failed {
        eprintln!("[compare] WRONG ANSWER: {}: {}", c.what, c.detail);
    }
    Ok(failed.is_empty())
}

/// One cross-check between the engines.
struct Check {
    what: String,
    ok: bool,
    detail: String,
}

fn rel_err(est: u64, exact: u64) -> f64 {
    if exact == 0 {
        if est == 0 { 0.0 } else { 1.0 }
    } else {
        (est as f64 - exact as f64).abs() / exact as f64
    }
}

/// An estimate is close enough to an exact count: within `tol`, or within
/// 3 for small counts.
fn close(est: u64, exact: u64, tol: f64) -> bool {
    est.abs_diff(exact) <= 3 || rel_err(est, exact) <= tol
}

fn check(all: &All) -> Vec<Check> {
    let mut out = Vec::new();
    let mut push = |what: &str, ok: bool, detail: String| {
        out.push(Check {
            what: what.to_string(),
            ok,
            detail,
        });
    };
    let [p, s, r] = match all.main.as_slice() {
        [p, s, r] => [p, s, r],
        _ => {
            push("main runs", false, "missing results".into());
            return out;
        }
    };
    let (pd, sd, rd) = (&p.dashboard, &s.dashboard, &r.dashboard);
    push(
        "page views (30 days)",
        pd.pageviews == sd.pageviews && sd.pageviews == rd.pageviews,
        format!("{} / {} / {}", pd.pageviews, sd.pageviews, rd.pageviews),
    );
    push(
        "events (30 days)",
        pd.events == sd.events && sd.events == rd.events,
        format!("{} / {} / {}", pd.events, sd.events, rd.events),
    );
    let keys = |v: &Vec<(String, u64, u64)>| -> Vec<(String, u64)> {
        v.iter().map(|(k, pv, _)| (k.clone(), *pv)).collect()
    };
    push(
        "top 10 pages by page views",
        keys(&pd.top_pages) == keys(&sd.top_pages) && keys(&sd.top_pages) == keys(&rd.top_pages),
        format!(
            "first: {:?} / {:?} / {:?}",
            pd.top_pages.first(),
            sd.top_pages.first(),
            rd.top_pages.first()
        ),
    );
    push(
        "top 10 countries by page views",
        keys(&pd.top_countries) == keys(&sd.top_countries)
            && keys(&sd.top_countries) == keys(&rd.top_countries),
        format!(
            "first: {:?} / {:?} / {:?}",
            pd.top_countries.first(),
            sd.top_countries.first(),
            rd.top_countries.first()
        ),
    );
    let daily_pv = |d: &engine::DashboardAnswer| -> Vec<(i32, u64)> {
        d.daily.iter().map(|(day, pv, _)| (*day, *pv)).collect()
    };
    push(
        "daily page views",
        daily_pv(pd) == daily_pv(sd) && daily_pv(sd) == daily_pv(rd),
        format!("{} days", pd.daily.len()),
    );
    // Exact distinct counts: SQLite and redb must agree exactly.
    let exact_same = sd.visitors == rd.visitors
        && sd.top_pages == rd.top_pages
        && sd.top_countries == rd.top_countries
        && sd.daily == rd.daily;
    push(
        "exact distinct visitors, SQLite = redb",
        exact_same,
        format!("{} / {}", sd.visitors, rd.visitors),
    );
    push(
        "visitors (30 days): PledgeDB HLL within 5% of exact",
        close(pd.visitors, sd.visitors, 0.05),
        format!(
            "{} vs {} exact ({:+.2}%)",
            pd.visitors,
            sd.visitors,
            (pd.visitors as f64 / sd.visitors.max(1) as f64 - 1.0) * 100.0
        ),
    );
    // Per-row estimates: each within 10% (or 3), the largest error shown.
    let mut worst = 0.0f64;
    let mut rows_ok = true;
    let pairs = pd
        .top_pages
        .iter()
        .zip(&sd.top_pages)
        .chain(pd.top_countries.iter().zip(&sd.top_countries))
        .map(|(a, b)| (a.2, b.2))
        .chain(pd.daily.iter().zip(&sd.daily).map(|(a, b)| (a.2, b.2)));
    for (est, exact) in pairs {
        if exact >= 100 {
            worst = worst.max(rel_err(est, exact));
        }
        rows_ok &= close(est, exact, 0.10);
    }
    push(
        "visitors per page, country and day: HLL within 10% of exact",
        rows_ok,
        format!(
            "largest error {:.2}% (rows of 100+ visitors)",
            worst * 100.0
        ),
    );
    push(
        "ad-hoc scan: same page",
        p.adhoc_page == s.adhoc_page && s.adhoc_page == r.adhoc_page,
        p.adhoc_page.clone(),
    );
    push(
        "ad-hoc scan: distinct visitors by country and device",
        !p.adhoc.is_empty() && p.adhoc == s.adhoc && s.adhoc == r.adhoc,
        format!(
            "{} groups, {} visitors",
            p.adhoc.len(),
            p.adhoc.iter().map(|g| g.2).sum::<u64>()
        ),
    );
    let (pf, sf, rf) = (&p.filtered, &s.filtered, &r.filtered);
    push(
        "filtered dashboard: same country, page views, events, pages and days",
        p.filtered_country == s.filtered_country
            && s.filtered_country == r.filtered_country
            && pf.pageviews == sf.pageviews
            && sf.pageviews == rf.pageviews
            && pf.events == sf.events
            && sf.events == rf.events
            && pf.pageviews > 0
            && keys(&pf.top_pages) == keys(&sf.top_pages)
            && keys(&sf.top_pages) == keys(&rf.top_pages)
            && daily_pv(pf) == daily_pv(sf)
            && daily_pv(sf) == daily_pv(rf),
        format!(
            "{}: {} / {} / {} page views",
            p.filtered_country, pf.pageviews, sf.pageviews, rf.pageviews
        ),
    );
    push(
        "filtered dashboard: visitors, PledgeDB HLL within 5% of exact; SQLite = redb",
        close(pf.visitors, sf.visitors, 0.05) && sf.visitors == rf.visitors,
        format!("{} / {} / {}", pf.visitors, sf.visitors, rf.visitors),
    );
    if let [pd, sd] = all.domains.as_slice() {
        push(
            "many domains: every domain listed, the same dashboard",
            pd.open.domains_listed == u64::from(pd.domains)
                && sd.open.domains_listed == u64::from(sd.domains)
                && pd.open.dashboard_pageviews == u64::from(pd.days)
                && sd.open.dashboard_pageviews == u64::from(sd.days),
            format!(
                "{} / {} domains, {} / {} page views",
                pd.open.domains_listed,
                sd.open.domains_listed,
                pd.open.dashboard_pageviews,
                sd.open.dashboard_pageviews
            ),
        );
        push(
            "many domains, PledgeDB: opening the directory opens no segment",
            pd.open.open_segments == Some(0),
            format!("{:?} open after listing", pd.open.open_segments),
        );
    } else {
        push("many-domains runs", false, "missing results".into());
    }
    let names = ["PledgeDB", "SQLite", "redb"];
    for (name, m) in names.iter().zip([p, s, r]) {
        push(
            &format!("erasure, {name}: marker on disk before, 9 events removed"),
            m.marker_on_disk_before && m.erase.removed == 9,
            format!(
                "marker before: {}, removed {}",
                m.marker_on_disk_before, m.erase.removed
            ),
        );
    }
    push(
        "erasure, PledgeDB: bytes physically gone after compact_now",
        p.erase.gone.is_some(),
        format!("{:?}", p.erase.steps),
    );
    let same = |v: Vec<u64>| v.windows(2).all(|w| w[0] == w[1]);
    push(
        "page-view-only dataset: same events stored",
        same(all.pv.iter().map(|x| x.stored).collect()),
        format!("{:?}", all.pv.iter().map(|x| x.stored).collect::<Vec<_>>()),
    );
    for (name, x) in names.iter().zip(&all.retention) {
        push(
            &format!("retention, {name}: kept days unchanged, bytes shrink"),
            x.kept_pageviews.0 == x.kept_pageviews.1
                && x.kept_pageviews.0 > 0
                && x.bytes_after < x.bytes_before,
            format!(
                "kept page views {:?}, bytes {} -> {}",
                x.kept_pageviews, x.bytes_before, x.bytes_after
            ),
        );
    }
    push(
        "retention: same kept page views",
        same(all.retention.iter().map(|x| x.kept_pageviews.0).collect()),
        format!(
            "{:?}",
            all.retention
                .iter()
                .map(|x| x.kept_pageviews.0)
                .collect::<Vec<_>>()
        ),
    );
    out
}

fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How a row's numbers compare.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
    /// No comparison (information only).
    None,
}

struct Row {
    what: String,
    vals: [Option<f64>; 3],
    fmt: fn(f64) -> String,
    better: Better,
}

/// A ratio with two significant digits below 10.
fn times(r: f64) -> String {
    if r < 1.0 {
        format!("{r:.2}×")
    } else if r < 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.0}×")
    }
}

fn ratio(p: Option<f64>, o: Option<f64>, better: Better) -> String {
    match (p, o, better) {
        (Some(p), Some(o), Better::Higher) if o > 0.0 => times(p / o),
        (Some(p), Some(o), Better::Lower) if p > 0.0 => times(o / p),
        (Some(_), None, Better::Lower) => "∞".into(),
        _ => "—".into(),
    }
}

fn render(
    m: &Machine,
    s: &Sizes,
    all: &All,
    checks: &[Check],
    log: &[String],
    total_secs: f64,
) -> String {
    let mut o = String::new();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let f0: fn(f64) -> String = thousands;
    let f1: fn(f64) -> String = |v| format!("{v:.1}");
    let f2: fn(f64) -> String = |v| format!("{v:.2}");
    let f3: fn(f64) -> String = |v| format!("{v:.3}");
    let main = &all.main;
    let get = |f: &dyn Fn(usize) -> Option<f64>| -> [Option<f64>; 3] { [f(0), f(1), f(2)] };
    let per = |bytes: u64, n: u64| bytes as f64 / n.max(1) as f64;
    let rows = vec![
        Row {
            what: "Ingest, 1 caller, durable every 10,000 hits (hits/s)".into(),
            vals: get(&|i| main.get(i).map(|x| x.hits as f64 / x.ingest_secs)),
            fmt: f0,
            better: Better::Higher,
        },
        Row {
            what: "Ingest, 4 callers, own domain each, durable every 10,000 hits (hits/s)".into(),
            vals: get(&|i| all.callers.get(i).map(|x| x.hits as f64 / x.secs)),
            fmt: f0,
            better: Better::Higher,
        },
        Row {
            what: "Bulk load, 1 caller, one durable commit at the end (hits/s)".into(),
            vals: get(&|i| all.bulk.get(i).map(|x| x.hits as f64 / x.secs)),
            fmt: f0,
            better: Better::Higher,
        },
        Row {
            what: "Bytes per stored event after ingest".into(),
            vals: get(&|i| main.get(i).map(|x| per(x.bytes_after_ingest, x.stored))),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: "Bytes per stored event after compaction".into(),
            vals: get(&|i| main.get(i).map(|x| per(x.bytes_after_compact, x.stored))),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: "Compaction time (s)".into(),
            vals: get(&|i| main.get(i).map(|x| x.compact_secs)),
            fmt: f2,
            better: Better::None,
        },
        Row {
            what: "Bytes per page-view event after compaction (page views only, one busy domain)"
                .into(),
            vals: get(&|i| all.pv.get(i).map(|x| per(x.bytes_after_compact, x.stored))),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: format!(
                "Dashboard, 30 days of one domain (ms, median of {})",
                s.repeats
            ),
            vals: get(&|i| main.get(i).map(|x| x.dashboard_ms)),
            fmt: f2,
            better: Better::Lower,
        },
        Row {
            what: format!(
                "Ad-hoc scan: distinct visitors by country × device on one page (ms, median of {})",
                s.repeats
            ),
            vals: get(&|i| main.get(i).map(|x| x.adhoc_ms)),
            fmt: f2,
            better: Better::Lower,
        },
        Row {
            what: format!(
                "Dashboard filtered on one country: metrics, top 10 pages, daily series, 30 days (ms, median of {})",
                s.repeats
            ),
            vals: get(&|i| main.get(i).map(|x| x.filtered_ms)),
            fmt: f2,
            better: Better::Lower,
        },
        Row {
            what: format!(
                "Open a directory of {} domains × {} days and list its domains, fresh process (ms) {TWO}",
                s.many_domains, s.many_days
            ),
            vals: get(&|i| all.domains.get(i).map(|x| x.open.open_ms)),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: format!("Resident memory after that open, whole process (MiB) {TWO}"),
            vals: get(&|i| all.domains.get(i).map(|x| mib(x.open.rss_after_open_kib))),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: format!(
                "Then the dashboard of one of those domains, {} days (ms) {TWO}",
                s.many_days
            ),
            vals: get(&|i| all.domains.get(i).map(|x| x.open.dashboard_ms)),
            fmt: f2,
            better: Better::Lower,
        },
        Row {
            what: "Erasure of one visitor: call returns (ms)".into(),
            vals: get(&|i| main.get(i).map(|x| x.erase.returned.as_secs_f64() * 1e3)),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: "Erasure of one visitor: bytes physically gone (ms)".into(),
            vals: get(&|i| {
                main.get(i)
                    .and_then(|x| x.erase.gone.map(|d| d.as_secs_f64() * 1e3))
            }),
            fmt: f1,
            better: Better::Lower,
        },
        Row {
            what: format!(
                "Retention: drop the oldest {} of {} days, physically (s)",
                scenario::RETENTION_DROP,
                scenario::RETENTION_DAYS
            ),
            vals: get(&|i| all.retention.get(i).map(|x| x.drop_secs)),
            fmt: f3,
            better: Better::Lower,
        },
        Row {
            what: "Peak RSS of the main run (MiB)".into(),
            vals: get(&|i| main.get(i).map(|x| mib(x.peak_rss_kib))),
            fmt: f1,
            better: Better::Lower,
        },
    ];
    let _ = writeln!(o, "# PledgeDB vs SQLite vs redb\n");
    let _ = writeln!(
        o,
        "- run: {} ({}), {} — total {:.0} s",
        if s.quick { "quick" } else { "full" },
        if s.quick {
            "PLEDGEDB_BENCH_QUICK=1"
        } else {
            "cargo bench --bench compare"
        },
        m.date,
        total_secs
    );
    let _ = writeln!(
        o,
        "- machine: {} CPUs ({}), {} memory, Linux {}",
        m.cpus, m.cpu_model, m.mem, m.kernel
    );
    let _ = writeln!(
        o,
        "- load average (1/5/15 min): {} at start, {} at end",
        m.load_start, m.load_end
    );
    if let Some(p) = main.first() {
        let _ = writeln!(
            o,
            "- main dataset: pledgedb-workload seed 42, 3 domains × {} days × {} visits/day: {} hits, {} stored events (the rest dropped by the privacy gate, the same in every engine); queries on shop.example ({} events in range)",
            scenario::MAIN_DAYS,
            s.main_visitors,
            thousands(p.hits as f64),
            thousands(p.stored as f64),
            thousands(p.dashboard.events as f64)
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "| | PledgeDB | SQLite | redb | PledgeDB vs SQLite | PledgeDB vs redb |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        // A row redb does not take part in shows a dash, not "never".
        let two = r.what.ends_with(TWO);
        let none = if two { "—" } else { "never" };
        let cell = |v: Option<f64>| v.map_or_else(|| none.to_string(), r.fmt);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            r.what,
            cell(r.vals[0]),
            cell(r.vals[1]),
            cell(r.vals[2]),
            ratio(r.vals[0], r.vals[1], r.better),
            if two {
                "—".to_string()
            } else {
                ratio(r.vals[0], r.vals[2], r.better)
            }
        );
    }
    let _ = writeln!(
        o,
        "\nRatios are PledgeDB's advantage: above 1× PledgeDB is better (faster, smaller), below 1× it is worse. \"never\": the bytes were still on disk after the last step tried."
    );
    if let Some((mem, generator)) = &all.mem {
        let _ = writeln!(
            o,
            "\n**Memory target:** peak RSS while PledgeDB ingests {} hits streamed from the generator (ingest_batch of 10,000, one flush at the end): **{:.1} MiB** (the generator alone: {:.1} MiB); {:.0} s wall time including generation.",
            thousands(mem.hits as f64),
            mib(mem.peak_rss_kib),
            mib(generator.peak_rss_kib),
            mem.wall_secs
        );
        let curve: Vec<String> = mem
            .curve
            .iter()
            .map(|(n, t, kib)| format!("{}M {:.0} s {:.0} MiB", n / 1_000_000, t, mib(*kib)))
            .collect();
        let _ = writeln!(
            o,
            "RSS while ingesting (hits, seconds, RSS): {}.",
            curve.join("; ")
        );
    }
    let names = ["PledgeDB", "SQLite", "redb"];
    let _ = writeln!(
        o,
        "\n**Where the single-caller ingest time goes** (inside `ingest` / inside `durable`):\n"
    );
    for (name, x) in names.iter().zip(main) {
        let _ = writeln!(
            o,
            "- {name}: {:.2} s / {:.2} s",
            x.ingest_secs - x.durable_secs,
            x.durable_secs
        );
    }
    if let Some((x, Some(block))) = all.pv.first().map(|x| (x, x.block_bytes)) {
        let _ = writeln!(
            o,
            "\n**PledgeDB page-view-only files:** {:.1} bytes per page view on disk, of which the event blocks (re-encoded, 4,096 events per block) are {:.1}; the rest is each day segment's visitor index (a 16-byte erase tag per visitor), its roll-up, redb's file structure and the domain's control and aggregate files.",
            x.bytes_after_compact as f64 / x.stored.max(1) as f64,
            block as f64 / x.stored.max(1) as f64
        );
    }
    let _ = writeln!(
        o,
        "\n**Peak RSS of the main run after each phase** (MiB):\n"
    );
    for (name, x) in names.iter().zip(main) {
        let phases: Vec<String> = x
            .phases
            .iter()
            .map(|(p, kib)| format!("{p} {:.0}", mib(*kib)))
            .collect();
        let _ = writeln!(o, "- {name}: {}", phases.join(", "));
    }
    let _ = writeln!(
        o,
        "\n**Peak RSS of the other runs** (MiB; the 4-caller and bulk runs hold their pre-generated hits):\n"
    );
    for (i, name) in names.iter().enumerate() {
        let c = all.callers.get(i).map_or(0.0, |x| mib(x.peak_rss_kib));
        let b = all.bulk.get(i).map_or(0.0, |x| mib(x.peak_rss_kib));
        let _ = writeln!(o, "- {name}: 4 callers {c:.1}, bulk load {b:.1}");
    }
    let _ = writeln!(
        o,
        "\n**Erasure steps** (cumulative time, marker still on disk):\n"
    );
    for (name, x) in names.iter().zip(main) {
        let steps: Vec<String> = x
            .erase
            .steps
            .iter()
            .map(|(s, d, present)| {
                format!(
                    "{s} {:.1} ms{}",
                    d.as_secs_f64() * 1e3,
                    if *present {
                        " (still there)"
                    } else {
                        " (gone)"
                    }
                )
            })
            .collect();
        let _ = writeln!(o, "- {name}: {}", steps.join(" → "));
    }
    let _ = writeln!(o, "\n**Cross-checks:**\n");
    for c in checks {
        let _ = writeln!(
            o,
            "- [{}] {} — {}",
            if c.ok { "x" } else { " " },
            c.what,
            c.detail
        );
    }
    let _ = writeln!(
        o,
        "\n**Child runs** (wall time, including generating the hits and setup): {}",
        log.join("; ")
    );
    o
}
