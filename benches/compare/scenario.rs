//! What one child process measures: one engine, one scenario. The parent
//! re-executes the bench binary for each, so every engine's peak resident
//! memory is its own.

use crate::engine::{DashboardAnswer, Engine, EraseTiming, Result};
use crate::pledge::Pledge;
use crate::redb_raw::RedbRaw;
use crate::sqlite::Sqlite;
use pledgedb::{Consent, Day, Hit, HitKind, MS_PER_DAY, Timestamp};
use pledgedb_workload::{Workload, WorkloadConfig};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Hits per batch: one `ingest` + `durable` (one transaction) each.
pub const BATCH: usize = 10_000;

/// The only bytes the erased visitor leaves that nobody else does: a page
/// path only it visits.
pub const MARKER_PATH: &str = "/account/pledgedb-erasure-marker-5c1f0e9a";
pub const MARKER_CLIENT: &str = "bench-erasure-subject-0001";
pub const MARKER_DOMAIN: &str = "shop.example";

/// The sizes of every dataset.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Sizes {
    pub quick: bool,
    /// Main dataset: 3 domains, 30 days, this many visits per domain per day.
    pub main_visitors: u32,
    /// Hits per caller in the four-caller run.
    pub caller_hits: usize,
    /// Bulk load hits.
    pub bulk_hits: usize,
    /// Page-view-only dataset hits.
    pub pv_hits: usize,
    /// Retention dataset: 1 domain, 90 days, this many visits per day.
    pub retention_visitors: u32,
    /// Dashboard and scan repetitions (the median is reported).
    pub repeats: usize,
    /// Hits of the memory check (0: skipped).
    pub mem_hits: usize,
    /// Many-domains directory: this many sites ...
    pub many_domains: u32,
    /// ... with this many day segments each.
    pub many_days: u32,
}

impl Sizes {
    pub fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                quick,
                main_visitors: 31,
                caller_hits: 10_000,
                bulk_hits: 20_000,
                pv_hits: 20_000,
                retention_visitors: 10,
                repeats: 3,
                mem_hits: 0,
                many_domains: 20,
                many_days: 10,
            }
        } else {
            Sizes {
                quick,
                main_visitors: 1_870,
                caller_hits: 150_000,
                bulk_hits: 500_000,
                pv_hits: 300_000,
                retention_visitors: 200,
                repeats: 3,
                mem_hits: 10_000_000,
                many_domains: 1_000,
                many_days: 90,
            }
        }
    }
}

pub const MAIN_DAYS: u32 = 30;
pub const RETENTION_DAYS: u32 = 90;
pub const RETENTION_DROP: u32 = 30;

pub fn start() -> Timestamp {
    WorkloadConfig::default().start
}

pub fn first_day() -> Day {
    start().day()
}

pub fn main_config(s: &Sizes) -> WorkloadConfig {
    WorkloadConfig {
        days: MAIN_DAYS,
        visitors_per_day: s.main_visitors,
        ..WorkloadConfig::default()
    }
}

/// The erased visitor's hits: three visits (days 3, 11 and 19), each with
/// page views of `/` and of the marker page and a click on the marker page.
fn marker_hits() -> Vec<Hit> {
    let mut out = Vec::new();
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    for (n, day) in [3i64, 11, 19].into_iter().enumerate() {
        let t0 = start().0 + day * MS_PER_DAY + 10 * 3_600_000;
        let base = || {
            (
                "198.51.100.77".parse().ok(),
                Some(ua.to_string()),
                Some(MARKER_CLIENT.to_string()),
                Some(format!("bench-erasure-session-{n}")),
            )
        };
        let mk = |url: &str, kind: HitKind, dt: i64| {
            let (ip, user_agent, client_id, session_id) = base();
            Hit {
                timestamp: Some(Timestamp(t0 + dt)),
                ip,
                user_agent,
                client_id,
                session_id,
                consent: Consent::Granted,
                ..Hit::new(MARKER_DOMAIN, url, kind)
            }
        };
        let marker_url = format!("https://{MARKER_DOMAIN}{MARKER_PATH}");
        out.push(mk(
            &format!("https://{MARKER_DOMAIN}/"),
            HitKind::PageView { referrer: None },
            0,
        ));
        out.push(mk(
            &marker_url,
            HitKind::PageView {
                referrer: Some(format!("https://{MARKER_DOMAIN}/")),
            },
            20_000,
        ));
        out.push(mk(
            &marker_url,
            HitKind::Click {
                x: 300,
                y: 420,
                target: "button.delete-account".to_string(),
            },
            35_000,
        ));
    }
    out
}

/// The main workload with the erased visitor's hits merged in, in time
/// order.
pub struct Marked {
    w: Workload,
    peeked: Option<Hit>,
    extra: std::collections::VecDeque<Hit>,
    pub tokens: Vec<String>,
}

impl Marked {
    pub fn new(cfg: WorkloadConfig) -> Marked {
        let w = Workload::new(cfg);
        let tokens = w.opt_out_tokens().to_vec();
        Marked {
            w,
            peeked: None,
            extra: marker_hits().into(),
            tokens,
        }
    }

    /// Events the generator expects stored so far, the marker's included.
    pub fn stored(&self) -> u64 {
        self.w.truth().outcomes.stored() + marker_hits().len() as u64
    }
}

impl Iterator for Marked {
    type Item = Hit;

    fn next(&mut self) -> Option<Hit> {
        let ts = |h: &Hit| h.timestamp.map_or(0, |t| t.0);
        if self.peeked.is_none() {
            self.peeked = self.w.next();
        }
        match (&self.peeked, self.extra.front()) {
            (Some(a), Some(b)) if ts(b) < ts(a) => self.extra.pop_front(),
            (None, Some(_)) => self.extra.pop_front(),
            _ => self.peeked.take(),
        }
    }
}

/// Builds the engine `name` in `dir`.
pub fn open_engine(
    name: &str,
    dir: &Path,
    geo_path: &Path,
    tokens: &[String],
    now: Timestamp,
) -> Result<Box<dyn Engine>> {
    let geo = std::fs::read(geo_path)?;
    let opt_outs: Arc<HashSet<String>> = Arc::new(tokens.iter().cloned().collect());
    Ok(match name {
        "pledgedb" => {
            let p = Pledge::open(dir, geo_path, now)?;
            p.opt_out_all(tokens)?;
            Box::new(p)
        }
        "sqlite" => Box::new(Sqlite::open(dir, &geo, opt_outs)?),
        "redb" => Box::new(RedbRaw::open(dir, &geo, opt_outs)?),
        other => return Err(format!("unknown engine {other}").into()),
    })
}

fn status_kib(field: &str) -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Resident set size of this process now, in KiB (`VmRSS`).
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Time spent inside the engine while ingesting (generation excluded).
#[derive(Clone, Copy, Debug, Default)]
struct Spent {
    hits: u64,
    ingest: Duration,
    durable: Duration,
}

/// Ingests `hits` in batches, durable after each.
fn ingest_durable(e: &mut dyn Engine, hits: impl Iterator<Item = Hit>) -> Result<Spent> {
    let mut hits = hits;
    let mut spent = Spent::default();
    loop {
        let batch: Vec<Hit> = hits.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            break;
        }
        spent.hits += batch.len() as u64;
        let t = Instant::now();
        e.ingest(batch)?;
        let t1 = Instant::now();
        e.durable()?;
        spent.durable += t1.elapsed();
        spent.ingest += t1 - t;
    }
    Ok(spent)
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MainResult {
    pub engine: String,
    pub hits: u64,
    /// Events the generator expects stored (after the privacy gate).
    pub stored: u64,
    pub ingest_secs: f64,
    /// Of which inside `durable` (commit, flush).
    pub durable_secs: f64,
    pub bytes_after_ingest: u64,
    pub compact_secs: f64,
    pub bytes_after_compact: u64,
    pub dashboard_ms: f64,
    pub dashboard: DashboardAnswer,
    pub adhoc_ms: f64,
    pub adhoc_page: String,
    pub adhoc: Vec<(String, u8, u64)>,
    /// The dashboard filtered on one country (the largest).
    pub filtered_country: String,
    pub filtered_ms: f64,
    pub filtered: DashboardAnswer,
    pub marker_on_disk_before: bool,
    pub erase: EraseTiming,
    pub peak_rss_kib: u64,
    /// Peak RSS (KiB) after each phase.
    pub phases: Vec<(String, u64)>,
}

pub fn run_main(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<MainResult> {
    let cfg = main_config(s);
    let now = start().plus_millis(i64::from(MAIN_DAYS) * MS_PER_DAY + 2 * 3_600_000);
    let mut marked = Marked::new(cfg);
    let tokens = marked.tokens.clone();
    let mut e = open_engine(engine, dir, geo, &tokens, now)?;
    let mut r = MainResult {
        engine: e.name().to_string(),
        ..MainResult::default()
    };
    let spent = ingest_durable(e.as_mut(), marked.by_ref())?;
    r.hits = spent.hits;
    r.stored = marked.stored();
    r.ingest_secs = (spent.ingest + spent.durable).as_secs_f64();
    r.durable_secs = spent.durable.as_secs_f64();
    r.phases.push(("ingest".into(), peak_rss_kib()));
    r.bytes_after_ingest = e.bytes_on_disk()?;
    let t = Instant::now();
    e.compact()?;
    r.compact_secs = t.elapsed().as_secs_f64();
    r.bytes_after_compact = e.bytes_on_disk()?;
    r.phases.push(("compaction".into(), peak_rss_kib()));

    let (first, last) = (first_day(), first_day().plus(MAIN_DAYS as i32 - 1));
    let mut times = Vec::new();
    for _ in 0..s.repeats {
        let t = Instant::now();
        r.dashboard = e.dashboard(MARKER_DOMAIN, first, last)?;
        times.push(t.elapsed());
    }
    r.dashboard_ms = median_ms(times);
    r.phases.push(("dashboard".into(), peak_rss_kib()));

    r.adhoc_page = r
        .dashboard
        .top_pages
        .get(4)
        .or(r.dashboard.top_pages.first())
        .map(|p| p.0.clone())
        .ok_or("no page to scan")?;
    let mut times = Vec::new();
    let mut adhoc = Default::default();
    for _ in 0..s.repeats {
        let t = Instant::now();
        adhoc = e.adhoc_scan(MARKER_DOMAIN, first, last, &r.adhoc_page)?;
        times.push(t.elapsed());
    }
    r.adhoc_ms = median_ms(times);
    r.phases.push(("ad-hoc scan".into(), peak_rss_kib()));
    r.adhoc = adhoc.into_iter().map(|((c, d), n)| (c, d, n)).collect();

    r.filtered_country = r
        .dashboard
        .top_countries
        .first()
        .map(|c| c.0.clone())
        .ok_or("no country to filter on")?;
    let mut times = Vec::new();
    for _ in 0..s.repeats {
        let t = Instant::now();
        r.filtered = e.filtered_dashboard(MARKER_DOMAIN, first, last, &r.filtered_country)?;
        times.push(t.elapsed());
    }
    r.filtered_ms = median_ms(times);
    r.phases.push(("filtered dashboard".into(), peak_rss_kib()));

    r.marker_on_disk_before = crate::engine::dir_contains(e.dir(), MARKER_PATH.as_bytes())?;
    r.erase = e.erase_visitor(MARKER_DOMAIN, MARKER_CLIENT, MARKER_PATH.as_bytes())?;
    r.peak_rss_kib = peak_rss_kib();
    r.phases.push(("erasure".into(), r.peak_rss_kib));
    Ok(r)
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CallersResult {
    pub callers: usize,
    pub hits: u64,
    pub secs: f64,
    pub peak_rss_kib: u64,
}

/// Four threads, each ingesting its own domain, durable after every batch.
pub fn run_callers(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<CallersResult> {
    const CALLERS: usize = 4;
    let kinds = ["shop", "blog", "docs", "shop"];
    let mut per_caller: Vec<Vec<Vec<Hit>>> = Vec::new();
    let mut tokens = Vec::new();
    let mut total = 0u64;
    for (i, kind) in kinds.iter().enumerate().take(CALLERS) {
        let cfg = WorkloadConfig {
            seed: 1_000 + i as u64,
            domains: vec![format!("{kind}.caller{i}.example")],
            days: 7,
            visitors_per_day: 2_000,
            ..WorkloadConfig::default()
        };
        let w = Workload::new(cfg);
        tokens.extend(w.opt_out_tokens().iter().cloned());
        let mut hits = w.take(s.caller_hits);
        let mut batches = Vec::new();
        loop {
            let b: Vec<Hit> = hits.by_ref().take(BATCH).collect();
            if b.is_empty() {
                break;
            }
            total += b.len() as u64;
            batches.push(b);
        }
        per_caller.push(batches);
    }
    let now = start().plus_millis(8 * MS_PER_DAY);
    let e = open_engine(engine, dir, geo, &tokens, now)?;
    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        callers.push(e.caller()?);
    }
    let barrier = Barrier::new(CALLERS + 1);
    let secs = std::thread::scope(|scope| -> Result<f64> {
        let mut handles = Vec::new();
        for (mut c, batches) in callers.into_iter().zip(per_caller) {
            let barrier = &barrier;
            handles.push(scope.spawn(move || -> Result<()> {
                barrier.wait();
                for b in batches {
                    c.ingest(b)?;
                    c.durable()?;
                }
                Ok(())
            }));
        }
        barrier.wait();
        let t = Instant::now();
        for h in handles {
            h.join().map_err(|_| "caller thread panicked")??;
        }
        Ok(t.elapsed().as_secs_f64())
    })?;
    drop(e);
    Ok(CallersResult {
        callers: CALLERS,
        hits: total,
        secs,
        peak_rss_kib: peak_rss_kib(),
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BulkResult {
    pub hits: u64,
    pub secs: f64,
    pub peak_rss_kib: u64,
}

/// One caller, pre-generated hits, one durable point at the end.
pub fn run_bulk(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<BulkResult> {
    let cfg = WorkloadConfig {
        seed: 7,
        days: 7,
        visitors_per_day: 5_000,
        ..WorkloadConfig::default()
    };
    let w = Workload::new(cfg);
    let tokens = w.opt_out_tokens().to_vec();
    let mut hits = w.take(s.bulk_hits);
    let mut batches = Vec::new();
    let mut n = 0u64;
    loop {
        let b: Vec<Hit> = hits.by_ref().take(BATCH).collect();
        if b.is_empty() {
            break;
        }
        n += b.len() as u64;
        batches.push(b);
    }
    let now = start().plus_millis(8 * MS_PER_DAY);
    let mut e = open_engine(engine, dir, geo, &tokens, now)?;
    let t = Instant::now();
    for b in batches {
        e.ingest(b)?;
    }
    e.durable()?;
    let secs = t.elapsed().as_secs_f64();
    Ok(BulkResult {
        hits: n,
        secs,
        peak_rss_kib: peak_rss_kib(),
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PvResult {
    pub hits: u64,
    pub stored: u64,
    pub bytes_after_compact: u64,
    pub block_bytes: Option<u64>,
}

/// Page views only, one busy domain (two days of about 150,000 page views
/// each at full size): bytes per page-view event after compaction.
pub fn run_pv(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<PvResult> {
    // About 2.6 page views per visit.
    let days = 2;
    let cfg = WorkloadConfig {
        seed: 11,
        domains: vec![MARKER_DOMAIN.to_string()],
        days,
        visitors_per_day: u32::try_from(s.pv_hits * 10 / 52)
            .unwrap_or(u32::MAX)
            .max(100),
        ..WorkloadConfig::default()
    };
    let w = Workload::new(cfg);
    let tokens = w.opt_out_tokens().to_vec();
    let now = start().plus_millis(i64::from(days + 1) * MS_PER_DAY + 2 * 3_600_000);
    let mut e = open_engine(engine, dir, geo, &tokens, now)?;
    let pvs = w
        .filter(|h| matches!(h.kind, HitKind::PageView { .. }))
        .take(s.pv_hits);
    let hits = ingest_durable(e.as_mut(), pvs)?.hits;
    e.compact()?;
    let bytes = e.bytes_on_disk()?;
    let stored = e
        .dashboard(MARKER_DOMAIN, first_day(), first_day().plus(days as i32))?
        .events;
    Ok(PvResult {
        hits,
        stored,
        bytes_after_compact: bytes,
        block_bytes: e.block_bytes(MARKER_DOMAIN)?,
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RetentionResult {
    pub hits: u64,
    pub bytes_before: u64,
    pub drop_secs: f64,
    pub bytes_after: u64,
    /// Page views of the kept days, before and after the drop.
    pub kept_pageviews: (u64, u64),
}

/// 90 days of one domain; drops the oldest 30.
pub fn run_retention(engine: &str, dir: &Path, geo: &Path, s: &Sizes) -> Result<RetentionResult> {
    let cfg = WorkloadConfig {
        seed: 90,
        domains: vec![MARKER_DOMAIN.to_string()],
        days: RETENTION_DAYS,
        visitors_per_day: s.retention_visitors,
        ..WorkloadConfig::default()
    };
    let w = Workload::new(cfg);
    let tokens = w.opt_out_tokens().to_vec();
    // Midnight after the last day: the retention cut falls on a day
    // boundary, so the kept days are whole.
    let now = start().plus_millis(i64::from(RETENTION_DAYS) * MS_PER_DAY);
    let mut e = open_engine(engine, dir, geo, &tokens, now)?;
    let hits = ingest_durable(e.as_mut(), w)?.hits;
    e.compact()?;
    let before = first_day().plus(RETENTION_DROP as i32);
    let last = first_day().plus(RETENTION_DAYS as i32 - 1);
    let kept_before = e.dashboard(MARKER_DOMAIN, before, last)?.pageviews;
    let bytes_before = e.bytes_on_disk()?;
    let t = Instant::now();
    e.drop_days(MARKER_DOMAIN, before)?;
    let drop_secs = t.elapsed().as_secs_f64();
    let kept_after = e.dashboard(MARKER_DOMAIN, before, last)?.pageviews;
    Ok(RetentionResult {
        hits,
        bytes_before,
        drop_secs,
        bytes_after: e.bytes_on_disk()?,
        kept_pageviews: (kept_before, kept_after),
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MemResult {
    pub hits: u64,
    pub wall_secs: f64,
    pub peak_rss_kib: u64,
    /// Peak resident memory of the generator alone (no engine).
    pub generator_only: bool,
    /// Every million hits: (hits, seconds since the start, RSS in KiB).
    pub curve: Vec<(u64, f64, u64)>,
}

fn mem_config() -> WorkloadConfig {
    WorkloadConfig {
        seed: 10,
        days: 60,
        visitors_per_day: 3_300,
        ..WorkloadConfig::default()
    }
}

/// PledgeDB ingests `mem_hits` hits streamed from the generator (never
/// materialised), one flush at the end; or, with `generator_only`, the
/// generator runs alone.
pub fn run_mem(dir: &Path, geo: &Path, s: &Sizes, generator_only: bool) -> Result<MemResult> {
    let cfg = mem_config();
    let days = cfg.days;
    let w = Workload::new(cfg);
    let tokens = w.opt_out_tokens().to_vec();
    let mut t = Instant::now();
    let mut n = 0u64;
    let mut hits = w.take(s.mem_hits);
    let mut curve = Vec::new();
    if generator_only {
        for h in hits {
            n += 1;
            std::hint::black_box(h);
        }
    } else {
        let now = start().plus_millis(i64::from(days + 1) * MS_PER_DAY);
        let p = Pledge::open(dir, geo, now)?;
        p.opt_out_all(&tokens)?;
        // Setup (registering the opt-out tokens) is not timed.
        t = Instant::now();
        loop {
            let b: Vec<Hit> = hits.by_ref().take(BATCH).collect();
            if b.is_empty() {
                break;
            }
            n += b.len() as u64;
            for r in p.db().ingest_batch(b) {
                let _queued = r?;
            }
            if n.is_multiple_of(1_000_000) {
                curve.push((n, t.elapsed().as_secs_f64(), rss_kib()));
            }
        }
        p.db().flush()?;
        curve.push((n, t.elapsed().as_secs_f64(), rss_kib()));
    }
    Ok(MemResult {
        hits: n,
        wall_secs: t.elapsed().as_secs_f64(),
        peak_rss_kib: peak_rss_kib(),
        generator_only,
        curve,
    })
}

/// Runs one child job and writes its JSON result to `out`.
pub fn child(args: &[String]) -> Result<()> {
    let get = |flag: &str| -> Result<&String> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .ok_or_else(|| format!("missing {flag}").into())
    };
    let engine = get("--engine")?.as_str();
    let scenario = get("--scenario")?.as_str();
    let dir = PathBuf::from(get("--dir")?);
    let geo = PathBuf::from(get("--geo")?);
    let out = PathBuf::from(get("--out")?);
    let sizes: Sizes = serde_json::from_str(get("--sizes")?)?;
    let json = match scenario {
        "main" => serde_json::to_string(&run_main(engine, &dir, &geo, &sizes)?)?,
        "callers" => serde_json::to_string(&run_callers(engine, &dir, &geo, &sizes)?)?,
        "bulk" => serde_json::to_string(&run_bulk(engine, &dir, &geo, &sizes)?)?,
        "pv" => serde_json::to_string(&run_pv(engine, &dir, &geo, &sizes)?)?,
        "retention" => serde_json::to_string(&run_retention(engine, &dir, &geo, &sizes)?)?,
        "mem" => serde_json::to_string(&run_mem(&dir, &geo, &sizes, false)?)?,
        "gen" => serde_json::to_string(&run_mem(&dir, &geo, &sizes, true)?)?,
        "domains" => {
            serde_json::to_string(&crate::domains::run_domains(engine, &dir, &geo, &sizes)?)?
        }
        "domains-open" => {
            serde_json::to_string(&crate::domains::run_open(engine, &dir, &geo, &sizes)?)?
        }
        other => return Err(format!("unknown scenario {other}").into()),
    };
    std::fs::write(out, json)?;
    Ok(())
}
